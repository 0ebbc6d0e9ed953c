"""One exception hierarchy for everything neuro_uhn raises on purpose.

::

    NeuroUHNError                      every error the library raises on purpose
    ├── ValidationError (ValueError)   a wrong value; ``.argument`` names the argument
    │   ├── ModelFileError             a spec file that is not a model (names file and key)
    │   └── UnsupportedComponent       a component a backend cannot realise
    ├── ValidationTypeError (TypeError)  a wrong type; ``.argument`` names the argument
    ├── MissingFile (FileNotFoundError)  a path the user gave does not exist
    ├── StoreError (RuntimeError)      a results store that cannot be used
    └── DatasetUnavailable (RuntimeError)  data that is not on this machine

The rule: a wrong *type* is a :class:`ValidationTypeError`, a wrong *value* a
:class:`ValidationError`; both are also the built-in ``TypeError`` / ``ValueError``, so
``except ValueError`` keeps working. The command line turns a :class:`NeuroUHNError` into
one line and exit status 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import re

__all__ = [
    "NeuroUHNError",
    "ValidationError",
    "ValidationTypeError",
    "ModelFileError",
    "UnsupportedComponent",
    "MissingFile",
    "StoreError",
    "DatasetUnavailable",
    "SilentNetworkWarning",
]

_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
#: messages about a component or a named thing as a whole: the argument is its kind
_KIND = re.compile(
    r"^(?:unknown |expected an? |an? )?(similarity|separation|readout|model|dataset|experiment)\b"
)


class NeuroUHNError(Exception):
    """Base of every error neuro_uhn raises on purpose (a user can fix its cause)."""


class _Named:
    """``argument``: the name of the argument (or file, or key) at fault, if known.

    Given explicitly, or else the component or thing a message is about (``unknown
    similarity 'dott'`` names ``similarity``), or else the first quoted identifier of the
    message (``'beta' of separation 'softmax' must be ...`` names ``beta``).
    """

    argument: str | None

    def __init__(self, message: str = "", *args, argument: str | None = None):
        super().__init__(message, *args)
        if argument is None and isinstance(message, str):
            m = _KIND.match(message) or _QUOTED.search(message)
            argument = m.group(1) if m else None
        self.argument = argument

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ValidationError(_Named, NeuroUHNError, ValueError):
    """A wrong value for an argument, a parameter, a file's contents or an option."""


class ValidationTypeError(_Named, NeuroUHNError, TypeError):
    """A value of the wrong type for an argument or a parameter."""


class ModelFileError(ValidationError):
    """A spec file that cannot be read as a model; the message names the file and the key."""


class UnsupportedComponent(ValidationError):
    """A component (similarity, separation, readout) that a backend cannot realise.

    ``component`` and ``mode`` name what and where, when a spiking network kind raised it."""

    component: str | None = None
    mode: str | None = None


class MissingFile(_Named, NeuroUHNError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class StoreError(NeuroUHNError, RuntimeError):
    """The results file cannot be used (corrupt, not a store, another schema, unwritable)."""


class DatasetUnavailable(NeuroUHNError, RuntimeError):
    """The data is not on this machine; the message says how to get it."""


class SilentNetworkWarning(RuntimeWarning):
    """A spiking network answered every query without a spike to read (z is all zeros):
    usually a decoding window too short for the network's latency."""

"""The model specification ``UHN`` and the literature's models as TOML data files.

A ``UHN`` says *what* retrieves — similarity, separation, readout, auto or hetero
association — and nothing about *how* (array library, spiking simulation). The abstract
path (:func:`neuro_uhn.retrieve`) and the spiking path build from the same object.

Spec files are data, read with :mod:`tomllib` and validated strictly: an unknown key, a
wrong type or an unknown function name is a :class:`ModelFileError` naming the file and
the key. Nothing in a spec file is ever evaluated.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import readout as _readout
from . import separation as _separation
from . import similarity as _similarity
from .errors import MissingFile, ModelFileError, NeuroUHNError, ValidationError, ValidationTypeError
from .readout import Readout
from .separation import Separation
from .similarity import Similarity

__all__ = [
    "UHN",
    "ModelFileError",
    "as_model",
    "load_model",
    "dump_model",
    "model_names",
    "models_dir",
]

Convention = Literal["standard", "paper"]
_TOP_KEYS = {"name", "title", "reference", "association", "similarity", "separation", "readout"}


@dataclass(frozen=True, kw_only=True)
class UHN:
    """A Universal Hopfield Network: ``Z = readout(sep(sim(M, Q)) · P)``.

    Shapes: memories ``M`` (n_memories, n_features), queries ``Q`` (n_queries, n_features),
    scores ``S`` (n_queries, n_memories), projection ``P`` (n_memories, n_out) — ``P = M``
    when ``association="auto"`` — and output ``Z`` (n_queries, n_out).

    Parameters
    ----------
    similarity, separation, readout
        A registered name, a ``{"kind": name, **params}`` mapping or a component instance
        (a separation may also be a list: a chain).
    association
        ``"auto"`` (``P = M``) or ``"hetero"`` (``P`` must be given at retrieval).
    name, title, reference
        Labels for tables and figures.

    Examples
    --------
    >>> import numpy as np, neuro_uhn as nu
    >>> model = nu.UHN(similarity="manhattan", separation="max")
    >>> M = np.eye(3)
    >>> model.retrieve(M, [0.9, 0.2, 0.0])
    array([1., 0., 0.])
    """

    similarity: Similarity
    separation: Separation
    readout: Readout = field(default_factory=_readout.IdentityReadout)
    association: Literal["auto", "hetero"] = "auto"
    name: str = ""
    title: str = ""
    reference: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "similarity", _similarity.make(self.similarity))
        object.__setattr__(self, "separation", _separation.make(self.separation))
        object.__setattr__(self, "readout", _readout.make(self.readout))
        from ._validation import check_choice

        check_choice(self.association, "association", ("auto", "hetero"))
        for key in ("name", "title", "reference"):
            if not isinstance(getattr(self, key), str):
                raise ValidationTypeError(f"{key!r} must be a string; got {getattr(self, key)!r}")

    def resolved(self, convention: Convention = "standard") -> UHN:
        """The model as it computes under ``convention``.

        ``"standard"`` is the model itself. ``"paper"`` maps the similarity to its
        official-code form and wraps the separation in the official normalise–separate–
        normalise pipeline (:mod:`neuro_uhn.paper`).
        """
        from ._validation import check_choice

        check_choice(convention, "convention", ("standard", "paper"))
        if convention == "standard":
            return self
        from . import paper

        return dataclasses.replace(
            self,
            similarity=paper.form(self.similarity),
            separation=paper.pipeline(self.separation),
        )

    def retrieve(self, memories, queries, *, projection=None, convention: Convention = "standard"):
        """``Z`` for ``queries``; see :func:`neuro_uhn.retrieve` (and :class:`neuro_uhn.Memory`
        to retrieve many batches from the same memories)."""
        from .memory import Memory
        from .similarity import validate_memories, validate_queries

        M, xp = validate_memories(memories)
        Q, single = validate_queries(queries, M, xp)
        Z = Memory(self, M, projection=projection, convention=convention, dtype=Q.dtype)(Q)
        return Z[0, ...] if single else Z

    __call__ = retrieve

    def to_dict(self) -> dict[str, Any]:
        labels = ("name", "title", "reference")
        out: dict[str, Any] = {k: getattr(self, k) for k in labels if getattr(self, k)}
        out["association"] = self.association
        out["similarity"] = self.similarity.to_dict()
        sep = self.separation.to_dict()
        out["separation"] = sep["stages"] if sep["kind"] == "chain" else sep
        out["readout"] = self.readout.to_dict()
        return out


def models_dir() -> Path:
    """Where the bundled model files are: inside the wheel, or ``models/`` of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_models", here.parent / "models"):
        if candidate.is_dir():
            return candidate
    raise MissingFile("the bundled model files are missing from this installation")


def model_names() -> list[str]:
    """Names of the bundled models (``load_model`` accepts each)."""
    return sorted(p.stem for p in models_dir().glob("*.toml"))


def load_model(name_or_path: str | Path) -> UHN:
    """A ``UHN`` from a bundled model name (``"mchn"``) or a path to a ``.toml`` spec file."""
    if not isinstance(name_or_path, str | Path):
        raise ValidationTypeError(
            f"'name_or_path' must be a str or Path; got {type(name_or_path).__name__}"
        )
    path = Path(name_or_path)
    if path.suffix != ".toml":
        bundled = models_dir() / f"{name_or_path}.toml"
        plain = isinstance(name_or_path, str) and re.fullmatch(r"[A-Za-z0-9_-]+", name_or_path)
        if plain and bundled.is_file():  # a bare name never reaches outside models/
            path = bundled
        else:
            from ._suggest import did_you_mean

            raise ValidationError(
                f"unknown model {str(name_or_path)!r}{did_you_mean(name_or_path, model_names())}"
                f": not a bundled model ({', '.join(model_names())}) and not a .toml file"
            )
    if not path.exists():
        raise MissingFile(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise ModelFileError(f"{path}: is a folder, not a .toml file")
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the text
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{path}: not valid TOML: {err}") from None
    except RecursionError:
        raise ModelFileError(f"{path}: not a model: nested too deeply to read") from None
    return model_from_dict(data, source=str(path))


def as_model(model: Any, name: str = "model") -> UHN:
    """``model`` as a ``UHN``: a ``UHN``, a bundled model name or a path to a spec file."""
    if isinstance(model, UHN):
        return model
    if isinstance(model, str | Path):
        return load_model(model)
    raise ValidationTypeError(
        f"{name!r} must be a UHN, a bundled model name ({', '.join(model_names())}) or a path "
        f"to a .toml spec file; got {type(model).__name__}"
    )


def model_from_dict(data: dict[str, Any], source: str = "<dict>") -> UHN:
    """A ``UHN`` from the parsed contents of a spec file, with errors naming ``source``."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ModelFileError(
            f"{source}: unknown key(s) {unknown}; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    for key in ("similarity", "separation"):
        if key not in data:
            raise ModelFileError(f"{source}: missing required key {key!r}")
    for key in ("name", "title", "reference", "association"):
        if key in data and not isinstance(data[key], str):
            raise ModelFileError(
                f"{source}: key {key!r} must be a string; got {type(data[key]).__name__}"
            )
    parts = {
        "similarity": _component(data["similarity"], _similarity.make, "similarity", source),
        "separation": _component(data["separation"], _separation.make, "separation", source),
    }
    if "readout" in data:
        parts["readout"] = _component(data["readout"], _readout.make, "readout", source)
    labels = {k: data[k] for k in ("title", "reference", "association") if k in data}
    name = data.get("name", Path(source).stem if source != "<dict>" else "")
    try:
        return UHN(name=name, **labels, **parts)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{source}: {err}") from None


def _component(spec: Any, make, key: str, source: str):
    if isinstance(spec, list):
        if key != "separation":
            raise ModelFileError(f"{source}: key {key!r} must be a table, not a list")
        return _separation.Chain(
            stages=tuple(_component(s, make, f"{key}[{i}]", source) for i, s in enumerate(spec))
        )
    if isinstance(spec, str):
        spec = {"kind": spec}
    if not isinstance(spec, dict):
        raise ModelFileError(
            f"{source}: key {key!r} must be a name or a table with 'kind'; "
            f"got {type(spec).__name__}"
        )
    if "kind" not in spec:
        raise ModelFileError(f"{source}: key {key!r} is missing 'kind'")
    try:
        return make(spec)
    except TypeError as err:
        raise ModelFileError(f"{source}: key {key!r}: {err}") from None
    except ValueError as err:
        raise ModelFileError(f"{source}: key {key!r}: {err}") from None


def dump_model(model: UHN, path: str | Path) -> None:
    """Write ``model`` (a ``UHN`` or a bundled model name) as a spec file that
    :func:`load_model` reads back equal. ``path`` must end in ``.toml``."""
    model = as_model(model)
    if not isinstance(path, str | Path):
        raise ValidationTypeError(f"'path' must be a str or Path; got {type(path).__name__}")
    if Path(path).suffix != ".toml":
        raise ValidationError(
            f"'path' must end in .toml (load_model reads only those); got {str(path)!r}"
        )
    if Path(path).is_dir():
        raise ValidationError(f"'path' {str(path)!r} is a folder; give a .toml file name")
    if Path(path).exists():  # replace a model file, never another TOML (pyproject.toml...)
        try:
            load_model(Path(path))
        except (NeuroUHNError, OSError):
            raise ValidationError(
                f"'path' {str(path)!r} exists and is not a model file; refusing to overwrite "
                "it (move it aside or pick another name)"
            ) from None
    import tomli_w

    d = model.to_dict()
    for value in _strings(d):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ValidationError(
                f"cannot write the lone surrogate in {value!r} to a spec file (TOML holds "
                "Unicode text only)"
            )
    # tomli_w writes every valid TOML value (control characters as escapes) and refuses the
    # rest; a chain of separations becomes an array of tables, [[separation]]
    try:
        text = tomli_w.dumps(d)
    except TypeError as err:
        raise ValidationTypeError(f"cannot write {model!r} to a spec file: {err}") from None
    Path(path).write_text(text, encoding="utf-8")


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)

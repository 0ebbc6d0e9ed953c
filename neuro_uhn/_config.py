"""Process-wide settings: the memory budget for temporaries and the kernel switch."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from .errors import ValidationError, ValidationTypeError

__all__ = ["memory_budget", "get_memory_budget", "use_compiled_kernels", "compiled_kernels_enabled"]

#: Peak bytes for any temporary a similarity or a retrieval block allocates (256 MiB).
#: Pairwise distances without a matrix-product form (manhattan, js) are computed in blocks of
#: queries × memories × features that fit it; retrieval processes queries in blocks whose score
#: matrix fits it. Override with ``NEURO_UHN_MEMORY_BUDGET`` (bytes) or :func:`memory_budget`.
DEFAULT_MEMORY_BUDGET = 256 * 2**20

_state: dict = {
    "budget": None,  # read from the environment on first use (import never fails on it)
    "kernels": os.environ.get("NEURO_UHN_KERNELS", "auto") != "off",
}


def _budget_from_environment() -> int:
    text = os.environ.get("NEURO_UHN_MEMORY_BUDGET")
    if text is None or not text.strip():
        return DEFAULT_MEMORY_BUDGET
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1024:
        raise ValidationError(
            f"environment variable NEURO_UHN_MEMORY_BUDGET must be a whole number of bytes "
            f">= 1024 (e.g. 268435456 for 256 MiB); got {text!r}",
            argument="NEURO_UHN_MEMORY_BUDGET",
        )
    return value


def get_memory_budget() -> int:
    if _state["budget"] is None:
        _state["budget"] = _budget_from_environment()
    return _state["budget"]


@contextlib.contextmanager
def memory_budget(nbytes: int) -> Iterator[None]:
    """Temporarily set the memory budget (bytes) for temporaries."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, int):
        raise ValidationTypeError(f"'nbytes' must be an integer >= 1024; got {nbytes!r}")
    if nbytes < 1024:
        raise ValidationError(f"'nbytes' must be an integer >= 1024; got {nbytes!r}")
    old, _state["budget"] = _state["budget"], nbytes
    try:
        yield
    finally:
        _state["budget"] = old


def compiled_kernels_enabled() -> bool:
    return _state["kernels"]


@contextlib.contextmanager
def use_compiled_kernels(enabled: bool) -> Iterator[None]:
    """Switch the numba kernels on or off (off = the chunked array-API path everywhere)."""
    old, _state["kernels"] = _state["kernels"], bool(enabled)
    try:
        yield
    finally:
        _state["kernels"] = old

"""Input checks shared by every entry point: clear errors that name the argument."""

from __future__ import annotations

from typing import Any

from ._xp import Array, float_dtype, namespace
from .errors import ValidationError, ValidationTypeError

__all__ = ["as_float_array", "check_matrix", "check_finite"]


def as_float_array(x: Any, name: str, xp=None) -> Array:
    """``x`` as a real floating array of its own library.

    Integer and boolean arrays are promoted to the library's default float (float64 on NumPy),
    floating arrays keep their dtype. Lists and tuples become NumPy arrays. Complex, object and
    string data are a :class:`TypeError`.
    """
    if x is None:
        raise ValidationTypeError(f"{name!r} must be an array; got None")
    if isinstance(x, list | tuple | int | float):
        import numpy as np

        try:
            x = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValidationTypeError(
                f"{name!r} must be a numeric array; could not convert: {err}"
            ) from None
    try:
        xp = xp or namespace(x)
    except TypeError:
        raise ValidationTypeError(
            f"{name!r} must be an array (NumPy, CuPy, PyTorch, ...); got {type(x).__name__}"
        ) from None
    dtype = x.dtype
    if xp.isdtype(dtype, "real floating"):
        return x
    if xp.isdtype(dtype, "bool") or xp.isdtype(dtype, "integral"):
        return xp.astype(x, float_dtype(xp, dtype))
    raise ValidationTypeError(f"{name!r} must hold real numbers; got dtype {dtype}")


def check_finite(x: Array, name: str, xp) -> None:
    if not bool(xp.all(xp.isfinite(x))):
        n_bad = int(xp.sum(xp.astype(~xp.isfinite(x), xp.int64)))
        raise ValidationError(f"{name!r} contains {n_bad} NaN or infinite value(s)")


def check_matrix(x: Array, name: str, rows: str, cols: str, xp) -> None:
    """``x`` must be 2-D and non-empty; ``rows``/``cols`` name the axes in the message."""
    if x.ndim != 2:
        raise ValidationError(
            f"{name!r} must be 2-D, shape ({rows}, {cols}); got shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValidationError(f"{name!r} must not be empty; got shape {tuple(x.shape)}")

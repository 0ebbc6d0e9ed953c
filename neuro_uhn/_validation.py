"""Input checks shared by every entry point: clear errors that name the argument."""

from __future__ import annotations

from typing import Any

from ._xp import Array, float_dtype, namespace
from .errors import ValidationError, ValidationTypeError

__all__ = [
    "as_float_array",
    "check_matrix",
    "check_finite",
    "check_int",
    "check_real",
    "check_seed",
    "MAX_SEED",
]


def as_float_array(x: Any, name: str, xp=None) -> Array:
    """``x`` as a real floating array of its own library.

    Integer and boolean arrays are promoted to the library's default float (float64 on NumPy),
    floating arrays keep their dtype. Lists and tuples become NumPy arrays. Complex, object and
    string data are a :class:`TypeError`.
    """
    if x is None:
        raise ValidationTypeError(f"{name!r} must be an array; got None")
    _refuse_masked(x, name)
    if isinstance(x, __import__("numpy").ma.MaskedArray):
        x = x.filled()  # nothing is masked (checked above): the plain array
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


def _refuse_masked(x: Any, name: str) -> None:
    """NumPy masked arrays: their mask would be silently dropped by every computation here,
    so one is refused unless nothing in it is masked."""
    import numpy as np

    if isinstance(x, np.ma.MaskedArray) and bool(np.ma.getmaskarray(x).any()):
        n = int(np.ma.getmaskarray(x).sum())
        raise ValidationTypeError(
            f"{name!r} is a masked array with {n} masked value(s): neuro_uhn does not honour "
            f"masks; fill them first ({name}.filled(value)) or drop the masked rows",
            argument=name,
        )


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


#: Seeds are integers in 0..2**32 - 1 everywhere (NumPy's and Brian2's common range).
MAX_SEED = 2**32 - 1


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int``: a wrong type is a TypeError, out of range a ValueError."""
    import numbers

    span = _span(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationTypeError(
            f"{name!r} must be an integer{span}; got {type(value).__name__} {value!r}",
            argument=name,
        )
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValidationError(f"{name!r} must be an integer{span}; got {value!r}", argument=name)
    return value


def check_whole(value: Any, name: str, minimum: int | None = None) -> int:
    """A count given as a number: an ``int``, or a float with no fractional part (``4.0``
    from a command line or a sweep's values), never truncated (``2.5`` is refused)."""
    import math
    import numbers

    span = _span(minimum, None)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationTypeError(
            f"{name!r} must be a whole number{span}; got {type(value).__name__} {value!r}",
            argument=name,
        )
    if not isinstance(value, numbers.Integral):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise ValidationError(
                f"{name!r} must be a whole number{span}; got {value!r}, which would be "
                f"truncated to {math.trunc(value) if math.isfinite(value) else value!r}: "
                "give a whole number",
                argument=name,
            )
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValidationError(f"{name!r} must be a whole number{span}; got {value!r}",
                              argument=name)  # fmt: skip
    return value


def check_shape(shape: Any, name: str) -> tuple[int, ...]:
    """A shape: a sequence of whole numbers >= 1 (``(8, 8)``; ``(8.0, 8)`` is read as it,
    ``(8.5, 8)`` is refused, never truncated)."""
    if isinstance(shape, str | bytes) or not hasattr(shape, "__iter__"):
        raise ValidationTypeError(
            f"{name!r} must be a sequence of whole numbers >= 1 such as (28, 28); got {shape!r}",
            argument=name,
        )
    dims = list(shape)
    try:
        return tuple(check_whole(d, name, 1) for d in dims)
    except (ValidationError, ValidationTypeError):
        raise ValidationError(
            f"{name!r} must be whole numbers >= 1 such as (28, 28); got {tuple(dims)!r}: give "
            "each dimension as a whole number",
            argument=name,
        ) from None


def check_real(
    value: Any, name: str, minimum: float | None = None, maximum: float | None = None
) -> float:
    """``value`` as a finite ``float``: a wrong type is a TypeError, NaN/inf or out of range a
    ValueError."""
    import math
    import numbers

    span = _span(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationTypeError(
            f"{name!r} must be a number{span}; got {type(value).__name__} {value!r}",
            argument=name,
        )
    value = float(value)
    bad = not math.isfinite(value)
    bad = bad or (minimum is not None and value < minimum)
    bad = bad or (maximum is not None and value > maximum)
    if bad:
        kind = "number" if math.isfinite(value) else "finite number"
        raise ValidationError(f"{name!r} must be a {kind}{span}; got {value!r}", argument=name)
    return value


def check_seed(value: Any, name: str = "seed", allow_none: bool = True) -> int | None:
    """A seed: an integer in 0..2**32 - 1 (or None where a fresh one is allowed)."""
    if value is None and allow_none:
        return None
    return check_int(value, name, 0, MAX_SEED)


def _span(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return (
            f" in {minimum:g}..{maximum:g}"
            if isinstance(minimum, float)
            else (f" in {minimum}..{maximum}")
        )
    if minimum is not None:
        return f" >= {minimum:g}"
    if maximum is not None:
        return f" <= {maximum:g}"
    return ""


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``: not a string is a TypeError, another string a ValueError."""
    expected = " or ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise ValidationTypeError(
            f"{name!r} must be {expected}; got {type(value).__name__} {value!r}", argument=name
        )
    if value not in choices:
        from ._suggest import did_you_mean

        raise ValidationError(
            f"{name!r} must be {expected}; got {value!r}{did_you_mean(value, choices)}",
            argument=name,
        )
    return value

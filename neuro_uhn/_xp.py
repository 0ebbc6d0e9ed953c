"""Array-API helpers: the one place that knows about array libraries.

Compute code calls :func:`namespace` first and then uses only functions of the array API
standard, so the same code runs on NumPy, CuPy and PyTorch (on their device) and is tested
under ``array_api_strict``. The standard has no softmax, logsumexp or one-hot; they live here.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import array_api_compat

from .errors import ValidationTypeError

Array: TypeAlias = Any

__all__ = [
    "Array",
    "namespace",
    "is_numpy",
    "device_of",
    "float_dtype",
    "softmax",
    "logsumexp",
    "one_hot",
    "xlogy",
    "neg_clip_sqrt",
    "to_numpy",
]


def namespace(*arrays: Array):
    """The array namespace shared by ``arrays`` (a :class:`TypeError` if they mix libraries)."""
    arrays = [a for a in arrays if a is not None]
    try:
        return array_api_compat.array_namespace(*arrays)
    except TypeError as err:
        kinds = sorted({type(a).__module__ + "." + type(a).__name__ for a in arrays})
        raise ValidationTypeError(
            "arrays must all come from one array library (NumPy, CuPy, PyTorch, ...); "
            f"got {', '.join(kinds)}"
        ) from err


def is_numpy(xp) -> bool:
    """True for NumPy's namespace (where the compiled kernels apply)."""
    return array_api_compat.is_numpy_namespace(xp)


def device_of(x: Array):
    return array_api_compat.device(x)


def float_dtype(xp, dtype, device=None):
    """``dtype`` if it is real floating, else the library's default real floating dtype."""
    if xp.isdtype(dtype, "real floating"):
        return dtype
    try:
        return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]
    except AttributeError:  # pre-2023.12 namespaces
        return xp.float64


def logsumexp(x: Array, axis: int = -1, keepdims: bool = False) -> Array:
    """Stable ``log(sum(exp(x)))`` along ``axis``; rows of all ``-inf`` give ``-inf``."""
    xp = namespace(x)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def softmax(x: Array, axis: int = -1) -> Array:
    """Stable softmax: subtract the row maximum first, so ``exp`` never overflows."""
    xp = namespace(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def one_hot(index: Array, n: int, dtype, xp) -> Array:
    """Rows of zeros with a one at ``index`` (shape ``index.shape + (n,)``)."""
    ar = xp.arange(n, device=device_of(index))
    return xp.astype(xp.expand_dims(index, axis=-1) == ar, dtype)


def xlogy(x: Array, y: Array) -> Array:
    """``x * log(y)`` with the convention ``0 * log(0) = 0`` (and no warning for it)."""
    xp = namespace(x, y)
    safe = xp.where(x == 0, xp.ones_like(y), y)
    return xp.where(x == 0, xp.zeros_like(x * safe), x * xp.log(safe))


def neg_clip_sqrt(S: Array, xp, sqrt: bool = True) -> Array:
    """From ``S = -d²`` (rounding may leave it slightly positive): ``-sqrt(max(d², 0))``,
    or ``-max(d², 0)`` without ``sqrt``; in place on NumPy arrays."""
    if is_numpy(xp):
        import numpy as np

        np.minimum(S, 0, out=S)
        if sqrt:
            np.negative(S, out=S)
            np.sqrt(S, out=S)
            np.negative(S, out=S)
        return S
    S = xp.clip(S, None, 0)
    return -xp.sqrt(-S) if sqrt else S


def to_numpy(x: Array):
    """A NumPy copy of ``x`` from any supported library (CuPy ``.get()``, torch ``.cpu()``)."""
    import numpy as np

    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)

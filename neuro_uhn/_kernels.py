"""Compiled (numba) kernels for the pairwise similarities that have no matrix-product form.

numba is a core dependency. Where it cannot be installed, with ``NEURO_UHN_KERNELS=off``, or
for non-NumPy arrays, the chunked array-API path in :mod:`neuro_uhn._pairwise` computes the
same numbers. numba is imported on first use only, so ``import neuro_uhn`` stays fast.

The L1 kernel computes a 4-query × 2-memory register block per inner loop (8 independent
accumulators, 6 loads for 8 |q - m| terms) and tiles memories by 32 so a tile stays in cache
while 64 queries stream past it; queries are split across threads. On 2 cores it runs at about
half the speed of the machine's matrix product of the same shape (see ``neuro-uhn bench``).
"""

from __future__ import annotations

import functools

__all__ = ["available", "l1_scores", "js_scores"]


@functools.cache
def _compiled():
    try:
        from . import _numba_kernels
    except ImportError:
        return None
    return _numba_kernels.l1, _numba_kernels.js


def available() -> bool:
    """True when numba can be imported (the kernels then serve NumPy inputs)."""
    return _compiled() is not None


def l1_scores(Q, M):
    """``-sum_d |Q[b, d] - M[n, d]|`` for NumPy arrays of one floating dtype."""
    import numpy as np

    l1, _ = _compiled()
    Q = np.ascontiguousarray(Q)
    M = np.ascontiguousarray(M, dtype=Q.dtype)
    out = np.empty((Q.shape[0], M.shape[0]), dtype=Q.dtype)
    l1(Q, M, out)
    return out


def js_scores(Qn, Mn):
    """``-JS(m, q)`` for row-normalised NumPy arrays (rows sum to one)."""
    import numpy as np

    _, js = _compiled()
    Qn = np.ascontiguousarray(Qn)
    Mn = np.ascontiguousarray(Mn, dtype=Qn.dtype)
    out = np.empty((Qn.shape[0], Mn.shape[0]), dtype=Qn.dtype)
    js(Qn, Mn, neg_entropy(Qn), neg_entropy(Mn), out)
    return out


def neg_entropy(P):
    """``Σ_d p_d log p_d`` per row, in float64, with ``0 log 0 = 0``."""
    import numpy as np

    P = np.asarray(P, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(np.where(P > 0, P * np.log(P), 0.0), axis=-1)

"""Pairwise scores with no matrix-product form (L1 distance, Jensen–Shannon), memory-bounded.

Each function returns a (n_queries, n_memories) matrix. On NumPy with numba installed a
compiled kernel computes it with no temporaries (L1 on PyTorch: ``torch.cdist``, 6x faster
than broadcasting on a CPU); otherwise queries × memories blocks are broadcast to (b, n, D)
temporaries whose size never exceeds the memory budget (:func:`neuro_uhn.memory_budget`,
256 MiB by default), whatever N and B are.
"""

from __future__ import annotations

import math

import array_api_compat

from . import _kernels
from ._config import compiled_kernels_enabled, get_memory_budget
from ._xp import Array, is_numpy, namespace, xlogy

__all__ = ["block_shape", "neg_l1", "neg_js", "uses_kernel"]


def block_shape(n_queries: int, n_memories: int, width: int, itemsize: int) -> tuple[int, int]:
    """Block sizes (bq, bn) with ``bq * bn * width * itemsize <= budget`` (at least 1 × 1)."""
    per_pair = max(1, width * itemsize)
    pairs = max(1, get_memory_budget() // per_pair)
    bn = max(1, min(n_memories, pairs))
    bq = max(1, min(n_queries, pairs // bn))
    return bq, bn


def uses_kernel(xp, dtype=None) -> bool:
    """Whether the numba kernels compute for arrays of ``dtype`` (float32 and float64 only:
    float16 takes the chunked path)."""
    if dtype is not None and str(dtype) not in ("float32", "float64"):
        return False
    return is_numpy(xp) and compiled_kernels_enabled() and _kernels.available()


def _blocked(Q: Array, M: Array, pair_fn, xp) -> Array:
    """Apply ``pair_fn(Qb[:, None, :], Mb[None, :, :]) -> (bq, bn)`` block by block."""
    B, D = Q.shape
    N = M.shape[0]
    itemsize = xp.finfo(Q.dtype).bits // 8
    # pair_fn may hold a few temporaries of the block's size at once: budget for 4.
    bq, bn = block_shape(B, N, D * 4, itemsize)
    rows = []
    for i in range(0, B, bq):
        q = xp.expand_dims(Q[i : min(B, i + bq), ...], axis=1)
        cols = [
            pair_fn(q, xp.expand_dims(M[j : min(N, j + bn), ...], axis=0)) for j in range(0, N, bn)
        ]
        rows.append(cols[0] if len(cols) == 1 else xp.concat(cols, axis=1))
    return rows[0] if len(rows) == 1 else xp.concat(rows, axis=0)


def neg_l1(Q: Array, M: Array) -> Array:
    """``S[b, n] = -sum_d |Q[b, d] - M[n, d]|``."""
    xp = namespace(Q, M)
    if uses_kernel(xp, Q.dtype):
        return _kernels.l1_scores(Q, M)
    if array_api_compat.is_torch_namespace(xp):
        import torch  # torch's compiled pairwise L1, on the tensors' device; no temporaries

        return -torch.cdist(Q, M, p=1.0)
    return _blocked(Q, M, lambda q, m: -xp.sum(xp.abs(q - m), axis=-1), xp)


def neg_js(Qn: Array, Mn: Array) -> Array:
    """``S[b, n] = -JS(Mn[n], Qn[b])`` for rows that are probability distributions.

    JS(p, q) = ½ KL(p ‖ (p+q)/2) + ½ KL(q ‖ (p+q)/2), natural log, so 0 <= JS <= ln 2;
    a zero mass contributes exactly 0 (no epsilon).
    """
    xp = namespace(Qn, Mn)
    if uses_kernel(xp, Qn.dtype):
        return _kernels.js_scores(Qn, Mn)

    # JS = ½(h_m + h_q) − ½ Σ s log s + log 2 with s = m + q and h = Σ p log p
    hq = xp.sum(xlogy(Qn, Qn), axis=-1)
    hm = xp.sum(xlogy(Mn, Mn), axis=-1)
    log2 = math.log(2.0)

    def pair(q, m):
        s = q + m
        return xp.sum(xlogy(s, s), axis=-1)

    half_sum = _blocked(Qn, Mn, pair, xp)
    js = 0.5 * (xp.expand_dims(hq, axis=-1) + hm) - 0.5 * half_sum + log2
    return -xp.clip(js, 0, None)

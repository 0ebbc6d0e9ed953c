"""The numba kernels themselves; imported only through :mod:`neuro_uhn._kernels`."""

import numba as nb
import numpy as np

__all__ = ["l1", "js"]


@nb.njit(fastmath=True, inline="always", nogil=True)
def _l1_one(Q, M, out, b, n):
    acc = Q.dtype.type(0)
    for d in range(Q.shape[1]):
        acc += abs(Q[b, d] - M[n, d])
    out[b, n] = -acc


@nb.njit(parallel=True, fastmath=True, nogil=True, cache=True)
def l1(Q, M, out):  # pragma: no cover - compiled
    B, D = Q.shape
    N = M.shape[0]
    group, tile = 64, 32
    for g in nb.prange((B + group - 1) // group):
        gb0 = g * group
        gb1 = min(B, gb0 + group)
        for t0 in range(0, N, tile):
            t1 = min(N, t0 + tile)
            b0 = gb0
            while b0 + 4 <= gb1:
                n = t0
                while n + 2 <= t1:
                    a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = Q.dtype.type(0)
                    for d in range(D):
                        m0 = M[n, d]
                        m1 = M[n + 1, d]
                        q0 = Q[b0, d]
                        q1 = Q[b0 + 1, d]
                        q2 = Q[b0 + 2, d]
                        q3 = Q[b0 + 3, d]
                        a00 += abs(q0 - m0)
                        a01 += abs(q0 - m1)
                        a10 += abs(q1 - m0)
                        a11 += abs(q1 - m1)
                        a20 += abs(q2 - m0)
                        a21 += abs(q2 - m1)
                        a30 += abs(q3 - m0)
                        a31 += abs(q3 - m1)
                    out[b0, n] = -a00
                    out[b0, n + 1] = -a01
                    out[b0 + 1, n] = -a10
                    out[b0 + 1, n + 1] = -a11
                    out[b0 + 2, n] = -a20
                    out[b0 + 2, n + 1] = -a21
                    out[b0 + 3, n] = -a30
                    out[b0 + 3, n + 1] = -a31
                    n += 2
                while n < t1:
                    for b in range(b0, b0 + 4):
                        _l1_one(Q, M, out, b, n)
                    n += 1
                b0 += 4
            while b0 < gb1:
                for n in range(t0, t1):
                    _l1_one(Q, M, out, b0, n)
                b0 += 1


@nb.njit(parallel=True, fastmath=True, nogil=True, cache=True)
def js(Qn, Mn, hq, hm, out):  # pragma: no cover - compiled
    # Rows are distributions (sum 1); hq, hm are their Σ p log p. With s = m + q,
    # JS = ½(hm + hq) − ½ Σ s log s + log 2: one logarithm per element; 0 log 0 = 0.
    B, D = Qn.shape
    N = Mn.shape[0]
    log2 = np.log(2.0)
    for b in nb.prange(B):
        for n in range(N):
            acc = 0.0
            for d in range(D):
                s = np.float64(Mn[n, d]) + np.float64(Qn[b, d])
                if s > 0:
                    acc += s * np.log(s)
            js_value = 0.5 * (hm[n] + hq[b]) - 0.5 * acc + log2
            out[b, n] = -max(js_value, 0.0)

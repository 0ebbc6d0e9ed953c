"""Independent references: textbook formulas written as explicit Python loops over pairs.

Nothing here calls neuro_uhn; each function takes NumPy float64 arrays and returns the
(n_queries, n_memories) score matrix or the retrieval, element by element.
"""

import math

import numpy as np


def pairwise(M, Q, f):
    S = np.empty((Q.shape[0], M.shape[0]))
    for b in range(Q.shape[0]):
        for i in range(M.shape[0]):
            S[b, i] = f(M[i], Q[b])
    return S


def dot(m, q):
    return sum(float(a) * float(b) for a, b in zip(m, q))


def cosine(m, q):
    nm = math.sqrt(dot(m, m))
    nq = math.sqrt(dot(q, q))
    return 0.0 if nm == 0 or nq == 0 else dot(m, q) / (nm * nq)


def euclidean(m, q):
    return -math.sqrt(sum((a - b) ** 2 for a, b in zip(m, q)))


def manhattan(m, q):
    return -sum(abs(a - b) for a, b in zip(m, q))


def hamming(m, q):
    return -sum((a > 0) != (b > 0) for a, b in zip(m, q))


def _dist(x, eps):
    s = sum(x)
    p = [v / s for v in x]
    return [(v + eps) / (1 + len(x) * eps) for v in p] if eps else p


def kl_div(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


def kl(m, q, eps=1e-6):
    return -kl_div(_dist(m, eps), _dist(q, eps))


def reverse_kl(m, q, eps=1e-6):
    return -kl_div(_dist(q, eps), _dist(m, eps))


def js(m, q):
    p, r = _dist(m, 0), _dist(q, 0)
    mix = [(a + b) / 2 for a, b in zip(p, r)]
    return -(0.5 * kl_div(p, mix) + 0.5 * kl_div(r, mix))


# --- the official code's formulas (functions.py), one pair at a time ---------------------


def official_euclidean(m, q):
    d = sum((a - b) ** 2 for a, b in zip(m, q))
    return math.inf if d == 0 else 1 / d


def official_manhattan(m, q):
    d = sum(abs(a - b) for a, b in zip(m, q))
    return math.inf if d == 0 else 1 / d


def official_kl_value(p_raw, q_raw, eps=1e-4):
    p, q = _dist(p_raw, 0), _dist(q_raw, 0)
    return sum(a * (math.log(a + eps) - math.log(b + eps)) for a, b in zip(p, q))


def official_inverse_kl(m, q):
    return 1 / official_kl_value(m, q)


def official_inverse_reverse_kl(m, q):
    return 1 / official_kl_value(q, m)


def official_js(m, q):
    return 1 / (0.5 * official_inverse_kl(m, q) + 0.5 * official_inverse_reverse_kl(m, q))


def official_normalized_dot(M, q):
    s = [dot(m / m.sum(), q / q.sum()) for m in M]
    total = sum(s)
    return [v / total for v in s]


STANDARD = {
    "dot": dot,
    "cosine": cosine,
    "euclidean": euclidean,
    "manhattan": manhattan,
    "hamming": hamming,
    "kl": kl,
    "reverse_kl": reverse_kl,
    "js": js,
}


def retrieve_loop(M, Q, sim, sep, P=None):
    """Per-query loop: scores, separation of one row, weighted sum of rows of P."""
    P = M if P is None else P
    out = np.zeros((Q.shape[0], P.shape[1]))
    for b in range(Q.shape[0]):
        s = [sim(M[i], Q[b]) for i in range(M.shape[0])]
        w = sep(s)
        for i, wi in enumerate(w):
            out[b] += wi * P[i]
    return out


def sep_softmax(beta):
    def f(s):
        top = max(s)
        e = [math.exp(beta * (v - top)) for v in s]
        return [v / sum(e) for v in e]

    return f


def sep_max(s):
    best = max(range(len(s)), key=lambda i: (s[i], -i))
    return [1.0 if i == best else 0.0 for i in range(len(s))]


def sep_topk(k):
    def f(s):
        order = sorted(range(len(s)), key=lambda i: (-s[i], i))[:k]
        return [1.0 / k if i in order else 0.0 for i in range(len(s))]

    return f


def sep_polynomial(n):
    return lambda s: [max(v, 0.0) ** n for v in s]


def sep_threshold(theta):
    return lambda s: [1.0 if v >= theta else 0.0 for v in s]

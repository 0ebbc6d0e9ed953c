"""Similarity functions: ``S = sim(M, Q)``, shape (n_queries, n_memories), higher = more similar.

Every similarity here is a frozen component, registered by name::

    >>> from neuro_uhn import similarity
    >>> similarity.names()[:4]
    ['cosine', 'dot', 'euclidean', 'hamming']
    >>> similarity.make({"kind": "kl", "eps": 1e-8})
    KL(eps=1e-08)

The standard similarities are exact scores (distances negated, never inverted). The official
code's forms (reciprocal distances, the L1-normalised "dot product", ...) are a table of their
own in :mod:`neuro_uhn.paper` (``paper.names()``), which also maps each standard similarity to
its counterpart (``paper.form``). This module does not import it; :func:`make` and :func:`get`
still resolve those names (``similarity.make("inverse_manhattan")``), as spec files and the
experiments use them, but :func:`names` lists the standard similarities only.

Cost. ``dot``, ``cosine``, ``euclidean``, ``hamming``, ``kl`` and ``reverse_kl`` are one
matrix product plus O((B + N)·D) work. ``manhattan`` and ``js`` have no matrix-product form:
they run a compiled kernel (numba, NumPy inputs) or broadcast in blocks that fit the memory
budget (:func:`neuro_uhn.memory_budget`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ._pairwise import neg_js, neg_l1
from ._registry import Component, Registry
from ._validation import as_float_array, check_finite, check_matrix
from ._xp import Array, is_numpy, namespace, neg_clip_sqrt
from .errors import ValidationError, ValidationTypeError

__all__ = [
    "Similarity",
    "Dot",
    "Cosine",
    "Euclidean",
    "Manhattan",
    "Hamming",
    "KL",
    "ReverseKL",
    "JensenShannon",
    "names",
    "make",
    "register",
    "get",
]


class Similarity(Component):
    """Base class. Subclasses implement :meth:`score`, and may override :meth:`prepare`
    (work on the memories alone, done once per retrieval) and :meth:`check` (input domain).
    """

    kind: ClassVar[str] = "similarity"
    #: ``p`` with ``score(s·M, s·Q) = s**p · score(M, Q)`` for every s > 0, or None. Inputs
    #: so large or small that the arithmetic would overflow or underflow are scaled by a
    #: power of two (exact) and the scores scaled back (:func:`scores_in_range`).
    scale_power: ClassVar[int | None] = None
    #: A stored pattern scores highest against itself (true for distances and cosine-free
    #: divergences); the property tests check it for every similarity that declares it.
    self_is_best: ClassVar[bool] = False
    #: The inputs it accepts: ``"real"`` (any finite values), ``"distribution"`` (non-negative
    #: rows with a positive sum) or ``"binary"`` ({0, 1} or {-1, +1}); tests draw from it.
    domain: ClassVar[str] = "real"

    def __call__(self, memories: Array, queries: Array) -> Array:
        """Scores of every query (rows) against every memory (columns)."""
        M, Q, xp, single = validate_pair(memories, queries)
        self.check(M, Q, xp)
        S = scores_in_range(self, M, None, Q, xp)
        return S[0, ...] if single else S

    def check(self, M: Array, Q: Array, xp) -> None:
        """Raise ValueError if the inputs are outside this similarity's domain."""

    def prepare(self, M: Array, xp) -> Any:
        return M

    def score(self, prepared: Any, Q: Array, xp) -> Array:
        raise NotImplementedError


_registry = Registry("similarity", Similarity, "standard similarities")
register = _registry.register
names = _registry.names
make = _registry.make
get = _registry.get


def validate_pair(memories: Any, queries: Any):
    """Checked float arrays ``(M, Q, xp, single)``; a 1-D query becomes one row."""
    M, xp = validate_memories(memories)
    Q, single = validate_queries(queries, M, xp)
    dtype = xp.result_type(M.dtype, Q.dtype)
    return xp.astype(M, dtype, copy=False), xp.astype(Q, dtype, copy=False), xp, single


def validate_memories(memories: Any):
    """``(M, xp)``: a finite, non-empty 2-D float array."""
    M = as_float_array(memories, "memories")
    xp = namespace(M)
    check_matrix(M, "memories", "n_memories", "n_features", xp)
    check_finite(M, "memories", xp)
    return M, xp


def validate_queries(queries: Any, M: Array, xp):
    """``(Q, single)``: finite 2-D queries with the memories' feature count."""
    Q = as_float_array(queries, "queries")
    if namespace(Q, M) is not xp:
        raise ValidationTypeError("'queries' must come from the same array library as 'memories'")
    single = Q.ndim == 1
    if single:
        Q = xp.expand_dims(Q, axis=0)
    if Q.ndim != 2:
        raise ValidationError(
            f"'queries' must be 1-D (n_features,) or 2-D (n_queries, n_features); "
            f"got shape {tuple(Q.shape)}"
        )
    if Q.shape[0] == 0:
        raise ValidationError("'queries' must not be empty; got 0 queries")
    if Q.shape[1] != M.shape[1]:
        raise ValidationError(
            f"'queries' has {Q.shape[1]} features but 'memories' has {M.shape[1]}; they must match"
        )
    check_finite(Q, "queries", xp)
    return Q, single


def _in_range_bounds(dtype, n_features: int, xp) -> tuple[float, float]:
    """(lo, hi): where the largest magnitude of the inputs keeps the similarities' sums of
    squares and products finite and their smallest terms out of the subnormal range."""
    info = xp.finfo(dtype)
    hi = math.sqrt(float(info.max) / (16.0 * n_features))
    lo = math.sqrt(float(info.smallest_normal) / float(info.eps))
    return lo, hi


def _times_pow2(X: Array, k: int) -> Array:
    """``X · 2**k``, exact for normal results, in steps whose factor ``2**step`` is itself
    representable in ``X``'s dtype (float16 ±13, float32 ±125, float64 ±1020)."""
    import array_api_compat

    bits = array_api_compat.array_namespace(X).finfo(X.dtype).bits
    limit = {16: 13, 32: 125}.get(bits, 1020)
    while k:
        step = max(-limit, min(limit, k))
        X = X * (2.0**step)
        k -= step
    return X


def scores_in_range(
    sim: Similarity,
    M: Array,
    state: Any,
    Q: Array,
    xp,
    *,
    order_only: bool = False,
    m_max: float | None = None,
    cache: dict | None = None,
) -> Array:
    """``sim``'s scores, computed where the floating-point arithmetic is exact enough.

    Inputs whose largest magnitude would overflow the similarity's sums (1e160 in float64,
    1e18 in float32) or push its products into the subnormal range (1e-146, 1e-15) are
    scaled by a power of two into range — exact — and the scores scaled back by the
    similarity's :attr:`~Similarity.scale_power`. Scores that then overflow the dtype are an
    error (the true scores are not representable), unless ``order_only``: a separation that
    reads only the order of the scores (``max``, uniform ``topk``) gets the scaled ones,
    which rank the memories exactly as the true ones do. ``state`` is ``sim.prepare(M)``
    (computed here when None); ``cache`` keeps the rescaled memories' state between calls.
    """
    p = sim.scale_power
    if not p:
        return sim.score(sim.prepare(M, xp) if state is None else state, Q, xp)
    if m_max is None:
        m_max = float(xp.max(xp.abs(M)))
    v = max(m_max, float(xp.max(xp.abs(Q))))
    lo, hi = _in_range_bounds(Q.dtype, M.shape[1], xp)
    if v == 0 or lo <= v <= hi:
        return sim.score(sim.prepare(M, xp) if state is None else state, Q, xp)
    e = math.frexp(v)[1]  # v·2**-e in [0.5, 1)
    key = ("scaled", e)
    if cache is not None and key in cache:
        scaled_state = cache[key]
    else:
        scaled_state = sim.prepare(_times_pow2(M, -e), xp)
        if cache is not None:
            cache[key] = scaled_state
    S = sim.score(scaled_state, _times_pow2(Q, -e), xp)
    if order_only:
        return S
    import numpy as np

    with np.errstate(over="ignore", under="ignore"):
        S = _times_pow2(S, e * p)
    if not bool(xp.all(xp.isfinite(S))):
        raise ValidationError(
            f"similarity {sim.name!r}: the scores of inputs as large as {v:.3g} exceed "
            f"{S.dtype}'s range (they grow as the inputs' scale to the power {p}); rescale "
            "'memories' and 'queries' (e.g. divide both by their maximum), use float64, or a "
            "separation that reads only the order of the scores (max, topk)",
            argument="memories",
        )
    return S


def _row_dots(A: Array, B: Array, xp) -> Array:
    """``sum(A * B, axis=-1)`` without the product's temporary.

    NumPy: ``einsum``, not ``vecdot``. NumPy's ``vecdot`` calls a (multi-threaded) BLAS dot
    per row, and on a loaded machine the threads' start-up made it 500x slower (0.8 s for
    (100, 12288)); ``einsum``'s single loop does not depend on the load.
    """
    if is_numpy(xp):
        import numpy as np

        return np.einsum("...i,...i->...", A, B)
    return xp.vecdot(A, B, axis=-1) if hasattr(xp, "vecdot") else xp.sum(A * B, axis=-1)


def _sq_norms(X: Array, xp) -> Array:
    return _row_dots(X, X, xp)


@register("dot")
@dataclass(frozen=True, kw_only=True)
class Dot(Similarity):
    """Dot product ``S[b, i] = M[i] · Q[b]`` (classical HN, DAM, MCHN, attention)."""

    scale_power: ClassVar[int | None] = 2

    def score(self, M, Q, xp):
        return Q @ M.T


@register("cosine")
@dataclass(frozen=True, kw_only=True)
class Cosine(Similarity):
    """Cosine of the angle, with per-row norms; a zero row scores 0 against everything."""

    def prepare(self, M, xp):
        return _unit_rows(M, xp)

    def score(self, Mn, Q, xp):
        return _unit_rows(Q, xp) @ Mn.T


def _unit_rows(X, xp):
    """Rows of unit length; each row is first divided by its largest magnitude, so rows of
    1e-300 or 1e300 neither underflow nor overflow the squared norm. A zero row stays zero,
    with finite gradients: its norm is the square root of 1, not of 0 (whose infinite
    derivative times the zero of a later ``where`` is NaN under autograd)."""
    X = _max_scaled_rows(X, xp)
    sq = _sq_norms(X, xp)
    norm = xp.sqrt(xp.where(sq > 0, sq, xp.ones_like(sq)))
    return X / xp.expand_dims(norm, axis=-1)


def _max_scaled_rows(X, xp):
    """Each row divided by its largest magnitude (all-zero rows stay zero)."""
    top = xp.max(xp.abs(X), axis=-1, keepdims=True)
    return X / xp.where(top > 0, top, xp.ones_like(top))


@register("euclidean")
@dataclass(frozen=True, kw_only=True)
class Euclidean(Similarity):
    """Negative Euclidean distance ``-‖M[i] - Q[b]‖₂`` (``squared=True``: ``-‖·‖₂²``).

    Computed as ``‖q‖² + ‖m‖² - 2 q·m`` after centring both on the memories' mean, which
    leaves distances unchanged and keeps the cancellation error small; the squared distance
    is clipped at 0 before the square root. Near zero the square root magnifies rounding:
    a distance of 0 can come out as about ``sqrt(ε)·‖x‖`` (1e-8·‖x‖ in float64).
    """

    self_is_best: ClassVar[bool] = True
    squared: bool = False

    @property
    def scale_power(self) -> int:  # type: ignore[override]
        return 2 if self.squared else 1

    def prepare(self, M, xp):
        mean = xp.mean(M, axis=0, keepdims=True)
        Mc = M - mean
        return Mc, _sq_norms(Mc, xp), mean

    def score(self, prepared, Q, xp):
        Mc, m2, mean = prepared
        Qc = Q - mean
        # in place on the (B, N) product: these passes cost as much as the product itself
        S = Qc @ Mc.T
        S *= 2
        S -= xp.expand_dims(_sq_norms(Qc, xp), axis=-1)
        S -= m2  # S = -d²
        return neg_clip_sqrt(S, xp, sqrt=not self.squared)


@register("manhattan")
@dataclass(frozen=True, kw_only=True)
class Manhattan(Similarity):
    """Negative L1 distance ``-Σ_d |M[i, d] - Q[b, d]|``: the paper's best similarity."""

    self_is_best: ClassVar[bool] = True
    scale_power: ClassVar[int | None] = 1

    def score(self, M, Q, xp):
        return neg_l1(Q, M)


@register("hamming")
@dataclass(frozen=True, kw_only=True)
class Hamming(Similarity):
    """Negative Hamming distance: minus the number of positions whose bits differ.

    Each array must be binary {0, 1} or bipolar {-1, +1}, and memories and queries must use
    the same coding (an array of only ones fits both). ``normalized=True`` divides by the
    number of features, so scores lie in [-1, 0] and a threshold (SDM's radius) does not
    depend on the pattern size.
    """

    self_is_best: ClassVar[bool] = True
    domain: ClassVar[str] = "binary"
    normalized: bool = False

    def check(self, M, Q, xp):
        codes = {name: _coding(X, name, xp) for name, X in (("memories", M), ("queries", Q))}
        if {"binary", "bipolar"} <= set(codes.values()):
            raise ValidationError(
                "hamming: 'memories' and 'queries' must use one coding; got "
                + ", ".join(f"{k} {v}" for k, v in codes.items())
                + " (map bipolar x to binary with (x + 1) / 2)"
            )

    def prepare(self, M, xp):
        Mb = xp.astype(M > 0, M.dtype)
        return Mb, xp.sum(Mb, axis=-1)

    def score(self, prepared, Q, xp):
        Mb, m1 = prepared
        Qb = xp.astype(Q > 0, Q.dtype)
        S = Qb @ Mb.T
        S *= 2
        S -= xp.expand_dims(xp.sum(Qb, axis=-1), axis=-1)
        S -= m1  # S = -d, exact in floating point (small integers)
        if self.normalized:
            S /= Q.shape[1]
        return S


def _coding(X, name, xp) -> str:
    """'binary', 'bipolar' or 'ones' (fits both); anything else is a ValueError."""
    ones = X == 1
    if bool(xp.all(ones | (X == 0))):
        return "binary" if not bool(xp.all(ones)) else "ones"
    if bool(xp.all(ones | (X == -1))):
        return "bipolar"
    raise ValidationError(
        f"hamming needs binary {{0, 1}} or bipolar {{-1, +1}} {name!r}; "
        f"found other values (min {float(xp.min(X))}, max {float(xp.max(X))})"
    )


def check_distributions(M, Q, xp, similarity: str) -> None:
    """Rows must be non-negative with a positive sum (they are normalised to distributions)."""
    for name, X in (("memories", M), ("queries", Q)):
        if bool(xp.any(X < 0)):
            raise ValidationError(
                f"{similarity} needs non-negative {name!r} (rows are normalised to "
                f"probability distributions); min is {float(xp.min(X))}"
            )
        zero = xp.max(X, axis=-1) == 0  # (non-negative rows: no sum that could overflow)
        if bool(xp.any(zero)):
            raise ValidationError(
                f"{similarity} needs every row of {name!r} to have a positive sum; "
                f"{int(xp.sum(xp.astype(zero, xp.int64)))} row(s) are all zero"
            )


def normalize_rows(X, xp, eps: float = 0.0):
    """Rows divided by their sums; with ``eps`` > 0, additive smoothing ``(p + ε)/(1 + Dε)``."""
    c = 1 / (1 + X.shape[-1] * eps)
    X = _max_scaled_rows(X, xp)  # the sum of a row of 1e-310s is not subnormal, 1e308s not inf
    P = X * (c / xp.sum(X, axis=-1, keepdims=True))
    return P + c * eps if eps else P


@dataclass(frozen=True, kw_only=True)
class _KLBase(Similarity):
    """Shared parts of the two KL similarities.

    Rows are normalised to sum 1 and smoothed, ``p̃ = (p̂ + ε)/(1 + Dε)``, so every entry
    is positive and KL is finite (a query with a zero where a memory has mass, such as a
    masked image, would otherwise be infinitely far from every memory). ε must be > 0.
    """

    self_is_best: ClassVar[bool] = True
    domain: ClassVar[str] = "distribution"
    eps: float = 1e-6

    def _check(self):
        if not 0 < self.eps < 1:
            self._fail("eps", "in (0, 1)", self.eps)

    def check(self, M, Q, xp):
        check_distributions(M, Q, xp, self.name)

    def prepare(self, M, xp):
        P = normalize_rows(M, xp, self.eps)  # every entry >= ε/(1+Dε) > 0: no 0·log 0
        logP = xp.log(P)
        return P, logP, _row_dots(P, logP, xp)


@register("kl")
@dataclass(frozen=True, kw_only=True)
class KL(_KLBase):
    """``-KL(m̃ ‖ q̃) = -Σ_d m̃_d log(m̃_d / q̃_d)``, one matrix product (see ``_KLBase``)."""

    def score(self, prepared, Q, xp):
        P, _, neg_entropy = prepared
        S = xp.log(normalize_rows(Q, xp, self.eps)) @ P.T
        S -= neg_entropy
        return S


@register("reverse_kl")
@dataclass(frozen=True, kw_only=True)
class ReverseKL(_KLBase):
    """``-KL(q̃ ‖ m̃) = -Σ_d q̃_d log(q̃_d / m̃_d)``, one matrix product (see ``_KLBase``)."""

    def score(self, prepared, Q, xp):
        _, logP, _ = prepared
        Qn = normalize_rows(Q, xp, self.eps)
        S = Qn @ logP.T
        S -= xp.expand_dims(_row_dots(Qn, xp.log(Qn), xp), axis=-1)
        return S


@register("js")
@dataclass(frozen=True, kw_only=True)
class JensenShannon(Similarity):
    """``-JS(m̂, q̂)``, the true Jensen–Shannon divergence with the mixture ``(m̂ + q̂)/2``.

    Natural log, so scores lie in [-ln 2, 0]; zero masses are exact (``0 log 0 = 0``), no ε.
    """

    self_is_best: ClassVar[bool] = True
    domain: ClassVar[str] = "distribution"

    def check(self, M, Q, xp):
        check_distributions(M, Q, xp, self.name)

    def prepare(self, M, xp):
        return normalize_rows(M, xp)

    def score(self, Mn, Q, xp):
        return neg_js(normalize_rows(Q, xp), Mn)

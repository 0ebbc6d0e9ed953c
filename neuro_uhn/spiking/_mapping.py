"""From a UHN spec to numbers a spiking network can carry (NumPy only, no Brian2).

**Similarity → synapses.** Every supported similarity is written as

    s_i = h( Σ_f W[i, f] · φ_f(q) + b_i + c(q) )

feature values ``φ(q)`` (the feature neurons' activity), feature→memory weights ``W``, a bias
current per memory ``b``, a term ``c(q)`` common to all memories (a global input unit), and a
score transform ``h`` in the memory neuron (the identity, or ``−sqrt(−u)`` for Euclidean).
``W``, ``b``, ``c`` come from the abstract similarity's own ``prepare`` (norms, centred rows,
normalised distributions), so the two models cannot drift. Manhattan has no such linear form:
in continuous and hybrid modes each synapse computes ``−|w − x|`` (a dendritic nonlinearity);
in spiking mode each feature is a thermometer code of ``levels`` Poisson units, which makes
it linear again and exact up to quantisation to the ``levels`` grid.

**Separation → memory neurons.** A memory neuron fires at ``rate = r · g(s)``, divided by the
copy's sum of ``g`` for the normalised separations (global divisive inhibition):

============  =======================================  ==============  ====================
separation    transfer g(s)                            inhibition      decoded weight
============  =======================================  ==============  ====================
identity      (s − a)/(b − a), [a, b] the score range  none            a + (b − a)·n/(rT)
polynomial    (max(s, 0)/b)^n                          none            bⁿ·n/(rT)
softmax       exp(β(s − s_ref))                        divisive        n_i / Σ n
max           exp(γ(s − s_ref)), γ = wta_gain/spread   divisive        one-hot argmax n
topk          as max                                   divisive        1/k on the k largest n
threshold     1 if s ≥ θ else 0                        none            1 if n ≥ ½ rT else 0
============  =======================================  ==============  ====================

``n`` is a memory's spike count in the decoding window of length ``T`` (pooled over its
neurons), ``r`` the rate scale; in continuous mode ``n = rate · T`` exactly. ``s_ref`` is a
numerical reference (the largest exact score of the query): the divisive normalisation
cancels it, it only keeps ``exp`` in range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..separation import Identity, Max, Polynomial, Softmax, Threshold, TopK
from ..similarity import (
    KL,
    Cosine,
    Dot,
    Euclidean,
    Hamming,
    Manhattan,
    ReverseKL,
    Similarity,
    normalize_rows,
)
from ._config import SpikingConfig, UnsupportedComponent

__all__ = ["SimilarityMap", "SeparationMap", "map_similarity", "map_separation", "support_matrix"]

SIMILARITIES = (Dot, Cosine, Euclidean, Manhattan, Hamming, KL, ReverseKL)
SEPARATIONS = (Identity, Polynomial, Softmax, Max, TopK, Threshold)


@dataclass
class SimilarityMap:
    """``s = h(W φ(q) + b + c(q))``; see the module docstring."""

    W: np.ndarray  # (n_memories, n_features)
    bias: np.ndarray  # (n_memories,)
    features: Callable[[np.ndarray], np.ndarray]  # (B, D) -> (B, n_features)
    common: Callable[[np.ndarray], np.ndarray]  # (B, D) -> (B,)
    score_transform: str = "identity"  # or "neg_sqrt"
    synapse: str = "product"  # or "neg_abs_diff": I = Σ −|w − x|
    sign: str = "both"  # "nonnegative" / "nonpositive": φ has one sign for every query
    scale: float = 1.0  # feature value that maps to the input rate
    lower: np.ndarray | None = field(default=None)  # value range of the features (thermometer)

    def currents(self, Q: np.ndarray) -> np.ndarray:
        """``W φ(q) + b + c(q)`` for every (query, memory), computed in NumPy."""
        phi = self.features(Q)
        if self.synapse == "neg_abs_diff":
            u = -np.abs(phi[:, None, :] - self.W[None, :, :]).sum(-1)
        else:
            u = phi @ self.W.T
        return u + self.bias + self.common(Q)[:, None]

    def scores(self, Q: np.ndarray) -> np.ndarray:
        return apply_score_transform(self.currents(Q), self.score_transform)


#: Smallest distance the reciprocal unit divides by (an exact match would be 1/0).
RECIPROCAL_FLOOR = 1e-12


def apply_score_transform(u, transform: str):
    if transform == "neg_sqrt":
        return -np.sqrt(np.clip(-u, 0, None))
    if transform == "reciprocal":
        return 1 / np.clip(-u, RECIPROCAL_FLOOR, None)
    return u


def _bits(X):
    return (np.asarray(X) > 0).astype(float)


def map_similarity(sim: Similarity, M: np.ndarray, cfg: SpikingConfig) -> SimilarityMap:
    """The synaptic form of ``sim`` on memories ``M`` for ``cfg.mode``."""
    zeros = lambda Q: np.zeros(len(Q))  # noqa: E731
    kind = type(sim)
    if kind is Dot:
        return SimilarityMap(M.copy(), np.zeros(len(M)), lambda Q: Q, zeros, scale=_scale(M))
    if kind is Cosine:
        Mn = sim.prepare(M, np)
        unit = lambda Q: Cosine().prepare(Q, np)  # noqa: E731  (same per-row norms)
        return SimilarityMap(Mn, np.zeros(len(M)), unit, zeros, scale=_scale(Mn))
    if kind is Euclidean:
        Mc, m2, mean = sim.prepare(M, np)  # centred rows and their squared norms
        centre = lambda Q: Q - mean  # noqa: E731
        return SimilarityMap(
            2 * Mc,
            -m2,
            centre,
            lambda Q: -np.sum((Q - mean) ** 2, axis=-1),
            score_transform="identity" if sim.squared else "neg_sqrt",
            scale=_scale(Mc),
        )
    if kind is Hamming:
        Mb, m1 = sim.prepare(M, np)
        norm = M.shape[1] if sim.normalized else 1.0
        return SimilarityMap((2 * Mb - 1) / norm, -m1 / norm, _bits, zeros, sign="nonnegative")
    if kind is KL:
        # -KL(m̃‖q̃) = Σ m̃ log q̃ − Σ m̃ log m̃: features carry log q̃ (all <= 0)
        P, _, neg_entropy = sim.prepare(M, np)
        logq = lambda Q: np.log(normalize_rows(Q, np, sim.eps))  # noqa: E731
        return SimilarityMap(
            P,
            -neg_entropy,
            logq,
            zeros,
            sign="nonpositive",
            scale=float(-np.log(sim.eps / (1 + M.shape[1] * sim.eps))),
        )
    if kind is ReverseKL:
        # -KL(q̃‖m̃) = Σ q̃ log m̃ − Σ q̃ log q̃: features carry q̃, the entropy is common
        _, logP, _ = sim.prepare(M, np)
        qn = lambda Q: normalize_rows(Q, np, sim.eps)  # noqa: E731
        common = lambda Q: -np.sum(qn(Q) * np.log(qn(Q)), axis=-1)  # noqa: E731
        return SimilarityMap(
            logP,
            np.zeros(len(M)),
            qn,
            common,
            sign="nonnegative",
            scale=float(np.max(normalize_rows(M, np, sim.eps))),
        )
    if kind is Manhattan:
        if cfg.mode not in ("spiking", "circuit"):
            return SimilarityMap(
                M.copy(),
                np.zeros(len(M)),
                lambda Q: Q,
                zeros,
                synapse="neg_abs_diff",
                scale=_scale(M),
            )
        return _thermometer(M, cfg.levels)
    raise UnsupportedComponent(
        f"similarity {sim.name!r}",
        cfg.mode,
        "supported: " + ", ".join(c.name for c in SIMILARITIES),
    )


def _scale(X) -> float:
    top = float(np.max(np.abs(X)))
    return top if top > 0 else 1.0


def _thermometer(M: np.ndarray, levels: int) -> SimilarityMap:
    """−Σ_j |m_j − q_j| through a thermometer code: unit (j, l) is on when x_j > t_l.

    With Δ = (hi − lo)/levels and t_l = lo + (l + ½)Δ, ``Δ·Σ_l |u_l(a) − u_l(b)|`` is the L1
    distance of a and b rounded to the grid, and ``|u − v| = u + v − 2uv`` for bits makes it
    linear in the query's bits: ``W = Δ(2u(m) − 1)``, ``b = −Δ Σ u(m)``.
    """
    lo, hi = float(M.min()), float(M.max())
    if hi == lo:
        hi = lo + 1.0
    delta = (hi - lo) / levels
    thresholds = lo + (np.arange(levels) + 0.5) * delta

    def code(X):
        X = np.asarray(X, dtype=float)
        return (X[..., :, None] > thresholds).reshape(X.shape[:-1] + (-1,)).astype(float)

    Um = code(M)
    return SimilarityMap(
        delta * (2 * Um - 1),
        -delta * Um.sum(-1),
        code,
        lambda Q: np.zeros(len(Q)),
        sign="nonnegative",
    )


@dataclass
class SeparationMap:
    """Transfer, inhibition and decoder of one separation; see the module docstring."""

    transfer: str  # "linear", "power", "exp", "step"
    normalised: bool
    decoder: str  # "affine", "power", "ratio", "argmax", "topk", "threshold"
    a: float = 0.0
    b: float = 1.0
    n: float = 1.0
    beta: float = 1.0
    theta: float = 0.0
    k: int = 1
    prenormalise: bool = False  # scores divided by their sum first (a divisive unit)

    def drive(self, s: np.ndarray, s_ref: np.ndarray) -> np.ndarray:
        """``g(s)`` per (query, memory); ``s_ref`` per query (exp transfer only)."""
        if self.transfer == "linear":
            return (s - self.a) / (self.b - self.a)
        if self.transfer == "power":
            return (np.clip(s, 0, None) / self.b) ** self.n
        if self.transfer == "exp":
            return np.exp(self.beta * (s - s_ref[:, None]))
        return (s >= self.theta).astype(float)

    def decode(self, counts: np.ndarray, expected_scale: float) -> np.ndarray:
        """Separation weights from pooled counts; ``expected_scale = r · T`` per memory."""
        c = np.asarray(counts, dtype=float)
        if self.decoder == "affine":
            return self.a + (self.b - self.a) * c / expected_scale
        if self.decoder == "power":
            return self.b**self.n * c / expected_scale
        if self.decoder == "ratio":
            total = c.sum(-1, keepdims=True)
            return np.where(total > 0, c / np.where(total > 0, total, 1), 1 / c.shape[-1])
        if self.decoder == "argmax":
            return Max()(c)
        if self.decoder == "topk":
            return TopK(k=self.k)(c)
        return (c >= 0.5 * expected_scale).astype(float)


def score_range(sim_map: SimilarityMap, M: np.ndarray) -> tuple[float, float]:
    """A score range for the linear and power transfers: the stored patterns' scores
    against each other, widened by half their spread on each side."""
    S = sim_map.scores(M)
    lo, hi = float(S.min()), float(S.max())
    pad = 0.5 * (hi - lo) if hi > lo else max(1.0, abs(hi))
    return lo - pad, hi + pad


def map_separation(sep, sim_map: SimilarityMap, M: np.ndarray, cfg: SpikingConfig) -> SeparationMap:
    kind = type(sep)
    if kind is Identity:
        a, b = score_range(sim_map, M)
        return SeparationMap("linear", False, "affine", a=a, b=b)
    if kind is Polynomial:
        _, b = score_range(sim_map, M)
        return SeparationMap("power", False, "power", b=max(b, 1e-12), n=sep.n)
    if kind is Softmax:
        return SeparationMap("exp", True, "ratio", beta=sep.beta)
    if kind in (Max, TopK):
        if kind is TopK and sep.weighting != "uniform":
            raise UnsupportedComponent(
                "separation 'topk' with weighting='score'",
                cfg.mode,
                "counts decode to the k winners with equal weight",
            )
        S = sim_map.scores(M)
        spread = float(np.std(S)) or 1.0
        k = sep.k if kind is TopK else 1
        if k > len(M):
            raise ValueError(f"'k' of separation 'topk' must be in 1..n_memories={len(M)}; got {k}")
        return SeparationMap(
            "exp", True, "argmax" if kind is Max else "topk", beta=cfg.wta_gain / spread, k=k
        )
    if kind is Threshold:
        return SeparationMap("step", False, "threshold", theta=sep.theta)
    raise UnsupportedComponent(
        f"separation {sep.name!r}", cfg.mode, "supported: " + ", ".join(c.name for c in SEPARATIONS)
    )


def map_paper_similarity(sim: Similarity, M: np.ndarray, cfg: SpikingConfig) -> SimilarityMap:
    """The official code's similarities: a distance current and a reciprocal (divisive) unit,
    or the L1-normalised dot product (features q/Σq, weights m/Σm)."""
    from ..paper import InverseEuclidean, InverseManhattan, L1NormalizedDot

    kind = type(sim)
    if kind in (InverseEuclidean, InverseManhattan):
        base = Euclidean(squared=True) if kind is InverseEuclidean else Manhattan()
        sim_map = map_similarity(base, M, cfg)
        sim_map.score_transform = "reciprocal"
        return sim_map
    if kind is L1NormalizedDot:
        l1 = lambda X: X / X.sum(axis=-1, keepdims=True)  # noqa: E731
        W = l1(M)
        return SimilarityMap(
            W, np.zeros(len(M)), l1, lambda Q: np.zeros(len(Q)), scale=_scale(l1(M))
        )
    raise UnsupportedComponent(
        f"similarity {sim.name!r} (paper convention)",
        cfg.mode,
        "supported: inverse_euclidean, inverse_manhattan, l1_normalized_dot",
    )


def map_paper_separation(chain, sim_map: SimilarityMap, M, cfg: SpikingConfig) -> SeparationMap:
    """``Normalize >> sep >> Normalize``: a divisive unit normalises the scores, the
    separation's transfer acts on them, and the ratio decoder is the final normalisation."""
    from ..paper import NanFirstMax
    from ..separation import Normalize

    stages = getattr(chain, "stages", ())
    inner = stages[1] if len(stages) == 3 else None
    if not (isinstance(stages[0], Normalize) and isinstance(stages[-1], Normalize)):
        inner = None
    kind = type(inner)
    if kind is Softmax:
        return SeparationMap("exp", True, "ratio", beta=inner.beta, prenormalise=True)
    if kind in (Max, NanFirstMax):
        S = sim_map.scores(M)
        spread = float(np.std(S / S.sum(axis=1, keepdims=True))) or 1.0
        return SeparationMap("exp", True, "argmax", beta=cfg.wta_gain / spread, prenormalise=True)
    if kind is Identity:
        return SeparationMap("linear", False, "ratio", a=0.0, b=1.0, prenormalise=True)
    if kind is Polynomial:
        return SeparationMap("power", False, "ratio", b=1.0, n=inner.n, prenormalise=True)
    raise UnsupportedComponent(
        f"separation {getattr(inner, 'name', chain.name)!r} (paper convention)",
        cfg.mode,
        "supported: softmax, max, identity, polynomial",
    )


def support_matrix() -> dict[str, dict[str, str]]:
    """``{component: {mode: "yes" | why not}}``, as published in docs/spiking.md."""
    modes = ("continuous", "hybrid", "spiking")
    out: dict[str, dict[str, str]] = {}
    for cls in SIMILARITIES:
        out[f"similarity {cls.name}"] = dict.fromkeys(modes, "yes")
    out["similarity manhattan"]["spiking"] = "yes (thermometer code, exact on a `levels` grid)"
    out["similarity js"] = dict.fromkeys(modes, "UnsupportedComponent")
    for name in ("inverse_euclidean", "inverse_manhattan", "l1_normalized_dot"):
        out[f"similarity {name} (paper convention)"] = dict.fromkeys(
            modes, "yes, with softmax/max/identity/polynomial"
        )
    for name in ("inverse_kl", "inverse_reverse_kl", "official_js", "frobenius_cosine"):
        out[f"similarity {name} (paper convention)"] = dict.fromkeys(modes, "UnsupportedComponent")
    for cls in SEPARATIONS:
        out[f"separation {cls.name}"] = dict.fromkeys(modes, "yes")
    out["separation topk"] = dict.fromkeys(modes, "yes (weighting='uniform' only)")
    for name in ("log", "normalize", "chain"):
        out[f"separation {name}"] = dict.fromkeys(modes, "UnsupportedComponent")
    return out

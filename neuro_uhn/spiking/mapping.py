"""From a UHN similarity to synapses (NumPy only, no Brian2).

Every supported similarity is written as

    s_i = h( Σ_f W[i, f] · φ_f(q) + b_i + c(q) )

feature values ``φ(q)`` (the feature neurons' activity), feature→memory weights ``W``, a bias
current per memory ``b``, a term ``c(q)`` common to all memories (a global input unit), and a
score transform ``h`` in the memory neuron (the identity, or ``−sqrt(−u)`` for Euclidean).
``W``, ``b``, ``c`` come from the abstract similarity's own ``prepare`` (norms, centred rows,
normalised distributions), so the two models cannot drift. Manhattan has no such linear form:
in continuous and hybrid modes each synapse computes ``−|w − x|`` (a dendritic nonlinearity);
in spiking and circuit modes each feature is a thermometer code of ``levels`` Poisson units,
which makes it linear again and exact up to quantisation to the ``levels`` grid.

What a separation becomes is the network kind's: :mod:`.rate.separation` (transfer functions
and a divisive unit) and :mod:`.circuit.plan` (lateral inhibition, noise-driven neurons).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import ValidationError
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
from .registry import Builders

__all__ = [
    "SimilarityMap",
    "map_similarity",
    "circuit_similarity_map",
    "map_paper_similarity",
    "similarity_builders",
    "paper_similarity_builders",
    "RECIPROCAL_FLOOR",
]


similarity_builders = Builders("similarity", ("score", "prepare"))
paper_similarity_builders = Builders("similarity", ("score", "prepare"))


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
    #: (lo, hi): the input values the encoding represents faithfully (a thermometer code
    #: saturates outside the stored patterns' range); None: any
    value_range: tuple[float, float] | None = field(default=None)
    #: ``(a, c, κ)``: the weights as a closed-form function of a stored pattern's encoding
    #: ``x = φ(m)/scale``, ``W = a·x + c`` and ``b = κ·Σ x²``, from the similarity's own
    #: definition (what ``storage="plasticity"`` learns and how it scales it, never fitted
    #: to the weights); None when the weights are no such function (KL's log-weights)
    affine: tuple[float, float, float] | None = field(default=None)

    @property
    def channels(self) -> tuple[int, ...]:
        """Signs of the feature neurons' channels: on/off (1, −1) for features of either sign,
        (1,) or (−1,) when every query's features have one sign."""
        return {"both": (1, -1), "nonnegative": (1,), "nonpositive": (-1,)}[self.sign]

    def currents(self, Q: np.ndarray) -> np.ndarray:
        """``W φ(q) + b + c(q)`` for every (query, memory), computed in NumPy: only for
        planning, on the stored patterns (a network computes its own currents)."""
        check_score_budget(len(Q), self.W.shape[0])
        phi = self.features(Q)
        if self.synapse == "neg_abs_diff":  # (B, N) without a (B, N, D) temporary
            from scipy.spatial.distance import cdist

            u = -cdist(np.asarray(phi, dtype=float), self.W, "cityblock")
        else:
            u = phi @ self.W.T
        return u + self.bias + self.common(Q)[:, None]

    def scores(self, Q: np.ndarray) -> np.ndarray:
        return apply_score_transform(self.currents(Q), self.score_transform)


#: The largest (patterns × memories) score matrix a plan computes, in bytes.
SCORE_BUDGET = 2**30


def check_score_budget(n_patterns: int, n_memories: int) -> None:
    """Refuse a planning score matrix over :data:`SCORE_BUDGET`, naming its size."""
    size = 8 * n_patterns * n_memories
    if size > SCORE_BUDGET:
        raise ValidationError(
            f"'memories': planning the network scores the stored patterns against each "
            f"other, a ({n_patterns}, {n_memories}) matrix of {size / 2**30:.1f} GiB, over "
            f"the {SCORE_BUDGET / 2**30:.0f} GiB planning budget; store at most "
            f"{int((SCORE_BUDGET / 8) ** 0.5):,} memories per network",
            argument="memories",
        )


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


def map_similarity(sim: Similarity, M: np.ndarray, cfg) -> SimilarityMap:
    """The synaptic form of ``sim`` on memories ``M`` for ``cfg.mode`` (registered builders)."""
    return similarity_builders.lookup(sim, cfg.mode)(sim, M, cfg)


def _zeros(Q):
    return np.zeros(len(Q))


@similarity_builders.register(Dot)
def _dot(sim, M, cfg):
    scale = _scale(M)  # W = m = scale·x, no bias
    return SimilarityMap(M.copy(), np.zeros(len(M)), lambda Q: Q, _zeros, scale=scale,
                         affine=(scale, 0.0, 0.0))  # fmt: skip


@similarity_builders.register(Cosine)
def _cosine(sim, M, cfg):
    Mn = sim.prepare(M, np)
    unit = lambda Q: Cosine().prepare(Q, np)  # noqa: E731  (same per-row norms)
    scale = _scale(Mn)  # W = m/‖m‖ = scale·x for the unit-normalised encoding x
    return SimilarityMap(Mn, np.zeros(len(M)), unit, _zeros, scale=scale,
                         affine=(scale, 0.0, 0.0))  # fmt: skip


@similarity_builders.register(Euclidean)
def _euclidean(sim, M, cfg):
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


@similarity_builders.register(Hamming)
def _hamming(sim, M, cfg):
    Mb, m1 = sim.prepare(M, np)
    norm = M.shape[1] if sim.normalized else 1.0
    # bits x: W = (2x − 1)/norm, b = −Σx/norm = −Σx²/norm
    return SimilarityMap((2 * Mb - 1) / norm, -m1 / norm, _bits, _zeros, sign="nonnegative",
                         affine=(2 / norm, -1 / norm, -1 / norm))  # fmt: skip


@similarity_builders.register(KL)
def _kl(sim, M, cfg):
    # -KL(m̃‖q̃) = Σ m̃ log q̃ − Σ m̃ log m̃: features carry log q̃ (all <= 0)
    P, _, neg_entropy = sim.prepare(M, np)
    logq = lambda Q: np.log(normalize_rows(Q, np, sim.eps))  # noqa: E731
    return SimilarityMap(
        P,
        -neg_entropy,
        logq,
        _zeros,
        sign="nonpositive",
        scale=float(-np.log(sim.eps / (1 + M.shape[1] * sim.eps))),
    )


@similarity_builders.register(ReverseKL)
def _reverse_kl(sim, M, cfg):
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


@similarity_builders.register(Manhattan)
def _manhattan(sim, M, cfg):
    if cfg.mode not in ("spiking", "circuit"):
        return SimilarityMap(
            M.copy(), np.zeros(len(M)), lambda Q: Q, _zeros, synapse="neg_abs_diff",
            scale=_scale(M),
        )  # fmt: skip
    return _thermometer(M, cfg.levels)


def circuit_similarity_map(sim: Similarity, M: np.ndarray, cfg) -> SimilarityMap:
    """The synaptic form the circuit uses (both storages): as :func:`map_similarity`, except
    that Euclidean is uncentred (``W = 2m``, ``b = −‖m‖²``, features ``q``).

    The rate modes centre the features by the memories' mean to keep currents in range; the
    circuit centres its weights across memories instead (same drive up to a per-query
    constant), so the feature neurons receive the raw input, with no per-query arithmetic
    outside the network, and a circuit that learns its memories need not know their mean
    beforehand (measured on digits, N = 100, σ = 0.35: agreement 0.87 centred, 0.86 not).
    """
    if isinstance(sim, Euclidean):
        M = np.asarray(M, dtype=float)
        scale = _scale(M)  # W = 2m = 2·scale·x, b = −‖m‖² = −scale²·Σx²
        return SimilarityMap(
            2 * M,
            -np.sum(M**2, axis=1),
            lambda Q: np.asarray(Q, dtype=float),
            lambda Q: -np.sum(np.asarray(Q, dtype=float) ** 2, axis=-1),
            score_transform="identity" if sim.squared else "neg_sqrt",
            scale=scale,
            affine=(2 * scale, 0.0, -(scale**2)),
        )
    return map_similarity(sim, M, cfg)


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
        value_range=(float(M.min()), float(M.max())),
        affine=(2 * delta, -delta, -delta),  # bits u: Σu = Σu²
    )


def map_paper_similarity(sim: Similarity, M: np.ndarray, cfg) -> SimilarityMap:
    """The official code's similarities: a distance current and a reciprocal (divisive) unit,
    or the L1-normalised dot product (features q/Σq, weights m/Σm)."""
    register_paper_forms()
    return paper_similarity_builders.lookup(sim, cfg.mode, " (paper convention)")(sim, M, cfg)


def register_paper_forms() -> None:
    """The paper's forms live in neuro_uhn.paper, imported on first use."""
    if paper_similarity_builders.classes():
        return
    from ..paper import InverseEuclidean, InverseManhattan, L1NormalizedDot

    @paper_similarity_builders.register(InverseEuclidean)
    @paper_similarity_builders.register(InverseManhattan)
    def _reciprocal(sim, M, cfg):
        base = Euclidean(squared=True) if isinstance(sim, InverseEuclidean) else Manhattan()
        sim_map = map_similarity(base, M, cfg)
        sim_map.score_transform = "reciprocal"
        return sim_map

    @paper_similarity_builders.register(L1NormalizedDot)
    def _l1_dot(sim, M, cfg):
        l1 = lambda X: X / X.sum(axis=-1, keepdims=True)  # noqa: E731
        W = l1(M)
        return SimilarityMap(W, np.zeros(len(M)), l1, _zeros, scale=_scale(l1(M)))

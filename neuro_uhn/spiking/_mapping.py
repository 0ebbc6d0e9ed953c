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

from ..errors import ValidationError
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

__all__ = [
    "Builders",
    "SimilarityMap",
    "SeparationMap",
    "map_similarity",
    "map_separation",
    "similarity_builders",
    "separation_builders",
    "support_matrix",
]


class Builders:
    """Builders registered per component class and found through the MRO (as nengo's
    ``Builder.register``): a user's subclass that keeps its parent's computation gets the
    parent's builder; one that overrides how scores or weights are computed gets a clear
    :class:`UnsupportedComponent` until a builder is registered for it.

    >>> @similarity_builders.register(MyDot)          # doctest: +SKIP
    ... def _(sim, M, cfg): return SimilarityMap(...)
    """

    def __init__(self, kind: str, computes: tuple[str, ...]):
        self.kind, self.computes = kind, computes
        self._table: dict[type, Callable] = {}

    def register(self, cls: type):
        def decorate(fn: Callable) -> Callable:
            self._table[cls] = fn
            return fn

        return decorate

    def classes(self) -> tuple[type, ...]:
        return tuple(self._table)

    def lookup(self, component, mode: str, label: str = "") -> Callable:
        for cls in type(component).__mro__:
            if cls in self._table:
                changed = [
                    m
                    for m in self.computes
                    if getattr(type(component), m, None) is not getattr(cls, m, None)
                ]
                if changed:
                    raise UnsupportedComponent(
                        f"{self.kind} {component.name!r} ({type(component).__name__}{label})",
                        mode,
                        f"it subclasses {cls.__name__} but overrides {', '.join(changed)}, so "
                        f"{cls.__name__}'s synaptic form may not hold; register a builder "
                        f"for it with neuro_uhn.spiking.{self.kind}_builders.register",
                    )
                return self._table[cls]
        names = ", ".join(c.name for c in self._table)
        raise UnsupportedComponent(
            f"{self.kind} {getattr(component, 'name', component)!r}{label}",
            mode,
            f"supported: {names}",
        )


similarity_builders = Builders("similarity", ("score", "prepare"))
separation_builders = Builders("separation", ("__call__",))
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
    lower: np.ndarray | None = field(default=None)  # value range of the features (thermometer)

    @property
    def channels(self) -> tuple[int, ...]:
        """Signs of the feature neurons' channels: on/off (1, −1) for features of either sign,
        (1,) or (−1,) when every query's features have one sign."""
        return {"both": (1, -1), "nonnegative": (1,), "nonpositive": (-1,)}[self.sign]

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
    """The synaptic form of ``sim`` on memories ``M`` for ``cfg.mode`` (registered builders)."""
    return similarity_builders.lookup(sim, cfg.mode)(sim, M, cfg)


def _zeros(Q):
    return np.zeros(len(Q))


@similarity_builders.register(Dot)
def _dot(sim, M, cfg):
    return SimilarityMap(M.copy(), np.zeros(len(M)), lambda Q: Q, _zeros, scale=_scale(M))


@similarity_builders.register(Cosine)
def _cosine(sim, M, cfg):
    Mn = sim.prepare(M, np)
    unit = lambda Q: Cosine().prepare(Q, np)  # noqa: E731  (same per-row norms)
    return SimilarityMap(Mn, np.zeros(len(M)), unit, _zeros, scale=_scale(Mn))


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
    return SimilarityMap((2 * Mb - 1) / norm, -m1 / norm, _bits, _zeros, sign="nonnegative")


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


def circuit_similarity_map(sim: Similarity, M: np.ndarray, cfg: SpikingConfig) -> SimilarityMap:
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
        return SimilarityMap(
            2 * M,
            -np.sum(M**2, axis=1),
            lambda Q: np.asarray(Q, dtype=float),
            lambda Q: -np.sum(np.asarray(Q, dtype=float) ** 2, axis=-1),
            score_transform="identity" if sim.squared else "neg_sqrt",
            scale=_scale(M),
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
    """Transfer, inhibition and decoder of ``sep`` for the rate modes (registered builders)."""
    return separation_builders.lookup(sep, cfg.mode)(sep, sim_map, M, cfg)


@separation_builders.register(Identity)
def _identity(sep, sim_map, M, cfg):
    a, b = score_range(sim_map, M)
    return SeparationMap("linear", False, "affine", a=a, b=b)


@separation_builders.register(Polynomial)
def _polynomial(sep, sim_map, M, cfg):
    _, b = score_range(sim_map, M)
    return SeparationMap("power", False, "power", b=max(b, 1e-12), n=sep.n)


@separation_builders.register(Softmax)
def _softmax(sep, sim_map, M, cfg):
    return SeparationMap("exp", True, "ratio", beta=sep.beta)


@separation_builders.register(Max)
@separation_builders.register(TopK)
def _winners(sep, sim_map, M, cfg):
    top_k = isinstance(sep, TopK)
    if top_k and sep.weighting != "uniform":
        raise UnsupportedComponent(
            "separation 'topk' with weighting='score'",
            cfg.mode,
            "counts decode to the k winners with equal weight",
        )
    S = sim_map.scores(M)
    spread = float(np.std(S)) or 1.0
    k = sep.k if top_k else 1
    if k > len(M):
        raise ValidationError(
            f"'k' of separation 'topk' must be in 1..n_memories={len(M)}; got {k}"
        )
    return SeparationMap(
        "exp", True, "topk" if top_k else "argmax", beta=cfg.wta_gain / spread, k=k
    )


@separation_builders.register(Threshold)
def _threshold(sep, sim_map, M, cfg):
    return SeparationMap("step", False, "threshold", theta=sep.theta)


def map_paper_similarity(sim: Similarity, M: np.ndarray, cfg: SpikingConfig) -> SimilarityMap:
    """The official code's similarities: a distance current and a reciprocal (divisive) unit,
    or the L1-normalised dot product (features q/Σq, weights m/Σm)."""
    _register_paper()
    return paper_similarity_builders.lookup(sim, cfg.mode, " (paper convention)")(sim, M, cfg)


def _register_paper() -> None:
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
    """``{component: {mode: "yes" | why not}}``, derived from the registered builders (and,
    for the circuit, from what :func:`plan_circuit` accepts); published in docs/spiking.md."""
    from ..separation import names as separation_names
    from ..similarity import names as similarity_names

    modes = ("continuous", "hybrid", "spiking", "circuit")
    out: dict[str, dict[str, str]] = {}
    registered = {c.name for c in similarity_builders.classes()}
    for name in similarity_names():
        out[f"similarity {name}"] = dict.fromkeys(
            modes, "yes" if name in registered else "UnsupportedComponent"
        )
    for mode in ("spiking", "circuit"):
        if "similarity manhattan" in out:
            out["similarity manhattan"][mode] = "yes (thermometer code, exact on a `levels` grid)"
    if "similarity euclidean" in out:
        out["similarity euclidean"]["circuit"] = "yes (softmax needs squared=true)"
    _register_paper()
    for cls in paper_similarity_builders.classes():
        out[f"similarity {cls.name} (paper convention)"] = {
            **dict.fromkeys(modes[:3], "yes, with softmax/max/identity/polynomial"),
            "circuit": "UnsupportedComponent",
        }
    for name in ("inverse_kl", "inverse_reverse_kl", "official_js", "frobenius_cosine"):
        out[f"similarity {name} (paper convention)"] = dict.fromkeys(modes, "UnsupportedComponent")
    registered = {c.name for c in separation_builders.classes()}
    from ._circuit import CIRCUIT_SUPPORT as circuit

    for name in separation_names():
        rate = "yes" if name in registered else "UnsupportedComponent"
        out[f"separation {name}"] = {
            **dict.fromkeys(modes[:3], rate),
            "circuit": circuit.get(name, "UnsupportedComponent"),
        }
    if "separation topk" in out:
        for mode in modes[:3]:
            out["separation topk"][mode] = "yes (weighting='uniform' only)"
    return out

"""The rate model's separations: a transfer function per memory neuron, a divisive unit.

A memory neuron fires at ``rate = r · g(s)``, divided by the copy's sum of ``g`` for the
normalised separations (global divisive inhibition):

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
numerical reference tracked by the divisive unit inside the network: the normalisation
cancels it, it only keeps ``exp`` in range. This is a *sampler of an algebraic rate model*;
the neural circuit is :mod:`neuro_uhn.spiking.circuit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ValidationError
from ...separation import Identity, Max, Polynomial, Softmax, Threshold, TopK
from ..mapping import SimilarityMap
from ..registry import Builders, unsupported

__all__ = [
    "SeparationMap",
    "map_separation",
    "map_paper_separation",
    "separation_builders",
    "score_range",
]

separation_builders = Builders("separation", ("__call__",))


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


def map_separation(sep, sim_map: SimilarityMap, M: np.ndarray, cfg) -> SeparationMap:
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
        raise unsupported(
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


def map_paper_separation(chain, sim_map: SimilarityMap, M, cfg) -> SeparationMap:
    """``Normalize >> sep >> Normalize``: a divisive unit normalises the scores, the
    separation's transfer acts on them, and the ratio decoder is the final normalisation."""
    from ...paper import NanFirstMax
    from ...separation import Normalize

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
    raise unsupported(
        f"separation {getattr(inner, 'name', chain.name)!r} (paper convention)",
        cfg.mode,
        "supported: softmax, max, identity, polynomial",
    )

"""The official UHN code's pipeline, piece by piece (``convention="paper"``).

The official code (BerenMillidge/Theory_Associative_Memory, ``functions.py``) differs from the
textbook formulas in ways its figures depend on. Each difference is a named component here,
registered like any other and tested against hand-computed values of the official formulas:

========================  ==========================================================
quirk                     what the official code computes
========================  ==========================================================
``inverse_euclidean``     ``1 / Σ_d (m_d − q_d)²`` — reciprocal of the *squared* L2
                          distance, no ε (an exact match gives ``inf``)
``inverse_manhattan``     ``1 / Σ_d |m_d − q_d|``, no ε
``l1_normalized_dot``     ``<m/Σm, q/Σq>``, then scores divided by their sum: the
                          "Dot Product" of the figures, not the raw dot product
``inverse_kl``            ``1 / Σ_d m̂_d (log(m̂_d+ε) − log(q̂_d+ε))``, ε = 1e-4
``inverse_reverse_kl``    ``1 / Σ_d q̂_d (log(q̂_d+ε) − log(m̂_d+ε))``, ε = 1e-4
``official_js``           ``1 / (½·inverse_kl + ½·inverse_reverse_kl)`` = the harmonic
                          mean of KL and reverse KL: a *divergence*, so maximising it
                          retrieves the least similar memory (the official bug)
``frobenius_cosine``      ``M q / (‖M‖_F ‖q‖)`` — the whole matrix's norm (unused in the
                          official experiments)
``nan_first_max``         argmax in which NaN is the largest value (torch semantics): an
                          exact match (``inf`` score, ``nan`` after normalisation) wins
``pipeline``              ``Normalize >> sep >> Normalize``: scores divided by their sum
                          before and after separation, so any scale factor on the scores
                          (the official ``beta`` multiplier) cancels; the softmax's own
                          parameter (1000 in the official experiments) is ``beta``
========================  ==========================================================

These forms are a table of their own (:func:`names`), apart from the standard similarities
(``similarity.names()``); :func:`form` maps a standard similarity to its official-code
counterpart (``Dot`` → ``L1NormalizedDot``). ``similarity.make`` and spec files still accept
these names, which the experiments and saved models use.

See ``docs/conventions.md`` for why the standard convention differs in each case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._registry import Registry
from ._xp import namespace, xlogy
from .errors import ValidationError
from .separation import Chain, Max, Normalize, Separation
from .separation import _registry as _standard_separations
from .similarity import (
    KL,
    Cosine,
    Dot,
    Euclidean,
    JensenShannon,
    Manhattan,
    ReverseKL,
    Similarity,
    check_distributions,
    normalize_rows,
)
from .similarity import _registry as _standard_similarities

__all__ = [
    "InverseEuclidean",
    "InverseManhattan",
    "L1NormalizedDot",
    "InverseKL",
    "InverseReverseKL",
    "OfficialJS",
    "FrobeniusCosine",
    "NanFirstMax",
    "pipeline",
    "form",
    "names",
    "OFFICIAL_KL_EPS",
]

#: The official code's forms, a table apart from the standard components (whose registries
#: still resolve these names: ``similarity.make("inverse_manhattan")``).
_similarities = Registry("similarity", Similarity, "official-code forms (neuro_uhn.paper)")
_separations = Registry("separation", Separation, "official-code forms (neuro_uhn.paper)")
register_similarity = _similarities.register
register_separation = _separations.register


def names() -> list[str]:
    """Names of the official code's forms (similarities and the NaN-first max)."""
    return sorted(_similarities.names() + _separations.names())


#: The official code's ε inside the KL logarithms.
OFFICIAL_KL_EPS = 1e-4


def reciprocal(d, xp):
    """``1/d`` with ``1/0 = inf`` and no floating-point warning."""
    zero = d == 0
    return xp.where(zero, xp.full_like(d, float("inf")), 1 / xp.where(zero, xp.ones_like(d), d))


class _PaperSimilarity(Similarity):
    #: Each official form scales by a positive factor when both inputs do (1/s² for the
    #: reciprocal squared distance, s² for the dot product, 1 for the normalised forms), and
    #: the official pipeline sum-normalises the scores first, so inputs far out of range are
    #: scored after an exact power-of-two rescale (``similarity.scores_in_range``) instead of
    #: overflowing to inf or underflowing to 0. In range nothing changes.
    scale_power: ClassVar[int | None] = 1


@register_similarity("inverse_euclidean")
@dataclass(frozen=True, kw_only=True)
class InverseEuclidean(_PaperSimilarity):
    """Official ``euclidean_distance``: ``1 / Σ_d (m_d − q_d)²``."""

    self_is_best: ClassVar[bool] = True

    def score(self, M, Q, xp):
        d2 = -Euclidean(squared=True).score(Euclidean().prepare(M, xp), Q, xp)
        return reciprocal(d2, xp)


@register_similarity("inverse_manhattan")
@dataclass(frozen=True, kw_only=True)
class InverseManhattan(_PaperSimilarity):
    """Official ``manhatten_distance``: ``1 / Σ_d |m_d − q_d|``."""

    self_is_best: ClassVar[bool] = True

    def score(self, M, Q, xp):
        from ._pairwise import neg_l1

        return reciprocal(-neg_l1(Q, M), xp)


@register_similarity("l1_normalized_dot")
@dataclass(frozen=True, kw_only=True)
class L1NormalizedDot(_PaperSimilarity):
    """Official ``normalized_dot_product``: rows and query divided by their sums, then the
    scores by theirs. Ranks memories by ``<m, q> / Σm``. Zero rows give NaN, as there."""

    def score(self, M, Q, xp):
        s = (Q / xp.sum(Q, axis=-1, keepdims=True)) @ (M / xp.sum(M, axis=-1, keepdims=True)).T
        return Normalize()(s)


def _official_kl(P, Qd, eps, xp):
    """``Σ_d p_d (log(p_d + ε) − log(q_d + ε))`` for every (query, memory) pair, shape (B, N)
    when ``P`` is (N, D) memories and ``Qd`` (B, D) queries, or transposed roles."""
    return xp.expand_dims(xp.sum(xlogy(P, P + eps), axis=-1), axis=0) - xp.log(Qd + eps) @ P.T


@dataclass(frozen=True, kw_only=True)
class _OfficialKLBase(_PaperSimilarity):
    """Reciprocal of the official KL with ε inside the logs; ``reverse`` swaps the roles."""

    reverse: ClassVar[bool] = False
    self_is_best: ClassVar[bool] = True
    domain: ClassVar[str] = "distribution"
    eps: float = OFFICIAL_KL_EPS

    def check(self, M, Q, xp):
        check_distributions(M, Q, xp, self.name)

    def score(self, M, Q, xp):
        Mn, Qn = normalize_rows(M, xp), normalize_rows(Q, xp)
        kl = (
            _official_kl(Qn, Mn, self.eps, xp).T
            if self.reverse
            else _official_kl(Mn, Qn, self.eps, xp)
        )
        return reciprocal(kl, xp)


@register_similarity("inverse_kl")
@dataclass(frozen=True, kw_only=True)
class InverseKL(_OfficialKLBase):
    """Official ``KL_divergence``: reciprocal of KL(memory ‖ query) with ε inside the logs."""


@register_similarity("inverse_reverse_kl")
@dataclass(frozen=True, kw_only=True)
class InverseReverseKL(_OfficialKLBase):
    """Official ``reverse_KL_divergence``: reciprocal of KL(query ‖ memory), ε inside the logs."""

    reverse: ClassVar[bool] = True


@register_similarity("official_js")
@dataclass(frozen=True, kw_only=True)
class OfficialJS(_PaperSimilarity):
    """Official ``Jensen_Shannon_divergence``: ``1 / (½/KL + ½/RKL) = 2·KL·RKL / (KL + RKL)``.

    The inner functions already return reciprocals, so this is the harmonic mean of the two
    divergences — larger for *less* similar memories. Kept as the official code's bug.
    """

    domain: ClassVar[str] = "distribution"
    eps: float = OFFICIAL_KL_EPS

    def check(self, M, Q, xp):
        check_distributions(M, Q, xp, self.name)

    def score(self, M, Q, xp):
        inv_kl = InverseKL(eps=self.eps).score(M, Q, xp)
        inv_rkl = InverseReverseKL(eps=self.eps).score(M, Q, xp)
        return reciprocal(0.5 * inv_kl + 0.5 * inv_rkl, xp)


@register_similarity("frobenius_cosine")
@dataclass(frozen=True, kw_only=True)
class FrobeniusCosine(_PaperSimilarity):
    """Official ``cosine_similarity``: divides by the Frobenius norm of the whole memory
    matrix, so it is the raw dot product times a constant."""

    def score(self, M, Q, xp):
        norm_m = xp.sqrt(xp.sum(M * M))
        norm_q = xp.sqrt(xp.sum(Q * Q, axis=-1, keepdims=True))
        return (Q @ M.T) / (norm_m * norm_q)


@register_separation("nan_first_max")
@dataclass(frozen=True, kw_only=True)
class NanFirstMax(Separation):
    """Official ``separation_max`` under torch: one-hot argmax where NaN counts as largest."""

    one_hot: ClassVar[bool] = True
    rows_sum_to_one: ClassVar[bool] = True

    def winners(self, S):
        xp = namespace(S)
        return xp.argmax(xp.where(xp.isnan(S), xp.full_like(S, float("inf")), S), axis=-1)

    def __call__(self, S):
        from ._xp import one_hot

        xp = namespace(S)
        return one_hot(self.winners(S), S.shape[-1], S.dtype, xp)


def pipeline(separation: Separation) -> Chain:
    """The official ``general_update_rule(norm=True)``: normalise, separate, normalise.

    ``max`` becomes :class:`NanFirstMax`. The official ``beta`` multiplier before the first
    normalisation cancels and is not represented.
    """
    stages = separation.stages if isinstance(separation, Chain) else (separation,)
    stages = tuple(NanFirstMax() if type(s) is Max else s for s in stages)
    return Chain(stages=(Normalize(), *stages, Normalize()))


_standard_similarities.extend(_similarities)
_standard_separations.extend(_separations)

#: Each standard similarity's counterpart in the official code, by class (a subclass of a
#: standard similarity has its parent's form).
FORMS: dict[type[Similarity], type[Similarity]] = {
    Dot: L1NormalizedDot,
    Cosine: FrobeniusCosine,
    Euclidean: InverseEuclidean,
    Manhattan: InverseManhattan,
    KL: InverseKL,
    ReverseKL: InverseReverseKL,
    JensenShannon: OfficialJS,
}


def form(similarity: Similarity) -> Similarity:
    """The official code's counterpart of ``similarity`` (an official form is its own)."""
    if isinstance(similarity, _PaperSimilarity):
        return similarity
    for cls in type(similarity).__mro__:
        if cls in FORMS:
            return FORMS[cls]()
    raise ValidationError(
        f"similarity {similarity.name!r} has no counterpart in the official UHN code; "
        "use convention='standard'"
    )

"""Separation functions: ``W = sep(S)``, applied to each query's row of scores.

Each is a frozen, registered component; ``a >> b`` chains them (``Chain``). Metadata on each
class (``one_hot``, ``rows_sum_to_one``, ``order_preserving``) is what the property tests
read and what retrieval uses: a one-hot separation projects by gathering rows of ``P``
instead of a matrix product.

Ties are deterministic: ``max`` and ``topk`` prefer the lower memory index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ._registry import Component, Registry
from ._xp import Array, logsumexp, namespace, one_hot, softmax
from .errors import ValidationError, ValidationTypeError

__all__ = [
    "Separation",
    "Identity",
    "Polynomial",
    "Softmax",
    "Max",
    "TopK",
    "Threshold",
    "Log",
    "Normalize",
    "Chain",
    "names",
    "make",
    "register",
    "get",
]


class Separation(Component):
    """Base class: ``__call__(S) -> W`` on a (n_queries, n_memories) score matrix."""

    kind: ClassVar[str] = "separation"
    one_hot: ClassVar[bool] = False  # every output row is exactly one 1 and zeros
    rows_sum_to_one: ClassVar[bool] = False
    order_preserving: ClassVar[bool] = False  # s_i >= s_j implies w_i >= w_j

    def __call__(self, scores: Array) -> Array:
        raise NotImplementedError

    def lagrangian(self, scores: Array) -> Array:
        """``L(s)`` with ``∇L = sep`` (Krotov–Hopfield); convex where defined. Per row."""
        raise NotImplementedError(f"separation {self.name!r} has no Lagrangian")

    def __rshift__(self, other: Separation) -> Chain:
        return Chain(stages=_stages(self) + _stages(other))


def _stages(sep: Separation) -> tuple[Separation, ...]:
    if not isinstance(sep, Separation):
        raise ValidationTypeError(f"can only chain separations; got {type(sep).__name__}")
    return sep.stages if isinstance(sep, Chain) else (sep,)


_registry = Registry("separation", Separation)
register = _registry.register
names = _registry.names
get = _registry.get


def make(spec: Any, **params: Any) -> Separation:
    """A separation from a name, a mapping, an instance, or a list of these (a chain)."""
    if isinstance(spec, list | tuple):
        if params:
            raise ValidationTypeError(
                "parameters cannot be forwarded to a chain; put them in its stages"
            )
        return Chain(stages=tuple(make(s) for s in spec))
    return _registry.make(spec, **params)


@register("identity")
@dataclass(frozen=True, kw_only=True)
class Identity(Separation):
    """``W = S``: the weighted sum of memories of the classical Hopfield network."""

    order_preserving: ClassVar[bool] = True

    def __call__(self, S):
        return S

    def lagrangian(self, S):
        xp = namespace(S)
        return 0.5 * xp.sum(S * S, axis=-1)


@register("polynomial")
@dataclass(frozen=True, kw_only=True)
class Polynomial(Separation):
    """Rectified polynomial ``W = max(S, 0)^n`` (DAM; n = 0.5 is the paper's sqrt).

    Any real ``n > 0``. Negative scores map to 0, the rectified form of Krotov & Hopfield
    (2016), so odd powers never flip the sign of a weight. With negative-valued similarities
    (the standard distances) every weight is 0: use the paper convention, whose reciprocal
    distances are positive, or a similarity with positive scores.

    A finite score whose power exceeds the dtype's range (``s > max^(1/n)``: 2.4 in float32
    at n = 100) is a :class:`~neuro_uhn.errors.ValidationError`, never an ``inf`` weight;
    followed by ``normalize`` (``polynomial >> normalize``) the weights are computed without
    overflow at any n. Infinite scores give infinite weights, as IEEE arithmetic does.
    """

    order_preserving: ClassVar[bool] = True
    n: float = 2.0

    def _check(self):
        if not self.n > 0:
            self._fail("n", "> 0", self.n)

    def __call__(self, S):
        xp = namespace(S)
        R = xp.clip(S, 0, None)
        with _quiet():  # an overflow is reported below, as an error
            W = R**self.n
        if not bool(xp.all(xp.isfinite(W))) and bool(xp.any(xp.isfinite(R) & ~xp.isfinite(W))):
            info = xp.finfo(S.dtype)
            top = float(xp.max(xp.where(xp.isfinite(R), R, xp.zeros_like(R))))
            raise ValidationError(
                f"separation 'polynomial' with n={self.n:g}: scores up to {top:.4g} give "
                f"weights beyond {S.dtype}'s largest value {float(info.max):.4g} (any score "
                f"above {float(info.max) ** (1 / self.n):.4g} overflows); rescale the scores "
                "(a similarity with scores in [0, 1], such as cosine), use float64, or follow "
                "it with 'normalize' (polynomial >> normalize never overflows)",
                argument="separation",
            )
        return W

    def normalized(self, S):
        """``normalize(max(S, 0)^n)`` without overflow or underflow: each row is divided by
        its largest score before the power (the ratio is what normalising keeps)."""
        xp = namespace(S)
        R = xp.clip(S, 0, None)
        top = xp.max(R, axis=-1, keepdims=True)
        W = (R / xp.where(top > 0, top, xp.ones_like(top))) ** self.n
        total = xp.sum(W, axis=-1, keepdims=True)
        return W / xp.where(total > 0, total, xp.ones_like(total))

    def lagrangian(self, S):
        xp = namespace(S)
        with _quiet():  # an overflow gives inf, which the energy reports as an error
            return xp.sum(xp.clip(S, 0, None) ** (self.n + 1), axis=-1) / (self.n + 1)


def _quiet():
    """NumPy's overflow and invalid-value warnings off (other array libraries do not warn)."""
    import numpy as np

    return np.errstate(over="ignore", invalid="ignore")


@register("softmax")
@dataclass(frozen=True, kw_only=True)
class Softmax(Separation):
    """``W = softmax(β S)`` per row (MCHN, attention); stable for β up to 1e8 and beyond.

    The row maximum is subtracted before scaling, so ``exp`` never overflows; β → ∞ gives
    the uniform average of the tied maxima (one-hot without ties, i.e. ``max``).
    """

    order_preserving: ClassVar[bool] = True
    rows_sum_to_one: ClassVar[bool] = True
    beta: float = 1.0

    def _check(self):
        if not (self.beta > 0 and self.beta < float("inf")):
            self._fail("beta", "a finite number > 0", self.beta)

    def __call__(self, S):
        xp = namespace(S)
        W = _wide(S, xp, self.beta)
        shifted = W - xp.max(W, axis=-1, keepdims=True)
        return xp.astype(softmax(self.beta * shifted), S.dtype, copy=False)

    def lagrangian(self, S):
        return logsumexp(self.beta * S, axis=-1) / self.beta


def _wide(S, xp, beta: float):
    """``S`` in a dtype wide enough for ``beta · S``: float16 always becomes float32, and a
    β beyond the dtype's range (1e8 in float16, 1e39 in float32) float64; so β never
    overflows to inf and ``inf · 0`` never turns a weight into NaN."""
    info = xp.finfo(S.dtype)
    if info.bits >= 64 or (info.bits >= 32 and beta * 4 < float(info.max)):
        return S
    wide = xp.float32 if info.bits < 32 and beta * 4 < float(xp.finfo(xp.float32).max) else None
    return xp.astype(S, wide if wide is not None else xp.float64)


@register("max")
@dataclass(frozen=True, kw_only=True)
class Max(Separation):
    """One-hot at the best score (nearest neighbour); ties go to the lowest index."""

    one_hot: ClassVar[bool] = True
    rows_sum_to_one: ClassVar[bool] = True
    order_preserving: ClassVar[bool] = True

    def winners(self, S):
        xp = namespace(S)
        return xp.argmax(S, axis=-1)

    def __call__(self, S):
        xp = namespace(S)
        return one_hot(self.winners(S), S.shape[-1], S.dtype, xp)

    def lagrangian(self, S):
        xp = namespace(S)
        return xp.max(S, axis=-1)


@register("topk")
@dataclass(frozen=True, kw_only=True)
class TopK(Separation):
    """The ``k`` best memories (k-max of Chateau-Laurent & Alexandre 2024), renormalised.

    ``weighting="uniform"`` gives each of the k best weight 1/k (k = 1 is ``max``);
    ``weighting="score"`` keeps their scores and divides by their sum, the NEC read-out
    with a positive kernel (scores must then be positive). Ties at the k-th place go to the
    lower index, so exactly k memories are chosen.
    """

    rows_sum_to_one: ClassVar[bool] = True
    order_preserving: ClassVar[bool] = True
    k: int = 1
    weighting: Literal["uniform", "score"] = "uniform"

    def _check(self):
        if self.k < 1:
            self._fail("k", "an integer >= 1", self.k)

    def mask(self, S):
        xp = namespace(S)
        n = S.shape[-1]
        if self.k > n:
            raise ValidationError(
                f"'k' of separation 'topk' must be in 1..n_memories={n}; got {self.k}"
            )
        kth = xp.sort(S, axis=-1, descending=True)[..., self.k - 1 : self.k]
        above = S > kth
        at = S == kth
        room = self.k - xp.sum(xp.astype(above, xp.int64), axis=-1, keepdims=True)
        first_ties = xp.cumulative_sum(xp.astype(at, xp.int64), axis=-1) <= room
        return above | (at & first_ties)

    def __call__(self, S):
        xp = namespace(S)
        chosen = xp.astype(self.mask(S), S.dtype)
        if self.weighting == "uniform":
            return chosen / self.k
        if bool(xp.any(xp.where(chosen > 0, S, xp.ones_like(S)) <= 0)):
            raise ValidationError(
                "separation 'topk' with weighting='score' needs positive scores among the k "
                "best; use weighting='uniform' or a positive similarity"
            )
        W = chosen * S
        # divided by the row's largest chosen score first: the sum of k scores near the
        # dtype's largest value would overflow to inf and turn every weight into 0
        W = W / xp.max(W, axis=-1, keepdims=True)
        return W / xp.sum(W, axis=-1, keepdims=True)


@register("threshold")
@dataclass(frozen=True, kw_only=True)
class Threshold(Separation):
    """``W = 1 where S >= θ else 0``: SDM's read of every location within the Hamming radius.

    With ``hamming`` scores (minus the distance) a radius r is ``theta = -r``; with
    ``hamming(normalized=true)`` it is the fraction, ``theta = -r / D``.
    """

    theta: float = 0.0

    def _check(self):
        if self.theta in (float("inf"), float("-inf")):
            self._fail("theta", "finite", self.theta)

    def __call__(self, S):
        xp = namespace(S)
        return xp.astype(S >= self.theta, S.dtype)


@register("log")
@dataclass(frozen=True, kw_only=True)
class Log(Separation):
    """``W = log(S)``, the paper's "Log" separation; needs positive scores.

    Under the paper convention's sum-normalisation the scores lie in (0, 1), their logs are
    negative, and dividing by the (negative) sum gives the *least* similar memory the largest
    weight: the official code's inverted preference, kept and documented.

    ``strict=False`` is the official torch behaviour for the scores an exact match leaves
    after sum-normalisation (``x/inf = 0``, ``inf/inf = nan``): ``log(0) = -inf`` and
    ``log(nan) = nan`` propagate instead of raising (the paper experiments use it).
    """

    strict: bool = True

    def __call__(self, S):
        xp = namespace(S)
        if not self.strict:
            import numpy as np  # silences NumPy's warnings; other libraries do not warn

            with np.errstate(divide="ignore", invalid="ignore"):
                return xp.log(S)
        if bool(xp.any(S <= 0)):
            raise ValidationError(
                "separation 'log' needs positive scores; got a minimum of "
                f"{float(xp.min(S))} (use convention='paper' or a positive similarity)"
            )
        return xp.log(S)


@register("normalize")
@dataclass(frozen=True, kw_only=True)
class Normalize(Separation):
    """Divide each row by its sum; a row summing to 0 stays all zero (nothing was read).

    Sums are taken as they are: a row of negative scores is divided by a negative sum,
    which is what the official code does. Infinite entries follow IEEE arithmetic without
    warnings (``inf/inf = nan``, ``x/inf = 0``), reproducing the official code exactly.
    """

    def __call__(self, S):
        xp = namespace(S)
        total = xp.sum(S, axis=-1, keepdims=True)
        finite = xp.isfinite(total) & (total != 0)
        out = S / xp.where(finite, total, xp.ones_like(total))
        nan = xp.full_like(S, float("nan"))
        inf_total = xp.where(xp.isinf(S), nan, xp.zeros_like(S))
        out = xp.where(xp.isinf(total), inf_total, out)
        return xp.where(xp.isnan(total), nan, out)


@register("chain")
@dataclass(frozen=True, kw_only=True)
class Chain(Separation):
    """Stages applied in order (``a >> b`` builds one); in a spec file, a list of tables."""

    stages: tuple[Separation, ...] = ()

    def _check(self):
        stages = tuple(make(s) if not isinstance(s, Separation) else s for s in self.stages)
        if not stages:
            self._fail("stages", "a non-empty list of separations", self.stages)
        object.__setattr__(self, "stages", stages)

    def __call__(self, S):
        xp = namespace(S)
        stages, i = self.stages, 0
        while i < len(stages):
            stage = stages[i]
            nxt = stages[i + 1] if i + 1 < len(stages) else None
            if (
                isinstance(stage, Polynomial)
                and isinstance(nxt, Normalize)
                and bool(xp.all(xp.isfinite(S)))
            ):
                S = stage.normalized(S)  # scale-free: no overflow to inf/inf, no underflow to 0
                i += 2
                continue
            S = stage(S)
            i += 1
        return S

    @property
    def one_hot(self) -> bool:  # type: ignore[override]
        # one-hot stays one-hot through later sum-normalisations (its row sum is 1)
        for i, stage in enumerate(self.stages):
            if stage.one_hot and all(isinstance(s, Normalize) for s in self.stages[i + 1 :]):
                return True
        return False

    def winners(self, S):
        for i, stage in enumerate(self.stages):
            if stage.one_hot and all(isinstance(s, Normalize) for s in self.stages[i + 1 :]):
                return stage.winners(S)
            S = stage(S)
        raise ValidationError("this chain is not one-hot")

    def to_dict(self):
        return {"kind": "chain", "stages": [s.to_dict() for s in self.stages]}

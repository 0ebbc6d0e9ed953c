"""Single-shot retrieval ``Z = readout(sep(sim(M, Q)) · P)``, batched over queries.

Queries are processed in blocks whose score matrix fits the memory budget, each block as
one similarity call (a matrix product or a compiled kernel), one separation, and one
projection — a gather of rows of ``P`` when the separation is one-hot (``max``), a matrix
product otherwise. Everything stays in the input's array library and dtype.
"""

from __future__ import annotations

from typing import Any

from ._config import get_memory_budget
from ._validation import as_float_array, check_finite
from ._xp import Array, namespace
from .errors import ValidationError, ValidationTypeError
from .model import UHN, Convention
from .readout import IdentityReadout
from .separation import TopK
from .separation import _registry as _separations
from .similarity import _registry as _similarities
from .similarity import scores_in_range, validate_memories, validate_queries

__all__ = ["retrieve", "retrieve_with", "Prepared", "prepare"]


def retrieve(
    memories: Any,
    queries: Any,
    *,
    similarity: Any,
    separation: Any,
    projection: Any = None,
    convention: Convention = "standard",
    readout: Any = "identity",
    **params: Any,
) -> Array:
    """Retrieve from a Universal Hopfield Network in one shot.

    Parameters
    ----------
    memories : array, shape (n_memories, n_features)
        Stored patterns ``M``, one per row.
    queries : array, shape (n_queries, n_features) or (n_features,)
        Cues ``Q``; a single 1-D query gives a 1-D result.
    similarity, separation
        Registered name (``"manhattan"``), mapping (``{"kind": "softmax", "beta": 8}``) or
        component instance. A separation may be a list (a chain).
    projection : array, shape (n_memories, n_out), optional
        ``P`` for hetero-association; ``None`` means auto-association, ``P = M``.
    convention : {"standard", "paper"}
        ``"paper"`` reproduces the official code's pipeline (:mod:`neuro_uhn.paper`).
    readout
        ``"identity"`` or ``"sign"`` (classical Hopfield).
    **params
        Forwarded to whichever component accepts them: ``beta``, ``n``, ``k``, ``theta``,
        ``eps``, ...

    Returns
    -------
    Z : array, shape (n_queries, n_out) or (n_out,)
        Same array library, device and floating dtype as the inputs.
    """
    sim_params = {k: v for k, v in params.items() if k in _similarities.accepts(similarity)}
    sep_params = {k: v for k, v in params.items() if k in _accepts_sep(separation)}
    unused = sorted(set(params) - set(sim_params) - set(sep_params))
    if unused:
        raise ValidationTypeError(
            f"unknown parameter(s) {unused}: not accepted by similarity {_label(similarity)} "
            f"or separation {_label(separation)}"
        )
    from .separation import make as make_separation

    model = UHN(
        similarity=_similarities.make(similarity, **sim_params),
        separation=make_separation(separation, **sep_params),
        readout=readout,
        association="auto" if projection is None else "hetero",
    )
    return retrieve_with(model, memories, queries, projection, convention=convention)


def _accepts_sep(spec):
    return set() if isinstance(spec, list | tuple) else _separations.accepts(spec)


def _label(spec) -> str:
    if isinstance(spec, str):
        return repr(spec)
    if isinstance(spec, dict):
        return repr(spec.get("kind"))
    return type(spec).__name__


class Prepared:
    """A model bound to checked memories and projection, ready for many query batches.

    Holds the similarity's precomputation on ``M`` (norms, normalised rows, logs) so that
    iterative retrieval and repeated calls do not redo it.
    """

    def __init__(self, model: UHN, M: Array, P: Array, xp, convention: Convention):
        self.model = model.resolved(convention)
        self.M, self.P, self.xp = M, P, xp
        self.convention = convention
        self.model.similarity.check(M, M[:1, ...], xp)
        self.state = self.model.similarity.prepare(M, xp)
        self._m_max = float(xp.max(xp.abs(M)))
        self._rescaled: dict = {}
        sep = self.model.separation
        # separations that read only the order of the scores (see scores_in_range)
        self.order_only = (
            bool(sep.one_hot)
            or (isinstance(sep, TopK) and sep.weighting == "uniform")
            # the official pipeline sum-normalises the scores first: a positive factor on
            # them cancels, so rescaled scores give exactly its result
            or convention == "paper"
        )

    def scores(self, Q: Array) -> Array:
        """Scores of checked queries, in range (see :func:`similarity.scores_in_range`)."""
        return scores_in_range(
            self.model.similarity,
            self.M,
            self.state,
            Q,
            self.xp,
            order_only=self.order_only,
            m_max=self._m_max,
            cache=self._rescaled,
        )

    def __call__(self, Q: Array) -> Array:
        """``Z`` for checked 2-D queries ``Q``, in blocks that fit the memory budget."""
        xp, n = self.xp, self.M.shape[0]
        Q = xp.astype(Q, self.M.dtype, copy=False)
        self.model.similarity.check(self.M, Q, xp)
        itemsize = xp.finfo(Q.dtype).bits // 8
        # the score matrix and the separation's temporaries: budget for 4 of them
        block = max(1, get_memory_budget() // max(1, 4 * n * itemsize))
        B = Q.shape[0]
        parts = [self._block(Q[i : min(B, i + block), ...]) for i in range(0, B, block)]
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)

    def _block(self, Q: Array) -> Array:
        xp, model = self.xp, self.model
        S = self.scores(Q)
        if model.separation.one_hot:
            Z = xp.take(self.P, model.separation.winners(S), axis=0)
        else:
            Z = model.separation(S) @ self.P
        Z = Z if isinstance(model.readout, IdentityReadout) else model.readout(Z)
        if self.convention == "standard":
            check_result(Z, model, xp)
        return Z


def check_result(Z: Array, model: UHN, xp) -> None:
    """Finite inputs must give a finite result: anything else is an overflow, an error.

    (The paper convention reproduces the official code's NaNs on purpose and is not checked.)
    """
    if not bool(xp.all(xp.isfinite(Z))):
        raise ValidationError(
            f"the result of similarity {model.similarity.name!r} with separation "
            f"{model.separation.name!r} overflows {Z.dtype} (values beyond its range): use "
            "float64 inputs, rescale 'memories' and 'queries', or a separation whose weights "
            "sum to one (softmax, max, normalize)",
            argument="memories",
        )


def prepare(
    model: UHN,
    memories: Any,
    projection: Any = None,
    *,
    convention: Convention = "standard",
    dtype=None,
) -> Prepared:
    """Check ``memories`` and ``projection`` against ``model`` and precompute on them.

    ``dtype`` (optional) is a floating dtype to promote everything to (e.g. the queries').
    """
    from .model import as_model

    model = as_model(model)
    M, xp = validate_memories(memories)
    P = _projection(model, M, projection, xp)
    dtype = xp.result_type(M.dtype, P.dtype, *(() if dtype is None else (dtype,)))
    return Prepared(
        model, xp.astype(M, dtype, copy=False), xp.astype(P, dtype, copy=False), xp, convention
    )


def _projection(model: UHN, M: Array, projection: Any, xp) -> Array:
    if projection is None:
        if model.association == "hetero":
            raise ValidationError(
                f"model {(model.name + ' ') if model.name else ''}is hetero-associative: "
                "pass 'projection', "
                "shape (n_memories, n_out)",
                argument="projection",
            )
        return M
    P = as_float_array(projection, "projection")
    if namespace(P, M) is not xp:
        raise ValidationTypeError(
            "'projection' must come from the same array library as 'memories'"
        )
    if P.ndim != 2:
        raise ValidationError(
            f"'projection' must be 2-D, shape (n_memories, n_out); got shape {tuple(P.shape)}"
        )
    if P.shape[0] != M.shape[0]:
        raise ValidationError(
            f"'projection' has {P.shape[0]} rows but there are {M.shape[0]} memories; "
            "shape must be (n_memories, n_out)"
        )
    if P.shape[1] == 0:
        raise ValidationError("'projection' must have at least one output column")
    check_finite(P, "projection", xp)
    return P


def retrieve_with(
    model: UHN,
    memories: Any,
    queries: Any,
    projection: Any = None,
    *,
    convention: Convention = "standard",
) -> Array:
    """:func:`retrieve` for a ready ``UHN`` (or a bundled model name, or a spec file)."""
    from .model import as_model

    model = as_model(model)
    M, xp = validate_memories(memories)
    Q, single = validate_queries(queries, M, xp)
    prepared = prepare(model, M, projection, convention=convention, dtype=Q.dtype)
    Z = prepared(Q)
    return Z[0, ...] if single else Z

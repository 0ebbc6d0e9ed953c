"""A model bound to its memories: the batched computation ``Z = readout(sep(sim(M, Q)) · P)``.

Queries are processed in blocks whose score matrix fits the memory budget, each block as
one similarity call (a matrix product or a compiled kernel), one separation, and one
projection — a gather of rows of ``P`` when the separation is one-hot (``max``), a matrix
product otherwise. Everything stays in the input's array library and dtype.

This module needs only the model's components, so the spec (:mod:`neuro_uhn.model`) and the
front functions (:mod:`neuro_uhn.retrieval`) both build on it.
"""

from __future__ import annotations

from typing import Any

from ._config import get_memory_budget
from ._validation import as_float_array, check_finite
from ._xp import Array, namespace
from .errors import ValidationError, ValidationTypeError
from .readout import IdentityReadout
from .separation import TopK
from .similarity import scores_in_range, validate_memories, validate_queries

__all__ = ["Memory", "check_result"]


class Memory:
    """A model bound to its memories: ``z = readout(sep(sim(M, q)) · P)`` for many queries.

    The abstract side's counterpart of :class:`neuro_uhn.spiking.SpikingUHN`. On creation it
    checks ``memories`` and ``projection`` against ``model`` and precomputes what depends on
    the memories alone (norms, normalised rows, logs: the similarity's ``prepare``), so
    iterative retrieval and repeated batches do not redo it.

    Parameters
    ----------
    model : UHN
        The spec (:class:`neuro_uhn.Memory` also takes a bundled model name or a spec file).
    memories : array, shape (n_memories, n_features)
        Stored patterns ``M``.
    projection : array, shape (n_memories, n_out), optional, keyword-only
        ``P`` for hetero-association; ``None`` means ``P = M``.
    convention : {"standard", "paper"}, keyword-only
        ``"paper"`` computes the official code's pipeline (:mod:`neuro_uhn.paper`).
    dtype : floating dtype, optional, keyword-only
        Promote everything to it (e.g. the queries' dtype).

    Attributes
    ----------
    model : UHN
        The model as it computes under ``convention`` (:meth:`UHN.resolved`: the spec itself
        under ``"standard"``).
    convention : str
        As given.
    M, P : arrays
        The checked memories and projection, in one floating dtype.
    xp
        Their array namespace.
    state_
        The similarity's precomputation on ``M``.
    order_only : bool
        The separation reads only the order of the scores (so out-of-range scores may be
        rescaled, see :func:`similarity.scores_in_range`).

    Examples
    --------
    >>> import numpy as np, neuro_uhn as nu
    >>> memory = nu.Memory("uhn_best", np.eye(3))
    >>> memory.retrieve([0.9, 0.2, 0.0])
    array([1., 0., 0.])
    """

    def __init__(
        self,
        model: Any,
        memories: Any,
        *,
        projection: Any = None,
        convention: str = "standard",
        dtype=None,
    ):
        M, xp = validate_memories(memories)
        P = _projection(model, M, projection, xp)
        dtype = xp.result_type(M.dtype, P.dtype, *(() if dtype is None else (dtype,)))
        self.model, self.convention = model.resolved(convention), convention
        self.M, self.P = xp.astype(M, dtype, copy=False), xp.astype(P, dtype, copy=False)
        self.xp = xp
        self.model.similarity.check(self.M, self.M[:1, ...], xp)
        self.state_ = self.model.similarity.prepare(self.M, xp)
        self._m_max = float(xp.max(xp.abs(self.M)))
        self._rescaled: dict = {}
        sep = self.model.separation
        self.order_only = (
            bool(sep.one_hot)
            or (isinstance(sep, TopK) and sep.weighting == "uniform")
            # the official pipeline sum-normalises the scores first: a positive factor on
            # them cancels, so rescaled scores give exactly its result
            or convention == "paper"
        )

    def __repr__(self) -> str:
        n, d = self.M.shape
        return (
            f"Memory({self.model!r}, n_memories={n}, n_features={d}, "
            f"n_out={self.P.shape[1]}, convention={self.convention!r})"
        )

    def retrieve(self, queries: Any) -> Array:
        """``Z`` for ``queries``, shape (n_queries, n_out), or (n_out,) for one 1-D query."""
        Q, single = validate_queries(queries, self.M, self.xp)
        Z = self(Q)
        return Z[0, ...] if single else Z

    def scores(self, Q: Array) -> Array:
        """Scores of checked 2-D queries, in range (see :func:`similarity.scores_in_range`)."""
        return scores_in_range(
            self.model.similarity,
            self.M,
            self.state_,
            Q,
            self.xp,
            order_only=self.order_only,
            m_max=self._m_max,
            cache=self._rescaled,
        )

    def project(self, S: Array) -> Array:
        """``readout(sep(S) · P)`` for scores ``S`` (n_queries, n_memories) already computed:
        a gather of rows of ``P`` when the separation is one-hot, a matrix product otherwise."""
        xp, model = self.xp, self.model
        if model.separation.one_hot:
            Z = xp.take(self.P, model.separation.winners(S), axis=0)
        else:
            Z = model.separation(S) @ self.P
        return Z if isinstance(model.readout, IdentityReadout) else model.readout(Z)

    def __call__(self, Q: Array) -> Array:
        """``Z`` for checked 2-D queries ``Q``, in blocks that fit the memory budget.

        The one place where queries are chunked: each block is one similarity call, one
        separation and one projection.
        """
        xp, n = self.xp, self.M.shape[0]
        Q = xp.astype(Q, self.M.dtype, copy=False)
        self.model.similarity.check(self.M, Q, xp)
        itemsize = xp.finfo(Q.dtype).bits // 8
        # the score matrix and the separation's temporaries: budget for 4 of them
        block = max(1, get_memory_budget() // max(1, 4 * n * itemsize))
        B = Q.shape[0]
        parts = []
        for i in range(0, B, block):
            Z = self.project(self.scores(Q[i : min(B, i + block), ...]))
            if self.convention == "standard":
                check_result(Z, self.model, xp)
            parts.append(Z)
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def check_result(Z: Array, model, xp) -> None:
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


def _projection(model, M: Array, projection: Any, xp) -> Array:
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

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

__all__ = ["retrieve", "retrieve_with", "Memory", "prepare"]


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
    return retrieve_with(model, memories, queries, projection=projection, convention=convention)


def _accepts_sep(spec):
    return set() if isinstance(spec, list | tuple) else _separations.accepts(spec)


def _label(spec) -> str:
    if isinstance(spec, str):
        return repr(spec)
    if isinstance(spec, dict):
        return repr(spec.get("kind"))
    return type(spec).__name__


class Memory:
    """A model bound to its memories: ``z = readout(sep(sim(M, q)) · P)`` for many queries.

    The abstract side's counterpart of :class:`neuro_uhn.spiking.SpikingUHN`. On creation it
    checks ``memories`` and ``projection`` against ``model`` and precomputes what depends on
    the memories alone (norms, normalised rows, logs: the similarity's ``prepare``), so
    iterative retrieval and repeated batches do not redo it.

    Parameters
    ----------
    model : UHN or str or path
        The spec, a bundled model name (``"mchn"``) or a ``.toml`` spec file.
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
        convention: Convention = "standard",
        dtype=None,
    ):
        from .model import as_model

        model = as_model(model)
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
) -> Memory:
    """:class:`Memory` (kept for the spiking network, which calls it by this name)."""
    return Memory(model, memories, projection=projection, convention=convention, dtype=dtype)


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
    *,
    projection: Any = None,
    convention: Convention = "standard",
) -> Array:
    """:func:`retrieve` for a ready ``UHN`` (or a bundled model name, or a spec file)."""
    from .model import as_model

    model = as_model(model)
    M, xp = validate_memories(memories)
    Q, single = validate_queries(queries, M, xp)
    Z = Memory(model, M, projection=projection, convention=convention, dtype=Q.dtype)(Q)
    return Z[0, ...] if single else Z

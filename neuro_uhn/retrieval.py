"""Single-shot retrieval ``Z = readout(sep(sim(M, Q)) · P)``, batched over queries.

Queries are processed in blocks whose score matrix fits the memory budget, each block as
one similarity call (a matrix product or a compiled kernel), one separation, and one
projection — a gather of rows of ``P`` when the separation is one-hot (``max``), a matrix
product otherwise. Everything stays in the input's array library and dtype.
"""

from __future__ import annotations

from typing import Any

from . import memory as _memory
from ._xp import Array
from .errors import ValidationTypeError
from .model import UHN, Convention, as_model
from .separation import _registry as _separations
from .similarity import _registry as _similarities
from .similarity import validate_memories, validate_queries

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


class Memory(_memory.Memory):
    """A model bound to its memories (:class:`neuro_uhn.memory.Memory`), where ``model`` may
    also be a bundled model's name (``"mchn"``) or a ``.toml`` spec file.

    >>> import numpy as np, neuro_uhn as nu
    >>> memory = nu.Memory("uhn_best", np.eye(3))
    >>> memory.retrieve([0.9, 0.2, 0.0])
    array([1., 0., 0.])
    """

    def __init__(self, model: Any, memories: Any, *, projection: Any = None,
                 convention: Convention = "standard", dtype=None):  # fmt: skip
        super().__init__(as_model(model), memories, projection=projection,
                         convention=convention, dtype=dtype)  # fmt: skip


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


def retrieve_with(
    model: UHN,
    memories: Any,
    queries: Any,
    *,
    projection: Any = None,
    convention: Convention = "standard",
) -> Array:
    """:func:`retrieve` for a ready ``UHN`` (or a bundled model name, or a spec file)."""
    model = as_model(model)
    M, xp = validate_memories(memories)
    Q, single = validate_queries(queries, M, xp)
    Z = Memory(model, M, projection=projection, convention=convention, dtype=Q.dtype)(Q)
    return Z[0, ...] if single else Z

"""Beyond single-shot: iterative retrieval to a fixed point, and energies where they exist.

Iteration feeds the output back as the next query, ``x ← readout(sep(sim(M, x)) · M)``
(auto-association), until no query changes by more than ``tol`` or ``max_iter`` is reached.

Energies (Krotov & Hopfield 2016, 2021; Ramsauer et al. 2021):

* classical Hopfield network (dot, identity, sign readout): ``E(x) = -½ ‖M x‖²``, which
  never increases under *asynchronous* sign updates (``update="asynchronous"``);
* dot similarity with a separation that has a convex Lagrangian ``L`` (identity,
  polynomial, softmax, max), identity readout: ``E(x) = ½‖x‖² − L(M x)``. The update
  ``x ← Mᵀ sep(M x) = ∇_x L(M x)`` is then the concave–convex procedure, so ``E`` never
  increases. ``L`` is ``β⁻¹ logsumexp(β s)`` for softmax (MCHN), ``Σ relu(s)^{n+1}/(n+1)``
  for the rectified polynomial (DAM), ``max(s)`` for max, ``½‖s‖²`` for identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ._xp import Array, device_of
from .errors import ValidationError
from .model import UHN, Convention
from .model import as_model as _as_model
from .readout import IdentityReadout, Sign
from .retrieval import prepare
from .separation import Identity
from .similarity import Dot, validate_queries

__all__ = ["IterationResult", "iterate", "energy", "has_energy"]


@dataclass(frozen=True)
class IterationResult:
    """Outcome of :func:`iterate`.

    Attributes
    ----------
    states : array, shape (n_queries, n_features)
        The last state of each query.
    n_iter : array of int, shape (n_queries,)
        Updates until each query stopped changing (``max_iter`` if it never did).
    converged : array of bool, shape (n_queries,)
        Whether each query reached a fixed point (change <= ``tol``).
    energies : array, shape (n_steps + 1, n_queries) or None
        Energy after every step (row 0: the queries), when the model has one.
    """

    states: Array
    n_iter: Array
    converged: Array
    energies: Array | None

    @property
    def all_converged(self) -> bool:
        from ._xp import namespace

        return bool(namespace(self.converged).all(self.converged))


def iterate(
    model: UHN,
    memories: Any,
    queries: Any,
    *,
    convention: Convention = "standard",
    max_iter: int = 100,
    tol: float = 0.0,
    update: Literal["synchronous", "asynchronous"] = "synchronous",
    seed: int | None = 0,
) -> IterationResult:
    """Iterate auto-associative retrieval from ``queries`` until a fixed point.

    ``update="asynchronous"`` (classical Hopfield networks only) updates one feature at a
    time in a seeded random order per sweep; each sweep counts as one iteration.
    """
    from ._validation import check_int, check_real, check_seed

    model = _as_model(model)
    max_iter = check_int(max_iter, "max_iter", 1)
    tol = check_real(tol, "tol", 0)
    seed = check_seed(seed)
    from ._validation import check_choice

    check_choice(update, "update", ("synchronous", "asynchronous"))
    if model.association != "auto":
        raise ValidationError(
            "iterate needs an auto-associative model (the output is the next query)"
        )
    prepared = prepare(model, memories, convention=convention)
    xp = prepared.xp
    x, single = validate_queries(queries, prepared.M, xp)
    x = xp.astype(x, prepared.M.dtype, copy=False)
    if update == "asynchronous" and not _is_classical_hn(prepared.model):
        raise ValidationError(
            "update='asynchronous' is implemented for the classical Hopfield network "
            "(dot similarity, identity separation, sign readout)"
        )
    with_energy = has_energy(model, convention)
    energies = [energy(model, prepared.M, x)] if with_energy else []
    n = x.shape[0]
    n_iter = xp.full((n,), max_iter, dtype=xp.int64)
    done = xp.zeros((n,), dtype=xp.bool)
    import numpy as np

    rng = np.random.default_rng(seed)
    for step in range(1, max_iter + 1):
        new = _async_sweep(prepared.M, x, rng, xp) if update == "asynchronous" else prepared(x)
        change = xp.max(xp.abs(new - x), axis=-1)
        still = ~done
        # queries already at their fixed point keep their state and their count
        x = xp.where(xp.expand_dims(still, axis=-1), new, x)
        now_done = still & (change <= tol)
        n_iter = xp.where(now_done, xp.full_like(n_iter, step), n_iter)
        done = done | now_done
        if with_energy:
            energies.append(energy(model, prepared.M, x))
        if bool(xp.all(done)):
            break
    E = xp.stack(energies, axis=0) if with_energy else None
    if single:
        x, n_iter, done = x[0, ...], n_iter[0, ...], done[0, ...]
        E = E[:, 0] if E is not None else None
    return IterationResult(states=x, n_iter=n_iter, converged=done, energies=E)


def _is_classical_hn(model: UHN) -> bool:
    return (
        type(model.similarity) is Dot
        and type(model.separation) is Identity
        and isinstance(model.readout, Sign)
    )


def _async_sweep(M, x, rng, xp):
    """One sweep of asynchronous sign updates ``x_i ← sign((MᵀM x)_i)`` in a random order."""
    W = M.T @ M
    h = x @ W  # local fields, kept current as units flip
    for i in rng.permutation(x.shape[1]).tolist():
        hi = h[:, i]
        new_i = xp.where(hi >= 0, xp.ones_like(hi), -xp.ones_like(hi))
        delta = new_i - x[:, i]
        if bool(xp.any(delta != 0)):
            h = h + xp.expand_dims(delta, axis=-1) * xp.expand_dims(W[i, :], axis=0)
            onehot = xp.astype(xp.arange(x.shape[1], device=device_of(x)) == i, x.dtype)
            x = x + xp.expand_dims(delta, axis=-1) * xp.expand_dims(onehot, axis=0)
    return x


def has_energy(model: UHN, convention: Convention = "standard") -> bool:
    """Whether :func:`energy` is defined for ``model`` (see the module docstring)."""
    model = _as_model(model)
    if convention != "standard" or model.association != "auto":
        return False
    if type(model.similarity) is not Dot:
        return False
    if _is_classical_hn(model):
        return True
    if not isinstance(model.readout, IdentityReadout):
        return False
    try:
        import numpy as np

        model.separation.lagrangian(np.zeros((1, 1)))
    except NotImplementedError:
        return False
    return True


def energy(model: UHN, memories: Any, states: Any) -> Array:
    """The energy of each state (one value per row of ``states``); see the module docstring."""
    model = _as_model(model)
    if not has_energy(model):
        raise ValidationError(
            "energy is defined for auto-associative dot-similarity models whose separation "
            "has a Lagrangian (identity, polynomial, softmax, max) with identity readout, and "
            f"for the classical Hopfield network; got {model.similarity.name}/"
            f"{model.separation.name}/{model.readout.name}"
        )
    prepared = prepare(model, memories)
    xp, M = prepared.xp, prepared.M
    x, single = validate_queries(states, M, xp)
    x = xp.astype(x, M.dtype, copy=False)
    h = x @ M.T
    if _is_classical_hn(model):
        E = -0.5 * xp.sum(h * h, axis=-1)
    else:
        E = 0.5 * xp.sum(x * x, axis=-1) - model.separation.lagrangian(h)
    if not bool(xp.all(xp.isfinite(E))):
        raise ValidationError(
            f"the energy overflows {E.dtype} for these 'memories' and 'states' (values beyond "
            "its range): rescale them or use float64",
            argument="states",
        )
    return E[0] if single else E

"""Iterative retrieval and energies: iteration never increases the energy."""

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn import UHN

from .helpers import to_np, to_xp


def test_hopfield_asynchronous_updates_never_increase_energy(rng):
    M = rng.choice([-1.0, 1.0], size=(8, 60))
    Q = rng.choice([-1.0, 1.0], size=(10, 60))
    res = nu.iterate(nu.load_model("hopfield"), M, Q, update="asynchronous", max_iter=50, seed=1)
    assert np.all(np.diff(res.energies, axis=0) <= 1e-9)
    assert res.all_converged
    # a converged state is a fixed point of the single-shot update
    np.testing.assert_array_equal(nu.load_model("hopfield").retrieve(M, res.states), res.states)


@pytest.mark.parametrize(
    "sep",
    [
        {"kind": "softmax", "beta": 0.5},
        {"kind": "softmax", "beta": 20.0},
        {"kind": "polynomial", "n": 3.0},
        {"kind": "polynomial", "n": 0.5},
        "max",
        "identity",
    ],
    ids=str,
)
def test_cccp_iteration_never_increases_energy(sep, rng):
    """E(x) = ½‖x‖² − L(Mx) under x ← Mᵀ sep(Mx): MCHN, DAM (Krotov–Hopfield form), max."""
    M = rng.standard_normal((12, 20))
    M /= np.linalg.norm(M, axis=1, keepdims=True) * (1.2 if sep == "identity" else 1.0)
    # cues along the memories, overlaps below 1: a cubic separation diverges (to an energy of
    # -inf, which overflows) from overlaps above 1, its unstable fixed point
    Q = 0.7 * (M[rng.integers(0, 12, 15)] + 0.05 * rng.standard_normal((15, 20)))
    model = UHN(similarity="dot", separation=sep)
    res = nu.iterate(model, M, Q, max_iter=40, tol=1e-12)
    E = res.energies
    assert np.all(np.isfinite(E))
    assert np.all(np.diff(E, axis=0) <= 1e-10 * (1 + np.abs(E[:-1])))


def test_energy_matches_the_closed_forms(rng):
    M, x = rng.standard_normal((5, 7)), rng.standard_normal((3, 7))
    beta = 2.0
    mchn = UHN(similarity="dot", separation={"kind": "softmax", "beta": beta})
    lse = np.log(np.exp(beta * x @ M.T).sum(axis=1)) / beta
    np.testing.assert_allclose(nu.energy(mchn, M, x), 0.5 * (x * x).sum(1) - lse)
    hn = nu.load_model("hopfield")
    np.testing.assert_allclose(nu.energy(hn, M, x), -0.5 * ((x @ M.T) ** 2).sum(1))


def test_iterate_reports_convergence_per_query(rng):
    M = rng.random((6, 10))
    Q = np.vstack([M[:3], rng.random((2, 10))])
    res = nu.iterate(nu.load_model("uhn_best"), M, Q, max_iter=5)
    assert res.converged.tolist() == [True] * 5
    # stored patterns are fixed points at once; a new cue jumps to a memory, then stays
    assert res.n_iter.tolist()[:3] == [1, 1, 1] and res.n_iter.tolist()[3:] == [2, 2]
    res = nu.iterate(UHN(similarity="dot", separation="identity"), M, Q, max_iter=3)
    assert not res.converged.any() and res.n_iter.tolist() == [3] * 5


def test_iterate_single_query_and_namespaces(xp, rng):
    M = rng.choice([-1.0, 1.0], size=(4, 32))
    q = M[1] * np.where(rng.random(32) < 0.15, -1, 1)
    res = nu.iterate(nu.load_model("mchn"), to_xp(xp, M), to_xp(xp, q))
    assert res.states.shape == (32,)
    np.testing.assert_allclose(to_np(res.states), M[1], atol=1e-6)


def test_energy_and_iterate_refuse_what_they_cannot_do(rng):
    M = rng.random((4, 6))
    with pytest.raises(ValueError, match="energy is defined for"):
        nu.energy(nu.load_model("uhn_best"), M, M)
    with pytest.raises(ValueError, match="needs an auto-associative model"):
        nu.iterate(nu.load_model("attention"), M, M)
    with pytest.raises(ValueError, match="asynchronous' is implemented for the classical"):
        nu.iterate(nu.load_model("mchn"), M, M, update="asynchronous")
    with pytest.raises(ValueError, match="'max_iter' must be an integer >= 1"):
        nu.iterate(nu.load_model("mchn"), M, M, max_iter=0)
    assert nu.iterate(nu.load_model("uhn_best"), M, M).energies is None

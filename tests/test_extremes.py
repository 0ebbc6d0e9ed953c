"""Numerical extremes: β over 16 orders of magnitude, scores 1e-12 apart and exact ties,
large N and D within the memory budget, float32 against float64. No overflow, no NaN, and
the documented behaviour at ties (the lowest index wins)."""

from __future__ import annotations

import numpy as np
import pytest

import neuro_uhn as nu

from . import reference as ref


@pytest.mark.parametrize("beta", [1e-8, 1e-4, 1.0, 1e4, 1e8])
@pytest.mark.parametrize("similarity", ["dot", "manhattan", "euclidean"])
def test_softmax_over_sixteen_orders_of_magnitude(rng, beta, similarity):
    M = rng.random((50, 30))
    Q = np.clip(M[:10] + 0.1 * rng.standard_normal((10, 30)), 0, 1)
    # no overflow, division by zero or invalid operation (exp underflowing to 0 is fine)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        Z = nu.retrieve(M, Q, similarity=similarity, separation="softmax", beta=beta)
    assert np.all(np.isfinite(Z))
    S = ref.pairwise(M, Q, getattr(ref, similarity))
    expected = ref.retrieve_loop(M, Q, getattr(ref, similarity), ref.sep_softmax(beta))
    np.testing.assert_allclose(Z, expected, rtol=1e-9, atol=1e-12)
    if beta == 1e8:  # the max separation's answer (scores here are far apart at this β)
        np.testing.assert_allclose(Z, M[np.argmax(S, axis=1)], atol=1e-9)
    if beta == 1e-8:  # the mean of the memories
        np.testing.assert_allclose(Z, np.broadcast_to(M.mean(0), Z.shape), atol=1e-5)


def test_scores_1e12_apart_are_resolved_and_exact_ties_go_to_the_lowest_index():
    base = np.zeros((4, 8))
    M = base.copy()
    M[1, 0] = 1e-12  # memory 1 is 1e-12 closer to the query under Manhattan
    q = np.zeros(8)
    q[0] = 1.0
    for sep in ("max", {"kind": "topk", "k": 1}):
        z = nu.retrieve(M, q, similarity="manhattan", separation=sep)
        np.testing.assert_array_equal(z, M[1])
    # exact ties: every memory equal → the first one, for max and for top-k
    z = nu.retrieve(base, q, similarity="manhattan", separation="max")
    np.testing.assert_array_equal(z, base[0])
    T = np.eye(4)[[2, 2, 0, 1]]  # memories 0 and 1 identical
    w = nu.retrieve(T, T[0], similarity="dot", separation={"kind": "topk", "k": 1})
    np.testing.assert_array_equal(w, T[0])
    # softmax splits an exact tie evenly, even at β = 1e8 (no arbitrary winner)
    w = nu.retrieve(T, np.eye(4), similarity="dot", separation="softmax", beta=1e8)
    np.testing.assert_allclose(w[2], T[0], atol=1e-12)  # memories 0 and 1 share the weight
    z = nu.retrieve(np.eye(3)[[0, 0, 1]], np.array([1.0, 0, 0]), similarity="dot",
                    separation="softmax", beta=1e8, projection=np.eye(3))  # fmt: skip
    np.testing.assert_allclose(z, [0.5, 0.5, 0.0], atol=1e-12)


def test_a_hundred_thousand_memories_within_the_budget(rng):
    M = rng.random((100_000, 32))
    Q = M[[3, 50_000, 99_999]] + 1e-3
    with nu.memory_budget(8 * 2**20):  # 8 MiB: forces many query/memory blocks
        for sim in ("manhattan", "euclidean", "dot"):
            Z = nu.retrieve(M, Q, similarity=sim, separation="max")
            assert Z.shape == (3, 32) and np.all(np.isfinite(Z))
            if sim != "dot":
                np.testing.assert_array_equal(Z, M[[3, 50_000, 99_999]])


def test_tiny_imagenet_sized_rows(rng):
    D = 64 * 64 * 3
    M = rng.random((300, D))
    Q = np.clip(M[:5] + 0.2 * rng.standard_normal((5, D)), 0, 1)
    with nu.memory_budget(16 * 2**20):
        for sim in ("manhattan", "euclidean", "kl", "js"):
            Z = nu.retrieve(M, Q, similarity=sim, separation="max")
            np.testing.assert_array_equal(Z, M[:5])


@pytest.mark.parametrize("similarity", ["dot", "cosine", "euclidean", "manhattan", "kl", "js"])
@pytest.mark.parametrize("separation", ["max", "softmax", "identity"])
def test_float32_agrees_with_float64(rng, similarity, separation):
    M = rng.random((200, 64))
    Q = np.clip(M[:40] + 0.05 * rng.standard_normal((40, 64)), 0, 1)
    beta = {"beta": 5.0} if separation == "softmax" else {}
    z64 = nu.retrieve(M, Q, similarity=similarity, separation=separation, **beta)
    z32 = nu.retrieve(
        M.astype(np.float32), Q.astype(np.float32), similarity=similarity,
        separation=separation, **beta,
    )  # fmt: skip
    assert z32.dtype == np.float32 and np.all(np.isfinite(z32))
    if separation == "max":
        # the same memory wherever float64's best score beats the runner-up by more than
        # float32 can resolve
        S = ref.pairwise(M, Q, getattr(ref, similarity))
        top2 = np.sort(S, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 1e-4 * np.abs(top2[:, 1]).clip(1)
        np.testing.assert_array_equal(z32[clear], z64[clear].astype(np.float32))
    else:
        np.testing.assert_allclose(z32, z64, rtol=2e-3, atol=2e-4)

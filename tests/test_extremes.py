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


# --- scale × dtype × similarity: the right memory, or a clear error, never a quiet wrong one

SCALES = {
    "float64": [2.0**-1000, 1e-300, 1e-200, 1e-150, 1e-30, 1.0, 1e30, 1e150, 1e160, 1e300],
    "float32": [1e-30, 1e-18, 1e-10, 1.0, 1e10, 1e18, 1e30],
    "float16": [2.0**-10, 1.0, 16.0, 1000.0],
}
CASES_SCALE = [(dt, s) for dt, scales in SCALES.items() for s in scales]
SCALE_SIMS = ["dot", "cosine", "euclidean", "manhattan", "kl", "reverse_kl", "js"]


@pytest.mark.parametrize("dtype, scale", CASES_SCALE, ids=[f"{d}-{s:g}" for d, s in CASES_SCALE])
def test_every_scale_retrieves_the_memory_the_exact_scores_pick(rng, dtype, scale):
    M0 = rng.random((12, 20))
    Q0 = np.clip(M0[:6] + 0.05 * rng.standard_normal((6, 20)), 0, 1)
    M, Q = (M0 * scale).astype(dtype), (Q0 * scale).astype(dtype)
    for sim in SCALE_SIMS:
        # the reference ranks the same (rounded) values, brought back to scale 1 in float64
        S = ref.pairwise(M.astype(np.float64) / scale, Q.astype(np.float64) / scale,
                         getattr(ref, sim))  # fmt: skip
        top2 = np.sort(S, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 1e-2 * np.abs(top2[:, 1]).clip(1e-3)
        with np.errstate(all="raise", under="ignore"):  # no overflow, no NaN
            Z = nu.retrieve(M, Q, similarity=sim, separation="max")
        assert Z.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(Z[clear], M[np.argmax(S, axis=1)][clear], err_msg=sim)
        try:
            with np.errstate(all="ignore"):
                W = nu.retrieve(M, Q, similarity=sim, separation="softmax", beta=1.0)
        except nu.ValidationError as err:  # only where the true scores are not representable
            assert sim == "dot" and "exceed" in str(err)
            assert 2 * np.log10(scale) + np.log10(20) > np.log10(float(np.finfo(dtype).max)) - 1
        else:
            assert np.all(np.isfinite(W)), sim


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("beta", [1.0, 1e4, 1e8, 1e39, 1e300])
def test_softmax_never_overflows_to_nan_in_narrow_dtypes(rng, dtype, beta):
    M = rng.random((10, 16))
    Q = np.clip(M[:4] + 0.05 * rng.standard_normal((4, 16)), 0, 1)
    Md, Qd = M.astype(dtype), Q.astype(dtype)
    with np.errstate(all="raise", under="ignore"):
        Z = nu.retrieve(Md, Qd, similarity="euclidean", separation="softmax", beta=beta)
    assert Z.dtype == np.dtype(dtype) and np.all(np.isfinite(Z))
    # against the float64 reference on the same (rounded) values
    expected = ref.retrieve_loop(Md.astype(float), Qd.astype(float), ref.euclidean,
                                 ref.sep_softmax(beta))  # fmt: skip
    tol = 2e-2 if dtype == "float16" else 2e-3
    np.testing.assert_allclose(Z.astype(float), expected, atol=tol)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("n", [2.0, 10.0, 40.0])
def test_polynomial_is_exact_or_a_clear_overflow_error(rng, dtype, n):
    M = rng.random((10, 64))
    Q = np.clip(M[:4] + 0.05 * rng.standard_normal((4, 64)), 0, 1)
    Md, Qd = M.astype(dtype), Q.astype(dtype)
    sep = {"kind": "polynomial", "n": n}
    S = ref.pairwise(Md.astype(float), Qd.astype(float), ref.dot)
    true = (np.clip(S, 0, None) ** n) @ Md.astype(float)
    try:
        with np.errstate(all="ignore"):
            Z = nu.retrieve(Md, Qd, similarity="dot", separation=sep)
    except nu.ValidationError as err:
        assert "overflows" in str(err)
        assert np.max(np.abs(true)) > np.finfo(dtype).max / 2  # only when it truly does
    else:
        assert np.all(np.isfinite(Z))
        np.testing.assert_allclose(Z.astype(float), true, rtol=2e-2 if dtype != "float64" else 1e-9)
    # followed by a normalisation the answer is scale-free and always representable
    with np.errstate(all="raise", under="ignore"):
        W = nu.retrieve(Md, Qd, similarity="dot", separation=[sep, "normalize"])
    w = np.clip(S, 0, None) / np.clip(S, 0, None).max(axis=1, keepdims=True)
    w = w**n / (w**n).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(W.astype(float), w @ Md.astype(float),
                               rtol=3e-2 if dtype != "float64" else 1e-9, atol=1e-3)  # fmt: skip


@pytest.mark.parametrize("similarity", ["manhattan", "js"])
def test_float16_runs_without_the_compiled_kernels_refusing_it(rng, similarity):
    M = rng.random((8, 16))
    Z = nu.retrieve(M.astype(np.float16), M.astype(np.float16), similarity=similarity,
                    separation="max")  # fmt: skip
    assert Z.dtype == np.float16
    np.testing.assert_array_equal(Z, M.astype(np.float16))


@pytest.mark.parametrize("scale", [5e-324, 1e-320, 1e-310, 2.2250738585072014e-308, 1e-300])
def test_kl_forms_near_the_smallest_doubles(scale):
    P = np.array([[3.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    for sim in ("kl", "reverse_kl", "js", "cosine"):
        with np.errstate(all="raise", under="ignore"):
            Z = nu.retrieve(P * scale, P * scale, similarity=sim, separation="max")
        np.testing.assert_array_equal(Z, P * scale, err_msg=sim)


@pytest.mark.parametrize("scale", [1e-310, 1e-300, 1e-200, 1e200, 1e300])
@pytest.mark.parametrize("similarity", ["dot", "cosine", "euclidean", "manhattan", "kl", "js"])
def test_the_paper_pipeline_is_scale_free_at_the_extremes(rng, scale, similarity):
    """The official pipeline sum-normalises the scores, so scaling both inputs changes
    nothing; at 1e±300 its reciprocal distances used to overflow and pick memory 0."""
    M = rng.random((12, 20))
    Q = np.clip(M[:6] + 0.05 * rng.standard_normal((6, 20)), 0, 1)
    for sep in ("max", "softmax"):
        at_one = nu.retrieve(M, Q, similarity=similarity, separation=sep, convention="paper")
        with np.errstate(all="ignore"):
            scaled = nu.retrieve(M * scale, Q * scale, similarity=similarity, separation=sep,
                                 convention="paper")  # fmt: skip
        np.testing.assert_allclose(scaled / scale, at_one, rtol=1e-6, err_msg=sep)

"""Retrieval against per-query loops and the classical identities of the UHN framework."""

import numpy as np
import pytest

import neuro_uhn as nu

from . import reference as ref
from .helpers import to_np, to_xp

SEPARATIONS = [
    ("softmax", {"beta": 2.0}, ref.sep_softmax(2.0)),
    ("max", {}, ref.sep_max),
    ("topk", {"k": 3}, ref.sep_topk(3)),
    ("identity", {}, lambda s: s),
]


@pytest.mark.parametrize("sim", ["dot", "euclidean", "manhattan", "cosine"])
@pytest.mark.parametrize(("sep", "params", "sep_ref"), SEPARATIONS, ids=lambda c: str(c)[:12])
def test_batched_retrieval_equals_the_per_query_loop(sim, sep, params, sep_ref, rng):
    M, Q, P = rng.random((9, 6)), rng.random((4, 6)), rng.random((9, 3))
    for proj in (None, P):
        got = nu.retrieve(M, Q, similarity=sim, separation=sep, projection=proj, **params)
        want = ref.retrieve_loop(M, Q, ref.STANDARD[sim], sep_ref, proj)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_mchn_equals_softmax_attention(rng):
    K, V, q = rng.standard_normal((20, 64)), rng.standard_normal((20, 5)), rng.standard_normal(64)
    beta = 1 / np.sqrt(64)  # attention.toml's beta, for keys of size 64
    logits = beta * (K @ q)
    attn = np.exp(logits - logits.max())
    attn /= attn.sum()
    got = nu.load_model("attention").retrieve(K, q, projection=V)
    np.testing.assert_allclose(got, attn @ V, rtol=1e-12)


def test_softmax_with_huge_beta_equals_max(rng):
    M, Q = rng.random((30, 10)), rng.random((12, 10))
    hard = nu.retrieve(M, Q, similarity="euclidean", separation="max")
    soft = nu.retrieve(M, Q, similarity="euclidean", separation="softmax", beta=1e8)
    np.testing.assert_allclose(soft, hard, atol=1e-12)


def test_hopfield_equals_sign_of_hebbian_weights(rng):
    M = rng.choice([-1.0, 1.0], size=(5, 40))
    Q = rng.choice([-1.0, 1.0], size=(7, 40))
    want = np.where(Q @ (M.T @ M) >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(nu.load_model("hopfield").retrieve(M, Q), want)


def test_sdm_equals_brute_force_hamming_ball_read(rng):
    D, n_loc = 64, 300
    A = rng.integers(0, 2, (n_loc, D)).astype(float)  # hard-location addresses
    data = rng.choice([-1.0, 1.0], size=(6, D))
    radius = int(0.45 * D)
    C = np.zeros((n_loc, D))  # write: add the pattern to every location within the radius
    for x in data:
        xb = (x > 0).astype(float)
        for i in range(n_loc):
            if np.sum(A[i] != xb) <= radius:
                C[i] += x
    queries = (data > 0).astype(float)
    queries[:, :5] = 1 - queries[:, :5]  # flip 5 bits
    want = np.zeros((len(queries), D))
    for b, qb in enumerate(queries):
        total = np.zeros(D)
        for i in range(n_loc):
            if np.sum(A[i] != qb) <= radius:
                total += C[i]
        want[b] = np.where(total >= 0, 1.0, -1.0)
    model = nu.load_model("sdm")
    got = nu.UHN(
        similarity=model.similarity,
        separation={"kind": "threshold", "theta": -radius / D},
        readout="sign",
        association="hetero",
    ).retrieve(A, queries, projection=C)
    np.testing.assert_array_equal(got, want)
    assert np.mean(got == data) > 0.95  # and it does recall the data


def test_auto_equals_hetero_with_p_equal_m(rng):
    M, Q = rng.random((15, 7)), rng.random((6, 7))
    for sep in ("softmax", "max", "identity"):
        auto = nu.retrieve(M, Q, similarity="manhattan", separation=sep)
        hetero = nu.retrieve(M, Q, similarity="manhattan", separation=sep, projection=M.copy())
        np.testing.assert_array_equal(auto, hetero)


def test_single_query_returns_one_dimensional(rng):
    M = rng.random((5, 4))
    z = nu.retrieve(M, M[2], similarity="manhattan", separation="max")
    assert z.shape == (4,)
    np.testing.assert_array_equal(z, M[2])


def test_query_blocks_give_the_same_answer_under_a_tiny_budget(rng):
    M, Q = rng.random((50, 8)), rng.random((300, 8))
    full = nu.retrieve(M, Q, similarity="euclidean", separation="softmax", beta=5.0)
    with nu.memory_budget(4096):
        blocked = nu.retrieve(M, Q, similarity="euclidean", separation="softmax", beta=5.0)
    np.testing.assert_allclose(blocked, full, rtol=1e-12)


def test_max_gathers_rows_exactly(rng):
    M, Q = rng.random((40, 12)).astype(np.float32), rng.random((10, 12)).astype(np.float32)
    Z = nu.retrieve(M, Q, similarity="manhattan", separation="max")
    assert Z.dtype == np.float32
    assert all(any(np.array_equal(z, m) for m in M) for z in Z)


def test_params_are_routed_to_the_component_that_takes_them(rng):
    M = rng.random((6, 5))
    z = nu.retrieve(M, M, similarity="kl", separation="softmax", beta=4.0, eps=1e-9)
    want = nu.retrieve(
        M, M, similarity={"kind": "kl", "eps": 1e-9}, separation=nu.separation.Softmax(beta=4.0)
    )
    np.testing.assert_array_equal(z, want)


@pytest.mark.parametrize("name", ["uhn_best", "mchn", "hopfield", "dam"])
def test_models_run_on_every_array_namespace(name, xp, rng):
    M = rng.choice([-1.0, 1.0], size=(6, 16))
    Q = M * np.where(rng.random(M.shape) < 0.1, -1, 1)
    model = nu.load_model(name)
    want = model.retrieve(M, Q)
    for dtype in (np.float64, np.float32):
        got = model.retrieve(to_xp(xp, M.astype(dtype)), to_xp(xp, Q.astype(dtype)))
        assert type(got) is type(to_xp(xp, M))
        assert str(got.dtype).endswith(np.dtype(dtype).name)
        np.testing.assert_allclose(to_np(got), want, rtol=1e-5, atol=1e-5)


def test_paper_convention_on_every_namespace(xp, rng):
    M, Q = rng.random((8, 10)), rng.random((3, 10))
    for sim in ("manhattan", "euclidean", "dot", "kl", "reverse_kl", "js"):
        want = nu.retrieve(
            M, Q, similarity=sim, separation="softmax", beta=1000.0, convention="paper"
        )
        got = nu.retrieve(
            to_xp(xp, M),
            to_xp(xp, Q),
            similarity=sim,
            separation="softmax",
            beta=1000.0,
            convention="paper",
        )
        np.testing.assert_allclose(to_np(got), want, rtol=1e-9)


def test_a_memory_retrieves_what_retrieve_does_and_keeps_its_precomputation(rng):
    M = rng.random((30, 16))
    Q = M[:7] + 0.05 * rng.standard_normal((7, 16))
    P = rng.random((30, 3))
    for convention in ("standard", "paper"):
        memory = nu.Memory("uhn_best", M, projection=P, convention=convention)
        want = nu.load_model("uhn_best").retrieve(M, Q, projection=P, convention=convention)
        np.testing.assert_array_equal(memory.retrieve(Q), want)
        np.testing.assert_array_equal(memory.retrieve(Q[0]), want[0])
    assert memory.P.shape == (30, 3) and memory.state_ is not None


def test_a_memory_chunks_queries_to_the_budget_with_the_same_result(rng):
    M, Q = rng.random((50, 8)), rng.random((40, 8))
    memory = nu.Memory(nu.UHN(similarity="euclidean", separation="softmax"), M)
    whole = memory.retrieve(Q)
    with nu.memory_budget(50 * 8 * 4 * 3):  # three queries a block
        np.testing.assert_allclose(memory.retrieve(Q), whole, rtol=1e-12)


def test_projection_is_keyword_only():
    M = np.eye(3)
    with pytest.raises(TypeError):
        nu.Memory("mchn", M, M)
    with pytest.raises(TypeError):
        nu.load_model("mchn").retrieve(M, M, M)

"""Every similarity against the brute-force loops in ``reference.py``, plus hand-computed cases."""

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn import similarity

from . import reference as ref
from .helpers import to_np, to_xp

#: every registered standard similarity (the registry, not a list kept here)
STANDARD = similarity.names()


def inputs(name, rng, n=7, b=5, d=11):
    """Random inputs in the similarity's declared domain."""
    domain = similarity.get(name).domain
    if domain == "binary":
        return rng.integers(0, 2, (n, d)).astype(float), rng.integers(0, 2, (b, d)).astype(float)
    M, Q = rng.random((n, d)), rng.random((b, d))
    if domain == "distribution":
        M[M < 0.2] = 0.0  # exact zeros: the smoothing / exact handling must cope
        Q[Q < 0.2] = 0.0
    else:
        M, Q = M * 2 - 1, Q * 2 - 1
    return M, Q


def test_registered_names_cover_the_issue():
    assert {"dot", "cosine", "euclidean", "manhattan", "hamming", "kl", "reverse_kl", "js"} <= set(
        STANDARD
    )


def test_every_registered_similarity_has_a_brute_force_loop():
    """Adding a similarity: its class in similarity.py and its loop in tests/reference.py."""
    assert set(STANDARD) == set(ref.STANDARD)


@pytest.mark.parametrize("name", STANDARD)
def test_matches_brute_force_loops(name, rng):
    M, Q = inputs(name, rng)
    got = similarity.make(name)(M, Q)
    want = ref.pairwise(M, Q, ref.STANDARD[name])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", STANDARD)
def test_float32_stays_float32_and_agrees(name, rng):
    M, Q = inputs(name, rng)
    got = similarity.make(name)(M.astype(np.float32), Q.astype(np.float32))
    assert got.dtype == np.float32
    want = ref.pairwise(M, Q, ref.STANDARD[name])
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name", ["manhattan", "js"])
@pytest.mark.parametrize("kernels", [True, False])
def test_chunked_path_matches_kernel_under_a_tiny_budget(name, kernels, rng):
    M, Q = inputs(name, rng, n=53, b=37, d=19)
    want = ref.pairwise(M, Q, ref.STANDARD[name])
    with nu.use_compiled_kernels(kernels), nu.memory_budget(4096):
        got = similarity.make(name)(M, Q)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", STANDARD)
def test_array_api_namespaces_agree_with_numpy(name, xp, rng):
    M, Q = inputs(name, rng)
    for dtype in (np.float64, np.float32):
        got = similarity.make(name)(to_xp(xp, M.astype(dtype)), to_xp(xp, Q.astype(dtype)))
        assert type(got) is type(to_xp(xp, M))
        assert str(got.dtype).endswith("float32" if dtype is np.float32 else "float64")
        tol = 1e-10 if dtype is np.float64 else 2e-4
        np.testing.assert_allclose(
            to_np(got), ref.pairwise(M, Q, ref.STANDARD[name]), rtol=tol, atol=tol
        )


def test_hand_computed_tiny_case():
    M = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    q = np.array([1.0, 1.0, 0.0])
    assert similarity.make("dot")(M, q).tolist() == [1.0, 1.0]
    assert similarity.make("manhattan")(M, q).tolist() == [-3.0, -2.0]
    np.testing.assert_allclose(similarity.make("euclidean")(M, q), [-np.sqrt(5), -np.sqrt(2)])
    np.testing.assert_allclose(similarity.make("euclidean", squared=True)(M, q), [-5.0, -2.0])
    np.testing.assert_allclose(
        similarity.make("cosine")(M, q), [1 / (np.sqrt(5) * np.sqrt(2)), 1 / 2]
    )
    B = np.array([[1, 0, 1, 1], [0, 0, 0, 1]])
    assert similarity.make("hamming")(B, np.array([1, 1, 1, 1])).tolist() == [-1.0, -3.0]
    assert similarity.make("hamming", normalized=True)(B, np.array([1, 1, 1, 1])).tolist() == [
        -0.25,
        -0.75,
    ]
    # bipolar coding gives the same distances
    assert similarity.make("hamming")(2 * B - 1, np.array([1, 1, 1, 1])).tolist() == [-1.0, -3.0]


def test_js_hand_computed_and_bounded():
    M = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([0.0, 1.0])
    S = similarity.make("js")(M, q)
    # disjoint supports: JS = ln 2. p = (½,½), q = (0,1), mixture (¼,¾):
    # KL(p‖mix) = ½ln2 + ½ln(2/3) = ½ln(4/3), KL(q‖mix) = ln(4/3), JS = ¾ ln(4/3)
    want = 0.75 * np.log(4 / 3)
    np.testing.assert_allclose(S, [-np.log(2.0), -want], rtol=1e-12)


def test_kl_smoothing_keeps_masked_queries_finite():
    M = np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])
    q = np.array([0.5, 0.5, 0.0])  # zero where memory 0 has mass
    S = similarity.make("kl")(M, q)
    assert np.all(np.isfinite(S))
    assert S.argmax() == 1 and S[1] == pytest.approx(0.0, abs=1e-12)


def test_euclidean_centring_keeps_near_duplicates_accurate():
    rng = np.random.default_rng(0)
    M = 1000 + rng.random((4, 3072))  # large norms: naive ‖q‖²+‖m‖²-2q·m cancels badly
    q = M[2] + 1e-3
    S = similarity.make("euclidean")(M, q)
    np.testing.assert_allclose(S[2], -np.sqrt(3072) * 1e-3, rtol=1e-6)

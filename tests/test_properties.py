"""Property-based tests (hypothesis): shapes, dtypes, permutation equivariance, self-match."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neuro_uhn as nu
from neuro_uhn import similarity

#: from the registry: every standard similarity, and those that declare self_is_best
STANDARD = similarity.names()
DISTANCE_LIKE = [n for n in STANDARD if similarity.get(n).self_is_best]
SMOOTH_SEPARATIONS = [
    {"kind": "softmax", "beta": 3.0},
    "identity",
    {"kind": "polynomial", "n": 2.0},
]

settings.register_profile("ci", max_examples=40, deadline=None)
settings.load_profile("ci")


@st.composite
def problem(draw, name=None, dtype=np.float64):
    n = draw(st.integers(1, 12))
    b = draw(st.integers(1, 6))
    d = draw(st.integers(1, 16))
    name = name or draw(st.sampled_from(STANDARD))
    domain = similarity.get(name).domain
    if domain == "binary":
        elements = st.sampled_from([0.0, 1.0])
    elif domain == "distribution":
        elements = st.floats(0.0, 1.0, width=32)
    else:
        elements = st.floats(-2.0, 2.0, width=32)
    M = draw(hnp.arrays(dtype, (n, d), elements=elements))
    Q = draw(hnp.arrays(dtype, (b, d), elements=elements))
    if domain == "distribution":  # distributions need a positive row sum
        M[:, 0] += 0.5
        Q[:, 0] += 0.5
    return name, M, Q


@given(
    problem(),
    st.sampled_from(["max", "softmax", "identity", "topk"]),
    st.sampled_from([np.float32, np.float64]),
    st.integers(1, 5),
)
def test_shapes_and_dtypes(prob, sep, dtype, n_out):
    name, M, Q = prob
    M, Q = M.astype(dtype), Q.astype(dtype)
    S = similarity.make(name)(M, Q)
    assert S.shape == (Q.shape[0], M.shape[0]) and S.dtype == dtype
    assert np.all(np.isfinite(S))
    Z = nu.retrieve(M, Q, similarity=name, separation=sep)
    assert Z.shape == Q.shape and Z.dtype == dtype
    P = np.ones((M.shape[0], n_out), dtype=dtype)
    Zh = nu.retrieve(M, Q, similarity=name, separation=sep, projection=P)
    assert Zh.shape == (Q.shape[0], n_out)
    assert nu.retrieve(M, Q[0], similarity=name, separation=sep).shape == (M.shape[1],)


@given(problem(), st.sampled_from(SMOOTH_SEPARATIONS), st.randoms(use_true_random=False))
def test_permuting_memories_permutes_scores_and_leaves_retrieval_unchanged(prob, sep, random):
    name, M, Q = prob
    perm = np.array(random.sample(range(M.shape[0]), M.shape[0]))
    sim = similarity.make(name)
    np.testing.assert_allclose(sim(M[perm], Q), sim(M, Q)[:, perm], rtol=1e-9, atol=1e-9)
    P = np.arange(M.shape[0] * 2, dtype=float).reshape(-1, 2)
    Z = nu.retrieve(M, Q, similarity=name, separation=sep, projection=P)
    Zp = nu.retrieve(M[perm], Q, similarity=name, separation=sep, projection=P[perm])
    np.testing.assert_allclose(Zp, Z, rtol=1e-8, atol=1e-8)


@given(st.sampled_from(DISTANCE_LIKE).flatmap(lambda n: problem(name=n)))
def test_a_stored_pattern_is_its_own_best_match(prob):
    name, M, _ = prob
    S = similarity.make(name)(M, M)
    tol = 1e-9 * (1 + np.abs(S))
    if name == "euclidean":  # matrix-product form: sqrt of a rounding error near distance 0
        tol = tol + 1e-7 * (1 + np.abs(M).sum())
    assert np.all(np.diag(S)[:, None] >= S - tol)


@given(problem(name="manhattan"))
def test_max_retrieval_of_a_stored_pattern_returns_an_identical_pattern(prob):
    _, M, _ = prob
    Z = nu.retrieve(M, M, similarity="manhattan", separation="max")
    np.testing.assert_array_equal(Z, M)  # duplicates may swap, values cannot differ

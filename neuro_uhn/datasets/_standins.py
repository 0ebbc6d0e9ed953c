"""Natural-image patches: the labelled stand-in for CIFAR-10 and Tiny ImageNet offline.

No registry package ships CIFAR-10 or Tiny ImageNet, but scikit-image and scikit-learn
bundle ten public-domain / CC photos. Cut into 32×32×3 (non-overlapping) or 64×64×3 (stride
32) patches, with flat patches (pixel std < 0.05) dropped, they give thousands of natural,
colour, correlated images of the right size: what the similarity functions are stressed by.
They are *not* CIFAR-10; every table and figure made on them says so.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["patches", "PHOTOS"]

#: (package, loader) of each photo, in the order patches are cut.
PHOTOS = (
    ("skimage", "astronaut"),
    ("skimage", "chelsea"),
    ("skimage", "coffee"),
    ("skimage", "rocket"),
    ("skimage", "hubble_deep_field"),
    ("skimage", "immunohistochemistry"),
    ("skimage", "retina"),
    ("skimage", "stereo_motorcycle"),
    ("sklearn", "china.jpg"),
    ("sklearn", "flower.jpg"),
)


def _photos() -> list[tuple[str, np.ndarray]]:
    try:
        import skimage.data as sd
        from sklearn.datasets import load_sample_images
    except ImportError:
        raise RuntimeError(
            "the natural-image stand-ins need scikit-image and scikit-learn: "
            "pip install 'neuro_uhn[datasets]'"
        ) from None
    out = []
    sk = load_sample_images()
    sk_images = dict(zip((f.rsplit("/", 1)[-1] for f in sk.filenames), sk.images))
    for package, name in PHOTOS:
        if package == "skimage":
            img = getattr(sd, name)()
            img = img[0] if isinstance(img, tuple) else img  # stereo pair: the left image
        else:
            img = sk_images[name]
        out.append((name, np.asarray(img)))
    return out


@functools.lru_cache(maxsize=4)
def patches(size: int, stride: int | None = None, min_std: float = 0.05) -> np.ndarray:
    """All patches (n, size, size, 3) in [0, 1], photo by photo, row-major; read-only."""
    stride = stride or size
    out = []
    for _, img in _photos():
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        img = img[..., :3].astype(np.float64) / 255.0
        H, W = img.shape[:2]
        for i in range(0, H - size + 1, stride):
            for j in range(0, W - size + 1, stride):
                p = img[i : i + size, j : j + size]
                if p.std() >= min_std:
                    out.append(p)
    arr = np.stack(out)
    arr.setflags(write=False)
    return arr

"""A user's own images from ``.npy`` / ``.npz``: read as data (``allow_pickle=False``), checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_user"]

_KNOWN_SHAPES = {784: (28, 28), 3072: (32, 32, 3), 12288: (64, 64, 3)}


def _infer_shape(D: int) -> tuple[int, ...]:
    if D in _KNOWN_SHAPES:
        return _KNOWN_SHAPES[D]
    side = int(round(D**0.5))
    return (side, side) if side * side == D else (1, D)


def load_user(path: Path) -> tuple[np.ndarray, tuple[int, ...], str]:
    """``(images (n, ...) float64 in [0, 1], image_shape, name)`` from a user file."""
    if path.suffix not in (".npy", ".npz"):
        raise ValueError(f"dataset file {str(path)!r} must end in .npy or .npz")
    if not path.is_file():
        raise FileNotFoundError(f"dataset file {str(path)!r} does not exist")
    shape = None
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                keys = list(data.keys())
                if "images" in keys:
                    arr = data["images"]
                elif len([k for k in keys if k != "image_shape"]) == 1:
                    arr = data[next(k for k in keys if k != "image_shape")]
                else:
                    raise ValueError(
                        f"dataset file {str(path)!r} holds arrays {keys}: name the images 'images'"
                    )
                if "image_shape" in keys:
                    shape = tuple(int(s) for s in np.asarray(data["image_shape"]).ravel())
        else:
            arr = data
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise ValueError(
                f"dataset file {str(path)!r} holds Python objects (it would need unpickling, "
                "which neuro_uhn never does): save a numeric array"
            ) from None
        raise
    except (OSError, EOFError) as err:
        raise ValueError(
            f"dataset file {str(path)!r} cannot be read as NumPy data: {err}"
        ) from None
    if arr.dtype.kind not in "uif" or arr.dtype == np.bool_:
        raise ValueError(
            f"dataset file {str(path)!r} holds {arr.dtype} values; expected floats in [0, 1] "
            "or uint8"
        )
    if arr.ndim not in (2, 3, 4) or arr.shape[0] == 0 or arr[0].size == 0:
        raise ValueError(
            f"dataset file {str(path)!r} holds an array of shape {arr.shape}; expected "
            "(n, D), (n, H, W) or (n, H, W, C) with n, D >= 1"
        )
    if arr.dtype == np.uint8:
        images = arr.astype(np.float64) / 255.0
    else:
        images = arr.astype(np.float64)
        if not np.all(np.isfinite(images)):
            raise ValueError(f"dataset file {str(path)!r} contains NaN or infinite values")
        lo, hi = float(images.min()), float(images.max())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"dataset file {str(path)!r} has values in [{lo:g}, {hi:g}]; expected [0, 1] "
                "(scale it, or save uint8)"
            )
    if shape is None:
        shape = tuple(arr.shape[1:]) if arr.ndim > 2 else _infer_shape(arr.shape[1])
    if int(np.prod(shape)) != images[0].size:
        raise ValueError(
            f"dataset file {str(path)!r}: image_shape {shape} does not match {images[0].size} "
            "values per image"
        )
    return images.reshape(len(images), -1), shape, path.stem

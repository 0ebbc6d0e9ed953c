"""A user's own images from ``.npy`` / ``.npz``: read as data (``allow_pickle=False``), checked.

Every way a file can be wrong gets a message that names the file and says what to change,
because a bad array found here would otherwise surface as a puzzling result much later.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MissingFile, ValidationError

__all__ = ["load_user"]

#: image shapes of the flat sizes that have an obvious one (MNIST, CIFAR-10, Tiny ImageNet)
_KNOWN_SHAPES = {784: (28, 28), 3072: (32, 32, 3), 12288: (64, 64, 3)}


def _infer_shape(D: int) -> tuple[int, ...]:
    if D in _KNOWN_SHAPES:
        return _KNOWN_SHAPES[D]
    side = int(round(D**0.5))
    return (side, side) if side * side == D else (1, D)


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def _npy_header(f, where: str, member: str = "") -> tuple[np.dtype, int]:
    """(dtype, data bytes) from an open ``.npy`` stream's header, checked before any read."""
    fmt = np.lib.format
    inside = f" (array {member!r})" if member else ""
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):  # 3.0 differs only in a UTF-8 header (same layout)
            shape, _, dtype = fmt.read_array_header_2_0(f)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as err:
        raise ValidationError(
            f"dataset file {where}{inside} is not a readable NumPy array: damaged header ({err})",
            argument="dataset",
        ) from None
    if dtype.hasobject:
        raise ValidationError(
            f"dataset file {where}{inside} holds Python objects (reading it would need "
            "unpickling, which neuro_uhn never does): save a numeric array",
            argument="dataset",
        )
    return dtype, int(np.prod(shape, dtype=object)) * dtype.itemsize


def _check_npy(path: Path, where: str) -> None:
    with open(path, "rb") as f:
        head = f.read(6)
        if head != _NPY_MAGIC:
            raise ValidationError(
                f"dataset file {where} is not a NumPy .npy file (it does not start with "
                "NumPy's magic bytes): save it with numpy.save",
                argument="dataset",
            )
        f.seek(0)
        _, nbytes = _npy_header(f, where)
        have = path.stat().st_size - f.tell()
    if have < nbytes:
        raise ValidationError(
            f"dataset file {where} is truncated: its header promises {nbytes} bytes of data, "
            f"the file holds {have}",
            argument="dataset",
        )


def _check_npz(path: Path, where: str) -> list[str]:
    """The names of the arrays in an ``.npz``, every member checked without loading it."""
    import zipfile

    with open(path, "rb") as f:
        if f.read(4) not in (_ZIP_MAGIC, b"PK\x05\x06"):  # an archive, or an empty one
            raise ValidationError(
                f"dataset file {where} is not a NumPy .npz file (not a zip archive): save it "
                "with numpy.savez",
                argument="dataset",
            )
    try:
        with zipfile.ZipFile(path) as z:
            names = []
            for info in z.infolist():
                if not info.filename.endswith(".npy"):
                    raise ValidationError(
                        f"dataset file {where} holds {info.filename!r}, which is not a NumPy "
                        "array: an .npz holds only .npy members",
                        argument="dataset",
                    )
                with z.open(info) as f:
                    _, nbytes = _npy_header(f, where, info.filename[:-4])
                    have = info.file_size - f.tell()
                if have < nbytes:
                    raise ValidationError(
                        f"dataset file {where} (array {info.filename[:-4]!r}) is truncated: its "
                        f"header promises {nbytes} bytes of data, the archive holds fewer",
                        argument="dataset",
                    )
                names.append(info.filename[:-4])
            return names
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as err:
        if isinstance(err, ValidationError):
            raise
        raise ValidationError(
            f"dataset file {where} is a damaged .npz archive ({err})", argument="dataset"
        ) from None


def _read(path: Path) -> tuple[np.ndarray, tuple[int, ...] | None, np.ndarray | None]:
    """(array, image_shape or None, labels or None) as stored, unchecked."""
    import zipfile
    import zlib

    where = repr(str(path))
    try:
        if path.suffix == ".npy":
            _check_npy(path, where)
            return np.load(path, allow_pickle=False), None, None
        keys = _check_npz(path, where)
        with np.load(path, allow_pickle=False) as data:
            others = [k for k in keys if k not in ("image_shape", "labels")]
            if "images" in keys:
                key = "images"
            elif len(others) == 1:
                key = others[0]
            else:
                raise ValidationError(
                    f"dataset file {where} holds arrays {keys}: name the images 'images'"
                )
            arr = data[key]
            shape = labels = None
            if "image_shape" in keys:
                raw = np.asarray(data["image_shape"]).ravel()
                if raw.dtype.kind not in "iu" or raw.size == 0 or raw.min() < 1:
                    raise ValidationError(
                        f"dataset file {where}: image_shape must be positive integers; "
                        f"got {raw.tolist()}"
                    )
                shape = tuple(int(s) for s in raw)
            if "labels" in keys:
                labels = np.asarray(data["labels"]).ravel()
            return arr, shape, labels
    except ValidationError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        if "pickle" in str(err).lower():
            raise ValidationError(
                f"dataset file {where} holds Python objects (reading it would need unpickling, "
                "which neuro_uhn never does): save a numeric array"
            ) from None
        raise ValidationError(
            f"dataset file {where} cannot be read as NumPy data: {err}", argument="dataset"
        ) from None


def load_user(
    path: Path, reserved: tuple[str, ...] = ()
) -> tuple[np.ndarray, tuple[int, ...], str, np.ndarray | None]:
    """``(pixels, image_shape, name, labels)`` from a user file; pixels (n, D) in [0, 1].

    Accepts (n, D), (n, H, W) or (n, H, W, C) arrays of floats in [0, 1], uint8 (scaled by
    1/255), other integers or booleans in {0, 1}. An ``.npz`` takes the array ``images`` (or
    its only array), and optionally ``image_shape`` and ``labels``.
    """
    where = repr(str(path))
    if path.suffix not in (".npy", ".npz"):
        raise ValidationError(f"dataset file {where} must end in .npy or .npz")
    if not path.exists():
        raise MissingFile(f"dataset file {where} does not exist")
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise ValidationError(f"dataset file {where} is {kind}, not a .npy/.npz file")
    arr, shape, labels = _read(path)
    if arr.dtype.kind not in "biuf":
        raise ValidationError(
            f"dataset file {where} holds {arr.dtype} values; expected floats in [0, 1] or uint8"
        )
    if arr.ndim not in (2, 3, 4) or arr.size == 0:
        raise ValidationError(
            f"dataset file {where} holds an array of shape {arr.shape}; expected a non-empty "
            "(n, D), (n, H, W) or (n, H, W, C)"
        )
    if arr.dtype == np.uint8:
        pixels = arr.reshape(len(arr), -1).astype(np.float64) / 255.0
    else:
        pixels = arr.reshape(len(arr), -1).astype(np.float64)
        if not np.all(np.isfinite(pixels)):
            raise ValidationError(f"dataset file {where} contains NaN or infinite values")
        lo, hi = float(pixels.min()), float(pixels.max())
        if lo < 0 or hi > 1:
            raise ValidationError(
                f"dataset file {where} has values in [{lo:g}, {hi:g}]; expected [0, 1] "
                "(scale it, or save uint8)"
            )
    if shape is None:
        shape = tuple(arr.shape[1:]) if arr.ndim > 2 else _infer_shape(arr.shape[1])
    if int(np.prod(shape)) != pixels.shape[1]:
        raise ValidationError(
            f"dataset file {where}: image_shape {shape} does not match the "
            f"{pixels.shape[1]} values per image"
        )
    if labels is not None and len(labels) != len(pixels):
        raise ValidationError(
            f"dataset file {where} has {len(labels)} labels for {len(pixels)} images"
        )
    return pixels, shape, _name(path, reserved), labels


def _name(path: Path, reserved: tuple[str, ...]) -> str:
    """The dataset's name: the file's stem, or its whole name where the stem is a bundled
    dataset's name (``reserved``: a user's ``mnist.npy`` is never labelled or stored as
    MNIST)."""
    return path.name if path.stem.lower() in reserved else path.stem

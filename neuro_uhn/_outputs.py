"""Output paths that never destroy anything: checked before any work is done.

An output (``--csv``, ``--json``, a figure, a results store) may not be an input of the same
command, may not be another output of it, and may not replace a file that neuro_uhn did not
write (a CSV whose header is not our table's, a JSON without our keys, a non-PNG where a
figure goes). Its folder must exist and take a test write. Each check raises a
:class:`~neuro_uhn.errors.ValidationError` naming the option, before the sweep starts, so
the user loses neither a file nor the sweep.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import ValidationError

__all__ = [
    "check_folder",
    "check_output",
    "is_our_json",
    "is_png",
    "output_folder",
    "same_file",
]


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` are one file (links, ``..`` and case-folding included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet: compare where they would be
        return Path(os.path.abspath(a)).resolve() == Path(os.path.abspath(b)).resolve()


def is_our_json(path: Path, key: str = "machine") -> bool:
    try:
        if path.stat().st_size > 64 * 2**20:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and key in data


def is_png(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


def check_output(
    path: str | os.PathLike,
    option: str,
    *,
    inputs: Iterable[tuple[str, str | os.PathLike]] = (),
    ours: Callable[[Path], bool] | None = None,
    what: str = "file",
) -> Path:
    """``path`` if writing it destroys nothing; else a ValidationError naming ``option``.

    ``inputs`` are ``(label, path)`` pairs this command reads or keeps (the dataset, the
    results store, another output); ``ours`` recognises a file neuro_uhn wrote before, which
    may be replaced. Nothing is written except a test file in the folder, removed at once.
    """
    text = os.fspath(path)
    if not text or not text.strip():
        raise ValidationError(f"{option} is empty: give a file name", argument=option)
    path = Path(text).expanduser()
    for label, other in inputs:
        if other is not None and os.fspath(other) and same_file(path, other):
            raise ValidationError(
                f"{option} {text!r} is the same file as {label}: writing it would destroy "
                f"{label}; pick another path",
                argument=option,
            )
    if path.is_dir():
        raise ValidationError(
            f"{option} {text!r} is a folder; give a {what} name inside it", argument=option
        )
    if path.exists() and ours is not None and not ours(path):
        raise ValidationError(
            f"{option} {text!r} exists and is not a {what} neuro_uhn wrote; refusing to "
            "overwrite it (move it aside or pick another path)",
            argument=option,
        )
    check_folder(path.parent, option, text)
    return path


def check_folder(folder: Path, option: str, text: str, create: bool = False) -> None:
    """``folder`` exists and takes a test write; with ``create``, it may also be missing if
    it can be made (its nearest existing parent is a folder that takes a test write).

    Creates nothing: :func:`output_folder` makes the folder once the command's other checks
    have passed.
    """
    folder = Path(folder) if str(folder) else Path(".")
    probe = folder
    if create:
        while not probe.exists() and probe != probe.parent:
            if probe.is_symlink():  # a dangling link: mkdir would fail on it
                break
            probe = probe.parent
    if not probe.is_dir():
        if probe.exists():
            message = f"{option} {text!r}: {str(probe)!r} is not a folder"
        else:
            message = f"{option} {text!r}: folder {str(probe)!r} does not exist"
        raise ValidationError(message, argument=option)
    try:
        with tempfile.TemporaryFile(dir=probe, prefix=".neuro_uhn-write-test-"):
            pass
    except OSError as err:
        raise ValidationError(
            f"{option} {text!r}: cannot write in folder {str(probe)!r} ({err.strerror})",
            argument=option,
        ) from None


@contextlib.contextmanager
def output_folder(folder: str | os.PathLike, option: str = "--out"):
    """Make ``folder`` (and its missing parents) for a command's outputs; if the command then
    fails or is interrupted, remove the folders made here that are still empty, so a failed
    command leaves nothing behind (a folder holding something, such as a resumable results
    store, is kept)."""
    folder = Path(folder)
    made = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        made.append(probe)  # deepest first
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValidationError(
            f"{option} {str(folder)!r}: cannot create the folder ({err.strerror})",
            argument=option,
        ) from None
    try:
        yield folder
    except BaseException:
        for path in made:
            try:
                path.rmdir()  # only an empty folder
            except OSError:
                break
        raise

"""A JSON file of result rows that several processes may share without losing a row.

The circuit and storage sweeps on one's own data (:func:`~neuro_uhn.experiments.circuit.
circuit_sweep`, :func:`~neuro_uhn.experiments.plasticity.storage_sweep`) and the figures'
validation tables keep their finished points as a JSON list of rows, the files under
``figures/``. :class:`RowsFile` gives such a file the guarantees of the SQLite store
(:mod:`~neuro_uhn.experiments.store`):

* **checked before any computation**: its folder exists and takes a write, the path is not
  a folder, and what is already there is a list of rows of this kind; another program's
  JSON (or rows of another sweep) is refused with a :class:`~neuro_uhn.errors.
  ValidationError` and left untouched;
* **nothing lost, nothing twice**: each :meth:`RowsFile.add` reads the file, merges its
  rows in and writes the result under one exclusive lock (``flock`` on the folder, so no
  lock file is left beside the results), so rows another process wrote meanwhile are
  kept, and a row whose key is already there is not written again;
* **durable and atomic**: the merged list goes to a temporary file, is flushed to disk and
  renamed over the old one (a reader sees the old list or the new one, never part of
  one); a row :meth:`~RowsFile.add` returned survives a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import StoreError, ValidationError, ValidationTypeError

__all__ = ["RowsFile"]


class RowsFile:
    """A JSON list of rows (dicts) at ``path``, one row per ``key(row)``.

    Parameters
    ----------
    path : str or path
        The file; it need not exist yet, its folder must.
    what : str
        The kind of rows, for messages (``"circuit-sweep"``).
    key : callable
        A row's identity (a hashable value); a row whose key raises is not of this kind.
    required : names
        Keys every row of this kind has: a file whose rows lack one is not ours.
    argument : str
        The argument or option that named the file (errors name it).
    timeout : float
        Seconds to wait for another process's write before giving up.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        what: str,
        key: Callable[[Mapping[str, Any]], Hashable],
        required: Iterable[str] = (),
        argument: str = "results",
        timeout: float = 60.0,
    ):
        if not isinstance(path, str | os.PathLike):
            raise ValidationTypeError(
                f"{argument!r} must be a path to a JSON file; got {type(path).__name__} {path!r}",
                argument=argument,
            )
        text = os.fspath(path)
        self.what, self.key, self.required = what, key, tuple(required)
        self.argument, self.timeout = argument, float(timeout)
        if not text.strip():
            raise ValidationError(
                f"{argument!r} is empty: give the name of a JSON file for the {what} results",
                argument=argument,
            )
        self.path = Path(text).expanduser()
        self._check_path()
        self.rows()  # what is there is ours, or refused now: before anything is computed

    def __repr__(self) -> str:
        return f"RowsFile({str(self.path)!r}, what={self.what!r})"

    def _check_path(self) -> None:
        from .._outputs import check_folder

        where = repr(str(self.path))
        if self.path.is_dir():
            raise ValidationError(
                f"{self.argument!r} {where} is a folder; give a JSON file name inside it",
                argument=self.argument,
            )
        if self.path.exists() and not self.path.is_file():
            raise ValidationError(
                f"{self.argument!r} {where} is not a regular file; give a JSON file name",
                argument=self.argument,
            )
        folder = self.path.parent
        if not folder.is_dir():
            raise ValidationError(
                f"{self.argument!r} {where}: folder {str(folder)!r} does not exist; create it "
                "or pass a path in an existing folder",
                argument=self.argument,
            )
        check_folder(folder, self.argument, str(self.path))

    # ------------------------------------------------------------------------- reading
    def rows(self) -> list[dict[str, Any]]:
        """The rows in the file now (none if it does not exist yet)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as err:
            raise ValidationError(
                f"results file {str(self.path)!r} cannot be read ({err.strerror}): check its "
                "permissions or pass another path",
                argument=self.argument,
            ) from None
        if not raw.strip():
            return []  # an empty file holds nothing to keep
        return self._parse(raw)

    def _parse(self, raw: bytes) -> list[dict[str, Any]]:
        try:
            rows = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise self._foreign(f"not JSON: {err}") from None
        if not isinstance(rows, list):
            raise self._foreign(f"a JSON {type(rows).__name__}, not a list of rows")
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise self._foreign(f"item {i} is a {type(row).__name__}, not a row")
            missing = [k for k in self.required if k not in row]
            if missing:
                raise self._foreign(f"row {i} has no {', '.join(map(repr, missing))}")
            try:
                hash(self.key(row))
            except (KeyError, TypeError, ValueError) as err:
                why = f"row {i} has no valid key ({type(err).__name__}: {err})"
                raise self._foreign(why) from None
        return rows

    def _foreign(self, why: str) -> ValidationError:
        return ValidationError(
            f"results file {str(self.path)!r} is not a {self.what} results file ({why}; it was "
            "left untouched): move it aside or pass another path",
            argument=self.argument,
        )

    # ------------------------------------------------------------------------- writing
    def add(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Merge ``rows`` into the file in one locked read-merge-write; returns every row
        of the file after it (rows whose key was already there are not written again)."""
        new = [dict(r) for r in rows]
        for row in new:
            missing = [k for k in self.required if k not in row]
            if missing:
                raise ValidationError(
                    f"a {self.what} row must have {list(self.required)}; this one has no {missing}",
                    argument="rows",
                )
        with self._locked():
            current = self.rows()
            seen = {self.key(r) for r in current}
            added = []
            for row in new:
                k = self.key(row)
                if k not in seen:
                    seen.add(k)
                    added.append(row)
            if added:
                self._write(current + added)
            return current + added

    def _write(self, rows: list[dict[str, Any]]) -> None:
        folder = self.path.parent
        tmp = folder / f".{self.path.name}.{os.getpid()}.{random.getrandbits(32):08x}.tmp"
        data = json.dumps(rows, indent=1).encode("utf-8")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # no temporary file left behind
            raise StoreError(
                f"results file {str(self.path)!r} could not be written ({err.strerror}); the "
                "rows it held before are unchanged: free space or check permissions, then "
                "rerun to resume"
            ) from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_folder(folder)

    @contextlib.contextmanager
    def _locked(self):
        """An exclusive ``flock`` on the file's folder (held by one process at a time)."""
        import fcntl

        fd = os.open(self.path.parent if str(self.path.parent) else ".", os.O_RDONLY)
        try:
            deadline = time.monotonic() + self.timeout
            pause = 0.001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"results file {str(self.path)!r} is busy: another process held "
                            f"its folder's lock for more than {self.timeout:g} s; wait for "
                            "that process or pass another path"
                        ) from None
                    time.sleep(pause * (0.5 + random.random()))
                    pause = min(pause * 2, 0.05)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)

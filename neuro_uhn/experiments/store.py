"""A results store that never loses a finished cell: SQLite, one transaction per write.

Why SQLite: it ships with Python, a committed transaction survives SIGKILL and power loss
(the journal makes each write all-or-nothing), and several processes may write one file
(WAL mode with a busy timeout serialises them; ``INSERT OR IGNORE`` on the cell's key makes a
second writer of the same cell a no-op, so nothing is duplicated). Each row is plain data:
numbers and strings, never pickled objects. A row's ``measures`` (named numbers beyond the
tidy table's columns: the circuit experiment's settling time and spikes per retrieval) go to
a table of their own, written in the same transaction.
"""

from __future__ import annotations

import contextlib
import csv
import os
import random
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ._cells import COLUMNS

__all__ = ["ResultStore", "StoreError", "SCHEMA_VERSION", "write_csv"]

#: The first 16 bytes of every SQLite 3 database file.
_SQLITE_MAGIC = b"SQLite format 3\x00"

#: Bumped whenever the table's columns or the meaning of a key change.
SCHEMA_VERSION = 1

_TYPES = {
    "n_memories": "INTEGER",
    "run": "INTEGER",
    "n_queries": "INTEGER",
    "seed": "INTEGER",
    "level": "REAL",
    "threshold": "REAL",
    "fraction_correct": "REAL",
    "fraction_identity": "REAL",
    "agreement": "REAL",
    "seconds": "REAL",
}


class ResultStore:
    """Finished cells, keyed by :attr:`Cell.key`; ``path=":memory:"`` keeps them in memory.

    >>> store = ResultStore(":memory:")
    >>> store.add([{"key": "k1", "experiment": "capacity", "fraction_correct": 1.0}])
    1
    >>> sorted(store.keys())
    ['k1']
    """

    def __init__(self, path: str | os.PathLike = ":memory:", *, timeout: float = 60.0):
        if not isinstance(path, str | os.PathLike):
            raise StoreError(f"results store path must be a str or path; got {path!r}")
        self.path = os.fspath(path)
        self.timeout = float(timeout)
        created, sides = False, set()
        if self.path != ":memory:":
            created = not os.path.lexists(self.path)
            sides = {x for x in _SIDE_FILES if not os.path.lexists(self.path + x)}
            self._check_path()
            try:
                self._check_ours()  # read-only: a file that is not ours is never written
            except BaseException:
                _remove_ours(self.path, False, sides)  # side files a reader had to create
                raise
        self._db = _connect(self.path, timeout)
        try:
            self._retrying(self._open)
        except BaseException as err:
            self._db.close()  # never leave the file open, nor a file of ours behind
            if not (isinstance(err, sqlite3.OperationalError) and _is_lock(err)):
                _remove_ours(self.path, created, sides)
            if isinstance(err, StoreError):
                raise
            if isinstance(err, sqlite3.OperationalError) and _is_lock(err):
                raise StoreError(self._busy_message(err)) from None
            if isinstance(err, sqlite3.DatabaseError):
                text = str(err).lower()
                if "readonly" in text or "read-only" in text or "cannot switch" in text:
                    raise StoreError(self._read_only_message(err)) from None
                if "unable to open" in text or "disk i/o" in text:
                    raise StoreError(
                        f"results store {self.path!r} cannot be opened ({err}): check that "
                        "the path and its folder are writable, or pass another --store"
                    ) from None
                raise StoreError(
                    f"results store {self.path!r} is not a neuro_uhn results database "
                    f"({err}); move it aside or pass another --store"
                ) from None
            raise

    def _check_path(self) -> None:
        """Refuse, before SQLite touches anything, what cannot be or is not a store of ours."""
        path = Path(self.path)
        if not self.path.strip():
            raise StoreError("results store path is empty: give a file name")
        if path.is_dir():
            raise StoreError(f"results store {self.path!r} is a folder, not a file")
        parent = path.parent
        if not parent.is_dir():
            raise StoreError(f"results store {self.path!r}: folder {str(parent)!r} does not exist")
        if path.exists():
            if not path.is_file():
                raise StoreError(f"results store {self.path!r} is not a regular file")
            head = b""
            for _ in range(3):  # a store another process is creating may be a moment short
                try:
                    with open(path, "rb") as f:
                        head = f.read(16)
                except OSError as err:
                    raise StoreError(
                        f"results store {self.path!r} cannot be read ({err.strerror})"
                    ) from None
                if not head or head == _SQLITE_MAGIC:
                    break
                time.sleep(0.01)
            if head and head != _SQLITE_MAGIC:
                raise StoreError(
                    f"results store {self.path!r} is not a neuro_uhn results database (not "
                    "an SQLite file; it was left untouched): move it aside or pass another "
                    "--store"
                )
        elif not os.access(parent, os.W_OK | os.X_OK):
            raise StoreError(f"results store {self.path!r}: folder {str(parent)!r} is not writable")

    def _read_only_message(self, err: sqlite3.Error) -> str:
        return (
            f"results store {self.path!r} is read-only: neuro_uhn could not write to it or to "
            f"its folder ({err}), so no finished cell could be kept; copy it somewhere "
            "writable or pass another --store"
        )

    def _busy_message(self, err: sqlite3.Error) -> str:
        return (
            f"results store {self.path!r} is busy: another process holds it ({err}) and did "
            f"not release it within {self.timeout:g} s; wait for that process, or pass "
            "another --store"
        )

    def _retrying(self, step):
        """Run ``step`` again while the database is locked, until the store's timeout.

        SQLite waits out the busy timeout for most statements, but answers "locked" at once
        to ``PRAGMA journal_mode = WAL`` and to the first read of a file another connection
        is switching to WAL: two sweeps that open one new store together meet exactly that.
        """
        deadline = time.monotonic() + self.timeout
        pause = 0.001
        while True:
            try:
                return step()
            except sqlite3.OperationalError as err:
                if not _is_lock(err) or time.monotonic() + pause > deadline:
                    raise
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            time.sleep(pause * (0.5 + random.random()))  # jitter: do not retry in lockstep
            pause = min(pause * 2, 0.05)

    def _read(self, step):
        """``step`` retried while locked; a lock that outlasts the timeout is a StoreError."""
        try:
            return self._retrying(step)
        except sqlite3.OperationalError as err:
            if _is_lock(err):
                raise StoreError(self._busy_message(err)) from None
            raise

    def _open(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        if self.path != ":memory:":
            # Read first: a store already in WAL mode is left alone (switching takes a lock).
            mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal":
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise sqlite3.OperationalError(f"cannot switch to WAL (journal mode {mode})")
        self._db.execute("PRAGMA synchronous = FULL")
        self._init_schema()
        self._test_write()

    def _check_ours(self) -> None:
        """Before anything is written, through a read-only connection: a database with
        tables must be a store of this schema version, and one that another program marked
        as its own (an ``application_id`` or ``user_version``, even without tables) is not
        ours. A file that is not ours is refused and never opened for writing, so its bytes
        and its ``-wal`` (the writes another program has not checkpointed) stay as they are.
        """
        if not os.path.exists(self.path) or os.path.getsize(self.path) == 0:
            return  # nothing there yet: a new store
        deadline = time.monotonic() + self.timeout
        pause = 0.001
        while True:
            try:
                found = _read_only_survey(self.path, self.timeout)
                break
            except sqlite3.Error as err:
                if _is_lock(err) and time.monotonic() + pause <= deadline:
                    time.sleep(pause * (0.5 + random.random()))
                    pause = min(pause * 2, 0.05)
                    continue
                if _is_lock(err):
                    raise StoreError(self._busy_message(err)) from None
                text = str(err).lower()
                if "unable to open" in text or "disk i/o" in text or "readonly" in text:
                    # e.g. a WAL database without its -wal in a folder that takes no writes
                    raise StoreError(
                        f"results store {self.path!r} cannot be opened ({err}; it was left "
                        "untouched): check that the path and its folder are writable, or pass "
                        "another --store"
                    ) from None
                raise StoreError(
                    f"results store {self.path!r} is not a neuro_uhn results database (SQLite "
                    f"cannot read it: {err}; it was left untouched): move it aside or pass "
                    "another --store"
                ) from None
        tables, others, version, marks = found
        if marks:
            raise StoreError(
                f"results store {self.path!r} is not a neuro_uhn results database (an SQLite "
                f"database another program marked as its own: {', '.join(marks)}; it was left "
                "untouched): move it aside or pass another --store"
            )
        if (tables or others) and (not {"meta", "results"} <= tables or version is None):
            raise StoreError(
                f"results store {self.path!r} is not a neuro_uhn results database (an SQLite "
                f"database holding {sorted(tables) + others}; it was left untouched): move it "
                "aside or pass another --store"
            )
        if version is not None and version != str(SCHEMA_VERSION):
            raise StoreError(
                f"results store {self.path!r} has schema version {version}, this neuro_uhn "
                f"writes version {SCHEMA_VERSION}: export it with an older neuro_uhn or use "
                "a new --store"
            )

    def _test_write(self) -> None:
        """Write (and commit) one row of ``meta`` now, so a store that cannot take writes
        fails here, before a sweep computes cells it could not keep."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('last_opened', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
            )
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _init_schema(self) -> None:
        cols = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in COLUMNS)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            # added beside version 1's tables (a store written before gains it empty; an older
            # neuro_uhn reads the results table and leaves this one alone)
            self._db.execute(_MEASURES_TABLE)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, {cols}, "
                    "finished_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
                )
            elif row[0] != str(SCHEMA_VERSION):
                raise StoreError(
                    f"results store {self.path!r} has schema version {row[0]}, this neuro_uhn "
                    f"writes version {SCHEMA_VERSION}: export it with an older neuro_uhn or use "
                    "a new --store"
                )
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def keys(self) -> set[str]:
        return self._read(lambda: {k for (k,) in self._db.execute("SELECT key FROM results")})

    def add(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write ``rows`` in one transaction (all or none); rows already present are kept.

        Returns the number of new rows.
        """
        names = ("key",) + COLUMNS
        rows = list(rows)
        values = [tuple(r.get(c) for c in names) for r in rows]
        if not values:
            return 0
        measures = [
            (r["key"], name, None if v is None else float(v))
            for r in rows
            for name, v in (r.get("measures") or {}).items()
        ]
        sql = (
            f"INSERT OR IGNORE INTO results ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
        )

        def write() -> int:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany(sql, values)
                added = self._db.total_changes - before
                self._db.executemany(
                    "INSERT OR IGNORE INTO measures (key, name, value) VALUES (?, ?, ?)", measures
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            return added

        return self._read(write)

    def rows(self, keys: Sequence[str] | None = None, **where: Any) -> list[dict[str, Any]]:
        """Stored rows as dicts (columns of :data:`COLUMNS`), optionally only ``keys``; a row
        with measures has them as ``row["measures"]`` (name → value, NaN where none)."""
        for name in where:
            if name not in COLUMNS:
                raise ValueError(f"cannot filter on {name!r}; columns are {list(COLUMNS)}")
        sql = f"SELECT key, {', '.join(COLUMNS)} FROM results"
        clauses = [f"{k} = ?" for k in where]
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)

        def read() -> tuple[list[dict[str, Any]], list[tuple]]:
            found = [
                dict(zip(("key",) + COLUMNS, r))
                for r in self._db.execute(sql, tuple(where.values()))
            ]
            return found, list(self._db.execute("SELECT key, name, value FROM measures"))

        found, measures = self._read(read)
        if measures:
            by_key: dict[str, dict[str, float]] = {}
            for key, name, value in measures:
                by_key.setdefault(key, {})[name] = float("nan") if value is None else value
            for r in found:
                if r["key"] in by_key:
                    r["measures"] = by_key[r["key"]]
        if keys is not None:
            order = {k: i for i, k in enumerate(keys)}
            found = sorted((r for r in found if r["key"] in order), key=lambda r: order[r["key"]])
        return found

    def __len__(self) -> int:
        return self._read(lambda: self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_MEASURES_TABLE = (
    "CREATE TABLE IF NOT EXISTS measures (key TEXT, name TEXT, value REAL, PRIMARY KEY (key, name))"
)


def _connect(path: str, timeout: float) -> sqlite3.Connection:
    """The store's connection (a seam the tests use to open a read-only one)."""
    return sqlite3.connect(path, timeout=timeout, isolation_level=None)


def _read_only_survey(path: str, timeout: float) -> tuple[set[str], list[str], str | None, list]:
    """``(tables, other objects, schema_version or None, marks)`` of the database at
    ``path``, read through a read-only connection (``mode=ro``: SQLite writes nothing to the
    file nor to its ``-wal``, and a closing reader never checkpoints nor deletes them);
    ``marks`` names a non-zero ``application_id`` or ``user_version``."""
    uri = Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    try:
        objects = list(db.execute("SELECT type, name FROM sqlite_master"))
        tables = {n for t, n in objects if t == "table"}
        others = sorted(n for t, n in objects if t != "table" and not n.startswith("sqlite_"))
        version = None
        if "meta" in tables:
            try:
                row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            except sqlite3.OperationalError as err:  # a table named meta of other columns
                if _is_lock(err):
                    raise
                row = None
            version = None if row is None else str(row[0])
        marks = [
            f"{pragma} {value}"
            for pragma in ("application_id", "user_version")
            if (value := db.execute(f"PRAGMA {pragma}").fetchone()[0])
        ]
        return tables, others, version, marks
    finally:
        db.close()


_SIDE_FILES = ("-wal", "-shm", "-journal")


def _remove_ours(path: str, created: bool, sides: set[str]) -> None:
    """After a refusal: remove the store file if this process created it and it is still
    empty, and the SQLite side files that did not exist before this process connected (a
    ``-wal`` or ``-journal`` only while empty: one with content holds someone's writes)."""
    if created:
        with contextlib.suppress(OSError):
            if os.path.getsize(path) == 0:
                os.unlink(path)
    for suffix in sides:
        side = path + suffix
        with contextlib.suppress(OSError):
            if suffix == "-shm" or os.path.getsize(side) == 0:
                os.unlink(side)


def _is_lock(err: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code), else False."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(err).lower()
    return "locked" in text or "busy" in text


def is_our_csv(path: Path) -> bool:
    """Whether ``path`` is a tidy table neuro_uhn wrote (its header is :data:`COLUMNS`)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            first = f.readline(10_000)
    except (OSError, UnicodeDecodeError):
        return False
    return first.rstrip("\r\n") == ",".join(COLUMNS)



def write_csv(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> None:
    """The tidy table (:data:`COLUMNS`), written to a temporary file and renamed into place."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"CSV path {str(path)!r} is a folder; give a file name inside it")
    if path.exists() and not is_our_csv(path):
        raise StoreError(
            f"CSV path {str(path)!r} exists and is not a table neuro_uhn wrote; refusing to "
            "overwrite it (move it aside or pick another path)"
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for r in rows:
                writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # no temporary file left behind
        raise

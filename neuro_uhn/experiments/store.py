"""A results store that never loses a finished cell: SQLite, one transaction per write.

Why SQLite: it ships with Python, a committed transaction survives SIGKILL and power loss
(the journal makes each write all-or-nothing), and several processes may write one file
(WAL mode with a busy timeout serialises them; ``INSERT OR IGNORE`` on the cell's key makes a
second writer of the same cell a no-op, so nothing is duplicated). Each row is plain data:
numbers and strings, never pickled objects.
"""

from __future__ import annotations

import csv
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._cells import COLUMNS

__all__ = ["ResultStore", "StoreError", "SCHEMA_VERSION", "write_csv"]

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


class StoreError(RuntimeError):
    """The results file cannot be used (corrupt, not a store, or another schema version)."""


class ResultStore:
    """Finished cells, keyed by :attr:`Cell.key`; ``path=":memory:"`` keeps them in memory.

    >>> store = ResultStore(":memory:")
    >>> store.add([{"key": "k1", "experiment": "capacity", "fraction_correct": 1.0}])
    1
    >>> sorted(store.keys())
    ['k1']
    """

    def __init__(self, path: str | os.PathLike = ":memory:", *, timeout: float = 60.0):
        self.path = str(path)
        if self.path != ":memory:":
            parent = Path(self.path).parent
            if not parent.is_dir():
                raise StoreError(
                    f"results store {self.path!r}: folder {str(parent)!r} does not exist"
                )
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._init_schema()
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise StoreError(
                f"results store {self.path!r} is not a neuro_uhn results database ({err}); "
                "move it aside or pass another --store"
            ) from None
        except BaseException:
            self._db.close()  # e.g. another schema version: never leave the file open
            raise

    def _init_schema(self) -> None:
        cols = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in COLUMNS)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
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
            self._db.execute("ROLLBACK")
            raise

    def keys(self) -> set[str]:
        return {k for (k,) in self._db.execute("SELECT key FROM results")}

    def add(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write ``rows`` in one transaction (all or none); rows already present are kept.

        Returns the number of new rows.
        """
        names = ("key",) + COLUMNS
        values = [tuple(r.get(c) for c in names) for r in rows]
        if not values:
            return 0
        sql = (
            f"INSERT OR IGNORE INTO results ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
        )
        self._db.execute("BEGIN IMMEDIATE")
        try:
            before = self._db.total_changes
            self._db.executemany(sql, values)
            added = self._db.total_changes - before
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return added

    def rows(self, keys: Sequence[str] | None = None, **where: Any) -> list[dict[str, Any]]:
        """Stored rows as dicts (columns of :data:`COLUMNS`), optionally only ``keys``."""
        for name in where:
            if name not in COLUMNS:
                raise ValueError(f"cannot filter on {name!r}; columns are {list(COLUMNS)}")
        sql = f"SELECT key, {', '.join(COLUMNS)} FROM results"
        clauses = [f"{k} = ?" for k in where]
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        found = [
            dict(zip(("key",) + COLUMNS, r)) for r in self._db.execute(sql, tuple(where.values()))
        ]
        if keys is not None:
            order = {k: i for i, k in enumerate(keys)}
            found = sorted((r for r in found if r["key"] in order), key=lambda r: order[r["key"]])
        return found

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_csv(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> None:
    """The tidy table (:data:`COLUMNS`), written to a temporary file and renamed into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
    os.replace(tmp, path)

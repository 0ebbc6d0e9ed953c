"""Many processes open and write one *new* results store at the same moment.

The race this guards against: SQLite answers "database is locked" at once (without waiting out
the busy timeout) to ``PRAGMA journal_mode = WAL`` and to a first read of a store another
connection is switching to WAL. Before the store retried those, 283 of 1,000 simultaneous opens
failed with "not a neuro_uhn results database". Here every round releases all processes
together on a fresh file (a file-system barrier), so each round is that worst case.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing

import pytest

from neuro_uhn.experiments.store import ResultStore, StoreError

N_PROCS = 6
N_ROUNDS = 100  # 600 simultaneous opens of a new store, each followed by a write

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from neuro_uhn.experiments.store import ResultStore, StoreError

    folder, me = Path(sys.argv[1]), int(sys.argv[2])
    n_procs, n_rounds = int(sys.argv[3]), int(sys.argv[4])
    failures = []
    for r in range(n_rounds):
        (folder / f"ready-{r}-{me}").touch()
        deadline = time.monotonic() + 60
        while len(list(folder.glob(f"ready-{r}-*"))) < n_procs:  # the barrier
            if time.monotonic() > deadline:
                sys.exit("barrier timed out")
            time.sleep(0.0005)
        try:
            with ResultStore(folder / f"store-{r}.sqlite", timeout=30) as store:
                store.add([{"key": f"cell-{me}", "experiment": "stress", "run": me}])
                store.add([{"key": "shared", "experiment": "stress", "run": -1}])
        except StoreError as err:
            failures.append(str(err))
    print(json.dumps(failures))
    """
)


@pytest.mark.slow
def test_simultaneous_opens_of_a_new_store_never_fail(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    folder = tmp_path / "stores"
    folder.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(folder), str(i), str(N_PROCS), str(N_ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(N_PROCS)
    ]
    failures, outcomes = [], [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outcomes):
        assert p.returncode == 0, err[-2000:]
        failures += json.loads(out.strip().splitlines()[-1])
    assert failures == [], f"{len(failures)} of {N_PROCS * N_ROUNDS} opens failed: {failures[:3]}"
    for r in range(N_ROUNDS):  # every write of every process arrived, exactly once
        with closing(sqlite3.connect(folder / f"store-{r}.sqlite")) as db:
            keys = sorted(k for (k,) in db.execute("SELECT key FROM results"))
        assert keys == sorted([f"cell-{i}" for i in range(N_PROCS)] + ["shared"])


def test_a_store_held_by_another_writer_is_reported_as_busy(tmp_path):
    path = tmp_path / "held.sqlite"
    with ResultStore(path) as store:
        store.add([{"key": "k", "experiment": "capacity"}])
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")  # another writer, for longer than we wait
        with pytest.raises(StoreError, match="busy: another process holds it") as info:
            ResultStore(path, timeout=0.2)
        assert "not a neuro_uhn results database" not in str(info.value)
        holder.execute("ROLLBACK")
    with ResultStore(path) as store:  # released: it opens, and nothing was lost
        assert store.keys() == {"k"}


def test_a_wal_store_is_not_switched_again(tmp_path, monkeypatch):
    """Reopening reads the journal mode and leaves a WAL store as it is: the switch, which
    takes a lock, is issued only for a new store (statements traced on the connection)."""
    executed: list[str] = []
    real_connect = sqlite3.connect

    def traced_connect(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.set_trace_callback(executed.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    path = tmp_path / "s.sqlite"
    ResultStore(path).close()
    assert any("journal_mode = WAL" in sql for sql in executed)
    executed.clear()
    with ResultStore(path) as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert any(sql.strip() == "PRAGMA journal_mode" for sql in executed)
    assert not any("journal_mode = WAL" in sql for sql in executed)

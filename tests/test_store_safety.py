"""The results store never damages what it is given and never loses what it reported stored.

A file that is not a neuro_uhn store (a foreign SQLite database, an old schema, any other
file) is refused and left byte-identical, with no ``-wal``/``-shm`` files next to it; a store
that cannot take writes is refused when it is opened, before a sweep computes anything; a row
``add()`` returned is on disk, even if the process is SIGKILLed right after."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuro_uhn as nu
from neuro_uhn.experiments import ResultStore, StoreError, run_experiment, store, write_csv


def _sqlite(path, statements, wal=False):
    with closing(sqlite3.connect(path)) as db:
        if wal:
            db.execute("PRAGMA journal_mode = WAL")
        for sql in statements:
            db.execute(sql)
        db.commit()


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


FOREIGN = {
    "an app's database": (["CREATE TABLE users (id INTEGER, name TEXT)",
                           "INSERT INTO users VALUES (1, 'ada')"], False),
    "an app's database in WAL mode": (["CREATE TABLE t (x)", "INSERT INTO t VALUES (1)"], True),
    "a table named meta only": (["CREATE TABLE meta (key TEXT, value TEXT)"], False),
    "meta and results without a version": (
        ["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)", "CREATE TABLE results (k)"],
        False,
    ),
    "an empty table": (["CREATE TABLE results (key TEXT)"], False),
    "a view only": (["CREATE VIEW v AS SELECT 1"], False),
}  # fmt: skip


@pytest.mark.parametrize("what", list(FOREIGN))
def test_a_foreign_sqlite_database_is_refused_and_left_byte_identical(tmp_path, what):
    statements, wal = FOREIGN[what]
    path = tmp_path / "other.db"
    _sqlite(path, statements, wal)
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="not a neuro_uhn results database|left untouched"):
        ResultStore(path)
    assert _snapshot(tmp_path) == before  # same bytes, and no -wal / -shm / -journal
    with closing(sqlite3.connect(path)) as db:  # still the journal mode it had
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == ("wal" if wal else "delete")


@pytest.mark.parametrize("wal", [False, True])
@pytest.mark.parametrize("mark", ["application_id = 1234", "user_version = 7"])
def test_a_database_another_program_marked_is_refused_even_without_tables(tmp_path, mark, wal):
    path = tmp_path / "app.db"
    _sqlite(path, [f"PRAGMA {mark}"], wal)
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match=f"not a neuro_uhn results database.*{mark.split()[0]}"):
        ResultStore(path)
    assert _snapshot(tmp_path) == before  # no tables added, no switch to WAL, no side file
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == ("wal" if wal else "delete")


CRASHED_WAL_WRITER = textwrap.dedent(
    """
    import os, sqlite3, sys

    db = sqlite3.connect(sys.argv[1])
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # the rows live in the -wal only
    for table in sys.argv[2].split("; "):
        db.execute(f"CREATE TABLE {table}")
    db.execute("INSERT INTO t VALUES (1)")
    db.commit()
    os._exit(0)  # the program stops without closing: its -wal and -shm stay
    """
)


@pytest.mark.parametrize("tables", ["t (x)", "t (x); meta (key TEXT, value TEXT)"])
def test_a_foreign_wal_database_keeps_its_wal_file_and_its_bytes(tmp_path, tables):
    path = tmp_path / "app.db"
    subprocess.run([sys.executable, "-c", CRASHED_WAL_WRITER, str(path), tables], check=True)
    assert (tmp_path / "app.db-wal").stat().st_size > 0
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="not a neuro_uhn results database"):
        ResultStore(path)
    after = _snapshot(tmp_path)
    assert sorted(after) == sorted(before)  # the -wal and the -shm are still there
    # the database and the writes only its -wal holds are byte-identical (the -shm is an
    # index SQLite rebuilds; any reader may rewrite it)
    assert {k: v for k, v in after.items() if not k.endswith("-shm")} == {
        k: v for k, v in before.items() if not k.endswith("-shm")
    }
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        assert db.execute("SELECT COUNT(*) FROM t").fetchone() == (1,)


NOT_SQLITE = {
    "text": b"key,value\n1,2\n",
    "a PNG": b"\x89PNG\r\n\x1a\n" + bytes(100),
    "a NumPy file": b"\x93NUMPY\x01\x00" + bytes(120),
    "SQLite magic then junk": b"SQLite format 3\x00" + b"\xff" * 200,
    "one byte": b"x",
    "junk": b"\x00junk" * 400,
}


@pytest.mark.parametrize("what", list(NOT_SQLITE))
def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path, what):
    path = tmp_path / "r.sqlite"
    path.write_bytes(NOT_SQLITE[what])
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="not a neuro_uhn results database"):
        ResultStore(path)
    assert _snapshot(tmp_path) == before


def test_an_old_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "old.sqlite"
    ResultStore(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
        db.execute("PRAGMA journal_mode = DELETE")
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="schema version 0"):
        ResultStore(path)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["folder", "folder.sqlite", "nested/deeper"])
def test_a_folder_or_a_missing_folder_is_one_clear_error(tmp_path, name):
    (tmp_path / name).mkdir(parents=True)
    with pytest.raises(StoreError, match="is a folder"):
        ResultStore(tmp_path / name)
    with pytest.raises(StoreError, match="does not exist"):
        ResultStore(tmp_path / "missing" / name / "r.sqlite")
    with pytest.raises(StoreError, match="empty"):
        ResultStore("  ")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_folder_or_file_is_refused_when_opened(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    ResultStore(folder / "kept.sqlite").close()
    os.chmod(folder / "kept.sqlite", 0o444)
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(StoreError, match="not writable|read-only|cannot be opened"):
            ResultStore(folder / "new.sqlite")
        with pytest.raises(StoreError, match="read-only|cannot be opened"):
            ResultStore(folder / "kept.sqlite")
        assert sorted(p.name for p in folder.iterdir()) == ["kept.sqlite"]
    finally:
        os.chmod(folder, 0o755)


def _read_only_connect(path, timeout):
    return sqlite3.connect(f"file:{path}?mode=ro", timeout=timeout, isolation_level=None, uri=True)


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_read_only_store_fails_before_the_sweep_computes_anything(tmp_path, monkeypatch, journal):
    path = tmp_path / "r.sqlite"
    ResultStore(path).close()
    if journal == "delete":
        with closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA journal_mode = DELETE")
    before = _snapshot(tmp_path)
    monkeypatch.setattr(store, "_connect", _read_only_connect)  # a read-only file system
    from neuro_uhn.experiments import runner

    def must_not_compute(*args, **kwargs):
        raise AssertionError("computed cells for a store that cannot keep them")

    monkeypatch.setattr(runner, "_execute", must_not_compute)
    data = np.random.default_rng(0).random((30, 16))
    np.save(tmp_path / "d.npy", data)
    with pytest.raises(StoreError, match="read-only"):
        run_experiment("noise", tmp_path / "d.npy", store=path, workers=1, n_memories=[3],
                       runs=1, levels=[0.1], similarities=["dot"])  # fmt: skip
    after = _snapshot(tmp_path)
    assert after.pop("d.npy") is not None and after == before


# --- durability: a row add() returned survives SIGKILL ------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from neuro_uhn.experiments.store import ResultStore

    store = ResultStore(sys.argv[1])
    for i in range(int(sys.argv[2])):
        store.add([{"key": f"k{i}", "experiment": "durability", "run": i}])
        print(i, flush=True)  # reported stored
    sys.stdout.write("done\\n")
    sys.stdout.flush()
    import time
    time.sleep(60)
    """
)


@pytest.mark.parametrize("kill_after", [1, 2, 3, 7])
def test_every_row_add_reported_is_on_disk_after_sigkill(tmp_path, kill_after):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    path = tmp_path / "r.sqlite"
    proc = subprocess.Popen([sys.executable, str(script), str(path), "50"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    reported = []
    try:
        while len(reported) < kill_after:
            line = proc.stdout.readline()
            assert line, "the writer died"
            reported.append(int(line))
        proc.send_signal(signal.SIGKILL)  # the moment after the kill_after-th add returned
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    with ResultStore(path) as db:
        keys = db.keys()
    assert {f"k{i}" for i in reported} <= keys  # nothing reported stored was lost
    assert keys <= {f"k{i}" for i in range(50)}


@pytest.mark.parametrize("workers", [1, 2])
def test_every_cell_the_sweep_reports_finished_is_already_committed(tmp_path, workers):
    """At the moment ``run_experiment`` reports cells finished (``on_rows``; the progress bar
    counts the same rows after it), another process reading the file already sees each of
    them: a store that kept a finished cell back (buffered, committed one call behind)
    would lose it to a SIGKILL right after it was reported."""
    data = np.random.default_rng(1).random((40, 16))
    np.save(tmp_path / "d.npy", data)
    path = tmp_path / "r.sqlite"
    reported: list[str] = []

    def committed() -> set[str]:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return {k for (k,) in db.execute("SELECT key FROM results")}

    def on_rows(rows):
        keys = [r["key"] for r in rows]
        assert keys, "a report without cells"
        missing = set(keys) - committed()
        assert not missing, f"{len(missing)} cells reported finished are not committed"
        reported.extend(keys)

    sweep = run_experiment("noise", tmp_path / "d.npy", store=path, workers=workers,
                           n_memories=[3, 5], runs=2, levels=[0.1, 0.3],
                           similarities=["dot", "manhattan"], on_rows=on_rows)  # fmt: skip
    assert len(reported) == sweep.computed == len(sweep.rows) > 4  # several reports, all seen


# --- CSV ----------------------------------------------------------------------------------


def test_write_csv_into_a_folder_or_failing_midway_leaves_no_temp_file(tmp_path):
    rows = [{"experiment": "x", "run": 0}]
    with pytest.raises(StoreError, match="is a folder"):
        write_csv(rows, tmp_path)

    def broken():
        yield {"experiment": "x"}
        raise RuntimeError("the sweep failed while the table was written")

    with pytest.raises(RuntimeError):
        write_csv(broken(), tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []


def test_store_errors_are_library_errors():
    assert issubclass(StoreError, nu.NeuroUHNError) and issubclass(StoreError, RuntimeError)


# --- fuzz: whatever file is given, a store or a refusal that changed nothing ---------------


@st.composite
def store_files(draw):
    kind = draw(st.sampled_from(["bytes", "magic", "foreign", "ours", "empty"]))
    if kind == "bytes":
        return kind, draw(st.binary(min_size=1, max_size=300))
    if kind == "magic":
        return kind, b"SQLite format 3\x00" + draw(st.binary(max_size=300))
    if kind == "foreign":
        name = draw(st.sampled_from(["users", "meta", "results", "t", "data"]))
        return kind, (name, draw(st.booleans()), draw(st.integers(0, 3)))
    return kind, None


@settings(
    max_examples=int(os.environ.get("NEURO_UHN_FUZZ", "60")) // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=store_files())
def test_any_file_opens_as_a_store_or_is_refused_untouched(tmp_path_factory, spec):
    folder = tmp_path_factory.mktemp("store")
    path = folder / "s.sqlite"
    kind, detail = spec
    if kind in ("bytes", "magic"):
        path.write_bytes(detail)
    elif kind == "foreign":
        name, wal, rows = detail
        _sqlite(path, [f"CREATE TABLE {name} (x)"] + [f"INSERT INTO {name} VALUES ({i})"
                                                      for i in range(rows)], wal)  # fmt: skip
    elif kind == "ours":
        with ResultStore(path) as db:
            db.add([{"key": "k", "experiment": "x"}])
    before = _snapshot(folder)
    try:
        with ResultStore(path) as db:
            db.add([{"key": "new", "experiment": "x"}])
            keys = db.keys()
    except StoreError as err:
        assert kind in ("bytes", "magic", "foreign"), err
        assert _snapshot(folder) == before, json.dumps(str(err))
        return
    assert kind in ("ours", "empty") or (kind == "bytes" and False), kind
    assert "new" in keys and (kind != "ours" or "k" in keys)
    assert sorted(p.name for p in folder.iterdir()) == ["s.sqlite"]  # no side files left

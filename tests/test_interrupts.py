"""Interrupted and concurrent work: a sweep killed (SIGKILL, SIGTERM) at random points, with
and without worker processes, resumes to the same table; two processes writing one store
neither duplicate nor lose a cell; an interrupted Brian2 compilation poisons nothing.

The harness runs the real command line in subprocesses and watches the store (SQLite, read
only) to stop the sweep after a chosen number of finished cells.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import numpy as np
import pytest

N_SIMS, NS, RUNS = 3, "100,200,300,400,500,600", 2
TOTAL = 2 * N_SIMS * 6 * RUNS  # conventions x similarities x N x runs


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(7)
    images = rng.random((1200, 144))
    path = tmp_path_factory.mktemp("data") / "imgs.npy"
    np.save(path, images)
    return path


def _argv(data_file, store, *extra):
    return [
        sys.executable, "-m", "neuro_uhn.app.cli", "run", "capacity", "--dataset", str(data_file),
        "--runs", str(RUNS), "--similarity", "manhattan,kl,js", "--n-memories", NS,
        "--no-progress", "--store", str(store), *extra,
    ]  # fmt: skip


def _stored(store) -> int:
    if not os.path.exists(store):
        return 0
    try:
        with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)) as db, db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _table(path):
    with open(path) as f:
        return sorted(tuple(v for k, v in r.items() if k != "seconds") for r in csv.DictReader(f))


@pytest.fixture(scope="module")
def reference(data_file, tmp_path_factory):
    """The uninterrupted table."""
    tmp = tmp_path_factory.mktemp("ref")
    out = tmp / "ref.csv"
    subprocess.run(
        _argv(data_file, tmp / "ref.sqlite", "--workers", "1", "--csv", str(out)),
        check=True, capture_output=True,
    )  # fmt: skip
    table = _table(out)
    assert len(table) == TOTAL
    return table


def _interrupt(argv, store, after: int, sig) -> int:
    """Start the sweep, send ``sig`` once ``after`` cells are stored; return what was stored."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if _stored(store) >= after:
            break
        time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGTERM and proc.returncode not in (0,):
        # a polite stop: one line, exit 130, no traceback
        assert proc.returncode == 130, err
        assert b"Traceback" not in err and b"rerun the same command" in err
    return _stored(store)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(4))
def test_killed_at_a_random_point_resumes_to_the_same_table(tmp_path, data_file, reference, trial):
    rng = np.random.default_rng([trial, int(os.environ.get("NEURO_UHN_SEED", "0"))])
    sig = (signal.SIGKILL, signal.SIGTERM)[trial % 2]
    workers = ("1", "2")[trial // 2]
    store = tmp_path / "s.sqlite"
    argv = _argv(data_file, store, "--workers", workers)
    stored = _interrupt(argv, store, int(rng.integers(1, TOTAL - 6)), sig)
    assert 0 < stored < TOTAL, f"the sweep was not caught midway ({stored} of {TOTAL})"
    out = tmp_path / "resumed.csv"
    done = subprocess.run(argv + ["--csv", str(out)], check=True, capture_output=True, text=True)
    assert f"{TOTAL - stored} computed, {stored} from the store" in done.stdout
    assert _table(out) == reference
    with closing(sqlite3.connect(store)) as db, db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM results").fetchone() == (
            TOTAL,
            TOTAL,
        )


@pytest.mark.slow
def test_two_processes_writing_one_store_lose_and_duplicate_nothing(tmp_path, data_file, reference):
    store = tmp_path / "shared.sqlite"
    argv = _argv(data_file, store, "--workers", "1")
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    out = tmp_path / "shared.csv"
    subprocess.run(argv + ["--csv", str(out)], check=True, capture_output=True)
    assert _table(out) == reference
    with closing(sqlite3.connect(store)) as db, db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM results").fetchone() == (
            TOTAL,
            TOTAL,
        )


@pytest.mark.standalone
def test_an_interrupted_brian2_compilation_does_not_poison_the_next(tmp_path):
    """Kill a process while Brian2 compiles a standalone project, then build another one."""
    script = (
        "import numpy as np\n"
        "from neuro_uhn.spiking import SpikingConfig, SpikingUHN\n"
        "M = np.random.default_rng(0).random((8, 16))\n"
        "cfg = SpikingConfig(mode='hybrid', duration=0.2, target='cpp_standalone', seed=1)\n"
        "Z = SpikingUHN('uhn_best', M, config=cfg).retrieve(M[:3])\n"
        "near = ((Z[:, None, :] - M[None]) ** 2).sum(-1).argmin(1)\n"
        "print(int(near.tolist() == [0, 1, 2]))\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if any(tmp_path.glob("neuro_uhn_standalone_*/*.o")):
                break  # the C++ compiler is writing object files
        except OSError:  # Brian2 creates and removes its own temporary files meanwhile
            pass
        time.sleep(0.05)
    compiling = proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)  # the job and its compiler, as a scheduler would
    proc.communicate()
    assert compiling, "the first build finished before it could be interrupted"
    killed = list(tmp_path.glob("neuro_uhn_standalone_*"))
    assert killed  # the killed process could not clean up after itself
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip().endswith("1")
    # the next build removed the killed process's project, and its own went at exit
    assert list(tmp_path.glob("neuro_uhn_standalone_*")) == []

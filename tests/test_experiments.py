"""The experiments: cells against brute-force references, seeds, stores, resumption, Dask."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import pytest

from neuro_uhn import corruptions, metrics
from neuro_uhn.app.cli import main
from neuro_uhn.experiments import (
    COLUMNS,
    EXPERIMENTS,
    ResultStore,
    StoreError,
    compute_task,
    default_threshold,
    parse_label,
    plan,
    run_experiment,
    split_labels,
    summarize,
)
from neuro_uhn.experiments._cells import block_indices, task_rng

from . import reference as ref


@dataclass
class Data:
    """A stand-in for neuro_uhn.datasets.Dataset (run_experiment duck-types it)."""

    name: str
    images: np.ndarray
    image_shape: tuple
    stand_in: str | None = None


def _images(n=240, shape=(6, 6), seed=0):
    """Smooth random images in [0, 1] with some structure (blobs), so retrieval is nontrivial."""
    rng = np.random.default_rng(seed)
    base = rng.random((n, *shape))
    base = (base + np.roll(base, 1, axis=1) + np.roll(base, 1, axis=2)) / 3
    return np.clip(base, 0, 1).reshape(n, -1)


@pytest.fixture(scope="module")
def data():
    return Data("blobs", _images(), (6, 6))


def _values(rows):
    """Rows without the timing column, sorted by key: what must be reproducible."""
    return sorted(
        (tuple(r[c] for c in COLUMNS if c != "seconds") for r in rows), key=lambda t: repr(t)
    )


# --- labels -------------------------------------------------------------------------


def test_labels_parse_names_parameters_and_paper_aliases():
    assert parse_label("manhattan", "similarity") == {"kind": "manhattan"}
    assert parse_label("softmax(beta=10)", "separation") == {"kind": "softmax", "beta": 10}
    assert parse_label("softmax", "separation") == {"kind": "softmax"}  # no alias: β = 1
    assert parse_label("sqrt >> normalize", "separation") == [
        {"kind": "polynomial", "n": 0.5},
        {"kind": "normalize"},
    ]
    assert parse_label("cube", "separation") == {"kind": "polynomial", "n": 3.0}
    assert parse_label("topk(k=3, weighting=score)", "separation") == {
        "kind": "topk",
        "k": 3,
        "weighting": "score",
    }
    assert split_labels("max,softmax(beta=1,x=2),topk") == ["max", "softmax(beta=1,x=2)", "topk"]


@pytest.mark.parametrize(
    "label, match",
    [
        ("soft max", "cannot read"),
        ("softmax(beta)", "cannot read parameter"),
        ("softmax(beta=__import__('os'))", "cannot read"),
        ("softmax(beta=inf)", "finite"),
    ],
)
def test_bad_labels_are_refused_without_eval(label, match):
    with pytest.raises(ValueError, match=match):
        parse_label(label, "separation")


def test_unknown_component_names_fail_when_planning(data):
    with pytest.raises(ValueError, match="manhatan"):
        plan("capacity", data, similarities=["manhatan"])
    with pytest.raises(ValueError, match="experiment"):
        plan("capacty", data)


# --- planning -----------------------------------------------------------------------


def test_plan_follows_the_paper_protocol(data):
    tasks = plan("noise", data, runs=5)
    cells = [c for t in tasks for c in t.cells]
    # 2 conventions x 6 similarities x 8 sigmas x 5 runs
    assert len(cells) == 2 * 6 * 8 * 5
    assert {c.corruption for c in cells if c.convention == "paper"} == {"gaussian_folded"}
    assert {c.corruption for c in cells if c.convention == "standard"} == {"gaussian"}
    assert {c.n_memories for c in cells} == {100}
    assert len({c.key for c in cells}) == len(cells)
    cap = [c for t in plan("capacity", data, runs=2) for c in t.cells]
    assert sorted({c.n_memories for c in cap}) == [
        2,
        5,
        10,
        20,
        50,
        100,
        200,
    ]  # the defaults that fit
    assert {c.threshold for c in cap if c.convention == "paper"} == {60.0 * 784 / 36}


def test_default_thresholds():
    assert default_threshold("capacity", "paper", 784) == 60.0
    assert default_threshold("capacity", "paper", 3072) == pytest.approx(15.3125)
    assert default_threshold("noise", "paper", 3072) == 60.0
    assert default_threshold("noise", "standard", 3072) == pytest.approx(60 * 3072 / 784)


def test_blocks_are_disjoint_while_the_data_allows():
    blocks = [set(block_indices(1000, 200, r, seed=0)) for r in range(5)]
    assert all(not (a & b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    late = block_indices(1000, 300, 4, seed=0)  # 5 x 300 > 1000: a seeded random block
    assert len(set(late)) == 300 and late.max() < 1000
    np.testing.assert_array_equal(late, block_indices(1000, 300, 4, seed=0))
    with pytest.raises(ValueError, match="lower --n-memories"):
        block_indices(100, 200, 0, seed=0)


# --- cells against a brute-force reference --------------------------------------------


@pytest.mark.parametrize(
    "experiment, convention, similarity, corruption, level",
    [
        ("capacity", "standard", "manhattan", "gaussian", 0.5),
        ("capacity", "paper", "euclidean", "gaussian_folded", 0.5),
        ("noise", "paper", "dot", "gaussian_folded", 0.3),
        ("mask", "standard", "euclidean", "mask_bottom", 0.5),
        ("mask", "paper", "manhattan", "mask_bottom_paper", 0.4),
        ("perturbation", "standard", "manhattan", "random_mask", 0.3),
        ("perturbation", "paper", "manhattan", "inpaint", 0.5),
    ],
)
def test_max_separation_cells_match_a_nearest_neighbour_loop(
    data, experiment, convention, similarity, corruption, level
):
    n, run, seed = 40, 1, 3
    tasks = plan(
        experiment,
        data,
        runs=2,
        seed=seed,
        conventions=[convention],
        similarities=[similarity],
        n_memories=[n],
        levels=[level],
    )
    [task] = [t for t in tasks if t.run == run and t.corruption == corruption]
    [row] = compute_task(data.images, task)
    # the reference: rebuild the block and the queries by hand, then loop
    M = data.images[block_indices(len(data.images), task.block_size, run, seed)[:n]]
    rng = task_rng(seed, corruption, level, n, run)
    if corruption.startswith("gaussian"):
        noisy = M + level * rng.standard_normal(M.shape)
        Q = np.clip(np.abs(noisy) if corruption == "gaussian_folded" else noisy, 0, 1)
    elif corruption == "mask_bottom":
        Q = M.reshape(n, 6, 6).copy()
        Q[:, 6 - round(level * 6) :] = 0
        Q = Q.reshape(n, -1)
    elif corruption == "mask_bottom_paper":  # the official rows: int(H * (1 - f)) kept
        Q = M.reshape(n, 6, 6).copy()
        Q[:, int(6 * (1 - level)) :] = 0  # 3 rows at f = 0.4 (rounding: 2)
        Q = Q.reshape(n, -1)
    elif corruption == "random_mask":
        Q = np.where(rng.random((n, 36)) < level, 0.0, M)
    else:  # inpaint: a frame int(6 * level // 2) wide
        w = int(6 * level // 2)
        Q = M.reshape(n, 6, 6).copy()
        Q[:, :w], Q[:, 6 - w :], Q[:, :, :w], Q[:, :, 6 - w :] = 0, 0, 0, 0
        Q = Q.reshape(n, -1)
    f = {
        ("standard", "manhattan"): ref.manhattan,
        ("paper", "euclidean"): ref.official_euclidean,
        ("standard", "euclidean"): ref.euclidean,
        ("paper", "manhattan"): ref.official_manhattan,
    }.get((convention, similarity))
    if f is not None:
        S = ref.pairwise(M, Q, f)
    else:  # the paper's L1-normalised dot product
        S = np.stack([ref.official_normalized_dot(M, q) for q in Q])
    Z = M[np.argmax(S, axis=1)]
    sse = ((Z - M) ** 2).sum(axis=1)
    threshold = default_threshold(experiment, convention, 36)
    assert row["threshold"] == threshold
    assert row["fraction_correct"] == pytest.approx(np.mean(sse <= threshold), abs=1e-12)
    nearest = np.array([np.argmin(((M - z) ** 2).sum(axis=1)) for z in Z])
    assert row["fraction_identity"] == pytest.approx(np.mean(nearest == np.arange(n)), abs=1e-12)
    assert row["n_queries"] == n and row["run"] == run


def test_hetero_cells_score_against_the_projection(data):
    tasks = plan("hetero", data, runs=1, conventions=["standard"], n_memories=[30], levels=[0.3])
    task = next(t for t in tasks if t.corruption == "gaussian")
    rows = {r["association"]: r for r in compute_task(data.images, task)}
    M = data.images[:30]
    rng = task_rng(0, "gaussian", 0.3, 30, 0)
    Q = np.clip(M + 0.3 * rng.standard_normal(M.shape), 0, 1)
    P = M.reshape(30, 6, 6).copy()
    P[:, :3] = 0
    P = P.reshape(30, -1)
    winners = np.argmax(Q @ M.T, axis=1)  # the raw dot product, max separation
    for association, T in (("auto", M), ("hetero", P)):
        sse = ((T[winners] - T) ** 2).sum(axis=1)
        assert rows[association]["fraction_correct"] == pytest.approx(np.mean(sse <= 60 * 36 / 784))


def test_classical_hopfield_cells_use_bipolar_patterns_and_sign(data):
    tasks = plan("hetero", data, runs=1, conventions=["standard"])
    flip = [t for t in tasks if t.corruption == "flip"]
    assert {t.n_memories for t in flip} == {2, 5, 10, 20, 30, 50}
    task = next(t for t in flip if t.n_memories == 5)
    rows = {r["association"]: r for r in compute_task(data.images, task)}
    B = corruptions.to_bipolar(data.images[:5])
    rng = task_rng(0, "flip", 0.1, 5, 0)
    Q = np.where(rng.random(B.shape) < 0.1, -B, B)
    Z = np.sign((Q @ B.T) @ B)
    Z[Z == 0] = 1
    expect = np.mean(metrics.identity_correct(Z, B, np.arange(5)))
    assert rows["auto"]["fraction_identity"] == pytest.approx(expect)
    assert rows["auto"]["readout"] == "sign" and rows["auto"]["separation"] == "identity"


def test_official_classical_hopfield_queries_collapse_to_all_ones():
    """Why our classical experiment differs from the official one: folding Gaussian noise
    (σ = 1e-7) on a bipolar image maps −1 to ≈ +1, so every official query is all +1
    (paper.md §6, bug 10)."""
    B = corruptions.to_bipolar(_images(10))
    noisy = corruptions.gaussian_noise(B, 1e-7, 0, kind="paper")
    assert np.all(corruptions.to_bipolar(noisy) == 1.0)


def test_official_js_retrieves_nothing_under_max(data):
    sweep = run_experiment(
        "capacity",
        data,
        workers=1,
        runs=1,
        conventions=["paper"],
        similarities=["js", "manhattan"],
        n_memories=[50],
        levels=[0.1],
    )
    ident = {r["similarity"]: r["fraction_identity"] for r in sweep.rows}
    assert ident["js"] <= 0.05 and ident["manhattan"] >= 0.5


def test_standard_separation_experiment_uses_positive_scores(data):
    sweep = run_experiment(
        "separation", data, workers=1, runs=1, conventions=["standard"], n_memories=[20]
    )
    by = {r["separation"].replace(" >> normalize", ""): r["fraction_identity"] for r in sweep.rows}
    assert set(by) == set(EXPERIMENTS["separation"].separations)
    # the label says what was computed: the reciprocal distance, normalised polynomials
    assert {r["similarity"] for r in sweep.rows} == {"inverse_manhattan"}
    assert {r["separation"] for r in sweep.rows} >= {"sqrt >> normalize", "softmax(beta=1000)"}
    assert by["max"] >= by["identity"]
    assert by["tenth"] >= by["square"] - 0.1


# --- seeds, summaries ---------------------------------------------------------------


def test_same_seed_same_rows_other_seed_other_rows(data):
    kw = dict(workers=1, runs=2, similarities=["manhattan", "dot"], n_memories=[20, 60])
    a = run_experiment("capacity", data, seed=1, **kw).rows
    b = run_experiment("capacity", data, seed=1, **kw).rows
    c = run_experiment("capacity", data, seed=2, **kw).rows
    assert _values(a) == _values(b)
    assert [r["fraction_correct"] for r in a] != [r["fraction_correct"] for r in c]


def test_summarize_gives_mean_and_population_std_over_runs():
    rows = [
        dict(zip(COLUMNS, [None] * len(COLUMNS)), run=r, fraction_correct=v, key=str(r))
        for r, v in enumerate([0.2, 0.4, 0.9])
    ]
    [s] = summarize(rows)
    assert s["mean"] == pytest.approx(0.5) and s["std"] == pytest.approx(np.std([0.2, 0.4, 0.9]))
    assert s["runs"] == 3


# --- the store ----------------------------------------------------------------------


def test_store_resumes_cell_by_cell(tmp_path, data):
    path = tmp_path / "r.sqlite"
    kw = dict(workers=1, runs=2, similarities=["manhattan"])
    first = run_experiment("capacity", data, store=path, n_memories=[10, 20], **kw)
    assert first.computed == 2 * 2 * 2 and first.reused == 0
    second = run_experiment("capacity", data, store=path, n_memories=[10, 20, 40], **kw)
    # the old cells come from the store (same block size: the default N list is kept)
    assert second.reused == 8 and second.computed == 4
    with ResultStore(path) as store:
        assert len(store) == 12


def test_store_ignores_a_second_write_of_the_same_cell(tmp_path):
    with ResultStore(tmp_path / "s.sqlite") as store:
        assert store.add([{"key": "a", "fraction_correct": 0.5}]) == 1
        assert store.add([{"key": "a", "fraction_correct": 0.9}]) == 0
        assert store.rows()[0]["fraction_correct"] == 0.5


def test_store_refuses_other_files_and_schemas(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a neuro_uhn results database"):
        ResultStore(junk)
    old = tmp_path / "old.sqlite"
    ResultStore(old).close()
    with closing(sqlite3.connect(old)) as db, db:
        db.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="schema version 0"):
        ResultStore(old)
    with pytest.raises(StoreError, match="does not exist"):
        ResultStore(tmp_path / "no" / "such" / "dir.sqlite")


# --- parallel and distributed execution gives the same numbers ------------------------


def test_process_pool_gives_the_same_rows_as_serial(data):
    kw = dict(runs=2, similarities=["manhattan", "kl"], n_memories=[10, 40], seed=4)
    serial = run_experiment("capacity", data, workers=1, **kw).rows
    pooled = run_experiment("capacity", data, workers=2, **kw).rows
    assert _values(serial) == _values(pooled)


@pytest.mark.slow
def test_dask_cluster_gives_the_same_rows_as_local(data):
    distributed = pytest.importorskip("dask.distributed")
    kw = dict(runs=2, similarities=["manhattan", "dot"], n_memories=[10, 40], seed=5)
    local = run_experiment("noise", data, workers=1, levels=[0.2, 0.5], **kw).rows
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run_experiment(
            "noise", data, scheduler=cluster.scheduler_address, levels=[0.2, 0.5], **kw
        ).rows
    assert _values(local) == _values(remote)


# --- the command line, and a sweep killed midway ---------------------------------------


def test_cli_run_writes_a_tidy_csv(tmp_path, data, capsys):
    npy = tmp_path / "blobs.npy"
    np.save(npy, data.images)
    out = tmp_path / "t.csv"
    code = main(
        [
            "run",
            "mask",
            "--dataset",
            str(npy),
            "--runs",
            "2",
            "--similarity",
            "manhattan,dot",
            "--levels",
            "0.25,0.5",
            "--csv",
            str(out),
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 2 * 2  # conventions x similarities x levels x runs
    assert list(rows[0])[: len(COLUMNS)] == list(COLUMNS)
    assert {r["experiment"] for r in rows} == {"mask"}
    assert {r["dataset"] for r in rows} == {"blobs"}
    # every number equals the cell computed directly (not merely a fraction in [0, 1])
    sweep = run_experiment("mask", str(npy), runs=2, similarities=["manhattan", "dot"],
                           levels=[0.25, 0.5], workers=1)  # fmt: skip
    computed = {r["key"]: r for r in sweep.rows}
    assert len(computed) == len(rows)
    for r in rows:
        match = [
            c for c in computed.values()
            if (c["convention"], c["similarity"], c["level"], c["run"])
            == (r["convention"], r["similarity"], float(r["level"]), int(r["run"]))
        ]  # fmt: skip
        assert len(match) == 1
        for col in ("fraction_correct", "fraction_identity", "n_queries", "threshold"):
            assert float(r[col]) == pytest.approx(float(match[0][col])), (col, r)
    assert len({(r["fraction_correct"], r["fraction_identity"]) for r in rows}) > 1
    assert "SSE ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, match",
    [
        (["run", "capacity", "--dataset", "DATA", "--similarity", "manhatan"], "manhatan"),
        (["run", "capacity", "--dataset", "DATA", "--runs", "0"], "runs"),
        (["run", "capacity", "--dataset", "DATA", "--n-memories", "100000"], "n-memories"),
        (["run", "capacity", "--dataset", "DATA", "--store", "/no/such/dir/x.sqlite"], "exist"),
    ],
)
def test_cli_run_errors_are_one_line(tmp_path, data, capsys, argv, match):
    npy = tmp_path / "blobs.npy"
    np.save(npy, data.images)
    argv = [str(npy) if a == "DATA" else a for a in argv] + ["--workers", "1", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and match in err and "Traceback" not in err


def _cli(*args, cwd):
    return [sys.executable, "-m", "neuro_uhn.app.cli", *args]


@pytest.mark.slow
def test_a_sweep_killed_midway_resumes_to_the_same_table(tmp_path):
    images = _images(1200, (12, 12), seed=7)
    npy = tmp_path / "big.npy"
    np.save(npy, images)
    args = ["run", "capacity", "--dataset", str(npy), "--runs", "2", "--similarity",
            "manhattan,kl,js", "--n-memories", "100,200,300,400,500,600", "--workers", "1",
            "--no-progress"]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    # uninterrupted
    whole = tmp_path / "whole.csv"
    subprocess.run(
        _cli(*args, "--store", str(tmp_path / "whole.sqlite"), "--csv", str(whole), cwd=tmp_path),
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    # killed with SIGKILL once some, not all, cells are stored; then resumed
    store = tmp_path / "killed.sqlite"
    proc = subprocess.Popen(
        _cli(*args, "--store", str(store), cwd=tmp_path),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    total = 2 * 3 * 6 * 2
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if store.exists():
            try:
                with (
                    closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)) as db,
                    db,
                ):
                    stored = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
            if 0 < stored < total:
                break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < stored < total, f"could not catch the sweep midway ({stored} of {total})"
    resumed = tmp_path / "resumed.csv"
    done = subprocess.run(
        _cli(*args, "--store", str(store), "--csv", str(resumed), cwd=tmp_path),
        check=True, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert "from the store" in done.stdout

    def table(path):
        with open(path) as f:
            return sorted(
                tuple(v for k, v in r.items() if k != "seconds") for r in csv.DictReader(f)
            )

    assert table(resumed) == table(whole)
    assert len(table(whole)) == total
    with closing(sqlite3.connect(store)) as db, db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM results").fetchone() == (
            total,
            total,
        )

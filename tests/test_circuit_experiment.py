"""The circuit experiment in the registry: its cells, a tiny run through the runner and the
store, resumption, the CLI, and the errors that name the argument."""

from __future__ import annotations

import json

import pytest

from neuro_uhn import datasets
from neuro_uhn.app.cli import main
from neuro_uhn.errors import ValidationError
from neuro_uhn.experiments import (
    EXPERIMENTS,
    CircuitExperiment,
    ResultStore,
    parse_label,
    plan,
    run_experiment,
    summarize,
)
from neuro_uhn.experiments.circuit import CELL_MEASURES, CIRCUIT_PARAMETERS

#: a tiny sweep: 5 memories, 3 cues, 0.1 s per cue (about 1 s per point)
TINY = dict(
    runs=1,
    n_memories=[5],
    max_queries=3,
    parameters={"inhibition": [0.0, 1.0], "neurons_per_memory": [2]},
    spiking={"duration": 0.1, "target": "numpy"},
)


@pytest.fixture(scope="module")
def digits():
    return datasets.load("digits")


def test_circuit_is_registered():
    assert isinstance(EXPERIMENTS["circuit"], CircuitExperiment)
    assert EXPERIMENTS["circuit"].conventions == ("standard",)


def test_plan_yields_one_cell_and_one_task_per_point(digits):
    tasks = plan("circuit", digits, seed=3, **TINY)
    assert len(tasks) == 3  # each point is a task of its own (parallel, resumed point by point)
    cells = [c for t in tasks for c in t.cells]
    assert [c.network for c in cells] == [
        "circuit(inhibition=0.0)",
        "circuit(inhibition=1.0)",
        "circuit(neurons_per_memory=2)",
    ]
    # the stored label says what the cell computes, and reads back
    assert parse_label(cells[2].network) == {"kind": "circuit", "neurons_per_memory": 2}
    for c in cells:
        assert (c.similarity, c.separation, c.readout) == ("manhattan", "max", "identity")
        assert (c.convention, c.corruption, c.level, c.n_memories) == ("standard", "gaussian",
                                                                     0.2, 5)  # fmt: skip
        settings = json.loads(c.settings)
        assert settings["model"] == "uhn_best" and settings["mode"] == "circuit"
        assert settings["duration"] == 0.1
    assert [json.loads(c.settings)["parameter"] for c in cells] == [
        "inhibition", "inhibition", "neurons_per_memory"
    ]  # fmt: skip
    assert len({c.key for c in cells}) == 3
    # the defaults: every parameter at its default values, uhn_best, N = 20
    every = [c for t in plan("circuit", digits, runs=2) for c in t.cells]
    n_points = sum(len(v[1]) for v in CIRCUIT_PARAMETERS.values())
    assert len(every) == 2 * n_points
    assert {c.n_memories for c in every} == {20}
    # names alone take their default values
    named = plan("circuit", digits, runs=1, parameters=["tau_m"])
    assert [c.network for t in named for c in t.cells] == [
        f"circuit(tau_m={v!r})" for v in CIRCUIT_PARAMETERS["tau_m"][1]
    ]


def test_a_tiny_circuit_sweep_is_stored_and_resumes(digits, tmp_path, monkeypatch):
    path = tmp_path / "circuit.sqlite"
    sweep = run_experiment("circuit", digits, store=path, workers=1, **TINY)
    assert (sweep.computed, sweep.reused) == (3, 0)
    assert [r["network"] for r in sweep.rows] == [
        "circuit(inhibition=0.0)",
        "circuit(inhibition=1.0)",
        "circuit(neurons_per_memory=2)",
    ]
    for r in sweep.rows:
        assert r["experiment"] == "circuit" and r["n_queries"] == 3
        assert 0 <= r["fraction_identity"] <= 1 and 0 <= r["agreement"] <= 1
        assert set(r["measures"]) == set(CELL_MEASURES)
        assert r["measures"]["spikes_per_retrieval"] > 0
    # the knockout costs more spikes than the competition
    spikes = [r["measures"]["spikes_per_retrieval"] for r in sweep.rows]
    assert spikes[0] > spikes[1]
    # summarize reads a measure as it reads a column
    means = summarize(sweep.rows, "spikes_per_retrieval")
    assert [m["mean"] for m in means] == pytest.approx(spikes)
    # the measures are in the store, beside the tidy table
    with ResultStore(path) as store:
        stored = {r["key"]: r for r in store.rows()}
    assert {k: r["measures"] for k, r in stored.items()} == {
        r["key"]: r["measures"] for r in sweep.rows
    }

    import neuro_uhn.spiking as spiking

    def forbidden(*args, **kwargs):
        raise AssertionError("a stored point was recomputed")

    monkeypatch.setattr(spiking, "compare", forbidden)
    again = run_experiment("circuit", digits, store=path, workers=1, **TINY)
    assert (again.computed, again.reused) == (0, 3)
    assert again.rows == sweep.rows


@pytest.mark.parametrize(
    "options, argument, match",
    [
        ({"parameters": ["tau_q"]}, "parameters", "must name circuit parameters"),
        ({"parameters": {"inhibition": [-1.0]}}, "parameters", "finite numbers >= 0"),
        ({"parameters": {"connection_p": [2.0]}}, None, "connection_p"),
        ({"spiking": {"mode": "hybrid"}}, "spiking", "mode='circuit'"),
        ({"spiking": {"seed": 3}}, "spiking", "seed"),
        ({"spiking": {"durration": 0.1}}, "spiking", "durration"),
        ({"similarities": ["dot"]}, "similarities", "not used by the circuit experiment"),
    ],
)
def test_circuit_errors_name_the_argument(digits, options, argument, match):
    with pytest.raises(ValidationError, match=match) as err:
        plan("circuit", digits, runs=1, **options)
    if argument is not None:
        assert err.value.argument == argument


def test_parameters_are_refused_by_the_other_experiments(digits):
    with pytest.raises(ValidationError, match="circuit and storage experiments only") as err:
        plan("noise", digits, parameters=["inhibition"])
    assert err.value.argument == "parameters"


def test_cli_runs_the_circuit_experiment(tmp_path, capsys):
    store = tmp_path / "c.sqlite"
    argv = ["run", "circuit", "--dataset", "digits", "--runs", "1", "--n-memories", "5",
            "--max-queries", "2", "--duration", "0.1", "--parameters", "inhibition=0:1",
            "--store", str(store), "--workers", "1", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert "2 cells (2 computed, 0 from the store)" in capsys.readouterr().out
    assert main(argv) == 0
    assert "2 cells (0 computed, 2 from the store)" in capsys.readouterr().out
    assert main(argv[:-7] + ["--parameters", "tau_q", "--no-progress"]) == 2
    assert "'parameters' must name circuit parameters" in capsys.readouterr().err
    assert main(argv[:-7] + ["--spiking-mode", "hybrid", "--no-progress"]) == 2
    assert "--spiking-mode is not used by the circuit experiment" in capsys.readouterr().err


def test_the_storage_experiment_runs_through_the_runner(digits, tmp_path, monkeypatch):
    from neuro_uhn.experiments import StorageExperiment
    from neuro_uhn.experiments.plasticity import STORAGE_METRICS

    assert isinstance(EXPERIMENTS["storage"], StorageExperiment)
    options = dict(runs=1, n_memories=[4], max_queries=2, spiking={"target": "numpy"})
    # without parameters: the defaults only, one cell per (model, N)
    cells = [c for t in plan("storage", digits, **options) for c in t.cells]
    assert [c.network for c in cells] == ["plasticity"]
    sweep = run_experiment("storage", digits, store=tmp_path / "s.sqlite", workers=1,
                           parameters={"presentation": [0.04]}, **options)  # fmt: skip
    (row,) = sweep.rows
    assert row["network"] == "plasticity(presentation=0.04)"
    assert json.loads(sweep.tasks[0].cells[0].settings)["parameter"] == "presentation"
    assert set(row["measures"]) == set(STORAGE_METRICS)
    assert row["measures"]["r_feature_to_memory"] > 0.8
    assert row["fraction_identity"] == row["measures"]["accuracy_learned"]
    assert row["fraction_correct"] is None  # no SSE criterion: not computed

    from neuro_uhn.experiments import plasticity

    def forbidden(*args, **kwargs):
        raise AssertionError("a stored point was recomputed")

    monkeypatch.setattr(plasticity, "storage_point", forbidden)
    again = run_experiment("storage", digits, store=tmp_path / "s.sqlite", workers=1,
                           parameters={"presentation": [0.04]}, **options)  # fmt: skip
    assert (again.computed, again.reused) == (0, 1)
    with pytest.raises(ValidationError, match="must name storage parameters") as err:
        plan("storage", digits, parameters=["inhibition"], **options)
    assert err.value.argument == "parameters"
    with pytest.raises(ValidationError, match="no SSE criterion") as err:
        plan("storage", digits, threshold=5.0, **options)
    assert err.value.argument == "threshold"


def _values(rows):
    """Rows without their timings (the wall time differs between runs)."""
    out = []
    for r in rows:
        m = {k: v for k, v in r["measures"].items() if k != "wall_seconds_per_query"}
        out.append({**{k: v for k, v in r.items() if k not in ("seconds", "measures")}, **m})
    return out


@pytest.mark.slow
def test_the_circuit_on_a_process_pool_and_dask_gives_the_same_rows(digits):
    """Workers import Brian2 on their main thread (a Dask task runs on another thread, and
    Brian2's import installs a signal handler)."""
    distributed = pytest.importorskip("dask.distributed")
    options = {**TINY, "max_queries": 2, "parameters": {"inhibition": [0.0, 1.0]}}
    local = run_experiment("circuit", digits, workers=1, **options).rows
    pooled = run_experiment("circuit", digits, workers=2, **options).rows
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run_experiment("circuit", digits, scheduler=cluster.scheduler_address,
                                **options).rows  # fmt: skip
    assert _values(local) == _values(pooled) == _values(remote)


def test_a_dask_workers_brian2_setup_leaves_nothing_in_the_temp_folder(tmp_path):
    """The spiking experiments' worker setup imports Brian2 through ``_device.brian``: a
    worker stopped without Python's exit handlers (as Dask stops them) leaves no
    ``brian_debug_*.log`` or ``brian_script_*.py`` behind (a bare ``import brian2`` did)."""
    import os
    import subprocess
    import sys

    pytest.importorskip("dask.distributed")
    from neuro_uhn.experiments import EXPERIMENTS

    calls = EXPERIMENTS["circuit"].worker_setup
    assert calls  # the circuit experiment needs Brian2 on the worker's main thread
    code = (
        "import os\n"
        "from neuro_uhn.experiments.runner import _setup_plugin\n"
        f"_setup_plugin({calls!r}).setup(None)\n"
        "os._exit(0)\n"  # no atexit: Brian2's own clean-up does not run
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("brian_")) == []
    # the check can fail: a bare import, exited the same way, leaves its log
    bare = "import os, brian2\nos._exit(0)\n"
    subprocess.run([sys.executable, "-c", bare], env=env, check=True, timeout=120)
    assert any(p.name.startswith("brian_debug_") for p in tmp_path.iterdir())

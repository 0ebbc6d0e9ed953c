"""The paper's experiments in the neural circuit (``networks=["circuit"]``, ``--network
circuit``): the cells and their labels, a tiny run of both networks on the same cues through
the runner and the store, resumption, the CSV, and the models refused when planned."""

from __future__ import annotations

import csv
import functools
import json
import warnings

import numpy as np
import pytest

from neuro_uhn import corruptions, datasets
from neuro_uhn.app.cli import main
from neuro_uhn.errors import UnsupportedComponent, ValidationError
from neuro_uhn.experiments import EXPERIMENTS, ResultStore, parse_label, plan, run_experiment
from neuro_uhn.experiments._cells import task_rng
from neuro_uhn.experiments.circuit import CELL_MEASURES
from neuro_uhn.experiments.networks import CIRCUIT_NETWORK

#: one memory block of 5 digits, 3 cues, 0.1 s per cue, one similarity: about 3 s per run
TINY = dict(
    runs=1,
    n_memories=[5],
    max_queries=3,
    similarities=["dot"],
    networks=["abstract", "circuit"],
    spiking={"duration": 0.1, "target": "numpy"},
)


@pytest.fixture(scope="module")
def digits():
    return datasets.load("digits")


def _never(*args, **kwargs):
    raise AssertionError("a cell was computed that must not be")


def test_plan_adds_a_circuit_cell_beside_each_abstract_one(digits):
    tasks = plan("capacity", digits, seed=3, **{**TINY, "similarities": ["dot", "manhattan"]})
    cells = [c for t in tasks for c in t.cells]
    assert [(c.network, c.similarity) for c in cells] == [
        ("abstract", "dot"), ("abstract", "manhattan"), ("circuit", "dot"),
        ("circuit", "manhattan"),
    ]  # fmt: skip
    # the abstract cells share one task (one block, one set of cues); each circuit cell is
    # a task of its own, on the same block and cues (same n_memories, corruption, level, run)
    assert [len(t.cells) for t in tasks] == [2, 1, 1]
    assert {(t.n_memories, t.corruption, t.level, t.run) for t in tasks} == {
        (5, "gaussian", 0.5, 0)
    }
    for c in cells:
        labels = (c.convention, c.separation, c.readout, c.association)
        assert labels == ("standard", "max", "identity", "auto")
        assert c.max_queries == 3 and c.experiment == "capacity"
    assert parse_label(cells[2].network) == {"kind": "circuit"}
    assert cells[0].settings == ""  # the abstract cells' keys are those of an abstract run
    settings = json.loads(cells[2].settings)
    assert settings == {**CIRCUIT_NETWORK, "duration": 0.1, "target": "numpy"}
    assert len({c.key for c in cells}) == 4


def test_a_circuit_cells_key_holds_the_circuits_version(digits, monkeypatch):
    """A store written by an earlier circuit is recomputed, not trusted: the circuit cells'
    keys hold CIRCUIT_VERSION (a behaviour change moves no setting), the abstract cells'
    do not."""
    import neuro_uhn.spiking.circuit as circuit_package
    from neuro_uhn.experiments._cells import COMPUTE_VERSION

    def keys():
        cells = [c for t in plan("capacity", digits, seed=3, **TINY) for c in t.cells]
        return {c.network: (c.key, c.version) for c in cells}

    now = keys()
    version = circuit_package.CIRCUIT_VERSION
    assert now["abstract"][1] == COMPUTE_VERSION
    assert now["circuit"][1] == f"{COMPUTE_VERSION}+circuit{version}"
    monkeypatch.setattr(circuit_package, "CIRCUIT_VERSION", version + 1)
    later = keys()
    assert later["abstract"] == now["abstract"]
    assert later["circuit"][0] != now["circuit"][0]


def test_the_circuit_defaults_standard_only_and_leave_out_what_it_cannot_run(digits):
    with pytest.warns(UserWarning, match="leaves out the noise experiment's default model "
                      "similarity 'js'"):  # fmt: skip
        tasks = plan("noise", digits, runs=1, n_memories=[5], levels=[0.1], networks="circuit")
    cells = [c for t in tasks for c in t.cells]
    assert {c.network for c in cells} == {"circuit"} and {c.convention for c in cells} == {
        "standard"
    }
    assert [c.similarity for c in cells] == ["euclidean", "manhattan", "dot", "kl", "reverse_kl"]
    assert json.loads(cells[0].settings) == CIRCUIT_NETWORK == {
        "mode": "circuit", "duration": 0.2, "settle": 0.05, "target": "auto"
    }  # fmt: skip
    assert cells[0].max_queries == 10**9  # every memory is a cue, as in the paper
    # adding the circuit changes no abstract cell: a store of an abstract run is reused
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        both = plan("mask", digits, runs=1, n_memories=[5], levels=[0.5],
                    networks=["abstract", "circuit"])  # fmt: skip
    alone = plan("mask", digits, runs=1, n_memories=[5], levels=[0.5], conventions=["standard"])
    assert [c.key for t in both for c in t.cells if c.network == "abstract"] == [
        c.key for t in alone for c in t.cells
    ]


@pytest.mark.parametrize(
    "options, match",
    [
        ({"similarities": ["js"]}, r"cannot run similarity 'js' with separation 'max'.*similarity "
         r"'js' is not supported.*The circuit supports similarities"),
        ({"similarities": ["dot"], "separations": ["topk(k=2)"]},
         r"cannot run similarity 'dot' with separation 'topk\(k=2\)'.*separation 'topk' with "
         r"k=2 is not supported.*separations identity .*max .*topk \(k = 1 only"),
        ({"similarities": ["euclidean"], "separations": ["softmax"]},
         r"'euclidean' \(not squared\) with softmax is not supported"),
    ],
)  # fmt: skip
def test_an_unsupported_model_is_refused_when_planned(digits, options, match, monkeypatch):
    from neuro_uhn.experiments import runner

    monkeypatch.setattr(runner, "_execute", _never)
    with pytest.raises(UnsupportedComponent, match=match):
        plan("capacity", digits, runs=1, n_memories=[5], networks=["circuit"], **options)
    with pytest.raises(UnsupportedComponent, match=match):
        run_experiment("mask", digits, runs=1, n_memories=[5], networks=["abstract", "circuit"],
                       **options)  # fmt: skip


@pytest.mark.parametrize(
    "experiment, options, match",
    [
        ("capacity", {"networks": ["circuit"], "conventions": ["paper"]},
         "the circuit network runs in the standard convention only"),
        ("capacity", {"networks": ["circuit", "circuit"]}, "names 'circuit' twice"),
        ("noise", {"networks": ["spiking"]}, "must name networks among"),
        ("separation", {"networks": ["circuit"]}, "runs the abstract network only"),
        ("circuit", {"networks": ["circuit"]}, "'networks' is not used by the circuit"),
        ("mask", {"max_queries": 3}, r"not used by the mask experiment \(it applies to the "
         r"circuit network"),
        ("mask", {"spiking": {"duration": 0.1}}, "'spiking' is not used by the mask"),
        ("mask", {"networks": ["circuit"], "spiking": {"seed": 1}}, "leave 'seed' out"),
        ("mask", {"networks": ["circuit"], "spiking": {"model": "mchn"}}, "leave it out"),
        ("mask", {"networks": ["circuit"], "spiking": {"wta_gain": 2.0}}, "'spiking'"),
    ],
)  # fmt: skip
def test_network_options_are_checked(digits, experiment, options, match):
    with pytest.raises(ValidationError, match=match):
        plan(experiment, digits, runs=1, n_memories=[5], similarities=None, **options)


def test_a_tiny_run_stores_both_networks_on_the_same_cues_and_resumes(
    digits, tmp_path, monkeypatch
):
    import neuro_uhn.spiking as spiking

    seen = []
    real_compare = spiking.compare

    def recording(model, M, Q, **kwargs):
        result = real_compare(model, M, Q, **kwargs)
        seen.append((M, Q, kwargs, result))
        return result

    monkeypatch.setattr(spiking, "compare", recording)
    path = tmp_path / "capacity.sqlite"
    sweep = run_experiment("capacity", digits, store=path, workers=1, seed=0, **TINY)
    assert (sweep.computed, sweep.reused) == (2, 0)
    abstract, circuit = sweep.rows
    assert (abstract["network"], circuit["network"]) == ("abstract", "circuit")

    # the memories and cues, made here from the task's definition: run 0's block starts at
    # row 0; every memory is corrupted with the task's RNG and the first 3 are the cues
    M = digits.images[:5]
    rng = task_rng(0, "gaussian", 0.5, 5, 0)
    Q = corruptions.corrupt(M, "gaussian", 0.5, digits.image_shape, rng)[:3]
    T = 60.0 * 64 / 784  # the standard criterion on 64 pixels
    # the abstract model (dot, max): the best-scoring memory
    Z = M[np.argmax(Q @ M.T, axis=1)]
    nearest = np.argmin(((Z[:, None] - M[None]) ** 2).sum(-1), axis=1)
    assert abstract["n_queries"] == circuit["n_queries"] == 3
    assert abstract["fraction_identity"] == pytest.approx(np.mean(nearest == np.arange(3)))
    assert abstract["fraction_correct"] == pytest.approx(np.mean(((Z - M[:3]) ** 2).sum(1) <= T))

    # the circuit ran on exactly those memories and cues, with the cell's threshold
    [(M_c, Q_c, kwargs, result)] = seen
    np.testing.assert_array_equal(M_c, M)
    np.testing.assert_array_equal(Q_c, Q)
    assert kwargs["threshold"] == pytest.approx(T)
    assert kwargs["config"].mode == "circuit" and kwargs["config"].duration == 0.1
    assert kwargs["config"].seed == int(task_rng(0, "circuit", "gaussian", 0.5, 5, 0)
                                        .integers(2**31))  # fmt: skip
    # its numbers, from its own outputs
    Zs = result.z_spiking
    near_s = np.argmin(((Zs[:, None] - M[None]) ** 2).sum(-1), axis=1)
    assert circuit["fraction_identity"] == pytest.approx(np.mean(near_s == np.arange(3)))
    assert circuit["fraction_correct"] == pytest.approx(np.mean(((Zs - M[:3]) ** 2).sum(1) <= T))
    assert circuit["agreement"] == pytest.approx(np.mean(near_s == nearest))
    for r in sweep.rows:
        assert 0 <= r["fraction_correct"] <= 1 and 0 <= r["fraction_identity"] <= 1
    # its other measures are in the store; the abstract model's accuracy there is the
    # abstract cell's (the same cues, computed by compare)
    assert set(circuit["measures"]) == set(CELL_MEASURES)
    assert circuit["measures"]["accuracy_abstract"] == abstract["fraction_identity"]
    assert circuit["measures"]["sse_accuracy_abstract"] == abstract["fraction_correct"]
    assert circuit["measures"]["spikes_per_retrieval"] > 0
    with ResultStore(path) as store:
        assert {r["key"]: r.get("measures") for r in store.rows()} == {
            r["key"]: r.get("measures") for r in sweep.rows
        }

    # resumed: nothing is recomputed, the rows are the stored ones
    monkeypatch.setattr(spiking, "compare", _never)
    monkeypatch.setattr("neuro_uhn.experiments._cells.compute_abstract", _never)
    again = run_experiment("capacity", digits, store=path, workers=1, seed=0, **TINY)
    assert (again.computed, again.reused) == (0, 2)
    assert again.rows == sweep.rows


def test_the_cli_runs_both_networks_into_the_store_and_the_csv(tmp_path, capsys):
    store, table = tmp_path / "mask.sqlite", tmp_path / "mask.csv"
    argv = ["run", "mask", "--dataset", "digits", "--network", "abstract,circuit",
            "--similarity", "dot", "--n-memories", "5", "--max-queries", "2", "--levels", "0.5",
            "--runs", "1", "--duration", "0.1", "--workers", "1", "--no-progress",
            "--store", str(store), "--csv", str(table)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2 cells (2 computed, 0 from the store)" in out and "circuit" in out
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["network"] for r in rows] == ["abstract", "circuit"]
    assert [r["n_queries"] for r in rows] == ["2", "2"]
    assert all(r["convention"] == "standard" and r["experiment"] == "mask" for r in rows)
    assert rows[0]["agreement"] == "" and 0 <= float(rows[1]["agreement"]) <= 1
    with ResultStore(store) as db:
        assert sorted(r["network"] for r in db.rows()) == ["abstract", "circuit"]
    assert main(argv) == 0  # resumed from the store
    assert "2 cells (0 computed, 2 from the store)" in capsys.readouterr().out


def test_the_cli_passes_duration_and_settle_to_the_circuit_cells(monkeypatch):
    import neuro_uhn.experiments as experiments

    seen = {}

    class Planned(BaseException):  # stops the command once the options are seen
        pass

    @functools.wraps(experiments.plan)  # the parser reads the defaults from its signature
    def stop(name, dataset, **options):
        seen.update(options)
        raise Planned

    monkeypatch.setattr(experiments, "plan", stop)
    argv = ["run", "capacity", "--dataset", "digits", "--network", "abstract,circuit",
            "--duration", "0.4", "--settle", "0.2", "--no-progress"]  # fmt: skip
    with pytest.raises(Planned):
        main(argv)
    assert seen["spiking"] == {"duration": 0.4, "settle": 0.2}
    seen.clear()
    with pytest.raises(Planned):
        main(["run", "capacity", "--dataset", "digits", "--network", "circuit", "--no-progress"])
    assert "spiking" not in seen  # the defaults: the cells' keys of earlier runs


def test_the_cli_refuses_a_circuit_option_without_the_circuit(capsys, monkeypatch):
    from neuro_uhn.experiments import runner

    monkeypatch.setattr(runner, "_execute", _never)
    argv = ["run", "capacity", "--dataset", "digits", "--duration", "0.1", "--no-progress"]
    assert main(argv) == 2
    assert "--duration is not used by the capacity experiment" in capsys.readouterr().err
    argv = ["run", "capacity", "--dataset", "digits", "--network", "circuit", "--similarity",
            "js", "--no-progress"]  # fmt: skip
    assert main(argv) == 2
    assert "cannot run similarity 'js'" in capsys.readouterr().err


def test_dask_workers_import_brian2_for_circuit_cells_only(digits):
    exp = EXPERIMENTS["noise"]
    abstract = plan("noise", digits, runs=1, n_memories=[5], levels=[0.1], similarities=["dot"])
    both = plan("noise", digits, runs=1, n_memories=[5], levels=[0.1], similarities=["dot"],
                networks=["abstract", "circuit"])  # fmt: skip
    assert exp.setup_calls(abstract) == ()
    assert exp.setup_calls(both) == ("neuro_uhn.spiking.device:brian",)


@pytest.mark.slow
def test_a_process_pool_and_dask_give_the_same_circuit_rows(digits):
    distributed = pytest.importorskip("dask.distributed")
    options = {**TINY, "max_queries": 2, "similarities": ["dot", "cosine"]}

    def values(rows):
        skip = ("seconds", "measures")
        return [{k: v for k, v in r.items() if k not in skip} for r in rows]

    local = run_experiment("noise", digits, workers=1, levels=[0.2], **options).rows
    pooled = run_experiment("noise", digits, workers=2, levels=[0.2], **options).rows
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run_experiment("noise", digits, scheduler=cluster.scheduler_address,
                                levels=[0.2], **options).rows  # fmt: skip
    assert values(local) == values(pooled) == values(remote)
    assert [r["network"] for r in local] == ["abstract", "abstract", "circuit", "circuit"]

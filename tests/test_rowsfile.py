"""The JSON results file of the circuit and storage sweeps on one's own data (RowsFile):
checked before the first point, another program's JSON refused untouched, processes sharing
one file lose no row, a failed write leaves the old rows and no temporary file.

The sweeps run with their point function replaced by a fast stand-in: what is tested is the
file, not the circuit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from neuro_uhn.errors import NeuroUHNError, StoreError, ValidationError
from neuro_uhn.experiments import circuit as circuit_module
from neuro_uhn.experiments import plasticity as storage_module

M = np.random.default_rng(0).random((4, 16))


def _point(value, label="a"):
    return dict(model="uhn_best", memories=M, queries=M, targets=np.arange(4), config="c",
                sweep="n", value=value, label=label)  # fmt: skip


def fake_storage(*args, **kwargs):
    return {"accuracy_learned": 1.0, "accuracy_set": 1.0}


def fake_circuit(*args, **kwargs):
    return dict.fromkeys(circuit_module.VALIDATION_METRICS, 1.0)


def _base():
    from neuro_uhn.spiking import SpikingConfig

    return SpikingConfig(mode="circuit", duration=0.1, settle=0.05, seed=1)


def _never(*args, **kwargs):
    raise AssertionError("a point was computed for a results file that cannot be used")


def _sweeps(tmp_path, monkeypatch):
    """Both sweeps, each as ``run(path)``, with their point functions made fatal."""
    monkeypatch.setattr(storage_module, "storage_point", _never)
    monkeypatch.setattr(circuit_module, "circuit_point", _never)
    return {
        "storage": lambda path: storage_module.storage_sweep([_point(1)], results=path),
        "circuit": lambda path: circuit_module.circuit_sweep(
            M, M, np.arange(4), parameters={"inhibition": [1.0]}, base=_base(), results=path
        ),
    }


@pytest.mark.parametrize("sweep", ["storage", "circuit"])
def test_a_results_path_that_cannot_be_used_fails_before_the_first_point(
    tmp_path, monkeypatch, sweep
):
    run = _sweeps(tmp_path, monkeypatch)[sweep]
    with pytest.raises(ValidationError, match="folder .* does not exist; create it"):
        run(tmp_path / "missing" / "rows.json")
    with pytest.raises(ValidationError, match="is a folder"):
        run(tmp_path)
    with pytest.raises(ValidationError, match="empty"):
        run("  ")
    assert sorted(os.listdir(tmp_path)) == []


FOREIGN = {
    "another program's list of records": [{"id": 1, "name": "ada"}],
    "a list of numbers": [1, 2, 3],
    "an object": {"rows": []},
    "rows with a key of another kind": [{"key": "k", "data_key": "d"}],
    "rows with a broken value": [
        {
            "data_key": "d",
            "parameter": "p",
            "value": "high",
            "key": 7,
            "n_memories": 1,
            "n_queries": 1,
            "accuracy_learned": 1.0,
        }
    ],  # fmt: skip
}


@pytest.mark.parametrize("what", list(FOREIGN) + ["not JSON", "the other sweep's rows"])
@pytest.mark.parametrize("sweep", ["storage", "circuit"])
def test_another_programs_json_is_refused_untouched_before_the_first_point(
    tmp_path, monkeypatch, sweep, what
):
    run = _sweeps(tmp_path, monkeypatch)[sweep]
    path = tmp_path / "rows.json"
    if what == "not JSON":
        path.write_bytes(b"{not json")
    elif what == "the other sweep's rows":
        other = {"storage": "circuit", "circuit": "storage"}[sweep]
        row = {"data_key": "d", "parameter": "inhibition", "value": 1.0}
        if other == "storage":
            row = {"key": "k", "n_memories": 4, "n_queries": 4, "accuracy_learned": 1.0}
        path.write_text(json.dumps([row]))
    else:
        path.write_text(json.dumps(FOREIGN[what]))
    before = path.read_bytes()
    with pytest.raises(ValidationError, match=f"not a {sweep}-sweep results file") as err:
        run(path)
    assert isinstance(err.value, NeuroUHNError) and err.value.argument == "results"
    assert "move it aside or pass another path" in str(err.value)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["rows.json"]


def test_rows_another_process_wrote_between_two_points_are_kept(tmp_path, monkeypatch):
    """Two sweeps share one file: the one that writes last keeps the other's rows (a file
    written whole from what one process read at its start lost them)."""
    path = tmp_path / "rows.json"
    calls = []

    def interleaved(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # "another process" finishes its points meanwhile
            storage_module.storage_sweep([_point(v, "other") for v in (10, 11)], results=path)
        return fake_storage()

    monkeypatch.setattr(storage_module, "storage_point", interleaved)
    mine = storage_module.storage_sweep([_point(v) for v in (1, 2, 3)], results=path)
    assert [r["value"] for r in mine] == [1, 2, 3]
    stored = json.loads(path.read_text())
    assert sorted(r["value"] for r in stored) == [1, 2, 3, 10, 11]
    assert len({r["key"] for r in stored}) == len(stored)  # and nothing twice


SHARER = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from neuro_uhn.experiments import plasticity

    def point(*args, **kwargs):
        time.sleep(0.002)
        return {"accuracy_learned": 1.0}

    plasticity.storage_point = point
    M = np.random.default_rng(0).random((4, 16))
    path, who, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    points = [dict(model="uhn_best", memories=M, queries=M, targets=np.arange(4), config="c",
                   label=label, value=v) for v in range(n) for label in (who, "both")]
    print("ready", flush=True)
    while not os.path.exists(go):  # all processes start their sweeps together
        time.sleep(0.001)
    rows = plasticity.storage_sweep(points, results=path)
    assert [(r["label"], r["value"]) for r in rows] == [(p["label"], p["value"]) for p in points]
    """
)


def test_processes_sharing_one_results_file_lose_and_duplicate_nothing(tmp_path):
    folder, n, who = tmp_path / "results", 25, ("p0", "p1", "p2")
    folder.mkdir()
    path, go = folder / "shared.json", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SHARER, str(path), w, str(n), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for w in who
    ]
    try:
        for p in procs:
            assert p.stdout.readline() == "ready\n", p.stderr.read()
        go.touch()
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    rows = json.loads(path.read_text())
    got = sorted((r["label"], r["value"]) for r in rows)
    assert got == sorted((w, v) for w in (*who, "both") for v in range(n))
    assert os.listdir(folder) == ["shared.json"]  # no temporary or lock file


def test_a_failed_write_keeps_the_old_rows_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    from neuro_uhn.experiments import RowsFile

    path = tmp_path / "rows.json"
    store = RowsFile(path, what="test", key=lambda r: r["k"], required=("k",))
    assert store.add([{"k": 1}, {"k": 1}, {"k": 2}]) == [{"k": 1}, {"k": 2}]
    before = path.read_bytes()

    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StoreError, match="could not be written .*No space left.*unchanged"):
        store.add([{"k": 3}])
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["rows.json"]
    monkeypatch.undo()
    assert store.add([{"k": 2}, {"k": 3}]) == [{"k": 1}, {"k": 2}, {"k": 3}]
    with pytest.raises(ValidationError, match="must have \\['k'\\]"):
        store.add([{"j": 1}])


def test_the_circuit_sweep_returns_the_points_asked_for_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(circuit_module, "circuit_point", lambda *a, **k: fake_circuit())
    path = tmp_path / "sweep.json"
    sweep = circuit_module.circuit_sweep
    first = sweep(M, M, np.arange(4), parameters={"inhibition": [0.0, 1.0]}, base=_base(),
                  results=path)  # fmt: skip
    assert [r["value"] for r in first] == [0.0, 1.0]
    monkeypatch.setattr(circuit_module, "circuit_point", _never)
    again = sweep(M, M, np.arange(4), parameters={"inhibition": [1.0]}, base=_base(),
                  results=path)  # fmt: skip
    assert again == first[1:]


@pytest.mark.parametrize("sweep", ["storage", "circuit"])
def test_a_point_of_an_earlier_circuit_is_recomputed(tmp_path, monkeypatch, sweep):
    """The sweeps' keys hold CIRCUIT_VERSION: rows a changed circuit computed are not
    trusted (a behaviour change moves no setting, so the config alone would not tell)."""
    import neuro_uhn.spiking.circuit as circuit_package

    calls = []

    def counted(fake):
        return lambda *args, **kwargs: calls.append(1) or fake(*args, **kwargs)

    run = _sweeps(tmp_path, monkeypatch)[sweep]  # the sweeps, their points then made countable
    monkeypatch.setattr(storage_module, "storage_point", counted(fake_storage))
    monkeypatch.setattr(circuit_module, "circuit_point", counted(fake_circuit))
    path = tmp_path / "rows.json"
    run(path)
    run(path)
    assert len(calls) == 1  # the second run reuses the row
    monkeypatch.setattr(circuit_package, "CIRCUIT_VERSION", circuit_package.CIRCUIT_VERSION + 1)
    run(path)
    assert len(calls) == 2 and len(json.loads(path.read_text())) == 2  # the old row is kept

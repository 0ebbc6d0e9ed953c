"""The results store's cell key: every input that changes a stored number changes the key, so
a changed sweep recomputes instead of trusting a stale row; and nothing else does, so an
unchanged sweep resumes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neuro_uhn.experiments import _cells, plan, run_experiment
from neuro_uhn.experiments.store import ResultStore


@dataclasses.dataclass(frozen=True)
class Data:
    name: str
    images: np.ndarray
    image_shape: tuple[int, ...]
    stand_in: str | None = None


_rng = np.random.default_rng(7)
BASE = Data("blobs", _rng.random((60, 16)), (4, 4))
OPTIONS = dict(
    conventions=["standard"],
    runs=2,
    seed=0,
    similarities=["manhattan"],
    separations=["max"],
    n_memories=[5],
    levels=[0.5],
)


def _keys(experiment="mask", data=BASE, **changes):
    tasks = plan(experiment, data, **{**OPTIONS, **changes})
    return {c.key for t in tasks for c in t.cells}


def _one_pixel(data):
    images = data.images.copy()
    images[0, 0] = 1.0 - images[0, 0]
    return dataclasses.replace(data, images=images)


CHANGES = {
    "dataset content (one pixel)": dict(data=_one_pixel(BASE)),
    "dataset order": dict(data=dataclasses.replace(BASE, images=BASE.images[::-1].copy())),
    "dataset size": dict(data=dataclasses.replace(BASE, images=BASE.images[:50].copy())),
    "image shape (4x4 -> 2x8)": dict(data=dataclasses.replace(BASE, image_shape=(2, 8))),
    "image shape (4x4 -> 8x2)": dict(data=dataclasses.replace(BASE, image_shape=(8, 2))),
    "dataset dtype": dict(
        data=dataclasses.replace(BASE, images=BASE.images.astype(np.float32).astype(np.float64))
    ),
    "dataset name": dict(data=dataclasses.replace(BASE, name="other")),
    "seed": dict(seed=1),
    "runs (block of run 1 unchanged, new run 2)": dict(runs=3),
    "level": dict(levels=[0.25]),
    "n_memories": dict(n_memories=[6]),
    "similarity": dict(similarities=["euclidean"]),
    "separation": dict(separations=["softmax(beta=10)"]),
    "convention": dict(conventions=["paper"]),
    "threshold": dict(threshold=3.0),
}


@pytest.mark.parametrize("what", list(CHANGES))
def test_changing_any_input_of_a_cell_changes_its_key(what):
    base, changed = _keys(), _keys(**CHANGES[what])
    if what.startswith("runs"):
        assert base < changed  # the runs already there are the same cells
    else:
        assert base.isdisjoint(changed), what


def test_the_library_version_of_the_computation_is_in_the_key(monkeypatch):
    base = _keys()
    from neuro_uhn.experiments import runner

    monkeypatch.setattr(runner, "COMPUTE_VERSION", _cells.COMPUTE_VERSION + ".test")
    assert base.isdisjoint(_keys())


def test_spiking_settings_are_in_the_key():
    opts = dict(conventions=["standard"], runs=1, n_memories=[5], levels=[0.1], models=["mchn"])
    a = plan("spiking", BASE, **opts, spiking={"mode": "hybrid", "duration": 0.3})
    b = plan("spiking", BASE, **opts, spiking={"mode": "hybrid", "duration": 0.2})
    c = plan("spiking", BASE, **opts, spiking={"mode": "spiking", "duration": 0.3})
    keys = [{cell.key for t in p for cell in t.cells} for p in (a, b, c)]
    assert keys[0].isdisjoint(keys[1]) and keys[0].isdisjoint(keys[2])


def test_the_same_sweep_has_the_same_keys_and_every_key_field_is_an_input():
    assert _keys() == _keys()
    # the audit: each field of Cell is an input of the computation or a label of the row
    fields = {f.name for f in dataclasses.fields(_cells.Cell)}
    assert {"dataset_fingerprint", "image_shape", "version", "seed", "settings"} <= fields


def test_a_changed_image_shape_recomputes_through_the_store(tmp_path):
    """End to end: the mask experiment on 4x4 then 2x8 images of the same pixels."""
    store = tmp_path / "r.sqlite"
    opts = dict(OPTIONS, runs=1)
    first = run_experiment("mask", BASE, store=store, workers=1, **opts)
    assert first.computed == len(first.rows) > 0
    again = run_experiment("mask", BASE, store=store, workers=1, **opts)
    assert again.computed == 0 and again.reused == len(first.rows)
    reshaped = dataclasses.replace(BASE, image_shape=(2, 8))
    other = run_experiment("mask", reshaped, store=store, workers=1, **opts)
    assert other.computed == len(other.rows) and other.reused == 0
    with ResultStore(store) as db:
        assert len(db) == 2 * len(first.rows)

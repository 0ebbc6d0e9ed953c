"""The KL ablation (form × ε × noise): its corners are the capacity experiment's cells, and a
cell equals a brute-force loop over the official formula."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from neuro_uhn.experiments import run_experiment
from neuro_uhn.experiments._cells import block_indices, task_rng
from neuro_uhn.experiments.ablation import KL_FORMS, kl_ablation

from . import reference as ref

DATA = SimpleNamespace(
    name="blobs",
    title="blobs",
    images=np.random.default_rng(5).random((120, 36)) ** 3,  # dark images, like digits
    image_shape=(6, 6),
    stand_in=None,
)
OFFICIAL, STANDARD = list(KL_FORMS)


@pytest.fixture(scope="module")
def rows():
    return kl_ablation(DATA, n_memories=20, runs=2, sigma=0.4)  # block: all 120 images


def _cell(rows, **key):
    found = [r for r in rows if all(r[k] == v for k, v in key.items())]
    return {r["run"]: r for r in found}


def test_one_row_per_direction_form_eps_noise_and_run(rows):
    assert len(rows) == 2 * 2 * 2 * 2 * 2
    assert {r["noise"] for r in rows} == {"folded", "zero-mean"}
    assert all(0 <= r["fraction_identity"] <= 1 for r in rows)


def test_corners_are_the_capacity_experiments_cells(rows):
    sweep = run_experiment("capacity", DATA, workers=1, runs=2, n_memories=[20],
                           similarities=["kl", "reverse_kl"], levels=[0.4])  # fmt: skip
    for r in sweep.rows:
        form, eps, noise = (
            (OFFICIAL, 1e-4, "folded") if r["convention"] == "paper" else
            (STANDARD, 1e-6, "zero-mean")
        )  # fmt: skip
        cell = _cell(rows, direction=r["similarity"], form=form, eps=eps, noise=noise)
        assert cell[r["run"]]["fraction_identity"] == r["fraction_identity"]
        if r["convention"] == "standard":  # same T = 60·D/784 (the paper's is 60·784/D)
            assert cell[r["run"]]["fraction_correct"] == r["fraction_correct"]


def test_official_form_with_zero_mean_noise_matches_a_loop(rows):
    run, n = 1, 20
    M = DATA.images[block_indices(len(DATA.images), 120, run, 0)[:n]]
    rng = task_rng(0, "gaussian", 0.4, n, run)
    Q = np.clip(M + 0.4 * rng.standard_normal(M.shape), 0, 1)
    S = ref.pairwise(M, Q, ref.official_inverse_kl)  # 1/KL with ε = 1e-4 inside the logs
    S = S / S.sum(axis=1, keepdims=True)  # the official sum-normalisation
    expected = np.mean(np.argmax(S, axis=1) == np.arange(n))
    cell = _cell(rows, direction="kl", form=OFFICIAL, eps=1e-4, noise="zero-mean")
    assert cell[run]["fraction_identity"] == pytest.approx(expected)


def test_bad_n_memories_is_named():
    with pytest.raises(ValueError, match="'n_memories'"):
        kl_ablation(DATA, n_memories=500, runs=1)

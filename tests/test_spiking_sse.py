"""The spiking experiment scores sign read-out models (bipolar images) on the same pixel
scale as the others: a wrong pixel costs 1 in the summed squared error, not 4."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("brian2")

from neuro_uhn import corruptions  # noqa: E402
from neuro_uhn.experiments import run_experiment  # noqa: E402
from neuro_uhn.experiments._cells import block_indices, task_rng  # noqa: E402

DATA = SimpleNamespace(
    name="blobs",
    title="blobs",
    images=np.random.default_rng(2).random((40, 64)),
    image_shape=(8, 8),
    stand_in=None,
)


def test_sign_models_are_scored_as_binary_images():
    n, level = 6, 0.3
    sweep = run_experiment(
        "spiking", DATA, workers=1, runs=1, n_memories=[n], levels=[level], models=["hopfield"],
        max_queries=n, threshold=8.0, spiking={"mode": "continuous", "duration": 0.05},
    )  # fmt: skip
    [row] = [r for r in sweep.rows if r["network"] == "abstract"]
    # the reference: bipolar memories and cues, one step of sign(Mᵀ M q), errors in pixels
    M = DATA.images[block_indices(len(DATA.images), n, 0, 0)[:n]]
    rng = task_rng(0, "gaussian", level, n, 0)
    Q = np.clip(M + level * rng.standard_normal(M.shape), 0, 1)
    Mb, Qb = corruptions.to_bipolar(M), corruptions.to_bipolar(Q)
    Z = np.where(Qb @ Mb.T @ Mb >= 0, 1.0, -1.0)
    wrong_pixels = ((Z != Mb).sum(axis=1)).astype(float)
    assert row["fraction_correct"] == pytest.approx(np.mean(wrong_pixels <= 8.0))

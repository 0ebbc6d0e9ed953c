"""Tests that catch realistic bugs an outside mutation check planted and the suite missed:
masks that truncate instead of rounding, thresholds that compare with > instead of >=, and a
command line whose fractions are only range-checked rather than recomputed."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn import corruptions, metrics
from neuro_uhn.app.cli import main

from . import reference as ref

# (height, fraction, rows masked by rounding, rows masked by truncation): the exact products
# that sit on or near .5, where round() and int() part ways (and where they agree, as guards)
ROUNDING = [
    (6, 0.25, 2, 1),  # 1.5
    (28, 0.7, 20, 19),  # 19.599999999999998
    (28, 0.3, 8, 8),  # 8.4
    (10, 0.15, 2, 1),  # 1.5
    (8, 0.3125, 2, 2),  # 2.5 (round half to even)
    (4, 0.375, 2, 1),  # 1.5
    (28, 0.5, 14, 14),
    (5, 0.9, 4, 4),  # 4.5 (round half to even)
    (7, 0.95, 7, 6),  # 6.65
    (3, 0.5, 2, 1),  # 1.5
]


@pytest.mark.parametrize("H, f, rounded, truncated", ROUNDING)
def test_standard_masking_rounds_the_row_count(H, f, rounded, truncated):
    assert int(round(f * H)) == rounded and int(f * H) == truncated  # the table is right
    W = 3
    img = np.ones((2, H * W))
    out = corruptions.mask_bottom(img, f, (H, W)).reshape(2, H, W)
    zero_rows = int((out[0].sum(axis=1) == 0).sum())
    assert zero_rows == rounded
    assert (out[:, : H - rounded] == 1).all() and (out[:, H - rounded :] == 0).all()
    assert corruptions.masked_rows(H, f) == rounded


@pytest.mark.parametrize("radius", [0, 1, 2, 3])
def test_threshold_separation_keeps_scores_equal_to_theta(radius):
    # Hamming scores are exact integers: memory i is exactly i bits away from the query
    q = np.zeros(6)
    M = np.array([np.r_[np.ones(i), np.zeros(6 - i)] for i in range(5)])
    W = nu.separation.make({"kind": "threshold", "theta": -float(radius)})(
        nu.similarity.make("hamming")(M, q)
    )
    np.testing.assert_array_equal(W, [1.0 if i <= radius else 0.0 for i in range(5)])


@pytest.mark.parametrize("threshold", [0.0, 1.0, 2.0, 5.0, 13.0])
def test_sse_criterion_counts_an_error_equal_to_the_threshold_as_correct(threshold):
    target = np.zeros((1, 16))
    exact = target.copy()
    exact[0, : int(threshold)] = 1.0  # SSE = threshold exactly
    assert metrics.sse_correct(exact, target, threshold)[0]
    above = exact.copy()
    above[0, -1] = 0.25  # SSE = threshold + 1/16
    assert not metrics.sse_correct(above, target, threshold)[0]


def _reference_fractions(images, n, run, level, similarity, block, threshold, seed=0):
    """One cell recomputed with the brute-force loops: the corrupted cues come from the
    sweep's seeded protocol, everything after them from tests/reference.py."""
    from neuro_uhn.experiments._cells import block_indices, corrupt, task_rng

    idx = block_indices(len(images), block, run, seed)
    M = images[idx[:n]]
    rng = task_rng(seed, "gaussian", level, n, run)
    Q = corrupt(M, "gaussian", level, None, rng)
    Z = ref.retrieve_loop(M, Q, ref.STANDARD[similarity], ref.sep_max)
    sse_ok = np.sum((Z - M) ** 2, axis=1) <= threshold
    nearest = [int(np.argmin([np.sum((z - m) ** 2) for m in M])) for z in Z]
    return float(np.mean(sse_ok)), float(np.mean(np.array(nearest) == np.arange(n)))


def test_cli_run_fractions_equal_the_recomputed_cells(tmp_path, capsys):
    rng = np.random.default_rng(5)
    raw = rng.random((30, 16))
    np.save(tmp_path / "data.npy", raw)
    argv = ["run", "noise", "--dataset", str(tmp_path / "data.npy"), "--n-memories", "6",
            "--runs", "2", "--levels", "0.2,0.6", "--similarity", "manhattan,dot",
            "--convention", "standard", "--workers", "1", "--no-progress",
            "--csv", str(tmp_path / "t.csv")]  # fmt: skip
    assert main(argv) == 0
    with open(tmp_path / "t.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 2
    images = raw[np.random.default_rng(0).permutation(30)]  # the dataset's seeded order
    threshold = 60.0 * 16 / 784
    fractions = set()
    for r in rows:
        assert float(r["threshold"]) == pytest.approx(threshold)
        want = _reference_fractions(images, 6, int(r["run"]), float(r["level"]),
                                    r["similarity"], 30, threshold)  # fmt: skip
        got = (float(r["fraction_correct"]), float(r["fraction_identity"]))
        assert got == pytest.approx(want), r
        fractions.add(got)
    assert len(fractions) > 1  # the cells differ: a constant answer cannot pass

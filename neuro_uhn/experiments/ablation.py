"""Ablations: which difference between the conventions moves a result.

:func:`kl_ablation` crosses the three things that differ between the official KL / reverse-KL
retrieval and the standard one — the *form* (ε inside the logarithms and the official
normalise–separate–normalise pipeline, vs smoothed distributions), the value of *ε* (1e-4,
the official one, vs 1e-6, ours) and the *noise* (the official folded noise vs zero-mean
noise) — on the capacity experiment's cells (Gaussian σ = 0.5, max separation). The corner
cells are exactly the capacity experiment's paper and standard cells: same memory blocks,
same noise streams (:func:`neuro_uhn.experiments._cells.task_rng`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import metrics
from ..retrieval import retrieve
from ._cells import block_indices, corrupt, task_rng

__all__ = ["KL_FORMS", "kl_ablation"]

#: form → (similarity kind for KL, for reverse KL, convention)
KL_FORMS: dict[str, tuple[str, str, str]] = {
    "official (ε in the logs, sum-normalised)": ("inverse_kl", "inverse_reverse_kl", "paper"),
    "standard (smoothed distributions)": ("kl", "reverse_kl", "standard"),
}
NOISES = {"folded": "gaussian_folded", "zero-mean": "gaussian"}


def kl_ablation(
    dataset: Any = "mnist",
    *,
    n_memories: int = 100,
    sigma: float = 0.5,
    eps: tuple[float, ...] = (1e-4, 1e-6),
    runs: int = 5,
    seed: int = 0,
    block_size: int = 1000,
    threshold: float | None = None,
) -> list[dict[str, Any]]:
    """One row per (direction, form, ε, noise, run): identity and SSE accuracy.

    ``block_size`` is the capacity experiment's (its largest N), so that each run's first
    ``n_memories`` images are the capacity experiment's memories. ``threshold`` defaults to
    the paper's 60 per 784 pixels.
    """
    from ..datasets import load

    ds = load(dataset, seed=seed) if isinstance(dataset, str) else dataset
    images = np.asarray(ds.images, dtype=float)
    block_size = min(block_size, len(images))
    if not 1 <= n_memories <= block_size:
        raise ValueError(f"'n_memories' must be in 1..{block_size}; got {n_memories}")
    if threshold is None:
        threshold = metrics.paper_threshold(images.shape[1])
    rows = []
    targets = np.arange(n_memories)
    for run in range(runs):
        idx = block_indices(len(images), block_size, run, seed)
        M = np.ascontiguousarray(images[idx[:n_memories]])
        for noise, corruption in NOISES.items():
            rng = task_rng(seed, corruption, float(sigma), n_memories, run)
            Q = corrupt(M, corruption, sigma, ds.image_shape, rng)
            for direction in ("kl", "reverse_kl"):
                for form, (kl_kind, rkl_kind, convention) in KL_FORMS.items():
                    kind = kl_kind if direction == "kl" else rkl_kind
                    for e in eps:
                        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                            Z = retrieve(M, Q, similarity={"kind": kind, "eps": e},
                                         separation="max", convention=convention)  # fmt: skip
                        rows.append(
                            {
                                "direction": direction,
                                "form": form,
                                "eps": e,
                                "noise": noise,
                                "run": run,
                                "fraction_identity": float(
                                    np.mean(metrics.identity_correct(Z, M, targets))
                                ),
                                "fraction_correct": float(
                                    np.mean(metrics.sse_correct(Z, M, threshold))
                                ),
                            }
                        )
    return rows

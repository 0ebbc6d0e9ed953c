"""Small retrieval problems suited to each literature model, for comparisons and tests.

Each model was made for a kind of pattern: the classical Hopfield network and DAM for random
bipolar patterns well below capacity, SDM for binary addresses with bipolar contents,
attention for keys of size 64 (its β = 1/8), the continuous models for images. A ``Problem``
carries the memories, the cues, the projection, which memory each cue comes from, and the
rows an output should match (``truth``: the projection, or SDM's stored data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import corruptions
from .errors import ValidationError

__all__ = ["Problem", "model_problem", "PROBLEM_KINDS"]


@dataclass
class Problem:
    memories: np.ndarray  # (n_memories, n_features)
    queries: np.ndarray  # (n_queries, n_features)
    projection: np.ndarray | None  # (n_memories, n_out) or None (auto)
    targets: np.ndarray  # (n_queries,) index of the row of `truth` each query should retrieve
    truth: np.ndarray  # (n_items, n_out): what a correct output looks like
    description: str


PROBLEM_KINDS = {
    "hopfield": "bipolar",
    "dam": "bipolar",
    "sdm": "sdm",
    "attention": "keys",
    "mchn": "digits",
    "uhn_best": "digits",
}


def _memory_limit() -> int:
    """Half the physical memory (4 GiB where the platform does not say)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 4 * 2**30


def model_problem(
    kind: str, n_memories: int = 20, n_queries: int = 50, seed: int = 0, noise: float | None = None
) -> Problem:
    """A problem of ``kind`` ("bipolar", "sdm", "keys", "digits", "patterns") or the kind
    suited to a bundled model's name (``PROBLEM_KINDS``)."""
    kind = PROBLEM_KINDS.get(kind, kind)
    from ._validation import check_int, check_seed

    n_memories = check_int(n_memories, "n_memories", 1)
    n_queries = check_int(n_queries, "n_queries", 1)
    seed = check_seed(seed, allow_none=False)
    if kind == "digits" and n_memories > 1797:
        raise ValidationError(
            f"'n_memories' must be in 1..1797 for the digits problem; got {n_memories}"
        )
    # the largest arrays: queries and memories of up to 256 features (a few copies each), and
    # SDM's 500 hard locations × memories; refused before anything is allocated
    need = 8 * (3 * 256 * (n_queries + n_memories) + 500 * n_memories)
    if need > _memory_limit():
        raise ValidationError(
            f"'n_queries' = {n_queries} and 'n_memories' = {n_memories} need about "
            f"{need / 2**30:.1f} GiB, more than this machine can spare "
            f"({_memory_limit() / 2**30:.1f} GiB): use fewer",
            argument="n_queries" if n_queries >= n_memories else "n_memories",
        )
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, n_memories, n_queries)
    if kind == "bipolar":
        D, flip = 256, 0.1 if noise is None else noise
        M = rng.choice([-1.0, 1.0], size=(n_memories, D))
        Q = corruptions.flip_bits(M[targets], flip, rng)
        return Problem(
            M,
            Q,
            None,
            targets,
            M,
            f"{n_memories} random bipolar patterns (D={D}), {flip:.0%} bits flipped",
        )
    if kind == "sdm":
        D, n_locations, flip = 128, 500, 0.05 if noise is None else noise
        data = rng.choice([-1.0, 1.0], size=(n_memories, D))
        A = rng.integers(0, 2, (n_locations, D)).astype(float)  # hard-location addresses
        bits = (data > 0).astype(float)
        # write: add each pattern to every location within 0.45 D of its address
        near = (A @ bits.T + (1 - A) @ (1 - bits).T) >= D - int(0.45 * D)
        C = near.astype(float) @ data
        Q = (corruptions.flip_bits(data[targets], flip, rng) > 0).astype(float)
        return Problem(
            A,
            Q,
            C,
            targets,
            data,
            f"SDM: {n_locations} hard locations, {n_memories} bipolar patterns "
            f"(D={D}) written, {flip:.0%} bits flipped",
        )
    if kind == "keys":
        D, n_out, flip = 64, 16, 0.1 if noise is None else noise
        K = rng.choice([-1.0, 1.0], size=(n_memories, D))
        V = rng.standard_normal((n_memories, n_out))
        Q = corruptions.flip_bits(K[targets], flip, rng)
        return Problem(
            K,
            Q,
            V,
            targets,
            V,
            f"{n_memories} bipolar keys (D={D}) → random values ({n_out}), "
            f"{flip:.0%} of key bits flipped",
        )
    if kind in ("digits", "patterns"):
        sigma = 0.2 if noise is None else noise
        if kind == "digits":
            from .datasets import load_digits

            X, _ = load_digits()
            M = X[rng.permutation(len(X))[:n_memories]]
            what = "scikit-learn digits (8×8)"
        else:
            M = rng.random((n_memories, 64))
            what = "uniform random patterns (D=64)"
        Q = corruptions.gaussian_noise(M[targets], sigma, rng)
        return Problem(M, Q, None, targets, M, f"{n_memories} {what}, Gaussian noise σ={sigma}")
    from ._suggest import did_you_mean

    kinds = [*PROBLEM_KINDS, "bipolar", "sdm", "keys", "digits", "patterns"]
    raise ValidationError(
        f"unknown problem kind {kind!r}{did_you_mean(kind, kinds)}; use a model name "
        f"({', '.join(PROBLEM_KINDS)}) or one of bipolar, sdm, keys, digits, patterns"
    )

"""Cells and tasks: the unit of bookkeeping and the unit of work.

A *cell* is one number of a figure: (experiment, dataset, convention, similarity,
separation, read-out, association, network, n_memories, corruption, level, threshold, run).
It is what the results store keys on, so a killed sweep resumes cell by cell. A *task* is the
cells that share one memory block and one set of corrupted queries (everything but the
model); it is what a worker computes, so the queries are made once and every model sees the
same ones (a paired comparison).

Randomness is a pure function of the sweep's seed and the task's (corruption, level,
n_memories, run), never of the order tasks run in or of the worker that runs them: a local
pool, a Dask cluster and a resumed sweep give the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import corruptions, metrics
from ..errors import ValidationError
from .labels import parse_label

__all__ = [
    "Cell",
    "Task",
    "compute_abstract",
    "compute_spiking",
    "task_data",
    "COLUMNS",
    "COMPUTE_VERSION",
    "block_indices",
]

#: The version of the computation of a cell, part of every cell's key: bump it whenever a
#: change to the library would change a stored number (a corruption, a metric, a default),
#: so that stores written before are recomputed rather than trusted.
COMPUTE_VERSION = "3"

#: Columns of the tidy table, in order (one row per cell and run).
COLUMNS = (
    "experiment",
    "dataset",
    "convention",
    "similarity",
    "separation",
    "readout",
    "association",
    "network",
    "n_memories",
    "corruption",
    "level",
    "threshold",
    "run",
    "n_queries",
    "fraction_correct",
    "fraction_identity",
    "agreement",
    "seed",
    "stand_in",
    "seconds",
)


@dataclass(frozen=True)
class Cell:
    """What one result depends on; ``key`` hashes all of it (and the sweep context)."""

    experiment: str
    dataset: str
    convention: str
    similarity: str
    separation: str
    readout: str
    association: str
    network: str
    n_memories: int
    corruption: str
    level: float
    threshold: float
    run: int
    # context that changes the numbers without being a table column of its own
    seed: int
    block_size: int
    dataset_fingerprint: str
    max_queries: int
    settings: str = ""  # canonical JSON of extra settings (spiking config)
    image_shape: tuple[int, ...] = ()  # masks and inpainting frames depend on it
    version: str = ""  # COMPUTE_VERSION when planned: how this library computes a cell

    @property
    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Task:
    """Cells sharing one memory block and one set of corrupted queries."""

    experiment: str
    image_shape: tuple[int, ...]
    seed: int
    block_size: int
    n_memories: int
    corruption: str
    level: float
    run: int
    max_queries: int
    stand_in: str
    cells: list[Cell] = field(default_factory=list)


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def task_rng(seed: int, *parts: Any) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``parts`` (stable across processes)."""
    return np.random.default_rng(np.random.SeedSequence([seed, *(_crc(repr(p)) for p in parts)]))


def block_indices(n_images: int, block_size: int, run: int, seed: int) -> np.ndarray:
    """Rows of the dataset that hold run ``run``'s memories.

    Disjoint contiguous blocks (the paper's protocol) while the dataset is large enough;
    beyond that, a seeded random block per run (runs then overlap, and say so nowhere else,
    so the figures note it when ``n_images < runs × block_size``).
    """
    if block_size > n_images:
        raise ValidationError(
            f"the sweep needs {block_size} memories per run but the dataset has only "
            f"{n_images} images: lower --n-memories"
        )
    if (run + 1) * block_size <= n_images:
        return np.arange(run * block_size, (run + 1) * block_size)
    rng = task_rng(seed, "block", block_size, run)
    if block_size == n_images:  # every image is in the block: its order picks the memories
        return rng.permutation(n_images)
    return np.sort(rng.choice(n_images, size=block_size, replace=False))


def corrupt(X: np.ndarray, name: str, level: float, image_shape, rng) -> np.ndarray:
    """:func:`neuro_uhn.corruptions.corrupt` (one table of the corruptions by name)."""
    return corruptions.corrupt(X, name, level, image_shape, rng)


def _top_half_zeroed(X: np.ndarray, image_shape) -> np.ndarray:
    """The hetero projection of the official experiment: each image with its top half zeroed."""
    shape = tuple(image_shape)
    out = X.reshape((len(X),) + shape).copy()
    out[:, : shape[0] // 2] = 0.0
    return out.reshape(X.shape)


def task_data(images: np.ndarray, task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A task's dataset rows, memories and corrupted cues: every memory is corrupted with the
    task's RNG and the first ``min(N, max_queries)`` are the cues (cue ``i`` retrieves memory
    ``i``), so every network of the task sees the same cues."""
    idx = block_indices(len(images), task.block_size, task.run, task.seed)
    M = np.ascontiguousarray(images[idx[: task.n_memories]])
    rng = task_rng(task.seed, task.corruption, task.level, task.n_memories, task.run)
    if task.corruption == "flip":
        M = corruptions.to_bipolar(M)
    Q = corrupt(M, task.corruption, task.level, task.image_shape, rng)
    return idx, M, Q[: min(len(M), task.max_queries)]


def compute_abstract(images: np.ndarray, task: Task) -> list[dict[str, Any]]:
    """The abstract model for every cell of ``task``: the components its labels name."""
    from ..model import UHN
    from ..retrieval import Memory

    rows: list[dict[str, Any]] = []
    idx, M, Q = task_data(images, task)
    bipolar = task.corruption == "flip"
    targets = np.arange(len(Q))
    outputs: dict[tuple, np.ndarray] = {}
    scores: dict[tuple, np.ndarray] = {}  # one similarity matrix serves every separation
    for cell in task.cells:
        t_cell = time.perf_counter()  # a cell's own time (shared scores: the first one's)
        ident = (cell.convention, cell.similarity, cell.separation, cell.readout, cell.association)
        if cell.association == "hetero":
            P = _top_half_zeroed(images[idx[: task.n_memories]], task.image_shape)
            if bipolar:
                P = corruptions.to_bipolar(P)
        else:
            P = M
        if ident not in outputs:
            model = UHN(
                similarity=parse_label(cell.similarity, "similarity"),
                separation=parse_label(cell.separation, "separation"),
                readout=cell.readout,
                association=cell.association,
            )
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                memory = Memory(model, M, projection=P, convention=cell.convention)
                skey = (cell.convention, repr(memory.model.similarity), memory.order_only)
                if skey not in scores:
                    scores[skey] = np.asarray(memory.scores(Q))
                outputs[ident] = np.asarray(memory.project(scores[skey]), dtype=float)
        Z = outputs[ident]
        rows.append(
            _row(
                cell,
                task,
                n_queries=len(Q),
                fraction_correct=float(
                    np.mean(metrics.sse_correct(Z, P[: len(Q)], cell.threshold))
                ),
                fraction_identity=float(np.mean(metrics.identity_correct(Z, P, targets))),
                seconds=time.perf_counter() - t_cell,
            )
        )
    return rows


def _row(cell: Cell, task: Task, **values) -> dict[str, Any]:
    row = {c: getattr(cell, c) for c in COLUMNS if hasattr(cell, c)}
    row.update(agreement=None, stand_in=task.stand_in or None, key=cell.key)
    row.update(values)
    return row


def compute_spiking(images: np.ndarray, task: Task) -> list[dict[str, Any]]:
    """The spiking network and the abstract model for every cell of ``task`` (the
    simulation's settings and the model's name are in the cells' ``settings``)."""
    from ..model import load_model
    from ..spiking import SpikingConfig, compare

    settings = json.loads(task.cells[0].settings or "{}")
    idx = block_indices(len(images), task.block_size, task.run, task.seed)
    base = images[idx[: task.n_memories]]
    rng = task_rng(task.seed, task.corruption, task.level, task.n_memories, task.run)
    n_q = min(task.n_memories, task.max_queries)
    noisy = corrupt(base[:n_q], task.corruption, task.level, task.image_shape, rng)
    rows = []
    by_model: dict[str, list[Cell]] = {}
    for cell in task.cells:
        by_model.setdefault(settings_model(cell), []).append(cell)
    for name, cells in by_model.items():
        t_model = time.perf_counter()
        model = load_model(name)
        threshold = cells[0].threshold
        if model.readout.to_dict()["kind"] == "sign":  # binary models store bipolar images
            M, Q = corruptions.to_bipolar(base), corruptions.to_bipolar(noisy)
            # scored as {0, 1} images, like every other model's pixels: a wrong ±1 entry
            # costs 4 in squared error, a wrong {0, 1} pixel 1, so T becomes 4 T here
            threshold = 4 * threshold
        else:
            M, Q = base, noisy
        config = SpikingConfig(
            mode=settings["mode"],
            duration=settings["duration"],
            target=settings["target"],
            seed=int(
                task_rng(
                    task.seed, "spiking", name, task.level, task.n_memories, task.run
                ).integers(2**31)
            ),
        )
        result = compare(
            model,
            M,
            Q,
            config=config,
            targets=np.arange(n_q),
            threshold=threshold,
            windows=[config.duration],
        )
        for cell in cells:
            spiking = cell.network != "abstract"
            sse = result.sse_correct_spiking if spiking else result.sse_correct_abstract
            ident = result.identity_correct_spiking if spiking else result.identity_correct_abstract
            rows.append(
                _row(
                    cell,
                    task,
                    n_queries=n_q,
                    fraction_correct=float(np.mean(sse)),
                    fraction_identity=float(np.mean(ident)),
                    agreement=result.agreement if spiking else None,
                    seconds=time.perf_counter() - t_model,  # both networks of this model
                )
            )
    return rows


def settings_model(cell: Cell) -> str:
    return json.loads(cell.settings)["model"]

"""Plan a sweep into tasks, skip what the store already holds, run the rest anywhere.

Where the work runs is a choice of executor, not of code: in this process (``workers=1``),
a local process pool (the default), or a Dask distributed cluster (``scheduler=ADDRESS``:
the route to a cluster or an HPC queue through dask-jobqueue). Workers only compute; this
process writes each finished task's cells to the store in one transaction as it arrives,
so an interrupted sweep loses at most the tasks in flight and a rerun computes only those.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import NeuroUHNError, ValidationError, ValidationTypeError
from ._cells import COMPUTE_VERSION, Cell, Task
from ._definitions import CONVENTIONS, EXPERIMENTS, Experiment, Options, compute_task
from .labels import component_spec
from .store import ResultStore

__all__ = ["plan", "run_experiment", "Sweep", "default_threshold", "summarize"]


@dataclass
class Sweep:
    """The rows of every planned cell (stored or computed), in plan order."""

    experiment: str
    dataset: Any
    rows: list[dict[str, Any]]
    computed: int = 0
    reused: int = 0
    tasks: list[Task] = field(default_factory=list, repr=False)


def default_threshold(experiment: str, convention: str, n_features: int) -> float:
    """The squared-error threshold a cell is judged by when the user gives none.

    ``paper``: the official code — 60, and ``60·784/D`` in the capacity experiment (its
    ``normalize_error_threshold``). ``standard``: ``60·D/784``, the same per-pixel mean
    squared error (0.077) as the official MNIST criterion on every image size.
    """
    from ..metrics import paper_threshold

    per_size = EXPERIMENTS[experiment].threshold_per_size
    return paper_threshold(n_features, convention, per_size=per_size)


def _fingerprint(images: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(repr((images.shape, str(images.dtype))).encode())
    h.update(np.ascontiguousarray(images).data)
    return h.hexdigest()[:16]


def _check_ints(values, name: str, minimum: int = 1) -> tuple[int, ...]:
    import numbers

    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ValidationTypeError(f"{name!r} must be a list of integers; got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ValidationTypeError(f"{name!r} must hold integers >= {minimum}; got {v!r}")
        if v < minimum:
            raise ValidationError(f"{name!r} must hold integers >= {minimum}; got {v!r}")
        out.append(int(v))
    if not out:
        raise ValidationError(f"{name!r} must not be empty")
    return tuple(out)


def _check_levels(values, name: str = "levels") -> tuple[float, ...]:
    import numbers

    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ValidationTypeError(f"{name!r} must be a list of numbers; got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValidationTypeError(f"{name!r} must hold finite numbers; got {v!r}")
        if not np.isfinite(v):
            raise ValidationError(f"{name!r} must hold finite numbers; got {v!r}")
        if v < 0:
            raise ValidationError(f"{name!r} must hold numbers >= 0; got {v!r}")
        out.append(float(v))
    if not out:
        raise ValidationError(f"{name!r} must not be empty")
    return tuple(out)


#: The most cells one sweep may plan (a typo such as --runs 1000000 is refused at once
#: instead of planning for minutes and filling memory).
MAX_CELLS = 1_000_000


def _check_size(exp: Experiment, opts: Options, runs: int) -> None:
    per_run = sum(1 for _ in itertools.islice(exp.grid(opts), MAX_CELLS // runs + 1))
    if runs * per_run > MAX_CELLS:
        raise ValidationError(
            f"the {exp.name} sweep would have at least {runs * per_run:,} cells, more than "
            f"{MAX_CELLS:,}: lower 'runs' ({runs}) or the number of levels, N values or "
            "components",
            argument="runs",
        )


def plan(
    experiment: str,
    dataset,
    *,
    conventions: Sequence[str] | None = None,
    runs: int = 5,
    seed: int = 0,
    similarities: Sequence[str] | None = None,
    separations: Sequence[str] | None = None,
    n_memories: Sequence[int] | None = None,
    levels: Sequence[float] | None = None,
    threshold: float | None = None,
    models: Sequence[str] | None = None,
    max_queries: int | None = None,
    spiking: dict[str, Any] | None = None,
    parameters: Sequence[str] | dict[str, Sequence[float]] | None = None,
    networks: Sequence[str] | None = None,
) -> list[Task]:
    """The tasks (and their cells) of ``experiment`` on ``dataset`` (a :class:`Dataset`).

    Generic: the options are checked here, the cells come from the experiment's
    :meth:`~Experiment.grid` (once per run), and the cells with one
    :meth:`~Experiment.task_key` (by default those that share a memory block and a set of
    corrupted cues: n_memories, corruption, level, run) form one task.

    ``networks`` (capacity, noise, mask): ``["abstract"]`` (default), ``["circuit"]`` or
    both: each cell also computed by the neural circuit, in the standard convention, on the
    same memories and cues (:mod:`neuro_uhn.experiments.networks`); ``spiking`` then
    overrides the circuit's simulation settings and ``max_queries`` caps the cues of every
    cell. A model the circuit does not realise is refused here.
    """
    if not isinstance(experiment, str):
        raise ValidationTypeError(
            f"'experiment' must be one of {list(EXPERIMENTS)}; got {type(experiment).__name__}"
        )
    if experiment not in EXPERIMENTS:
        from .._suggest import did_you_mean

        raise ValidationError(
            f"unknown experiment {experiment!r}{did_you_mean(experiment, EXPERIMENTS)}; "
            f"expected one of {list(EXPERIMENTS)}"
        )
    exp = EXPERIMENTS[experiment]
    from .networks import check_networks

    networks = check_networks(networks, experiment, exp.networks)
    conventions, similarities, separations, models = (
        _labels(v, name, experiment)
        for v, name in (
            (conventions, "conventions"),
            (similarities, "similarities"),
            (separations, "separations"),
            (models, "models"),
        )
    )
    if "circuit" in networks:
        if conventions and "paper" in conventions:
            raise ValidationError(
                "the circuit network runs in the standard convention only (the official "
                "pipeline's reciprocal distances and sum-normalisations have no circuit form): "
                "pass conventions=['standard'] (--convention standard)",
                argument="conventions",
            )
        conventions = conventions or ("standard",)
    conventions = conventions or exp.conventions
    for c in conventions:
        if c not in CONVENTIONS:
            raise ValidationError(f"'convention' must be one of {list(CONVENTIONS)}; got {c!r}")
        if c not in exp.conventions:
            only = " and ".join(repr(k) for k in exp.conventions)
            raise ValidationError(f"the {experiment} experiment runs in the {only} convention only")
    exp.refuse_unused(
        networks,
        similarities=similarities,
        separations=separations,
        threshold=threshold,
        models=models,
        max_queries=max_queries,
        spiking=spiking,
        parameters=parameters,
    )
    runs = _check_ints([runs], "runs")[0]
    from .._validation import check_seed

    seed = check_seed(seed, allow_none=False)
    if threshold is not None:
        threshold = _check_levels([threshold], "threshold")[0]
    for s in similarities or ():
        component_spec(s, "similarity")
    for s in separations or ():
        component_spec(s, "separation")
    n_images = len(dataset.images)
    if n_memories is None:  # the defaults that fit the dataset
        ns = tuple(n for n in exp.n_memories if n <= n_images)
        classical_ns = tuple(
            n for n in exp.extra.get("classical_n_memories", (1,)) if n <= n_images
        )
        if not ns:
            raise ValidationError(
                f"dataset {dataset.name!r} has {n_images} images, fewer than the "
                f"{experiment} experiment's smallest N ({min(exp.n_memories)}): pass --n-memories"
            )
    else:
        ns = classical_ns = _check_ints(n_memories, "n_memories")
    if max(ns) > n_images:
        raise ValidationError(
            f"--n-memories asks for {max(ns)} memories but dataset {dataset.name!r} has only "
            f"{n_images} images"
        )
    images = dataset.images
    if "circuit" in networks:  # the circuit's settings, checked before any cell is planned
        from .networks import circuit_settings

        circuit_settings(_spiking(spiking))
    opts = Options(
        conventions=conventions,
        n_memories=ns,
        classical_n_memories=classical_ns,
        n_features=images.shape[1],
        similarities=similarities,
        separations=separations,
        levels=_check_levels(levels) if levels is not None else None,
        threshold=threshold,
        models=models,
        spiking=_spiking(spiking),
        parameters=_parameters(parameters),
        networks=networks,
        probe=_probe(images, ns) if "circuit" in networks else None,
    )
    _check_size(exp, opts, runs)
    if max_queries is None:  # the experiment's default; 0 is a value, and refused
        max_queries = exp.extra.get("max_queries", 10**9)
    from .._validation import check_int

    max_queries = check_int(max_queries, "max_queries", 1)
    # Each run draws its memories from its own block of the (seeded, shuffled) dataset. The
    # block size depends only on the experiment's defaults and the largest N asked for, so
    # adding N values later reuses the stored cells; small datasets cap it at their size
    # (runs beyond the first then use seeded random blocks: see block_indices).
    block = min(max(max(ns), max(exp.n_memories), max(classical_ns)), n_images)
    stand_in = getattr(dataset, "stand_in", None) or ""
    from .._validation import check_shape

    shape = check_shape(dataset.image_shape, "image_shape")
    context = dict(
        experiment=experiment,
        dataset=dataset.name,
        seed=int(seed),
        block_size=block,
        dataset_fingerprint=_fingerprint(images),
        max_queries=max_queries,
        image_shape=shape,
        version=COMPUTE_VERSION,
    )
    tasks: dict[tuple, Task] = {}
    for fields in exp.grid(opts):
        for run in range(runs):
            cell = Cell(**context, **fields, run=run)
            if runs_circuit(cell):  # the circuit's own behaviour is in its cells' keys
                cell = replace(cell, version=f"{COMPUTE_VERSION}+circuit{circuit_version()}")
            key = exp.task_key(cell)
            if key not in tasks:
                tasks[key] = Task(
                    experiment, shape, int(seed), block, cell.n_memories, cell.corruption,
                    cell.level, run, max_queries, stand_in,
                )  # fmt: skip
            tasks[key].cells.append(cell)
    return list(tasks.values())


def _labels(values, name: str, experiment: str) -> tuple[str, ...] | None:
    """A list option as a tuple: None keeps the experiment's defaults, a string is a list of
    one (it would otherwise be split into characters), an empty list is refused (it would
    otherwise run the defaults while the user asked for none)."""
    if values is None:
        return None
    if isinstance(values, str):
        return (values,)
    if not hasattr(values, "__iter__"):
        raise ValidationTypeError(
            f"{name!r} must be a list of names; got {type(values).__name__} {values!r}",
            argument=name,
        )
    values = tuple(values)
    if not values:
        raise ValidationError(
            f"{name!r} is empty: name at least one, or leave it out for the {experiment} "
            "experiment's defaults",
            argument=name,
        )
    return values


def _spiking(spiking) -> dict[str, Any] | None:
    """A copy of ``spiking`` (the experiment checks the settings)."""
    from collections.abc import Mapping

    if spiking is None:
        return None
    if not isinstance(spiking, Mapping):
        raise ValidationTypeError(
            f"'spiking' must be a mapping of simulation settings; got {spiking!r}",
            argument="spiking",
        )
    return dict(spiking)


def _probe(images: np.ndarray, ns: tuple[int, ...]):
    """The circuit's support check, on the first run's largest memory block (the first rows:
    :func:`block_indices`), so a network too large or data it cannot encode is refused too."""
    from .networks import circuit_probe

    memories = images[: max(ns)]
    return circuit_probe(memories, _fingerprint(memories))


def _parameters(parameters) -> dict[str, Any] | tuple[str, ...] | None:
    """A copy of ``parameters`` (the experiment checks the names and values)."""
    from collections.abc import Mapping

    if parameters is None:
        return None
    if isinstance(parameters, str):
        return (parameters,)
    if isinstance(parameters, Mapping):
        return dict(parameters)
    if not hasattr(parameters, "__iter__"):
        raise ValidationTypeError(
            f"'parameters' must be names or a mapping of names to values; got {parameters!r}",
            argument="parameters",
        )
    return tuple(parameters)


_IMAGES: np.ndarray | None = None
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def _init_worker(images: np.ndarray) -> None:
    global _IMAGES
    _IMAGES = images
    _exit_with_parent()


def _exit_with_parent(interval: float = 0.5) -> None:
    """End this worker when the process that started it dies (even by SIGKILL).

    Orphaned pool workers would otherwise finish their task, hold the parent's pipes open
    and compute for nobody. Portable: a daemon thread notices the re-parenting.
    """
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="neuro_uhn-parent-watch", daemon=True).start()


def _setup_plugin(calls: tuple[str, ...]):
    """A Dask worker plugin that calls each ``"module:function"`` in ``calls`` on the
    worker's main thread, before any task runs (tasks run on other threads, and Brian2's
    import installs a signal handler, which only the main thread may do). Every worker gets
    it, those that join later too."""
    from dask.distributed import WorkerPlugin

    class WorkerSetup(WorkerPlugin):
        def __init__(self, calls: tuple[str, ...]):
            self.calls = calls

        def setup(self, worker) -> None:
            import importlib

            for call in self.calls:
                module, function = call.split(":")
                getattr(importlib.import_module(module), function)()

    return WorkerSetup(tuple(calls))


def _compute_in_worker(task: Task) -> list[dict[str, Any]]:
    assert _IMAGES is not None
    return compute_task(_IMAGES, task)


def _execute(
    images: np.ndarray,
    tasks: list[Task],
    workers: int,
    scheduler: str | None,
) -> Iterable[list[dict[str, Any]]]:
    """Yield each task's rows as soon as it finishes, wherever it ran."""
    if not tasks:
        return
    if scheduler is not None:
        try:
            from dask.distributed import Client, as_completed
        except ImportError:
            from .._extras import install_hint

            raise NeuroUHNError(f"--scheduler needs Dask: {install_hint('distributed')}") from None
        try:
            client = Client(scheduler, timeout="20s")
        except (ValueError, TypeError) as err:
            raise ValidationError(
                f"'scheduler' {scheduler!r} is not a Dask scheduler address such as "
                f"tcp://host:8786 ({err})",
                argument="scheduler",
            ) from None
        except OSError as err:
            raise NeuroUHNError(
                f"cannot reach the Dask scheduler at {scheduler!r}: {err}"
            ) from None
        try:
            calls = EXPERIMENTS[tasks[0].experiment].setup_calls(tasks)
            if calls:
                client.register_plugin(_setup_plugin(calls), name="neuro_uhn-setup")
            [images_f] = client.scatter([images], broadcast=True)
            futures = [client.submit(compute_task, images_f, t, pure=False) for t in tasks]
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            client.close()
        return
    if workers <= 1:
        for t in tasks:
            yield compute_task(images, t)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: workers start clean (no copied locks or threads) on every platform.
    # Each worker runs single-threaded BLAS and numba: N workers × N BLAS threads on N cores
    # oversubscribe them, and spinning BLAS threads then cost far more than they give.
    ctx = multiprocessing.get_context("spawn")
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})
    try:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(images,)
        )
        futures = [pool.submit(_compute_in_worker, t) for t in tasks]
    finally:  # the workers have started (spawned on the first submit) with the variables
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM, a failing task): drop the queue, don't wait for it
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def run_experiment(
    experiment: str,
    dataset,
    *,
    store: ResultStore | str | os.PathLike | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
    seed: int = 0,
    **options: Any,
) -> Sweep:
    """Run (or resume) ``experiment`` on ``dataset`` and return every cell's row.

    Parameters
    ----------
    experiment : str
        One of :data:`EXPERIMENTS`.
    dataset : Dataset or str or path
        A :class:`neuro_uhn.datasets.Dataset`, a dataset name or a ``.npy``/``.npz`` path
        (loaded with ``seed``).
    store : ResultStore or path, optional
        Where finished cells go; cells already there are not recomputed.
    workers : int, optional
        Local processes (default: the number of CPUs); 1 computes in this process.
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``): the cells run on that cluster.
    progress : bool
        Show a progress bar with an ETA on stderr.
    **options
        Forwarded to :func:`plan`: ``conventions``, ``runs``, ``similarities``,
        ``separations``, ``n_memories``, ``levels``, ``threshold``, ``models``,
        ``max_queries``, ``spiking``, ``parameters`` (the circuit experiment's),
        ``networks`` (capacity, noise, mask: ``["circuit"]`` or ``["abstract", "circuit"]``).
    """
    from .. import datasets as _datasets

    if isinstance(dataset, str | os.PathLike):
        dataset = _datasets.load(dataset, seed=seed)
    elif not all(hasattr(dataset, a) for a in ("name", "images", "image_shape")):
        raise ValidationTypeError(
            "'dataset' must be a dataset name, a path to a .npy/.npz file or a "
            f"neuro_uhn.datasets.Dataset; got {type(dataset).__name__}"
        )
    from .._validation import check_int

    if workers is not None:
        workers = check_int(workers, "workers", 1)
    if scheduler is not None and not isinstance(scheduler, str):
        raise ValidationTypeError(
            f"'scheduler' must be an address such as 'tcp://host:8786'; got {scheduler!r}"
        )
    tasks = plan(experiment, dataset, seed=seed, **options)
    own_store = not isinstance(store, ResultStore)
    db = ResultStore(":memory:" if store is None else store) if own_store else store
    try:
        done = db.keys()
        todo = [
            Task(**{**t.__dict__, "cells": [c for c in t.cells if c.key not in done]})
            for t in tasks
        ]
        todo = [t for t in todo if t.cells]
        # big tasks first: the pool stays busy to the end
        todo.sort(key=lambda t: -t.n_memories * len(t.cells))
        n_todo = sum(len(t.cells) for t in todo)
        n_cells = sum(len(t.cells) for t in tasks)
        if workers is None:
            workers = os.cpu_count() or 1
        workers = max(1, min(int(workers), len(todo) or 1))
        bar = None
        if progress and n_todo:
            from .._progress import tqdm

            bar = tqdm(
                total=n_todo,
                unit="cell",
                desc=f"{experiment} on {dataset.name}",
                initial=0,
                dynamic_ncols=True,
            )
        # ship the workers only the rows the runs' blocks use (all of them when a dataset is
        # too small for disjoint blocks: block_indices then draws from every image)
        need = max(((t.run + 1) * t.block_size for t in todo), default=0)
        images = dataset.images if need > len(dataset.images) else dataset.images[:need]
        computed = 0
        try:
            for rows in _execute(images, todo, workers, scheduler):
                computed += db.add(rows)
                if on_rows is not None:
                    on_rows(rows)
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()
        keys = [c.key for t in tasks for c in t.cells]
        rows = db.rows(keys)
        return Sweep(experiment, dataset, rows, computed, n_cells - n_todo, tasks)
    finally:
        if own_store:
            db.close()


def summarize(
    rows: Iterable[dict[str, Any]], value: str = "fraction_correct"
) -> list[dict[str, Any]]:
    """Mean ± std (population, over runs) of ``value`` for each cell without its run;
    ``value`` is a column or one of a row's ``measures`` (the circuit experiment's)."""
    groups: dict[tuple, list[float]] = {}
    skip = {
        "run",
        "seconds",
        "key",
        "fraction_correct",
        "fraction_identity",
        "agreement",
        "n_queries",
        "measures",
    }
    first: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        k = tuple((c, r[c]) for c in r if c not in skip)
        groups.setdefault(k, []).append(
            r[value] if value in r else (r.get("measures") or {}).get(value)
        )
        first.setdefault(k, {c: r[c] for c in r if c not in skip})
    out = []
    for k, vals in groups.items():
        v = np.asarray([np.nan if x is None else x for x in vals], dtype=float)
        out.append({**first[k], "mean": float(np.mean(v)), "std": float(np.std(v)), "runs": len(v)})
    return out


def runs_circuit(cell: Cell) -> bool:
    """Whether ``cell`` is computed by the neural circuit: the circuit network, the circuit
    and storage experiments' points, or the spiking experiment in ``mode="circuit"``."""
    import json

    from .labels import parse_label

    kind = parse_label(cell.network, "network")["kind"]
    if kind in ("circuit", "plasticity"):
        return True
    return kind == "spiking" and json.loads(cell.settings or "{}").get("mode") == "circuit"


def circuit_version() -> int:
    """:data:`~neuro_uhn.spiking.circuit.CIRCUIT_VERSION`, imported when a circuit cell is
    planned (the abstract experiments never import the spiking package)."""
    from ..spiking.circuit import CIRCUIT_VERSION

    return CIRCUIT_VERSION

"""The storage experiment: memories written into the circuit by plasticity, against set weights.

Each point builds the circuit twice on the same memories — ``storage="set"`` (weights copied
from M and P) and ``storage="plasticity"`` (each memory presented once to the local rules) —
and reports:

* the Pearson r of every learned synapse group with the set weights: feature→memory (over the
  synapses of feature neurons that some stored pattern drives, and over all of them),
  memory→output, and the bias currents;
* retrieval: the accuracy of the abstract model, of the set and of the learned circuit, the
  learned circuit's agreement with the abstract model on the cues the abstract model gets
  right, and its agreement with the set circuit;
* the wall time of storage.

Rows are written at once to a JSON file (resumable, checked before the first point, shared
safely by several processes: :class:`~neuro_uhn.experiments.rowsfile.RowsFile`), keyed by
the data and the settings (:func:`storage_sweep`); ``neuro-uhn run storage`` /
``run_experiment("storage", ...)`` runs the same :func:`storage_point` through the results
store (:func:`compute_storage`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "pearson",
    "storage_point",
    "storage_sweep",
    "similar_memories",
    "compute_storage",
    "STORAGE_METRICS",
    "STORAGE_PARAMETERS",
]

#: What the storage experiment may sweep (``parameters``), as :data:`CIRCUIT_PARAMETERS`:
#: parameter -> (where it lives, default sweep values, unit label)
STORAGE_PARAMETERS: dict[str, tuple[str, tuple[float, ...], str]] = {
    "presentation": ("plasticity", (0.04, 0.06, 0.1), "s"),
    "tau_trace": ("plasticity", (0.005, 0.01, 0.02), "s"),
    "recruit_drive": ("plasticity", (2.5, 5.0, 10.0), "rest-to-threshold gaps"),
    "neurons_per_memory": ("config", (2, 4, 8), "neurons"),
}

STORAGE_METRICS = (
    "r_feature_to_memory",
    "r_feature_to_memory_all",
    "r_memory_to_output",
    "r_bias",
    "accuracy_abstract",
    "accuracy_set",
    "accuracy_learned",
    "agreement_learned",
    "agreement_set",
    "agreement_learned_set",
    "store_seconds",
)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two weight arrays; 1.0 when neither varies (the dot product's zero bias:
    nothing to correlate and nothing differs but a shift), NaN when only one does."""
    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0 if np.ptp(a) == np.ptp(b) else float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def storage_point(model, memories, queries, targets, *, config) -> dict[str, float]:
    """One comparison of learned with set weights (``config``: mode="circuit")."""
    import neuro_uhn as nu

    from ..spiking import SpikingUHN

    M, Q = np.asarray(memories, dtype=float), np.asarray(queries, dtype=float)
    targets = np.asarray(targets)
    fixed = SpikingUHN(model, M, config=config.replace(storage="set"))
    learned = SpikingUHN(model, M, config=config.replace(storage="plasticity"))
    a, b = fixed.weights(), learned.weights()  # (the learned network stores at its build)
    store_seconds = learned.engine.kind.storage.seconds
    driven = learned.query_inputs(M)["rates"].max(axis=0) > 0
    abstract = np.argmax(np.asarray(nu.Memory(model, M).scores(Q)), axis=1)
    won_set = fixed.run(Q).counts.argmax(axis=1)
    won = learned.run(Q).counts.argmax(axis=1)
    right = abstract == targets
    return {
        "r_feature_to_memory": pearson(a["feature_to_memory"][:, driven],
                                  b["feature_to_memory"][:, driven]),  # fmt: skip
        "r_feature_to_memory_all": pearson(a["feature_to_memory"], b["feature_to_memory"]),
        "r_memory_to_output": pearson(a["memory_to_output"], b["memory_to_output"]),
        "r_bias": pearson(a["bias"], b["bias"]),
        "accuracy_abstract": float(np.mean(right)),
        "accuracy_set": float(np.mean(won_set == targets)),
        "accuracy_learned": float(np.mean(won == targets)),
        "agreement_learned": float(np.mean(won[right] == abstract[right])) if right.any() else
        float("nan"),
        "agreement_set": float(np.mean(won_set[right] == abstract[right])) if right.any() else
        float("nan"),
        "agreement_learned_set": float(np.mean(won == won_set)),
        "store_seconds": store_seconds,
    }  # fmt: skip


def similar_memories(images: np.ndarray, n: int, spread: float, seed: int = 0) -> np.ndarray:
    """``n`` memories made from ``max(1, n // 5)`` prototypes, each pixel moved by Gaussian
    noise of ``spread`` and clipped to the prototypes' range: smaller spread, more alike."""
    rng = np.random.default_rng(seed)
    protos = images[rng.choice(len(images), max(1, n // 5), replace=False)]
    lo, hi = float(images.min()), float(images.max())
    M = protos[np.arange(n) % len(protos)] + rng.normal(0, spread, (n, images.shape[1]))
    return np.clip(M, lo, hi)


def storage_sweep(
    points: Iterable[dict[str, Any]],
    *,
    results: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run :func:`storage_point` for each point, resuming from ``results``.

    Each point is a dict with ``model``, ``memories``, ``queries``, ``targets``, ``config`` and
    a ``label`` plus any descriptive fields (``sweep``, ``value``...), copied into its row.
    ``results`` (a JSON file, :func:`sweep_file`) is checked before the first point; rows
    found there are not recomputed, and several processes may share it.
    """
    from ..spiking.circuit import CIRCUIT_VERSION

    store = sweep_file(results) if results is not None else None
    found = {r["key"]: r for r in store.rows()} if store is not None else {}
    out = []
    for point in points:
        point = dict(point)
        M, Q, targets = (np.asarray(point.pop(k)) for k in ("memories", "queries", "targets"))
        model, config = point.pop("model"), point.pop("config")
        key = hashlib.sha256(
            b"".join(np.ascontiguousarray(x, dtype=float).tobytes() for x in (M, Q, targets))
            + repr(
                (
                    str(getattr(model, "name", "") or model),
                    repr(config),
                    sorted((k, repr(v)) for k, v in point.items()),
                    CIRCUIT_VERSION,
                )
            ).encode()  # fmt: skip
        ).hexdigest()[:16]
        if key not in found and store is not None:  # another process may have done it
            found = {r["key"]: r for r in store.rows()}
        if key not in found:
            if progress:
                progress(f"storage: {point.get('label', '')}")
            metrics = storage_point(model, M, Q, targets, config=config)
            row = {"key": key, "n_memories": len(M), "n_queries": len(Q), **point, **metrics}
            if store is not None:
                found = {_row_key(r): r for r in store.add([row])}
            else:
                found[key] = row
        out.append(found[key])
    return out


def sweep_file(path: str | Path):
    """The :class:`~neuro_uhn.experiments.rowsfile.RowsFile` of a storage sweep's points
    (one row per point key), checked now."""
    from .rowsfile import RowsFile

    return RowsFile(path, what="storage-sweep", key=_row_key,
                    required=("key", "n_memories", "n_queries", "accuracy_learned"))  # fmt: skip


def _row_key(row: dict[str, Any]) -> str:
    if not isinstance(row["key"], str):
        raise TypeError(f"'key' is {row['key']!r}, not a string")
    return row["key"]


def compute_storage(images: np.ndarray, task) -> list[dict[str, Any]]:
    """Every cell of ``task`` (one storage experiment point each: model, parameter and value
    in its ``settings``) as a row of the tidy table: :func:`storage_point`'s learned
    accuracy (``fraction_identity``) and agreement with the abstract model; its other
    measures (:data:`STORAGE_METRICS`) in ``row["measures"]``."""
    from ._cells import _row
    from .circuit import cell_config, point_data

    M, Q = point_data(images, task)
    rows = []
    for cell in task.cells:
        t0 = time.perf_counter()
        settings, config = cell_config(cell, task, "storage", STORAGE_PARAMETERS)
        m = storage_point(settings["model"], M, Q, np.arange(len(Q)), config=config)
        rows.append(
            _row(
                cell,
                task,
                n_queries=len(Q),
                fraction_correct=None,
                fraction_identity=m["accuracy_learned"],
                agreement=m["agreement_learned"],
                seconds=time.perf_counter() - t0,
                measures={k: float(m[k]) for k in STORAGE_METRICS},
            )
        )
    return rows

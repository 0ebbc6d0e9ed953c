"""The circuit experiment: how the neural circuit's retrieval depends on its biology.

One parameter at a time is moved away from the defaults of ``SpikingConfig(mode="circuit")``
— inhibition strength (the knockout included), membrane time constant, synaptic delay, input
rate, neurons per memory, feature→memory connection probability, background noise — and each
point reports accuracy (circuit and abstract), agreement with the abstract model, settling
time and spikes per retrieval, on the same stored patterns and cues.

Two ways to run it, one computation per point (:func:`point_config`, :func:`circuit_point`):
``neuro-uhn run circuit`` / ``run_experiment("circuit", ...)`` (the registry's
:class:`~neuro_uhn.experiments.CircuitExperiment`: cells in the results store, each point a
task, cues drawn from the dataset; :func:`compute_circuit`), and :func:`circuit_sweep` on
memories and cues of one's own, each finished point written at once to a JSON results file
(:class:`~neuro_uhn.experiments.rowsfile.RowsFile`: checked before the first point, merged
under a lock so processes sharing it lose nothing), keyed by everything that changes it, so
an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import ValidationError

__all__ = [
    "CIRCUIT_PARAMETERS",
    "CELL_MEASURES",
    "check_parameters",
    "circuit_label",
    "circuit_point",
    "compute_circuit",
    "point_config",
    "VALIDATION_METRICS",
    "circuit_sweep",
    "sweep_file",
    "validation_table",
    "validation_metrics",
]

#: parameter -> (where it lives, default sweep values, unit label)
CIRCUIT_PARAMETERS: dict[str, tuple[str, tuple[float, ...], str]] = {
    "inhibition": ("config", (0.0, 0.25, 0.5, 1.0, 2.0), "× default I→E weights"),
    "tau_m": ("circuit", (0.01, 0.02, 0.04), "s"),
    "delay": ("circuit", (0.0005, 0.001, 0.002, 0.004), "s"),
    "input_rate": ("config", (50.0, 100.0, 200.0, 400.0), "Hz"),
    "feature_pool": ("circuit", (1, 2, 4), "neurons per input unit"),
    "neurons_per_memory": ("config", (1, 2, 4, 8), "neurons"),
    "connection_p": ("circuit", (0.25, 0.5, 1.0), "probability"),
    "noise": ("circuit", (0.0, 0.001, 0.002, 0.004), "V (σ)"),
}

#: What separates a winner from a blend (``Comparison.summary()``): active populations, the
#: winner's share of memory spikes, memory spikes per cue, the scale of z against the
#: abstract one, and the winner population's agreement and accuracy beside z's.
BLEND_METRICS = (
    "median_active_populations",
    "mean_winner_share",
    "median_memory_spikes",
    "median_z_scale",
    "fraction_z_scale_within_10pct",
    "winner_agreement",
    "winner_accuracy",
)

#: The measures of the circuit's validation table (docs/circuit.md), per model and data set.
VALIDATION_METRICS = (
    "agreement",
    "agreement_gap_over_5pct",
    "agreement_gap_within_5pct",
    "fraction_gap_over_5pct",
    "accuracy_spiking",
    "accuracy_abstract",
    "median_settling_ms",
    "p90_settling_ms",
    "spikes_per_retrieval",
    "wall_seconds_per_query",
    *BLEND_METRICS,
)


#: What each sweep point reports (the validation table's measures without the gap split).
_METRICS = tuple(k for k in VALIDATION_METRICS if "gap" not in k)


def validation_metrics(summary: Mapping[str, Any]) -> dict[str, float]:
    """The validation table's measures from a ``Comparison.summary()`` (NaN where absent)."""
    return {k: summary.get(k, float("nan")) for k in VALIDATION_METRICS}


def cell(x: Any, digits: int = 2) -> str:
    """A number for a Markdown table ("—" for a missing or NaN value)."""
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def validation_table(
    rows: Iterable[Mapping[str, Any]],
    extra: Iterable[tuple[str, Callable[[Mapping[str, Any]], str]]] = (),
    tail: Iterable[tuple[str, Callable[[Mapping[str, Any]], str]]] = (),
) -> str:
    """The validation table in Markdown (docs/circuit.md), one row per (data set, model, N);
    ``extra``: (header, cell of a row) columns placed after N; ``tail``: columns at the end."""
    extra, tail = list(extra), list(tail)
    heads = ["dataset", "model", "N", *(h for h, _ in extra), "agreement",
             "gap > 5 % (share of cues)", "gap ≤ 5 %", "accuracy circuit", "accuracy abstract",
             "settling median / p90 (ms)", "spikes per retrieval",
             "winner share / active populations", "z scale median (share within 10 %)",
             "winner population agreement / accuracy", *(h for h, _ in tail)]  # fmt: skip
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows:
        cells = [
            str(r["dataset"]), str(r["model"]), str(r["n_memories"]),
            *(fn(r) for _, fn in extra), cell(r["agreement"]),
            f"{cell(r['agreement_gap_over_5pct'])} ({cell(r['fraction_gap_over_5pct'])})",
            cell(r["agreement_gap_within_5pct"]), cell(r["accuracy_spiking"]),
            cell(r["accuracy_abstract"]),
            f"{cell(r['median_settling_ms'], 0)} / {cell(r['p90_settling_ms'], 0)}",
            cell(r["spikes_per_retrieval"], 0),
            f"{cell(r.get('mean_winner_share'))} / {cell(r.get('median_active_populations'), 0)}",
            f"{cell(r.get('median_z_scale'))} ({cell(r.get('fraction_z_scale_within_10pct'))})",
            f"{cell(r.get('winner_agreement'))} / {cell(r.get('winner_accuracy'))}",
            *(fn(r) for _, fn in tail),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def circuit_sweep(
    memories: np.ndarray,
    queries: np.ndarray,
    targets: np.ndarray,
    *,
    model: Any = "uhn_best",
    parameters: Mapping[str, Iterable[float]] | Iterable[str] | None = None,
    base=None,
    results: str | os.PathLike | None = None,
    label: str = "",
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Sweep circuit parameters one at a time; returns one row per (parameter, value).

    Parameters
    ----------
    memories, queries, targets : arrays
        Stored patterns, cues, and the index of the memory each cue should retrieve.
    model : UHN or str
        A model the circuit supports (max, softmax, threshold separations).
    parameters : mapping or names, optional
        ``{name: values}`` or names of :data:`CIRCUIT_PARAMETERS` (their default values);
        all of them by default.
    base : SpikingConfig, optional
        The configuration the sweep departs from (``mode="circuit"``; 200 ms per cue).
    results : path, optional
        JSON file of finished points (:func:`sweep_file`): rows found there are not
        recomputed; it is checked before the first point, and several processes may share it.
    label : str
        Names the data in each row (e.g. "digits, N=20, σ=0.2").

    Returns the rows of the points asked for, in the order of ``parameters``.
    """
    from ..spiking import SpikingConfig
    from ..spiking.circuit import CIRCUIT_VERSION

    base = base or SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1)
    if base.mode != "circuit":
        raise ValidationError(f"'base' must have mode='circuit'; got {base.mode!r}",
                              argument="base")  # fmt: skip
    parameters = check_parameters(parameters)
    M, Q = np.asarray(memories, dtype=float), np.asarray(queries, dtype=float)
    targets = np.asarray(targets)
    data_key = hashlib.sha256(
        b"".join(np.ascontiguousarray(a).tobytes() for a in (M, Q, targets.astype(np.int64)))
        + repr((M.shape, Q.shape, str(model), repr(base), CIRCUIT_VERSION)).encode()
    ).hexdigest()[:16]
    store = sweep_file(results) if results is not None else None
    found: dict[tuple, dict[str, Any]] = {}
    out = []
    for name, values in parameters.items():
        for value in values:
            key = (data_key, name, value)
            if key not in found and store is not None:  # another process may have done it
                found = {_sweep_key(r): r for r in store.rows()}
            if key not in found:
                if progress:
                    progress(f"circuit sweep: {name} = {value:g}")
                summary = circuit_point(model, M, Q, targets, point_config(base, name, value))
                row = {
                    "data_key": data_key,
                    "label": label,
                    "model": str(getattr(model, "name", model)),
                    "parameter": name,
                    "value": value,
                    "unit": CIRCUIT_PARAMETERS[name][2],
                    **{k: float(summary.get(k, float("nan"))) for k in _METRICS},
                }
                if store is not None:
                    found = {_sweep_key(r): r for r in store.add([row])}
                else:
                    found[key] = row
            out.append(found[key])
    return out


def _sweep_key(row: Mapping[str, Any]) -> tuple[str, str, float]:
    return str(row["data_key"]), str(row["parameter"]), float(row["value"])


def sweep_file(path: str | os.PathLike):
    """The :class:`~neuro_uhn.experiments.rowsfile.RowsFile` of a circuit sweep's points
    (one row per data set, parameter and value), checked now."""
    from .rowsfile import RowsFile

    return RowsFile(path, what="circuit-sweep", key=_sweep_key,
                    required=("data_key", "parameter", "value"))  # fmt: skip


def check_parameters(
    parameters: Mapping[str, Iterable[float]] | Iterable[str] | None,
    table: Mapping[str, tuple[str, tuple[float, ...], str]] = CIRCUIT_PARAMETERS,
    what: str = "circuit",
) -> dict[str, tuple[float, ...]]:
    """``{name: values}`` of ``table`` (:data:`CIRCUIT_PARAMETERS`) from a mapping, names
    (their default values) or ``None`` (all of them); values are finite numbers >= 0, kept as
    floats."""
    import numbers

    if parameters is None:
        return {k: tuple(float(x) for x in v[1]) for k, v in table.items()}
    if isinstance(parameters, str):
        parameters = [parameters]
    if not isinstance(parameters, Mapping):
        names = list(parameters)
        for k in names:
            _known(k, table, what)
            if names.count(k) > 1:
                raise ValidationError(
                    f"'parameters' names {k!r} {names.count(k)} times; name each parameter "
                    "once (with all its values: NAME=V1:V2)",
                    argument="parameters",
                )
        parameters = {k: table[k][1] for k in names}
    out: dict[str, tuple[float, ...]] = {}
    for name, values in parameters.items():
        _known(name, table, what)
        if values is None:  # the parameter's default values
            values = table[name][1]
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            values = (values,)
        checked = []
        for v in values:
            number = isinstance(v, numbers.Real) and not isinstance(v, bool)
            if not number or not np.isfinite(v) or v < 0:
                raise ValidationError(
                    f"'parameters': the values of {name!r} must be finite numbers >= 0; got {v!r}",
                    argument="parameters",
                )
            if name in WHOLE_PARAMETERS and not (float(v).is_integer() and v >= 1):
                raise ValidationError(
                    f"'parameters': {name!r} is a count, its values must be whole numbers >= 1; "
                    f"got {v!r}: give whole numbers (a fraction is never truncated)",
                    argument="parameters",
                )
            if float(v) in checked:
                raise ValidationError(
                    f"'parameters': {name!r} has the value {v!r} twice; give each value once",
                    argument="parameters",
                )
            checked.append(float(v))
        if not checked:
            raise ValidationError(f"'parameters': no values for {name!r}", argument="parameters")
        out[name] = tuple(checked)
    if not out:
        raise ValidationError(f"'parameters' must name at least one {what} parameter",
                              argument="parameters")  # fmt: skip
    return out


def point_config(base, name: str | None, value: float | None, table=CIRCUIT_PARAMETERS):
    """``base`` (a circuit ``SpikingConfig``) with one parameter of ``table``
    (:data:`CIRCUIT_PARAMETERS`) set to ``value``: the configuration of one sweep point
    (``base`` itself when ``name`` is None). A shorter ``presentation`` than the storage's
    ``allocation`` phase takes half the presentation for it, as figD does."""
    if name is None:
        return base
    where = table[_known(name, table)][0]
    if where == "config":
        return base.replace(**{name: _whole(name, value)})
    if where == "plasticity":  # a setting of storage by plasticity
        from ..spiking import StorageParams

        storage = base.plasticity or StorageParams()
        changes = {name: value}
        if name == "presentation":
            changes["allocation"] = min(storage.allocation, value / 2)
        return base.replace(storage="plasticity", plasticity=storage.replace(**changes))
    return base.replace(circuit=base.circuit.replace(**{name: _whole(name, value)}))


def circuit_point(model, memories, queries, targets, config, threshold=None) -> dict[str, Any]:
    """One sweep point: the circuit (``config``) beside the abstract model on the same cues;
    ``Comparison.summary()`` (the measures of :data:`VALIDATION_METRICS` among them)."""
    from ..spiking import compare

    return compare(
        model, memories, queries, targets=targets, config=config, threshold=threshold
    ).summary()


def circuit_label(name: str | None, value: float | None, kind: str = "circuit") -> str:
    """The ``network`` label of a circuit cell: ``"circuit(inhibition=0.5)"`` (read back by
    :func:`~neuro_uhn.experiments.parse_label`); ``kind`` alone for the defaults."""
    if name is None:
        return kind
    v = _whole(name, value) if name in WHOLE_PARAMETERS else float(value)
    return f"{kind}({name}={v!r})"


#: the sweep parameters that count something (neurons): whole numbers, never truncated
WHOLE_PARAMETERS = frozenset({"neurons_per_memory", "feature_pool"})


def _whole(name: str, value):
    """``value`` as an int for a parameter of :data:`WHOLE_PARAMETERS` (2.0 is 2, 2.5 an
    error), else unchanged."""
    if name not in WHOLE_PARAMETERS:
        return value
    from .._validation import check_whole

    return check_whole(value, name, 1)


#: measures a circuit cell stores beside the tidy table's columns (``row["measures"]``)
CELL_MEASURES = (
    "accuracy_abstract",
    "sse_accuracy_abstract",
    "median_settling_ms",
    "p90_settling_ms",
    "spikes_per_retrieval",
    "wall_seconds_per_query",
    *BLEND_METRICS,
)


def compute_circuit(images: np.ndarray, task) -> list[dict[str, Any]]:
    """Every cell of ``task`` (one circuit experiment point each: the model, the parameter
    and its value are in the cell's ``settings``) as a row of the tidy table: the circuit's
    SSE and identity accuracy and its agreement with the abstract model; the rest of the
    point's measures (:data:`CELL_MEASURES`) in ``row["measures"]``."""
    import time

    from ._cells import _row

    M, Q = point_data(images, task)
    n_q = len(Q)
    rows = []
    for cell in task.cells:
        t0 = time.perf_counter()
        settings, config = cell_config(cell, task, "circuit")
        s = circuit_point(settings["model"], M, Q, np.arange(n_q), config, cell.threshold)
        rows.append(
            _row(
                cell,
                task,
                n_queries=n_q,
                fraction_correct=float(s["sse_accuracy_spiking"]),
                fraction_identity=float(s["accuracy_spiking"]),
                agreement=float(s["agreement"]),
                seconds=time.perf_counter() - t0,
                measures={k: float(s.get(k, float("nan"))) for k in CELL_MEASURES},
            )
        )
    return rows


def point_data(images: np.ndarray, task) -> tuple[np.ndarray, np.ndarray]:
    """A point's memories (the run's block) and cues: the first ``min(N, max_queries)``
    memories corrupted, retrieved as memories ``0, 1, ...``."""
    from ._cells import block_indices, corrupt, task_rng

    idx = block_indices(len(images), task.block_size, task.run, task.seed)
    M = images[idx[: task.n_memories]]
    rng = task_rng(task.seed, task.corruption, task.level, task.n_memories, task.run)
    n_q = min(task.n_memories, task.max_queries)
    return M, corrupt(M[:n_q], task.corruption, task.level, task.image_shape, rng)


def cell_config(cell, task, tag: str, table=CIRCUIT_PARAMETERS):
    """A cell's settings and the circuit configuration of its point. Every point of a
    (model, N, level, run) has one seed, drawn from the sweep's: a paired sweep."""
    from ._cells import task_rng

    settings = json.loads(cell.settings)
    base = base_config(settings)
    seed = task_rng(task.seed, tag, settings["model"], task.level, task.n_memories,
                    task.run).integers(2**31)  # fmt: skip
    base = base.replace(seed=int(seed))
    return settings, point_config(base, settings["parameter"], settings["value"], table)


#: the keys of a circuit cell's ``settings`` that are not SpikingConfig's
_POINT_KEYS = ("model", "parameter", "value")


def base_config(settings: Mapping[str, Any]):
    """The circuit configuration a cell's ``settings`` describe, before its point's
    parameter is set; a ``"circuit"`` mapping there overrides :class:`CircuitParams`."""
    from ..spiking import CircuitParams, SpikingConfig

    given = {k: v for k, v in settings.items() if k not in _POINT_KEYS}
    circuit = given.pop("circuit", None) or {}
    if given.get("mode", "circuit") != "circuit":
        raise ValidationError(
            f"the circuit experiment runs mode='circuit'; got mode={given['mode']!r}",
            argument="spiking",
        )
    if "seed" in given:
        raise ValidationError(
            "the circuit experiment draws each circuit's seed from the sweep's seed: leave "
            "'seed' out of 'spiking'",
            argument="spiking",
        )
    if not isinstance(circuit, Mapping):
        raise ValidationError(f"'spiking': 'circuit' must be a mapping; got {circuit!r}",
                              argument="spiking")  # fmt: skip
    try:
        return SpikingConfig(**{**given, "mode": "circuit"},
                             circuit=CircuitParams().replace(**circuit))  # fmt: skip
    except TypeError as err:
        raise ValidationError(f"'spiking': {err}", argument="spiking") from None


def _known(name: str, table=CIRCUIT_PARAMETERS, what: str = "circuit") -> str:
    if name not in table:
        from .._suggest import did_you_mean

        raise ValidationError(
            f"'parameters' must name {what} parameters {sorted(table)}; got {name!r}"
            f"{did_you_mean(name, table)}",
            argument="parameters",
        )
    return name

"""The circuit experiment: how the neural circuit's retrieval depends on its biology.

One parameter at a time is moved away from the defaults of ``SpikingConfig(mode="circuit")``
— inhibition strength (the knockout included), membrane time constant, synaptic delay, input
rate, neurons per memory, feature→memory connection probability, background noise — and each
point reports accuracy (circuit and abstract), agreement with the abstract model, settling
time and spikes per retrieval, on the same stored patterns and cues.

Each finished point is written at once to a JSON results file (temporary file, then rename),
keyed by everything that changes it, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ValidationError

__all__ = [
    "CIRCUIT_PARAMETERS",
    "VALIDATION_METRICS",
    "circuit_sweep",
    "save_rows",
    "validation_table",
    "validation_metrics",
]

#: parameter -> (where it lives, default sweep values, unit label)
CIRCUIT_PARAMETERS: dict[str, tuple[str, tuple[float, ...], str]] = {
    "inhibition": ("config", (0.0, 0.25, 0.5, 1.0, 2.0), "× default I→E weights"),
    "tau_m": ("circuit", (0.01, 0.02, 0.04), "s"),
    "delay": ("circuit", (0.0005, 0.001, 0.002, 0.004), "s"),
    "input_rate": ("circuit", (250.0, 500.0, 1000.0, 2000.0), "Hz"),
    "neurons_per_memory": ("config", (1, 2, 4, 8), "neurons"),
    "connection_p": ("circuit", (0.25, 0.5, 1.0), "probability"),
    "noise": ("circuit", (0.0, 0.001, 0.002, 0.004), "V (σ)"),
}

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
) -> str:
    """The validation table in Markdown (docs/circuit.md), one row per (data set, model, N);
    ``extra``: (header, cell of a row) columns placed after N."""
    extra = list(extra)
    heads = ["dataset", "model", "N", *(h for h, _ in extra), "agreement",
             "gap > 5 % (share of cues)", "gap ≤ 5 %", "accuracy circuit", "accuracy abstract",
             "settling median / p90 (ms)", "spikes per retrieval"]  # fmt: skip
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
        JSON file of finished points: rows found there are not recomputed.
    label : str
        Names the data in each row (e.g. "digits, N=20, σ=0.2").
    """
    from ..spiking import SpikingConfig, compare

    base = base or SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1)
    if base.mode != "circuit":
        raise ValidationError(f"'base' must have mode='circuit'; got {base.mode!r}",
                              argument="base")  # fmt: skip
    if parameters is None:
        parameters = {k: v[1] for k, v in CIRCUIT_PARAMETERS.items()}
    elif not isinstance(parameters, Mapping):
        parameters = {k: CIRCUIT_PARAMETERS[_known(k)][1] for k in parameters}
    for name in parameters:
        _known(name)
    M, Q = np.asarray(memories, dtype=float), np.asarray(queries, dtype=float)
    targets = np.asarray(targets)
    data_key = hashlib.sha256(
        b"".join(np.ascontiguousarray(a).tobytes() for a in (M, Q, targets.astype(np.int64)))
        + repr((M.shape, Q.shape, str(model), repr(base))).encode()
    ).hexdigest()[:16]
    path = Path(results) if results is not None else None
    rows = _load(path)
    done = {(r["data_key"], r["parameter"], r["value"]) for r in rows}
    for name, values in parameters.items():
        where = CIRCUIT_PARAMETERS[name][0]
        for value in values:
            value = float(value)
            if (data_key, name, value) in done:
                continue
            if progress:
                progress(f"circuit sweep: {name} = {value:g}")
            if where == "config":
                v = int(value) if name == "neurons_per_memory" else value
                config = base.replace(**{name: v})
            else:
                config = base.replace(circuit=base.circuit.replace(**{name: value}))
            summary = compare(model, M, Q, targets=targets, config=config).summary()
            rows.append(
                {
                    "data_key": data_key,
                    "label": label,
                    "model": str(getattr(model, "name", model)),
                    "parameter": name,
                    "value": value,
                    "unit": CIRCUIT_PARAMETERS[name][2],
                    **{k: float(summary.get(k, float("nan"))) for k in _METRICS},
                }
            )
            if path is not None:
                save_rows(path, rows)
    return [r for r in rows if r["data_key"] == data_key and r["parameter"] in parameters]


def _known(name: str) -> str:
    if name not in CIRCUIT_PARAMETERS:
        raise ValidationError(
            f"'parameters' must name circuit parameters {sorted(CIRCUIT_PARAMETERS)}; got {name!r}",
            argument="parameters",
        )
    return name


def _load(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValidationError(
            f"results file {str(path)!r} is not a circuit-sweep results file ({err}); move it "
            "aside or pass another path",
            argument="results",
        ) from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValidationError(f"results file {str(path)!r} is not a list of rows",
                              argument="results")  # fmt: skip
    return rows


def save_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as JSON atomically (a temporary file, then a rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, path)

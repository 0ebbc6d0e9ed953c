"""The networks a paper experiment's cell runs on: the abstract model, or the neural circuit.

``run_experiment("capacity", ..., networks=["circuit"])`` (``neuro-uhn run capacity
--network circuit``; ``abstract,circuit`` for both) computes the experiment's cells in the
neural circuit (``SpikingConfig(mode="circuit")``): the same cells, criteria (the paper's SSE
threshold and the nearest-memory identity), store and CSV as the abstract run, with
``network = "circuit"``. A circuit cell sees the memories and the corrupted cues of the
abstract cell of its task (one task RNG), so the two are comparable cue by cue; its other
measures (the blend measures of ``Comparison.summary()``, settling time, spikes per
retrieval, the abstract model's accuracy on the same cues) go to ``row["measures"]``, as the
circuit experiment's do.

Only what the circuit realises can run: the cells are checked when the sweep is planned, by
planning a circuit (NumPy only, no Brian2) on the run's first memories, so an unsupported
component is refused before anything is computed, never in the middle of a sweep.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import UnsupportedComponent, ValidationError, ValidationTypeError

__all__ = [
    "NETWORKS",
    "CIRCUIT_NETWORK",
    "check_networks",
    "circuit_settings",
    "circuit_probe",
    "check_circuit_cell",
    "compute_circuit_cells",
]

#: the networks a paper experiment's cell can be computed on
NETWORKS = ("abstract", "circuit")

#: the circuit network's simulation unless ``spiking=`` says otherwise (per cue: 200 ms, the
#: first 50 ms not read; the code-generation target chosen by Brian2's preferences)
CIRCUIT_NETWORK: dict[str, Any] = {
    "mode": "circuit",
    "duration": 0.2,
    "settle": 0.05,
    "target": "auto",
}


def supported() -> str:
    """What the circuit realises, from the spiking package's support matrix (docs/spiking.md):
    ``"similarities cosine, dot, ...; separations identity (...), max (...), ..."``."""
    from ..spiking import support_matrix

    def note(value: str) -> str:
        value = value[3:].strip(" ,") if value.startswith("yes") else value
        if value.startswith("(") and value.endswith(")"):
            value = value[1:-1]
        return f" ({value})" if value else ""

    kinds: dict[str, list[str]] = {"similarity": [], "separation": []}
    for component, modes in support_matrix().items():
        kind, _, name = component.partition(" ")
        if "(" not in name and modes["circuit"] != "UnsupportedComponent":
            kinds[kind].append(name + note(modes["circuit"]))
    return (
        f"similarities {', '.join(kinds['similarity'])}; separations "
        f"{', '.join(kinds['separation'])}; in the standard convention"
    )


def check_networks(networks, experiment: str, available: Sequence[str]) -> tuple[str, ...]:
    """``networks`` (names of :data:`NETWORKS`, or one name) checked against what the
    experiment runs (``available``); ``None`` is the abstract model alone."""
    if networks is None:
        return ("abstract",)
    if not available:
        raise ValidationError(
            f"'networks' is not used by the {experiment} experiment (it runs its own networks; "
            "the circuit network runs the capacity, noise and mask experiments); leave it out",
            argument="networks",
        )
    if isinstance(networks, str):
        networks = (networks,)
    if not hasattr(networks, "__iter__"):
        raise ValidationTypeError(
            f"'networks' must be a list of names among {list(NETWORKS)}; got {networks!r}",
            argument="networks",
        )
    out = tuple(networks)
    if not out:
        raise ValidationError(
            "'networks' is empty: name at least one of 'abstract', 'circuit', or leave it out "
            "for the abstract model",
            argument="networks",
        )
    for name in out:
        if name not in NETWORKS:
            raise ValidationError(
                f"'networks' must name networks among {list(NETWORKS)}; got {name!r}",
                argument="networks",
            )
        if out.count(name) > 1:
            raise ValidationError(f"'networks' names {name!r} twice; name it once",
                                  argument="networks")  # fmt: skip
        if name not in available:
            raise ValidationError(
                f"the {experiment} experiment runs the {' and '.join(available)} network only; "
                f"the {name} network runs the capacity, noise and mask experiments",
                argument="networks",
            )
    return out


def circuit_settings(given: Mapping[str, Any] | None) -> str:
    """The circuit cells' ``settings``: canonical JSON of :data:`CIRCUIT_NETWORK` updated by
    ``given`` (``SpikingConfig`` fields, ``"circuit"``: a mapping of ``CircuitParams``),
    checked by building the configuration. The seed is drawn per task from the sweep's."""
    from .circuit import base_config

    given = dict(given or {})
    for key in ("model", "parameter", "value"):
        if key in given:
            raise ValidationError(
                f"'spiking' has {key!r}, which the circuit network does not read (its models "
                "are the cell's similarity and separation); leave it out",
                argument="spiking",
            )
    settings = {**CIRCUIT_NETWORK, **given}
    base_config(settings)  # refuses a seed, another mode and settings the circuit does not read
    try:
        return json.dumps(settings, sort_keys=True)
    except TypeError as err:
        raise ValidationError(f"'spiking' must hold plain numbers and names ({err})",
                              argument="spiking") from None  # fmt: skip


#: probes already made: (labels, settings, the probe memories' fingerprint) -> error or None
_PROBED: dict[tuple, UnsupportedComponent | None] = {}


def circuit_probe(memories: np.ndarray, fingerprint: str) -> Callable[..., Any]:
    """``probe(similarity, separation, readout, settings)``: the :class:`UnsupportedComponent`
    the circuit raises for that model on ``memories`` (the first run's largest memory block),
    or None. It plans the circuit (NumPy: weights, gains, operating points), builds nothing,
    and is remembered per data, labels and settings."""

    def probe(similarity: str, separation: str, readout: str, settings: str):
        key = (similarity, separation, readout, settings, fingerprint, len(memories))
        if key not in _PROBED:
            from ..spiking import SpikingUHN
            from .circuit import base_config

            try:
                SpikingUHN(cell_model(similarity, separation, readout), memories,
                           config=base_config(json.loads(settings)))  # fmt: skip
                _PROBED[key] = None
            except UnsupportedComponent as err:
                _PROBED[key] = err
        return _PROBED[key]

    return probe


def check_circuit_cell(
    probe: Callable[..., Any] | None,
    experiment: str,
    similarity: str,
    separation: str,
    readout: str,
    settings: str,
    defaults: bool,
) -> bool:
    """Whether the circuit runs this cell's model. An unsupported one is refused with an
    :class:`UnsupportedComponent` naming it and what the circuit supports; when the labels are
    all the experiment's defaults (``defaults``), it is left out with a warning instead (the
    paper's similarities include js, which the circuit does not realise)."""
    err = probe(similarity, separation, readout, settings) if probe is not None else None
    if err is None:
        return True
    what = getattr(err, "component", None) or f"similarity {similarity!r}"
    if defaults:
        warnings.warn(
            f"the circuit network leaves out the {experiment} experiment's default model "
            f"similarity {similarity!r} with separation {separation!r} ({what} is not "
            "supported in the circuit); name --similarity/--separation to choose",
            UserWarning,
            stacklevel=2,
        )
        return False
    raise UnsupportedComponent(
        f"the circuit network cannot run similarity {similarity!r} with separation "
        f"{separation!r} in the {experiment} experiment: {what} is not supported. The circuit "
        f"supports {supported()}. Leave it out of --similarity/--separation, or run it with "
        f"--network abstract. The circuit says: {err}",
        argument="similarities" if "similarity" in what else "separations",
    )


def cell_model(similarity: str, separation: str, readout: str):
    """The abstract spec a cell's labels name (auto-association)."""
    from ..model import UHN
    from .labels import parse_label

    return UHN(
        similarity=parse_label(similarity, "similarity"),
        separation=parse_label(separation, "separation"),
        readout=readout,
    )


def compute_circuit_cells(images: np.ndarray, task) -> list[dict[str, Any]]:
    """Every circuit cell of ``task`` as a row of the tidy table: the circuit's SSE and
    identity accuracy on the task's memories and cues (those of its abstract cells), its
    agreement with the abstract model, and the rest of ``Comparison.summary()``'s measures
    in ``row["measures"]``. One circuit seed per task, drawn from the task's RNG."""
    from .. import spiking
    from ._cells import _row, task_data, task_rng
    from .circuit import CELL_MEASURES, base_config

    _, M, Q = task_data(images, task)
    n_q = len(Q)
    seed = int(task_rng(task.seed, "circuit", task.corruption, task.level, task.n_memories,
                        task.run).integers(2**31))  # fmt: skip
    rows = []
    for cell in task.cells:
        t0 = time.perf_counter()
        if cell.association != "auto" or cell.convention != "standard":
            raise ValidationError(  # planning refuses these; a hand-made task may not
                "the circuit network runs auto-association in the standard convention only"
            )
        config = base_config(json.loads(cell.settings)).replace(seed=seed)
        result = spiking.compare(
            cell_model(cell.similarity, cell.separation, cell.readout),
            M,
            Q,
            targets=np.arange(n_q),
            config=config,
            threshold=cell.threshold,
            windows=[config.duration],
        )
        s = result.summary()
        rows.append(
            _row(
                cell,
                task,
                n_queries=n_q,
                fraction_correct=float(np.mean(result.sse_correct_spiking)),
                fraction_identity=float(np.mean(result.identity_correct_spiking)),
                agreement=float(result.agreement),
                seconds=time.perf_counter() - t0,
                measures={k: float(s.get(k, float("nan"))) for k in CELL_MEASURES},
            )
        )
    return rows

"""The paper's experiments (and spiking-vs-abstract ones) as resumable, parallel sweeps.

Compute only — figures live in ``figures/`` and plot what these return. Each experiment is an
:class:`Experiment` object in :data:`EXPERIMENTS` that yields its cells and computes them;
``run_experiment`` plans it into cells (one number of a figure each), skips the cells a
:class:`ResultStore` already holds, computes the rest in a process pool or on a Dask cluster
and writes each finished task atomically. ``summarize`` gives mean ± std over runs.
"""

from ._cells import COLUMNS, Cell, Task
from ._definitions import (
    CONVENTIONS,
    EXPERIMENTS,
    CircuitExperiment,
    Experiment,
    HeteroExperiment,
    Options,
    SeparationExperiment,
    SpikingExperiment,
    StorageExperiment,
    ThresholdExperiment,
    compute_task,
    label_of,
    parse_label,
    split_labels,
)
from .rowsfile import RowsFile
from .runner import Sweep, default_threshold, plan, run_experiment, summarize
from .store import SCHEMA_VERSION, ResultStore, StoreError, write_csv

__all__ = [
    "COLUMNS",
    "CONVENTIONS",
    "EXPERIMENTS",
    "SCHEMA_VERSION",
    "Cell",
    "CircuitExperiment",
    "Experiment",
    "HeteroExperiment",
    "Options",
    "SeparationExperiment",
    "SpikingExperiment",
    "StorageExperiment",
    "ThresholdExperiment",
    "label_of",
    "ResultStore",
    "RowsFile",
    "StoreError",
    "Sweep",
    "Task",
    "compute_task",
    "default_threshold",
    "parse_label",
    "plan",
    "run_experiment",
    "split_labels",
    "summarize",
    "write_csv",
]

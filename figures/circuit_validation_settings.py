"""The circuit validation table's rows under other settings, beside the library's defaults.

A candidate default (neurons per memory, ``CircuitParams`` overrides) is chosen on the
held-out protocol's development cues (``circuit_heldout.py``, MNIST and digits); this script
then checks it, once, on the validation table's own memories and cues (``figC_circuit.py``'s
``measure``: the same ``problem``, seeds, 50 cues, σ = 0.2, 0.2 s cues read over
[0.05, 0.2] s), for the models and sizes asked for. Rows go to
``data/circuit_validation_settings.json``, keyed by data set, model, N, neurons per memory
and overrides, each written atomically as soon as it is measured (an interrupted run
resumes). The table's own rows (library defaults) are in
``figC_circuit_validation.json``.

Usage::

    python figures/circuit_validation_settings.py --neurons-per-memory 5 \\
        --params '{"tau_m": 0.007}' [--models "uhn_best (manhattan/max),euclidean/max"] \\
        [--sizes digits:100,mnist:1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from circuit_heldout import replace_row  # figures/ is the script's directory
from figC_circuit import MODELS, SIZES, SKIP, _datasets, measure

from neuro_uhn.spiking import CircuitParams, SpikingConfig
from neuro_uhn.spiking.circuit import CIRCUIT_VERSION

OUT = Path(__file__).parent / "data" / "circuit_validation_settings.json"
N_QUERIES = 50
MAX_MODELS = "uhn_best (manhattan/max),euclidean/max"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--neurons-per-memory", type=int, required=True)
    ap.add_argument("--params", default="{}", help="a JSON object of CircuitParams overrides")
    ap.add_argument("--models", default=MAX_MODELS, help="labels of figC_circuit.MODELS")
    ap.add_argument("--sizes", default=None, help="data:N,... (default: every size)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    params = json.loads(args.params)
    if not isinstance(params, dict):
        ap.error("--params must be a JSON object, e.g. '{\"tau_m\": 0.007}'")
    models = [m.strip() for m in args.models.split(",")]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        ap.error(f"--models: unknown {unknown}; choose among {list(MODELS)}")
    sizes = None
    if args.sizes:
        sizes = {(d, int(n)) for d, n in (s.split(":") for s in args.sizes.split(","))}
    npm = args.neurons_per_memory
    config = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1,
                           batch_size=N_QUERIES, neurons_per_memory=npm,
                           circuit=CircuitParams(**params))  # fmt: skip
    for dataset, images in _datasets(quick=False):
        for n in SIZES[dataset]:
            if sizes is not None and (dataset, n) not in sizes:
                continue
            M = images[np.random.default_rng(n).permutation(len(images))[:n]]
            for label in models:
                if label in SKIP.get((dataset, n), ()):
                    continue
                row = {"dataset": dataset, "model": label, "n_memories": n,
                       "neurons_per_memory": npm, "params": params,
                       "circuit_version": CIRCUIT_VERSION, "n_queries": N_QUERIES}  # fmt: skip
                t0 = time.perf_counter()
                row.update(measure(label, M, n, N_QUERIES, config),
                           seconds=round(time.perf_counter() - t0, 1))  # fmt: skip
                key = ("dataset", "model", "n_memories", "neurons_per_memory", "params",
                       "circuit_version")  # fmt: skip
                replace_row(args.out, row, key)
                print(dataset, n, label, " ".join(f"{k}={v:.2f}" for k, v in row.items()
                                                  if isinstance(v, float)), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

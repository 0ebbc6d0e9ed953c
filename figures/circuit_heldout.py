"""The circuit on data it was never tuned on: natural-image patches (16×16 grey, from the
photos that ship with scikit-image and scikit-learn), beside digits and MNIST.

The circuit's constants were chosen on digits (docs/circuit.md); the patches were never used
while choosing them. Cues: ``corruptions.gaussian_noise(M[targets], 0.2)`` (zero mean,
clipped), as in ``figC_circuit.py``. Every row is written to ``data/circuit_heldout.json``
as soon as it is measured (a rerun replaces rows of the same case).

A model is a name of ``models/`` (``uhn_best``, ``mchn``), ``euclidean`` (Euclidean/max) or
``softmaxB`` (the modern Hopfield net, dot/softmax, at β = B: the MCHN at a β the circuit
realises). Rows are keyed by case, σ, the number of cues, the neurons per memory
(``--neurons-per-memory``, default the library's 4), the ``CircuitParams`` overrides
(``--params``, a JSON object, default none) and the cues' seed (``--cue-seed``, default 1:
the reported cues; another seed draws development cues of the same memories);
``run_seconds_per_cue`` is the run's wall time (build excluded) per cue, whose simulated
time is ``duration + pause`` = 0.3 s.

Usage::

    python figures/circuit_heldout.py [--sigma 0.2] [--cues 30] [--cases patches:uhn_best:20,...]
        [--neurons-per-memory 4] [--params '{"inhibitory_gain": 0.5}'] [--cue-seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from neuro_uhn import UHN, corruptions, datasets, load_model
from neuro_uhn.spiking import CircuitParams, SpikingConfig
from neuro_uhn.spiking.compare import compare

OUT = Path(__file__).parent / "data" / "circuit_heldout.json"
CUES, SIGMA = 30, 0.2
DEFAULT = (
    "patches:uhn_best:20,patches:uhn_best:100,patches:euclidean:20,patches:euclidean:100,"
    "digits:uhn_best:100,digits:euclidean:100,digits:mchn:100,mnist:uhn_best:100,"
    "mnist:euclidean:100"
)
KEYS = (
    "agreement", "agreement_gap_over_5pct", "accuracy_spiking", "accuracy_abstract",
    "median_memory_spikes", "median_active_populations", "mean_winner_share",
    "median_z_scale", "fraction_z_scale_within_10pct", "winner_agreement", "beta_realised",
)  # fmt: skip
#: the library's default, which rows without the field were measured with
NEURONS_PER_MEMORY = 4


def memories(data: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    if data == "patches":
        from neuro_uhn.datasets import _standins

        grey = _standins.patches(16, 16).astype(float).mean(-1) / 255.0
        return grey[rng.choice(len(grey), n, replace=False)].reshape(n, -1)
    return datasets.load(data, n=n, seed=0).images


def model_of(name: str):
    if name == "euclidean":
        return UHN(similarity="euclidean", separation="max")
    if name.startswith("softmax"):
        return UHN(similarity="dot", separation={"kind": "softmax", "beta": float(name[7:])})
    return name


def cue_set(case: str, cues: int, sigma: float, seed: int = 1):
    """``(M, targets, Q, model, rng)`` of a case ``data:model:N``: the same memories and noisy
    cues in every script of the circuit's analysis (``circuit_observer.py``,
    ``circuit_race.py``); ``rng`` is the cues' generator after drawing them. ``seed`` 1 gives
    the reported cues; another seed, development cues of the same memories."""
    data, name, n = case.split(":")
    M = memories(data, int(n))
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, len(M), cues)
    Q = corruptions.gaussian_noise(M[targets], sigma, rng)
    model = model_of(name)
    return M, targets, Q, load_model(model) if isinstance(model, str) else model, rng


def replace_row(path: Path, row: dict, fields: tuple[str, ...], defaults=None) -> None:
    """Put ``row`` into the JSON list of rows at ``path`` in place of any row that agrees with
    it on ``fields`` (a rerun replaces its rows; ``defaults``: values of fields older rows
    lack), written atomically (a temporary file renamed over the old one)."""
    defaults = defaults or {}

    def key(r):
        return tuple(r.get(f, defaults.get(f)) for f in fields)

    rows = json.loads(path.read_text()) if path.exists() else []
    rows = [r for r in rows if key(r) != key(row)] + [row]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=DEFAULT)
    ap.add_argument("--target", default="cpp_standalone")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--sigma", type=float, default=SIGMA)
    ap.add_argument("--cues", type=int, default=CUES)
    ap.add_argument("--neurons-per-memory", type=int, default=NEURONS_PER_MEMORY)
    ap.add_argument("--params", default="{}", help="a JSON object of CircuitParams overrides")
    ap.add_argument("--cue-seed", type=int, default=1,
                    help="1: the reported cues; another: development cues")  # fmt: skip
    args = ap.parse_args()
    params = json.loads(args.params)
    if not isinstance(params, dict):
        ap.error("--params must be a JSON object, e.g. '{\"inhibitory_gain\": 0.5}'")
    for case in args.cases.split(","):
        M, targets, Q, model, _ = cue_set(case, args.cues, args.sigma, args.cue_seed)
        cfg = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=0,
                            batch_size=args.cues, target=args.target,
                            neurons_per_memory=args.neurons_per_memory,
                            circuit=CircuitParams(**params))  # fmt: skip
        t0 = time.perf_counter()
        result = compare(model, M, Q, targets=targets, config=cfg)
        s = result.summary()
        row = {"case": case, "sigma": args.sigma, "cues": args.cues,
               "neurons_per_memory": args.neurons_per_memory,
               "params": params, "cue_seed": args.cue_seed,
               "seconds": round(time.perf_counter() - t0, 1),
               "run_seconds_per_cue": round(result.run_seconds / args.cues, 3),
               **{k: s.get(k, float("nan")) for k in KEYS}}  # fmt: skip
        replace_row(
            args.out,
            row,
            ("case", "sigma", "cues", "neurons_per_memory", "params", "cue_seed"),
            {"cues": CUES, "neurons_per_memory": NEURONS_PER_MEMORY, "params": {}, "cue_seed": 1},
        )
        print(
            case,
            f"n={args.neurons_per_memory}",
            json.dumps(params),
            " ".join(f"{k}={row[k]:.2f}" for k in KEYS),
            f"{row['seconds']}s",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""The output neurons' own step (``CircuitParams.output_dt``) against the read-out's fidelity.

For each case (``data:model:N`` of ``circuit_heldout.py``, the same memories and cues), each
output step and seed: run the circuit, decode z from the output neurons, and compare it with
the *ideal read-out of the circuit's own choice*, the memories' rows of P averaged with the
memory populations' spike counts in the read window (what the normalised read-out promises:
docs/circuit.md, Mapping). The read-out's relative error ``‖z − z_ideal‖ / ‖z_ideal‖`` isolates
the output stage from the competition; the agreements with the abstract model's nearest
memory are given for z and for z_ideal. Rows go to ``data/circuit_output_step.json`` as each
is measured (a rerun replaces its row).

Usage::

    python figures/circuit_output_step.py [--cases patches:uhn_best:20] [--sigma 0.2]
        [--cues 30] [--steps 0.00025,0.001] [--seeds 0,1] [--output-neurons 8]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from circuit_heldout import cue_set, replace_row

from neuro_uhn.metrics import nearest_memory as nearest
from neuro_uhn.spiking import CircuitParams, SpikingConfig, SpikingUHN

OUT = Path(__file__).parent / "data" / "circuit_output_step.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="patches:uhn_best:20")
    ap.add_argument("--sigma", type=float, default=0.2)
    ap.add_argument("--cues", type=int, default=30)
    ap.add_argument("--steps", default="0.00025,0.001")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--output-neurons", type=int, default=8, help="per output column")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    for case in args.cases.split(","):
        for step in (float(x) for x in args.steps.split(",")):
            for seed in (int(x) for x in args.seeds.split(",")):
                M, _, Q, model, _ = cue_set(case, args.cues, args.sigma)
                circuit = CircuitParams(output_dt=step, output_neurons=args.output_neurons)
                cfg = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=seed,
                                    batch_size=args.cues, target="cpp_standalone",
                                    circuit=circuit)  # fmt: skip
                t0 = time.perf_counter()
                net = SpikingUHN(model, M, config=cfg)
                run = net.run(Q)
                Z = net.decode(run)
                Z_abstract = np.asarray(model.retrieve(net.M, Q), dtype=float)
                counts = np.asarray(run.counts, dtype=float)
                Z_ideal = counts @ net.P / np.maximum(counts.sum(1, keepdims=True), 1)
                err = np.linalg.norm(Z - Z_ideal, axis=1) / np.linalg.norm(Z_ideal, axis=1)
                target = nearest(Z_abstract, M)
                row = {
                    "case": case, "sigma": args.sigma, "cues": args.cues, "output_dt": step,
                    "seed": seed, "output_neurons": args.output_neurons,
                    "agreement": float(np.mean(nearest(Z, M) == target)),
                    "ideal_agreement": float(np.mean(nearest(Z_ideal, M) == target)),
                    "readout_error_median": float(np.median(err)),
                    "readout_error_p90": float(np.quantile(err, 0.9)),
                    "output_linearity": net.output_linearity,
                    "seconds": round(time.perf_counter() - t0, 1),
                }  # fmt: skip
                replace_row(args.out, row,
                            ("case", "sigma", "cues", "output_dt", "seed", "output_neurons"),
                            {"output_neurons": 8})  # fmt: skip
                print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()

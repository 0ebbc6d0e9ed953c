"""Storage by plasticity on graded data: learned against set weights on grey-level images.

The instar rule samples a presynaptic rate trace at the recruited neurons' spikes, so its
error grows where a feature's rate is intermediate (grey levels) rather than 0 or the top
rate (near-binary digits). This script measures, for natural-image patches (16×16 grey, from
the photos in scikit-image and scikit-learn) and MNIST, the Pearson r of every learned
synapse group with the weights ``storage="set"`` builds, and retrieval with learned and
with set weights on the same noisy cues, for a list of trace time constants (the rule's
sampling window). Rows go to ``figures/data/plasticity_graded.json``::

    python figures/plasticity_graded.py [--n 20] [--cues 30] [--tau 0.01,0.03]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neuro_uhn import corruptions
from neuro_uhn.model import UHN

OUT = Path(__file__).resolve().parent / "data" / "plasticity_graded.json"


def main() -> None:
    from circuit_heldout import memories  # the same patches (this script's folder)

    from neuro_uhn.experiments.plasticity import pearson
    from neuro_uhn.spiking import SpikingConfig, SpikingUHN, StorageParams, compare

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--cues", type=int, default=30)
    ap.add_argument("--tau", default="0.01,0.03")
    ap.add_argument("--data", default="patches,mnist")
    ap.add_argument("--models", default="euclidean,uhn_best")
    args = ap.parse_args()
    rows = json.loads(OUT.read_text()) if OUT.exists() else []
    for data in args.data.split(","):
        M = memories(data, args.n)
        rng = np.random.default_rng(1)
        targets = rng.integers(0, args.n, args.cues)
        Q = corruptions.gaussian_noise(M[targets], 0.1, rng)
        for name in args.models.split(","):
            model = UHN(similarity="euclidean", separation="max") if name == "euclidean" else name
            base = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1,
                                 batch_size=16)  # fmt: skip
            fixed = SpikingUHN(model, M, config=base)
            a = fixed.weights()
            set_run = compare(model, M, Q, targets=targets, network=fixed)
            for tau in (float(t) for t in args.tau.split(",")):
                t0 = time.perf_counter()
                cfg = base.replace(storage="plasticity",
                                   plasticity=StorageParams(tau_trace=tau))  # fmt: skip
                learned = SpikingUHN(model, M, config=cfg)
                b = learned.weights()
                r = compare(model, M, Q, targets=targets, network=learned)
                driven = learned.query_inputs(M)["rates"].max(axis=0) > 0
                row = {
                    "data": data, "model": name, "n_memories": args.n, "cues": args.cues,
                    "tau_trace": tau,
                    "r_feature_to_memory": pearson(a["feature_to_memory"][:, driven],
                                                   b["feature_to_memory"][:, driven]),
                    "r_memory_to_output": pearson(a["memory_to_output"], b["memory_to_output"]),
                    "r_bias": pearson(a["bias"], b["bias"]),
                    "agreement_learned": float(r.agreement),
                    "agreement_set": float(set_run.agreement),
                    "winner_learned": float(np.mean(r.identity_correct_spiking)),
                    "seconds": time.perf_counter() - t0,
                }  # fmt: skip
                print(json.dumps(row), flush=True)
                rows.append(row)
                OUT.parent.mkdir(parents=True, exist_ok=True)
                tmp = OUT.with_suffix(".tmp")
                tmp.write_text(json.dumps(rows, indent=1))
                tmp.replace(OUT)  # atomic: an interrupted run keeps the finished rows


if __name__ == "__main__":
    main()

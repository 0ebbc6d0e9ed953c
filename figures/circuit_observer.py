"""What the circuit's input allows: an ideal observer of the feature neurons' spikes.

The circuit sees a cue only as Poisson spike trains: ``CircuitNetwork.rates`` per feature
neuron (``feature_pool`` of them per feature, at most ``input_rate`` each), and the bias as
the cue unit's ``CUE_NEURONS`` Poisson neurons. This script asks how often a read-out that
sums those spikes with the circuit's weights picks the abstract model's winner: it draws the
spike counts of a window T, estimates every memory's score from them with the circuit's own
weights (the estimate ``Σ_j W_kj x_j / (pool·input_rate·T)·scale + b_k``, unbiased for the
rates the circuit gets, which are clipped at ``input_rate``: a noisy pixel above the stored
patterns' largest value saturates), and reports the share of cues whose estimated argmax is
the abstract argmax — with the bias exact, and with the bias scaled by the cue unit's own
count (as the circuit receives it). No Brian2 run: NumPy on the plan's constants. It sums
weighted spikes over the whole window and takes the largest sum without error, which is the
best a circuit of summing memory neurons can do with this input (a statistically optimal
decoder of the same counts could do somewhat better).

It also reports the drives the plan gives the noisy cues (in rest-to-threshold gaps): the
median distance between the best two memories, and how many memories a cue drives above
threshold.

Usage::

    python figures/circuit_observer.py [--cases patches:uhn_best:100,...] [--cues 200]

Rows go to ``data/circuit_observer.json`` (written atomically after each case).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from circuit_heldout import cue_set, replace_row  # figures/ is the script's directory

from neuro_uhn.spiking import SpikingConfig
from neuro_uhn.spiking.circuit.build import CUE_NEURONS
from neuro_uhn.spiking.circuit.network import CircuitNetwork

OUT = Path(__file__).parent / "data" / "circuit_observer.json"
DEFAULT = (
    "patches:uhn_best:20,patches:uhn_best:100,patches:euclidean:20,patches:euclidean:100,"
    "digits:uhn_best:100,digits:euclidean:100,mnist:uhn_best:100,mnist:euclidean:100"
)
WINDOWS = (0.01, 0.02, 0.05, 0.15, 0.5)  # s
DRAWS = 5


def observe(case: str, cues: int, sigma: float) -> dict:
    M, targets, Q, model, rng = cue_set(case, cues, sigma)  # rng goes on to the counts
    cfg = SpikingConfig(mode="circuit")
    net = CircuitNetwork(model, M, M, cfg, "standard")
    sm, plan, c = net.sim_map, net.plan, cfg.circuit
    S = sm.features(Q) @ sm.W.T + sm.bias  # the abstract scores (no per-query term)
    abstract = np.argmax(S, axis=1)
    rates = net.rates(Q)
    W = np.concatenate([ch * sm.W for ch in net.channels], axis=1)
    bias = sm.bias - sm.bias.mean()  # the shared part moves every estimate alike
    row = {"case": case, "sigma": sigma, "cues": cues, "feature_pool": net.pool,
           "input_spikes_per_ms": float(rates.sum(1).mean() * net.pool / 1e3)}  # fmt: skip
    for T in WINDOWS:
        exact, cue_unit = [], []
        for _ in range(DRAWS):
            x = rng.poisson(rates * net.pool * T)
            est = (x / (net.pool * T * cfg.input_rate) * sm.scale) @ W.T
            exact.append(np.mean(np.argmax(est + bias, 1) == abstract))
            k = rng.poisson(CUE_NEURONS * cfg.input_rate * T, (len(Q), 1))
            cue_unit.append(np.mean(np.argmax(est + k / (CUE_NEURONS * cfg.input_rate * T)
                                              * bias, 1) == abstract))  # fmt: skip
        row[f"observer_{T * 1e3:g}ms"] = float(np.mean(exact))
        row[f"observer_cue_unit_{T * 1e3:g}ms"] = float(np.mean(cue_unit))
    drive = (plan.gain * (S - S.mean(1, keepdims=True)) + plan.tonic) / c.gap
    top = -np.sort(-drive, axis=1)
    row["median_top_two_gap_gaps"] = float(np.median(top[:, 0] - top[:, 1]))
    row["median_above_threshold"] = float(np.median((drive > 1).sum(1)))
    row["abstract_accuracy"] = float(np.mean(abstract == targets))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=DEFAULT)
    ap.add_argument("--cues", type=int, default=200)
    ap.add_argument("--sigma", type=float, default=0.2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    for case in args.cases.split(","):
        row = observe(case, args.cues, args.sigma)
        replace_row(args.out, row, ("case", "sigma", "cues"))
        print(case, " ".join(f"{k}={v:.2f}" for k, v in row.items()
                             if isinstance(v, float)), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Where a race to threshold puts the circuit's choice: the memory membranes alone, no
inhibition, on the circuit's own input spikes.

The circuit's competition starts when the first memory population crosses threshold; what
follows (inhibition, self-excitation) can hold that choice or, given time, revise it. This
script isolates the first step. In NumPy, on the plan's constants, it draws the Poisson
spikes of the feature neurons (``CircuitNetwork.rates``, ``feature_pool`` per feature) and
of the cue unit's ``CUE_NEURONS``, passes them through the circuit's weights into each
memory's excitatory current (decay ``tau_e``) and the ``neurons_per_memory`` membranes of
each memory (``tau_m``, membrane noise ``noise``, reset at threshold), and reports:

* how often the first memory to cross threshold is the abstract argmax ("race"),
* when it crosses (median, ms), and how many memories cross within 3 ms of it (the
  inhibition's latency at the defaults: they cross before any inhibition can stop them),
* the share of cues it never crosses in 0.2 s.

The shared parts (the pooled feed-forward inhibition, the common mode of the cue unit) move
every memory alike and change no ranking, so they are left out; so is the pool's extra
filter, which the circuit's excitation does not share (docs/circuit.md, "kernels
matched"). Compare with ``circuit_observer.py``, which sums the same spikes over a fixed
window: the race decides on a filtered signal at the time of its first crossing.

Usage::

    python figures/circuit_race.py [--cases patches:euclidean:20,...] \
        [--params '[{}, {"noise": 0}]'] [--cues 200]

Rows go to ``data/circuit_race.json`` (written atomically after each row; a rerun replaces
rows of the same case, σ, cues and parameters).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from circuit_heldout import cue_set, replace_row  # figures/ is the script's directory

from neuro_uhn.spiking import CircuitParams, SpikingConfig
from neuro_uhn.spiking.circuit.build import CUE_NEURONS
from neuro_uhn.spiking.circuit.network import CircuitNetwork

OUT = Path(__file__).parent / "data" / "circuit_race.json"
DEFAULT = "patches:uhn_best:20,patches:uhn_best:100,patches:euclidean:20,patches:euclidean:100"
PARAMS = '[{}, {"noise": 0}, {"tau_e": 0.05, "noise": 0.0002}, {"tau_m": 0.1, "noise": 0}]'
LATENCY = 3e-3  # s: two 1 ms synaptic delays and the inhibitory neurons' rise
HORIZON = 0.2  # s


def race(case: str, params: dict, cues: int, sigma: float, seed: int = 3) -> dict:
    M, targets, Q, model, _ = cue_set(case, cues, sigma)  # the cues of circuit_heldout.py
    cfg = SpikingConfig(mode="circuit", circuit=CircuitParams(**params))
    net = CircuitNetwork(model, M, M, cfg, "standard")
    sm, plan, c, dt = net.sim_map, net.plan, cfg.circuit, cfg.dt
    abstract = np.argmax(sm.features(Q) @ sm.W.T + sm.bias, axis=1)
    rates = net.rates(Q) * net.pool * dt  # spikes per step, summed over each feature's pool
    W = np.concatenate([ch * np.asarray(plan.W) for ch in net.channels], axis=1) / net.pool
    w_cue = plan.bias / (CUE_NEURONS * cfg.input_rate * c.tau_e)  # V per cue-unit spike
    rng = np.random.default_rng(seed)
    N, n_neurons = len(M), cfg.neurons_per_memory
    current = np.zeros((cues, N))
    v = np.zeros((cues, N, n_neurons))  # relative to rest
    first = np.full((cues, N), np.inf)
    decay, leak = np.exp(-dt / c.tau_e), dt / c.tau_m
    kick = c.noise * np.sqrt(2 * dt / c.tau_m)
    for step in range(int(round(HORIZON / dt))):
        cue_spikes = rng.poisson(CUE_NEURONS * cfg.input_rate * dt, (cues, 1))
        current = current * decay + rng.poisson(rates) @ W.T + cue_spikes * w_cue
        v += leak * (current[..., None] - v) + kick * rng.standard_normal(v.shape)
        fired = v >= c.gap
        first[fired.any(-1) & np.isinf(first)] = step * dt
        v[fired] = 0.0
    t_first = first.min(axis=1)
    crossed = np.isfinite(t_first)
    winner = np.where(crossed, np.argmin(first, axis=1), -1)
    together = np.sum(first - t_first[:, None] < LATENCY, axis=1)
    return {
        "case": case, "sigma": sigma, "cues": cues, "params": params,
        "race": float(np.mean(winner == abstract)),
        "race_alone": float(np.mean((winner == abstract) & (together == 1))),
        "median_first_crossing_ms": float(np.median(t_first[crossed]) * 1e3)
        if crossed.any() else float("nan"),
        "median_crossing_within_3ms": float(np.median(together[crossed]))
        if crossed.any() else float("nan"),
        "never_crossed": float(np.mean(~crossed)),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=DEFAULT)
    ap.add_argument("--params", default=PARAMS, help="a JSON list of CircuitParams overrides")
    ap.add_argument("--cues", type=int, default=200)
    ap.add_argument("--sigma", type=float, default=0.2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    params = json.loads(args.params)
    if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
        ap.error("--params must be a JSON list of objects, e.g. '[{}, {\"noise\": 0}]'")
    for case in args.cases.split(","):
        for over in params:
            row = race(case, over, args.cues, args.sigma)
            replace_row(args.out, row, ("case", "sigma", "cues", "params"))
            numbers = " ".join(f"{k}={v:.2f}" for k, v in row.items() if isinstance(v, float))
            print(case, json.dumps(over), numbers, flush=True)


if __name__ == "__main__":
    main()

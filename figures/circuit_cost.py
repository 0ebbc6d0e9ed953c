"""Cost of the circuit (v2: pooled feed-forward inhibition, cues in sequence, normalised
read-out) on the cases of ``circuit_cost_old_baseline.py``, the v1 circuit's measurement.

Per case: build ``SpikingUHN(model, M, config=cfg)`` with ``cfg = SpikingConfig(mode="circuit",
target="cpp_standalone", duration=0.2, settle=0.05, seed=0, batch_size=CUES)`` (library
defaults otherwise), time ``net.build(CUES)`` and ``net.run(Q)`` (the fastest of
``--repeats``), decode z, and count synaptic events per synapse group.

Events of a group = Σ over its source neurons of (spikes × out-degree in that group), per cue,
divided by the simulated duration of a cue. Out-degrees are exact (``syn.i`` after the run).
Spikes: the Poisson feature pools and the cue unit — EXPECTATION (rate × duration); the pooled
feed-forward inhibition — EXPECTATION (its hazard is linear: rate = Σ_j c_j r_j / w_pool); the
normalisation pool — EXPECTATION (``NORMALISATION_SPIKES`` per memory spike); memories and
inhibitory neurons — EXACT, from the SpikeMonitors (the whole run, pauses included, per cue).

Usage (one case per process, one at a time; rows merged into the JSON by case and N)::

    python figures/circuit_cost.py --case bench [--n 1000] [--repeats 3] [--neurons-per-memory 4]
        [--params '{"tau_m": 0.007}']

Rows are keyed by case, N, neurons per memory (rows without the field: the default, 4) and
the ``CircuitParams`` overrides ``--params`` (a JSON object; rows without the field: none).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import neuro_uhn
from neuro_uhn import UHN, corruptions, datasets, metrics
from neuro_uhn.spiking import CircuitParams, SpikingConfig, SpikingUHN

CUES, DURATION, SETTLE, SIGMA = 10, 0.2, 0.05, 0.2
OUT = Path(__file__).parent / "data" / "circuit_cost_v2.json"
#: the library's default, which rows without the field were measured with
NEURONS_PER_MEMORY = 4


def task(case: str, n: int):
    """The same cases and cues as ``circuit_cost_old_baseline.py``."""
    if case == "bench":
        from neuro_uhn.app.spiking_bench import WTA_MODEL, binary_task

        M, Q, targets = binary_task(n, CUES, d=784, seed=0)
        return WTA_MODEL, M, Q, targets
    M = datasets.load("mnist", n=n, seed=0).images
    rng = np.random.default_rng(0)
    targets = rng.integers(0, n, CUES)
    Q = corruptions.gaussian_noise(M[targets], SIGMA, rng)
    model = "uhn_best" if case == "mnist_l1" else UHN(similarity="euclidean", separation="max")
    return model, M, Q, targets


def source_spikes(net: SpikingUHN, Q: np.ndarray, n_cues: int) -> dict[str, np.ndarray]:
    """Spikes per source neuron per cue (see the module docstring for exact/expected)."""
    from neuro_uhn.spiking.circuit.readout import NORMALISATION_SPIKES

    kind, built = net.engine.kind, net.engine.built
    cfg = net.config
    rates = kind.rates(Q).mean(axis=0)  # Hz per feature, averaged over the cues
    out = {"features": np.repeat(rates, built.pool) * DURATION}
    out["cue"] = np.full(built.sizes["cue"], cfg.input_rate * DURATION)
    for group, mon in (("memories", "memory_spikes"), ("inhibitory", "inhibitory_spikes")):
        if mon in built:
            out[group] = np.bincount(np.asarray(built[mon].i[:]),
                                     minlength=built.sizes[group]) / n_cues  # fmt: skip
    if "feedforward" in built:
        drive = 0.0  # V/s into the pool's shared input (one per copy; K = 1)
        for name, src in (("feedforward_input", "features"), ("feedforward_cue", "cue")):
            if name in built:
                syn = built[name]
                i, w = np.asarray(syn.i[:]), np.asarray(syn.w[:])
                drive += float(np.sum(w * out[src][i] / DURATION))
        w_pool = float(built.namespace["w_pool"])
        out["feedforward"] = np.full(built.sizes["feedforward"], drive / w_pool * DURATION)
    if "normalisation" in built:
        n_norm = built.sizes["normalisation"]
        per = NORMALISATION_SPIKES * out["memories"].sum() / n_norm
        out["normalisation"] = np.full(n_norm, per)
    return out


def events(net: SpikingUHN, spikes: dict[str, np.ndarray]) -> dict[str, float]:
    """Events per cue per simulated second, by synapse group."""
    import brian2 as b2

    built = net.engine.built
    result = {}
    for name, obj in built.objects.items():
        if not isinstance(obj, b2.Synapses):
            continue
        src = obj.source.name
        if src not in spikes:
            continue
        degree = np.bincount(np.asarray(obj.i[:]), minlength=len(spikes[src]))
        result[name] = float(spikes[src] @ degree[: len(spikes[src])]) / DURATION
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", required=True, choices=("bench", "mnist_l1", "mnist_l2"))
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--neurons-per-memory", type=int, default=NEURONS_PER_MEMORY)
    ap.add_argument("--params", default="{}", help="a JSON object of CircuitParams overrides")
    args = ap.parse_args()
    params = json.loads(args.params)
    if not isinstance(params, dict):
        ap.error("--params must be a JSON object, e.g. '{\"tau_m\": 0.007}'")
    n = args.n or (1000 if args.case == "bench" else 100)
    npm = args.neurons_per_memory
    model, M, Q, targets = task(args.case, n)
    cfg = SpikingConfig(mode="circuit", target="cpp_standalone", duration=DURATION,
                        settle=SETTLE, seed=0, batch_size=CUES,
                        neurons_per_memory=npm, circuit=CircuitParams(**params))  # fmt: skip
    net = SpikingUHN(model, M, config=cfg)
    t0 = time.perf_counter()
    net.build(CUES)
    build_s = time.perf_counter() - t0
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run = net.run(Q)
        runs.append(time.perf_counter() - t0)
    spikes = source_spikes(net, Q, CUES)
    ev = events(net, spikes)
    Z = net.decode(run)
    spec = net.model
    Za = spec.retrieve(M, Q)
    near = metrics.nearest_memory
    row = {
        "case": args.case, "n_memories": n, "neurons_per_memory": npm, "params": params,
        "cues": CUES,
        "duration": DURATION,
        "build_s": round(build_s, 1), "run_s_all": [round(r, 3) for r in runs],
        "wall_per_cue_per_sim_s": min(runs) / (CUES * DURATION),
        "events_per_cue_per_sim_s": {"total": sum(ev.values()), **ev},
        "agreement": float(np.mean(near(Z, M) == near(Za, M))),
        "winner_accuracy": float(np.mean(run.counts.argmax(1) == targets)),
        "median_memory_spikes": float(np.median(run.counts.sum(1))),
        "synapses_per_copy": net.engine.kind.synapses_per_copy(),
        "neurons_per_copy": net.n_neurons,
        "machine": f"{platform.node()} nproc={os.cpu_count()} load={os.getloadavg()[0]:.1f}",
        "brian2_version": __import__("brian2").__version__,
        "neuro_uhn_version": neuro_uhn.__version__,
    }  # fmt: skip
    rows = json.loads(args.out.read_text()) if args.out.exists() else []

    def key(r):
        return (r["case"], r["n_memories"], r.get("neurons_per_memory", NEURONS_PER_MEMORY),
                json.dumps(r.get("params", {}), sort_keys=True))  # fmt: skip

    rows = [r for r in rows if key(r) != key(row)] + [row]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, args.out)
    print(json.dumps({k: row[k] for k in ("case", "n_memories", "neurons_per_memory", "params",
                                          "build_s",
                                          "wall_per_cue_per_sim_s", "agreement",
                                          "median_memory_spikes")}),
          f"events {row['events_per_cue_per_sim_s']['total']:.3g}")  # fmt: skip


if __name__ == "__main__":
    main()

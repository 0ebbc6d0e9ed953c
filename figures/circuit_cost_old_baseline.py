"""Cost baseline of the v1 ("old") spiking circuit of neuro_uhn (commit e47c735).

For each case: build ``SpikingUHN(model, M, config=cfg)`` with
``cfg = SpikingConfig(mode="circuit", target="cpp_standalone", duration=0.2, settle=0.05,
seed=0, batch_size=CUES)`` (library defaults otherwise), time ``net.build(CUES)`` and
``net.run(Q)``, decode z, and count synaptic events per synapse group.

Synaptic events of a group = sum over its source neurons of (spikes of that neuron x its
out-degree in that group), per cue, divided by the simulated duration. Out-degrees are exact
(``np.bincount(syn.i[:], minlength=source.N)`` after the run, reduced to one copy; every copy
is checked to be identical). Spikes:

* ``features`` (Poisson): EXPECTATION, rate x duration, rates from ``net.kind.rates(Q)``
  (a Bernoulli draw per step with p = rate*dt, so the expectation is exactly rate*duration);
* ``relays``: EXPECTATION, the feature counts (relay f is reached only by feature f through
  a 2-gap jump, so it fires once per feature spike);
* ``memories``, ``inhibitory``, ``outputs``, ``gate``: EXACT counts from the SpikeMonitors
  of the built network. The engine caps the copies per simulation by its synapse budget
  (``Engine.SYNAPSE_BUDGET``), so a run may take several batches while a monitor holds only
  the last one: the script wraps ``net.kind.collect`` after the build (the decoder's
  calibration runs are not captured) and reads every monitor after every batch; padding
  copies of the last batch are dropped.

An event is one presynaptic spike reaching one synapse (the ``on_pre`` code runs for it),
whether or not a probabilistic release (projection) then happens; spikes in the last synaptic
delay (1 ms) whose delivery falls after the end are counted too.

Cases (10 cues each):
  bench       neuro_uhn.app.spiking_bench.binary_task(N, 10, d=784, seed=0), WTA_MODEL (dot/max)
  mnist_l1    uhn_best (manhattan/max), MNIST: datasets.load("mnist", n=100, seed=0) (the
              library's seeded shuffle, first 100), cues: the rule of figures/figC_circuit.py
              (rng = default_rng(0); targets = rng.integers(0, N, 10);
              corruptions.gaussian_noise(M[targets], 0.2, rng), zero-mean, clipped to [0, 1])
  mnist_l2    the same with UHN(similarity="euclidean", separation="max")

Usage (one case per process, one at a time; results merged into the JSON by case name):
  cd /work/wt_old && PYTHONPATH=/work/wt_old /work/main/.venv/bin/python circuit_cost_old.py \
      --case bench [--n 1000] [--out /work/main/figures/data/circuit_cost_old.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

import neuro_uhn
from neuro_uhn import UHN, corruptions, datasets, metrics
from neuro_uhn.spiking import SpikingConfig, SpikingUHN

CUES = 10
DURATION = 0.2
SETTLE = 0.05
SIGMA = 0.2  # figures/figC_circuit.py's cue noise
DEFAULT_OUT = "/work/main/figures/data/circuit_cost_old.json"

#: how each source group's spikes are counted
EXPECTED = ("features", "relays")
MONITOR = {"memories": "memory_spikes", "outputs": "output_spikes",
           "inhibitory": "inhibitory_spikes", "gate": "gate_spikes"}  # fmt: skip


def task(case: str, n: int):
    """(model, model label, M, Q, targets, cue rule)."""
    if case == "bench":
        from neuro_uhn.app.spiking_bench import WTA_MODEL, binary_task

        M, Q, targets = binary_task(n, CUES, d=784, seed=0)
        rule = f"binary_task({n}, {CUES}, d=784, seed=0): stored pattern with 30% of pixels zeroed"
        return WTA_MODEL, "dot/max (spiking_bench.WTA_MODEL)", M, Q, targets, rule
    ds = datasets.load("mnist", n=n, seed=0)
    M = ds.images
    rng = np.random.default_rng(0)
    targets = rng.integers(0, len(M), CUES)
    Q = corruptions.gaussian_noise(M[targets], SIGMA, rng)
    rule = (f"MNIST via datasets.load('mnist', n={n}, seed=0) [{ds.source}]; rng=default_rng(0), "
            f"targets=rng.integers(0,{n},{CUES}), cues=gaussian_noise(M[targets], {SIGMA}, rng) "
            "(zero-mean, clipped to [0,1]; rule of figures/figC_circuit.py)")  # fmt: skip
    if case == "mnist_l1":
        return neuro_uhn.load_model("uhn_best"), "uhn_best (manhattan/max)", M, Q, targets, rule
    if case == "mnist_l2":
        model = UHN(similarity="euclidean", separation="max")
        return model, "euclidean/max", M, Q, targets, rule
    raise SystemExit(f"unknown case {case!r}")


def capture_monitors(net: SpikingUHN, b2) -> list[dict]:
    """Wrap the circuit's ``collect`` so every batch's SpikeMonitors are kept (i, t)."""
    kind = net.kind
    original = kind.collect
    store: list[dict] = []

    def collect(built, b2_):
        rec = {}
        for name, obj in built.objects.items():
            if isinstance(obj, b2.SpikeMonitor):
                rec[name] = (np.asarray(obj.i[:]).copy(), np.asarray(obj.t[:] / b2.second).copy())
        store.append(rec)
        return original(built, b2_)

    kind.collect = collect  # instance attribute shadows the method
    return store


def monitor_counts(store, built, n_queries: int) -> dict[str, np.ndarray]:
    """Per source group (by group name): spikes per (query, local neuron), exact."""
    K = built.K
    out = {}
    for group, mon in MONITOR.items():
        if mon not in built:
            continue
        size = built.sizes[group]
        counts = np.zeros((n_queries, size))
        for b, rec in enumerate(store):
            i, _ = rec[mon]
            copy, local = i // size, i % size
            q = b * K + copy
            keep = q < n_queries  # padding copies of the last batch
            np.add.at(counts, (q[keep], local[keep]), 1)
        out[group] = counts
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=("bench", "mnist_l1", "mnist_l2"))
    ap.add_argument("--n", type=int, default=None, help="memories (bench 1000, mnist 100)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed runs of the same cues (the first also counts the events)")
    args = ap.parse_args()
    n = args.n or (1000 if args.case == "bench" else 100)
    assert Path(neuro_uhn.__file__).resolve().is_relative_to("/work/wt_old"), neuro_uhn.__file__

    from neuro_uhn.spiking.device import brian

    load_start = list(os.getloadavg())

    b2 = brian()
    model, label, M, Q, targets, rule = task(args.case, n)
    cfg = SpikingConfig(mode="circuit", target="cpp_standalone", duration=DURATION,
                        settle=SETTLE, seed=0, batch_size=CUES)  # fmt: skip
    t0 = time.perf_counter()
    net = SpikingUHN(model, M, config=cfg)
    construct_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.build(CUES)
    build_s = time.perf_counter() - t0
    built = net.engine.built
    store = capture_monitors(net, b2)
    t0 = time.perf_counter()
    run = net.run(Q)
    run_s = time.perf_counter() - t0
    n_batches = len(store)
    run_all = [run_s]
    for _ in range(args.repeats - 1):  # timing only (the same compiled project and cues)
        t0 = time.perf_counter()
        net.run(Q)
        run_all.append(time.perf_counter() - t0)
    # the fixed part: the same cues with every feature silent (all-zero cues: no input
    # spike, hence no feature-driven event); the memories' bias and noise still act
    t0 = time.perf_counter()
    idle = net.run(np.zeros_like(Q))
    idle_s = time.perf_counter() - t0
    idle_memory_spikes = float(np.median([len(t) for _, t in idle.spikes]))

    # decode and compare with the abstract model (compare()'s definitions)
    Z = net.decode(run)
    Za = np.asarray(model.retrieve(net.M, Q), dtype=float)
    items = net.P
    near_s, near_a = metrics.nearest_memory(Z, items), metrics.nearest_memory(Za, items)
    counts = run.counts  # pooled memory counts in the decoding window [settle, duration)
    fired = counts.sum(axis=1) > 0
    winner = np.where(fired, counts.argmax(axis=1), -1)

    # spikes per (query, local source neuron)
    rates = net.kind.rates(Q)  # (queries, feature neurons per copy), Hz
    spikes = monitor_counts(store[:n_batches], built, len(Q))  # the first run only
    spikes["features"] = rates * DURATION
    spikes["relays"] = rates * DURATION

    by_group, degree_note = {}, {}
    for name, syn in built.objects.items():
        if not isinstance(syn, b2.Synapses):
            continue
        src = syn.source.name
        size = built.sizes[src]
        deg = np.bincount(np.asarray(syn.i[:]), minlength=syn.source.N).reshape(built.K, size)
        assert np.all(deg == deg[0]), f"{name}: copies differ"
        deg = deg[0].astype(float)
        ev = spikes[src] @ deg  # (queries,)
        by_group[name] = {
            "source": src,
            "target": syn.target.name,
            "synapses_per_copy": int(deg.sum()),
            "events_per_cue_per_sim_s": float(ev.mean() / DURATION),
            "events_per_cue_per_sim_s_min_max": [float(ev.min() / DURATION),
                                                 float(ev.max() / DURATION)],  # fmt: skip
            "count": "expectation" if src in EXPECTED else "exact",
        }
        degree_note[name] = [float(deg.min()), float(deg.max())]
    total = sum(g["events_per_cue_per_sim_s"] for g in by_group.values())
    exact = sum(g["events_per_cue_per_sim_s"] for g in by_group.values() if g["count"] == "exact")

    spikes_per_group = {
        g: float(s.sum(axis=1).mean() / DURATION) for g, s in spikes.items()
    }
    result = {
        "case": args.case,
        "model": label,
        "n_memories": int(len(M)),
        "n_features_input": int(M.shape[1]),
        "cues": CUES,
        "cue_rule": rule,
        "duration": DURATION,
        "settle": SETTLE,
        "config": repr(cfg),
        "copies_per_simulation_K": int(built.K),
        "run_batches": n_batches,
        "synapses_per_copy": int(net.synapses_per_copy()),
        "neurons_per_copy": int(net.n_neurons),
        "construct_s": construct_s,
        "build_s": build_s,
        "build_note": "net.build(CUES): standalone code generation + C++ compile + the decoder's "
        "calibration runs on stored patterns (min(N, max(K, 16)) cues in batches of K); "
        "construct_s (SpikingUHN(...) planning) is separate",
        "run_s": min(run_all),
        "run_s_all": run_all,
        "wall_per_cue_per_sim_s": min(run_all) / (CUES * DURATION),
        "wall_per_cue_per_sim_s_first_run": run_s / (CUES * DURATION),
        "wall_per_cue_per_sim_s_zero_input": idle_s / (CUES * DURATION),
        "zero_input_median_memory_spikes_whole_run": idle_memory_spikes,
        "wall_note": "run_s = the fastest of run_s_all (net.run(Q) of the same 10 cues, "
        "repeated; the machine is shared, so the minimum is the least disturbed); each run "
        "includes the standalone binary's start, writing the rates, reading the results; "
        "wall_per_cue_per_sim_s_zero_input: one run of all-zero cues (no input spikes), "
        "the cost that does not scale with input events",
        "events_per_cue_per_sim_s": {
            "total": total,
            "exact_part": exact,
            "expected_part": total - exact,
            "by_group": by_group,
        },
        "out_degree_min_max": degree_note,
        "spikes_per_cue_per_sim_s_by_source_group": spikes_per_group,
        "agreement": float(np.mean(near_s == near_a)),
        "winner_accuracy": float(np.mean(winner == targets)),
        "winner_agreement_with_abstract_argmax": float(
            np.mean(winner == np.asarray(model.similarity(net.M, Q)).argmax(axis=1))
        ),
        "accuracy_spiking": float(np.mean(near_s == targets)),
        "accuracy_abstract": float(np.mean(near_a == targets)),
        "median_memory_spikes": float(np.median(counts.sum(axis=1))),
        "median_memory_spikes_note": "memory spikes per cue in the decoding window "
        "[settle, duration) (compare()'s definition); whole-run median in "
        "median_memory_spikes_whole_run",
        "median_memory_spikes_whole_run": float(np.median(spikes["memories"].sum(axis=1))),
        "gate_closed_fraction": None if run.gate_times is None
        else float(np.mean(np.isfinite(run.gate_times))),
        "machine": {
            "nproc": os.cpu_count(),
            "nproc_cmd": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
            "cpu": platform.processor() or platform.machine(),
            "load_avg_at_start": load_start,
            "load_avg_at_end": list(os.getloadavg()),
            "note": "2 cores shared with other users; cases run one at a time; threads=1",
        },
        "brian2_version": b2.__version__,
        "numpy_version": np.__version__,
        "neuro_uhn_commit": subprocess.run(["git", "-C", "/work/wt_old", "rev-parse", "HEAD"],
                                           capture_output=True, text=True).stdout.strip(),
    }  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(out.read_text()) if out.exists() else []
    rows = [r for r in rows if (r["case"], r["n_memories"]) != (args.case, len(M))] + [result]
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("out_degree_min_max",)},
                     indent=1))  # fmt: skip


if __name__ == "__main__":
    main()

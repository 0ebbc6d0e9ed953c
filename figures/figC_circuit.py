"""New figure and table (the neural circuit, ``mode="circuit"``): for one noisy digit cue,
rasters of the memory and inhibitory neurons and the membrane potential of the winner and of
the runner-up crossing (or not) the threshold; and the validation table of docs/circuit.md —
per model and N, agreement with the abstract model split by the top-two score gap, accuracy
of the circuit and of the abstract model, settling time and spikes per retrieval.

The table's rows are written one by one to ``figC_circuit_validation.json`` (atomically), so
an interrupted run resumes where it stopped; ``figC_circuit_validation.md`` is the table.
"""

import json
from pathlib import Path

import numpy as np

from neuro_uhn import UHN, corruptions
from neuro_uhn.app import figures

NAME = "circuit"
PAPER_FIGURE = "new: the UHN as a spiking neural circuit (rasters, membranes, validation)"

#: label -> model: the model files the circuit can realise, and a Euclidean/max model
MODELS = {
    "uhn_best (manhattan/max)": "uhn_best",
    "euclidean/max": UHN(similarity="euclidean", separation="max"),
    "mchn (dot/softmax β=1)": "mchn",
}
SIGMA = 0.2


def _cues(M, n_queries, seed):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, len(M), n_queries)
    return corruptions.gaussian_noise(M[targets], SIGMA, rng), targets


def _datasets(quick):
    from neuro_uhn import datasets

    out = [("digits", datasets.load("digits").images)]
    if not quick:
        try:
            out.append(("mnist", datasets.load("mnist", n=2000).images))
        except datasets.DatasetUnavailable:
            pass
    return out


def validation_rows(out_dir: Path, *, quick: bool, progress: bool = False) -> list[dict]:
    from neuro_uhn.experiments.circuit import save_rows, validation_metrics
    from neuro_uhn.spiking import SpikingConfig, compare

    path = out_dir / ("figC_circuit_validation_quick.json" if quick else
                      "figC_circuit_validation.json")  # fmt: skip
    rows = json.loads(path.read_text()) if path.exists() else []
    done = {(r["dataset"], r["model"], r["n_memories"]) for r in rows}
    # N = 1000 on digits only: MNIST's thermometer code (784 × 16 units) would need about
    # 50 M feature→memory synapses per copy at N = 1000 (see docs/circuit.md)
    sizes = {"digits": (20,) if quick else (20, 100, 1000), "mnist": (20, 100)}
    n_queries = 8 if quick else 50
    config = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1,
                           batch_size=n_queries)  # fmt: skip
    for dataset, images in _datasets(quick):
        for n in sizes[dataset]:
            M = images[np.random.default_rng(n).permutation(len(images))[:n]]
            Q, targets = _cues(M, n_queries, seed=n)
            for label, model in MODELS.items():
                if (dataset, label, n) in done:
                    continue
                if progress:
                    print(f"circuit validation: {dataset} N={n} {label}", flush=True)
                r = compare(model, M, Q, targets=targets, config=config)
                s = r.summary()
                rows.append(
                    {
                        "dataset": dataset, "model": label, "n_memories": n,
                        "n_queries": n_queries, "sigma": SIGMA,
                        **validation_metrics(s),
                        "n_synapses_per_copy": None,
                    }
                )  # fmt: skip
                save_rows(path, rows)
    return rows


def table(rows: list[dict]) -> str:
    from neuro_uhn.experiments.circuit import validation_table

    return validation_table(rows)


def dynamics(out_dir: Path, *, quick: bool) -> Path:
    """Rasters and membrane traces of one cue (digits, 20 memories, uhn_best)."""
    from matplotlib.figure import Figure

    from neuro_uhn import datasets
    from neuro_uhn.app.plotting import _suptitle
    from neuro_uhn.spiking import SpikingConfig, SpikingUHN

    images = datasets.load("digits").images
    M = images[np.random.default_rng(20).permutation(len(images))[:20]]
    Q, targets = _cues(M, 1, seed=5)
    n = 4
    config = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1,
                           neurons_per_memory=n, target="numpy")  # fmt: skip
    net = SpikingUHN("uhn_best", M, config=config)
    scores = -np.abs(M - Q[0]).sum(1)  # for the labels only (after the run)
    best, second = np.argsort(-scores)[:2]
    net.record("memories", "v", neurons=[best * n, second * n])
    run = net.run(Q)
    t = 1e3 * run.trace_times
    v = 1e3 * run.traces["memories.v"][0]
    fig = Figure(figsize=(8, 7.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, height_ratios=(2, 1, 1.4))
    memory, times = run.spikes[0]
    hit = memory == best
    axes[0].plot(1e3 * times[~hit], memory[~hit], "|", color="0.4", ms=5, label="other memories")
    axes[0].plot(1e3 * times[hit], memory[hit], "|", color="C3", ms=7,
                 label=f"memory {best} (best score)")  # fmt: skip
    axes[0].axvspan(0, 1e3 * config.settle, color="0.92", label="settling (not decoded)")
    axes[0].set(ylabel="memory population", ylim=(-0.5, len(M) - 0.5))
    axes[0].legend(loc="upper right", fontsize=8, framealpha=0.9)
    i_idx, i_t = run.inhibitory_spikes[0]
    axes[1].plot(1e3 * i_t, i_idx, "|", color="C0", ms=5)
    axes[1].set(ylabel="inhibitory neuron", ylim=(-0.5, config.circuit.n_inhibitory - 0.5))
    th = 1e3 * config.circuit.v_threshold
    axes[2].plot(t, v[0], color="C3", lw=0.8, label=f"winner (memory {best})")
    axes[2].plot(t, v[1], color="0.3", lw=0.8, label=f"runner-up (memory {second})")
    axes[2].axhline(th, color="k", ls="--", lw=0.8, label="threshold")
    axes[2].set(xlabel="time (ms)", ylabel="membrane v (mV)", xlim=(0, 1e3 * config.duration))
    axes[2].legend(loc="lower right", fontsize=8, framealpha=0.9)
    _suptitle(
        fig,
        "The circuit (mode='circuit', uhn_best): "
        f"sklearn digits, 20 memories, one cue of memory {targets[0]} with zero-mean noise "
        f"σ = {SIGMA}\nLIF memory populations ({n} neurons each) compete through an "
        "inhibitory population; every spike shown is simulated by Brian2",
        fontsize=9,
    )
    path = out_dir / "figC_circuit.png"
    fig.savefig(path, dpi=120)
    return path


def make(out_dir, *, quick, store, workers, progress):
    out_dir = Path(out_dir)
    paths = [dynamics(out_dir, quick=quick)]
    rows = validation_rows(out_dir, quick=quick, progress=progress)
    md = out_dir / ("figC_circuit_validation_quick.md" if quick else
                    "figC_circuit_validation.md")  # fmt: skip
    md.write_text(table(rows))  # beside the figure (docs/circuit.md quotes it)
    return paths


if __name__ == "__main__":
    figures.script_main(__name__)

"""New figure (the circuit experiment): what the neural circuit's retrieval depends on.
One parameter at a time moves away from the defaults — inhibition strength (0 is the
knockout), membrane time constant, synaptic delay, input rate, feature neurons per input
unit, neurons per memory, feature→memory connection probability and background noise — for
uhn_best (Manhattan/max) on 20 stored scikit-learn digits queried with zero-mean noise:
accuracy of the circuit and of the abstract model, agreement with it, settling time and
spikes per retrieval.

Points are kept in ``figC_sweeps.json`` (resumable; see neuro_uhn.experiments.circuit)."""

from pathlib import Path

import numpy as np

from neuro_uhn import corruptions
from neuro_uhn.app import figures

NAME = "circuit_sweeps"
PAPER_FIGURE = "new: the circuit's biology (inhibition, τm, delay, rates, neurons, p, noise)"
SIGMA = 0.2


def make(out_dir, *, quick, store, workers, progress):
    from matplotlib.figure import Figure

    from neuro_uhn import datasets
    from neuro_uhn.app.plotting import _suptitle
    from neuro_uhn.experiments.circuit import CIRCUIT_PARAMETERS, circuit_sweep

    out_dir = Path(out_dir)
    images = datasets.load("digits").images
    n, n_q = (10, 4) if quick else (20, 40)
    M = images[np.random.default_rng(7).permutation(len(images))[:n]]
    rng = np.random.default_rng(8)
    targets = rng.integers(0, n, n_q)
    Q = corruptions.gaussian_noise(M[targets], SIGMA, rng)
    parameters = {k: v[1] for k, v in CIRCUIT_PARAMETERS.items()}
    if quick:  # the pipeline, not the numbers: three parameters at their extremes
        parameters = {k: (v[0], v[-1]) for k, v in list(parameters.items())[:3]}
    rows = circuit_sweep(
        M, Q, targets, model="uhn_best", parameters=parameters,
        results=out_dir / ("figC_sweeps_quick.json" if quick else "figC_sweeps.json"),
        label=f"digits, N={n}, σ={SIGMA}",
        progress=(lambda s: print(s, flush=True)) if progress else None,
    )  # fmt: skip
    names = list(parameters)
    fig = Figure(figsize=(3.0 * len(names), 6.2), layout="constrained")
    axes = fig.subplots(2, len(names), squeeze=False)
    for j, name in enumerate(names):
        sel = sorted((r for r in rows if r["parameter"] == name), key=lambda r: r["value"])
        x = np.array([r["value"] for r in sel])
        scale, unit = (1e3, "ms") if CIRCUIT_PARAMETERS[name][2] == "s" else (1.0, "")
        if name == "noise":
            scale, unit = 1e3, "mV (σ)"
        x = x * scale
        unit = unit or CIRCUIT_PARAMETERS[name][2]
        ax = axes[0, j]
        ax.plot(x, [r["accuracy_spiking"] for r in sel], "o-", label="circuit accuracy")
        ax.plot(x, [r["agreement"] for r in sel], "s--", label="agreement with abstract")
        ax.plot(x, [r["accuracy_abstract"] for r in sel], ":", color="0.4",
                label="abstract accuracy")  # fmt: skip
        ax.set(ylim=(-0.03, 1.03), title=name, xlabel=f"{name} ({unit})")
        if j == 0:
            ax.set_ylabel("fraction of cues")
            ax.legend(fontsize=7, loc="lower right")
        ax = axes[1, j]
        ax.plot(x, [r["median_settling_ms"] for r in sel], "o-", color="C2",
                label="median settling (ms)")  # fmt: skip
        ax.set(xlabel=f"{name} ({unit})")
        ax2 = ax.twinx()
        ax2.plot(x, [r["spikes_per_retrieval"] for r in sel], "^:", color="C3",
                 label="spikes per retrieval")  # fmt: skip
        if j == 0:
            ax.set_ylabel("median settling time (ms)", color="C2")
        if j == len(names) - 1:
            ax2.set_ylabel("spikes per retrieval", color="C3")
    _suptitle(
        fig,
        f"The circuit experiment (mode='circuit', uhn_best = Manhattan/max): scikit-learn "
        f"digits, {n} memories, {n_q} cues with zero-mean noise σ = {SIGMA}, 200 ms per cue; "
        "one parameter at a time away from the defaults (docs/circuit.md)",
        fontsize=9,
    )
    path = out_dir / "figC_sweeps.png"
    fig.savefig(path, dpi=110)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

"""New figure (spiking vs abstract) — retrieval accuracy of the fully spiking Brian2 network
beside the abstract model on the same cues, for the literature's models (UHN-best:
Manhattan/max; MCHN: dot/softmax β = 1; DAM: dot/cubic with sign read-out; classical
Hopfield: dot/identity/sign; the sign models store bipolarised images), with 10 and 100
memories and zero-mean Gaussian noise σ = 0.1 and 0.5 on the cue, on MNIST: 20 cues per
cell, 300 ms of simulated time per cue, 5 runs (the spiking experiment's defaults)."""

import json

from neuro_uhn.app import figures, plotting
from neuro_uhn.experiments import run_experiment, summarize

NAME = "spiking_accuracy"
PAPER_FIGURE = "new: spiking vs abstract accuracy"
FULL = {"spiking": {"mode": "spiking", "duration": 0.3}}
QUICK = {
    "runs": 2,
    "n_memories": [10, 30],
    "levels": [0.5],
    "max_queries": 6,
    "models": ["uhn_best", "mchn"],
    "spiking": {"mode": "spiking", "duration": 0.2},
}


def make(out_dir, *, quick, store, workers, progress):
    [ds] = figures.figure_datasets(("mnist",), quick=quick)
    options = QUICK if quick else FULL
    sweep = run_experiment(
        "spiking", ds, store=store, workers=workers, progress=progress, **options
    )  # fmt: skip
    names = {
        f"{c.similarity} / {c.separation} / {c.readout}": json.loads(c.settings)["model"]
        for t in sweep.tasks
        for c in t.cells
    }
    duration = options["spiking"]["duration"]
    n_q = max(r["n_queries"] for r in sweep.rows)
    runs = 1 + max(r["run"] for r in sweep.rows)
    path = out_dir / "figS_spiking_accuracy.png"
    fig = plotting.spiking_accuracy_figure(
        summarize(sweep.rows),
        summarize(sweep.rows, "fraction_identity"),
        summarize(sweep.rows, "agreement"),
        names=names,
        title=f"Spiking (Brian2, fully spiking, decoded over T = {1e3 * duration:.0f} ms per "
        f"cue) vs abstract retrieval on {ds.title}: up to {n_q} cues per cell with zero-mean "
        f"Gaussian noise (pixels in [0, 1]), {runs} runs. Sign read-out models (DAM, classical "
        "HN) store bipolarised images and are scored as {0, 1} images against the binarised "
        "target, so the SSE threshold means the same number of wrong pixels for every model",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

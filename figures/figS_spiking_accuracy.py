"""New (spiking vs abstract) — retrieval accuracy of the fully spiking Brian2 network beside
the abstract model, for the literature's models (UHN-best: Manhattan/max; MCHN: dot/softmax;
DAM: dot/cubic with sign read-out; classical Hopfield: dot/identity/sign, on bipolarised
images), as the number of memories and the Gaussian noise on the cue grow (MNIST)."""

from neuro_uhn import figures, plotting

NAME = "spiking_accuracy"
PAPER_FIGURE = "new: spiking vs abstract accuracy"
QUICK = {
    "runs": 2,
    "n_memories": [10, 30],
    "levels": [0.3],
    "max_queries": 8,
    "models": ["uhn_best", "mchn"],
    "spiking": {"mode": "spiking", "duration": 0.2},
}
FULL = {"spiking": {"mode": "spiking", "duration": 0.3}}


def make(out_dir, *, quick, store, workers, progress):
    panels = figures.sweep_panels(
        "spiking", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress, datasets=figures.figure_datasets(("mnist",)), row=("level",),
        **FULL,
    )  # fmt: skip
    for p in panels:
        p["row"] = p["row"].replace("level", "noise σ =")
    return [
        plotting.sweep_figure(
            panels,
            out_dir / "figS_spiking_accuracy.png",
            x="n_memories",
            hue=("similarity", "separation", "network"),
            xlabel="memories stored (N)",
            xscale="log",
            suptitle="Spiking (Brian2, Poisson neurons, T = 300 ms) vs abstract retrieval",
        )  # fmt: skip
    ]


if __name__ == "__main__":
    figures.script_main(make)

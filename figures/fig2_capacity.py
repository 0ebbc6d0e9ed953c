"""Paper Fig. 2 — capacity: the fraction of stored memories retrieved from a noisy cue
(Gaussian σ = 0.5) as the number of memories grows (2 … 1000), for each similarity function
with max separation, on MNIST | CIFAR-10 | Tiny ImageNet, in the official code's convention
(top row: folded noise, reciprocal distances, normalised dot product) and the standard one
(bottom row). Mean ± std over 5 runs on disjoint memory blocks."""

from neuro_uhn.app import figures, plotting

NAME = "capacity"
PAPER_FIGURE = "Fig. 2"
QUICK = {"runs": 2, "n_memories": [10, 50, 100]}


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
        "capacity", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress, row=("convention", "corruption"),
    )  # fmt: skip
    path = out_dir / "fig2_capacity.png"
    fig = plotting.sweep_figure(
        panels,
        x="n_memories",
        hue=("similarity",),
        names=figures.SIMILARITY_NAMES,
        legend_columns=2,
        xlabel="memories stored (N)",
        xscale="log",
        note=note,
        suptitle="Capacity: cue = stored image + Gaussian noise σ = 0.5 (pixels in [0, 1]), "
        "max separation (paper Fig. 2)",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

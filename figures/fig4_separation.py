"""Paper Fig. 4 — separation functions: the fraction retrieved from half-masked cues as the
number of memories grows, with Manhattan similarity and each separation (identity, sqrt,
square, cube, quartic, 10th power, softmax β = 1000, top-5, max). The standard convention
uses the reciprocal Manhattan distance (positive scores) without the official
sum-normalisation before separation, so β is live (docs/results.md)."""

from neuro_uhn import figures, plotting

NAME = "separation"
PAPER_FIGURE = "Fig. 4"
QUICK = {"runs": 2, "n_memories": [10, 50, 100]}


def make(out_dir, *, quick, store, workers, progress):
    panels = figures.sweep_panels(
        "separation", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress,
    )  # fmt: skip
    return [
        plotting.sweep_figure(
            panels,
            out_dir / "fig4_separation.png",
            x="n_memories",
            hue=("separation",),
            xlabel="memories stored (N)",
            xscale="log",
            suptitle="Separation functions: Manhattan similarity, bottom half masked "
            "(paper Fig. 4)",
        )  # fmt: skip
    ]


if __name__ == "__main__":
    figures.script_main(make)

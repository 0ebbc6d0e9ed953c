"""Paper Fig. 4 — separation functions: the fraction retrieved from half-masked cues as the
number of memories grows (5 … 1000), with Manhattan similarity and each separation
(identity, sqrt, square, cube, quartic, 10th power, softmax β = 1000, top-5, max). The
standard convention uses the reciprocal Manhattan distance (positive scores) without the
official sum-normalisation before separation, so β is live (docs/results.md); the
polynomials are normalised to sum to one in both conventions, so on MNIST (where both use
T = 60) only the softmax differs between the two."""

from neuro_uhn import figures, plotting

NAME = "separation"
PAPER_FIGURE = "Fig. 4"
QUICK = {"runs": 2, "n_memories": [10, 50, 100]}
NAMES = {
    "identity": "identity (no separation)",
    "sqrt": "square root",
    "tenth": "10th power",
    "softmax": "softmax (β = 1000)",
    "topk": "top-5",
}


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
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
            note=note,
            identity="row",
            names=NAMES,
            suptitle="Separation functions: Manhattan similarity, bottom half of the cue "
            "zeroed (paper Fig. 4)",
        )  # fmt: skip
    ]


if __name__ == "__main__":
    figures.script_main(__name__)

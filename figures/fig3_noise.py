"""Paper Fig. 3 (top) — noise robustness: the fraction of 100 stored memories retrieved as
the Gaussian noise on the cue grows (σ = 0.05 … 1.5; the official noise is folded and
clamped, the standard one zero-mean and clipped), for each similarity with max separation,
paper convention (top row) and standard (bottom row)."""

from neuro_uhn.app import figures, plotting

NAME = "noise"
PAPER_FIGURE = "Fig. 3 (top)"
QUICK = {"runs": 2, "levels": [0.1, 0.5, 1.0]}


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
        "noise", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress, row=("convention", "corruption"),
    )  # fmt: skip
    path = out_dir / "fig3_noise.png"
    fig = plotting.sweep_figure(
        panels,
        x="level",
        hue=("similarity",),
        names=figures.SIMILARITY_NAMES,
        legend_columns=2,
        xlabel="noise standard deviation σ (pixels in [0, 1])",
        note=note,
        suptitle="Noise robustness: 100 memories, max separation (paper Fig. 3, top); the "
        "paper row's noise is FOLDED (brightens dark pixels), which makes its curves cross",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

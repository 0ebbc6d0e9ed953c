"""Paper Fig. 3 (bottom) — masking: the fraction of 50 stored memories retrieved when the
bottom fraction (0.1 … 0.9) of the cue's rows is zeroed, for each similarity with max
separation (colour images are masked in every channel of the same rows), paper convention
(top row) and standard (bottom row)."""

from neuro_uhn.app import figures, plotting

NAME = "mask"
PAPER_FIGURE = "Fig. 3 (bottom)"
QUICK = {"runs": 2, "levels": [0.3, 0.6, 0.9]}


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
        "mask", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress, row=("convention", "corruption"),
    )  # fmt: skip
    path = out_dir / "fig3_mask.png"
    fig = plotting.sweep_figure(
        panels,
        x="level",
        hue=("similarity",),
        names=figures.SIMILARITY_NAMES,
        legend_columns=2,
        xlabel="fraction of the image's rows zeroed (from the bottom)",
        note=note,
        suptitle="Mask robustness: 50 memories, max separation (paper Fig. 3, bottom)",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

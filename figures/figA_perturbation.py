"""Paper appendix (further perturbations) — random-pixel masking (each pixel zeroed with
probability p, all channels together) and inpainting (a frame p/2 of the height and width
wide zeroed on every side, only the centre kept): the fraction of 300 memories retrieved
with Euclidean / Manhattan / dot similarity and max separation, in both conventions."""

from neuro_uhn.app import figures, plotting

NAME = "perturbation"
PAPER_FIGURE = "appendix: random-pixel masking and inpainting"
QUICK = {"runs": 2, "n_memories": [100], "levels": [0.1, 0.4, 0.7]}


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
        "perturbation", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress, row=("corruption", "convention"),
    )  # fmt: skip
    n = QUICK["n_memories"][0] if quick else 300
    path = out_dir / "figA_perturbation.png"
    fig = plotting.sweep_figure(
        panels,
        x="level",
        hue=("similarity",),
        names=figures.SIMILARITY_NAMES,
        legend_columns=2,
        xlabel="p: probability a pixel is zeroed (random mask); fraction of the height and "
        "width zeroed as a border, p/2 per side (inpainting)",
        note=note,
        suptitle=f"Random-pixel masking and inpainting: {n} memories, max separation "
        "(paper appendix)",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

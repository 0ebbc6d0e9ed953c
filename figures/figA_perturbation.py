"""Paper appendix (further perturbations) — random-pixel masking (each pixel zeroed with
probability p, all channels together) and inpainting (a frame of p/2 of the height and
width zeroed on every side): the fraction of 300 memories retrieved, max separation."""

from neuro_uhn import figures, plotting

NAME = "perturbation"
PAPER_FIGURE = "appendix: random-pixel masking and inpainting"
QUICK = {"runs": 2, "n_memories": [100], "levels": [0.1, 0.4, 0.7]}


def make(out_dir, *, quick, store, workers, progress):
    panels = figures.sweep_panels(
        "perturbation", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress, row=("corruption", "convention"),
    )  # fmt: skip
    return [
        plotting.sweep_figure(
            panels,
            out_dir / "figA_perturbation.png",
            x="level",
            hue=("similarity",),
            xlabel="fraction p (pixels masked / frame width)",
            suptitle="Random-pixel masking and inpainting: 300 memories, max separation "
            "(paper appendix)",
        )  # fmt: skip
    ]


if __name__ == "__main__":
    figures.script_main(make)

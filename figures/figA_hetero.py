"""Paper appendix (auto- vs hetero-association) — retrieving the stored image (auto) or an
associated pattern, the image with its top half zeroed (hetero), from a cue with Gaussian
noise σ = 0.3, dot similarity and max separation; and, in the standard convention, a correct
classical Hopfield network (bipolar images, 10 % of bits flipped, identity separation, sign
read-out, N ≤ 50), which the official experiment did not measure (its queries were all +1)."""

from neuro_uhn.app import figures, plotting

NAME = "hetero"
PAPER_FIGURE = "appendix: auto- vs hetero-association"
QUICK = {"runs": 2, "n_memories": [5, 20, 100]}
NAMES = {
    "auto / max / identity": "auto-association (dot, max)",
    "hetero / max / identity": "hetero-association: P = top half zeroed (dot, max)",
    "auto / identity / sign": "classical Hopfield, auto (bipolar, 10% bits flipped)",
    "hetero / identity / sign": "classical Hopfield, hetero (bipolar, 10% bits flipped)",
}


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
        "hetero", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress, row=("convention", "corruption"),
    )  # fmt: skip
    path = out_dir / "figA_hetero.png"
    fig = plotting.sweep_figure(
        panels,
        x="n_memories",
        hue=("association", "separation", "readout"),
        names=NAMES,
        xlabel="memories stored (N)",
        xscale="log",
        note=note,
        suptitle="Auto- vs hetero-association (cue noise σ = 0.3, pixels in [0, 1]; paper "
        "row: folded, 'dot' = L1-normalised) and the classical Hopfield network (paper appendix)."
        "\nAuto and hetero identity coincide by construction (both compare the cue with M, so "
        "the same memory wins); the hetero SSE is over the bottom half only",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

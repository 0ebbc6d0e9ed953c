"""Paper appendix (error-threshold sweep) — how the paper's criterion (summed squared error
≤ T) depends on T: 250 memories, bottom half of the cue zeroed, max separation, Euclidean /
Manhattan / dot similarity (the paper ran it on CIFAR-10 only). The official code's default
is T = 60; the paper's figure draws its reference line at 50. Identity (dashed) does not
depend on T, so the gap between the lines is what a loose T counts as retrieved."""

from neuro_uhn.app import figures, plotting

NAME = "threshold"
PAPER_FIGURE = "appendix: error-threshold sweep"
QUICK = {"runs": 2, "n_memories": [100], "levels": [1, 10, 50, 100, 300]}


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
        "threshold", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress,
    )  # fmt: skip
    n = QUICK["n_memories"][0] if quick else 250
    path = out_dir / "figA_threshold.png"
    fig = plotting.sweep_figure(
        panels,
        x="threshold",
        hue=("similarity",),
        names=figures.SIMILARITY_NAMES,
        legend_columns=2,
        xlabel="SSE threshold T (pixels in [0, 1])",
        xscale="log",
        note=note,
        vlines={50: "T = 50 (the paper's figure)", 60: "T = 60 (the official code)"},
        suptitle=f"Error-threshold sweep: {n} memories, bottom half of the cue zeroed, "
        "max separation (paper appendix)",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

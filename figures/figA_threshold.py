"""Paper appendix (error-threshold sweep) — how the paper's criterion (sum of squared error
≤ T) depends on T: 250 memories, bottom half masked, max separation, Euclidean / Manhattan /
dot. The official code uses T = 60, the paper's figure marks 50 (dotted lines)."""

from neuro_uhn import figures, plotting

NAME = "threshold"
PAPER_FIGURE = "appendix: error-threshold sweep"
QUICK = {"runs": 2, "n_memories": [100], "levels": [1, 10, 50, 100, 300]}


def make(out_dir, *, quick, store, workers, progress):
    panels = figures.sweep_panels(
        "threshold", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress,
    )  # fmt: skip
    return [
        plotting.sweep_figure(
            panels,
            out_dir / "figA_threshold.png",
            x="threshold",
            hue=("similarity",),
            xlabel="threshold T on the summed squared error",
            xscale="log",
            vlines=(50, 60),
            suptitle="Error-threshold sweep: 250 memories, bottom half masked (paper appendix)",
        )  # fmt: skip
    ]


if __name__ == "__main__":
    figures.script_main(make)

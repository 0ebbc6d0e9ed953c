"""Paper Fig. 4 — separation functions: the fraction retrieved from half-masked cues as the
number of memories grows (5 … 1000), with Manhattan similarity and each separation
(identity, sqrt, square, cube, quartic, 10th power, softmax β = 1000, max, the paper's log,
and top-5, which is our addition, not in the paper). The
standard convention uses the reciprocal Manhattan distance (positive scores) without the
official sum-normalisation before separation, so β is live (docs/results.md); the
polynomials are normalised to sum to one in both conventions, so on MNIST (where both use
T = 60) only the softmax differs between the two."""

from neuro_uhn.app import figures, plotting

NAME = "separation"
PAPER_FIGURE = "Fig. 4"
QUICK = {"runs": 2, "n_memories": [10, 50, 100]}
NAMES = {
    "identity": "identity (no separation)",
    "sqrt": "square root",
    "tenth": "10th power",
    "softmax(beta=1000)": "softmax (β = 1000)",
    "log": "log (the paper's; official: the least similar memory weighs most)",
    "topk(k=5)": "top-5 (our addition, not in the paper)",
}


def _one_line_per_separation(panels):
    """The stored labels say what each cell computed: the paper convention's log is
    ``log(strict=false)`` and the standard convention's blends end in ``>> normalize``. One
    colour per separation across the panels: the label without those rewrites."""

    def base(label):
        return label.replace(" >> normalize", "").replace("(strict=false)", "")

    return [
        {**p, **{k: [{**r, "separation": base(r["separation"])} for r in p[k]]
                 for k in ("correct", "identity")}}
        for p in panels
    ]  # fmt: skip


def make(out_dir, *, quick, store, workers, progress):
    panels, note = figures.sweep_panels(
        "separation", quick=quick, quick_options=QUICK, store=store, workers=workers,
        progress=progress,
    )  # fmt: skip
    path = out_dir / "fig4_separation.png"
    fig = plotting.sweep_figure(
        _one_line_per_separation(panels),
        x="n_memories",
        hue=("separation",),
        xlabel="memories stored (N)",
        xscale="log",
        note=note,
        identity="row",
        names=NAMES,
        legend_columns=4,
        suptitle="Separation functions: Manhattan similarity, bottom half of the cue "
        "zeroed (paper Fig. 4). The criteria disagree: under SSE ≤ 60 blends score well and "
        "max is the worst at N ≥ 500 on MNIST; under identity max is the best",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

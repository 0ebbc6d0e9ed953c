"""Paper Fig. 2 in the neural circuit — capacity, the circuit beside the abstract model: the
fraction of stored memories retrieved from a noisy cue (Gaussian σ = 0.5, standard
convention) as the number of memories grows, for uhn_best (Manhattan/max) and Euclidean/max
on MNIST, computed by ``run_experiment("capacity", networks=["abstract", "circuit"])``: the
same memories, the same cues and the same criteria (the SSE threshold and the
nearest-memory identity) for both networks, and the circuit's agreement with the abstract
model cue by cue. 50 cues per point (the first 50 memories of each block, or all of them),
one run; the circuit's wall time per point is in the figure and in ``docs/circuit.md``.

Each cue lasts 0.4 s and z is read over its second half (:data:`CUE`): the competition
commits a few ms after onset and, given time, moves to the better memory on close cues
(docs/circuit.md, "More time rescues them"). The library's 0.2 s cue read over
[0.05, 0.2] s (:data:`SHORT_CUE`, the experiments' default) is run on the same cues and its
agreement drawn beside, thin.
Finished cells are kept in the results store: an interrupted run resumes."""

from neuro_uhn.app import figures

NAME = "circuit_capacity"
PAPER_FIGURE = "Fig. 2 (capacity) in the neural circuit beside the abstract model"
SIMILARITIES = ("manhattan", "euclidean")
N_MEMORIES = (10, 20, 50, 100, 200, 500, 1000)
QUERIES = 50
#: quick mode: digits, two sizes, a handful of cues (the code path, not the curve)
QUICK = {"n_memories": (10, 20), "max_queries": 4, "similarities": ("manhattan",)}
#: the figure's cue: 0.4 s, read over its second half
CUE = {"duration": 0.4, "settle": 0.2}
#: the experiments' default cue (networks.CIRCUIT_NETWORK), drawn beside for comparison
SHORT_CUE = {"duration": 0.2, "settle": 0.05}
NAMES = {"manhattan": "uhn_best (Manhattan/max)", "euclidean": "Euclidean/max"}


def sweep(*, quick: bool, store, workers, progress, cue=None):
    """The capacity sweep in both networks (resumable through ``store``), with the circuit's
    cues as ``cue`` (SpikingConfig fields; default :data:`CUE`)."""
    from neuro_uhn.experiments import run_experiment

    options = {
        "conventions": ["standard"],
        "runs": 1,
        "similarities": list(QUICK["similarities"] if quick else SIMILARITIES),
        "separations": ["max"],
        "n_memories": list(QUICK["n_memories"] if quick else N_MEMORIES),
        "max_queries": QUICK["max_queries"] if quick else QUERIES,
        "networks": ["abstract", "circuit"],
        "spiking": dict(CUE if cue is None else cue),
    }
    if quick:
        from neuro_uhn import datasets

        dataset = datasets.load("digits")
    else:
        dataset = figures.figure_datasets(("mnist",))[0]
    return dataset, run_experiment(
        "capacity", dataset, store=store, workers=workers, progress=progress, **options
    )


def make(out_dir, *, quick, store, workers, progress):
    import numpy as np
    from matplotlib.figure import Figure

    from neuro_uhn.app.plotting import _suptitle

    dataset, result = sweep(quick=quick, store=store, workers=workers, progress=progress)
    rows = [r for r in result.rows if r["corruption"] == "gaussian"]
    _, short = sweep(quick=quick, store=store, workers=workers, progress=progress,
                     cue=SHORT_CUE)  # fmt: skip
    short_rows = [r for r in short.rows
                  if r["corruption"] == "gaussian" and r["network"] == "circuit"]  # fmt: skip
    sims = list(dict.fromkeys(r["similarity"] for r in rows))
    fig = Figure(figsize=(max(6.4, 5.2 * len(sims)), 5.0), layout="constrained")
    axes = fig.subplots(1, len(sims), squeeze=False)[0]
    for ax, sim in zip(axes, sims):
        seconds = 0.0
        for network, style, width in (("abstract", "--", 3.0), ("circuit", "-", 1.3)):
            sel = sorted((r for r in rows if r["similarity"] == sim and r["network"] == network),
                         key=lambda r: r["n_memories"])  # fmt: skip
            x = np.array([r["n_memories"] for r in sel])
            alpha = 0.45 if network == "abstract" else 1.0
            ax.plot(x, [r["fraction_correct"] for r in sel], "o" + style, color="C0", lw=width,
                    alpha=alpha, label=f"{network}: SSE criterion")  # fmt: skip
            ax.plot(x, [r["fraction_identity"] for r in sel], "s" + style, color="C1",
                    lw=width, alpha=alpha, mfc="none",
                    label=f"{network}: nearest-memory identity")  # fmt: skip
            if network == "circuit":
                ax.plot(x, [r["agreement"] for r in sel], "^:", color="C2",
                        label="circuit agrees with abstract")  # fmt: skip
                base = sorted((r for r in short_rows if r["similarity"] == sim),
                              key=lambda r: r["n_memories"])  # fmt: skip
                ax.plot([r["n_memories"] for r in base], [r["agreement"] for r in base], "v-",
                        color="C3", lw=0.8, ms=3, alpha=0.7,
                        label="agreement with 0.2 s cues (read over [0.05, 0.2] s)")  # fmt: skip
                seconds = sum(r["seconds"] for r in sel)
        title = f"{NAMES.get(sim, sim)}\n(circuit: {seconds / 60:.1f} min of compute)"
        ax.set(xscale="log", ylim=(-0.03, 1.03), xlabel="memories stored (N)", title=title)
        ax.set_ylabel("fraction of cues")
        ax.legend(fontsize=7, loc="lower left")
    n_q = max(r["n_queries"] for r in rows)
    _suptitle(
        fig,
        f"Paper Fig. 2 in the neural circuit ({dataset.title}): cue = stored image + Gaussian "
        f"noise σ = 0.5, standard convention, {n_q} cues per point, one run; circuit cues "
        f"{CUE['duration']:g} s, read over their second half; dashed: the abstract model on "
        "the same cues",
        fontsize=9,
    )
    path = figures.save(fig, out_dir / "figC_capacity.png", compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

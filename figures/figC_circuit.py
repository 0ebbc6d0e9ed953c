"""New figure and table (the neural circuit, ``mode="circuit"``): for one noisy digit cue,
rasters of the memory and inhibitory neurons and the membrane potential of the winner and of
the runner-up crossing (or not) the threshold; and the validation table of docs/circuit.md —
per model and N, agreement with the abstract model split by the top-two score gap, accuracy
of the circuit and of the abstract model, settling time and spikes per retrieval.

The table's rows are written one by one to ``figC_circuit_validation.json`` (a RowsFile), so
an interrupted run resumes where it stopped; ``figC_circuit_validation.md`` is the table.
"""

from pathlib import Path

import numpy as np

from neuro_uhn import UHN, corruptions
from neuro_uhn.app import figures

NAME = "circuit"
PAPER_FIGURE = "new: the UHN as a spiking neural circuit (rasters, membranes, validation)"

#: label -> (model, how its memories and cues are made): every model file, and a
#: Euclidean/max model. "images": the images, Gaussian noise σ = SIGMA; "bipolar": ±1
#: images, 10 % of bits flipped; "binary": SDM's addresses are the images ≥ 0.5 and its
#: contents the ±1 images, cues the addresses with 5 % of bits flipped; "values": keys are
#: the images, values fixed random N(0, 1) vectors of VALUE_DIM, cues noisy keys.
MODELS = {
    "uhn_best (manhattan/max)": ("uhn_best", "images"),
    "euclidean/max": (UHN(similarity="euclidean", separation="max"), "images"),
    "mchn (dot/softmax β=1)": ("mchn", "images"),
    "attention (dot/softmax β=0.125, hetero)": ("attention", "values"),
    "sdm (hamming/threshold, sign)": ("sdm", "binary"),
    "hopfield (dot/identity, sign)": ("hopfield", "bipolar"),
    "dam (dot/polynomial n=3, sign)": ("dam", "bipolar"),
}
#: quick mode (the pipeline, not the numbers): one model per separation family and data kind
QUICK_MODELS = ("uhn_best (manhattan/max)", "attention (dot/softmax β=0.125, hetero)",
                "sdm (hamming/threshold, sign)", "dam (dot/polynomial n=3, sign)")  # fmt: skip
SIGMA = 0.2
FLIP = {"bipolar": 0.1, "binary": 0.05}
VALUE_DIM = 16


def _cues(M, n_queries, seed):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, len(M), n_queries)
    return corruptions.gaussian_noise(M[targets], SIGMA, rng), targets


def problem(images, data: str, n_queries: int, seed: int):
    """(memories, projection or None, cues, targets) of one cell; ``images`` are the N
    stored images. The same targets for every kind of data (one rng per cell)."""
    if data == "images":
        Q, targets = _cues(images, n_queries, seed)
        return images, None, Q, targets
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, len(images), n_queries)
    bipolar = corruptions.to_bipolar(images)
    if data == "bipolar":
        return bipolar, None, corruptions.flip_bits(bipolar[targets], FLIP[data], rng), targets
    if data == "binary":
        flipped = corruptions.flip_bits(bipolar[targets], FLIP[data], rng)
        return (bipolar > 0).astype(float), bipolar, (flipped > 0).astype(float), targets
    if data == "values":
        values = np.random.default_rng(10_000 + len(images)).standard_normal(
            (len(images), VALUE_DIM)
        )
        return images, values, corruptions.gaussian_noise(images[targets], SIGMA, rng), targets
    raise ValueError(f"unknown data kind {data!r}")


#: per data set: the sizes, and the models left out at a size (with why, in docs/circuit.md)
SIZES = {"digits": (20, 100, 1000), "mnist": (20, 100, 1000)}
#: SDM on MNIST at N = 1000 latches hundreds of populations at their refractory-limited rate,
#: each spike reaching every output column (1568 of them, 8 neurons each). (uhn_best there,
#: a thermometer code of 50 M feature→memory synapses, runs since circuit v2: 376 s for 66
#: cues in figC_capacity.py.)
SKIP = {("mnist", 1000): ("sdm (hamming/threshold, sign)",)}


def _datasets(quick):
    from neuro_uhn import datasets

    out = [("digits", datasets.load("digits").images)]
    if not quick:
        try:
            out.append(("mnist", datasets.load("mnist", n=2000).images))
        except datasets.DatasetUnavailable:
            pass
    return out


def measure(label: str, M, n: int, n_queries: int, config) -> dict:
    """One cell of the validation table: model ``label`` of :data:`MODELS` on the memories
    ``M`` and their cues (``problem``, seed ``n``) in the circuit ``config``; the table's
    measures, or ``{"refused": reason}`` where the circuit refuses the model."""
    from neuro_uhn.experiments.circuit import validation_metrics
    from neuro_uhn.spiking import UnsupportedComponent, compare

    model, data = MODELS[label]
    mem, P, Q, targets = problem(M, data, n_queries, seed=n)
    try:
        r = compare(model, mem, Q, projection=P, targets=targets, config=config)
    except UnsupportedComponent as err:  # e.g. a β beyond the reachable range
        return {"refused": str(err)}
    s = r.summary()
    return {**validation_metrics(s), "mean_cosine": s["mean_cosine"],
            "sse_accuracy_spiking": s["sse_accuracy_spiking"],
            "sse_accuracy_abstract": s["sse_accuracy_abstract"],
            "build_seconds": r.build_seconds}  # fmt: skip


def validation_rows(out_dir: Path, *, quick: bool, progress: bool = False) -> list[dict]:
    """The table's rows of the current circuit (``VERSION`` and ``CIRCUIT_VERSION``), each
    measured once and kept in a resumable JSON file."""
    from neuro_uhn.experiments.rowsfile import RowsFile
    from neuro_uhn.spiking import SpikingConfig
    from neuro_uhn.spiking.circuit import CIRCUIT_VERSION

    path = out_dir / ("figC_circuit_validation_quick.json" if quick else
                      "figC_circuit_validation.json")  # fmt: skip
    store = RowsFile(path, what="circuit validation",
                     key=lambda r: (r["dataset"], r["model"], r["n_memories"], r.get("version"),
                                    r.get("circuit_version")),
                     required=("dataset", "model", "n_memories"))  # fmt: skip

    def current(rows):  # older rows (another circuit) stay in the file, out of the table
        return [
            r
            for r in rows
            if r.get("version") == VERSION and r.get("circuit_version") == CIRCUIT_VERSION
        ]

    rows = current(store.rows())
    n_queries = 4 if quick else 50
    config = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1,
                           batch_size=n_queries)  # fmt: skip
    for dataset, images in _datasets(quick):
        for n in (10,) if quick else SIZES[dataset]:
            M = images[np.random.default_rng(n).permutation(len(images))[:n]]
            for label, (_, data) in MODELS.items():
                if quick and label not in QUICK_MODELS:
                    continue
                rows = current(store.rows())  # with the rows other processes finished meanwhile
                done = {(r["dataset"], r["model"], r["n_memories"]) for r in rows}
                if (dataset, label, n) in done or label in SKIP.get((dataset, n), ()):
                    continue
                if progress:
                    print(f"circuit validation: {dataset} N={n} {label}", flush=True)
                measured = measure(label, M, n, n_queries, config)
                new = {"dataset": dataset, "model": label, "n_memories": n, "data": data,
                       "version": VERSION, "circuit_version": CIRCUIT_VERSION}  # fmt: skip
                if "refused" not in measured:
                    new.update(n_queries=n_queries, sigma=SIGMA, flip=FLIP.get(data))
                new.update(measured)
                rows = current(store.add([new]))  # merged with other processes' rows
    return rows


#: the circuit the rows were measured with: rows of another version are recomputed
#: (2: the output gate, CircuitParams.readout_gate; 3: releases divided by the veto's shunt,
#: the decoder calibrated on at least 16 stored patterns; 4: circuit v2 — pooled feed-forward
#: inhibition, cues in sequence, the divisively normalised read-out; 5: the output neurons on
#: their own 1 ms step and feature neurons that draw their intervals, e00b0ef; the linear
#: read-outs' outputs back on the network's step, c7479a7)
VERSION = 5


def table(rows: list[dict]) -> str:
    """The validation table; a cell the circuit refuses (e.g. softmax at a β beyond the
    reachable range) is listed below it with the refusal's reason."""
    from neuro_uhn.experiments.circuit import cell, validation_table

    order = {label: i for i, label in enumerate(MODELS)}
    rows = sorted(rows, key=lambda r: (r["dataset"], r["n_memories"], order.get(r["model"], 99)))
    out = validation_table(
        [r for r in rows if "refused" not in r],
        tail=[
            ("cosine z", lambda r: cell(r.get("mean_cosine"))),
            ("SSE criterion circuit / abstract", lambda r: f"{cell(r.get('sse_accuracy_spiking'))}"
             f" / {cell(r.get('sse_accuracy_abstract'))}"),
        ],
    )  # fmt: skip
    for r in (r for r in rows if "refused" in r):
        why = r["refused"].split(" is not supported in spiking mode 'circuit': ")[-1]
        out += f"\n\nRefused: {r['dataset']} N = {r['n_memories']} {r['model']}: {why}"
    return out


def dynamics(out_dir: Path, *, quick: bool) -> Path:
    """Rasters and membrane traces of one cue (digits, 20 memories, uhn_best)."""
    from matplotlib.figure import Figure

    from neuro_uhn import datasets
    from neuro_uhn.app.plotting import _suptitle, integer_ticks
    from neuro_uhn.spiking import SpikingConfig, SpikingUHN

    images = datasets.load("digits").images
    M = images[np.random.default_rng(20).permutation(len(images))[:20]]
    Q, targets = _cues(M, 1, seed=5)
    n = 4
    config = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1,
                           neurons_per_memory=n, target="numpy")  # fmt: skip
    net = SpikingUHN("uhn_best", M, config=config)
    scores = -np.abs(M - Q[0]).sum(1)  # for the labels only (after the run)
    best, second = np.argsort(-scores)[:2]
    net.record("memories", "v", neurons=[best * n, second * n])
    run = net.run(Q)
    t = 1e3 * run.trace_times
    v = 1e3 * run.traces["memories.v"][0]
    fig = Figure(figsize=(8, 7.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, height_ratios=(2, 1, 1.4))
    memory, times = run.spikes[0]
    hit = memory == best
    axes[0].plot(1e3 * times[~hit], memory[~hit], "|", color="0.4", ms=5, label="other memories")
    axes[0].plot(1e3 * times[hit], memory[hit], "|", color="C3", ms=7,
                 label=f"memory {best} (best score)")  # fmt: skip
    axes[0].axvspan(0, 1e3 * config.settle, color="0.92", label="settling (not decoded)")
    axes[0].set(ylabel="memory population", ylim=(-0.5, len(M) - 0.5))
    axes[0].legend(loc="upper right", fontsize=8, framealpha=0.9)
    i_idx, i_t = run.inhibitory_spikes[0]
    axes[1].plot(1e3 * i_t, i_idx, "|", color="C0", ms=5)
    axes[1].set(ylabel="inhibitory neuron", ylim=(-0.5, config.circuit.n_inhibitory - 0.5))
    for ax in axes[:2]:  # population and neuron indices: whole numbers only
        integer_ticks(ax.yaxis)
    th = 1e3 * config.circuit.v_threshold
    axes[2].plot(t, v[0], color="C3", lw=0.8, label=f"winner (memory {best})")
    axes[2].plot(t, v[1], color="0.3", lw=0.8, label=f"runner-up (memory {second})")
    axes[2].axhline(th, color="k", ls="--", lw=0.8, label="threshold")
    axes[2].set(xlabel="time (ms)", ylabel="membrane v (mV)", xlim=(0, 1e3 * config.duration))
    axes[2].legend(loc="lower right", fontsize=8, framealpha=0.9)
    _suptitle(
        fig,
        "The circuit (mode='circuit', uhn_best): "
        f"sklearn digits, 20 memories, one cue of memory {targets[0]} with zero-mean noise "
        f"σ = {SIGMA}\nLIF memory populations ({n} neurons each) compete through an "
        "inhibitory population; every spike shown is simulated by Brian2",
        fontsize=9,
    )
    path = out_dir / "figC_circuit.png"
    fig.savefig(path, dpi=120)
    return path


def make(out_dir, *, quick, store, workers, progress):
    out_dir = Path(out_dir)
    paths = [dynamics(out_dir, quick=quick)]
    rows = validation_rows(out_dir, quick=quick, progress=progress)
    md = out_dir / ("figC_circuit_validation_quick.md" if quick else
                    "figC_circuit_validation.md")  # fmt: skip
    md.write_text(table(rows))  # beside the figure (docs/circuit.md quotes it)
    return paths


if __name__ == "__main__":
    figures.script_main(__name__)

"""New figure (storage by plasticity): memories written into the circuit by local rules.

Each memory is presented once (100 ms) to ``SpikingConfig(mode="circuit",
storage="plasticity")``, the network that then retrieves: a recruitment chain allocates the
next free memory population, an instar moves its feature→memory weights to the pattern's
encoding and an outstar its memory→output weights to the projection row, the feed-forward
inhibition's input synapses learn the running mean (the centring) and each memory neuron's
intrinsic excitability (an eligibility sum) sets its bias. Panels: the learned weights beside
the stored patterns; the correlation of every learned synapse group with the weights
``storage="set"`` builds, and retrieval with learned against set weights, against the number
of memories (capacity), the presentation time, and how alike the memories are (interference).

Points are kept in ``figD_plasticity.json`` (resumable; see neuro_uhn.experiments.plasticity)."""

from pathlib import Path

import numpy as np

from neuro_uhn import corruptions
from neuro_uhn.model import UHN

NAME = "plasticity"
PAPER_FIGURE = "new: memories stored by synaptic plasticity (learned vs set weights)"
SIGMA = 0.2
MODELS = {"uhn_best (manhattan/max)": "uhn_best",
          "euclidean/max": UHN(similarity="euclidean", separation="max")}  # fmt: skip


def _cues(M, n_queries, seed):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, len(M), n_queries)
    Q = np.clip(corruptions.gaussian_noise(M[targets], SIGMA, rng), 0, 1)
    return Q, targets


def points(images, *, quick):
    from neuro_uhn.spiking import SpikingConfig, StorageParams

    base = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1, batch_size=50)
    n_q = 4 if quick else 40
    sizes = (10,) if quick else (20, 50, 100)
    for label, model in MODELS.items():
        for n in sizes:
            M = images[np.random.default_rng(n).permutation(len(images))[:n]]
            Q, t = _cues(M, n_q, seed=n)
            yield dict(model=model, memories=M, queries=Q, targets=t, config=base,
                       sweep="n_memories", value=n, model_label=label,
                       label=f"{label}, N={n}")  # fmt: skip
    n = 10 if quick else 50
    M = images[np.random.default_rng(n).permutation(len(images))[:n]]
    Q, t = _cues(M, n_q, seed=n)
    for T in (0.04, 0.1) if quick else (0.04, 0.06, 0.1):
        sp = StorageParams(presentation=T, allocation=min(0.03, T / 2))
        config = base.replace(storage="plasticity", plasticity=sp)
        yield dict(model="uhn_best", memories=M, queries=Q, targets=t, config=config,
                   sweep="presentation", value=T,
                   model_label="uhn_best (manhattan/max)",
                   label=f"uhn_best, N={n}, presentation {T * 1e3:g} ms")  # fmt: skip
    from neuro_uhn.experiments.plasticity import similar_memories

    n = 10 if quick else 20
    for spread in (0.4,) if quick else (0.4, 0.2, 0.1, 0.05):
        M = similar_memories(images, n, spread, seed=3)
        Q, t = _cues(M, n_q, seed=4)
        alike = np.corrcoef(M)[np.triu_indices(n, 1)].mean()
        yield dict(model="uhn_best", memories=M, queries=Q, targets=t, config=base,
                   sweep="similarity", value=float(alike), spread=spread,
                   model_label="uhn_best (manhattan/max)",
                   label=f"uhn_best, N={n}, alike r={alike:.2f}")  # fmt: skip


#: the circuit's validation table (figC_circuit.py), with learned weights: same data, cues
#: and configuration, plus the correlation of each learned synapse group with the set weights
VALIDATION_SIZES = {"digits": (20, 100, 1000), "mnist": (20, 100)}
VALIDATION_MODELS = {**MODELS, "mchn (dot/softmax β=1)": "mchn"}


def validation_rows(out_dir: Path, *, quick: bool, progress: bool = False) -> list[dict]:
    """Rows of the validation table for storage="plasticity" (resumable JSON), those of the
    current circuit (``CIRCUIT_VERSION``): an earlier circuit's rows stay in the file, unused."""
    from neuro_uhn import datasets
    from neuro_uhn.experiments.circuit import validation_metrics
    from neuro_uhn.experiments.plasticity import pearson
    from neuro_uhn.spiking import SpikingConfig, SpikingUHN, UnsupportedComponent, compare
    from neuro_uhn.spiking.circuit import CIRCUIT_VERSION

    path = out_dir / ("figD_plasticity_validation_quick.json" if quick else
                      "figD_plasticity_validation.json")  # fmt: skip
    from neuro_uhn.experiments.rowsfile import RowsFile

    store = RowsFile(path, what="plasticity validation",
                     key=lambda r: (r["dataset"], r["model"], r["n_memories"],
                                    r.get("circuit_version")),
                     required=("dataset", "model", "n_memories"))  # fmt: skip
    rows = store.rows()
    sets = [("digits", datasets.load("digits").images)]
    if not quick:
        try:
            sets.append(("mnist", datasets.load("mnist", n=2000).images))
        except datasets.DatasetUnavailable:
            pass
    n_queries = 4 if quick else 50
    config = SpikingConfig(mode="circuit", duration=0.2, settle=0.05, seed=1,
                           batch_size=n_queries, storage="plasticity")  # fmt: skip
    models = dict(list(VALIDATION_MODELS.items())[:1]) if quick else VALIDATION_MODELS
    for dataset, images in sets:
        for n in (20,) if quick else VALIDATION_SIZES[dataset]:
            M = images[np.random.default_rng(n).permutation(len(images))[:n]]
            rng = np.random.default_rng(n)  # the cues of figC_circuit.py
            targets = rng.integers(0, len(M), n_queries)
            Q = corruptions.gaussian_noise(M[targets], SIGMA, rng)
            for label, model in models.items():
                rows = store.rows()  # with the rows other processes finished meanwhile
                done = {(r["dataset"], r["model"], r["n_memories"]) for r in rows
                        if r.get("circuit_version") == CIRCUIT_VERSION}  # fmt: skip
                if (dataset, label, n) in done:
                    continue
                if progress:
                    print(f"plasticity validation: {dataset} N={n} {label}", flush=True)
                try:
                    learned = SpikingUHN(model, M, config=config)
                except UnsupportedComponent as err:  # e.g. a β beyond the reachable range
                    rows = store.add([{"dataset": dataset, "model": label, "n_memories": n,
                                       "circuit_version": CIRCUIT_VERSION,
                                       "refused": str(err)}])  # fmt: skip
                    continue
                s = compare(model, M, Q, targets=targets, network=learned).summary()
                a = SpikingUHN(model, M, config=config.replace(storage="set")).weights()
                b = learned.weights()
                driven = learned.query_inputs(M)["rates"].max(axis=0) > 0
                new = (
                    {
                        "dataset": dataset, "model": label, "n_memories": n,
                        "circuit_version": CIRCUIT_VERSION, "storage": "plasticity",
                        "n_queries": n_queries, "sigma": SIGMA,
                        **validation_metrics(s),
                        "r_feature_to_memory": pearson(a["feature_to_memory"][:, driven],
                                                  b["feature_to_memory"][:, driven]),
                        "r_feature_to_memory_all": pearson(a["feature_to_memory"],
                                                      b["feature_to_memory"]),
                        "r_memory_to_output": pearson(a["memory_to_output"], b["memory_to_output"]),
                        "r_bias": pearson(a["bias"], b["bias"]),
                    }
                )  # fmt: skip
                rows = store.add([new])  # merged with other processes' rows
    return [r for r in store.rows() if r.get("circuit_version") == CIRCUIT_VERSION]


def validation_table(rows: list[dict]) -> str:
    """The circuit's validation table with the learned weights' correlations."""
    from neuro_uhn.experiments.circuit import cell
    from neuro_uhn.experiments.circuit import validation_table as table

    order = {label: i for i, label in enumerate(VALIDATION_MODELS)}
    rows = sorted(rows, key=lambda r: (r["dataset"], r["n_memories"], order.get(r["model"], 99)))
    out = table([r for r in rows if "refused" not in r], extra=[
        ("r feature→memory (driven / all)",
         lambda r: f"{cell(r['r_feature_to_memory'], 3)} / "
                   f"{cell(r['r_feature_to_memory_all'], 3)}"),
        ("r memory→output", lambda r: cell(r["r_memory_to_output"], 3)),
        ("r bias", lambda r: cell(r["r_bias"], 3)),
    ])  # fmt: skip
    for r in (r for r in rows if "refused" in r):
        why = r["refused"].split(" is not supported in spiking mode 'circuit': ")[-1]
        out += f"\n\nRefused: {r['dataset']} N = {r['n_memories']} {r['model']}: {why}"
    return out


def make(out_dir, *, quick, store, workers, progress):
    from matplotlib.figure import Figure

    from neuro_uhn import datasets
    from neuro_uhn.app.plotting import integer_ticks
    from neuro_uhn.experiments.plasticity import storage_sweep
    from neuro_uhn.spiking import SpikingConfig, SpikingUHN

    out_dir = Path(out_dir)
    images = datasets.load("digits").images
    rows = storage_sweep(
        points(images, quick=quick),
        results=out_dir / ("figD_plasticity_quick.json" if quick else "figD_plasticity.json"),
        progress=(lambda s: print(s, flush=True)) if progress else None,
    )
    fig = Figure(figsize=(14, 8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1, 1.25))

    # the learned weights beside the stored patterns (uhn_best: Σ over thermometer levels)
    n_show = 6
    M = images[np.random.default_rng(0).permutation(len(images))[:n_show]]
    cfg = SpikingConfig(mode="circuit", seed=1, neurons_per_memory=4)
    net = SpikingUHN("uhn_best", M, config=cfg.replace(storage="plasticity"))
    fixed = SpikingUHN("uhn_best", M, config=cfg.replace(storage="set"))
    w = net.weights()
    levels = cfg.levels
    side = int(round(np.sqrt(M.shape[1])))
    ax = top.subplots(3, n_show, squeeze=False)
    for k in range(n_show):
        pop = net.population_of_memory[k]
        inst = w["instar"].reshape(len(M), cfg.neurons_per_memory, -1)[pop, 0]
        net_w = w["feature_to_memory"].reshape(len(M), cfg.neurons_per_memory, -1)[pop, 0]
        set_w = fixed.weights()["feature_to_memory"].reshape(len(M), 4, -1)[k, 0]
        for row, (img, title) in enumerate((
            (M[k], "stored pattern"),
            (inst.reshape(-1, levels).sum(1) / levels, "learned instar w (Σ levels)"),
            (net_w.reshape(-1, levels).sum(1), "learned net weight"),
        )):  # fmt: skip
            a = ax[row, k]
            a.imshow(img.reshape(side, side), cmap="gray_r" if row < 2 else "RdBu_r")
            a.set_xticks([]), a.set_yticks([])
            if k == 0:
                a.set_ylabel(title.replace(" (", "\n("), fontsize=7)
        r = np.corrcoef(net_w, set_w)[0, 1]
        ax[2, k].set_xlabel(f"r with set = {r:.2f}", fontsize=8)
    top.suptitle("One presentation (100 ms) per memory: what the synapses learned "
                 "(uhn_best, digits; one neuron of each population)", fontsize=10)  # fmt: skip

    axs = bottom.subplots(1, 4)
    for label in MODELS:
        sel = sorted((r for r in rows if r["sweep"] == "n_memories" and r["model_label"] == label),
                     key=lambda r: r["value"])  # fmt: skip
        x = [r["value"] for r in sel]
        axs[0].plot(x, [r["r_feature_to_memory"] for r in sel], "o-",
                    label=f"{label.split(' ')[0]}: feature→memory")  # fmt: skip
        axs[0].plot(x, [r["r_memory_to_output"] for r in sel], "s--",
                    label=f"{label.split(' ')[0]}: memory→output")  # fmt: skip
        axs[1].plot(x, [r["accuracy_learned"] for r in sel], "o-",
                    label=f"{label.split(' ')[0]}: learned")  # fmt: skip
        axs[1].plot(x, [r["accuracy_set"] for r in sel], "s--",
                    label=f"{label.split(' ')[0]}: set")  # fmt: skip
        axs[1].plot(x, [r["accuracy_abstract"] for r in sel], ":", color="0.4")
    axs[0].axhline(0.95, color="0.6", lw=0.8)
    axs[0].set(xlabel="memories stored", ylabel="Pearson r, learned vs set", ylim=(0.8, 1.005),
               title="learned weights")  # fmt: skip
    axs[1].set(xlabel="memories stored", ylabel="accuracy (dotted: abstract)", ylim=(0, 1.03),
               title="capacity: learned vs set weights")  # fmt: skip
    sel = sorted((r for r in rows if r["sweep"] == "presentation"), key=lambda r: r["value"])
    x = [1e3 * r["value"] for r in sel]
    axs[2].plot(x, [r["r_feature_to_memory"] for r in sel], "o-", label="r feature→memory")
    axs[2].plot(x, [r["r_memory_to_output"] for r in sel], "s--", label="r memory→output")
    axs[2].plot(x, [r["agreement_learned"] for r in sel], "^-", label="agreement (learned)")
    axs[2].set(xlabel="presentation (ms)", ylim=(0.5, 1.02), title="presentation time")
    sel = sorted((r for r in rows if r["sweep"] == "similarity"), key=lambda r: r["value"])
    x = [r["value"] for r in sel]
    axs[3].plot(x, [r["accuracy_learned"] for r in sel], "o-", label="accuracy, learned")
    axs[3].plot(x, [r["accuracy_set"] for r in sel], "s--", label="accuracy, set")
    axs[3].plot(x, [r["accuracy_abstract"] for r in sel], ":", color="0.4", label="abstract")
    axs[3].plot(x, [r["r_feature_to_memory"] for r in sel], "^-", label="r feature→memory")
    axs[3].set(xlabel="mean correlation between memories", ylim=(0, 1.03),
               title="interference: similar memories")  # fmt: skip
    for a in axs[:2]:  # memories stored: whole numbers only
        integer_ticks(a.xaxis)
    for a in axs:
        a.legend(fontsize=7)
    bottom.suptitle(f"Learned against set weights (digits, cues with σ = {SIGMA} noise, "
                    "clipped to [0, 1]; our reimplementation)", fontsize=10)  # fmt: skip
    path = out_dir / ("figD_plasticity_quick.png" if quick else "figD_plasticity.png")
    fig.savefig(path, dpi=110)
    table = validation_table(validation_rows(out_dir, quick=quick, progress=progress))
    md = out_dir / ("figD_plasticity_validation_quick.md" if quick else
                    "figD_plasticity_validation.md")  # fmt: skip
    md.write_text(table)
    return [path]


if __name__ == "__main__":
    from neuro_uhn.app import figures

    figures.script_main(__name__)

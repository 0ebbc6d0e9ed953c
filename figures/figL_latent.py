"""New figure (latent-space memories; the paper's future work) — retrieval with the
similarity computed on codes instead of pixels (``neuro_uhn.latent``): pixel space against
PCA with 10, 50 and 200 components, a Gaussian random projection to 50 and a PyTorch
autoencoder with a 50-unit code, each fitted on images disjoint from the memories; the
output is always the stored pixel memory the latent weights pick (max separation), scored by
identity. Columns: zero-mean Gaussian noise clipped to [0, 1], the same noise unclipped, the
paper's folded noise (its convention's corruption; under max separation its reciprocal
distances pick the same memory as the standard ones), the bottom rows masked (100 memories
each), and capacity (N memories, clipped noise σ = 0.5);
rows: MNIST and the CIFAR-10 and Tiny ImageNet stand-ins (natural-image patches, not those
datasets; quick mode: MNIST only). Solid lines
Euclidean, dashed Manhattan. A second image puts the Brian2 spiking network on pixels and on
PCA-50 codes: accuracy, synapses per copy and wall time, hybrid and fully spiking."""

import json

import numpy as np

from neuro_uhn.app import figures, plotting

NAME = "latent"
PAPER_FIGURE = "new: latent-space memories"
FULL = {
    "fit_rows": {"mnist": 5000, "cifar10": 860, "tiny_imagenet": 860},  # 3 runs x 1000 left
    "runs": 3,
    "n_queries": 100,
    "noise": (0.1, 0.3, 0.5, 0.8, 1.2),
    "mask": (0.25, 0.5, 0.75),
    "capacity": (100, 300, 1000),
    "pca": (10, 50, 200),
    "epochs": 30,
    "spiking": {"n_memories": 50, "n_queries": 20, "duration": 0.2, "modes": ("hybrid", "spiking")},
}
QUICK = {
    "fit_rows": {"mnist": 800},
    "runs": 1,
    "n_queries": 30,
    "noise": (0.3, 0.8),
    "mask": (0.5,),
    "capacity": (100, 300),
    "pca": (10, 50),
    "epochs": 15,
    "spiking": {"n_memories": 10, "n_queries": 4, "duration": 0.1, "modes": ("hybrid",)},
}


def _fit_encoders(o, F):
    """Every latent space, fitted on ``F`` (one SVD for all the PCA sizes)."""
    from neuro_uhn import latent

    fitted = {"pixels": None}
    top = latent.PCA(max(o["pca"])).fit(F)
    for k in o["pca"]:
        fitted[f"PCA-{k}"] = top.truncated(k)
    fitted["random proj.-50"] = latent.RandomProjection(50).fit(F)
    fitted["autoencoder-50"] = latent.Autoencoder(50).fit(F, epochs=o["epochs"])
    return fitted


def _compute(o, quick, cache_dir):
    """Every dataset's results, each cached in its own JSON file (a rerun redraws)."""
    import torch

    out = {"retrieval": [], "noise_in_subspace": {}, "spiking": {}, "datasets": {}}
    names = ("mnist",) if quick else ("mnist", "cifar10", "tiny_imagenet")  # quick: CI time
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the autoencoder: one thread (a shared 2-core machine)
    try:
        for name in names:
            cache = cache_dir / f"latent_{'quick' if quick else 'full'}_{name}.json"
            if cache.exists():
                part = json.loads(cache.read_text())
            else:
                [ds] = figures.figure_datasets((name,), quick=quick)
                part = _one_dataset(o, ds, name)
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps(part))
            out["retrieval"] += part["retrieval"]
            for k in ("noise_in_subspace", "spiking", "datasets"):
                out[k].update(part[k])
    finally:
        torch.set_num_threads(threads)
    return out


def _one_dataset(o, ds, key):
    from neuro_uhn import latent

    out = {"retrieval": [], "noise_in_subspace": {}, "spiking": {}, "datasets": {}}
    fit_rows = o["fit_rows"][key]
    out["datasets"][key] = ds.title
    fitted = _fit_encoders(o, ds.images[:fit_rows])
    enc = {k: (None if e is None else (lambda X, e=e: e)) for k, e in fitted.items()}
    common = dict(encoders=enc, fit_rows=fit_rows, runs=o["runs"], dataset=key,
                  n_queries=o["n_queries"])  # fmt: skip
    rows = latent.compare_spaces(
        ds.images, ds.image_shape, n_memories=(100,),
        corruptions=(("noise", o["noise"]), ("noise_unclipped", o["noise"]),
                     ("noise_paper", o["noise"]), ("mask", o["mask"])), **common,
    )  # fmt: skip
    rows += latent.compare_spaces(
        ds.images, ds.image_shape, n_memories=o["capacity"],
        corruptions=(("noise", (0.5,)),), **common,
    )  # fmt: skip
    out["retrieval"] += [r.__dict__ for r in rows]
    # why clipping hurts PCA: the share of the cue's error inside the top-50 subspace
    pca = fitted["PCA-50"]
    M = ds.images[fit_rows : fit_rows + 100]
    rng = np.random.default_rng(0)
    share = {}
    for name in ("clipped", "unclipped"):
        Q = M + 0.5 * rng.standard_normal(M.shape)
        Q = np.clip(Q, 0, 1) if name == "clipped" else Q
        E = Q - M
        inside = np.sum((E @ pca.components_.T) ** 2) / np.sum(E**2)
        share[name] = {"in_top50": float(inside), "mean_error": float(E.mean())}
    share["isotropic"] = {"in_top50": 50 / M.shape[1], "mean_error": 0.0}
    out["noise_in_subspace"][key] = share
    if key == "mnist":
        s = o["spiking"]
        Ms = ds.images[fit_rows : fit_rows + s["n_memories"]]
        idx = rng.choice(len(Ms), s["n_queries"], replace=False)
        Qs = np.clip(Ms[idx] + 0.3 * rng.standard_normal(Ms[idx].shape), 0, 1)
        for mode in s["modes"]:
            out["spiking"][mode] = latent.spiking_on_latent(
                Ms, Qs, idx, encoder=pca, mode=mode, duration=s["duration"]
            )
    return out


def make(out_dir, *, quick, store, workers, progress):
    o = QUICK if quick else FULL
    res = _compute(o, quick, out_dir / ".results")
    rows = res["retrieval"]
    spaces = list(dict.fromkeys(r["space"] for r in rows))
    colours = {s: f"C{i}" for i, s in enumerate(spaces)}
    keys = list(res["datasets"])
    cols = [("noise", "zero-mean noise σ, clipped to [0, 1]"),
            ("noise_unclipped", "zero-mean noise σ, not clipped"),
            ("noise_paper", "paper's folded noise clip(|x + n|), σ"),
            ("mask", "fraction of rows masked (bottom)"),
            ("capacity", "memories N (clipped noise σ = 0.5)")]  # fmt: skip
    fig = plotting._figure(figsize=(22, 4.2 * len(keys)))
    axes = fig.subplots(len(keys), len(cols), squeeze=False)
    for i, key in enumerate(keys):
        for j, (col, xlabel) in enumerate(cols):
            ax = axes[i, j]
            for space in spaces:
                for sim, style in (("euclidean", "-"), ("manhattan", "--")):
                    mine = [r for r in rows if r["dataset"] == key and r["space"] == space
                            and r["similarity"] == sim]  # fmt: skip
                    if col == "capacity":
                        sel = [r for r in mine if r["corruption"] == "noise" and r["level"] == 0.5
                               and r["n_memories"] in o["capacity"]]  # fmt: skip
                        xkey = "n_memories"
                    else:
                        sel = [r for r in mine if r["corruption"] == col and r["n_memories"] == 100]
                        xkey = "level"
                    xs = sorted({r[xkey] for r in sel})
                    ys = [np.mean([r["accuracy"] for r in sel if r[xkey] == x]) for x in xs]
                    ax.plot(xs, ys, style, marker="o", ms=3, color=colours[space],
                            label=space if sim == "euclidean" else None)  # fmt: skip
            if col == "capacity":
                ax.set_xscale("log")
            ax.set(xlabel=xlabel, ylim=(-0.02, 1.02))
            ax.set_title(f"{res['datasets'][key]}", fontsize=9)
            if j == 0:
                ax.set_ylabel("fraction retrieved (identity)")
    axes[0, 0].legend(fontsize=8)
    notes = []
    for key, share in res["noise_in_subspace"].items():
        notes.append(
            f"{key}: share of the cue's error (σ = 0.5) inside the top-50 PCA subspace — "
            f"clipped {share['clipped']['in_top50']:.1%} (mean error "
            f"{share['clipped']['mean_error']:+.3f}), unclipped "
            f"{share['unclipped']['in_top50']:.1%}, isotropic {share['isotropic']['in_top50']:.1%}"
        )
    plotting._suptitle(
        fig,
        "Latent-space memories: the similarity on codes, the output the stored pixel memory "
        "(max separation; solid Euclidean, dashed Manhattan)\n" + "\n".join(notes),
        fontsize=10,
    )
    fig.tight_layout()
    path = out_dir / "figL_latent.png"
    figures.save(fig, path, compact=True)

    sp = res["spiking"]
    modes = list(sp)
    fig = plotting._figure(figsize=(13, 3.8))
    axes = fig.subplots(1, 3)
    metrics = [("accuracy", "identity accuracy (spiking)"), ("synapses", "synapses per copy"),
               ("seconds_per_query", "wall s per query")]  # fmt: skip
    for ax, (m, title) in zip(axes, metrics):
        for i, mode in enumerate(modes):
            vals = [sp[mode]["pixels"][m], sp[mode]["latent"][m]]
            ax.bar(np.arange(2) + 0.38 * i, vals, 0.38, label=mode)
        ax.set_xticks(np.arange(2) + 0.19 * (len(modes) - 1), ["pixels (784)", "PCA-50 codes"])
        ax.set_title(title)
    axes[0].set_ylim(0, 1.05)
    axes[0].legend(loc="lower center")
    s = o["spiking"]
    plotting._suptitle(
        fig,
        f"Brian2 network (uhn_best: Manhattan / max) on pixel vs PCA-50 features, MNIST, "
        f"{s['n_memories']} memories, {s['n_queries']} cues with noise σ = 0.3, "
        f"{1e3 * s['duration']:.0f} ms each; projection = pixel memories",
        fontsize=10,
    )
    fig.tight_layout()
    path2 = out_dir / "figL_latent_spiking.png"
    figures.save(fig, path2, compact=True)
    return [path, path2]


if __name__ == "__main__":
    figures.script_main(__name__)

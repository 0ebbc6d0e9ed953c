"""New figure (UHN attention in a transformer; the paper's future work) — a one-layer
transformer trained on CPU for associative recall: 16 key→value pairs in a sequence
(keys uniform in [0, 1]^16, values 8 classes), then a cue = one of the keys with Gaussian
noise (σ = 0.2 in training) or masked entries; the read-out must name that key's value.
Attention is ``neuro_uhn.nn.UHNAttention`` with dot, Euclidean or Manhattan similarity and
softmax (β = 1/√head_dim) or top-2 separation (straight-through gradient), 3 seeds each
(quick: 1 seed, 150 steps). Panels: accuracy on held-out noisy cues during training (mean ±
std over seeds); final accuracy on clean, noisy (σ = 0.2, 0.4) and masked (30 %) cues; wall
time per optimisation step on this machine (torch threads: 1), measured separately with
every configuration interleaved on the same batch (``nn.time_recall_steps``), so that load
from other jobs hits them alike."""

import json

import numpy as np

from neuro_uhn.app import figures, plotting

NAME = "attention"
PAPER_FIGURE = "new: UHN attention in a transformer"
FULL = {"seeds": (0, 1, 2), "steps": 800, "eval_every": 50}
QUICK = {"seeds": (0,), "steps": 150, "eval_every": 50, "eval_size": 300}


def make(out_dir, *, quick, store, workers, progress):
    import torch

    from neuro_uhn import nn as unn

    options = dict(QUICK if quick else FULL)
    seeds = options.pop("seeds")
    cache = out_dir / ".results" / f"attention_{'quick' if quick else 'full'}.json"
    if cache.exists():
        results = json.loads(cache.read_text())
    else:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            results = unn.recall_sweep(seeds=seeds, progress=print if progress else None, **options)
        finally:
            torch.set_num_threads(threads)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(results))
    timing_cache = cache.with_name(cache.stem + "_timing.json")
    if timing_cache.exists():
        timing = json.loads(timing_cache.read_text())
    else:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            timing = unn.time_recall_steps(rounds=2 if quick else 6)
        finally:
            torch.set_num_threads(threads)
        timing_cache.write_text(json.dumps(timing))
    labels = list(dict.fromkeys(r["label"] for r in results))
    sets = list(results[0]["accuracy"])
    colours = {"dot": "C0", "euclidean": "C1", "manhattan": "C2"}
    fig = plotting._figure(figsize=(16, 4.6))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1.6, 0.9]})
    curve_set = "noise 0.2"
    for label in labels:
        runs = [r for r in results if r["label"] == label]
        acc = np.array([r["accuracy"][curve_set] for r in runs])
        steps = runs[0]["steps"]
        style = "-" if "softmax" in label else "--"
        c = colours[label.split(" /")[0]]
        axes[0].plot(steps, acc.mean(0), style, color=c, label=label)
        axes[0].fill_between(steps, acc.mean(0) - acc.std(0), acc.mean(0) + acc.std(0),
                             color=c, alpha=0.15)  # fmt: skip
    axes[0].set(xlabel="training step", ylabel=f"accuracy, held-out cues ({curve_set})",
                ylim=(0, 1.02), title="learning curves")  # fmt: skip
    axes[0].legend(fontsize=8)
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        runs = [r for r in results if r["label"] == label]
        final = np.array([[r["accuracy"][s][-1] for s in sets] for r in runs])
        x = np.arange(len(sets)) + (i - len(labels) / 2 + 0.5) * width
        axes[1].bar(x, final.mean(0), width, yerr=final.std(0) if len(runs) > 1 else None,
                    color=colours[label.split(" /")[0]], hatch="" if "softmax" in label else "//",
                    edgecolor="white", label=label)  # fmt: skip
    axes[1].set_xticks(np.arange(len(sets)), sets)
    axes[1].set(ylabel="final accuracy", ylim=(0, 1.05), title="after training, by cue")
    ms = [1e3 * timing["seconds"][lb] for lb in labels]
    axes[2].barh(np.arange(len(labels)), ms, color=[colours[lb.split(" /")[0]] for lb in labels])
    for i, lb in enumerate(labels):
        axes[2].text(ms[i], i, f" {timing['ratio'][lb]:.2f}×", va="center", fontsize=8)
    axes[2].set_yticks(np.arange(len(labels)), labels, fontsize=8)
    axes[2].invert_yaxis()
    axes[2].set(
        xlabel="ms per training step (batch 64, 1 thread)",
        title="wall time, interleaved (× dot / softmax)",
    )
    steps = results[0]["steps"][-1]
    plotting._suptitle(
        fig,
        f"UHN attention (neuro_uhn.nn) in a 1-layer transformer, associative recall of 16 "
        f"key→value pairs: {len(seeds)} seed(s) × {steps} steps each",
    )
    fig.tight_layout()
    path = out_dir / "figT_attention.png"
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

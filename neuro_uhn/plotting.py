"""Figures. Plotting never computes: each function draws results it is given.

matplotlib is imported here only, when a figure is drawn, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "demo_figure",
    "raster_figure",
    "spiking_images_figure",
    "sweep_figure",
    "examples_figure",
    "convergence_figure",
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def demo_figure(result, path: str | Path) -> Path:
    """Grid of stored images, corrupted cues and each model's retrieval, per corruption."""
    plt = _pyplot()
    corruptions = list(result.examples)
    first = result.examples[corruptions[0]]
    labels = list(first[2])
    n_rows = 2 + len(labels)
    n_cols = len(first[0])
    fig, axes = plt.subplots(
        n_rows,
        n_cols * len(corruptions) + len(corruptions) - 1,
        figsize=(0.55 * (n_cols + 1) * len(corruptions) + 3.2, 0.6 * n_rows + 0.8),
        squeeze=False,
    )
    for ax in axes.flat:
        ax.axis("off")
    for c, corruption in enumerate(corruptions):
        targets, queries, outputs = result.examples[corruption]
        rows = [("stored", targets), ("cue", queries)] + [(k, outputs[k]) for k in labels]
        col0 = c * (n_cols + 1)
        axes[0, col0 + n_cols // 2].set_title(corruption, fontsize=9)
        for r, (name, images) in enumerate(rows):
            for j in range(n_cols):
                ax = axes[r, col0 + j]
                ax.imshow(
                    np.clip(images[j].reshape(result.image_shape), 0, 1),
                    cmap="gray_r",
                    vmin=0,
                    vmax=1,
                    interpolation="nearest",
                )
            if c == 0:
                axes[r, 0].text(
                    -0.6,
                    0.5,
                    name,
                    transform=axes[r, 0].transAxes,
                    ha="right",
                    va="center",
                    fontsize=7,
                )
    fig.suptitle(
        f"neuro_uhn demo: {result.n_memories} stored scikit-learn digits, cues and retrievals",
        fontsize=10,
    )
    fig.subplots_adjust(left=0.22, right=0.99, top=0.88, bottom=0.02, wspace=0.05, hspace=0.08)
    return _save(fig, path, plt)


def raster_figure(comparison, path: str | Path, query: int = 0, title: str = "") -> Path:
    """Spike raster of the memory neurons for one query, the decoded winner marked, and the
    running agreement of the T sweep."""
    plt = _pyplot()
    run, cfg = comparison.run, comparison.config
    memory, times = run.spikes[query]
    counts = run.counts[query]
    winner = int(np.argmax(counts))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    others = memory != winner
    ax.plot(1e3 * times[others], memory[others], "|", color="0.4", ms=4)
    ax.plot(
        1e3 * times[~others],
        memory[~others],
        "|",
        color="C3",
        ms=6,
        label=f"winner: memory {winner}",
    )
    ax.axvspan(0, 1e3 * cfg.settle, color="0.9", label="settling (not decoded)")
    ax.set(
        xlabel="time (ms)",
        ylabel="memory",
        xlim=(0, 1e3 * cfg.duration),
        title=title or f"memory neurons, query {query} ({cfg.mode} mode)",
    )
    ax.legend(loc="upper right", fontsize=7)
    T = [1e3 * r["T"] for r in comparison.sweep]
    ax2.plot(T, [r["agreement"] for r in comparison.sweep], "s-", color="C0", label="agreement")
    ax2.set(
        xlabel="decoding window end T (ms)",
        ylabel="agreement",
        ylim=(0, 1.05),
        title="convergence with T",
    )
    ax3 = ax2.twinx()
    ax3.plot(
        T,
        [r["median_relative_error"] for r in comparison.sweep],
        "o-",
        color="C1",
        label="median relative error",
    )
    ax3.set_ylabel("median relative error of z", color="C1")
    ax3.set_ylim(bottom=0)
    ax2.legend(loc="center left", fontsize=7)
    ax3.legend(loc="center right", fontsize=7)
    fig.tight_layout()
    return _save(fig, path, plt)


def spiking_images_figure(
    comparison, image_shape, path: str | Path, n: int = 8, title: str = ""
) -> Path:
    """Two rows of images: the abstract output and the spiking output for ``n`` queries."""
    plt = _pyplot()
    rows = [("abstract", comparison.z_abstract), ("spiking", comparison.z_spiking)]
    n = min(n, len(comparison.z_abstract))
    fig, axes = plt.subplots(2, n, figsize=(0.9 * n + 1, 2.3), squeeze=False)
    for r, (name, Z) in enumerate(rows):
        for j in range(n):
            ax = axes[r, j]
            ax.imshow(Z[j].reshape(image_shape), cmap="gray_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle(title or "z_abstract vs z_spiking", fontsize=9)
    fig.tight_layout()
    return _save(fig, path, plt)


def _save(fig, path, plt) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _label(row: dict, hue: tuple[str, ...]) -> str:
    return " / ".join(str(row[h]) for h in hue)


def sweep_figure(
    panels: list[dict],
    path: str | Path,
    *,
    x: str,
    hue: tuple[str, ...],
    xlabel: str,
    suptitle: str,
    xscale: str = "linear",
    vlines: tuple[float, ...] = (),
    note: str = "",
) -> Path:
    """Curves of mean ± std over runs, a panel per (row, column).

    ``panels``: dicts with ``row`` and ``col`` titles, ``correct`` and ``identity`` (the
    summaries of :func:`neuro_uhn.experiments.summarize` for the paper's criterion and for
    nearest-memory identity). Solid lines are the paper's criterion, dashed the identity;
    shading is ± 1 std over runs.
    """
    plt = _pyplot()
    rows = list(dict.fromkeys(p["row"] for p in panels))
    cols = list(dict.fromkeys(p["col"] for p in panels))
    fig, axes = plt.subplots(
        len(rows),
        len(cols),
        figsize=(4.1 * len(cols), 3.1 * len(rows) + 0.9),
        squeeze=False,
        sharey=True,
    )
    labels_all = sorted({_label(r, hue) for p in panels for r in p["correct"]})
    colors = {lab: plt.cm.tab10(i % 10) for i, lab in enumerate(labels_all)}
    for p in panels:
        ax = axes[rows.index(p["row"]), cols.index(p["col"])]
        for key, style in (("correct", "-"), ("identity", "--")):
            by: dict[str, list[dict]] = {}
            for r in p[key]:
                by.setdefault(_label(r, hue), []).append(r)
            for lab, rs in sorted(by.items()):
                rs = sorted(rs, key=lambda r: r[x])
                xs = np.array([r[x] for r in rs], dtype=float)
                m = np.array([r["mean"] for r in rs])
                sd = np.array([r["std"] for r in rs])
                ax.plot(
                    xs,
                    m,
                    style,
                    color=colors[lab],
                    lw=1.4,
                    marker="o" if style == "-" else None,
                    ms=3,
                    label=lab if key == "correct" else None,
                )
                if key == "correct":
                    ax.fill_between(xs, m - sd, m + sd, color=colors[lab], alpha=0.15, lw=0)
        for v in vlines:
            ax.axvline(v, color="0.5", lw=0.8, ls=":")
        ax.set_xscale(xscale)
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{p['col']}\n{p['row']}", fontsize=9)
        ax.grid(alpha=0.3)
        if rows.index(p["row"]) == len(rows) - 1:
            ax.set_xlabel(xlabel)
        if cols.index(p["col"]) == 0:
            ax.set_ylabel("fraction retrieved")
    handles, labels = [], []
    for ax in axes.flat:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    fig.legend(
        handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False
    )
    caption = (
        "solid: squared error ≤ threshold (paper's criterion), shaded ± 1 std over runs; "
        "dashed: nearest stored memory is the right one"
    )
    fig.suptitle(f"{suptitle}\n{caption}" + (f"\n{note}" if note else ""), fontsize=9.5)
    fig.tight_layout(rect=(0, 0.07 + 0.012 * (len(labels) // 6), 1, 1))
    return _save(fig, path, plt)


def examples_figure(
    rows: list[tuple[str, np.ndarray]], image_shape, path: str | Path, *, title: str
) -> Path:
    """Rows of images (label, (k, D) array): stored, cue, then each model's retrieval."""
    plt = _pyplot()
    k = len(rows[0][1])
    fig, axes = plt.subplots(
        len(rows), k, figsize=(0.9 * k + 1.6, 0.95 * len(rows) + 0.6), squeeze=False
    )
    colour = len(image_shape) == 3
    for r, (label, images) in enumerate(rows):
        for j in range(k):
            ax = axes[r, j]
            img = np.clip(np.asarray(images[j]).reshape(image_shape), 0, 1)
            ax.imshow(
                img if colour else img,
                cmap=None if colour else "gray_r",
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=9.5)
    fig.tight_layout()
    return _save(fig, path, plt)


def convergence_figure(curves: dict[str, list[dict]], path: str | Path, *, title: str) -> Path:
    """Agreement with the abstract model and accuracy vs the decoding window T, per model.

    ``curves[label]`` is a :class:`Comparison`'s ``sweep`` (dicts with ``T``, ``agreement``
    and ``median_relative_error``).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3))
    for i, (label, sweep) in enumerate(curves.items()):
        T = np.array([1e3 * s["T"] for s in sweep])
        color = plt.cm.tab10(i % 10)
        axes[0].plot(T, [s["agreement"] for s in sweep], "-o", ms=3, color=color, label=label)
        axes[1].loglog(
            T, [s["median_relative_error"] for s in sweep], "-o", ms=3, color=color, label=label
        )
    axes[0].set(
        xlabel="decoding window T (ms)", ylabel="same memory as abstract", ylim=(-0.03, 1.03)
    )
    axes[1].set(xlabel="decoding window T (ms)", ylabel="median ‖z_spk − z_abs‖ / ‖z_abs‖")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=9.5)
    fig.tight_layout()
    return _save(fig, path, plt)

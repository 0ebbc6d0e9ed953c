"""Figures. Plotting never computes: each function draws results it is given.

matplotlib is imported here only, when a figure is drawn, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["demo_figure"]


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
    fig.subplots_adjust(left=0.28, right=0.99, top=0.88, bottom=0.02, wspace=0.05, hspace=0.08)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

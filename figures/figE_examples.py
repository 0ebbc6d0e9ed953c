"""Example images (cf. the paper's demonstration figures) — stored images, their corrupted
cues (Gaussian noise σ = 0.5; bottom half masked) and what each similarity retrieves with
max separation from 100 stored memories, for MNIST and the CIFAR-10 set (or its stand-in)."""

import numpy as np

from neuro_uhn import corruptions, figures, plotting, retrieve

NAME = "examples"
PAPER_FIGURE = "cf. the paper's example reconstructions"
SIMILARITIES = ("manhattan", "euclidean", "cosine", "dot", "kl", "js")


def make(out_dir, *, quick, store, workers, progress):
    paths = []
    for ds in figures.figure_datasets(("mnist", "cifar10")):
        M = ds.images[:100]
        k = 8
        rng = np.random.default_rng(0)
        cues = {
            "noise σ=0.5": corruptions.gaussian_noise(M[:k], 0.5, rng),
            "half masked": corruptions.mask_bottom(M[:k], 0.5, ds.image_shape),
        }
        for label, Q in cues.items():
            rows = [("stored", M[:k]), ("cue", Q)]
            rows += [(s, retrieve(M, Q, similarity=s, separation="max")) for s in SIMILARITIES]
            slug = "noise" if "noise" in label else "mask"
            paths.append(
                plotting.examples_figure(
                    rows,
                    ds.image_shape,
                    out_dir / f"figE_examples_{ds.name}_{slug}.png",
                    title=f"{ds.title}: {label}, 100 memories, max separation "
                    "(standard convention)",
                )  # fmt: skip
            )
    return paths


if __name__ == "__main__":
    figures.script_main(make)

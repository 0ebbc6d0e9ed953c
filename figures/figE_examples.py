"""Example images (cf. the paper's demonstration figures) — stored images, their corrupted
cues (Gaussian noise σ = 0.5; bottom half zeroed) and what each of the paper's similarity
functions retrieves with max separation from 100 stored memories, in the standard
convention (left) and the official code's (right, whose noise is folded), for MNIST and
CIFAR-10 (or its stand-in)."""

import numpy as np

from neuro_uhn import corruptions, retrieve
from neuro_uhn.app import figures, plotting
from neuro_uhn.experiments import EXPERIMENTS

NAME = "examples"
PAPER_FIGURE = "cf. the paper's example reconstructions"
SIMILARITIES = EXPERIMENTS["capacity"].similarities
N_MEMORIES, N_SHOWN = 100, 6


def _cues(M, kind, convention, image_shape):
    if kind == "mask":
        return corruptions.mask_bottom(M, 0.5, image_shape, kind=convention)
    rng = np.random.default_rng(0)
    return corruptions.gaussian_noise(
        M, 0.5, rng, kind="paper" if convention == "paper" else "zero_mean"
    )


def make(out_dir, *, quick, store, workers, progress):
    paths = []
    for ds in figures.figure_datasets(("mnist", "cifar10"), quick=quick):
        M = ds.images[:N_MEMORIES]
        what_noise = "Gaussian noise σ = 0.5 (pixels in [0, 1]; paper convention: folded)"
        for kind, what in (("noise", what_noise), ("mask", "bottom half zeroed")):
            blocks = []
            for convention in ("standard", "paper"):
                Q = _cues(M[:N_SHOWN], kind, convention, ds.image_shape)
                rows = [("stored", M[:N_SHOWN]), ("cue", Q)]
                with np.errstate(divide="ignore", invalid="ignore"):
                    rows += [
                        (s, retrieve(M, Q, similarity=s, separation="max", convention=convention))
                        for s in SIMILARITIES
                    ]
                blocks.append((f"{convention} convention", rows))
            path = out_dir / f"figE_examples_{ds.name}_{kind}.png"
            fig = plotting.examples_figure(
                blocks,
                ds.image_shape,
                title=f"{ds.title}: {what}; retrieval from {N_MEMORIES} memories, "
                "max separation\nrows: paper 'dot' = L1-normalised, 'js' = the official "
                "harmonic mean; standard 'dot' = raw m·q, 'js' = true JS",
            )  # fmt: skip
            figures.save(fig, path)
            paths.append(path)
    return paths


if __name__ == "__main__":
    figures.script_main(__name__)

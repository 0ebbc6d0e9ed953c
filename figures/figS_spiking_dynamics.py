"""New (spiking dynamics) — how the spiking network reaches its answer: a raster of the
memory neurons for one noisy MNIST cue (UHN-best, fully spiking), and, for UHN-best and the
MCHN, agreement with the abstract model and the output's relative error as the decoding
window T grows (error ∝ T^-1/2 for Poisson rates)."""

import numpy as np

from neuro_uhn import corruptions, figures, plotting

NAME = "spiking_dynamics"
PAPER_FIGURE = "new: spiking raster and convergence with T"


def make(out_dir, *, quick, store, workers, progress):
    from neuro_uhn.spiking import SpikingConfig, compare

    ds = figures.figure_datasets(("mnist",))[0]
    n, n_q = (20, 6) if quick else (50, 20)
    M = ds.images[:n]
    Q = corruptions.gaussian_noise(M[:n_q], 0.3, np.random.default_rng(0))
    duration = 0.2 if quick else 0.6
    curves, raster = {}, None
    for model in ("uhn_best", "mchn"):
        c = compare(
            model, M, Q, targets=np.arange(n_q), truth=M,
            config=SpikingConfig(mode="spiking", duration=duration, seed=1),
            windows=list(np.geomspace(0.04, duration, 7)),
        )  # fmt: skip
        curves[f"{model} (fully spiking)"] = c.sweep
        if raster is None:
            raster = plotting.raster_figure(
                c, out_dir / "figS_spiking_raster.png",
                title=f"uhn_best, fully spiking: memory neurons for one noisy {ds.title} cue "
                f"({n} memories)",
            )  # fmt: skip
    conv = plotting.convergence_figure(
        curves, out_dir / "figS_spiking_convergence.png",
        title=f"{ds.title}: {n} memories, {n_q} cues with noise σ = 0.3",
    )  # fmt: skip
    return [raster, conv]


if __name__ == "__main__":
    figures.script_main(make)

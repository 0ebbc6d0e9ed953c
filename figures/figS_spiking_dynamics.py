"""New figure (spiking dynamics) — how the spiking network reaches its answer: rasters of
the memory neurons for one noisy MNIST cue in UHN-best (Manhattan/max, a winner-take-all),
the MCHN (dot/softmax β = 1) and the DAM (dot/cubic, sign read-out, on bipolarised images,
whose output is a blend of many memories); and, over all cues, agreement with the abstract
model, the output's relative error when only the spikes in [settle, T] are decoded, as the
decoding window's end T grows, and when each cue's decoded memory settles."""

import numpy as np

from neuro_uhn import corruptions, metrics
from neuro_uhn.app import figures, plotting

NAME = "spiking_dynamics"
PAPER_FIGURE = "new: spiking raster and convergence with T"
MODELS = ("uhn_best", "mchn", "dam")


def make(out_dir, *, quick, store, workers, progress):
    from neuro_uhn.model import load_model
    from neuro_uhn.spiking import SpikingConfig, compare

    [ds] = figures.figure_datasets(("mnist",), quick=quick)
    n, n_q, duration = (20, 6, 0.2) if quick else (50, 20, 0.6)
    M = ds.images[:n]
    sigma = 0.3
    Q = corruptions.gaussian_noise(M[:n_q], sigma, np.random.default_rng(0))
    config = SpikingConfig(mode="spiking", duration=duration, seed=1)
    windows = list(np.geomspace(config.settle + 0.01, duration, 8))
    comparisons, decoded = {}, {}
    for name in MODELS:
        model = load_model(name)
        bipolar = model.readout.to_dict()["kind"] == "sign"  # binary models store ±1 images
        Mb, Qb = (corruptions.to_bipolar(M), corruptions.to_bipolar(Q)) if bipolar else (M, Q)
        comparisons[name] = compare(
            model, Mb, Qb, targets=np.arange(n_q), config=config, windows=windows
        )
        # what the network retrieved for cue 0: the stored memory nearest to its output
        decoded[name] = int(metrics.nearest_memory(comparisons[name].z_spiking[:1], Mb)[0])
    path = out_dir / "figS_spiking_dynamics.png"
    fig = plotting.spiking_dynamics_figure(
        comparisons,
        target=0,
        decoded=decoded,
        title=f"Spiking dynamics (Brian2, fully spiking): {ds.title}, {n} memories, "
        f"{n_q} cues with zero-mean Gaussian noise σ = {sigma} (pixels in [0, 1])",
    )  # fmt: skip
    figures.save(fig, path, compact=True)
    return [path]


if __name__ == "__main__":
    figures.script_main(__name__)

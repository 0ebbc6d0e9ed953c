"""The main job: store real images, corrupt the cues, retrieve with several models.

Compute only; :mod:`neuro_uhn.plotting` draws the figure and :mod:`neuro_uhn.cli` prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import corruptions, metrics
from ..datasets import load_digits
from ..model import UHN, load_model

__all__ = ["DEMO_MODELS", "DemoRow", "DemoResult", "check_options", "run_demo"]

#: (label, model, convention, patterns): "bipolar" models see images thresholded at 0.5.
DEMO_MODELS: list[tuple[str, object, str, str]] = [
    ("manhattan / max (uhn_best)", "uhn_best", "standard", "continuous"),
    ("euclidean / max", UHN(similarity="euclidean", separation="max"), "standard", "continuous"),
    ("cosine / max", UHN(similarity="cosine", separation="max"), "standard", "continuous"),
    ("kl / max", UHN(similarity="kl", separation="max"), "standard", "continuous"),
    ("js / max", UHN(similarity="js", separation="max"), "standard", "continuous"),
    ("dot / max", UHN(similarity="dot", separation="max"), "standard", "continuous"),
    ("dot / softmax β=1 (mchn)", "mchn", "standard", "continuous"),
    (
        "paper 'dot' (L1-normalised) / max",
        UHN(similarity="dot", separation="max"),
        "paper",
        "continuous",
    ),
    ("dot / identity / sign (hopfield)", "hopfield", "standard", "bipolar"),
]


#: The spiking networks of the demo: the neural circuit for the paper's best model and for
#: the MCHN, and the hybrid rate model (a sampler, the baseline) for the best model.
DEMO_NETWORKS = (("uhn_best", "circuit"), ("mchn", "circuit"), ("uhn_best", "hybrid"))

#: Rough seconds per step on 2 cores, which weigh the progress bar so that its ETA holds:
#: a retrieval of the abstract model, and (build, per cue) for each spiking network.
_ABSTRACT_SECONDS = 0.15
_NETWORK_SECONDS = {
    ("uhn_best", "circuit"): (8.0, 0.6),
    ("mchn", "circuit"): (4.0, 0.15),
    ("uhn_best", "hybrid"): (0.5, 0.04),
}


def demo_config(mode: str, seed: int):
    """The demo's SpikingConfig: 200 ms per cue (50 ms settling); the circuit's Manhattan
    thermometer code uses 8 levels per pixel (digits have 17 grey levels) to halve its
    synapses."""
    from ..spiking import SpikingConfig

    if mode == "circuit":
        return SpikingConfig(mode="circuit", duration=0.2, settle=0.05, levels=8, seed=seed)
    return SpikingConfig(mode=mode, duration=0.2, settle=0.05, seed=seed)


@dataclass
class DemoRow:
    model: str
    corruption: str
    identity_accuracy: float  # nearest stored memory to the output is the cue's memory
    sse_accuracy: float  # the paper's criterion, SSE <= 60 per 784 pixels
    seconds: float


@dataclass
class DemoResult:
    n_memories: int
    image_shape: tuple[int, ...]
    rows: list[DemoRow] = field(default_factory=list)
    #: for the figure: corruption -> (targets, queries, {model label: outputs}) of a few cues
    examples: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = field(
        default_factory=dict
    )
    #: spiking vs abstract: (model, mode) -> neuro_uhn.spiking.Comparison
    spiking: dict[tuple[str, str], object] = field(default_factory=dict)
    #: (model, mode) -> per spiking cue, the stored memory nearest to the network's output
    #: (what it retrieved; the raster marks it)
    decoded: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


#: The demo's defaults (the command line shows and uses these).
N_MEMORIES, SIGMA, MASK, SPIKING_QUERIES = 100, 0.3, 0.5, 20
#: How many digits scikit-learn bundles.
N_DIGITS = 1797


def check_options(
    n_memories: int = N_MEMORIES,
    sigma: float = SIGMA,
    mask: float = MASK,
    spiking_queries: int = SPIKING_QUERIES,
) -> None:
    """Every check :func:`run_demo` makes, without loading or computing anything: the command
    line calls it before it prints or creates anything. Also checks that scikit-learn (the
    digits) is installed."""
    import importlib.util

    from .._validation import check_int, check_real
    from ..corruptions import _fraction
    from ..errors import DatasetUnavailable, ValidationError

    check_int(n_memories, "n_memories")
    if not 1 <= n_memories <= N_DIGITS:
        raise ValidationError(
            f"'n_memories' must be in 1..{N_DIGITS}; got {n_memories}", argument="n_memories"
        )
    check_real(sigma, "sigma", 0)
    _fraction(mask, "mask")
    check_int(spiking_queries, "spiking_queries")
    if not 0 <= spiking_queries <= n_memories:
        raise ValidationError(
            f"'spiking_queries' must be in 0..n_memories={n_memories}; got {spiking_queries}",
            argument="spiking_queries",
        )
    if importlib.util.find_spec("sklearn") is None:
        from .._extras import install_hint

        raise DatasetUnavailable(
            "the demo stores scikit-learn's bundled digits, and scikit-learn is not "
            f"installed: {install_hint('demo')}"
        )


def run_demo(
    n_memories: int = N_MEMORIES,
    sigma: float = SIGMA,
    mask: float = MASK,
    seed: int = 0,
    n_examples: int = 8,
    spiking_queries: int = 0,
    progress: bool = False,
) -> DemoResult:
    """Store ``n_memories`` digits, query each with noise and with the bottom masked.

    With ``spiking_queries`` > 0, the first that many noisy cues also go through the Brian2
    networks of :data:`DEMO_NETWORKS` (the neural circuit for ``uhn_best`` and ``mchn``, the
    hybrid rate model for ``uhn_best``), configured by :func:`demo_config`.
    ``progress`` shows a progress bar with an ETA on stderr, its steps weighed by how long
    each takes. Each model is called once on two queries before it is timed, so ``seconds``
    excludes one-off compilation (numba).
    """
    check_options(n_memories, sigma, mask, spiking_queries)
    X, shape = load_digits()
    rng = np.random.default_rng(seed)
    M = X[rng.permutation(len(X))[:n_memories]]
    cues = {
        f"gaussian σ={sigma}": corruptions.gaussian_noise(M, sigma, rng),
        f"bottom {mask:.0%} masked": corruptions.mask_bottom(M, mask, shape),
    }
    threshold = metrics.paper_threshold(M.shape[1])
    result = DemoResult(n_memories=n_memories, image_shape=shape)
    target = np.arange(n_memories)
    from .._progress import tqdm

    networks = DEMO_NETWORKS if spiking_queries else ()
    weight = {
        net: build + spiking_queries * per_cue for net, (build, per_cue) in _NETWORK_SECONDS.items()
    }
    total = len(cues) * len(DEMO_MODELS) * _ABSTRACT_SECONDS + sum(weight[n] for n in networks)
    bar = tqdm(
        total=total,
        desc="demo",
        disable=not progress,
        dynamic_ncols=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}",
    )
    for corruption, Q in cues.items():
        outputs = {}
        for label, model, convention, patterns in DEMO_MODELS:
            bar.set_postfix_str(label, refresh=True)
            model = load_model(model) if isinstance(model, str) else model
            mem, q = (
                (M, Q)
                if patterns == "continuous"
                else (corruptions.to_bipolar(M), corruptions.to_bipolar(Q))
            )
            model.retrieve(mem, q[:2], convention=convention)  # compile / warm up, untimed
            t0 = time.perf_counter()
            Z = model.retrieve(mem, q, convention=convention)
            seconds = time.perf_counter() - t0
            Z_img = Z if patterns == "continuous" else (Z + 1) / 2
            result.rows.append(
                DemoRow(
                    model=label,
                    corruption=corruption,
                    identity_accuracy=float(metrics.identity_correct(Z, mem, target).mean()),
                    sse_accuracy=float(metrics.sse_correct(Z_img, M, threshold).mean()),
                    seconds=seconds,
                )
            )
            outputs[label] = Z_img[:n_examples]
            bar.update(_ABSTRACT_SECONDS)
        result.examples[corruption] = (M[:n_examples], Q[:n_examples], outputs)
    if networks:
        from ..spiking import compare

        Q = next(iter(cues.values()))[:spiking_queries]
        for name, mode in networks:
            bar.set_postfix_str(
                f"spiking network {name} / {mode}: building, then {spiking_queries} cues "
                f"(about {weight[(name, mode)]:.0f} s)",
                refresh=True,
            )
            c = compare(
                name,
                M,
                Q,
                targets=target[:spiking_queries],
                config=demo_config(mode, seed),
            )
            result.spiking[(name, mode)] = c
            result.decoded[(name, mode)] = metrics.nearest_memory(c.z_spiking, M)
            bar.update(weight[(name, mode)])
    bar.close()
    return result

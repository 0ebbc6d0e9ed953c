"""Spiking vs abstract retrieval on the same memories and queries (a contract: ``compare``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import metrics
from .._xp import to_numpy
from ..errors import ValidationError, ValidationTypeError
from ..model import UHN, load_model
from ..similarity import validate_memories, validate_queries
from .config import SpikingConfig
from .engine import SpikingRun
from .network import SpikingUHN

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """Spiking and abstract outputs side by side, one row per query (frozen: built once).

    ``same_memory[b]``: the stored item nearest to the spiking output is the one nearest to
    the abstract output (items: rows of ``truth``, by default the projection ``P``).
    ``relative_error`` = ‖z_spiking − z_abstract‖ / ‖z_abstract‖. ``sse_correct_*`` apply
    the paper's criterion (sum of squared error to the target item <= ``threshold``) and
    ``identity_correct_*`` the nearest-item criterion, when ``targets`` were given.
    ``settling_time[b]`` (s): from then on the output decoded from the spikes so far is
    nearest to the same item as the final output. ``sweep``: the same figures for decoding
    windows ending at each T.
    """

    z_spiking: np.ndarray
    z_abstract: np.ndarray
    same_memory: np.ndarray
    agreement: float
    cosine: np.ndarray
    relative_error: np.ndarray
    settling_time: np.ndarray
    sse_correct_spiking: np.ndarray | None
    sse_correct_abstract: np.ndarray | None
    identity_correct_spiking: np.ndarray | None
    identity_correct_abstract: np.ndarray | None
    threshold: float
    sweep: list[dict] = field(default_factory=list)
    build_seconds: float = 0.0
    run_seconds: float = 0.0
    config: SpikingConfig | None = None
    run: SpikingRun | None = None
    #: per query: (s₁ − s₂)/|s₁| of the abstract scores' best two (NaN with one memory)
    score_gap: np.ndarray | None = None
    #: per query: spikes of every neuron after the input layer over the whole run
    #: (memory, inhibitory and output neurons in circuit mode; memory neurons otherwise)
    spikes_per_query: np.ndarray | None = None
    #: What tells a winner from a blend (spiking modes; None in continuous mode), per query,
    #: from the memory populations' counts in the decoding window: populations with at
    #: least a tenth of the top count; the top population's share of all memory spikes;
    #: memory spikes in the window; the most active population (-1: none fired).
    active_populations: np.ndarray | None = None
    winner_share: np.ndarray | None = None
    memory_spikes: np.ndarray | None = None
    winner: np.ndarray | None = None
    #: per query: ‖z_spiking‖ / ‖z_abstract‖ (NaN where z_abstract is 0)
    z_scale: np.ndarray | None = None
    #: per query: the most active population is the abstract scores' argmax (standard
    #: convention, N > 1), and is the target (auto-association with ``targets``)
    winner_agrees: np.ndarray | None = None
    winner_correct: np.ndarray | None = None
    #: circuit mode, softmax: the β the escape-noise neurons realise (the configured one)
    beta_realised: float | None = None

    @property
    def agreement_where_abstract_correct(self) -> float:
        """Agreement over the queries the abstract model gets right (needs ``targets``)."""
        if self.identity_correct_abstract is None:
            raise ValidationError(
                "pass 'targets' to compare() to know where the abstract model is right"
            )
        ok = self.identity_correct_abstract
        return float(self.same_memory[ok].mean()) if ok.any() else float("nan")

    def summary(self) -> dict[str, float]:
        out = {
            "agreement": self.agreement,
            "median_relative_error": float(np.median(self.relative_error)),
            "mean_cosine": _nanmean(self.cosine),
            "median_settling_ms": 1e3 * float(np.nanmedian(self.settling_time))
            if np.isfinite(self.settling_time).any()
            else float("nan"),
            "wall_seconds_per_query": self.run_seconds / max(1, len(self.z_spiking)),
        }
        if np.isfinite(self.settling_time).any():
            out["p90_settling_ms"] = 1e3 * float(np.nanpercentile(self.settling_time, 90))
        if self.score_gap is not None:
            for name, where in (
                ("agreement_gap_over_5pct", self.score_gap > 0.05),
                ("agreement_gap_within_5pct", self.score_gap <= 0.05),
            ):
                out[name] = float(self.same_memory[where].mean()) if where.any() else float("nan")
            out["fraction_gap_over_5pct"] = float(np.mean(self.score_gap > 0.05))
        if self.spikes_per_query is not None:
            out["spikes_per_retrieval"] = float(np.mean(self.spikes_per_query))
        if self.active_populations is not None:
            out.update(
                median_active_populations=float(np.median(self.active_populations)),
                mean_winner_share=_nanmean(self.winner_share),
                median_memory_spikes=float(np.median(self.memory_spikes)),
            )
        if self.z_scale is not None and np.isfinite(self.z_scale).any():
            out["median_z_scale"] = float(np.nanmedian(self.z_scale))
            out["fraction_z_scale_within_10pct"] = float(np.mean(np.abs(self.z_scale - 1) <= 0.1))
        if self.beta_realised is not None:
            out["beta_realised"] = self.beta_realised
        if self.winner_agrees is not None:
            out["winner_agreement"] = float(np.mean(self.winner_agrees))
        if self.winner_correct is not None:
            out["winner_accuracy"] = float(np.mean(self.winner_correct))
        if self.identity_correct_abstract is not None:
            out.update(
                accuracy_abstract=float(self.identity_correct_abstract.mean()),
                accuracy_spiking=float(self.identity_correct_spiking.mean()),
                sse_accuracy_abstract=float(self.sse_correct_abstract.mean()),
                sse_accuracy_spiking=float(self.sse_correct_spiking.mean()),
                agreement_where_abstract_correct=self.agreement_where_abstract_correct,
            )
        return out


def compare(
    model,
    memories,
    queries,
    *,
    projection=None,
    config: SpikingConfig | None = None,
    targets=None,
    truth=None,
    threshold: float | None = None,
    windows=None,
    convention: str = "standard",
    network: SpikingUHN | None = None,
) -> Comparison:
    """Run the spiking network and the abstract model on the same queries and compare them.

    Parameters
    ----------
    model : UHN or str
        The spec, or the name of a bundled model.
    memories, queries, projection
        As for :func:`neuro_uhn.retrieve` (NumPy arrays or anything ``np.asarray`` takes).
    config : SpikingConfig
        Mode, duration, seed, ...
    targets : array of int, optional
        Index (into ``truth``) of the item each query should retrieve: enables the accuracy
        figures.
    truth : array, shape (n_items, n_out), optional
        What correct outputs look like; default the projection (``P = M`` if auto).
    threshold : float, optional
        The paper's criterion on the summed squared error; default 60 per 784 outputs.
    convention : {"standard", "paper"}
        ``"paper"``: the official code's reciprocal distances and sum-normalisations, with a
        divisive unit per query copy (see docs/spiking.md).
    windows : sequence of float, optional
        Ends (s) of the decoding windows of the T sweep; default 6 between settle and duration.
    network : SpikingUHN, optional
        A network already made from ``model`` and ``memories`` (for example one that stored
        them by plasticity, whose weights you also want): it is run instead of building one,
        with its own config.
    """
    model = load_model(model) if isinstance(model, str) else model
    if not isinstance(model, UHN):
        raise ValidationTypeError(
            f"'model' must be a UHN or a model name; got {type(model).__name__}"
        )
    if network is not None:
        if not isinstance(network, SpikingUHN):
            raise ValidationTypeError(
                f"'network' must be a SpikingUHN; got {type(network).__name__}"
            )
        if config is not None and config != network.config:
            raise ValidationError("'config' differs from the config of 'network'; pass one")
        if network.model != model or not np.array_equal(
            network.M, np.asarray(to_numpy(memories), dtype=float)
        ):
            raise ValidationError("'network' was not made from this 'model' and 'memories'")
        config = network.config
    config = config or SpikingConfig()
    # check the queries before Brian2 objects exist (a bad query is then just an error)
    M_checked, xp = validate_memories(memories)
    Q = np.atleast_2d(
        np.asarray(to_numpy(validate_queries(queries, M_checked, xp)[0]), dtype=float)
    )
    if targets is not None:  # checked before any Brian2 object exists
        _check_targets(targets, len(truth) if truth is not None else len(M_checked))
    t0 = time.perf_counter()
    net = network or SpikingUHN(model, memories, projection, config=config, convention=convention)
    net.build(len(Q))
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = net.run(Q)
    run_seconds = time.perf_counter() - t0
    z_spiking = net.decode(run)  # circuit mode: from the output neurons
    z_abstract = np.asarray(
        model.retrieve(
            net.M, Q, projection=None if projection is None else net.P, convention=convention
        ),
        dtype=float,
    )
    items = net.P if truth is None else np.asarray(truth, dtype=float)
    if items.shape[1] != z_abstract.shape[1]:
        raise ValidationError(
            f"'truth' rows have {items.shape[1]} values but outputs have {z_abstract.shape[1]}"
        )
    near_s = metrics.nearest_memory(z_spiking, items)
    near_a = metrics.nearest_memory(z_abstract, items)
    threshold = metrics.paper_threshold(items.shape[1]) if threshold is None else threshold
    scored: dict = dict.fromkeys(
        (
            "identity_correct_spiking",
            "identity_correct_abstract",
            "sse_correct_spiking",
            "sse_correct_abstract",
        )
    )
    if targets is not None:
        targets = np.asarray(targets)
        if targets.shape != (len(Q),):
            raise ValidationError(
                f"'targets' must hold one index per query ({len(Q)}); got shape {targets.shape}"
            )
        scored.update(
            identity_correct_spiking=near_s == targets,
            identity_correct_abstract=near_a == targets,
            sse_correct_spiking=metrics.sse_correct(z_spiking, items[targets], threshold),
            sse_correct_abstract=metrics.sse_correct(z_abstract, items[targets], threshold),
        )
    settling, sweep, spikes = np.full(len(Q), np.nan), [], None
    if config.mode != "continuous":
        settling = settling_times(net, run, items)
        sweep = window_sweep(net, run, z_abstract, items, windows)
        spikes = np.array([len(t) for _, t in run.spikes], dtype=float)
        for extra in (run.output_spikes, run.inhibitory_spikes):
            if extra is not None:
                spikes += [len(t) for _, t in extra]
    gap, best = None, None
    if len(net.M) > 1 and convention == "standard":
        # the abstract scores, for the analysis only, after the run
        S = np.asarray(to_numpy(model.similarity(net.M, Q)), dtype=float)
        top = np.sort(S, axis=1)[:, ::-1]
        gap = (top[:, 0] - top[:, 1]) / np.maximum(np.abs(top[:, 0]), 1e-300)
        best = S.argmax(axis=1)
    blend: dict = {}
    if config.mode != "continuous":
        blend = _blend(run.counts)
        if best is not None:
            blend["winner_agrees"] = blend["winner"] == best
        if targets is not None and truth is None:  # items are the memories themselves
            blend["winner_correct"] = blend["winner"] == targets
    norm_a = np.linalg.norm(z_abstract, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_scale = np.where(norm_a > 0, np.linalg.norm(z_spiking, axis=1) / norm_a, np.nan)
    return Comparison(
        z_spiking=z_spiking,
        z_abstract=z_abstract,
        same_memory=near_s == near_a,
        agreement=float(np.mean(near_s == near_a)),
        cosine=_cosine(z_spiking, z_abstract),
        relative_error=_relative_error(z_spiking, z_abstract),
        settling_time=settling,
        **scored,
        threshold=threshold,
        sweep=sweep,
        build_seconds=build,
        run_seconds=run_seconds,
        config=config,
        run=run,
        score_gap=gap,
        spikes_per_query=spikes,
        z_scale=z_scale,
        beta_realised=getattr(net.plan, "beta_predicted", None),
        **blend,
    )


def _blend(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Winner or blend, from memory counts (queries, populations) in the decoding window."""
    counts = np.asarray(counts, dtype=float)
    total, top = counts.sum(axis=1), counts.max(axis=1)
    fired = total > 0
    active = (counts > 0) & (counts >= 0.1 * top[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(fired, top / np.where(fired, total, 1), np.nan)
    return {
        "active_populations": active.sum(axis=1),
        "winner_share": share,
        "memory_spikes": total,
        "winner": np.where(fired, counts.argmax(axis=1), -1),
    }


def window_sweep(net: SpikingUHN, run: SpikingRun, z_abstract, items, windows=None) -> list[dict]:
    """Agreement and error when decoding only [settle, T], for each T (from the same spikes)."""
    cfg = net.config
    if windows is None:
        windows = np.geomspace(cfg.settle + cfg.window / 16, cfg.duration, 6)
    near_a = metrics.nearest_memory(z_abstract, items)
    rows = []
    for end in windows:
        if not cfg.settle < end <= cfg.duration + 1e-12:
            raise ValidationError(f"each window end must be in (settle, duration]; got {end}")
        z = net.decode(run, cfg.settle, end)
        rows.append(
            {
                "T": float(end),
                "agreement": float(np.mean(metrics.nearest_memory(z, items) == near_a)),
                "median_relative_error": float(np.median(_relative_error(z, z_abstract))),
                "mean_cosine": _nanmean(_cosine(z, z_abstract)),
            }
        )
    return rows


def settling_times(net: SpikingUHN, run: SpikingRun, items, step: float = 5e-3) -> np.ndarray:
    """Per query: the first time from which the output decoded from all spikes so far stays
    nearest to the same item as the final output (so it includes the synaptic latency);
    NaN without spikes (continuous mode)."""
    cfg = run.config
    if cfg.mode == "continuous":
        return np.full(len(run.spikes), np.nan)
    grid = np.arange(step, cfg.duration + step / 2, step)
    nearest = np.stack(
        [metrics.nearest_memory(net.decode(run, 0.0, end), items) for end in grid]
    )  # (n_grid, B)
    out = np.empty(nearest.shape[1])
    for b in range(nearest.shape[1]):
        wrong = np.nonzero(nearest[:, b] != nearest[-1, b])[0]
        out[b] = grid[wrong[-1] + 1] if len(wrong) else grid[0]
    return out


def _check_targets(targets, n_items: int) -> None:
    targets = np.asarray(targets)
    if targets.dtype.kind not in "iu":
        raise ValidationTypeError(
            f"'targets' must be integer indices into the items; got dtype {targets.dtype}"
        )
    if targets.size and (targets.min() < 0 or targets.max() >= n_items):
        raise ValidationError(
            f"'targets' must be indices in 0..{n_items - 1} (one per item); got values "
            f"from {targets.min()} to {targets.max()}"
        )


def _nanmean(x) -> float:
    """Mean of the finite values; NaN (without NumPy's warning) when there are none, e.g.
    a window so short that no output neuron has fired yet."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _cosine(A, B):
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((na > 0) & (nb > 0), np.sum(A * B, axis=1) / (na * nb), np.nan)


def _relative_error(A, B):
    nb = np.linalg.norm(B, axis=1)
    return np.linalg.norm(A - B, axis=1) / np.where(nb > 0, nb, 1.0)

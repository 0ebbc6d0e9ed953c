"""Spiking benchmark: build/compile cost and wall time per query per simulated second for each
Brian2 target, and a side-by-side with nengo_spa's WTA associative memory (optional).

Task (as in ``docs/spiking.md``): ``n`` binary memories of 784 features (20 % ones), each query
a memory with 30 % of its ones dropped, retrieval by dot similarity and max separation
(winner-take-all), outputs 784-wide. Accuracy = the nearest memory to the output is the
cue's memory.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import metrics
from ..model import UHN
from ..spiking import SpikingConfig, SpikingUHN, compare

__all__ = [
    "SpikingBenchRecord",
    "binary_task",
    "run_spiking_bench",
    "nengo_wta",
    "nengo_end_to_end",
]

WTA_MODEL = UHN(similarity="dot", separation="max", name="dot/max")


@dataclass
class SpikingBenchRecord:
    system: str  # "neuro_uhn <target> <mode>" or "nengo_spa WTA"
    n_memories: int
    n_features: int
    n_queries: int
    neurons: int  # neurons per query copy (features + memories + rest)
    duration: float
    build_seconds: float
    wall_per_query_per_sim_second: float  # < 1: faster than real time
    accuracy: float
    accuracy_abstract: float
    median_settling_ms: float

    def to_dict(self):
        return asdict(self)


def binary_task(n_memories: int, n_queries: int, d: int = 784, seed: int = 0):
    rng = np.random.default_rng(seed)
    M = (rng.random((n_memories, d)) < 0.2).astype(float)
    targets = rng.integers(0, n_memories, n_queries)
    Q = M[targets] * (rng.random((n_queries, d)) >= 0.3)
    return M, Q, targets


def run_spiking_bench(
    n_memories=(100, 1000),
    n_queries: int = 10,
    duration: float = 0.2,
    d: int = 784,
    targets=("numpy", "cpp_standalone"),
    modes=("hybrid", "spiking", "circuit"),
    nengo: bool = True,
    seed: int = 0,
    progress=None,
    neurons_per_memory: int | None = None,
    show_bar: bool = True,
) -> list[SpikingBenchRecord]:
    """One record per (memories, target, mode), and nengo_spa's WTA when installed.

    ``neurons_per_memory``: ``None`` compares our 1 neuron per memory with Nengo's default
    50; an integer gives both sides that many (an equal neuron budget). ``show_bar``: a
    progress bar with an ETA on stderr (on a terminal), one step per system.
    """
    from .._progress import tqdm

    ours = 1 if neurons_per_memory is None else int(neurons_per_memory)
    theirs = 50 if neurons_per_memory is None else int(neurons_per_memory)
    records = []
    steps = len(n_memories) * (len(targets) * len(modes) + int(nengo))
    bar = tqdm(total=steps, desc="bench --spiking", unit="system", leave=False,
               disable=None if show_bar else True)  # fmt: skip
    for n in n_memories:
        M, Q, goal = binary_task(n, n_queries, d=d, seed=seed)
        abstract_acc = float(np.mean(metrics.nearest_memory(WTA_MODEL.retrieve(M, Q), M) == goal))
        for target in targets:
            for mode in modes:
                cfg = SpikingConfig(
                    mode=mode,
                    target=target,
                    duration=duration,
                    settle=0.02,
                    neurons_per_memory=ours,
                    seed=seed,
                )
                r = compare(WTA_MODEL, M, Q, targets=goal, config=cfg, windows=[duration])
                neurons = SpikingUHN(WTA_MODEL, M, config=cfg).n_neurons
                s = r.summary()
                records.append(
                    SpikingBenchRecord(
                        system=f"neuro_uhn {target} {mode}",
                        n_memories=n,
                        n_features=M.shape[1],
                        n_queries=n_queries,
                        neurons=neurons,
                        duration=duration,
                        build_seconds=r.build_seconds,
                        wall_per_query_per_sim_second=r.run_seconds / (n_queries * duration),
                        accuracy=s["accuracy_spiking"],
                        accuracy_abstract=abstract_acc,
                        median_settling_ms=s["median_settling_ms"],
                    )
                )
                bar.update()
                if progress:
                    progress(str(records[-1]))
        if nengo:
            for peer in (nengo_wta, nengo_end_to_end):
                rec = peer(M, Q, goal, duration=duration, n_neurons=theirs, seed=seed)
                if rec is not None:
                    rec.accuracy_abstract = abstract_acc
                    records.append(rec)
                    if progress:
                        progress(str(rec))
            bar.update()
    bar.close()
    return records


def nengo_wta(
    M, Q, goal, *, duration: float = 0.2, n_neurons: int = 50, threshold: float = 0.3, seed: int = 0
) -> SpikingBenchRecord | None:
    """nengo_spa's WTA selection network (the core of ``WTAAssocMem``) on the same task: keys
    and queries unit-normalised, key similarity and output mapping as exact transforms, 50 LIF
    neurons per item, dt = 1 ms. None when nengo_spa is not installed."""
    try:
        import nengo
        from nengo_spa.networks.selection import WTA
    except ImportError:
        return None
    K, Qn = _unit_rows(M), _unit_rows(Q)  # keys and cues unit-normalised
    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        current = {"q": np.zeros(M.shape[1])}
        cue = nengo.Node(lambda t: current["q"], size_out=M.shape[1])
        wta = WTA(n_neurons=n_neurons, n_ensembles=len(M), threshold=threshold)
        nengo.Connection(cue, wta.input, transform=K, synapse=None)
        out = nengo.Node(size_in=M.shape[1])
        nengo.Connection(wta.output, out, transform=M.T, synapse=None)
        probe = nengo.Probe(wta.output, synapse=0.01)
    return _run_nengo(
        nengo.Simulator(net, progress_bar=False), t0, current, probe, Qn, goal, duration,
        leader=lambda utilities: np.argmax(utilities, axis=1),  # (steps, n_items)
        system="nengo_spa WTA (LIF), exact similarity", M=M, neurons=n_neurons * len(M),
    )  # fmt: skip


def _unit_rows(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _run_nengo(sim, t0, current, probe, Qn, goal, duration, *, leader, system, M, neurons):
    """Each cue through a built Nengo simulator (reset between cues); the record, with the
    item ``leader(probe data)`` picks at each step (accuracy at the end, settling)."""
    build = time.perf_counter() - t0
    correct, settle, wall = [], [], 0.0
    for q, g in zip(Qn, goal):
        sim.reset()
        current["q"] = q
        t0 = time.perf_counter()
        sim.run(duration)
        wall += time.perf_counter() - t0
        lead = leader(sim.data[probe])
        correct.append(lead[-1] == g)
        wrong = np.nonzero(lead != lead[-1])[0]
        settle.append(sim.trange()[wrong[-1] + 1] if len(wrong) else sim.trange()[0])
    sim.close()
    return SpikingBenchRecord(
        system=system,
        n_memories=len(M),
        n_features=M.shape[1],
        n_queries=len(Qn),
        neurons=neurons,
        duration=duration,
        build_seconds=build,
        wall_per_query_per_sim_second=wall / (len(Qn) * duration),
        accuracy=float(np.mean(correct)),
        accuracy_abstract=float("nan"),
        median_settling_ms=1e3 * float(np.median(settle)),
    )


def nengo_end_to_end(
    M, Q, goal, *, duration: float = 0.2, n_neurons: int = 50, query_neurons: int = 10,
    threshold: float = 0.3, seed: int = 0,
) -> SpikingBenchRecord | None:  # fmt: skip
    """A Nengo network that spikes end to end on the same task, like for like with the
    circuit: the query is represented by spiking LIF ensembles (``query_neurons`` per
    feature, an EnsembleArray), M is the transform from their decoded output into nengo_spa's
    WTA (``n_neurons`` per item), P = M the transform out, and accuracy is read from the
    decoded *output* (its nearest stored memory at the end of the run), not from the WTA's
    utilities. dt = 1 ms (Nengo's default). None when nengo/nengo_spa are not installed."""
    try:
        import nengo
        from nengo_spa.networks.selection import WTA
    except ImportError:
        return None
    K, Qn = _unit_rows(M), _unit_rows(Q)  # keys and cues unit-normalised
    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        current = {"q": np.zeros(M.shape[1])}
        stimulus = nengo.Node(lambda t: current["q"], size_out=M.shape[1])
        # unit-norm queries of D features: each feature lies well inside ±radius
        query = nengo.networks.EnsembleArray(query_neurons, n_ensembles=M.shape[1],
                                             radius=max(0.1, float(np.abs(Qn).max())))
        nengo.Connection(stimulus, query.input, synapse=None)
        wta = WTA(n_neurons=n_neurons, n_ensembles=len(M), threshold=threshold)
        nengo.Connection(query.output, wta.input, transform=K, synapse=0.005)
        out = nengo.Node(size_in=M.shape[1])
        nengo.Connection(wta.output, out, transform=M.T, synapse=None)
        probe = nengo.Probe(out, synapse=0.01)
    return _run_nengo(
        nengo.Simulator(net, progress_bar=False), t0, current, probe, Qn, goal, duration,
        leader=lambda z: metrics.nearest_memory(z, M),  # the decoded output's nearest memory
        system="nengo_spa WTA (LIF), spiking query end to end", M=M,
        neurons=n_neurons * len(M) + query_neurons * M.shape[1],
    )  # fmt: skip

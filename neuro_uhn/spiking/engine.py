"""Simulate: one engine runs every network kind — device, seeds, batches of cues, store and
restore — and returns a :class:`SpikingRun`.

A network kind (:class:`~neuro_uhn.spiking.rate.network.RateNetwork`,
:class:`~neuro_uhn.spiking.circuit.network.CircuitNetwork`) says *what* to build and read:
``build_objects(b2, K, slots)`` returns a named record of Brian2 objects for K copies, each
showing ``slots`` cues in sequence (the circuit: K = 1; the rate modes: slots = 1),
``input_values`` the per-query variables of a batch (group variables, or a TimedArray of
the cues' rates), ``schedule`` the runs of one batch,
``collect`` what a batch recorded and ``assemble`` the run. The engine says *how*: it picks
the code-generation target, builds once, stores the built state (or compiles a standalone
project), and for each batch restores it, seeds it, sets the inputs and runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import numpy as np

from ..errors import ValidationError
from .device import BRIAN_LOCK, Standalone, brian
from .layout import Copies

__all__ = ["SpikingRun", "Batch", "Built", "NetworkKind", "Engine", "sub_seed"]

#: What a sub-seed is for (the spawn key's first element).
SEED_BATCH, SEED_CALIBRATION, SEED_STORAGE = 0, 1, 2


def sub_seed(seed: int, purpose: int, index: int) -> int:
    """An independent seed for batch/calibration/storage ``index``, derived from ``seed``
    with ``numpy.random.SeedSequence`` (as ``spawn`` does), never by arithmetic, so every
    seed the config allows gives valid, non-overlapping streams."""
    state = np.random.SeedSequence(seed, spawn_key=(purpose, index)).generate_state(1)
    return int(state[0])


@dataclass
class SpikingRun:
    """What one run over a set of queries recorded.

    ``spikes[b]`` holds (memory index, time in s) arrays of query b's memory spikes (pooled
    neurons mapped to their memory), over the whole run; ``counts`` are the decoding window's
    pooled counts (continuous mode: rate × window); ``J`` the output neurons' accumulators
    (circuit mode: n_on − n_off per output).
    """

    counts: np.ndarray  # (B, N)
    J: np.ndarray  # (B, n_out)
    spikes: list[tuple[np.ndarray, np.ndarray]]
    config: object
    #: circuit mode: per query (output column, time) of the output neurons' spikes
    #: (columns: on outputs, then off outputs if P has negative values)
    output_spikes: list[tuple[np.ndarray, np.ndarray]] | None = None
    #: circuit mode, what ``SpikingUHN.record`` asked for: {"group.variable": array of
    #: shape (n_queries, n_recorded_neurons, n_steps)}, SI units; ``trace_times`` in s
    traces: dict[str, np.ndarray] | None = None
    trace_times: np.ndarray | None = None
    #: circuit mode with an inhibitory population: per query (inhibitory neuron, time)
    inhibitory_spikes: list[tuple[np.ndarray, np.ndarray]] | None = None
    n_output_columns: int = 0

    def output_counts_in(self, start: float, stop: float) -> np.ndarray:
        """Circuit mode: spike counts of the output columns in [start, stop), per query."""
        if self.output_spikes is None:
            raise ValidationError("output neurons spike only in mode='circuit'")
        return np.stack(
            [
                np.bincount(i[(t >= start) & (t < stop)], minlength=self.n_output_columns)
                for i, t in self.output_spikes
            ]
        ).astype(float)

    def counts_in(self, start: float, stop: float) -> np.ndarray:
        """Pooled spike counts per memory in [start, stop) for every query."""
        n = self.counts.shape[1]
        return np.stack(
            [np.bincount(i[(t >= start) & (t < stop)], minlength=n) for i, t in self.spikes]
        ).astype(float)


@dataclass
class Built:
    """A built network: its Brian2 objects by name (``built["i_to_e"]``), the namespace they
    run with, and the K copies of a batch. Each kind's record extends it."""

    copies: Copies
    namespace: dict
    objects: dict = field(default_factory=dict)

    @property
    def K(self) -> int:
        return self.copies.K

    def add(self, obj):
        """Add a Brian2 object under its name."""
        self.objects[obj.name] = obj
        return obj

    def __getitem__(self, name: str):
        return self.objects[name]

    def __contains__(self, name: str) -> bool:
        return name in self.objects


class NetworkKind:
    """What the engine runs: a network kind plans in its constructor (NumPy) and says how
    to build, feed, run, collect and decode; see the module docstring. The defaults here are
    what every kind shares."""

    config: object
    M: np.ndarray
    sim_map: object
    channels: tuple[int, ...]

    @property
    def n_inputs(self) -> int:
        """Values per query."""
        return self.M.shape[1]

    @property
    def n_features(self) -> int:
        """Feature neurons per copy (thermometer units and on/off channels included)."""
        return self.sim_map.W.shape[1] * len(self.channels)

    #: Cues shown one after another to one network (the circuit), rather than side by side
    #: to independent copies (the rate modes).
    in_sequence: bool = False

    def prepare(self) -> None:
        """Work the plan needs before a build; none by default."""

    #: Stores and retrieves in one runtime network (storage by plasticity): never compiled
    #: into a standalone project, whose schedule is fixed.
    runtime_only: bool = False

    def learn(self, engine) -> None:
        """Runs on the built network before its state is stored (storage by plasticity:
        the presentations); none by default."""

    def calibrate(self, engine) -> None:
        """Constants measured on the built network (the circuit's decoder); none by default."""


@dataclass
class Batch:
    """What one batch of K copies recorded (before padding copies are dropped)."""

    counts: np.ndarray
    J: np.ndarray
    spikes: list
    extra: dict[str, list] = field(default_factory=dict)

    def first(self, n: int) -> Batch:
        return Batch(self.counts[:n], self.J[:n], self.spikes[:n],
                     {k: v[:n] for k, v in self.extra.items()})  # fmt: skip


class Engine:
    """Builds a network kind once and runs batches of cues through it."""

    #: Copies of the network per simulation are capped so all copies together hold at most
    #: this many synapses (memory and per-step cost grow with it).
    SYNAPSE_BUDGET = 4_000_000
    #: Measured on 2 cores (docs/spiking.md): compiling a standalone project costs about
    #: 12 s, and saves about 1 µs of wall time per synapse per copy per simulated second
    #: over the numpy target (1.05 s at 1.57 M synapses, 0.15 s at 157 k).
    STANDALONE_COMPILE_SECONDS = 12.0
    STANDALONE_SAVING_PER_SYNAPSE = 1e-6

    def __init__(self, kind):
        self.kind = kind
        self.config = kind.config
        self.built = None  # the kind's named record of Brian2 objects
        self.network = None  # the brian2.Network
        self.per_batch = 1  # cues per simulation: copies × cues in sequence
        self._standalone: Standalone | None = None
        self._target: str | None = None

    @property
    def is_built(self) -> bool:
        return self.built is not None

    def chosen_target(self, n_queries: int) -> str:
        """The code-generation target for ``n_queries`` queries: the configured one, or for
        ``"auto"`` the faster of numpy and cpp_standalone by the measured costs above."""
        if self.config.target != "auto":
            return self.config.target
        saving = (
            self.STANDALONE_SAVING_PER_SYNAPSE
            * self.kind.synapses_per_copy()
            * n_queries
            * self.config.duration
        )
        if saving > self.STANDALONE_COMPILE_SECONDS and shutil.which("g++"):
            # a network that learns stays a runtime one: compiled through Cython instead
            return "cython" if self.kind.runtime_only else "cpp_standalone"
        return "numpy"

    def copies(self, n_queries: int) -> int:
        """Copies per simulation: the batch size, capped by the queries and the budget (1
        for a network that shows its cues in sequence)."""
        if self.kind.in_sequence:
            return 1
        by_budget = max(1, self.SYNAPSE_BUDGET // max(1, self.kind.synapses_per_copy()))
        return max(1, min(self.config.batch_size, n_queries, by_budget))

    def slots(self, n_queries: int) -> int:
        """Cues each copy shows in sequence per simulation: the batch size, capped by the
        queries (1 for the rate modes' copies)."""
        if not self.kind.in_sequence:
            return 1
        return max(1, min(self.config.batch_size, n_queries))

    #: The most synapses one copy of a network may have: Brian2 keeps about 50 bytes per
    #: synapse (indices, weight, delay, the build's temporaries), so this is about 5 GB.
    MAX_SYNAPSES_PER_COPY = 100_000_000
    BYTES_PER_SYNAPSE = 50

    def check_size(self) -> None:
        """Refuse a network too large to build, before anything is allocated, naming its
        size and the settings that set it."""
        n = self.kind.synapses_per_copy()
        if n > self.MAX_SYNAPSES_PER_COPY:
            cfg = self.config
            what = f"neurons_per_memory={cfg.neurons_per_memory}"
            if cfg.mode == "circuit":
                c = cfg.circuit
                what += f", output_neurons={c.output_neurons}, n_inhibitory={c.n_inhibitory}"
            raise ValidationError(
                f"the network would have {n:,} synapses per query copy (about "
                f"{n * self.BYTES_PER_SYNAPSE / 2**30:.0f} GiB), over the limit of "
                f"{self.MAX_SYNAPSES_PER_COPY:,}; it grows with the memories, the feature "
                f"neurons and {what}: lower them",
                argument="config",
            )

    def build(self, n_queries: int = 1) -> None:
        """Build for ``n_queries`` queries (again: a fresh network), except a network that
        learns, which is kept once built: its synapses hold what it learned."""
        with BRIAN_LOCK:
            if self.is_built and self.kind.runtime_only:
                return
            self._build(max(1, n_queries))

    def _build(self, n_queries: int) -> None:
        self.close()
        self.kind.prepare()  # work the plan needs first (storage by plasticity)
        b2, cfg = brian(), self.config
        target, K = self.chosen_target(n_queries), self.copies(n_queries)
        S = self.slots(n_queries)
        standalone = target in ("cpp_standalone", "cuda_standalone")
        if standalone:
            self._standalone = Standalone.start(b2, target, cfg.threads)
        else:
            b2.set_device("runtime")
            b2.prefs.codegen.target = target
        built = self.kind.build_objects(b2, K, S)
        net = b2.Network(*built.objects.values())
        self.built, self.network, self.per_batch = built, net, K * S
        self._target = target
        if standalone:
            zeros = np.zeros((K * S, self.kind.n_inputs))
            inputs = list(self.kind.input_values(built, b2, zeros))
            self._standalone.compile(b2, inputs, lambda: self.kind.schedule(built, net, b2),
                                     cfg.seed)  # fmt: skip
        else:
            try:
                self.kind.learn(self)  # storage by plasticity: in this network, first
            except BaseException:
                self.close()  # no half-learned network is kept
                raise
            net.store("built")
        self.kind.calibrate(self)

    def learn(self) -> None:
        """Run the kind's learning again on the built network (storage by plasticity: the
        patterns queued since) from its stored state, store the new state and recalibrate."""
        with BRIAN_LOCK:
            if not self.is_built:  # (a whole batch of cues, as a first run would)
                self._build(self.config.batch_size)
                return
            b2 = brian()
            b2.set_device("runtime")
            b2.prefs.codegen.target = self._target
            self.network.restore("built")
            try:
                self.kind.learn(self)
            except BaseException:
                self.network.restore("built")  # as before the failed presentations
                raise
            self.network.store("built")
            self.kind.calibrate(self)

    def run_batch(self, Q: np.ndarray, purpose: int, index: int) -> Batch:
        """One batch of exactly ``per_batch`` cues from the built state (lock held by the
        caller). A TimedArray among the inputs replaces its namespace entry (runtime) or is
        passed to the compiled project (standalone)."""
        b2, built, net = brian(), self.built, self.network
        values = self.kind.input_values(built, b2, Q)
        if self._standalone is not None:
            self._standalone.run(dict(values.items()))
            return self.kind.collect(built, b2)
        net.restore("built")
        if self.config.seed is not None:
            b2.seed(sub_seed(self.config.seed, purpose, index))
        for view, value in values.items():
            if isinstance(view, b2.TimedArray):
                name = next(k for k, v in built.namespace.items() if v is view)
                built.namespace[name] = b2.TimedArray(value, dt=view.dt * b2.second)
            else:
                view[:] = value
        self.kind.schedule(built, net, b2)
        return self.kind.collect(built, b2)

    def run(self, Q: np.ndarray, progress: bool | None = None) -> list[Batch]:
        """Every cue, in batches of K copies (the last one padded); one Batch per batch."""
        from .._progress import tqdm

        with BRIAN_LOCK:
            if not self.is_built:
                self._build(len(Q))
            K = self.per_batch
            n_batches = -(-len(Q) // K)
            bar = tqdm(
                total=n_batches, desc=f"spiking {self.config.mode}", unit="batch", leave=False,
                disable=(n_batches < 2 or None) if progress is None else not progress,
            )  # fmt: skip
            out = []
            for start in range(0, len(Q), K):
                batch = Q[start : start + K]
                pad = np.concatenate([batch, np.repeat(batch[-1:], K - len(batch), axis=0)])
                out.append(self.run_batch(pad, SEED_BATCH, start // K).first(len(batch)))
                bar.update()
            bar.close()
            return out

    def close(self) -> None:
        """Forget the built network (and remove a compiled project)."""
        if self._standalone is not None:
            self._standalone.close()
            self._standalone = None
        self.built = self.network = None

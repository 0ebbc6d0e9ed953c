"""The front door: :class:`SpikingUHN`, a spiking network built from a ``UHN`` spec.

It picks the network kind from ``config.mode`` — the rate model
(:class:`~neuro_uhn.spiking.rate.network.RateNetwork`) or the neural circuit
(:class:`~neuro_uhn.spiking.circuit.network.CircuitNetwork`) — and runs it through one
:class:`~neuro_uhn.spiking.engine.Engine`. Construction only plans (NumPy); building,
storing and running happen in explicit calls (:meth:`SpikingUHN.build`, :meth:`~SpikingUHN.run`,
:meth:`~SpikingUHN.retrieve`), never when an attribute is read.
"""

from __future__ import annotations

import numpy as np

from .._xp import namespace, to_numpy
from ..errors import ValidationError, ValidationTypeError
from ..model import UHN, load_model
from ..retrieval import prepare
from ..similarity import validate_queries
from .circuit.network import CircuitNetwork
from .config import SpikingConfig
from .device import require_compiler
from .engine import Engine, SpikingRun
from .rate.network import RateNetwork
from .registry import unsupported

__all__ = ["SpikingUHN"]


class SpikingUHN:
    """A spiking network built from a ``UHN`` spec, memories ``M`` and projection ``P``.

    Parameters
    ----------
    model : UHN or str
        The spec (or a bundled model's name).
    memories : array, shape (n_memories, n_features)
    projection : array, shape (n_memories, n_out), optional
        ``None`` for auto-association.
    config : SpikingConfig, optional
    convention : {"standard", "paper"}
        ``"paper"``: the official code's pipeline (rate modes only).
    """

    def __init__(self, model, memories, projection=None, *, config: SpikingConfig | None = None,
                 convention: str = "standard"):  # fmt: skip
        model = load_model(model) if isinstance(model, str) else model
        if not isinstance(model, UHN):
            raise ValidationTypeError(
                f"'model' must be a UHN or a model name; got {type(model).__name__}"
            )
        config = SpikingConfig() if config is None else config
        if not isinstance(config, SpikingConfig):
            raise ValidationTypeError(
                f"'config' must be a SpikingConfig; got {type(config).__name__}"
            )
        prepared = prepare(model, memories, projection, convention=convention)
        M = np.asarray(to_numpy(prepared.M), dtype=float)
        P = np.asarray(to_numpy(prepared.P), dtype=float)
        self.model, self.config, self.convention = model, config, convention
        if config.kind == "circuit":
            self._network = CircuitNetwork(model, M, P, config, convention)
        else:
            self._network = RateNetwork(model, M, P, config, convention, prepared.model)
        if config.target in ("cython", "cpp_standalone"):
            require_compiler(config.target)
        if config.target == "cuda_standalone":
            try:
                import brian2cuda  # noqa: F401
            except ImportError:
                raise unsupported(
                    "target 'cuda_standalone'",
                    config.mode,
                    "brian2cuda is not installed (it needs Python >= 3.12 and brian2 2.10.1)",
                ) from None
        self._engine = Engine(self._network)
        self._engine.check_size()

    # ------------------------------------------------------------------ what it holds
    @property
    def kind(self):
        """The network kind: a RateNetwork or a CircuitNetwork (its plan and mapping)."""
        return self._network

    @property
    def M(self) -> np.ndarray:
        """Every memory given (storage="plasticity": stored, or to be stored at build)."""
        return self._network.M

    @property
    def P(self) -> np.ndarray:
        return self._network.P

    @property
    def n_memories(self) -> int:
        return self.M.shape[0]

    @property
    def n_features(self) -> int:
        """Feature neurons per copy (thermometer units and on/off channels included)."""
        return self._network.n_features

    @property
    def n_neurons(self) -> int:
        """Neurons per copy of the network."""
        return self._network.n_neurons

    @property
    def plan(self):
        """Circuit mode: the :class:`~neuro_uhn.spiking.circuit.plan.CircuitPlan` (every
        build-time constant); ``None`` in the rate modes."""
        return getattr(self._network, "plan", None)

    def synapses_per_copy(self) -> int:
        return self._network.synapses_per_copy()

    def chosen_target(self, n_queries: int) -> str:
        """The code-generation target for ``n_queries`` queries (``"auto"`` resolved)."""
        return self._engine.chosen_target(n_queries)

    def query_inputs(self, queries) -> dict[str, np.ndarray]:
        """Every per-query array that is set on the network, by name, shape (n_queries, ...).

        In circuit mode exactly one: ``"rates"``, the feature neurons' Poisson rates in Hz
        (the query's encoding: on/off channels, thermometer units). No score is computed.
        """
        return self._network.query_inputs(self._validated(queries))

    # ------------------------------------------------------------------ build and run
    def build(self, n_queries: int = 1) -> None:
        """Build (store memories by plasticity first, compile for standalone targets, and
        calibrate the circuit's decoder) for ``n_queries`` queries; :meth:`run` builds on
        first use otherwise. Building again makes a fresh network, except with
        storage="plasticity", whose built network is kept: its synapses hold what it
        learned (store more with :meth:`store`)."""
        self._engine.build(n_queries)

    @property
    def is_built(self) -> bool:
        return self._engine.is_built

    @property
    def engine(self) -> Engine:
        """The :class:`~neuro_uhn.spiking.engine.Engine` that builds and runs this network
        (its ``built`` record holds the Brian2 objects by name once built)."""
        return self._engine

    def run(self, queries, *, progress: bool | None = None) -> SpikingRun:
        """Simulate every query (in batches of ``batch_size`` copies).

        ``progress``: a progress bar with an ETA on stderr, one step per batch; ``None``
        (default) shows it on a terminal when there is more than one batch. Thread-safe by
        taking turns (Brian2's device and seed are process-wide); use processes for
        parallel work.
        """
        Q = self._validated(queries)
        return self._network.assemble(self._engine.run(Q, progress))

    def decode(self, run: SpikingRun, start: float | None = None, stop: float | None = None):
        """``z`` per query from the spikes in [start, stop) (default: the decoding window):
        from the output neurons in circuit mode, from the memory counts otherwise."""
        cfg = self.config
        start = cfg.settle if start is None else float(start)
        stop = cfg.duration if stop is None else float(stop)
        if not 0 <= start < stop:
            raise ValidationError(f"the decoding window [{start}, {stop}) must be non-empty "
                                  "with start >= 0")  # fmt: skip
        return self._network.decode(run, start, stop + 1e-12)

    def retrieve(self, queries) -> np.ndarray:
        """``z`` for every query over [settle, duration] (one query: 1-D)."""
        single = np.ndim(queries) == 1
        run = self.run(np.atleast_2d(np.asarray(queries, dtype=float)))
        self._warn_if_silent(run)
        Z = self.decode(run)
        return Z[0] if single else Z

    def _warn_if_silent(self, run: SpikingRun) -> None:
        """A :class:`~neuro_uhn.errors.SilentNetworkWarning` when no memory neuron of any
        query fired in the decoding window: z then carries no memory (every z is 0 in the
        rate modes; the circuit's is its output neurons' baseline noise)."""
        cfg = self.config
        if cfg.mode == "continuous":
            return
        read = run.counts_in(cfg.settle, cfg.duration + 1e-12).sum(axis=1)
        if len(read) and not np.any(read > 0):
            import warnings

            from ..errors import SilentNetworkWarning

            what = ("z is the output neurons' baseline noise" if cfg.mode == "circuit"
                    else "every z is 0")  # fmt: skip
            warnings.warn(
                f"no memory neuron fired in the decoding window [settle, duration) = "
                f"[{cfg.settle:g}, {cfg.duration:g}) s: {what}. The window "
                f"({cfg.window * 1e3:g} ms) is likely shorter than the network's latency; "
                "lengthen 'duration' or lower 'settle'",
                SilentNetworkWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------------ the built network
    @property
    def network(self):
        """The built ``brian2.Network`` (call :meth:`build` or :meth:`run` first)."""
        if not self._engine.is_built:
            raise ValidationError("the network is not built yet: call build() or run() first")
        return self._engine.network

    def __getitem__(self, name: str):
        """A named Brian2 object of the built network: ``net["memories"]``, ``net["i_to_e"]``."""
        if not self._engine.is_built:
            raise ValidationError("the network is not built yet: call build() or run() first")
        return self._engine.built[name]

    # ------------------------------------------------------------------ circuit only
    def _circuit(self, what: str) -> CircuitNetwork:
        if not isinstance(self._network, CircuitNetwork):
            raise ValidationError(f"{what} is for mode='circuit'; this network has "
                                  f"mode={self.config.mode!r}")  # fmt: skip
        return self._network

    @property
    def decoder(self):
        """Circuit mode: the linear decoder (:class:`~neuro_uhn.spiking.circuit.readout.
        Decoder`), calibrated at build on the stored patterns (None before)."""
        return self._circuit("decoder").decoder

    @property
    def output_linearity(self) -> float | None:
        """Circuit mode: correlation of the output neurons' rates with the drive the decoder
        was fitted to on the calibration run (None before the build)."""
        return self._circuit("output_linearity").output_linearity

    @property
    def measured_exponent(self) -> float | None:
        """Circuit mode, polynomial: the exponent of the rates measured at build (on M)."""
        return self._circuit("measured_exponent").measured_exponent

    @property
    def cell_types(self) -> dict[str, str]:
        """Circuit mode: ``{group name: "excitatory" | "inhibitory"}`` (Dale's law)."""
        return self._circuit("cell types").cell_types

    def record(self, group: str, variables, neurons) -> None:
        """Circuit mode: record ``variables`` of ``neurons`` (indices within one copy) of
        ``group`` in every query, before the network is built; the traces come back in
        :attr:`SpikingRun.traces` as ``"group.var"``. Memory neuron ``i`` of memory ``k`` is
        index ``k * neurons_per_memory + i``."""
        net = self._circuit("record()")
        if self._engine.is_built:
            raise ValidationError("record() must come before the network is built (the first run)")
        net.record(group, variables, neurons)

    def weights(self) -> dict[str, np.ndarray]:
        """Circuit mode: the weights in the network, in its own units, one copy:

        * ``"feature_to_memory"`` (memory neurons × feature channels), signed volts per input
          spike at a feature's full rate (the build spreads each over the feature's pool and
          splits it into excitation and the pooled feed-forward inhibition's shared part);
        * ``"memory_to_output"`` (memory neurons × output columns), relative weights
          |P|/max|P| (on, then off where P is signed);
        * ``"bias"`` (memory neurons,), volts of mean drive during a cue (the cue unit's
          synapses).

        storage="plasticity" reads them from the built network's synapses and neurons (it
        builds, storing the memories waiting, first) and adds the learned variables:
        ``"instar"``, ``"eligibility"`` (memory neurons × features, the mean over a feature's
        pool), ``"feedforward"``, ``"excitability"``, ``"occupied"``, and per feature neuron
        ``"instar_neurons"`` and ``"feedforward_neurons"``.
        """
        net = self._circuit("weights()")
        if net.storage is None:
            return net.weights()
        if not self._engine.is_built or net.waiting:
            self._engine.learn()  # the memories waiting are stored at build
        return net.weights(self._engine.built)

    @property
    def population_of_memory(self) -> np.ndarray:
        """Memory i → its population (storage="plasticity": the one recruitment allocated,
        known once stored; "set": i)."""
        net = self._circuit("population_of_memory")
        if net.storage is None:
            return np.arange(self.n_memories)
        if net.waiting:
            raise ValidationError("the memories are stored at build: call build() first")
        return net.storage.population_of

    def store(self, patterns, projection=None) -> None:
        """storage="plasticity": write further memories into free populations, each by one
        presentation (the same rules as at construction), to the same network: if it is built
        they are presented now (and the decoder recalibrated), else at the build. Retrievals
        before it are allowed. A full network is a ValidationError."""
        net = self._circuit("store()")
        if net.storage is None:
            raise ValidationError(
                "store() needs SpikingConfig(mode='circuit', storage='plasticity'); this "
                f"network has storage={self.config.storage!r} (its weights are set from M)"
            )
        X = _rows(patterns, "patterns", self.M.shape[1])
        if projection is None:
            if self.model.association == "hetero":
                raise ValidationError("'projection' is required: this model is hetero-associative")
            Pn = X.copy()
        else:
            Pn = _rows(projection, "projection", self.P.shape[1], len(X))
        net.store(X, Pn)
        if self._engine.is_built:  # presented to the same network now, then recalibrated
            self._engine.learn()

    # ------------------------------------------------------------------ helpers
    def _validated(self, queries) -> np.ndarray:
        Q, _ = validate_queries(np.asarray(queries, dtype=float), self.M, namespace(self.M))
        return np.asarray(Q, dtype=float)


def _rows(values, name: str, width: int, n: int | None = None) -> np.ndarray:
    """A finite float array of shape (n, width) from ``values`` (one row may be 1-D)."""
    try:
        X = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{name!r} must be a finite numeric array of shape (n, {width}); got "
            f"{type(values).__name__} that is not one (ragged or not numbers)",
            argument=name,
        ) from None
    if X.ndim == 1:
        X = X[None]
    want = f"({'n' if n is None else n}, {width})"
    if X.ndim != 2 or X.shape[1] != width or X.shape[0] == 0 or (n is not None and len(X) != n):
        raise ValidationError(f"{name!r} must be an array of shape {want}; got shape {X.shape}",
                              argument=name)  # fmt: skip
    if not np.all(np.isfinite(X)):
        raise ValidationError(f"{name!r} must be finite (no NaN or inf)", argument=name)
    return X

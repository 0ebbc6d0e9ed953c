"""Everything about *how* the spiking network runs: one frozen config object, with units.

Times and rates are plain floats in seconds and hertz (``duration=0.3`` is 300 ms); Brian2
quantities are accepted too and converted, so ``duration=300*ms`` works. None of this is part
of the ``UHN`` spec, which says only *what* is computed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from .. import errors as _errors
from ..errors import ValidationError, ValidationTypeError

__all__ = [
    "SpikingConfig",
    "CircuitParams",
    "StorageParams",
    "UnsupportedComponent",
    "MODES",
    "TARGETS",
    "STORAGES",
]

MODES = ("continuous", "hybrid", "spiking", "circuit")
TARGETS = ("auto", "numpy", "cython", "cpp_standalone", "cuda_standalone")
STORAGES = ("set", "plasticity")


class UnsupportedComponent(_errors.UnsupportedComponent):
    """A component (or setting) that the spiking network cannot realise in a given mode
    (a :class:`neuro_uhn.errors.UnsupportedComponent`, so also a ``ValueError``)."""

    def __init__(self, component: str, mode: str, why: str):
        self.component, self.mode = component, mode
        super().__init__(f"{component} is not supported in spiking mode {mode!r}: {why}")


def _seconds(value: Any, name: str) -> float:
    return _in_unit(value, name, "second")


def _hertz(value: Any, name: str) -> float:
    return _in_unit(value, name, "hertz")


def _in_unit(value: Any, name: str, unit: str) -> float:
    if hasattr(value, "dim"):  # a Brian2 quantity: check its dimensions, take the SI number
        from brian2 import Hz, second, volt
        from brian2.units.fundamentalunits import (
            DimensionMismatchError,
            fail_for_dimension_mismatch,
        )

        try:
            fail_for_dimension_mismatch(value, {"second": second, "hertz": Hz, "volt": volt}[unit])
        except DimensionMismatchError:
            raise ValidationError(f"{name!r} must be in {unit}s; got {value!r}") from None
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationTypeError(f"{name!r} must be a finite number of {unit}s; got {value!r}")
    if not math.isfinite(value):
        raise ValidationError(f"{name!r} must be a finite number of {unit}s; got {value!r}")
    return float(value)


def _volts(value: Any, name: str) -> float:
    return _in_unit(value, name, "volt")


@dataclass(frozen=True, kw_only=True)
class CircuitParams:
    """Neuron and synapse parameters of the circuit, in SI units (Brian2 quantities accepted).

    Defaults are the cortical LIF values of Brian2's COBA/CUBA examples and Brunel (2000):
    τm 20 ms, τe 5 ms, τi 10 ms, rest −60 mV, threshold −50 mV, reset −60 mV, 2 ms refractory.

    Parameters
    ----------
    tau_m, tau_e, tau_i : float, s
        Membrane time constant of memory neurons; decay of excitatory and inhibitory synaptic
        currents (current-based synapses, in volts of membrane drive).
    tau_self : float, s
        Decay of the recurrent excitation within a memory population (slow, NMDA-like, as in
        attractor models of working memory, Wang 1999): it outlasts the refractory period
        and the inhibition's rise, so it holds the winner.
    v_rest, v_threshold, v_reset : float, V
    e_inhibitory : float, V
        Reversal potential of the lateral inhibition (GABA_A, −80 mV): the inhibitory
        current is ``gi·(v − E_i)/(v_rest − E_i)``, equal to ``gi`` at rest and zero at E_i,
        so a suppressed membrane stays above E_i.
    refractory : float, s
        Refractory period of memory neurons (and the latch rate ``1/refractory`` of the
        threshold separation).
    delay : float, s
        Synaptic delay of the E→I and I→E connections.
    tau_inhibitory : float, s
        Membrane time constant of the inhibitory neurons.
    n_inhibitory : int
        Inhibitory neurons per copy of the circuit.
    e_to_i : float
        Jump of an inhibitory neuron's membrane per memory spike, in gaps: above 1 every
        memory spike recruits the inhibition (a first-spike race); below 1 the inhibitory
        neurons integrate several memory spikes (within ``tau_inhibitory``) before they fire,
        so a population must keep firing to win, and more input spikes decide the winner.
    inhibitory_gain : float
        Inhibition one memory spike causes, summed over the inhibitory population, in units of
        the rest-to-threshold gap (scaled by ``SpikingConfig.inhibition``).
    self_excitation : float
        Recurrent excitation within a memory population, as a multiple of the inhibition a
        spike causes (integrated over the synaptic time courses): 1 cancels it for the winner.
        The default 0.25 keeps the competition going after the first spikes instead of
        latching the first population to cross threshold (digits, N = 1000, Euclidean/max:
        agreement 0.70 at 1.5, 0.80 at 0.75, 0.83 at 0.5, 0.90 at 0.25).
    input_rate : float, Hz
        Feature-neuron rate for the largest feature value (about 1000 Hz per active feature is
        needed on digits; at 200 Hz too few input spikes are integrated).
    drive : float
        Margin of a typical stored pattern's self-match over the average memory, in gaps.
    offset : float
        Resting drive of the average memory, in gaps (below 1: subthreshold).
    escape_rate : float, Hz
        ``ρ₀``, the escape rate at threshold (softmax).
    escape_width : float, V
        ``Δv`` of the escape noise (softmax): ``β_eff = G/Δv``.
    soft_span : float
        Softmax: the largest drive difference, in escape widths, between a typical stored
        pattern's self-match and the average memory; β is capped at ``soft_span / typical
        centred self-score`` (``SpikingUHN.plan.beta_predicted`` reports it).
    soft_inhibition : float
        Softmax: inhibition one memory spike causes, in units of ``Δv`` (a homeostat that
        holds the total rate; it lowers every exponent alike, so the shares stay softmax).
    noise : float, V
        Standard deviation of background membrane noise of the memory neurons (it
        decorrelates the neurons of one population).
    connection_p : float
        Probability that a feature→memory synapse exists (weights scaled by ``1/p``).
    output_neurons : int
        Output neurons per output column (on, off): each memory neuron reaches every one of
        them through its own synapse with release probability |P|/max|P|, so a column's count
        estimates the projection from ``output_neurons`` times as many releases as one
        neuron would see (the read-out's sampling noise falls as 1/sqrt of it).
    readout_gate : float
        Max, top-k (k = 1) and softmax: the output gate closes after this fraction of the
        reference neuron's typical spike count in the decoding window (calibrated on the
        stored patterns), so every query's outputs sum the same number of memory spikes and
        z does not scale with the winner's rate; 0 turns the gate off (the decoder then
        divides by the calibrated rate, and z scales with it).
    memory_model : MemoryModel, str or brian2.Equations, optional
        A memory-neuron model of your own (see :class:`neuro_uhn.spiking.MemoryModel`):
        equations that keep the documented interface (``v``, ``ge``, ``gf``, ``gs``, ``gi``,
        ``I_bias`` in volts); equations alone take the default threshold and reset.
    """

    tau_m: float = 20e-3
    tau_e: float = 5e-3
    tau_i: float = 10e-3
    tau_self: float = 50e-3
    v_rest: float = -60e-3
    v_threshold: float = -50e-3
    v_reset: float = -60e-3
    e_inhibitory: float = -80e-3
    refractory: float = 2e-3
    delay: float = 1e-3
    tau_inhibitory: float = 8e-3
    n_inhibitory: int = 10
    e_to_i: float = 1.2
    inhibitory_gain: float = 2.0
    self_excitation: float = 0.25
    input_rate: float = 1000.0
    drive: float = 1.5
    offset: float = 0.5
    escape_rate: float = 20.0
    escape_width: float = 4e-3
    soft_inhibition: float = 0.2
    soft_span: float = 8.0
    noise: float = 1e-3
    connection_p: float = 1.0
    output_neurons: int = 8
    readout_gate: float = 0.5
    memory_model: Any = None

    def __post_init__(self) -> None:
        if self.memory_model is not None:
            from ._circuit import MemoryModel

            if not isinstance(self.memory_model, MemoryModel):
                object.__setattr__(self, "memory_model", MemoryModel(self.memory_model))
        for name in (
            "tau_m", "tau_e", "tau_i", "tau_self", "refractory", "delay", "tau_inhibitory",
        ):  # fmt: skip
            object.__setattr__(self, name, _in_unit(getattr(self, name), name, "second"))
        for name in ("v_rest", "v_threshold", "v_reset", "e_inhibitory", "escape_width", "noise"):
            object.__setattr__(self, name, _volts(getattr(self, name), name))
        for name in ("input_rate", "escape_rate"):
            object.__setattr__(self, name, _in_unit(getattr(self, name), name, "hertz"))
        for name in (
            "inhibitory_gain", "self_excitation", "drive", "offset", "connection_p",
            "soft_inhibition", "e_to_i", "soft_span", "readout_gate",
        ):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationTypeError(f"{name!r} must be a number; got {value!r}")
            if not math.isfinite(value):
                raise ValidationError(f"{name!r} must be finite; got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in (
            "tau_m", "tau_e", "tau_i", "tau_self", "tau_inhibitory", "input_rate",
            "escape_rate",
        ):  # fmt: skip
            if not getattr(self, name) > 0:
                raise ValidationError(f"{name!r} must be > 0; got {getattr(self, name)!r}")
        for name in ("escape_width", "drive", "soft_span"):
            if not getattr(self, name) > 0:
                raise ValidationError(f"{name!r} must be > 0; got {getattr(self, name)!r}")
        for name in (
            "refractory", "delay", "noise", "inhibitory_gain", "self_excitation",
            "soft_inhibition", "e_to_i", "readout_gate",
        ):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValidationError(f"{name!r} must be >= 0; got {getattr(self, name)!r}")
        if not self.v_threshold > self.v_rest:
            raise ValidationError(
                f"'v_threshold' ({self.v_threshold}) must be above 'v_rest' ({self.v_rest})"
            )
        if not self.e_inhibitory < self.v_rest:
            raise ValidationError(
                f"'e_inhibitory' ({self.e_inhibitory}) must be below 'v_rest' ({self.v_rest})"
            )
        if not self.v_reset < self.v_threshold:
            raise ValidationError(
                f"'v_reset' ({self.v_reset}) must be below 'v_threshold' ({self.v_threshold})"
            )
        if not self.readout_gate <= 1:
            raise ValidationError(f"'readout_gate' must be in [0, 1]; got {self.readout_gate!r}")
        if not 0 < self.connection_p <= 1:
            raise ValidationError(f"'connection_p' must be in (0, 1]; got {self.connection_p!r}")
        for name in ("n_inhibitory", "output_neurons"):
            n = getattr(self, name)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValidationError(f"{name!r} must be an integer >= 1; got {n!r}")

    @property
    def gap(self) -> float:
        """Rest-to-threshold gap, V (the unit of drive, offset and inhibition)."""
        return self.v_threshold - self.v_rest

    def replace(self, **changes: Any) -> CircuitParams:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class StorageParams:
    """How ``storage="plasticity"`` writes memories into the circuit (docs/circuit.md, Storage).

    Each memory is presented once for ``presentation`` seconds: the feature neurons fire at
    the pattern's rates, a recruitment input drives the next free memory population, and
    after ``allocation`` seconds a neuromodulatory gate opens the local rules for the rest of
    the presentation; the output neurons are driven to the projection row by a teacher.
    Presentations are ``gap`` seconds apart; at the end of each, a neuron that fired at
    least ``occupancy_spikes`` times is marked occupied.

    Parameters
    ----------
    capacity : int or None
        Memory populations in the network (``None``: as many as the memories given at
        construction). ``SpikingUHN.store`` fills the free ones; a full network is an error.
    presentation, allocation, gap : float, s
        One presentation (at most 0.1 s), its recruitment phase, and the pause after it.
    tau_trace : float, s
        Decay of the pre- and postsynaptic traces the rules read (10 ms: about half of the
        ±20 ms STDP window of Bi & Poo 1998).
    recruit_rate : float, Hz
        Rate of each of the 50 recruitment (novelty) neurons; their synapses onto a memory
        population are gated by its occupancy and its predecessor's (docs/circuit.md).
    recruit_drive : float
        Mean recruitment drive of the recruited population, in rest-to-threshold gaps (5:
        about 150 Hz per neuron, some 10 gated spikes per neuron for the rules to average).
    teach_rate : float, Hz
        Rate of an output neuron driven by its teaching input at ``|P| = max|P|``.
    occupancy_spikes : float
        Spikes of a neuron in one presentation that mark it occupied (2: a recruited neuron
        fires about 15 times in 100 ms, one that is not driven never fires; at 5, a 40 ms
        presentation left some neurons of a recruited population free).
    """

    capacity: int | None = None
    presentation: float = 0.1
    allocation: float = 0.03
    gap: float = 0.03
    tau_trace: float = 0.01
    recruit_rate: float = 200.0
    recruit_drive: float = 5.0
    teach_rate: float = 1000.0
    occupancy_spikes: float = 2.0

    def __post_init__(self) -> None:
        for name in ("presentation", "allocation", "gap", "tau_trace"):
            object.__setattr__(self, name, _in_unit(getattr(self, name), name, "second"))
        for name in ("recruit_rate", "teach_rate"):
            object.__setattr__(self, name, _in_unit(getattr(self, name), name, "hertz"))
        for name in ("recruit_drive", "occupancy_spikes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationTypeError(f"{name!r} must be a number; got {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValidationError(f"{name!r} must be a finite number >= 0; got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in ("presentation", "tau_trace", "recruit_rate", "teach_rate", "recruit_drive"):
            if not getattr(self, name) > 0:
                raise ValidationError(f"{name!r} must be > 0; got {getattr(self, name)!r}")
        if not 0 < self.allocation < self.presentation:
            raise ValidationError(
                f"'allocation' must be in (0, presentation={self.presentation:g}); "
                f"got {self.allocation!r}"
            )
        if self.gap < 0:
            raise ValidationError(f"'gap' must be >= 0; got {self.gap!r}")
        cap = self.capacity
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValidationError(f"'capacity' must be an integer >= 1 or None; got {cap!r}")

    def replace(self, **changes: Any) -> StorageParams:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class SpikingConfig:
    """How the spiking UHN runs.

    Parameters
    ----------
    mode : {"continuous", "hybrid", "spiking", "circuit"}
        ``continuous``: no spikes, every coupling a summed rate variable — equals the abstract
        model to numerical precision (it proves the wiring). ``hybrid`` and ``spiking``
        *sample an algebraic rate model*: memory neurons fire Poisson spikes at a transfer
        function of their score, normalised by an instantaneous divisive unit (hybrid: exact
        similarity currents; spiking: Poisson feature neurons too). ``circuit`` is the neural
        circuit: leaky integrate-and-fire memory, inhibitory and output neurons, the
        separation made by lateral inhibition, z read from output neurons, and the feature
        neurons' rates the only per-query input (see ``circuit`` and docs/circuit.md).
    duration : float, s
        Simulated time per query (continuous mode needs only a few steps and ignores it).
    settle : float, s
        Spikes before this time are not decoded (the synaptic trace and the competition settle).
    dt : float, s, optional
        Integration step; default 0.1 ms in circuit mode (1 kHz inputs: two spikes of one
        feature neuron in one step would merge in its relay), 0.25 ms otherwise.
    input_rate : float, Hz
        Feature-neuron rate for a feature value of ``input_scale`` (spiking mode).
    memory_rate : float, Hz
        Rate scale of a memory neuron (total rate of the population for normalised separations).
    max_rate : float, Hz
        Ceiling on every memory neuron's rate (``rate * dt`` stays <= ``max_rate * dt``).
    tau_syn : float, s
        Time constant of the feature→memory synaptic trace (spiking mode).
    neurons_per_memory : int
        Poisson neurons per memory; their counts are pooled (noise falls as 1/sqrt(n)).
    wta_gain : float
        For ``max`` and ``topk``: rates grow as ``exp(wta_gain · s / spread)``, where ``spread``
        is the standard deviation of the stored patterns' scores against each other.
    levels : int
        Thermometer levels per feature for ``manhattan`` in spiking mode.
    refractory : float, s
        Refractory period of memory neurons (0: none; > 0 compresses rates as r/(1 + r·t_ref)).
    dale : bool
        Route negative feature→memory weights through inhibitory interneurons (spiking mode).
    batch_size : int
        Queries simulated side by side as independent copies of the network in one run.
    target : {"auto", "numpy", "cython", "cpp_standalone", "cuda_standalone"}
        Brian2 code-generation target. ``"auto"`` picks ``cpp_standalone`` when the work is
        large enough to repay its one-off compilation (about 12 s) and a C++ compiler is
        present, ``numpy`` otherwise (see ``SpikingUHN.chosen_target``).
    seed : int or None
        Seed of Brian2's and NumPy's random numbers.
    threads : int
        OpenMP threads of a ``cpp_standalone`` simulation (1: none). Measured on 2 cores in
        docs/circuit.md; the copies of a batch run in one process either way.
    inhibition : float
        Circuit mode: scales every inhibitory weight of the lateral-inhibition loop (I→E);
        ``0`` removes the competition (the knockout).
    circuit : CircuitParams
        Circuit mode: neuron and synapse parameters (SI units).
    storage : {"set", "plasticity"}
        Circuit mode: ``"set"`` copies M and P into the synapses at build time;
        ``"plasticity"`` starts from zero weights and writes each memory by presenting it once
        to a circuit with local learning rules (see ``plasticity`` and docs/circuit.md).
    plasticity : StorageParams
        Circuit mode with ``storage="plasticity"``: presentation, recruitment and rule
        parameters.
    """

    mode: Literal["continuous", "hybrid", "spiking", "circuit"] = "hybrid"
    duration: float = 0.5
    settle: float = 0.03
    dt: float | None = None
    input_rate: float = 200.0
    memory_rate: float = 200.0
    max_rate: float = 1000.0
    tau_syn: float = 0.01
    neurons_per_memory: int = 4
    wta_gain: float = 5.0
    levels: int = 16
    refractory: float = 0.0
    dale: bool = False
    batch_size: int = 50
    target: Literal["auto", "numpy", "cython", "cpp_standalone", "cuda_standalone"] = "auto"
    seed: int | None = 0
    threads: int = 1
    inhibition: float = 1.0
    circuit: CircuitParams = dataclasses.field(default_factory=CircuitParams)
    storage: Literal["set", "plasticity"] = "set"
    plasticity: StorageParams = dataclasses.field(default_factory=StorageParams)

    def __post_init__(self) -> None:
        if self.dt is None:
            object.__setattr__(self, "dt", 1e-4 if self.mode == "circuit" else 2.5e-4)
        for name in ("duration", "settle", "dt", "tau_syn", "refractory"):
            object.__setattr__(self, name, _seconds(getattr(self, name), name))
        for name in ("input_rate", "memory_rate", "max_rate"):
            object.__setattr__(self, name, _hertz(getattr(self, name), name))
        if self.mode not in MODES:
            raise ValidationError(f"'mode' must be one of {list(MODES)}; got {self.mode!r}")
        if self.target not in TARGETS:
            raise ValidationError(f"'target' must be one of {list(TARGETS)}; got {self.target!r}")
        for name in ("duration", "dt", "tau_syn", "input_rate", "memory_rate", "max_rate"):
            if not getattr(self, name) > 0:
                raise ValidationError(f"{name!r} must be > 0; got {getattr(self, name)!r}")
        if not 0 <= self.settle < self.duration:
            raise ValidationError(
                f"'settle' must be in [0, duration={self.duration}); got {self.settle!r}"
            )
        if self.refractory < 0:
            raise ValidationError(f"'refractory' must be >= 0; got {self.refractory!r}")
        if self.window < self.dt:
            raise ValidationError(
                f"the decoding window 'duration' - 'settle' = {self.window:g} s must be at "
                f"least one step 'dt' = {self.dt:g} s"
            )
        if self.max_rate * self.dt > 0.5:
            raise ValidationError(
                f"'max_rate' * 'dt' = {self.max_rate * self.dt:g} must be <= 0.5 (a neuron can "
                "fire at most once a step); lower max_rate or dt"
            )
        for name in ("neurons_per_memory", "levels", "batch_size", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"{name!r} must be an integer >= 1; got {value!r}")
        if not (isinstance(self.wta_gain, int | float) and self.wta_gain > 0):
            raise ValidationError(f"'wta_gain' must be > 0; got {self.wta_gain!r}")
        if not isinstance(self.dale, bool):
            raise ValidationTypeError(f"'dale' must be true or false; got {self.dale!r}")
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise ValidationTypeError(f"'seed' must be an integer or None; got {self.seed!r}")
        if self.seed is not None and not 0 <= self.seed <= 2**32 - 1 - 10**6:
            # Brian2 and NumPy take seeds in [0, 2³²); batches add their index to the seed
            raise ValidationError(
                f"'seed' must be in 0..{2**32 - 1 - 10**6} (batches add their index); "
                f"got {self.seed!r}"
            )
        if isinstance(self.inhibition, bool) or not isinstance(self.inhibition, int | float):
            raise ValidationTypeError(
                f"'inhibition' must be a number >= 0; got {self.inhibition!r}"
            )
        if not (math.isfinite(self.inhibition) and self.inhibition >= 0):
            raise ValidationError(
                f"'inhibition' must be a finite number >= 0; got {self.inhibition!r}"
            )
        object.__setattr__(self, "inhibition", float(self.inhibition))
        if not isinstance(self.circuit, CircuitParams):
            raise ValidationTypeError(
                f"'circuit' must be a CircuitParams; got {type(self.circuit).__name__}"
            )
        if self.storage not in STORAGES:
            raise ValidationError(
                f"'storage' must be one of {list(STORAGES)}; got {self.storage!r}"
            )
        if self.storage == "plasticity" and self.mode != "circuit":
            raise ValidationError(
                f"storage='plasticity' needs mode='circuit' (the rate modes copy M); "
                f"got mode={self.mode!r}"
            )
        if not isinstance(self.plasticity, StorageParams):
            raise ValidationTypeError(
                f"'plasticity' must be a StorageParams; got {type(self.plasticity).__name__}"
            )

    @property
    def window(self) -> float:
        """Length of the decoding window [settle, duration]."""
        return self.duration - self.settle

    def replace(self, **changes: Any) -> SpikingConfig:
        return dataclasses.replace(self, **changes)

"""How a spiking network runs: :class:`SpikingConfig`, and the circuit's own parameters.

Times and rates are plain floats in seconds and hertz (``duration=0.3`` is 300 ms); Brian2
quantities are accepted too and converted, so ``duration=300*ms`` works. None of this is part
of the ``UHN`` spec, which says only *what* is computed.

Each field's constraint is declared once, next to it (:mod:`.params`). ``SpikingConfig``
also declares which network kinds read each field: a setting the chosen ``mode`` does not
read is refused with the mode that reads it, and a field left out takes the default of the
chosen kind (``dt``, ``input_rate`` and ``refractory`` differ between the rate model and the
circuit, for the reasons given with them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ValidationError
from .params import check_fields, declared, param

__all__ = [
    "SpikingConfig",
    "CircuitParams",
    "StorageParams",
    "MODES",
    "RATE_MODES",
    "TARGETS",
    "STORAGES",
]

MODES = ("continuous", "hybrid", "spiking", "circuit")
#: The rate model's modes (:mod:`.rate`); ``"circuit"`` is the neural circuit (:mod:`.circuit`).
RATE_MODES = ("continuous", "hybrid", "spiking")
TARGETS = ("auto", "numpy", "cython", "cpp_standalone", "cuda_standalone")
STORAGES = ("set", "plasticity")

_SPIKES = ("hybrid", "spiking", "circuit")  # modes whose memory neurons spike


def _seconds(**kw):
    return param(kind="real", unit="second", **kw)


def _hertz(**kw):
    return param(kind="real", unit="hertz", **kw)


def _volts(**kw):
    return param(kind="real", unit="volt", **kw)


@dataclass(frozen=True, kw_only=True)
class CircuitParams:
    """Neuron and synapse parameters of the circuit (``mode="circuit"``), in SI units
    (Brian2 quantities accepted).

    Defaults are the cortical LIF values of Brian2's COBA/CUBA examples and Brunel (2000):
    τm 20 ms, τe 5 ms, τi 10 ms, rest −60 mV, threshold −50 mV, reset −60 mV. The feature
    neurons' rate and the memory neurons' refractory period are ``SpikingConfig.input_rate``
    and ``SpikingConfig.refractory`` (one name per quantity for every network kind).

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
    delay : float, s
        Synaptic delay of the E→I and I→E connections.
    tau_inhibitory : float, s
        Membrane time constant of the inhibitory neurons.
    n_inhibitory : int
        Inhibitory neurons per copy of the circuit (each memory spike reaches all of them).
    e_to_i : float
        Unitary EPSP of a memory spike on an inhibitory neuron, in gaps (0.3: 3 mV): an
        inhibitory neuron needs about four coincident memory spikes (a population's volley)
        within ``tau_inhibitory`` to fire, so no single spike recruits the inhibition.
    inhibitory_bias : float
        Tonic drive of the inhibitory neurons, in gaps (below 1; default 0): near threshold
        they respond to fewer memory spikes, but fire spontaneously and inhibit every memory
        between cues too.
    inhibitory_noise : float, V
        Membrane noise of the inhibitory neurons: they integrate the same memory spikes, and
        the noise keeps them from firing in lockstep (an asynchronous population).
    inhibitory_gain : float
        Inhibition one memory spike causes on average, summed over the inhibitory
        population, in units of the rest-to-threshold gap, for populations of 4 neurons
        (scaled by ``SpikingConfig.inhibition`` and by 4 / ``neurons_per_memory``).
    self_excitation : float
        Recurrent excitation within a memory population, as a multiple of the inhibition a
        spike causes (integrated over the synaptic time courses): it favours the population
        that fires most (a decisive competition), and below 1 the winner's own inhibition
        outweighs it, so no population holds itself without input and the network returns to
        rest when a cue ends.
    drive : float
        Margin of a typical stored pattern's self-match over the average memory, in gaps.
    offset : float
        Drive of the average memory during a cue, in gaps (below 1: subthreshold). It is
        carried by the cue unit's synapses, so between cues every memory is at rest.
    escape_rate : float, Hz
        ``ρ₀``, the escape rate at threshold (softmax).
    escape_width : float, V
        ``Δv`` of the escape noise (softmax): ``β_eff = G/Δv``.
    soft_span : float
        Softmax: the largest drive difference, in escape widths, between a typical stored
        pattern's self-match and the average memory; a β above ``soft_span / typical
        centred self-score`` is refused (``plan.beta_predicted`` reports the β realised).
    soft_inhibition : float
        Softmax: inhibition one memory spike causes, in units of ``Δv`` (a homeostat that
        holds the total rate; it lowers every exponent alike, so the shares stay softmax).
    noise : float, V
        Standard deviation of background membrane noise of the memory neurons (it
        decorrelates the neurons of one population).
    connection_p : float
        Probability that a feature→memory synapse exists (weights scaled by ``1/p``).
    feature_pool : int or None
        Poisson feature neurons per input feature, each at most ``SpikingConfig.input_rate``
        (a pool keeps single neurons at physiological rates while the feature delivers
        ``feature_pool × input_rate`` spikes per second). ``None``: 5, or 1 for the
        thermometer units of ``manhattan`` (its ``levels`` units already pool one pixel).
    pool_inhibitory : int
        Neurons of the pooled feed-forward inhibitory population. The feature→memory
        weights are split per feature into a non-negative excitatory part and the part all
        memories share, which the features deliver to this population; it inhibits every
        memory alike (Dale's law, without one relay per feature).
    tau_pool : float, s, optional
        Decay of the pooled feed-forward inhibitory neurons' input (default ``tau_e``). Their
        spikes reach the memories through a current that decays with ``tau_e``, like the
        excitation the shared part is taken from, so the inhibition passes one filter more:
        at each cue's onset it lags the excitation by about this much. Negligible at the
        default ``tau_e`` of 5 ms; with a slow excitation (an integrating competition,
        ``tau_e`` 50 ms) set it short (1 ms), or the onset's excess excitation drives most
        memories over threshold (docs/circuit.md, "An integrating competition").
    pool_rate : float, Hz
        Rate of one pooled feed-forward inhibitory neuron on a typical stored pattern (its
        spikes are linear in its input, so the shared part is exact in the mean; a high rate
        keeps its shot noise small, which the threshold separation needs: at 100 Hz memories
        10 bits beyond SDM's radius fired).
    pause : float, s
        Time without input between two cues shown in sequence to one network: the synaptic
        currents, the self-excitation and the inhibition decay, so the next cue starts from rest.
    output_neurons : int
        Output neurons per output column (on, off): a column's count estimates the projection
        from ``output_neurons`` noisy neurons.
    output_tau : float, s
        Decay of the memory→output and normalisation conductances (slow, NMDA-like): the
        output dendrites average the memory spikes over tens of ms.
    output_drive : float
        Depolarisation of an output neuron's dendrite, in gaps, by the winner's row at
        ``|P| = max|P|`` (at the nominal rate for the graded codes and threshold).
    output_noise : float, V
        Membrane noise of the output neurons: with it their rate is a smooth, nearly linear
        function of the drive, which the linear decoder reads.
    output_dt : float, s
        Integration step of the output neurons, on their own clock (at least ``dt``; a
        smaller value runs at ``dt``). They are read by their counts over the cue's window,
        their membrane integrates over ``tau_m`` = 20 ms and their dendrite over
        ``output_tau``, so 1 ms (Nengo's step) resolves them; at the network's 0.25 ms their
        Gaussian membrane noise, one random number per neuron per step, took 40–52 % of the
        circuit's simulation loop on MNIST (docs/circuit.md, "Where the time goes"). Only the
        normalised read-outs (max, top-1, softmax) use it: the linear ones (graded codes,
        threshold) drive their outputs near the refractory limit, where a 1 ms grid
        quantises the inter-spike intervals, so they step at ``dt``.
    output_bias : float
        Tonic drive of the output neurons, in gaps (at 1, threshold: their rate rises from
        the first synaptic input; the decoder removes the baseline).
    normalisation : float
        Max, top-1 and softmax: the normalisation pool's shunting conductance on the output
        dendrites at the nominal memory rate, as a multiple of their leak. The larger, the
        less z follows the memories' total rate (the leak's share, about 1/(1 +
        normalisation), is not divided out).
    normalisation_neurons : int
        Neurons of the normalisation pool (inhibitory; every memory spike reaches them, and
        each of their spikes reaches every output neuron).
    memory_model : MemoryModel, str or brian2.Equations, optional
        A memory-neuron model of your own (see :class:`neuro_uhn.spiking.MemoryModel`).
    """

    tau_m: float = _seconds(low=0, low_open=True, default=20e-3)
    tau_e: float = _seconds(low=0, low_open=True, default=5e-3)
    tau_i: float = _seconds(low=0, low_open=True, default=10e-3)
    tau_self: float = _seconds(low=0, low_open=True, default=50e-3)
    v_rest: float = _volts(default=-60e-3)
    v_threshold: float = _volts(default=-50e-3)
    v_reset: float = _volts(default=-60e-3)
    e_inhibitory: float = _volts(default=-80e-3)
    delay: float = _seconds(low=0, default=1e-3)
    tau_inhibitory: float = _seconds(low=0, low_open=True, default=8e-3)
    n_inhibitory: int = param(kind="int", low=1, high=10_000, default=20)
    e_to_i: float = param(low=0, default=0.3)
    inhibitory_bias: float = param(low=0, high=1, high_open=True, default=0.0)
    inhibitory_noise: float = _volts(low=0, default=3e-3)
    inhibitory_gain: float = param(low=0, default=1.0)
    self_excitation: float = param(low=0, default=0.65)
    drive: float = param(low=0, low_open=True, default=1.5)
    offset: float = param(default=0.5)
    escape_rate: float = _hertz(low=0, low_open=True, default=20.0)
    escape_width: float = _volts(low=0, low_open=True, default=4e-3)
    soft_inhibition: float = param(low=0, default=0.2)
    soft_span: float = param(low=0, low_open=True, default=8.0)
    noise: float = _volts(low=0, default=1e-3)
    connection_p: float = param(low=0, low_open=True, high=1, default=1.0)
    feature_pool: int | None = param(kind="int", low=1, high=1000, optional=True, default=None)
    pool_inhibitory: int = param(kind="int", low=1, high=10_000, default=40)
    tau_pool: float | None = _seconds(low=0, low_open=True, optional=True, default=None)
    pool_rate: float = _hertz(low=0, low_open=True, default=500.0)
    pause: float = _seconds(low=0, default=0.1)
    output_neurons: int = param(kind="int", low=1, high=10_000, default=8)
    output_tau: float = _seconds(low=0, low_open=True, default=25e-3)
    output_drive: float = param(low=0, low_open=True, default=2.0)
    output_noise: float = _volts(low=0, default=3e-3)
    output_dt: float = _seconds(low=0, low_open=True, default=1e-3)
    output_bias: float = param(default=0.9)
    normalisation: float = param(low=0, low_open=True, default=20.0)
    normalisation_neurons: int = param(kind="int", low=1, high=10_000, default=50)
    memory_model: Any = None

    def __post_init__(self) -> None:
        if self.memory_model is not None:
            from .circuit.neurons import MemoryModel

            if not isinstance(self.memory_model, MemoryModel):
                object.__setattr__(self, "memory_model", MemoryModel(self.memory_model))
        check_fields(self)
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
    Presentations are ``pause`` seconds apart; at the end of each, a neuron that fired at
    least ``occupancy_spikes`` times is marked occupied.

    Parameters
    ----------
    capacity : int or None
        Memory populations in the network (``None``: as many as the memories given at
        construction). ``SpikingUHN.store`` fills the free ones; a full network is an error.
    presentation, allocation, pause : float, s
        One presentation (at most 0.1 s), its recruitment phase, and the pause after it.
    tau_trace : float, s
        Decay of the pre- and postsynaptic traces the rules read (10 ms: about half of the
        ±20 ms STDP window of Bi & Poo 1998).
    recruit_rate : float, Hz
        Rate of each of the 50 recruitment (novelty) neurons.
    recruit_drive : float
        Mean recruitment drive of the recruited population, in rest-to-threshold gaps.
    teach_rate : float, Hz
        Rate of an output neuron driven by its teaching input at ``|P| = max|P|``.
    input_rate : float, Hz
        Rate of a feature neuron at the feature's largest value during a presentation
        (storage is one shot, so it needs more input spikes than a retrieval: at 200 Hz the
        learned feature weights correlated 0.91 with the set ones, at 1 kHz 0.95 or more).
    occupancy_spikes : float
        Spikes of a neuron in one presentation that mark it occupied.
    """

    capacity: int | None = param(kind="int", low=1, optional=True, default=None)
    presentation: float = _seconds(low=0, low_open=True, default=0.1)
    allocation: float = _seconds(low=0, low_open=True, default=0.03)
    pause: float = _seconds(low=0, default=0.03)
    tau_trace: float = _seconds(low=0, low_open=True, default=0.01)
    recruit_rate: float = _hertz(low=0, low_open=True, default=200.0)
    recruit_drive: float = param(low=0, low_open=True, default=5.0)
    teach_rate: float = _hertz(low=0, low_open=True, default=1000.0)
    input_rate: float = _hertz(low=0, low_open=True, default=1000.0)
    occupancy_spikes: float = param(low=0, default=2.0)

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.allocation < self.presentation:
            raise ValidationError(
                f"'allocation' must be in (0, presentation={self.presentation:g}); "
                f"got {self.allocation!r}"
            )

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
        neurons' rates the only per-query input (docs/circuit.md).
    duration : float, s
        Simulated time per query.
    settle : float, s
        Spikes before this time are not decoded (the synaptic trace and the competition settle).
    dt : float, s
        Integration step, default 0.25 ms (in circuit mode the fastest time constant is the
        2 ms refractory period and 5 ms synapses; halving dt to 0.125 ms changes the
        validation's agreement within its seed noise: docs/circuit.md).
    input_rate : float, Hz
        Spiking and circuit modes: feature-neuron rate for the largest feature value, 200 Hz
        (a physiological ceiling; the circuit pools ``CircuitParams.feature_pool`` neurons per
        feature for more input spikes).
    memory_rate : float, Hz
        Rate modes: rate scale of a memory neuron (total rate of the population for
        normalised separations).
    max_rate : float, Hz
        Hybrid and spiking modes: ceiling on every memory neuron's rate.
    tau_syn : float, s
        Spiking mode: time constant of the feature→memory synaptic trace.
    neurons_per_memory : int
        Neurons per memory; their counts are pooled (noise falls as 1/sqrt(n)). Circuit:
        the competition's inhibition and self-excitation per spike scale as 4/n, so a
        population's drive depends on its rate per neuron, not on n. Fewer than 4 blended
        on digits (a volley of 4 memory spikes is what recruits the inhibitory neurons,
        ``e_to_i``); 8 read z from 46–65 memory spikes per cue (median; MNIST, digits, the
        bench task) against 27–34 at 4, retrieving at least as well, at 1.8–2.3× the wall
        time (docs/circuit.md, "Neurons per memory").
    wta_gain : float
        Rate modes, ``max`` and ``topk``: rates grow as ``exp(wta_gain · s / spread)``, where
        ``spread`` is the standard deviation of the stored patterns' scores against each other.
    levels : int
        Spiking and circuit modes: thermometer levels per feature for ``manhattan``.
    refractory : float, s
        Refractory period of memory neurons. Default 0 in the rate modes (> 0 compresses
        rates as r/(1 + r·t_ref)), 2 ms in circuit mode (a cortical neuron's; it is also the
        latch rate ``1/refractory`` of the threshold separation).
    dale : bool
        Spiking mode: route negative feature→memory weights through inhibitory interneurons
        (the circuit always does).
    batch_size : int
        Queries per simulation. The rate modes simulate them side by side as independent
        copies of the network (default 50); the circuit shows them in sequence to one network,
        with ``CircuitParams.pause`` between them (its state is restored only between
        batches), 16 by default: the decoder's calibration runs one batch of stored patterns.
    target : {"auto", "numpy", "cython", "cpp_standalone", "cuda_standalone"}
        Brian2 code-generation target. ``"auto"`` picks ``cpp_standalone`` when the work is
        large enough to repay its one-off compilation (about 12 s) and a C++ compiler is
        present, ``numpy`` otherwise (see ``SpikingUHN.chosen_target``).
    seed : int or None
        Seed of Brian2's and NumPy's random numbers (sub-seeds of batches, calibration and
        storage are derived with ``numpy.random.SeedSequence``).
    threads : int
        OpenMP threads of a ``cpp_standalone`` simulation (1: none).
    inhibition : float
        Circuit mode: scales every inhibitory weight of the lateral-inhibition loop (I→E);
        ``0`` removes the competition (the knockout).
    circuit : CircuitParams
        Circuit mode: neuron and synapse parameters (SI units).
    storage : {"set", "plasticity"}
        Circuit mode: ``"set"`` copies M and P into the synapses at build time;
        ``"plasticity"`` starts from zero weights and writes each memory by presenting it once
        to a circuit with local learning rules (docs/circuit.md).
    plasticity : StorageParams
        Circuit mode with ``storage="plasticity"``: presentation, recruitment and rule
        parameters.
    """

    mode: Literal["continuous", "hybrid", "spiking", "circuit"] = param(
        kind="choice", choices=MODES, default="hybrid"
    )
    duration: float = _seconds(low=0, low_open=True, default=0.5)
    settle: float = _seconds(low=0, default=0.03)
    dt: float | None = _seconds(
        low=0, low_open=True, default=None,
        defaults={"continuous": 2.5e-4, "hybrid": 2.5e-4, "spiking": 2.5e-4, "circuit": 2.5e-4},
    )  # fmt: skip
    input_rate: float | None = _hertz(
        low=0, low_open=True, default=None, modes=("spiking", "circuit"),
        defaults={"spiking": 200.0, "circuit": 200.0},
    )  # fmt: skip
    memory_rate: float | None = _hertz(low=0, low_open=True, default=None, modes=RATE_MODES,
                                       defaults=dict.fromkeys(RATE_MODES, 200.0))  # fmt: skip
    max_rate: float | None = _hertz(low=0, low_open=True, default=None, modes=("hybrid", "spiking"),
                                    defaults={"hybrid": 1000.0, "spiking": 1000.0})  # fmt: skip
    tau_syn: float | None = _seconds(low=0, low_open=True, default=None, modes=("spiking",),
                                     defaults={"spiking": 0.01})  # fmt: skip
    neurons_per_memory: int = param(kind="int", low=1, high=10_000, default=4)
    wta_gain: float | None = param(low=0, low_open=True, default=None, modes=RATE_MODES,
                                   defaults=dict.fromkeys(RATE_MODES, 5.0))  # fmt: skip
    levels: int | None = param(kind="int", low=1, high=4096, default=None,
                               modes=("spiking", "circuit"),
                               defaults={"spiking": 16, "circuit": 16})  # fmt: skip
    refractory: float | None = _seconds(
        low=0, default=None, modes=_SPIKES,
        defaults={"hybrid": 0.0, "spiking": 0.0, "circuit": 2e-3},
    )  # fmt: skip
    dale: bool | None = param(kind="bool", default=None, modes=("spiking",),
                              defaults={"spiking": False})  # fmt: skip
    batch_size: int | None = param(
        kind="int", low=1, default=None,
        defaults={"continuous": 50, "hybrid": 50, "spiking": 50, "circuit": 16},
    )  # fmt: skip
    target: Literal["auto", "numpy", "cython", "cpp_standalone", "cuda_standalone"] = param(
        kind="choice", choices=TARGETS, default="auto"
    )
    seed: int | None = param(kind="int", low=0, high=2**32 - 1, optional=True, default=0)
    threads: int = param(kind="int", low=1, high=1024, default=1)
    inhibition: float | None = param(low=0, default=None, modes=("circuit",),
                                     defaults={"circuit": 1.0})  # fmt: skip
    circuit: CircuitParams | None = param(kind="object", cls=CircuitParams, default=None,
                                          modes=("circuit",))  # fmt: skip
    storage: Literal["set", "plasticity"] | None = param(
        kind="choice", choices=STORAGES, default=None, modes=("circuit",),
        defaults={"circuit": "set"},
    )  # fmt: skip
    plasticity: StorageParams | None = param(kind="object", cls=StorageParams, default=None,
                                             modes=("circuit",))  # fmt: skip

    def __post_init__(self) -> None:
        mode = declared(self)["mode"].check("mode", self.mode)
        fields = {f.name: f for f in dataclasses.fields(self)}
        given = []
        for name, p in declared(self).items():
            value = getattr(self, name)
            if fields[name].default is not None:
                given.append(name)  # always carried by replace() (seed=None included)
            elif value is not None:
                given.append(name)
                if p.modes is not None and mode not in p.modes:
                    readers = ", ".join(repr(m) for m in p.modes)
                    raise ValidationError(
                        f"{name!r} is not read in mode={mode!r}; it is a setting of "
                        f"{'modes' if len(p.modes) > 1 else 'mode'} {readers}"
                        f"{_WHERE.get((name, mode), '')} (leave it out)",
                        argument=name,
                    )
        object.__setattr__(self, "_given", frozenset(given))
        # the settings this mode reads take their kind's default where not given
        for name, p in declared(self).items():
            if getattr(self, name) is None and p.defaults is not None and mode in p.defaults:
                object.__setattr__(self, name, p.defaults[mode])
        if mode == "circuit":
            if self.circuit is None:
                object.__setattr__(self, "circuit", CircuitParams())
            if self.plasticity is not None and self.storage != "plasticity":
                raise ValidationError(
                    "'plasticity' is read with storage='plasticity' only; got storage="
                    f"{self.storage!r} (leave 'plasticity' out)",
                    argument="plasticity",
                )
            if self.storage == "plasticity" and self.plasticity is None:
                object.__setattr__(self, "plasticity", StorageParams())
        check_fields(self, skip=tuple(n for n in declared(self) if getattr(self, n) is None))
        if not self.settle < self.duration:
            raise ValidationError(
                f"'settle' must be in [0, duration={self.duration}); got {self.settle!r}"
            )
        if self.window < self.dt:
            raise ValidationError(
                f"the decoding window 'duration' - 'settle' = {self.window:g} s must be at "
                f"least one step 'dt' = {self.dt:g} s"
            )
        for name in ("max_rate", "input_rate"):
            rate = getattr(self, name)
            if rate is not None and rate * self.dt > 0.5:
                raise ValidationError(
                    f"{name!r} * 'dt' = {rate:g} Hz * {self.dt:g} s = {rate * self.dt:g} must "
                    "be <= 0.5: a Poisson neuron fires at most once a step, so a higher rate "
                    f"is not realised (every feature would fire every step); lower {name!r} "
                    "or 'dt'",
                    argument=name,
                )

    @property
    def window(self) -> float:
        """Length of the decoding window [settle, duration]."""
        return self.duration - self.settle

    @property
    def kind(self) -> str:
        """The network kind this config builds: ``"rate"`` or ``"circuit"``."""
        return "circuit" if self.mode == "circuit" else "rate"

    def replace(self, **changes: Any) -> SpikingConfig:
        """A copy with ``changes``. Settings left out take the (new) mode's defaults; when
        ``changes`` switch the mode or the storage, the settings given before that the new
        configuration does not read are dropped (a setting in ``changes`` is never)."""
        given = {name: getattr(self, name) for name in self._given}
        mode = changes.get("mode", self.mode)
        storage = changes.get("storage", given.get("storage"))
        if "mode" in changes or "storage" in changes:
            params = declared(self)
            given = {
                k: v for k, v in given.items() if params[k].modes is None or mode in params[k].modes
            }
            if storage != "plasticity":
                given.pop("plasticity", None)
        return SpikingConfig(**{**given, **changes})

    def __repr__(self) -> str:
        shown = [
            f"{name}={getattr(self, name)!r}"
            for name, p in declared(self).items()
            if p.modes is None or self.mode in p.modes
            if not (name == "plasticity" and self.plasticity is None)
        ]
        return f"SpikingConfig({', '.join(shown)})"


#: Where a setting that another mode reads lives in this one.
_WHERE = {
    ("dale", "circuit"): ": the circuit always routes negative weights through its pooled "
    "feed-forward inhibition",
    ("max_rate", "circuit"): ": the circuit's rates come from its LIF neurons",
    ("memory_rate", "circuit"): ": the circuit's rates come from its LIF neurons",
    ("wta_gain", "circuit"): ": the circuit's competition is set by CircuitParams "
    "(inhibitory_gain, drive)",
    ("inhibition", "hybrid"): ": the rate modes normalise with a divisive unit",
}

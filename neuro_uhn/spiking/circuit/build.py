"""Build: a :class:`~.plan.CircuitPlan` becomes Brian2 groups and synapses, in a named record.

The builder adds what every circuit has — pools of Poisson feature neurons and a cue unit
(the only per-query input; they fire while a cue is shown), the memory populations, the
input pathway and the read-out (:mod:`.readout`) — and asks the separation's registered
sub-network (:mod:`.competitive`, :mod:`.latch`, :mod:`.graded`) to add its own neurons
and connections.

**Input pathway (Dale's law).** The signed weights ``A`` (memory neuron × input neuron, the
bias as the cue unit's weights) are split per input neuron j into ``A + c_j ≥ 0``
(excitatory synapses onto the memories) and ``c_j = max(0, −min_k A_kj)``, the part every
memory shares, which j delivers to one pooled feed-forward inhibitory population; that
population inhibits every memory alike. Its neurons' spikes are linear in their input, so the
shared part is subtracted exactly in the mean, with one inhibitory population instead of a
relay per feature. With storage="plasticity" (``plan.learning``) the same pathways are built
with learning synapses that start at zero (:mod:`.storage`): the instar weights are the
excitatory synapses, the learned running mean the pooled inhibition's input weights, and the
bias the memory neurons' intrinsic excitability.

**Cues in sequence.** The cues of a batch are shown one after another to one network, with
``CircuitParams.pause`` of silence between them (the ``stimulus`` TimedArray holds their
rates, one row per cue); the synapses are built once for all of them. The rate modes'
independent copies (:class:`~neuro_uhn.spiking.layout.Copies`) remain available (K copies
of the network, each showing its cues in sequence); the circuit uses K = 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Built
from ..layout import Copies
from . import readout, storage
from .neurons import (
    CUE_CURRENT,
    ESCAPE_THRESHOLD,
    FEEDFORWARD_CURRENT,
    POOL_NEURON,
    POOL_THRESHOLD,
    memory_equations,
)
from .plan import CircuitPlan, SeparationCircuit

__all__ = [
    "CircuitBuild", "Sequence", "build_circuit", "neuron_values", "split_weights",
    "feature_pool", "has_feedforward", "needs", "CUE_NEURONS", "POOL_PER_INPUT",
]  # fmt: skip

#: Feature neurons per input value by default: 5 at 200 Hz deliver the 1 kHz per active
#: feature the competition needs on digits (3: agreement 0.88 against 1.00 at N = 100,
#: docs/circuit.md).
POOL_PER_INPUT = 5

#: Poisson neurons of the cue unit: they fire at ``input_rate`` while a cue is shown and carry
#: the bias (their synapses' weights), so between cues the memories get no input at all.
CUE_NEURONS = 50


#: 1 while a cue is shown, 0 in the pauses: from each period's onset, the cue's steps. Half a
#: step of margin at both ends, so that rounding of ``t`` never opens the window one step
#: late or closes it one step late (``step`` is the network's dt).
SHOWING = (
    "int((t - t0) - cue_period * floor((t - t0) / cue_period + 0.5 * step / cue_period)"
    " < cue_time - 0.5 * step)"
)
#: The feature neurons' next interval: exponential at the cue's rate, so their spikes are a
#: Poisson process, exact for rates constant over a cue (the onset draws afresh). One random
#: number per spike, where a Bernoulli draw per neuron and step (PoissonGroup) took a fifth
#: of the circuit's simulation loop on MNIST (docs/circuit.md, "Where the time goes").
#: A spike falls on the first step at or after its time; the onset's clock starts one step
#: early, so a cue's steps cover exactly its duration. ``1 − rand()`` is in (0, 1].
FEATURE_INTERVAL = "-log(1 - rand()) / (stimulus(t - t0, i // pool_f) + rate_floor)"
#: Hz added to a feature's rate in its interval, so a silent feature's next spike is
#: 3·10⁸ years away instead of a division by zero.
FEATURE_RATE_FLOOR = 1e-16


def poisson_features(b2, n: int, dt, period):
    """The feature neurons of retrieval: ``n`` Poisson spike trains at the ``stimulus``
    TimedArray's rates (row: the cue, every ``period``; column: ``i // pool_f``), silent
    while :data:`SHOWING` is 0. Every neuron draws its next spike's time at each cue's onset and
    the next interval at each spike (:data:`FEATURE_INTERVAL`); the namespace gives
    ``stimulus``, ``pool_f``, ``t0``, ``step`` (= dt) and ``rate_floor``."""
    group = b2.NeuronGroup(n, "next_spike : second",
                           threshold=f"t >= next_spike and {SHOWING} == 1",
                           reset=f"next_spike += {FEATURE_INTERVAL}", dt=dt, name="features")
    # (in run_regularly, dt would be its own clock's: the network's step is ``step``)
    group.run_regularly(f"next_spike = t - step + {FEATURE_INTERVAL}", dt=period, when="start",
                        name="features_onset")
    return group


@dataclass(frozen=True)
class Sequence:
    """Cues shown one after another: ``slots`` cues per simulation, one every ``period``
    seconds (a whole number of steps), each ``duration`` seconds of input followed by
    silence."""

    slots: int
    duration: float
    period: float

    @classmethod
    def of(cls, slots: int, duration: float, pause: float, dt: float) -> Sequence:
        """``period`` = duration + pause rounded to whole steps (so the stimulus' rows fall
        on the clock's grid)."""
        return cls(slots, duration, max(1, round((duration + pause) / dt)) * dt)

    @property
    def total(self) -> float:
        return self.slots * self.period

    def split(self, i, t) -> list[tuple[np.ndarray, np.ndarray]]:
        """Spikes ``(i, t)`` per cue, with times from the cue's onset (pause spikes dropped).
        Spike times are on the step grid; a nanosecond's margin keeps their rounding from
        moving an onset's spike into the cue before, or the pause's first into the cue."""
        i, t = np.asarray(i), np.asarray(t)
        slot = np.minimum(np.floor(t / self.period + 1e-9).astype(int), self.slots - 1)
        rel = t - slot * self.period
        keep = rel < self.duration - 1e-9
        return [(i[keep & (slot == s)], rel[keep & (slot == s)]) for s in range(self.slots)]


@dataclass
class CircuitBuild(Built):
    """One built circuit (:class:`~neuro_uhn.spiking.engine.Built`), and where each neuron
    of each copy sits."""

    n_populations: int = 0
    neurons_per_memory: int = 1
    n_features: int = 0  # feature neurons per copy (pools included)
    pool: int = 1  # feature neurons per feature
    dt: Any = None  # brian2 quantity
    outputs: readout.OutputLayout | None = None
    sequence: Sequence | None = None
    #: neurons per copy of every group a user can record from
    sizes: dict[str, int] = field(default_factory=dict)
    #: the sparse connectivity's draw (storage="plasticity": the instar synapses')
    rng: Any = None
    #: storage="set": the memory→output weights per memory neuron and column
    P_full: Any = None

    @property
    def n_memory_neurons(self) -> int:
        """Memory neurons per copy."""
        return self.n_populations * self.neurons_per_memory

    def add(self, obj, size: int | None = None):
        """Add a Brian2 object under its name (``size``: neurons per copy, if a group)."""
        if size is not None:
            self.sizes[obj.name] = size
        return super().add(obj)

    def connect(self, b2, source, target, pre_local, post_local, name: str, **kwargs):
        """Block-diagonal synapses ``source → target`` (the same per-copy connections in
        every copy)."""
        syn = b2.Synapses(source, target, dt=self.dt, name=name, **kwargs)
        pre, post = self.copies.block(
            pre_local, post_local, self.sizes[source.name], self.sizes[target.name]
        )
        syn.connect(i=pre, j=post)
        return self.add(syn)


def feature_pool(sim_map, n_inputs: int, cfg) -> int:
    """Feature neurons per feature: ``CircuitParams.feature_pool``, or by rule
    :data:`POOL_PER_INPUT` per input value (1 for a thermometer code, whose ``levels`` units
    already pool one value)."""
    if cfg.circuit.feature_pool is not None:
        return int(cfg.circuit.feature_pool)
    per_input = sim_map.W.shape[1] / max(1, n_inputs)
    return max(1, int(np.ceil(POOL_PER_INPUT / per_input)))


def neuron_values(plan: CircuitPlan, channels: tuple[int, ...], n: int, connection_p: float, rng):
    """Every memory neuron's own values in one copy of the circuit: what :func:`build_circuit`
    wires and ``SpikingUHN.weights()`` reports.

    Returns ``W`` (N·n, features × channels; volts per input spike at the feature's full
    rate, signed, after the sparse connectivity's draw, the first use of ``rng``), ``bias``
    (N·n,; V of mean drive during a cue) and ``P`` (N·n, output columns: on, [off]; relative
    weights |P|/max|P|), per population (storage="set").
    """
    W = np.repeat(np.concatenate([ch * plan.W for ch in channels], axis=1), n, axis=0)
    bias = np.repeat(plan.bias, n)
    prob = [plan.P_on] + ([plan.P_off] if plan.signed_output else [])
    P = np.repeat(np.concatenate(prob, axis=1), n, axis=0)
    if connection_p < 1:
        W = W * (rng.random(W.shape) < connection_p)
    return W, bias, P


def split_weights(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(E, c)``: signed weights ``A`` (targets × inputs) as excitatory ``E = A + c ≥ 0``
    and the shared inhibitory part ``c_j = max(0, −min_k A_kj)`` of each input, so
    ``A = E − c`` (every target gets the same ``c_j``)."""
    A = np.asarray(A, dtype=float)
    c = np.clip(-A.min(axis=0), 0, None) if len(A) else np.zeros(A.shape[1])
    return A + c[None, :], c


def has_feedforward(plan: CircuitPlan, channels) -> bool:
    """Some feature→memory weight or bias is negative (the off channel carries −W): the
    pooled feed-forward inhibition carries the shared part."""
    if plan.learning is not None:  # the learned running mean, or the structural weights
        return plan.learning.centred or plan.learning.structural > 0
    W, bias = plan.W, plan.bias
    return bool(np.any(W < 0) or np.any(bias < 0) or (-1 in channels and np.any(W > 0)))


def needs(plan: CircuitPlan, separation: SeparationCircuit, channels) -> tuple[str, ...]:
    """The memory-neuron variables this circuit's synapses target (a user's MemoryModel
    must define them)."""
    out = ["v", "ge", "gc"] + ["gf"] * has_feedforward(plan, channels)
    out += ["gs"] * (plan.self_weight > 0)
    out += ["gi"] * (
        separation.kind in ("max", "topk", "softmax") and plan.inhibition_per_spike > 0
    )
    return tuple(out)


def build_circuit(
    b2, plan: CircuitPlan, separation: SeparationCircuit, cfg, K: int, channels, rng,
    records=(), *, slots: int = 1, pool: int = 1, typical_rates=None,
) -> CircuitBuild:  # fmt: skip
    """Brian2 objects of ``K`` copies of the circuit, each showing ``slots`` cues in
    sequence, in a :class:`CircuitBuild`.

    ``channels``: the feature channels, (1,) or on/off (1, −1) for signed features (the off
    channel's neurons carry −φ, so they connect with −W). ``pool``: Poisson neurons per
    feature. ``typical_rates``: the feature channels' mean rates (Hz) over the stored
    patterns, which set the pooled inhibition's unit (from M only). ``records``: (group,
    variables, per-copy indices) to record with StateMonitors.
    """
    c = cfg.circuit
    N, n = plan.W.shape[0], cfg.neurons_per_memory
    learning = plan.learning
    F = plan.W.shape[1] * len(channels)
    dt = cfg.dt * b2.second
    Hz = b2.Hz
    ns = {
        "v_rest": c.v_rest * b2.volt,
        "v_th": c.v_threshold * b2.volt,
        "v_reset": c.v_reset * b2.volt,
        "E_i": c.e_inhibitory * b2.volt,
        "tau_m": c.tau_m * b2.second,
        "tau_e": c.tau_e * b2.second,
        "tau_ff": (c.tau_e if c.tau_pool is None else c.tau_pool) * b2.second,
        "tau_i": c.tau_i * b2.second,
        "tau_self": c.tau_self * b2.second,
        "tau_inh": c.tau_inhibitory * b2.second,
        "sigma": (c.noise if plan.memory_noise is None else plan.memory_noise) * b2.volt,
        "rho0": c.escape_rate * Hz,
        "dv_esc": c.escape_width * b2.volt,
    }
    layout = readout.OutputLayout(
        n_out=plan.P_on.shape[1], signed=plan.signed_output, neurons=c.output_neurons
    )
    sequence = Sequence.of(slots, cfg.duration, c.pause, cfg.dt)
    net = CircuitBuild(Copies(K), ns, n_populations=N, neurons_per_memory=n,
                       n_features=F * pool, pool=pool, dt=dt, outputs=layout,
                       sequence=sequence, rng=rng)  # fmt: skip

    # the input: feature pools at the stimulus' rates, and the cue unit, while a cue is shown
    ns.update(
        stimulus=b2.TimedArray(np.zeros((slots, K * F)) * Hz, dt=sequence.period * b2.second),
        cue_period=sequence.period * b2.second,
        cue_time=cfg.duration * b2.second,
        cue_rate=cfg.input_rate * Hz,
        pool_f=pool,
        t0=0 * b2.second,  # the time retrievals count from (storage="plasticity": after it)
        step=dt,
    )
    if learning is None:
        ns.update(rate_floor=FEATURE_RATE_FLOOR * Hz)
        group = poisson_features(b2, K * F * pool, dt, sequence.period * b2.second)
    else:  # the same Poisson neurons, with the trace the instar rule reads
        group = b2.NeuronGroup(K * F * pool, storage.FEATURE_TRACE.format(showing=SHOWING),
                               threshold="rand() < rate * dt", reset="x += x_step",
                               method="exact", dt=dt, name="features")  # fmt: skip
    net.add(group, F * pool)
    net.add(
        b2.PoissonGroup(K * CUE_NEURONS, rates=f"cue_rate * {SHOWING}", dt=dt, name="cue"),
        CUE_NEURONS,
    )  # fmt: skip

    # escape noise for softmax, no reset: the membrane keeps integrating (Nessler et al. 2013)
    soft = plan.separation == "softmax"
    user = c.memory_model
    threshold = ESCAPE_THRESHOLD if soft else "v > v_th"
    reset = None if soft else "v = v_reset"
    refractory, method = (None if soft else cfg.refractory), "euler"
    if learning is not None:  # the bias an intrinsic current, and the learning state
        mem_eqs = memory_equations(b2, refractory=not soft, cue=storage.INTRINSIC_CUE)
        mem_eqs += b2.Equations(storage.LEARNING_STATE)
        reset = storage.LEARNING_RESET.format(reset=f"{reset}\n" if reset else "")
    elif user is None:
        mem_eqs = memory_equations(b2, refractory=not soft)
    else:
        mem_eqs = user.parsed()
        threshold = user.threshold or threshold
        reset = user.reset or reset
        refractory = user.refractory if user.refractory is not None else refractory
        method = user.method
        ns.update(user.namespace)
    extra = {"reset": reset} if reset else {}
    if refractory:
        extra["refractory"] = refractory * b2.second
    memories = net.add(
        b2.NeuronGroup(K * N * n, mem_eqs, threshold=threshold, method=method, dt=dt,
                       name="memories", **extra),
        N * n,
    )  # fmt: skip
    memories.v = c.v_rest * b2.volt
    # the pooled inhibition's current, one per copy, linked into every memory neuron (zero
    # when no weight is negative)
    current = net.add(b2.NeuronGroup(K, FEEDFORWARD_CURRENT, method="exact", dt=dt,
                                     name="feedforward_current"), 1)  # fmt: skip
    if "gf" in mem_eqs.names:
        memories.gf = b2.linked_var(current, "g", index=net.copies.copy_of(N * n))
    if learning is not None:
        storage.build_learning(b2, plan, cfg, net)
        if has_feedforward(plan, channels):
            _build_feedforward(b2, cfg, net, None, pool, typical_rates, plan)
        separation.build(b2, plan, cfg, net)
        readout.build_outputs(b2, plan, cfg, net, None)
        storage.build_teaching(b2, net, dt)
    else:
        _build_set_input(b2, plan, cfg, net, channels, rng, memories, mem_eqs, typical_rates)
        separation.build(b2, plan, cfg, net)  # the separation's own sub-network
        readout.build_outputs(b2, plan, cfg, net, net.P_full)

    for name, group in (("memory_spikes", memories), ("output_spikes", net["outputs"])):
        net.add(b2.SpikeMonitor(group, name=name))
    if "inhibitory" in net:
        net.add(b2.SpikeMonitor(net["inhibitory"], name="inhibitory_spikes"))
    for r, (group, variables, idx) in enumerate(records):
        glob = net.copies.index(idx, net.sizes[group])
        # on the network's step for every group (the output neurons' own step is coarser)
        net.add(b2.StateMonitor(net[group], list(variables), record=glob, dt=dt,
                                name=f"record_{r}"))
    return net


def _build_set_input(b2, plan, cfg, net, channels, rng, memories, mem_eqs, typical_rates):
    """storage="set": the input pathway from the plan's weights (see module)."""
    c, dt, pool, K = cfg.circuit, net.dt, net.pool, net.K
    W, bias, net.P_full = neuron_values(plan, channels, net.neurons_per_memory,
                                        c.connection_p, rng)  # fmt: skip
    N, n = net.n_populations, net.neurons_per_memory
    F = W.shape[1]
    features, cue = net["features"], net["cue"]

    # signed weights per input spike: each feature's W spread over its pool, the bias over
    # the cue unit (mean drive = weight × rate × τe)
    A = np.concatenate(
        [np.repeat(W / pool, pool, axis=1),
         np.repeat(bias[:, None] / (CUE_NEURONS * cfg.input_rate * c.tau_e), CUE_NEURONS, 1)],
        axis=1,
    )  # fmt: skip
    E, shared = split_weights(A)
    n_feat = F * pool
    # the part of the bias every memory shares (its smallest) reaches them as one current per
    # copy: each cue spike is one event, not one per memory neuron
    common = float(E[:, n_feat:].min()) if len(E) else 0.0
    E[:, n_feat:] -= common
    post, pre = np.nonzero(E[:, :n_feat] > 0)
    exc = net.connect(b2, features, memories, pre, post, "excitation", model="w : volt",
                      on_pre="ge_post += w")  # fmt: skip
    exc.w = net.copies.tile(E[post, pre]) * b2.volt
    post, pre = np.nonzero(E[:, n_feat:] > 0)
    if len(pre):
        cue_exc = net.connect(b2, cue, memories, pre, post, "cue_excitation", model="w : volt",
                              on_pre="ge_post += w")  # fmt: skip
        cue_exc.w = net.copies.tile(E[post, n_feat + pre]) * b2.volt
    if np.any(shared > 0):
        _build_feedforward(b2, cfg, net, shared, pool, typical_rates, plan)
    cue_current = net.add(b2.NeuronGroup(K, CUE_CURRENT, method="exact", dt=dt,
                                         name="cue_current"), 1)  # fmt: skip
    if "gc" in mem_eqs.names:
        memories.gc = b2.linked_var(cue_current, "ge", index=net.copies.copy_of(N * n))
    if common > 0:
        shared_cue = net.connect(b2, cue, cue_current, np.arange(CUE_NEURONS),
                                 np.zeros(CUE_NEURONS, int), "cue_shared", model="w : volt",
                                 on_pre="ge_post += w")  # fmt: skip
        shared_cue.w = common * b2.volt


def _build_feedforward(b2, cfg, net, shared, pool: int, typical_rates, plan) -> None:
    """The pooled feed-forward inhibition: every input neuron j excites every pool neuron
    with ``c_j``; each pool spike inhibits every memory neuron of its copy with
    ``w_pool / n_pool`` (through the copy's linked ``feedforward_current``). The pool neurons'
    input is the same for all of them, so it is one variable per copy (``feedforward_drive``,
    linked into them as ``gp``): one event per input spike, not one per pool neuron.

    A pool neuron's hazard is ``gp / (w_pool·τff)`` (τff: ``tau_pool``, default τe; its input
    ``gp`` has mean ``Σ_j c_j r_j τff``), so the pool's summed inhibition has mean
    ``Σ_j c_j r_j τe``, the shared part, exactly. ``w_pool`` puts a pool neuron at
    ``pool_rate`` on a typical stored pattern (``typical_rates``, from M only)."""
    c, dt = cfg.circuit, net.dt
    n_pool, n_feat = c.pool_inhibitory, net.n_features
    if plan.learning is not None:  # from the calibration's mean encoding (M only)
        typical_drive = storage.typical_feedforward(plan, cfg, pool)
    else:
        rates = np.concatenate([
            np.repeat(np.asarray(typical_rates, dtype=float), pool),
            np.full(CUE_NEURONS, cfg.input_rate),
        ])  # fmt: skip
        typical_drive = float(shared @ rates) * c.tau_e  # V of mean shared inhibition
    if not typical_drive > 0:
        top = float(np.max(shared)) if shared is not None else plan.learning.w_unit
        typical_drive = top * cfg.input_rate * c.tau_e
    w_pool = typical_drive / (c.pool_rate * c.tau_e)
    net.namespace.update(w_pool=w_pool * b2.volt, n_ff=n_pool)
    drive = net.add(b2.NeuronGroup(net.K, POOL_NEURON.format(tau="tau_ff"), method="exact",
                                   dt=dt, name="feedforward_drive"), 1)  # fmt: skip
    ff = net.add(
        b2.NeuronGroup(net.K * n_pool, "gp : volt (linked)",
                       threshold=POOL_THRESHOLD.format(unit="w_pool", tau="tau_ff"), dt=dt,
                       name="feedforward"),
        n_pool,
    )  # fmt: skip
    ff.gp = b2.linked_var(drive, "gp", index=net.copies.copy_of(n_pool))
    if plan.learning is not None:
        storage.build_feedforward_input(b2, plan, net, drive)
    for source, cols, name in () if plan.learning is not None else (
        (net["features"], np.arange(n_feat), "feedforward_input"),
        (net["cue"], n_feat + np.arange(CUE_NEURONS), "feedforward_cue"),
    ):
        local = np.nonzero(shared[cols] > 0)[0]
        if not len(local):
            continue
        syn = net.connect(b2, source, drive, local, np.zeros(len(local), int), name,
                          model="w : volt", on_pre="gp_post += w")  # fmt: skip
        syn.w = net.copies.tile(shared[cols][local]) * b2.volt
    net.connect(b2, ff, net["feedforward_current"], np.arange(n_pool), np.zeros(n_pool, int),
                "feedforward_inhibition", on_pre="g_post += w_pool / n_ff")  # fmt: skip

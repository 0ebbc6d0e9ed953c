"""Build: a :class:`~.plan.CircuitPlan` becomes Brian2 groups and synapses, in a named record.

The builder adds what every circuit has — Poisson feature neurons, the memory populations,
the input pathway (excitatory synapses ``W⁺``; ``W⁻`` through inhibitory relays, Dale's law)
and the read-out (:mod:`.readout`) — and asks the separation's registered sub-network
(:mod:`.competitive`, :mod:`.latch`, :mod:`.graded`) to add its own neurons and connections.
K queries are K independent copies (:class:`~neuro_uhn.spiking.layout.Copies`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Built
from ..layout import Copies
from . import readout
from .neurons import ESCAPE_THRESHOLD, memory_equations, quiet_release_warning
from .plan import CircuitPlan, SeparationCircuit

__all__ = ["CircuitBuild", "build_circuit", "neuron_values", "needs"]


@dataclass
class CircuitBuild(Built):
    """One built circuit (:class:`~neuro_uhn.spiking.engine.Built`), and where each neuron
    of each copy sits."""

    n_populations: int = 0
    neurons_per_memory: int = 1
    n_features: int = 0  # feature neurons per copy
    dt: Any = None  # brian2 quantity
    outputs: readout.OutputLayout | None = None
    #: neurons per copy of every group a user can record from
    sizes: dict[str, int] = field(default_factory=dict)

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


def neuron_values(plan: CircuitPlan, channels: tuple[int, ...], n: int, connection_p: float, rng):
    """Every memory neuron's own values in one copy of the circuit: what :func:`build_circuit`
    wires and ``SpikingUHN.weights()`` reports.

    Returns ``W`` (N·n, feature neurons; volts per input spike, signed, after the sparse
    connectivity's draw, the first use of ``rng``), ``bias`` (N·n,; V) and ``P`` (N·n, output
    columns: on, [off], reference; release probabilities). Per population unless the plan
    carries per-neuron values (``plan.neurons``, storage="plasticity").
    """
    own = plan.neurons
    if own is not None:
        W, bias, P = (np.array(own[key], dtype=float) for key in ("W", "bias", "P"))
    else:
        W = np.repeat(np.concatenate([ch * plan.W for ch in channels], axis=1), n, axis=0)
        bias = np.repeat(plan.bias, n)
        prob = [plan.P_on] + ([plan.P_off] if plan.signed_output else [])
        P = np.repeat(np.concatenate([*prob, np.ones((len(plan.W), 1))], axis=1), n, axis=0)
    if connection_p < 1:
        W = W * (rng.random(W.shape) < connection_p)
    return W, bias, P


def has_relays(plan: CircuitPlan, channels: tuple[int, ...]) -> bool:
    """Whether some feature→memory weight (any channel) is negative: then the circuit has
    the inhibitory relays."""
    if plan.neurons is not None:
        return bool(np.any(np.asarray(plan.neurons["W"]) < 0))
    return bool(np.any(plan.W < 0) or (-1 in channels and np.any(plan.W > 0)))


def needs(plan: CircuitPlan, separation: SeparationCircuit, channels) -> tuple[str, ...]:
    """The memory-neuron variables this circuit's synapses target (a user's MemoryModel
    must define them)."""
    out = ["v", "ge", "I_bias"] + ["gf"] * has_relays(plan, channels)
    out += ["gs"] * (plan.self_weight > 0)
    out += ["gi"] * (
        separation.kind in ("max", "topk", "softmax") and plan.inhibition_per_spike > 0
    )
    return tuple(out)


def build_circuit(
    b2, plan: CircuitPlan, separation: SeparationCircuit, cfg, K: int, channels, rng,
    records=(),
) -> CircuitBuild:  # fmt: skip
    """Brian2 objects of ``K`` independent copies of the circuit, in a :class:`CircuitBuild`.

    ``channels``: the feature channels, (1,) or on/off (1, −1) for signed features (the off
    channel's neurons carry −φ, so they connect with −W). ``records``: (group, variables,
    per-copy indices) to record with StateMonitors.
    """
    c = cfg.circuit
    N, n = plan.W.shape[0], cfg.neurons_per_memory
    W, bias, Pfull = neuron_values(plan, channels, n, c.connection_p, rng)
    F = W.shape[1]
    dt = cfg.dt * b2.second
    ms, Hz = b2.ms, b2.Hz
    ns = {
        "v_rest": c.v_rest * b2.volt,
        "v_th": c.v_threshold * b2.volt,
        "v_reset": c.v_reset * b2.volt,
        "E_i": c.e_inhibitory * b2.volt,
        "tau_m": c.tau_m * b2.second,
        "tau_e": c.tau_e * b2.second,
        "tau_i": c.tau_i * b2.second,
        "tau_self": c.tau_self * b2.second,
        "tau_inh": c.tau_inhibitory * b2.second,
        "sigma": (c.noise if plan.memory_noise is None else plan.memory_noise) * b2.volt,
        "rho0": c.escape_rate * Hz,
        "dv_esc": c.escape_width * b2.volt,
        "tau_out": 2 * ms,
    }
    layout = readout.OutputLayout(
        n_out=plan.P_on.shape[1], signed=plan.signed_output, neurons=c.output_neurons
    )
    net = CircuitBuild(Copies(K), ns, n_populations=N, neurons_per_memory=n, n_features=F,
                       dt=dt, outputs=layout)  # fmt: skip

    features = net.add(b2.PoissonGroup(K * F, rates=0 * Hz, dt=dt, name="features"), F)

    # escape noise for softmax, no reset: the membrane keeps integrating (Nessler et al. 2013)
    soft = plan.separation == "softmax"
    user = c.memory_model
    threshold = ESCAPE_THRESHOLD if soft else "v > v_th"
    reset = None if soft else "v = v_reset"
    refractory, method = (None if soft else cfg.refractory), "euler"
    if user is None:
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
    # the bias current gb rises with the query, with the synaptic time course τe (it is the
    # tonic part of the input): a memory whose drive is mostly bias gets no head start
    memories.v = c.v_rest * b2.volt
    memories.I_bias = net.copies.tile(bias) * b2.volt

    # feature -> memory: excitatory W⁺ directly, inhibitory W⁻ through relay interneurons
    post, pre = np.nonzero(W > 0)
    exc = net.connect(b2, features, memories, pre, post, "excitation", model="w : volt",
                      on_pre="ge_post += w")  # fmt: skip
    exc.w = net.copies.tile(W[post, pre]) * b2.volt
    post, pre = np.nonzero(W < 0)
    if len(pre):
        relays = net.add(
            b2.NeuronGroup(K * F, "dv/dt = (v_rest - v) / tau_out : volt", threshold="v > v_th",
                           reset="v = v_reset", method="exact", dt=dt, name="relays"),
            F,
        )  # fmt: skip
        relays.v = c.v_rest * b2.volt
        relay_in = net.add(b2.Synapses(features, relays, on_pre="v_post += 2 * (v_th - v_rest)",
                                       dt=dt, name="relay_input"))  # fmt: skip
        relay_in.connect(j="i")
        # feed-forward inhibition (gf) has the excitation's time course, so W⁺ and W⁻
        # rise together and no memory gets a head start from the sign of its weights
        ff = net.connect(b2, relays, memories, pre, post, "feedforward_inhibition",
                         model="w : volt", on_pre="gf_post += w")  # fmt: skip
        ff.w = net.copies.tile(-W[post, pre]) * b2.volt

    separation.build(b2, plan, cfg, net)  # the separation's own sub-network
    readout.build_outputs(b2, plan, cfg, net, Pfull)
    if readout.gated(plan, cfg):
        readout.build_gate(b2, cfg, net)

    for name, group in (("memory_spikes", memories), ("output_spikes", net["outputs"])):
        net.add(b2.SpikeMonitor(group, name=name))
    if "inhibitory" in net:
        net.add(b2.SpikeMonitor(net["inhibitory"], name="inhibitory_spikes"))
    for r, (group, variables, idx) in enumerate(records):
        glob = net.copies.index(idx, net.sizes[group])
        net.add(b2.StateMonitor(net[group], list(variables), record=glob, name=f"record_{r}"))
    quiet_release_warning()
    return net

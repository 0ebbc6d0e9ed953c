"""Max, top-1 and softmax: the separation made by lateral inhibition (a WTA sub-network).

* **max / topk(k=1)** — hard WTA: memory spikes drive an inhibitory population (E→I), which
  inhibits every memory population (I→E, delayed); slow self-excitation within a population
  gives the winner hysteresis (Oster, Douglas & Liu 2009).
* **softmax** — stochastic soft WTA: escape-noise memory neurons ``ρ = ρ₀ exp((v − v_th)/Δv)``
  without reset, and the same inhibitory loop holding the total rate, so a spike comes from
  memory k with probability softmax(β_eff s)_k, β_eff = G/Δv (Nessler et al. 2013).

The feature→memory weights are *centred across memories* (``W − mean_k W_k``): that removes
the score part every memory shares, which changes no ranking and no softmax, and keeps the
drive in range. ``G`` puts a typical stored pattern's self-match ``drive`` gaps above the
average memory (softmax: ``G = β·Δv``, capped so the span stays in the escape regime).
"""

from __future__ import annotations

import numpy as np

from ...errors import ValidationError
from ...separation import Max, Softmax, TopK
from ..registry import unsupported
from .neurons import INHIBITORY_NEURON, POOL_NEURON, POOL_THRESHOLD
from .plan import (
    CircuitPlan,
    SeparationCircuit,
    register_separation,
    release_probabilities,
    volts_per_spike,
)

__all__ = ["plan_competitive", "build_wta", "REFERENCE_POPULATION", "population_scale"]

#: The population size the competition's gains are stated for. A population of ``n`` neurons
#: at a given rate per neuron fires ``n/4`` times the spikes, so the inhibition and
#: self-excitation *per spike* are scaled by ``4/n`` (:func:`population_scale`): the drive a
#: population's activity causes depends on its rate per neuron, not on how many neurons carry
#: it. With this rule, 8 neurons per memory read z from twice the spikes through the same
#: competition (measured: docs/circuit.md, "Neurons per memory").
REFERENCE_POPULATION = 4


def population_scale(neurons_per_memory: int) -> float:
    """Factor on the inhibition and self-excitation per memory spike (see
    :data:`REFERENCE_POPULATION`)."""
    return REFERENCE_POPULATION / neurons_per_memory


def plan_competitive(kind: str, sep, model, sim_map, M, S, P, cfg) -> CircuitPlan:
    """Gain, centred weights, bias, inhibition and self-excitation of the WTA (from M only)."""
    c, gap = cfg.circuit, cfg.circuit.gap
    if sim_map.score_transform != "identity" and kind == "softmax":
        # −sqrt(−u) is monotone: max and top-k rank the same on the squared distance;
        # softmax does not
        raise unsupported(
            "similarity 'euclidean' (not squared) with softmax",
            "circuit",
            "the circuit's drive is the squared distance; use euclidean(squared=true)",
        )
    k = sep.k if kind == "topk" else 1
    if k > len(M):
        raise ValidationError(
            f"'k' of separation 'topk' must be in 1..n_memories={len(M)}; got {k}"
        )
    W, b = sim_map.W, sim_map.bias
    per_spike = population_scale(cfg.neurons_per_memory)
    Wc = W - W.mean(axis=0, keepdims=True)
    bc = b - b.mean()
    centred_self = np.diag(S) - S.mean(axis=1)
    typical = float(np.median(centred_self))
    if not typical > 0:
        typical = float(np.std(S)) or 1.0
    beta_cfg = beta_pred = None
    if kind == "softmax":
        # β_eff = G/Δv. The membrane cannot span more than ``soft_span`` escape widths
        # between a typical self-match and the average memory and stay in the escape
        # regime (beyond it every strong memory fires at the step cap and the homeostat
        # fails: measured on MNIST with β = 1, 0.08 agreement), so a β above
        # soft_span/typical is refused, naming the reachable range, never silently capped.
        # ``beta_predicted`` reports the β realised (the configured one).
        reachable = c.soft_span / typical
        beta = float(sep.beta)
        if beta > reachable * (1 + 1e-9):
            raise unsupported(
                f"separation 'softmax' with beta={beta:g}",
                "circuit",
                f"escape-noise neurons realise softmax for beta up to {reachable:.3g} on these "
                f"memories: a typical stored pattern's self-match lies {typical:.3g} score "
                f"units above the average memory, and the membrane keeps soft_span="
                f"{c.soft_span:g} escape widths of that in the escape regime (beyond it every "
                "strong memory fires at the step cap: on MNIST at beta = 1, agreement 0.08). "
                f"Use softmax(beta<={reachable:.3g}) (for these memories beta = 1 is "
                "near-max anyway: use max), or raise CircuitParams.soft_span at that risk",
            )
        G = beta * c.escape_width
        beta_cfg, beta_pred = beta, G / c.escape_width
        # a homeostat, not a veto: each spike lowers every exponent by a fraction of Δv
        inhibition = c.soft_inhibition * c.escape_width * cfg.inhibition * per_spike
        self_w = 0.0
    else:
        G = c.drive * gap / typical
        inhibition = c.inhibitory_gain * gap * cfg.inhibition / k * per_spike
        # per spike of the population, each of its neurons gets one w_s and the whole
        # inhibition: equal areas w_s · τ_self = self_excitation · inhibition_per_spike · τi,
        # so below 1 the winner's own inhibition outweighs its recurrent excitation and the
        # common mode is stable (no population holds itself without input)
        self_w = (c.self_excitation * c.inhibitory_gain * gap / k * c.tau_i / c.tau_self
                  * per_spike)  # fmt: skip
    P_on, P_off, scale = release_probabilities(P)
    return CircuitPlan(
        separation=kind,
        W=Wc * volts_per_spike(G, sim_map, cfg),
        bias=np.asarray(G * bc + c.offset * gap, dtype=float),
        gain=G,
        k=k,
        inhibition_per_spike=inhibition,
        self_weight=self_w,
        P_on=P_on,
        P_off=P_off,
        P_scale=scale,
        beta_configured=beta_cfg,
        beta_predicted=beta_pred,
        centred=True,
        tonic=c.offset * gap,
    )


def inhibitory_spikes_per_memory_spike(cfg) -> float:
    """Spikes of one inhibitory neuron per memory spike, by rule: it fires once per gap of
    input, so ``e_to_i`` (below 1; at least one spike above)."""
    return min(1.0, cfg.circuit.e_to_i) if cfg.circuit.e_to_i > 0 else 0.0


#: Softmax: inhibitory spikes per memory spike in the mean (the homeostat's linear pool).
HOMEOSTAT_SPIKES = 10.0


def build_wta(b2, plan: CircuitPlan, cfg, net) -> None:
    """The lateral-inhibition loop: memories → inhibitory population → every memory, and
    the self-excitation within each population (autapses included).

    * **max, top-1:** each memory spike gives every inhibitory neuron a unitary EPSP of
      ``e_to_i`` gaps; the noisy LIF inhibitory neurons fire on a population's volley, and
      each inhibitory spike inhibits every memory neuron with ``inhibition_per_spike /
      (n_inh · e_to_i)``, so one memory spike causes ``inhibition_per_spike`` in the mean.
    * **softmax:** the homeostat must follow the total rate from its first spikes, as the
      escape-noise neurons fire singly: its neurons' hazard is linear in the memory spikes
      (:data:`HOMEOSTAT_SPIKES` per memory spike, the pooled inhibition's neuron), so the
      inhibition is ``inhibition_per_spike`` per memory spike at every rate."""
    c, dt, K = cfg.circuit, net.dt, net.K
    n_inh, n_mem = c.n_inhibitory, net.n_memory_neurons
    memories = net["memories"]
    if plan.separation == "softmax":
        w_unit = 1e-3  # V added to every homeostat neuron's gp per memory spike
        net.namespace["w_hom"] = w_unit * n_inh / HOMEOSTAT_SPIKES * b2.volt
        inhibitory = net.add(
            b2.NeuronGroup(K * n_inh, POOL_NEURON.format(tau="tau_e"),
                           threshold=POOL_THRESHOLD.format(unit="w_hom", tau="tau_e"),
                           method="exact", dt=dt, name="inhibitory"),
            n_inh,
        )  # fmt: skip
        on_pre, per_memory_spike = f"gp_post += {w_unit} * volt", HOMEOSTAT_SPIKES
    else:
        net.namespace.update(w_ei=c.e_to_i * c.gap * b2.volt,
                             sigma_inh=c.inhibitory_noise * b2.volt,
                             I_inh=c.inhibitory_bias * c.gap * b2.volt)  # fmt: skip
        inhibitory = net.add(
            b2.NeuronGroup(K * n_inh, INHIBITORY_NEURON, threshold="v > v_th",
                           reset="v = v_reset", refractory=1 * b2.ms, method="euler", dt=dt,
                           name="inhibitory"),
            n_inh,
        )  # fmt: skip
        inhibitory.v = c.v_rest * b2.volt
        on_pre = "v_post += w_ei"
        per_memory_spike = n_inh * inhibitory_spikes_per_memory_spike(cfg)
    e_to_i = b2.Synapses(memories, inhibitory, on_pre=on_pre, delay=c.delay * b2.second, dt=dt,
                         name="e_to_i")  # fmt: skip
    pre, post = net.copies.all_to_all(n_mem, n_inh)
    e_to_i.connect(i=pre, j=post)
    net.add(e_to_i)
    if plan.inhibition_per_spike > 0 and per_memory_spike > 0:
        i_to_e = b2.Synapses(inhibitory, memories, "w : volt", on_pre="gi_post += w",
                             delay=c.delay * b2.second, dt=dt, name="i_to_e")  # fmt: skip
        pre, post = net.copies.all_to_all(n_inh, n_mem)
        i_to_e.connect(i=pre, j=post)
        i_to_e.w = plan.inhibition_per_spike / per_memory_spike * b2.volt
        net.add(i_to_e)
    if plan.self_weight > 0:
        build_self_excitation(b2, plan, cfg, net)


def build_self_excitation(b2, plan: CircuitPlan, cfg, net) -> None:
    """Recurrent excitation within each population (every neuron to every neuron of its own
    population, autapses included), slow (τ_self, NMDA-like)."""
    n = net.neurons_per_memory
    groups = net.copies.K * net.n_populations
    pre, post = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    first = np.arange(groups)[:, None] * n
    recurrent = b2.Synapses(net["memories"], net["memories"], "w : volt", on_pre="gs_post += w",
                            delay=cfg.circuit.delay * b2.second, dt=net.dt,
                            name="self_excitation")  # fmt: skip
    recurrent.connect(i=(first + pre.ravel()).ravel(), j=(first + post.ravel()).ravel())
    recurrent.w = plan.self_weight * b2.volt
    net.add(recurrent)


def _circuit(kind: str) -> SeparationCircuit:
    return SeparationCircuit(
        kind,
        lambda sep, model, sim_map, M, S, P, cfg: plan_competitive(
            kind, sep, model, sim_map, M, S, P, cfg
        ),
        build_wta,
    )


@register_separation(Max, "yes (hard WTA)")
def _max(sep, model) -> SeparationCircuit:
    return _circuit("max")


@register_separation(TopK, "k = 1 only (as max)")
def _topk(sep, model) -> SeparationCircuit:
    if sep.weighting != "uniform":
        raise unsupported(
            "separation 'topk' with weighting='score'",
            "circuit",
            "a k-WTA's winners fire at one rate, so they are read with equal weight",
        )
    if sep.k > 1:
        raise unsupported(
            f"separation 'topk' with k={sep.k}",
            "circuit",
            "global inhibition with a fixed gain keeps one winner, and a k-WTA built from "
            "latching populations and an inhibitory pool that fires once k of them are "
            "active chose the exact top-k set in too few cues (digits, N = 20: 0.84 at k = 2, "
            "0.63 at k = 3, 0.44 at k = 5; N = 100: 0.56, 0.47, 0.09): with depressing E→I "
            "synapses the pool counts k populations right, but the near-tied runners-up "
            "cross threshold within milliseconds of the onset and the first k to fire latch "
            "(docs/circuit.md; k = 1 is max)",
        )
    return _circuit("topk")


@register_separation(Softmax, "yes (soft WTA, β_eff = G/Δv)")
def _softmax(sep, model) -> SeparationCircuit:
    return _circuit("softmax")

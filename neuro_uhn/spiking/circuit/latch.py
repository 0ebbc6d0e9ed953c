"""Threshold: deterministic LIF neurons with the bias at ``θ`` and a latch.

A population fires iff its score ``s ≥ θ``; recurrent excitation then speeds it up (SDM's read:
every address within the radius answers), and the depressing read-out transmits the same
signal from every active population whatever its rate. There is no
competition: ``G`` makes one standard deviation of the stored scores one gap, and the bias
puts ``s = θ`` exactly at threshold.
"""

from __future__ import annotations

import math

import numpy as np

from ...readout import IdentityReadout
from ...separation import Threshold
from ..registry import unsupported
from .competitive import build_self_excitation
from .plan import (
    CircuitPlan,
    SeparationCircuit,
    register_separation,
    release_probabilities,
    volts_per_spike,
)

__all__ = ["plan_threshold", "LATCH_DRIVE"]

#: The latch's recurrent drive at the refractory-limited rate, in gaps (below 1: a population
#: cannot hold itself above threshold without input).
LATCH_DRIVE = 0.9


def plan_threshold(sep, model, sim_map, M, S, P, cfg) -> CircuitPlan:
    gap = cfg.circuit.gap
    theta = float(sep.theta)
    if sim_map.score_transform == "neg_sqrt":  # s >= θ  <=>  u >= −θ² (θ <= 0)
        theta = -(theta**2) if theta <= 0 else math.inf
    spread = float(np.std(S)) or 1.0
    G = gap / spread
    P_on, P_off, scale = release_probabilities(P)
    return CircuitPlan(
        separation="threshold",
        W=sim_map.W * volts_per_spike(G, sim_map, cfg),
        bias=np.asarray(G * (sim_map.bias - theta) + gap, dtype=float),
        gain=G,
        k=1,
        inhibition_per_spike=0.0,  # latch: no competition
        # recurrent excitation that brings a population at its refractory-limited rate to
        # LATCH_DRIVE gaps: it speeds an active population up but cannot hold it alone, so
        # the population falls silent when the cue ends
        self_weight=LATCH_DRIVE * gap * cfg.refractory
        / (cfg.neurons_per_memory * cfg.circuit.tau_self),
        P_on=P_on,
        P_off=P_off,
        P_scale=scale,
        tonic=gap - G * theta,
    )


@register_separation(Threshold, "yes, with the sign readout (SDM)")
def _threshold(sep, model) -> SeparationCircuit:
    if isinstance(model.readout, IdentityReadout):
        raise unsupported(
            "separation 'threshold' with the identity readout",
            "circuit",
            "the outputs give the mean projected row of the active populations; the sum "
            "needs their number, which no neuron counts yet (sign readout, as in SDM, works)",
        )
    return SeparationCircuit("threshold", plan_threshold, build_self_excitation)

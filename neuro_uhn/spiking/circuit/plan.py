"""The circuit's plan: every build-time constant, from M and P only (NumPy, no Brian2).

``plan_circuit(model, sim_map, M, P, config)`` finds the separation's registered circuit
(:data:`circuit_separations`, through the MRO) and asks it for a :class:`CircuitPlan`: the
feature→memory weights in volts per input spike, the bias currents, the gain ``G``, the
strength of the competition and the release probabilities that carry ``P``. Each separation
lives in one module that registers how it is *planned* and what sub-network it *builds*:
:mod:`.competitive` (max, top-1, softmax: lateral inhibition), :mod:`.latch` (threshold:
self-excitation) and :mod:`.graded` (polynomial, identity: noise-driven rate codes).
Nothing here is computed from a query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..mapping import check_score_budget
from ..registry import Builders, unsupported

__all__ = [
    "CircuitPlan",
    "SeparationCircuit",
    "circuit_separations",
    "register_separation",
    "CIRCUIT_SUPPORT",
    "plan_circuit",
    "volts_per_spike",
    "release_probabilities",
    "self_scores",
]


@dataclass
class CircuitPlan:
    """Every build-time number of one circuit, from M and P only."""

    separation: str  # "max", "topk", "softmax", "threshold"
    W: np.ndarray  # (N, F) feature→memory weights, volts per spike (signed; split at build)
    bias: np.ndarray  # (N,) bias currents, V
    gain: float  # G, volts of mean drive per score unit
    k: int
    inhibition_per_spike: float  # V, summed over the inhibitory population
    self_weight: float  # V per spike, within a population (each of n neurons)
    P_on: np.ndarray  # (N, n_out) relative output weights |P|/max|P| of the on columns
    P_off: np.ndarray | None  # (N, n_out) of the off columns, or None when P >= 0
    P_scale: float  # max |P|
    beta_configured: float | None = None
    beta_predicted: float | None = None
    #: how W and bias follow from the similarity's (W₀, b₀) and G, in closed form:
    #: ``W = volts_per_spike(G)·(W₀ − centred·mean_k W₀)`` and
    #: ``bias = G·(b₀ − centred·mean_k b₀) + tonic`` (storage="plasticity" transmits what it
    #: learned in units from the same rule, :class:`.storage.Learning`)
    centred: bool = False
    tonic: float = 0.0
    #: storage="plasticity" (:mod:`.storage`): the learning pathways' constants; the
    #: weights are then the built synapses' own (W, bias and P here are zeros)
    learning: Any = None
    #: polynomial: the exponent n, and the one the noise-driven neurons' curve has over the
    #: stored scores' range (a power-law fit of the predicted rates, from M only)
    exponent_configured: float | None = None
    exponent_predicted: float | None = None
    #: polynomial, identity: membrane noise of the memory neurons, V (None: ``noise``)
    memory_noise: float | None = None
    #: polynomial, identity: the stored patterns' scores against each other (cue j, memory
    #: k), what the decoder's calibration run on M is fitted against
    calibration_scores: np.ndarray | None = None
    #: identity: largest relative deviation of the predicted rate from a straight line
    nonlinearity: float | None = None
    #: polynomial, identity: Σ_k |P_k|/max|P| · rate_k at the busiest output column on a
    #: stored pattern (Hz per memory neuron, predicted from M), which sets the static output
    #: weight; None: a nominal rate (readout.NOMINAL_RATE)
    output_rate: float | None = None

    @property
    def graded(self) -> bool:
        """A graded rate code (polynomial, identity): no competition, z = P·rates."""
        return self.separation in ("polynomial", "identity")

    @property
    def signed_output(self) -> bool:
        return self.P_off is not None

    @property
    def normalised(self) -> bool:
        """z is a weighted mean of rows of P (max, top-1, softmax): the output gate applies."""
        return self.separation in ("max", "topk", "softmax")


@dataclass(frozen=True)
class SeparationCircuit:
    """How one separation arises in the circuit.

    ``plan(sep, model, sim_map, M, S, P, cfg) -> CircuitPlan`` computes its constants
    (``S``: the stored patterns' scores against each other, (cue, memory)); ``build(b2, plan,
    cfg, net)`` adds its neurons and synapses to a :class:`~.build.CircuitBuild`."""

    kind: str
    plan: Callable
    build: Callable


#: Separation class -> ``check(sep, model) -> SeparationCircuit``, found through the MRO;
#: the check refuses what the circuit cannot realise (UnsupportedComponent, with why).
circuit_separations = Builders("separation", ("__call__",))
#: Separation name -> its line in the support matrix (set by :func:`register_separation`).
CIRCUIT_SUPPORT: dict[str, str] = {}


def register_separation(cls: type, support: str):
    """Register ``check(sep, model) -> SeparationCircuit`` for separation class ``cls``."""

    def decorate(fn: Callable) -> Callable:
        CIRCUIT_SUPPORT[cls.name] = support
        return circuit_separations.register(cls)(fn)

    return decorate


def plan_circuit(model, sim_map, M: np.ndarray, P: np.ndarray, cfg) -> CircuitPlan:
    """The circuit's build-time constants for ``model`` on memories ``M`` and projection ``P``.

    The registered circuit of the separation computes them from the stored patterns queried
    with each other (``S = W φ(M) + b``), never from a query.
    """
    sep = model.separation
    circuit = circuit_separations.lookup(sep, "circuit")(sep, model)
    if sim_map.synapse != "product":
        raise unsupported(
            f"similarity {model.similarity.name!r} (synapse {sim_map.synapse})",
            "circuit",
            "the circuit needs a linear synaptic form",
        )
    S = self_scores(sim_map, M)
    return circuit.plan(sep, model, sim_map, M, S, P, cfg)


def self_scores(sim_map, M: np.ndarray) -> np.ndarray:
    """``S[j, k]``: stored pattern j as a cue, scored against memory k (from M only; the
    per-query term c(q) left out, as the circuit has no synapses for it)."""
    check_score_budget(len(M), sim_map.W.shape[0])
    return sim_map.features(M) @ sim_map.W.T + sim_map.bias


def volts_per_spike(G: float, sim_map, cfg) -> float:
    """Volts per input spike per unit of weight: the mean drive ``G·(W φ)`` is
    ``Σ w r τe`` with ``r = input_rate · φ/scale`` (and ``1/connection_p`` for sparse input)."""
    c = cfg.circuit
    return G * sim_map.scale / (c.tau_e * cfg.input_rate * c.connection_p)


def release_probabilities(P: np.ndarray, scale: float | None = None):
    """``(P_on, P_off, scale)``: relative weights ``|P|/scale`` of the memory→output synapses
    of the on and off output columns (``P_off`` None when P has no negative entry); ``scale``
    defaults to max|P|."""
    P = np.asarray(P, dtype=float)
    if scale is None:
        scale = float(np.max(np.abs(P))) or 1.0
    P_off = np.clip(-P, 0, None) / scale if np.any(P < 0) else None
    return np.clip(P, 0, None) / scale, P_off, scale

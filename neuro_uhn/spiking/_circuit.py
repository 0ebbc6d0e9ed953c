"""``mode="circuit"``: the UHN as a neural circuit, with nothing computed outside the network.

Per query the circuit receives only the feature neurons' Poisson rates. Everything after
that is leaky integrate-and-fire neurons and synapses with time constants and delays::

    features (E, Poisson) ──J·W⁺──▶ memory populations (E, LIF) ──p=|P|/max|P|──▶ outputs
        │                               ▲   │    ▲ self-excitation          on/off (E, LIF)
        └──▶ relays (I) ──J·W⁻──────────┘   │    │                          + reference
                                            ▼    │
                                  inhibitory population (I, LIF) ──▶ every memory

* **Similarity = synapses.** ``s = W φ(q) + b`` (see ``_mapping``). The weights are split by
  sign (Dale's law, Parisien et al. 2008): ``W⁺`` is excitatory from the feature neurons,
  ``W⁻`` inhibitory through one relay interneuron per feature neuron. ``b`` is a bias current
  (intrinsic excitability). For the competitive separations (max, top-k, softmax) the weights
  are *centred across memories* (``W − mean_k W_k``): that removes the score part every
  memory shares, which changes no ranking and no softmax, and keeps the drive in range.
* **Separation = dynamics.**

  =========  =============================================================================
  max        hard WTA: memory spikes drive the inhibitory population (E→I), which inhibits
             every memory population (I→E, delayed); self-excitation gives the winner
             hysteresis (Oster, Douglas & Liu 2009)
  topk(k=1)  as max; k > 1 is UnsupportedComponent (a k-WTA built with latching
             populations and a counting inhibitory pool chose the exact top-k set in
             0.44-0.84 of digit cues at N = 20 and 0.09-0.56 at N = 100, best per k: the
             first k of the near-tied runners-up to fire latch)
  softmax    stochastic soft-WTA: escape-noise neurons ``ρ = ρ₀ exp((v − v_th)/Δv)``
             without reset, and the same inhibitory loop holding the total rate, so a spike
             comes from memory k with probability softmax(β_eff s)_k, β_eff = G/Δv
             (Nessler et al. 2013)
  threshold  deterministic LIF with the bias at ``θ``: a population fires iff ``s ≥ θ``; strong
             self-excitation latches it at its refractory-limited rate (SDM's read)
  poly(n)    noise-driven LIF memory neurons without competition (no I→E, no
             self-excitation): with membrane noise the rate is a power law of the drive
             below threshold (Miller & Troyer 2002; Hansel & van Vreeswijk 2002); the
             operating point (gain, bias, noise) is chosen from M by Siegert's formula so
             the exponent over the stored scores is n (``plan.exponent_predicted``); n
             beyond reach (about 3.4 here) is UnsupportedComponent
  identity   the same neurons in their linear regime (large noise, drive around
             threshold): rate = r₀ + c·s over the stored scores' range
  =========  =============================================================================
* **Projection = release probabilities.** Each memory neuron reaches every neuron of output
  column k (a population of ``output_neurons``; on for ``P > 0``, off for ``P < 0``) through
  its own synapse, which releases with probability ``|P_ik| / max|P|`` and makes the output
  neuron fire; one reference neuron is reached by every memory neuron with probability 1.
* **Read-out gate** (max, top-1, softmax). A gate neuron counts the reference neuron's spikes
  from ``settle`` on and, at ``R`` of them, vetoes the outputs (a shunting inhibitory
  conductance): the outputs sum the releases of ``R`` memory spikes whatever the winner's
  rate, and ``z_k = max|P| · (n_on,k − n_off,k) / (m·R)`` — the winner's row for max, the
  spike-share-weighted rows for softmax. ``R`` = ``readout_gate`` × the median reference
  count of the stored patterns (the calibration run at build). Ungated (threshold, the graded
  codes, ``readout_gate=0``): ``z_k = max|P| · (n_on,k − n_off,k) / (m · r_ref · T)`` with
  ``r_ref`` the reference neuron's mean rate on the stored patterns — the sum over the
  active set for threshold (whose sign is SDM's majority). For the graded codes the
  calibration run on M fits the rates instead: ``w ≈ (rate − r₀)/c`` (r₀ = 0 for
  polynomial), so ``z = P·w``, and the release probabilities are scaled down by a build-time
  factor so an output neuron seldom gets two releases in one step (they would make one
  spike).

Build-time constants (from ``M`` and ``P`` only; see :func:`plan_circuit`): the gain ``G``
(volts per score unit), the bias currents, the centring, ``max|P|``, and the decoder's
``r_ref`` and the gate's ``R`` (a calibration run on the stored patterns). Nothing is
computed from a query's scores, and nothing from a query's spikes but z itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import ValidationError, ValidationTypeError
from ..readout import IdentityReadout
from ..separation import Identity, Max, Polynomial, Softmax, Threshold, TopK
from ._config import CircuitParams, UnsupportedComponent
from ._mapping import Builders

__all__ = [
    "CircuitParams",
    "CircuitPlan",
    "MemoryModel",
    "plan_circuit",
    "build_circuit",
    "fit_graded_decoder",
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
    P_on: np.ndarray  # (N, n_out) release probabilities
    P_off: np.ndarray | None  # (N, n_out) or None when P >= 0
    P_scale: float  # max |P|
    beta_configured: float | None = None
    beta_predicted: float | None = None
    #: storage="plasticity" (neuro_uhn.spiking._plasticity; keep): per-neuron values that
    #: replace the per-population ones, as every neuron learned its own: "W" (N·n, feature
    #: neurons) volts per spike, every channel; "bias" (N·n,) V; "P" (N·n, output columns)
    neurons: dict | None = None
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


#: How each separation arises in the circuit: builders registered per class (MRO lookup, as
#: for the rate modes); each checks what the circuit can realise and names the dynamics.
circuit_separations = Builders("separation", ("__call__",))


#: What :func:`support_matrix` says of each separation in circuit mode (one per builder below).
CIRCUIT_SUPPORT = {
    "max": "yes (hard WTA)",
    "softmax": "yes (soft WTA, β_eff = G/Δv)",
    "topk": "k = 1 only (as max)",
    "threshold": "yes, with the sign readout (SDM)",
    "polynomial": "yes for n up to about 3.4 (noise-driven power law; positive scores, no "
    "per-query term)",
    "identity": "yes (linear regime; no per-query term)",
}


@circuit_separations.register(Max)
def _max(sep, model) -> str:
    return "max"


@circuit_separations.register(TopK)
def _topk(sep, model) -> str:
    if sep.weighting != "uniform":
        raise UnsupportedComponent(
            "separation 'topk' with weighting='score'",
            "circuit",
            "a k-WTA's winners fire at one rate, so they are read with equal weight",
        )
    if sep.k > 1:
        raise UnsupportedComponent(
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
    return "topk"


@circuit_separations.register(Softmax)
def _softmax(sep, model) -> str:
    return "softmax"


@circuit_separations.register(Threshold)
def _threshold(sep, model) -> str:
    if isinstance(model.readout, IdentityReadout):
        raise UnsupportedComponent(
            "separation 'threshold' with the identity readout",
            "circuit",
            "the outputs give the mean projected row of the active populations; the sum "
            "needs their number, which no neuron counts yet (sign readout, as in SDM, works)",
        )
    return "threshold"


@circuit_separations.register(Polynomial)
def _polynomial(sep, model) -> str:
    return "polynomial"


@circuit_separations.register(Identity)
def _identity(sep, model) -> str:
    return "identity"


def plan_circuit(model, sim_map, M: np.ndarray, P: np.ndarray, cfg) -> CircuitPlan:
    """The circuit's build-time constants for ``model`` on memories ``M`` and projection ``P``.

    The gain ``G`` comes from the stored patterns queried with each other (``S = W φ(M) + b``):
    for the competitive separations it puts a typical self-match ``drive`` gaps above the
    average memory (softmax: ``G = β·Δv``); for threshold one standard deviation of ``S`` is
    one gap, and the bias puts ``s = θ`` exactly at threshold.
    """
    plan = _plan_circuit(model, sim_map, M, P, cfg)
    if cfg.circuit.memory_model is not None:  # a user's neuron: the interface this circuit needs
        cfg.circuit.memory_model.check(_needs(plan, sim_map))
    return plan


def _plan_circuit(model, sim_map, M: np.ndarray, P: np.ndarray, cfg) -> CircuitPlan:
    c, sep = cfg.circuit, model.separation
    mode = "circuit"
    kind = circuit_separations.lookup(sep, mode)(sep, model)  # "max", "softmax", ...
    if sim_map.synapse != "product":
        raise UnsupportedComponent(
            f"similarity {model.similarity.name!r} (synapse {sim_map.synapse})",
            mode,
            "the circuit needs a linear synaptic form",
        )
    if sim_map.score_transform != "identity":
        # −sqrt(−u) is monotone: the ranking, max, top-k and threshold (on the squared
        # distance) are the same; softmax is not
        if kind == "softmax":
            raise UnsupportedComponent(
                "similarity 'euclidean' (not squared) with softmax",
                mode,
                "the circuit's drive is the squared distance; use euclidean(squared=true)",
            )
    N = len(M)
    S = sim_map.features(M) @ sim_map.W.T + sim_map.bias  # (query j, memory k), from M only
    if kind in ("polynomial", "identity"):
        return _plan_graded(kind, sep, model.similarity.name, sim_map, M, S, P, cfg)
    W, b = sim_map.W, sim_map.bias
    gap = c.gap
    k = sep.k if kind == "topk" else 1
    if k > N:
        raise ValidationError(f"'k' of separation 'topk' must be in 1..n_memories={N}; got {k}")
    beta_cfg = beta_pred = None
    if kind == "threshold":
        theta = float(sep.theta)
        if sim_map.score_transform == "neg_sqrt":  # s >= θ  <=>  u >= −θ² (θ <= 0)
            theta = -(theta**2) if theta <= 0 else math.inf
        spread = float(np.std(S)) or 1.0
        G = gap / spread
        bias = G * (b - theta) + gap  # s = θ sits exactly at threshold
        Wc = W
    else:
        Wc = W - W.mean(axis=0, keepdims=True)
        bc = b - b.mean()
        centred_self = np.diag(S) - S.mean(axis=1)
        typical = float(np.median(centred_self))
        if not typical > 0:
            typical = float(np.std(S)) or 1.0
        if kind == "softmax":
            # β_eff = G/Δv. The membrane cannot span more than ``soft_span`` escape widths
            # between a typical self-match and the average memory and stay in the escape
            # regime (beyond it every strong memory fires at the step cap and the homeostat
            # fails: measured on MNIST with β = 1, 0.08 agreement); a larger β is realised
            # as that span, i.e. softmax(β_eff) with β_eff = soft_span/typical < β, which
            # is near-max there anyway. ``beta_predicted`` reports the β realised.
            G = min(float(sep.beta), c.soft_span / typical) * c.escape_width
            beta_cfg, beta_pred = float(sep.beta), G / c.escape_width
        else:
            G = c.drive * gap / typical
        bias = G * bc + c.offset * gap
    # volts per input spike: mean drive G·(W φ) = Σ w r τe with r = rate·φ/scale
    per_spike = G * sim_map.scale / (c.tau_e * c.input_rate * c.connection_p)
    inhibition = c.inhibitory_gain * gap * cfg.inhibition / k
    if kind == "softmax":
        # a homeostat, not a veto: each spike lowers every exponent by a fraction of Δv
        inhibition = c.soft_inhibition * c.escape_width * cfg.inhibition
    if kind == "threshold":
        # latch: strong recurrent excitation, no competition
        inhibition = 0.0
        self_w = 2.0 * gap / cfg.neurons_per_memory
    else:
        # per spike of the population, each of its neurons gets one w_s and the whole
        # inhibition: equal areas w_s · τ_self = self_excitation · inhibition_per_spike · τi
        self_w = c.self_excitation * c.inhibitory_gain * gap / k * c.tau_i / c.tau_self
        if kind == "softmax":
            self_w = 0.0
    P = np.asarray(P, dtype=float)
    scale = float(np.max(np.abs(P))) or 1.0
    P_on = np.clip(P, 0, None) / scale
    P_off = np.clip(-P, 0, None) / scale if np.any(P < 0) else None
    return CircuitPlan(
        separation=kind,
        W=Wc * per_spike,
        bias=np.asarray(bias, dtype=float),
        gain=G,
        k=k,
        inhibition_per_spike=inhibition,
        self_weight=self_w,
        P_on=P_on,
        P_off=P_off,
        P_scale=scale,
        beta_configured=beta_cfg,
        beta_predicted=beta_pred,
    )


def _siegert(mu, sigma, c, colored=0.0) -> np.ndarray:
    """Rate (Hz) of an LIF neuron whose free membrane has mean ``mu`` (V above rest, array)
    and stationary standard deviation ``sigma`` (V): Siegert's first-passage formula
    (Brunel 2000, eq. 21, whose σ is √2 times the stationary one), with the refractory
    period and reset of :class:`CircuitParams`."""
    from scipy.special import erfcx

    mu, sigma, colored = np.broadcast_arrays(
        np.asarray(mu, dtype=float), np.asarray(sigma, dtype=float), np.asarray(colored)
    )
    shape = mu.shape
    mu, sigma, colored = mu.ravel(), sigma.ravel(), colored.ravel()
    sb = math.sqrt(2.0) * np.maximum(sigma, 1e-9)
    # the synaptic part of the noise is filtered (τe): threshold and reset move up by
    # α/2·sqrt(τe/τm)·σ_syn, α = sqrt(2)·|ζ(1/2)| (Brunel & Sergi 1998; Fourcaud & Brunel 2002)
    shift = 1.0326 * math.sqrt(c.tau_e / c.tau_m) * math.sqrt(2.0) * np.asarray(colored)
    lo, hi = (c.v_reset - c.v_rest + shift - mu) / sb, (c.gap + shift - mu) / sb
    u = np.linspace(0.0, 1.0, 200)[None, :]
    grid = lo[:, None] + (hi - lo)[:, None] * u
    # e^{u²}(1 + erf u) = erfcx(−u); the integrand overflows where the rate is nil anyway
    vals = erfcx(-np.clip(grid, None, 26.0))
    integral = np.trapezoid(vals, grid, axis=1)
    with np.errstate(over="ignore", divide="ignore"):
        return (1.0 / (c.refractory + c.tau_m * math.sqrt(math.pi) * integral)).reshape(shape)


def _shot_noise_per_gain(sim_map, M: np.ndarray, S: np.ndarray, c) -> tuple[float, float]:
    """Variance (V² per unit of gain G²) of a memory neuron's free membrane caused by the
    Poisson input spikes, as a line ``a + b·s`` in the score, fitted over the stored patterns
    queried with each other (Campbell's theorem for a current-based synapse τe into a
    membrane τm: var = Σ r w² τe² / (2(τe + τm)))."""
    phi = sim_map.features(M)
    phi = np.concatenate([np.clip(ch * phi, 0, None) for ch in (1, -1)], axis=1)
    W2 = np.concatenate([sim_map.W, sim_map.W], axis=1) ** 2
    rates = np.clip(phi / sim_map.scale, 0, 1) * c.input_rate * c.connection_p
    w_per_G = sim_map.scale / (c.tau_e * c.input_rate * c.connection_p)
    var = (rates @ W2.T) * w_per_G**2 * c.tau_e**2 / (2 * (c.tau_e + c.tau_m))
    if np.ptp(S) > 0:
        b, a = np.polyfit(S.ravel(), var.ravel(), 1)
        return float(a), float(b)
    return float(np.median(var)), 0.0


#: Polynomial: the fitted exponent must come within this of n, over the fit range below.
EXPONENT_TOLERANCE = 0.15
#: Graded codes: the most releases an output neuron expects per step on a stored pattern (two
#: in one step make one spike; at 0.05 about 2.5 % are merged).
RELEASES_PER_STEP = 0.05
#: Identity: the smallest rate difference (Hz per neuron) between the lowest and the highest
#: stored score, so the line is decodable from counts.
IDENTITY_SPAN = 60.0
#: Polynomial: the largest |log rate − power-law fit| over the range that counts as a power law.
POWER_MISFIT = 0.1
#: Polynomial: the exponent is fitted over scores in [FIT_LOW, 1] × the typical self-match.
FIT_LOW = 0.3
#: Graded codes: the rate (Hz per neuron) of a typical self-match, so counts are decodable.
GRADED_TOP_RATE = (20.0, 200.0)


def _plan_graded(kind, sep, sim_name, sim_map, M, S, P, cfg) -> CircuitPlan:
    """Polynomial and identity: noise-driven LIF neurons without competition, whose rate
    curve over the stored scores is a power law of exponent ≈ n (Miller & Troyer 2002;
    Hansel & van Vreeswijk 2002) or a straight line (identity).

    The memory neuron's free mean membrane is ``v_rest + G·s`` (rest at s = 0: polynomial) or
    ``v_rest + μ₀ + G·s`` (identity), and its noise σ; the total σ includes the input spikes'
    shot noise (∝ G). ``G``, ``μ₀`` and the membrane noise are chosen on a grid from M only,
    by Siegert's formula for the rate, so the predicted curve has the right shape over the
    stored scores. Where no grid point does, :class:`UnsupportedComponent` says what range is
    reachable.
    """
    c, mode = cfg.circuit, "circuit"
    gap = c.gap
    if sim_map.score_transform != "identity":
        raise UnsupportedComponent(
            f"similarity with a {sim_map.score_transform} score and separation {sep.name!r}",
            mode,
            "the graded rate code needs the score itself as the drive",
        )
    if getattr(cfg, "storage", "set") != "set":
        raise UnsupportedComponent(
            f"separation {sep.name!r} with storage={cfg.storage!r}",
            mode,
            "the graded codes' release probabilities are scaled below |P|/max|P| and their "
            "decoder is fitted to the set weights' rates at build; neither is learned yet",
        )
    if np.any(np.asarray(sim_map.common(M[:4])) != 0):
        raise UnsupportedComponent(
            f"similarity {sim_name!r} with separation {sep.name!r}",
            mode,
            "its score has a per-query term c(q) (e.g. −‖q‖²) with no synaptic form: the "
            "competitive separations ignore it (it shifts every memory alike), but a graded "
            "code's rates would be off by it",
        )
    typical = float(np.median(np.diag(S)))
    shot_a, shot_b = _shot_noise_per_gain(sim_map, M, S, c)

    def rate(mu, sigma, G, s):  # membrane noise σ and the input's (filtered) shot noise
        shot = G * np.sqrt(np.clip(shot_a + shot_b * s, 0, None))
        return _siegert(mu, np.sqrt(sigma**2 + shot**2), c, colored=shot)

    exp_cfg = exp_pred = nonlin = None
    sigmas = np.concatenate([[0.0], np.geomspace(0.01, 1.5, 40)]) * gap  # membrane noise
    if kind == "polynomial":
        n = float(sep.n)
        if not typical > 0:
            raise UnsupportedComponent(
                f"separation 'polynomial' with similarity {sim_name!r}",
                mode,
                "the stored patterns' self-scores are not positive, so relu(s)^n is 0 for "
                "every memory (use a similarity with positive scores)",
            )
        xs = np.geomspace(FIT_LOW, 1.0, 12)
        lx = np.log(xs) - np.log(xs).mean()
        best, reach = None, []
        tops = np.linspace(0.2, 2.5, 24)[:, None, None] * gap  # G × a typical self-match, V
        for mu0 in np.linspace(-1.0, 0.5, 16) * gap:  # free membrane at s = 0, V above rest
            G = tops / typical
            r = rate(mu0 + xs * tops, sigmas[None, :, None], G, xs * typical)  # (top, σ, x)
            ok = (r[..., -1] >= GRADED_TOP_RATE[0]) & (r[..., -1] <= GRADED_TOP_RATE[1])
            ok &= np.all(r > 0, axis=-1)
            with np.errstate(divide="ignore", invalid="ignore"):
                lr = np.log(r)
                slope = ((lr - lr.mean(-1, keepdims=True)) * lx).sum(-1) / (lx**2).sum()
                fit = lr.mean(-1, keepdims=True) + slope[..., None] * lx
                misfit = np.max(np.abs(lr - fit), axis=-1)
            ok &= misfit <= POWER_MISFIT  # a power law over the range
            reach += list(slope[ok])
            cost = np.where(ok, np.abs(slope - n) + 0.5 * misfit, np.inf)
            i, j = np.unravel_index(np.argmin(cost), cost.shape)
            if np.isfinite(cost[i, j]) and (best is None or cost[i, j] < best[0]):
                best = (cost[i, j], float(slope[i, j]), float(G[i, 0, 0]), sigmas[j], mu0)
        lo_n, hi_n = (min(reach), max(reach)) if reach else (math.nan, math.nan)
        if best is None or abs(best[1] - n) > EXPONENT_TOLERANCE:
            raise UnsupportedComponent(
                f"separation 'polynomial' with n={n:g}",
                mode,
                f"noise-driven LIF neurons reach power-law exponents {lo_n:.2f}..{hi_n:.2f} "
                f"over scores {FIT_LOW:g}-1 × a typical self-match at a decodable rate "
                f"({GRADED_TOP_RATE[0]:g}-{GRADED_TOP_RATE[1]:g} Hz; Siegert's formula with "
                f"this circuit's τm, refractory period and input noise); n={n:g} is "
                f"{'above' if n > hi_n else 'below'} that",
            )
        _, exp_pred, G, sigma_mem, mu0 = best
        exp_cfg, bias = n, G * sim_map.bias + mu0
    else:
        lo_s, hi_s = float(np.min(S)), float(np.max(S))
        if not hi_s > lo_s:
            hi_s = lo_s + 1.0
        xs = np.linspace(lo_s, hi_s, 15)
        best = None
        spans = np.linspace(0.2, 3.0, 29)[:, None, None] * gap
        for low in np.linspace(-0.5, 1.0, 16) * gap:  # drive at the lowest score, V
            G = spans / (hi_s - lo_s)
            r = rate(low + G * (xs - lo_s), sigmas[None, :, None], G, xs)  # (span, σ, x)
            width = r[..., -1] - r[..., 0]
            ok = (r[..., -1] <= GRADED_TOP_RATE[1]) & (width >= IDENTITY_SPAN)
            xc = xs - xs.mean()
            slope = ((r - r.mean(-1, keepdims=True)) * xc).sum(-1) / (xc**2).sum()
            line = r.mean(-1, keepdims=True) + slope[..., None] * xc
            with np.errstate(divide="ignore", invalid="ignore"):
                dev = np.where(ok, np.max(np.abs(r - line), axis=-1) / width, np.inf)
            i, j = np.unravel_index(np.argmin(dev), dev.shape)
            if np.isfinite(dev[i, j]) and (best is None or dev[i, j] < best[0]):
                best = (float(dev[i, j]), float(G[i, 0, 0]), sigmas[j], low)
        if best is None:
            raise UnsupportedComponent(
                "separation 'identity'", mode, "no operating point gives a decodable rate"
            )
        nonlin, G, sigma_mem, low = best
        bias = G * sim_map.bias + (low - G * lo_s)
    memory_noise = sigma_mem
    per_spike = G * sim_map.scale / (c.tau_e * c.input_rate * c.connection_p)
    P = np.asarray(P, dtype=float)
    scale = float(np.max(np.abs(P))) or 1.0
    # Every memory fires (no competition), so an output neuron can receive several releases
    # in one step, which make one spike: the release probabilities are scaled down (by a
    # build-time factor, from the rates predicted on M) until the busiest output neuron
    # expects at most RELEASES_PER_STEP releases a step on a stored pattern.
    drive = G * S + np.asarray(bias, dtype=float)[None, :]
    rates = rate(drive.ravel(), sigma_mem, G, S.ravel()).reshape(S.shape)
    releases = cfg.neurons_per_memory * (rates @ np.abs(P)).mean(axis=0) / scale * cfg.dt
    scale *= max(1.0, float(np.max(releases)) / RELEASES_PER_STEP)
    return CircuitPlan(
        separation=kind,
        W=sim_map.W * per_spike,
        bias=np.broadcast_to(np.asarray(bias, dtype=float), (len(S),)).copy(),
        gain=G,
        k=1,
        inhibition_per_spike=0.0,  # no competition: every memory's rate follows its score
        self_weight=0.0,
        P_on=np.clip(P, 0, None) / scale,
        P_off=np.clip(-P, 0, None) / scale if np.any(P < 0) else None,
        P_scale=scale,
        exponent_configured=exp_cfg,
        exponent_predicted=exp_pred,
        memory_noise=memory_noise,
        calibration_scores=S,
        nonlinearity=nonlin,
    )


def fit_graded_decoder(plan: CircuitPlan, cues: np.ndarray, counts: np.ndarray, window: float):
    """The graded codes' decoder, from a calibration run on stored patterns (M only).

    ``cues``: which stored pattern cued each copy; ``counts``: (copies, N) memory
    populations' counts over ``window`` s. Returns ``(unit, offset, exponent)``: the
    population rate (Hz) per unit of separation weight and at weight 0 (identity; 0 for
    polynomial), so ``w ≈ (rate − offset)/unit``, and for polynomial the exponent of a power
    law fitted to the measured rates over scores in [FIT_LOW, 1] × a typical self-match.
    """
    S = plan.calibration_scores[np.asarray(cues)]
    y = np.asarray(counts, dtype=float) / window
    if plan.separation == "identity":
        unit, offset = np.polyfit(S.ravel(), y.ravel(), 1)
        return float(unit), float(offset), None
    x = np.clip(S, 0, None) ** plan.exponent_configured
    unit = float((x * y).sum() / max((x * x).sum(), 1e-300))
    typical = float(np.median(np.diag(plan.calibration_scores)))
    fit = (S >= FIT_LOW * typical) & (y > 0)
    exponent = None
    if fit.sum() >= 3 and np.ptp(np.log(S[fit])) > 0:
        exponent = float(np.polyfit(np.log(S[fit]), np.log(y[fit]), 1)[0])
    return unit, 0.0, exponent


# Equation fragments, composed with brian2.Equations (``+``). The documented interface of a
# memory neuron is ``v`` (membrane, V), ``ge``/``gi`` (excitatory/inhibitory currents in
# volts, targeted by the synapses with ``ge_post += w`` / ``gi_post += w``; the lateral
# inhibition gi acts as a conductance with reversal potential E_i, scaled to equal gi at
# rest, so it cannot pull the membrane below E_i), ``gf`` (fast feed-forward inhibition from
# the relays, with the excitation's time course), ``gs`` (the slow, NMDA-like recurrent
# excitation within a population) and ``I_bias`` (the bias current, set per neuron at build;
# ``gb`` follows it with time constant τe from the query's onset).
MEMBRANE = "dv/dt = (v_rest - v + gb + I_syn) / tau_m + sigma * sqrt(2 / tau_m) * xi : volt {flag}"
SYNAPSES = """
I_syn = ge + gs - gf - gi * (v - E_i) / (v_rest - E_i) : volt
dge/dt = -ge / tau_e : volt
dgf/dt = -gf / tau_e : volt
dgs/dt = -gs / tau_self : volt
dgi/dt = -gi / tau_i : volt
"""
BIAS = """
dgb/dt = (I_bias - gb) / tau_e : volt
I_bias : volt (constant)
"""


def memory_equations(b2, *, refractory: bool = True):
    """The default memory neuron as ``brian2.Equations``: membrane + synapses + bias."""
    flag = "(unless refractory)" if refractory else ""
    return b2.Equations(MEMBRANE.format(flag=flag)) + b2.Equations(SYNAPSES) + b2.Equations(BIAS)


#: Names the builder puts in the namespace (from CircuitParams): a user model reads them, and
#: changes them through CircuitParams, whose values the calibration uses.
NAMESPACE_NAMES = (
    "v_rest", "v_th", "v_reset", "E_i", "tau_m", "tau_e", "tau_i", "tau_self", "tau_inh",
    "sigma", "rho0", "dv_esc", "tau_out", "w_ei", "sigma_inh", "I_tonic",
)  # fmt: skip

#: What the circuit needs of a memory neuron: variable -> what targets it.
INTERFACE = {
    "v": "the membrane potential (threshold, reset, initial value)",
    "ge": "the feature→memory excitatory synapses (ge_post += w)",
    "gf": "the relays' feed-forward inhibitory synapses (gf_post += w)",
    "gs": "the self-excitation synapses within a population (gs_post += w)",
    "gi": "the lateral inhibition from the inhibitory population (gi_post += w)",
    "I_bias": "the bias current, set per neuron at build",
}


@dataclass(frozen=True)
class MemoryModel:
    """A memory-neuron model of your own for ``mode="circuit"``
    (``CircuitParams(memory_model=...)``): Brian2 equations that keep the documented
    interface, ``v``, ``ge``, ``gf``, ``gs``, ``gi`` and ``I_bias`` in volts (see
    :data:`INTERFACE`; only the variables the built circuit targets are required).

    Parameters
    ----------
    equations : str or brian2.Equations
        Compose them from the default's fragments, ``MemoryModel.SYNAPSES`` and
        ``MemoryModel.BIAS``, and a membrane of your own (``MemoryModel.MEMBRANE`` is the
        default's, a format string with ``{flag}``).
    threshold, reset : str, optional
        Default ``"v > v_th"`` and ``"v = v_reset"`` (softmax: the escape-noise threshold and
        no reset).
    refractory : float, s, optional
        Default ``CircuitParams.refractory``.
    method : str
        Brian2's integration method (default ``"euler"``: the membrane noise needs it).
    namespace : dict
        Your model's own constants (Brian2 quantities). The builder's names
        (:data:`NAMESPACE_NAMES`) are set from ``CircuitParams``: change them there, where the
        calibration sees them.

    The calibration (gain, bias, decoder) assumes the default LIF membrane: a model that
    changes the firing curve much changes what it achieves, and the decoder's calibration run
    on the stored patterns absorbs only the overall rate.
    """

    equations: Any = field(hash=False)
    threshold: str | None = None
    reset: str | None = None
    refractory: float | None = None
    method: str = "euler"
    namespace: Any = field(default_factory=dict, hash=False, compare=False)

    MEMBRANE: ClassVar[str] = MEMBRANE
    SYNAPSES: ClassVar[str] = SYNAPSES
    BIAS: ClassVar[str] = BIAS

    def __post_init__(self) -> None:
        eqs = self.equations
        if not isinstance(eqs, str) and type(eqs).__name__ != "Equations":
            raise ValidationTypeError(
                "'memory_model' equations must be a string or brian2.Equations; got "
                f"{type(eqs).__name__}"
            )
        for name in ("threshold", "reset"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValidationTypeError(f"'memory_model' {name} must be a string; got {value!r}")
        if self.refractory is not None:
            from ._config import _seconds

            object.__setattr__(self, "refractory", _seconds(self.refractory, "refractory"))
        if not isinstance(self.namespace, dict):
            raise ValidationTypeError(
                f"'memory_model' namespace must be a dict; got {type(self.namespace).__name__}"
            )
        clash = sorted(set(self.namespace) & set(NAMESPACE_NAMES))
        if clash:
            raise ValidationError(
                f"'memory_model' namespace sets {', '.join(map(repr, clash))}, which the circuit "
                "sets from CircuitParams (the calibration uses them): change them there, e.g. "
                "CircuitParams(tau_m=...)"
            )
        self.parsed()  # equations that do not parse fail here, not at the first run

    def parsed(self):
        from ._device import brian

        b2 = brian()
        if not isinstance(self.equations, str):
            return self.equations
        try:
            return b2.Equations(self.equations)
        except Exception as exc:  # Brian2 raises several types for a bad string
            raise ValidationError(f"'memory_model' equations do not parse: {exc}") from None

    def check(self, needs) -> None:
        """A ValidationError naming the first interface variable the model lacks or defines
        with other units (``needs``: the variables the built circuit targets)."""
        from ._device import brian

        b2 = brian()
        eqs = self.parsed()
        for var in needs:
            if var not in eqs.names or var in eqs.subexpr_names:
                raise ValidationError(
                    f"'memory_model' must define the state variable {var!r}: {INTERFACE[var]}"
                )
            if eqs[var].dim != b2.volt.dim:
                raise ValidationError(
                    f"'memory_model' variable {var!r} must be in volts ({INTERFACE[var]})"
                )
        if "v" in needs and "v" not in eqs.diff_eq_names:
            raise ValidationError("'memory_model' must give 'v' a differential equation")


def _needs(plan: CircuitPlan, sim_map) -> tuple[str, ...]:
    """The memory-neuron variables this circuit's synapses and builder target."""
    W = plan.W if plan.neurons is None else np.asarray(plan.neurons["W"])
    relays = bool(np.any(W < 0) or (sim_map.sign != "nonnegative" and np.any(W > 0)))
    needs = ["v", "ge", "I_bias"]
    needs += ["gf"] * relays + ["gs"] * (plan.self_weight > 0)
    needs += ["gi"] * (plan.inhibition_per_spike > 0)
    return tuple(needs)


ESCAPE_THRESHOLD = "rand() < clip(rho0 * exp(clip((v - v_th) / dv_esc, -60, 20)) * dt, 0, 0.5)"


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


def build_circuit(b2, plan: CircuitPlan, cfg, K: int, channels: tuple[int, ...], rng):
    """Brian2 objects of ``K`` independent copies of the circuit; returns (objects, groups,
    namespace). ``channels``: the feature channels, (1,) or on/off (1, −1) for signed
    features (the off channel's neurons carry −φ, so they connect with −W)."""
    c = cfg.circuit
    N, n = plan.W.shape[0], cfg.neurons_per_memory
    W, bias, Pfull = neuron_values(plan, channels, n, c.connection_p, rng)
    F = W.shape[1]
    n_out = plan.P_on.shape[1]
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
        "tau_veto": 10 * ms,  # the output neurons' veto conductance (the read-out gate)
    }
    soft = plan.separation == "softmax"
    objects, groups = [], {}

    features = b2.PoissonGroup(K * F, rates=0 * Hz, dt=dt, name="features")
    groups["features"] = features
    objects.append(features)

    # escape noise for softmax, no reset: the membrane keeps integrating (Nessler et al. 2013)
    user = c.memory_model
    threshold = ESCAPE_THRESHOLD if soft else "v > v_th"
    reset = None if soft else "v = v_reset"
    refractory, method = (None if soft else c.refractory), "euler"
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
    memories = b2.NeuronGroup(
        K * N * n, mem_eqs, threshold=threshold, method=method, dt=dt, name="memories", **extra
    )
    # the bias current gb rises with the query, with the synaptic time course τe (it is the
    # tonic part of the input): a memory whose drive is mostly bias gets no head start
    memories.v = c.v_rest * b2.volt
    memories.I_bias = np.tile(bias, K) * b2.volt
    groups["memories"] = memories
    objects.append(memories)

    # feature -> memory: excitatory W⁺ directly, inhibitory W⁻ through relay interneurons
    post_local, pre_local = np.nonzero(W > 0)
    objects.append(
        _connect(b2, features, memories, "ge", pre_local, post_local, W[post_local, pre_local],
                 K, F, N * n, dt, "excitation")
    )  # fmt: skip
    post_neg, pre_neg = np.nonzero(W < 0)
    if len(pre_neg):
        relays = b2.NeuronGroup(
            K * F, "dv/dt = (v_rest - v) / tau_out : volt", threshold="v > v_th",
            reset="v = v_reset", method="exact", dt=dt, name="relays",
        )  # fmt: skip
        relays.v = c.v_rest * b2.volt
        relay_in = b2.Synapses(features, relays, on_pre="v_post += 2 * (v_th - v_rest)",
                               dt=dt, name="relay_input")  # fmt: skip
        relay_in.connect(j="i")
        # feed-forward inhibition (gf) has the excitation's time course, so W⁺ and W⁻
        # rise together and no memory gets a head start from the sign of its weights
        ff = _connect(b2, relays, memories, "gf", pre_neg, post_neg, -W[post_neg, pre_neg],
                      K, F, N * n, dt, "feedforward_inhibition")  # fmt: skip
        objects += [relays, relay_in, ff]
        groups["relays"] = relays

    # the lateral-inhibition loop: memories -> inhibitory population -> memories
    n_inh = c.n_inhibitory
    inhibitory = b2.NeuronGroup(
        K * n_inh, "dv/dt = (v_rest - v) / tau_inh : volt (unless refractory)",
        threshold="v > v_th", reset="v = v_reset", refractory=1 * ms, method="exact", dt=dt,
        name="inhibitory",
    )  # fmt: skip
    inhibitory.v = c.v_rest * b2.volt
    groups["inhibitory"] = inhibitory
    objects.append(inhibitory)
    copy_m = np.repeat(np.arange(K), N * n)
    copy_i = np.repeat(np.arange(K), n_inh)
    e_i = np.arange(K * N * n)[:, None], np.arange(n_inh)[None, :]
    pre = e_i[0].repeat(n_inh, axis=1).ravel()
    post = (copy_m[:, None] * n_inh + e_i[1]).ravel()
    ns["w_ei"] = c.e_to_i * c.gap * b2.volt
    to_inh = b2.Synapses(memories, inhibitory, on_pre="v_post += w_ei",
                         delay=c.delay * b2.second, dt=dt, name="e_to_i")  # fmt: skip
    to_inh.connect(i=pre, j=post)
    objects.append(to_inh)
    if plan.inhibition_per_spike > 0:
        pre_i = np.repeat(np.arange(K * n_inh), N * n)
        post_i = (copy_i[:, None] * (N * n) + np.arange(N * n)[None, :]).ravel()
        from_inh = b2.Synapses(inhibitory, memories, "w : volt", on_pre="gi_post += w",
                               delay=c.delay * b2.second, dt=dt, name="i_to_e")  # fmt: skip
        from_inh.connect(i=pre_i, j=post_i)
        from_inh.w = plan.inhibition_per_spike / n_inh * b2.volt
        objects.append(from_inh)
        groups["i_to_e"] = from_inh
    if plan.self_weight > 0:  # within each population, autapses included
        local = np.arange(n)
        pre_s = (np.arange(K * N)[:, None, None] * n + local[None, :, None]).repeat(n, 2).ravel()
        post_s = (np.arange(K * N)[:, None, None] * n + local[None, None, :]).repeat(n, 1).ravel()
        recurrent = b2.Synapses(
            memories, memories, "w : volt", on_pre="gs_post += w", delay=c.delay * b2.second,
            dt=dt, name="self_excitation",
        )  # fmt: skip
        recurrent.connect(i=pre_s, j=post_s)
        recurrent.w = plan.self_weight * b2.volt
        objects.append(recurrent)

    # memory -> output: release probabilities carry P; every output spike is one release.
    # Each column (on, [off]) is a population of ``output_neurons`` neurons, each reached
    # through its own synapse (independent releases); the reference is one neuron.
    n_cols = n_out * (2 if plan.signed_output else 1) + 1  # on, [off], reference
    m = c.output_neurons
    per_copy = (n_cols - 1) * m + 1
    outputs = b2.NeuronGroup(
        K * per_copy, OUTPUT_NEURON, threshold="v > v_th", reset="v = v_reset",
        method="exponential_euler", dt=dt, name="outputs",
    )  # fmt: skip
    outputs.v = c.v_rest * b2.volt
    groups["outputs"] = outputs
    objects.append(outputs)
    m_idx, o_idx = np.nonzero(Pfull > 0)
    p_val = Pfull[m_idx, o_idx]
    data = o_idx < n_cols - 1
    m_idx = np.concatenate([np.repeat(m_idx[data], m), m_idx[~data]])
    p_val = np.concatenate([np.repeat(p_val[data], m), p_val[~data]])
    o_idx = np.concatenate([
        (o_idx[data][:, None] * m + np.arange(m)[None]).ravel(),
        np.full(np.count_nonzero(~data), (n_cols - 1) * m),
    ])  # fmt: skip
    pre_o = (np.arange(K)[:, None] * (N * n) + m_idx[None]).ravel()
    post_o = (np.arange(K)[:, None] * per_copy + o_idx[None]).ravel()
    projection = b2.Synapses(memories, outputs, "p : 1", on_pre=RELEASE, dt=dt,
                             name="projection")  # fmt: skip
    projection.connect(i=pre_o, j=post_o)
    projection.p = np.tile(p_val, K)
    objects.append(projection)

    if plan.normalised and c.readout_gate > 0:
        objects += _output_gate(b2, outputs, K, per_copy, cfg, ns, groups)

    for name, group in (("memory_spikes", memories), ("inhibitory_spikes", inhibitory),
                        ("output_spikes", outputs)):  # fmt: skip
        mon = b2.SpikeMonitor(group, name=name)
        groups[name] = mon
        objects.append(mon)
    groups["n_cols"], groups["n_output_neurons"] = n_cols, per_copy
    _quiet_release_warning()
    return objects, groups, ns


#: The output gate's count while calibrating: never reached, so the gate stays open.
GATE_OPEN = 1e12

#: Output neurons: a fast membrane that fires on a release, and the gate's veto, a shunting
#: inhibitory conductance gv (reversal E_i; gv / (v_rest − E_i) is its size relative to the
#: leak) that holds v near E_i.
OUTPUT_NEURON = """
dv/dt = (v_rest - v - gv * (v - E_i) / (v_rest - E_i)) / tau_out : volt
dgv/dt = -gv / tau_veto : volt
"""
#: A release: with probability p, a depolarisation that takes an unshunted output neuron past
#: threshold. The shunt divides it by the membrane's total conductance (1 + gv/(v_rest − E_i)),
#: as it divides a synaptic current that outlasts the shunted membrane's time constant, so
#: under the veto even several releases in one step stay far below threshold.
RELEASE = "v_post += 2 * (v_th - v_rest) * int(rand() < p) / (1 + gv_post / (v_rest - E_i))"


def _output_gate(b2, outputs, K: int, per_copy: int, cfg, ns: dict, groups: dict) -> list:
    """The output gate: one inhibitory neuron per copy counts the reference neuron's spikes
    from ``settle`` on (a perfect integrator) and, at ``R`` of them, fires tonically and
    vetoes every output neuron of its copy. Every query's outputs then sum the same number
    of memory spikes, so z = max|P|·(n_on − n_off)/R does not scale with the winner's rate.
    ``R`` (``gate.R``) is set after the decoder's calibration run on the stored patterns, as
    ``readout_gate`` × their typical reference count; it is a build-time constant."""
    c = cfg.circuit
    dt = cfg.dt * b2.second
    ns.update(t_open=cfg.settle * b2.second, w_veto=5 * c.gap * b2.volt)
    gate = b2.NeuronGroup(
        K, "c : 1\nR : 1 (constant)", threshold="c >= R", refractory=5 * b2.ms, dt=dt,
        name="gate",
    )  # fmt: skip
    gate.R = GATE_OPEN  # the calibration sets R
    count = b2.Synapses(outputs, gate, on_pre="c_post += int(t >= t_open)", dt=dt,
                        name="gate_count")  # fmt: skip
    count.connect(i=np.arange(K) * per_copy + per_copy - 1, j=np.arange(K))  # the reference
    veto = b2.Synapses(gate, outputs, on_pre="gv_post += w_veto", delay=c.delay * b2.second,
                       dt=dt, name="gate_veto")  # fmt: skip
    veto.connect(i=np.repeat(np.arange(K), per_copy), j=np.arange(K * per_copy))
    groups["gate"] = gate
    monitor = b2.SpikeMonitor(gate, name="gate_spikes")
    groups["gate_spikes"] = monitor
    return [gate, count, veto, monitor]


#: Dale's law: every group is excitatory or inhibitory (checked by tests/test_circuit.py).
CELL_TYPES = {
    "gate": "inhibitory",
    "features": "excitatory",
    "memories": "excitatory",
    "outputs": "excitatory",
    "relays": "inhibitory",
    "inhibitory": "inhibitory",
}


class _ReleaseFilter:
    """Brian2 warns that ``v_post += w * int(rand() < p)`` may depend on the order of
    execution; a sum of independent releases does not, so that one message is dropped."""

    def filter(self, record) -> bool:
        return "int(rand() < p)" not in record.getMessage()


def _quiet_release_warning() -> None:
    import logging

    logger = logging.getLogger("brian2.codegen.generators.base")
    if not any(isinstance(f, _ReleaseFilter) for f in logger.filters):
        logger.addFilter(_ReleaseFilter())


def _connect(b2, source, target, var, pre_local, post_local, w, K, F, n_post, dt, name):
    """Block-diagonal synapses ``source → target`` for K copies (one block per copy)."""
    pre = (np.arange(K)[:, None] * F + pre_local[None]).ravel()
    post = (np.arange(K)[:, None] * n_post + post_local[None]).ravel()
    syn = b2.Synapses(source, target, "w : volt", on_pre=f"{var}_post += w", dt=dt, name=name)
    syn.connect(i=pre, j=post)
    syn.w = np.tile(w, K) * b2.volt
    return syn

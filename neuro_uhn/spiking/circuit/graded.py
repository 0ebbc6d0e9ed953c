"""Polynomial and identity: graded rate codes of noise-driven LIF neurons, no competition.

* **poly(n)** — with membrane noise the rate is a power law of the drive below threshold
  (Miller & Troyer 2002; Hansel & van Vreeswijk 2002); the operating point (gain, bias,
  noise) is chosen from M by Siegert's formula so the exponent over the stored scores is n
  (``plan.exponent_predicted``); n beyond reach (about 3.4 here) is UnsupportedComponent.
* **identity** — the same neurons in their linear regime (large noise, drive around
  threshold): rate = r₀ + c·s over the stored scores' range.

The sub-network adds nothing: every memory's rate follows its own score.
"""

from __future__ import annotations

import math

import numpy as np

from ...separation import Identity, Polynomial
from ..registry import unsupported
from .plan import (
    CircuitPlan,
    SeparationCircuit,
    register_separation,
    release_probabilities,
    volts_per_spike,
)

__all__ = ["plan_graded", "fit_graded_decoder"]


def _siegert(mu, sigma, cfg, colored=0.0) -> np.ndarray:
    """Rate (Hz) of an LIF neuron whose free membrane has mean ``mu`` (V above rest, array)
    and stationary standard deviation ``sigma`` (V): Siegert's first-passage formula
    (Brunel 2000, eq. 21, whose σ is √2 times the stationary one), with the refractory
    period (``SpikingConfig.refractory``) and reset of :class:`CircuitParams`."""
    from scipy.special import erfcx

    c = cfg.circuit
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
        return (1.0 / (cfg.refractory + c.tau_m * math.sqrt(math.pi) * integral)).reshape(shape)


def _shot_noise_per_gain(sim_map, M: np.ndarray, S: np.ndarray, cfg) -> tuple[float, float]:
    """Variance (V² per unit of gain G²) of a memory neuron's free membrane caused by the
    Poisson input spikes, as a line ``a + b·s`` in the score, fitted over the stored patterns
    queried with each other (Campbell's theorem for a current-based synapse τe into a
    membrane τm: var = Σ r w² τe² / (2(τe + τm)))."""
    c = cfg.circuit
    phi = sim_map.features(M)
    phi = np.concatenate([np.clip(ch * phi, 0, None) for ch in (1, -1)], axis=1)
    W2 = np.concatenate([sim_map.W, sim_map.W], axis=1) ** 2
    rates = np.clip(phi / sim_map.scale, 0, 1) * cfg.input_rate * c.connection_p
    w_per_G = sim_map.scale / (c.tau_e * cfg.input_rate * c.connection_p)
    var = (rates @ W2.T) * w_per_G**2 * c.tau_e**2 / (2 * (c.tau_e + c.tau_m))
    if np.ptp(S) > 0:
        b, a = np.polyfit(S.ravel(), var.ravel(), 1)
        return float(a), float(b)
    return float(np.median(var)), 0.0


#: Polynomial: the fitted exponent must come within this of n, over the fit range below.
EXPONENT_TOLERANCE = 0.15
#: Identity: the smallest rate difference (Hz per neuron) between the lowest and the highest
#: stored score, so the line is decodable from counts.
IDENTITY_SPAN = 60.0
#: Polynomial: the largest |log rate − power-law fit| over the range that counts as a power law.
POWER_MISFIT = 0.1
#: Polynomial: the exponent is fitted over scores in [FIT_LOW, 1] × the typical self-match.
FIT_LOW = 0.3
#: Graded codes: the rate (Hz per neuron) of a typical self-match, so counts are decodable.
GRADED_TOP_RATE = (20.0, 200.0)


def plan_graded(kind, sep, sim_name, sim_map, M, S, P, cfg) -> CircuitPlan:
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
        raise unsupported(
            f"similarity with a {sim_map.score_transform} score and separation {sep.name!r}",
            mode,
            "the graded rate code needs the score itself as the drive",
        )
    if getattr(cfg, "storage", "set") != "set":
        raise unsupported(
            f"separation {sep.name!r} with storage={cfg.storage!r}",
            mode,
            "the graded codes' release probabilities are scaled below |P|/max|P| and their "
            "decoder is fitted to the set weights' rates at build; neither is learned yet",
        )
    if np.any(np.asarray(sim_map.common(M[:4])) != 0):
        raise unsupported(
            f"similarity {sim_name!r} with separation {sep.name!r}",
            mode,
            "its score has a per-query term c(q) (e.g. −‖q‖²) with no synaptic form: the "
            "competitive separations ignore it (it shifts every memory alike), but a graded "
            "code's rates would be off by it",
        )
    typical = float(np.median(np.diag(S)))
    shot_a, shot_b = _shot_noise_per_gain(sim_map, M, S, cfg)

    def rate(mu, sigma, G, s):  # membrane noise σ and the input's (filtered) shot noise
        shot = G * np.sqrt(np.clip(shot_a + shot_b * s, 0, None))
        return _siegert(mu, np.sqrt(sigma**2 + shot**2), cfg, colored=shot)

    exp_cfg = exp_pred = nonlin = None
    sigmas = np.concatenate([[0.0], np.geomspace(0.01, 1.5, 40)]) * gap  # membrane noise
    if kind == "polynomial":
        n = float(sep.n)
        if not typical > 0:
            raise unsupported(
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
            raise unsupported(
                f"separation 'polynomial' with n={n:g}",
                mode,
                f"noise-driven LIF neurons reach power-law exponents {lo_n:.2f}..{hi_n:.2f} "
                f"over scores {FIT_LOW:g}-1 × a typical self-match at a decodable rate "
                f"({GRADED_TOP_RATE[0]:g}-{GRADED_TOP_RATE[1]:g} Hz; Siegert's formula with "
                f"this circuit's τm, refractory period and input noise); n={n:g} is "
                f"{'above' if n > hi_n else 'below'} that",
            )
        _, exp_pred, G, sigma_mem, mu0 = best
        exp_cfg, tonic = n, mu0
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
            raise unsupported(
                "separation 'identity'", mode, "no operating point gives a decodable rate"
            )
        nonlin, G, sigma_mem, low = best
        tonic = low - G * lo_s
    bias = G * sim_map.bias + tonic
    memory_noise = sigma_mem
    per_spike = volts_per_spike(G, sim_map, cfg)
    # Every memory fires (no competition), so an output column sums the rates of all of them:
    # the static output weight is set from the busiest column's predicted input on a stored
    # pattern (Siegert's rates on M), so no output neuron is driven out of its range.
    drive = G * S + np.asarray(bias, dtype=float)[None, :]
    rates = rate(drive.ravel(), sigma_mem, G, S.ravel()).reshape(S.shape)
    P_on, P_off, scale = release_probabilities(P)
    busiest = float(np.max(rates @ (np.abs(np.asarray(P, dtype=float)) / scale)))
    return CircuitPlan(
        separation=kind,
        W=sim_map.W * per_spike,
        bias=np.broadcast_to(np.asarray(bias, dtype=float), (len(S),)).copy(),
        gain=G,
        k=1,
        inhibition_per_spike=0.0,  # no competition: every memory's rate follows its score
        self_weight=0.0,
        P_on=P_on,
        P_off=P_off,
        P_scale=scale,
        exponent_configured=exp_cfg,
        exponent_predicted=exp_pred,
        memory_noise=memory_noise,
        calibration_scores=S,
        nonlinearity=nonlin,
        output_rate=busiest if busiest > 0 else None,
        tonic=float(tonic),
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


def _no_subnetwork(b2, plan, cfg, net) -> None:
    """Graded codes: no competition, no latch; the memory neurons' noise is in their own
    equations (``plan.memory_noise``)."""


def _graded(kind: str) -> SeparationCircuit:
    return SeparationCircuit(
        kind,
        lambda sep, model, sim_map, M, S, P, cfg: plan_graded(
            kind, sep, model.similarity.name, sim_map, M, S, P, cfg
        ),
        _no_subnetwork,
    )


@register_separation(
    Polynomial, "yes for n up to about 3.4 (noise-driven power law; positive scores, no "
    "per-query term)",
)  # fmt: skip
def _polynomial(sep, model) -> SeparationCircuit:
    return _graded("polynomial")


@register_separation(Identity, "yes (linear regime; no per-query term)")
def _identity(sep, model) -> SeparationCircuit:
    return _graded("identity")

"""The read-out: memory→output synapses whose weights carry P, output neurons that divide by
the memories' total activity, and the linear decoder from output counts to z.

* **Projection = synaptic weights.** Each memory neuron reaches every neuron of output
  column k (a population of ``output_neurons``; an *on* column for ``P > 0``, an *off* one
  for ``P < 0``) through a synapse of weight ``a · |P_ik| / max|P|`` onto the output neuron's
  dendrite, a slow (``output_tau``, NMDA-like) conductance.
* **Divisive normalisation** (max, top-1, softmax: z is a weighted mean of rows of P). A
  normalisation pool of inhibitory neurons, driven by every memory spike and firing in
  proportion to them, puts a shunting conductance on every output dendrite; once it
  dominates the dendrite's leak, the dendritic potential is the memories' P rows averaged
  with their spike counts as weights — the winner's row whatever its rate, a count-weighted
  blend when several populations fire (Carandini & Heeger 2012). The shunt acts on the
  dendrite, so the spiking soma reads a potential, not a shunted current (Holt & Koch 1997:
  shunting at the soma is subtractive on rates).
* **Graded codes and threshold** (polynomial, identity, threshold): no normalisation; the
  dendrite sums ``Σ_k |P_k| · rate_k`` linearly, which the decoder scales by the calibrated
  rate unit.
* **Output somata** are noisy LIF neurons with a tonic drive near threshold, so their rate
  is a smooth, nearly linear function of the dendritic potential. No synapse's single event
  fires its target: a memory spike opens a dendritic conductance of a few percent of the
  leak.

The decoder is *linear in the output counts*: ``z = max|P| · (n_on − n_off)/(m·T) / gain``
(signed P; the baseline cancels) or ``max|P| · (n/(m·T) − baseline) / gain``, with the output
stage's gain and baseline fitted by least squares on a calibration run of the built circuit
cued with stored patterns: constants from M and P only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .neurons import (
    DENDRITE_CONDUCTANCE,
    DENDRITE_CURRENT,
    OUTPUT_NEURON,
    POOL_NEURON,
    POOL_THRESHOLD,
    SHUNT,
    SHUNT_LINKED,
    SHUNT_NONE,
)
from .plan import CircuitPlan

#: Output neurons' instructive signal with storage="plasticity": the trace of their teaching
#: input (:mod:`.storage`; here so the read-out does not import the storage module).
TEACHING_TRACE = "y : 1 (linked)"

__all__ = [
    "OutputLayout", "Decoder", "build_outputs", "output_weights",
    "fit_output_stage", "output_step", "NOMINAL_RATE", "NORMALISATION_SPIKES",
]  # fmt: skip

#: The nominal rate (Hz per memory neuron) of a strongly driven memory, from which the
#: output weights are set before the decoder's calibration measures the real one.
NOMINAL_RATE = 50.0
#: Spikes of the normalisation pool per memory spike, in the mean (more: less shot noise in
#: the shunt, more events).
NORMALISATION_SPIKES = 20.0
#: Reversal potential of the memory→output excitation (AMPA/NMDA), V.
E_EXCITATORY = 0.0


@dataclass(frozen=True)
class OutputLayout:
    """The output neurons of one copy: ``n_out`` on columns, then ``n_out`` off columns if P
    is signed, each a population of ``neurons``."""

    n_out: int
    signed: bool
    neurons: int

    @property
    def n_columns(self) -> int:
        """Columns: on, [off] (the SpikingRun's output indices)."""
        return self.n_out * (2 if self.signed else 1)

    @property
    def per_copy(self) -> int:
        """Output neurons per copy."""
        return self.n_columns * self.neurons

    def column_of(self, neuron) -> np.ndarray:
        """The column of each output neuron (local index)."""
        return np.asarray(neuron) // self.neurons

    def signed_counts(self, counts: np.ndarray) -> np.ndarray:
        """``n_on − n_off`` per output (counts per column, (queries, n_columns))."""
        on = counts[:, : self.n_out]
        return on - counts[:, self.n_out : 2 * self.n_out] if self.signed else on


def nominal_rate(plan: CircuitPlan, cfg) -> float:
    """The memories' nominal total rate (Hz, all neurons of the active populations) that the
    output weights are set for: one population at :data:`NOMINAL_RATE` per neuron, or for the
    graded codes the busiest column's predicted input (``plan.output_rate``, from M)."""
    n = cfg.neurons_per_memory
    if plan.graded and plan.output_rate:
        return n * float(plan.output_rate)
    return n * NOMINAL_RATE


def output_weights(plan: CircuitPlan, cfg) -> tuple[float, float]:
    """``(a, b)``: the dendritic conductance (relative to its leak) one memory spike opens
    at ``|P| = max|P|``, and the one a normalisation-pool spike opens (0 when not
    normalised), by rule.

    At the nominal total rate R the shunt is ``normalisation`` times the leak, and the
    winner's row at ``|P| = max|P|`` depolarises the dendrite by ``output_drive`` gaps:
    ``go/(1 + go + gn) = drive/(E_e − v_rest)`` (conductance) or ``go = drive/(E_e − v_rest)``
    (current, not normalised); ``E[go] = a·R·τ_out`` and ``E[gn] = b·k·R·τ_out``."""
    c = cfg.circuit
    R = nominal_rate(plan, cfg)
    frac = c.output_drive * c.gap / (E_EXCITATORY - c.v_rest)
    if plan.normalised:
        gn = c.normalisation
        go = frac * (1 + gn) / (1 - frac)
        return go / (R * c.output_tau), gn / (NORMALISATION_SPIKES * R * c.output_tau)
    return frac / (R * c.output_tau), 0.0


def output_step(cfg, *, normalised: bool) -> float:
    """The output neurons' own step, s: ``CircuitParams.output_dt``, at least the network's
    ``dt`` (the synapses onto them run on the network's step; their conductances are state
    variables, so an event between two output steps is integrated at the next).

    Only a *normalised* read-out (max, top-1, softmax) steps at ``output_dt``: its dendrite's
    depolarisation is bounded by ``output_drive``, so the outputs fire far below their
    refractory limit (inter-spike intervals of about 10 ms). The linear read-outs (graded
    codes, threshold) sum every active population, and several populations drive their
    outputs near the refractory limit, where a 1 ms grid quantises the inter-spike interval
    (2, 3, 4 ms ...) and the on and off channels' rates fall into the same step: SDM on MNIST
    (N = 20, 20 active populations) agreed on 0.02 of the cues at 1 ms and 0.96 at 0.25 ms.
    They step at ``dt``. ``normalised`` has no default, so no caller gets the coarse step
    by omission."""
    if not normalised:
        return float(cfg.dt)
    return max(float(cfg.circuit.output_dt), float(cfg.dt))


def build_outputs(b2, plan: CircuitPlan, cfg, net, Pfull: np.ndarray) -> None:
    """Output populations, the memory→output synapses (``Pfull``: per memory neuron, per
    column: on, [off]; relative weights |P|/max|P|) and, for the normalised read-outs, the
    normalisation pool."""
    c, layout, K = cfg.circuit, net.outputs, net.K
    a, b = output_weights(plan, cfg)
    excitation = DENDRITE_CONDUCTANCE if plan.normalised else DENDRITE_CURRENT
    net.namespace.update(
        I_out=c.output_bias * c.gap * b2.volt,
        sigma_out=c.output_noise * b2.volt,
        tau_out=c.output_tau * b2.second,
        E_e=E_EXCITATORY * b2.volt,
    )
    eqs = b2.Equations(
        OUTPUT_NEURON.format(dendrite=excitation, shunt=SHUNT_LINKED if b > 0 else SHUNT_NONE)
    )
    if Pfull is None:  # storage="plasticity": the teacher's instructive trace (.storage)
        eqs += b2.Equations(TEACHING_TRACE)
    outputs = net.add(
        b2.NeuronGroup(K * layout.per_copy, eqs,
                       threshold="v > v_th", reset="v = v_reset",
                       refractory=cfg.refractory * b2.second, method="euler",
                       dt=output_step(cfg, normalised=plan.normalised) * b2.second, name="outputs"),
        layout.per_copy,
    )  # fmt: skip
    outputs.v = c.v_rest * b2.volt
    if Pfull is not None:  # (storage="plasticity" builds its learning synapses)
        m_idx, col = np.nonzero(Pfull > 0)
        rel = Pfull[m_idx, col]
        m = layout.neurons
        pre = np.repeat(m_idx, m)
        post = (col[:, None] * m + np.arange(m)[None]).ravel()
        syn = net.connect(b2, net["memories"], outputs, pre, post, "projection", model="w : 1",
                          on_pre="go_post += w")  # fmt: skip
        syn.w = net.copies.tile(np.repeat(rel, m) * a)
    if b > 0:
        _build_normalisation(b2, cfg, net, b)


def _build_normalisation(b2, cfg, net, b: float) -> None:
    """The normalisation pool: inhibitory neurons whose hazard is linear in the memories'
    spikes (each memory spike adds ``w_norm`` to every pool neuron's ``gp``), so the pool fires
    :data:`NORMALISATION_SPIKES` spikes per memory spike in the mean; each pool spike opens a
    shunting conductance ``b`` on every output dendrite of its copy (one conductance per
    copy, ``shunt.g``, linked into the output neurons as ``gn``)."""
    c, dt = cfg.circuit, net.dt
    n_norm = c.normalisation_neurons
    # a memory spike adds w_unit to gp; a pool neuron's hazard is gp / (w_norm τe), so it
    # fires w_unit / w_norm spikes per memory spike: NORMALISATION_SPIKES / n_norm
    w_unit = 1e-3
    net.namespace["w_norm"] = w_unit * n_norm / NORMALISATION_SPIKES * b2.volt
    pool = net.add(
        b2.NeuronGroup(net.K * n_norm, POOL_NEURON.format(tau="tau_e"),
                       threshold=POOL_THRESHOLD.format(unit="w_norm", tau="tau_e"),
                       method="exact", dt=dt, name="normalisation"),
        n_norm,
    )  # fmt: skip
    pre, post = net.copies.all_to_all(net.n_memory_neurons, n_norm)
    drive = b2.Synapses(net["memories"], pool, on_pre=f"gp_post += {w_unit} * volt", dt=dt,
                        name="normalisation_input")  # fmt: skip
    drive.connect(i=pre, j=post)
    net.add(drive)
    shunt = net.add(b2.NeuronGroup(net.K, SHUNT, method="exact", dt=dt, name="shunt"), 1)
    net.connect(b2, pool, shunt, np.arange(n_norm), np.zeros(n_norm, int),
                "normalisation_shunt", on_pre=f"g_post += {b!r}")  # fmt: skip
    outputs = net["outputs"]
    outputs.gn = b2.linked_var(shunt, "g", index=net.copies.copy_of(net.outputs.per_copy))


@dataclass
class Decoder:
    """z from output counts, linear, with constants from a calibration run on M and P.

    ``gain`` and ``baseline`` are the output stage's rate (Hz per column neuron) per unit of
    drive and at zero drive (fitted on the calibration run); the drive is the normalised
    row ``Σ_k c_k |P_k| / (max|P| Σ_k c_k)`` for the normalised read-outs and
    ``Σ_k |P_k|/max|P| · rate_k`` otherwise, which ``unit`` divides (threshold: a typical
    active population's rate; graded: the rate per unit of separation weight); ``offset`` is
    the graded identity code's rate at weight 0.
    """

    P_scale: float
    neurons: int
    gain: float = 1.0
    baseline: float = 0.0
    signed: bool = False
    unit: float = 1.0
    offset: float = 0.0
    projection_sum: np.ndarray | None = None  # Σ_i P[i, :], for the identity code's offset

    def drive(self, signed_counts: np.ndarray, window: float) -> np.ndarray:
        """The drive per output column from ``n_on − n_off`` (per column, summed over its
        neurons) counted over ``window`` seconds: linear in the counts."""
        per_neuron = np.asarray(signed_counts, dtype=float) / (self.neurons * window)
        if not self.signed:  # on − off cancels the baseline; an on column alone keeps it
            per_neuron = per_neuron - self.baseline
        return per_neuron / self.gain

    def decode(self, signed_counts: np.ndarray, window: float) -> np.ndarray:
        """``z`` from ``n_on − n_off`` per output, counted over ``window`` seconds."""
        Z = self.P_scale * self.drive(signed_counts, window) / self.unit
        if self.offset:  # identity: rates sit on a baseline; remove its projection
            Z = Z - self.offset * self.projection_sum / self.unit
        return Z


def fit_output_stage(drive: np.ndarray, rates: np.ndarray) -> tuple[float, float, float]:
    """``(gain, baseline, r)``: least squares ``rates ≈ baseline + gain · drive`` over every
    calibration cue and column (Hz per column neuron), and the correlation r that says how
    linear the output stage is."""
    x, y = np.ravel(drive).astype(float), np.ravel(rates).astype(float)
    if np.ptp(x) == 0:
        return 1.0, float(np.mean(y)) if y.size else 0.0, 0.0
    gain, baseline = np.polyfit(x, y, 1)
    r = float(np.corrcoef(x, y)[0, 1]) if np.std(y) > 0 else 0.0
    return float(gain), float(baseline), r

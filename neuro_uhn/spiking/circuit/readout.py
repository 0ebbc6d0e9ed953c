"""The read-out: memory→output synapses whose release probabilities carry P, output
populations, the output gate, and the linear decoder from output counts to z.

* **Projection = release probabilities.** Each memory neuron reaches every neuron of output
  column k (a population of ``output_neurons``; on for ``P > 0``, off for ``P < 0``) through
  its own synapse, which releases with probability ``|P_ik| / max|P|`` and makes the output
  neuron fire; one reference neuron is reached by every memory neuron with probability 1.
* **Read-out gate** (max, top-1, softmax). A gate neuron counts the reference neuron's spikes
  from ``settle`` on and, at ``R`` of them, vetoes the outputs (a shunting inhibitory
  conductance): when it closes, the outputs have summed the releases of ``R`` memory spikes
  whatever the winner's rate, and ``z_k = max|P| · (n_on,k − n_off,k) / (m·R)``. A gate that
  stays open (a cue that drives the winner below the calibrated count) sums fewer: z is
  then dimmer (``SpikingRun.gate_times`` is NaN there).
* **Ungated** (threshold, the graded codes, ``readout_gate=0``): ``z_k = max|P| · (n_on,k −
  n_off,k) / (m · r_ref · T)`` with ``r_ref`` the reference neuron's mean rate on the stored
  patterns. The graded codes fit the rates instead (``w ≈ (rate − r₀)/c``, from a
  calibration run on M), and their release probabilities are scaled down by a build-time
  factor so an output neuron seldom gets two releases in one step.

The decoder's constants (``max|P|``, ``R``, ``r_ref``, ``r₀``, ``c``) come from M and P only:
a calibration run of the built circuit cued with stored patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .neurons import OUTPUT_NEURON, RELEASE
from .plan import CircuitPlan

__all__ = ["GATE_OPEN", "OutputLayout", "Decoder", "build_outputs", "build_gate", "gated"]

#: The output gate's count while calibrating: never reached, so the gate stays open.
GATE_OPEN = 1e12


@dataclass(frozen=True)
class OutputLayout:
    """The output neurons of one copy: ``n_out`` on columns, ``n_out`` off columns if P is
    signed, each a population of ``neurons``, then one reference neuron."""

    n_out: int
    signed: bool
    neurons: int

    @property
    def n_columns(self) -> int:
        """Columns: on, [off], and the reference (the SpikingRun's output indices)."""
        return self.n_out * (2 if self.signed else 1) + 1

    @property
    def reference(self) -> int:
        """The reference neuron's column (and its index within a copy's outputs)."""
        return self.n_columns - 1

    @property
    def per_copy(self) -> int:
        """Output neurons per copy."""
        return (self.n_columns - 1) * self.neurons + 1

    def column_of(self, neuron) -> np.ndarray:
        """The column of each output neuron (local index)."""
        neuron = np.asarray(neuron)
        return np.minimum(neuron // self.neurons, self.reference)

    def signed_counts(self, counts: np.ndarray) -> np.ndarray:
        """``n_on − n_off`` per output (counts per column, (queries, n_columns))."""
        on = counts[:, : self.n_out]
        return on - counts[:, self.n_out : 2 * self.n_out] if self.signed else on


def gated(plan: CircuitPlan, cfg) -> bool:
    """The output gate applies: max, top-1, softmax with ``readout_gate > 0``."""
    return plan.normalised and cfg.circuit.readout_gate > 0


def build_outputs(b2, plan: CircuitPlan, cfg, net, Pfull: np.ndarray) -> None:
    """Output populations and the memory→output release synapses (``Pfull``: per memory
    neuron, per column: on, [off], reference)."""
    layout, dt, K = net.outputs, net.dt, net.K
    net.namespace["tau_veto"] = 10 * b2.ms  # the output neurons' veto conductance
    outputs = net.add(
        b2.NeuronGroup(K * layout.per_copy, OUTPUT_NEURON, threshold="v > v_th",
                       reset="v = v_reset", method="exponential_euler", dt=dt, name="outputs"),
        layout.per_copy,
    )  # fmt: skip
    outputs.v = cfg.circuit.v_rest * b2.volt
    m_idx, o_idx = np.nonzero(Pfull > 0)
    p_val = Pfull[m_idx, o_idx]
    data = o_idx < layout.reference
    m = layout.neurons
    m_idx = np.concatenate([np.repeat(m_idx[data], m), m_idx[~data]])
    p_val = np.concatenate([np.repeat(p_val[data], m), p_val[~data]])
    o_idx = np.concatenate([
        (o_idx[data][:, None] * m + np.arange(m)[None]).ravel(),
        np.full(np.count_nonzero(~data), layout.per_copy - 1),
    ])  # fmt: skip
    projection = net.connect(b2, net["memories"], outputs, m_idx, o_idx, "projection",
                             model="p : 1", on_pre=RELEASE)  # fmt: skip
    projection.p = net.copies.tile(p_val)


def build_gate(b2, cfg, net) -> None:
    """The output gate: one inhibitory neuron per copy counts the reference neuron's spikes
    from ``settle`` on and, at ``R`` of them, fires tonically and vetoes every output neuron
    of its copy (a shunting conductance). ``R`` (``gate.R``) is set from the decoder's
    calibration run on the stored patterns; it is a build-time constant."""
    c, dt, K = cfg.circuit, net.dt, net.K
    per_copy = net.outputs.per_copy
    net.namespace.update(t_open=cfg.settle * b2.second, w_veto=5 * c.gap * b2.volt)
    gate = net.add(
        b2.NeuronGroup(K, "c : 1\nR : 1 (constant)", threshold="c >= R", refractory=5 * b2.ms,
                       dt=dt, name="gate"),
        1,
    )  # fmt: skip
    gate.R = GATE_OPEN  # the calibration sets R
    net.connect(b2, net["outputs"], gate, [per_copy - 1], [0], "gate_count",
                on_pre="c_post += int(t >= t_open)")  # fmt: skip
    net.connect(b2, gate, net["outputs"], np.zeros(per_copy, int), np.arange(per_copy),
                "gate_veto", on_pre="gv_post += w_veto", delay=c.delay * b2.second)  # fmt: skip
    net.add(b2.SpikeMonitor(gate, name="gate_spikes"))


@dataclass
class Decoder:
    """z from output counts, linear, with constants from a calibration run on M and P.

    ``P_scale`` is max|P| (the release probabilities are |P|/max|P|); ``gate_count`` R is
    the gate's count (gated read-outs); ``unit`` is ``r_ref`` (Hz: the reference neuron's
    mean rate on the stored patterns; graded codes: the population rate per unit of
    separation weight) and ``offset`` the graded identity code's rate at weight 0.
    """

    P_scale: float
    neurons: int
    gate_count: float | None = None
    unit: float = 1.0
    offset: float = 0.0
    projection_sum: np.ndarray | None = None  # Σ_i P[i, :], for the identity code's offset

    def decode(self, signed_counts: np.ndarray, window: float) -> np.ndarray:
        """``z`` from ``n_on − n_off`` per output, counted over ``window`` seconds."""
        diff = np.asarray(signed_counts, dtype=float) / self.neurons  # per column neuron
        if self.gate_count is not None:  # the outputs summed R memory spikes (or fewer)
            Z = self.P_scale * diff / self.gate_count
        else:
            Z = self.P_scale * diff / (self.unit * window)
        if self.offset:  # identity: rates sit on a baseline; remove its projection
            Z = Z - self.offset * self.projection_sum / self.unit
        return Z

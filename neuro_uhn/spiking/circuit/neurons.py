"""The circuit's neurons as Brian2 equations, and the interface a memory neuron of your own
keeps (:class:`MemoryModel`).

Equations are composed from fragments with ``brian2.Equations`` (``+``), never edited as
strings; a user's memory neuron replaces the membrane and keeps the variables the circuit's
synapses target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ...errors import ValidationError, ValidationTypeError
from ..device import brian
from ..units import seconds

__all__ = [
    "MEMBRANE",
    "SYNAPSES",
    "CURRENTS",
    "CUE_LINKED",
    "INTERFACE",
    "NAMESPACE_NAMES",
    "MemoryModel",
    "memory_equations",
    "ESCAPE_THRESHOLD",
    "INHIBITORY_NEURON",
    "POOL_NEURON",
    "POOL_THRESHOLD",
    "FEEDFORWARD_CURRENT",
    "CUE_CURRENT",
    "OUTPUT_NEURON",
    "DENDRITE_CONDUCTANCE",
    "DENDRITE_CURRENT",
    "SHUNT",
    "SHUNT_LINKED",
    "SHUNT_NONE",
    "CELL_TYPES",
]


# Equation fragments, composed with brian2.Equations (``+``). The documented interface of a
# memory neuron is ``v`` (membrane, V), ``ge`` (the excitatory current in volts, targeted by
# the synapses with ``ge_post += w``), ``gf`` (the pooled feed-forward inhibition's current, the
# same for every memory neuron of a copy: a linked variable, with the excitation's time course),
# ``gc`` (the part of the bias every memory shares, from the cue unit: likewise linked),
# ``gi`` (the lateral inhibition, a conductance with reversal potential E_i scaled to equal gi
# at rest, so it cannot pull the membrane below E_i) and ``gs`` (the slow, NMDA-like
# recurrent excitation within a population). There is no bias current: the bias is the
# weight of the cue unit's synapses, so between cues every memory neuron is at rest.
MEMBRANE = "dv/dt = (v_rest - v + I_syn) / tau_m + sigma * sqrt(2 / tau_m) * xi : volt {flag}"
CURRENTS = """
I_syn = ge + gc + gs - gf - gi * (v - E_i) / (v_rest - E_i) : volt
dge/dt = -ge / tau_e : volt
gf : volt (linked)
dgs/dt = -gs / tau_self : volt
dgi/dt = -gi / tau_i : volt
"""
#: ``gc`` with storage="set": the part of the bias every memory shares, from the cue unit
CUE_LINKED = "gc : volt (linked)\n"
SYNAPSES = CURRENTS + CUE_LINKED


def memory_equations(b2, *, refractory: bool = True, cue: str = CUE_LINKED):
    """The default memory neuron as ``brian2.Equations``: membrane + synapses (``cue``: how
    the cue's bias ``gc`` arrives; storage="plasticity" makes it an intrinsic current)."""
    flag = "(unless refractory)" if refractory else ""
    return (b2.Equations(MEMBRANE.format(flag=flag)) + b2.Equations(CURRENTS)
            + b2.Equations(cue))  # fmt: skip


#: Names the builder puts in the namespace (from CircuitParams): a user model reads them, and
#: changes them through CircuitParams, whose values the calibration uses.
NAMESPACE_NAMES = (
    "v_rest", "v_th", "v_reset", "E_i", "tau_m", "tau_e", "tau_i", "tau_self", "tau_inh",
    "sigma", "rho0", "dv_esc", "tau_out", "w_ei", "sigma_inh", "I_out", "sigma_out",
    "E_e", "w_pool", "I_inh", "w_norm", "w_hom", "t0", "tau_ff",
)  # fmt: skip

#: What the circuit needs of a memory neuron: variable -> what targets it.
INTERFACE = {
    "v": "the membrane potential (threshold, reset, initial value)",
    "ge": "the feature→memory excitatory synapses (ge_post += w)",
    "gf": "the pooled feed-forward inhibition (a linked variable: 'gf : volt (linked)')",
    "gc": "the cue unit's bias shared by every memory (a linked variable: 'gc : volt (linked)')",
    "gs": "the self-excitation synapses within a population (gs_post += w)",
    "gi": "the lateral inhibition from the inhibitory population (gi_post += w)",
}


@dataclass(frozen=True)
class MemoryModel:
    """A memory-neuron model of your own for ``mode="circuit"``
    (``CircuitParams(memory_model=...)``): Brian2 equations that keep the documented
    interface, ``v``, ``ge``, ``gc``, ``gf``, ``gs`` and ``gi`` in volts (see
    :data:`INTERFACE`; only the variables the built circuit targets are required).

    Parameters
    ----------
    equations : str or brian2.Equations
        Compose them from the default's fragment ``MemoryModel.SYNAPSES`` and a membrane of
        your own (``MemoryModel.MEMBRANE`` is the default's, a format string with
        ``{flag}``).
    threshold, reset : str, optional
        Default ``"v > v_th"`` and ``"v = v_reset"`` (softmax: the escape-noise threshold and
        no reset).
    refractory : float, s, optional
        Default ``SpikingConfig.refractory``.
    method : str
        Brian2's integration method (default ``"euler"``: the membrane noise needs it).
    namespace : dict
        Your model's own constants (Brian2 quantities). The builder's names
        (:data:`NAMESPACE_NAMES`) are set from ``CircuitParams``: change them there, where the
        calibration sees them.

    Notes
    -----
    The plan (gain, bias, inhibition) assumes the default LIF membrane: a model that changes
    the firing curve much changes what it achieves; the decoder's calibration run on the
    stored patterns absorbs only the output stage's gain and baseline.
    """

    equations: Any = field(hash=False)
    threshold: str | None = None
    reset: str | None = None
    refractory: float | None = None
    method: str = "euler"
    namespace: Any = field(default_factory=dict, hash=False, compare=False)

    MEMBRANE: ClassVar[str] = MEMBRANE
    SYNAPSES: ClassVar[str] = SYNAPSES

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
            object.__setattr__(self, "refractory", seconds(self.refractory, "refractory"))
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
        for var in ("gf", "gc"):
            if var in needs and "linked" not in eqs[var].flags:
                raise ValidationError(
                    f"'memory_model' must declare {var!r} as a linked variable "
                    f"('{var} : volt (linked)'): {INTERFACE[var]}"
                )
        if "v" in needs and "v" not in eqs.diff_eq_names:
            raise ValidationError("'memory_model' must give 'v' a differential equation")


ESCAPE_THRESHOLD = "rand() < clip(rho0 * exp(clip((v - v_th) / dv_esc, -60, 20)) * dt, 0, 0.5)"


#: The lateral inhibition's neurons: noisy LIF membranes with a tonic drive below threshold
#: that integrate memory spikes (unitary EPSPs ``w_ei`` of a few mV), so the population fires
#: asynchronously at a rate that follows the memory population's from its first spikes (no
#: threshold the memory rate must cross before any inhibition).
INHIBITORY_NEURON = (
    "dv/dt = (v_rest - v + I_inh) / tau_inh + sigma_inh * sqrt(2 / tau_inh) * xi"
    " : volt (unless refractory)"
)

#: The pooled feed-forward inhibition: escape-noise neurons whose hazard is linear in their
#: synaptic input ``gp`` (a linear-nonlinear-Poisson neuron, Gerstner & Kistler 2002, ch. 5),
#: so their summed spike train is, in the mean, exactly the features' weighted sum.
#: ``{tau}``: the decay of their input (``tau_e``; the feed-forward pool's ``tau_ff``).
POOL_NEURON = "dgp/dt = -gp / {tau} : volt"
#: The pooled feed-forward inhibition's current: equal on every memory neuron of a copy (the
#: pool reaches all of them with one weight), so one variable per copy, linked into them as
#: ``gf`` — all-to-all synapses of equal weight without one event per memory neuron.
FEEDFORWARD_CURRENT = "dg/dt = -g / tau_e : volt"
#: The bias every memory shares, from the cue unit: an excitatory current per copy, linked
#: into every memory neuron as ``gc``.
CUE_CURRENT = "dge/dt = -ge / tau_e : volt"
#: ``{unit}``: the input (V) at which a pool neuron fires once per ``{tau}``, its input's decay;
#: each pool names its own. The hazard per step is ``gp/unit·dt/τe`` when ``{tau}`` is τe; for
#: another decay it is scaled by ``(e^{dt/τ} − 1)/(e^{dt/τe} − 1)``, so that an input spike
#: yields as many pool spikes, summed over the steps of its exactly integrated decay, as with
#: τe: the pool's inhibition then matches the excitation's own discretisation whatever τ
#: (``dt/τ`` alone gave 11 % too little inhibition at τ = 1 ms, dt = 0.25 ms).
POOL_THRESHOLD = (
    "rand() < clip(gp / {unit} * dt / tau_e * (exp(dt / {tau}) - 1) / (exp(dt / tau_e) - 1),"
    " 0, 0.5)"
)

#: Output neurons: two compartments. The dendrite ``vd`` receives the memory→output
#: synapses (``go``, a conductance relative to its leak, reversal E_e) and, for the
#: normalised separations, the normalisation pool's shunting inhibition (``gn``, reversal at
#: rest): its potential is ``(E_e − v_rest)·go/(1 + go + gn)``, the projected rows divided by
#: the memories' total activity once gn dominates the leak (shunting inhibition divides
#: potentials, Carandini & Heeger 2012). The soma ``v`` is a noisy LIF driven by the dendrite
#: and a tonic drive near threshold, so its rate follows the dendritic potential smoothly;
#: the shunt acts on the dendrite, not on the spiking soma, where it would act subtractively
#: on the rate (Holt & Koch 1997).
OUTPUT_NEURON = """
dv/dt = (vd - v + I_out) / tau_m + sigma_out * sqrt(2 / tau_m) * xi : volt (unless refractory)
vd = {dendrite} : volt
dgo/dt = -go / tau_out : 1
{shunt}
"""
#: The shunt: the normalisation pool's conductance, equal on every output neuron of a copy,
#: so it is one variable per copy linked into them (the same as all-to-all synapses of
#: equal weight, without one event per output neuron); 0 without normalisation.
SHUNT_LINKED = "gn : 1 (linked)"
SHUNT_NONE = "gn : 1 (constant)"
#: The per-copy shunting conductance, incremented by the pool's spikes.
SHUNT = "dg/dt = -g / tau_out : 1"
#: The dendrite's potential: its membrane time constant under the shunt (τm/(1 + gn), under
#: 1 ms) is short against its conductances' (output_tau), so it sits at their steady state —
#: with the excitation a conductance (normalised read-outs), or a current at the resting
#: driving force (the graded codes and threshold, whose z is not normalised: linear).
DENDRITE_CONDUCTANCE = "v_rest + (E_e - v_rest) * go / (1 + go + gn)"
DENDRITE_CURRENT = "v_rest + (E_e - v_rest) * go"


#: Dale's law: every group is excitatory or inhibitory (checked by tests/test_circuit.py).
CELL_TYPES = {
    "features": "excitatory",
    "cue": "excitatory",
    "memories": "excitatory",
    "outputs": "excitatory",
    "feedforward": "inhibitory",
    "normalisation": "inhibitory",
    "inhibitory": "inhibitory",
    # storage="plasticity": the recruitment (novelty) input and the output neurons' teachers
    "novelty": "excitatory",
    "teacher": "excitatory",
}

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
    "BIAS",
    "INTERFACE",
    "NAMESPACE_NAMES",
    "MemoryModel",
    "memory_equations",
    "ESCAPE_THRESHOLD",
    "OUTPUT_NEURON",
    "RELEASE",
    "CELL_TYPES",
    "quiet_release_warning",
]


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
        Default ``SpikingConfig.refractory``.
    method : str
        Brian2's integration method (default ``"euler"``: the membrane noise needs it).
    namespace : dict
        Your model's own constants (Brian2 quantities). The builder's names
        (:data:`NAMESPACE_NAMES`) are set from ``CircuitParams``: change them there, where the
        calibration sees them.

    Notes
    -----
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
        if "v" in needs and "v" not in eqs.diff_eq_names:
            raise ValidationError("'memory_model' must give 'v' a differential equation")


ESCAPE_THRESHOLD = "rand() < clip(rho0 * exp(clip((v - v_th) / dv_esc, -60, 20)) * dt, 0, 0.5)"


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


def quiet_release_warning() -> None:
    import logging

    logger = logging.getLogger("brian2.codegen.generators.base")
    if not any(isinstance(f, _ReleaseFilter) for f in logger.filters):
        logger.addFilter(_ReleaseFilter())

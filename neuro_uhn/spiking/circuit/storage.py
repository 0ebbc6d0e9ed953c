"""``storage="plasticity"``: memories written into the circuit by local learning rules, in the
same Brian2 network that then retrieves them.

The circuit of :mod:`.build` is built once, with its feature→memory, feed-forward and
memory→output synapses at zero; :meth:`PlasticStorage.present` shows it each memory once
(the engine then stores that state and retrieves from it; ``SpikingUHN.store`` presents more
later, to the same network)::

    features (Poisson, trace x) ──w (instar)──▶ memory populations ◀── recruitment (novelty)
        │                                          │   ▲ lateral inhibition
        └──μ (running mean)──▶ pooled FF inhibition └──p (outstar)──▶ outputs ◀┈ teacher (P row)

One presentation of pattern ``m`` (``StorageParams``) runs in three phases:

1. **Allocation** (first ``allocation`` s). The feature neurons fire at the pattern's rates
   (``StorageParams.input_rate`` at the largest value) and 50 recruitment (novelty) neurons
   excite the memory populations through synapses gated by the population's own flags: it
   must be free (``1 − occupied``) and next in line (the previous population is occupied,
   passed along a chain of one synapse per neuron). So exactly one population is driven:
   the *index* of the new memory, allocated in order as in hippocampal indexing theory
   (Teyler & DiScenna 1986), like the age-ordered recruitment of adult-born granule cells
   (Aimone et al. 2011). This is a design choice: a competition among all free populations
   was tried first; with equal drive it is a near-tie, and it split memories over two or
   three populations (digits, 5 populations of 4 neurons: 15, 7 and 1 spikes in three of
   them for one presentation).
2. **Encoding** (rest of the presentation). A neuromodulatory learning gate ``gate`` opens;
   throughout storage a second global signal, ``storing`` (the cholinergic encoding state of
   Hasselmo 1999), suppresses transmission in the learned pathways, so they learn without
   driving the memories. At each spike of a free memory neuron, every feature→memory synapse
   moves toward the presynaptic trace (Grossberg's instar, with the running-average step
   ``1/(n+1)`` of the neuron's n-th gated spike), so ``w → x = rate/r_in``, the pattern's
   encoding; each also keeps an eligibility ``u → w·x``, and the neuron's *intrinsic
   excitability* moves with it (``excitability += du``: it is the sum of its synapses'
   eligibilities without a sum taken outside the neuron). A teacher drives an instructive
   trace ``y`` on each output neuron at the projection row's rates (a dendritic teaching
   input, as climbing fibres or the plateau potentials of Bittner et al. 2017), and each
   memory→output synapse moves toward it at each presynaptic spike, so ``p → P/max|P|``.
3. **Consolidation** (once, at the end of the presentation). A population whose neurons
   fired ``occupancy_spikes`` times (each neuron, having received the novelty input) is
   marked occupied: it is never recruited
   again and its synapses never learn again. Each feature→feed-forward-inhibition synapse
   (blanket inhibition onto every memory, Packer & Yuste 2011) takes one step of a running
   mean over the presentations it has seen, ``μ ← μ + (x − μ)/(n+1)``: the stored patterns'
   mean encoding, the centring the separation needs.

Every rule reads only its synapse's weight, the pre- and postsynaptic traces and flags, and
the global signals ``gate``, ``storing``, ``recruit`` and ``consolidate`` (tests/
test_plasticity.py checks this from the built network's synapse code).

**Retrieval reads what was learned, in closed form.** The set circuit's weights are an
affine function of the stored pattern's encoding ``x = φ(m)/scale``, ``W = a·x + c``, with a
bias ``b = κ·Σ x²``, from the similarity's definition (:attr:`SimilarityMap.affine`;
Euclidean: ``W = 2m``, ``b = −‖m‖²``, so ``a = 2·scale``, ``κ = −scale²``; Hamming
``W = 2b − 1``, ``b = −Σb``; dot and cosine ``W = m = scale·x``; Manhattan by thermometer
bits ``W = Δ(2u − 1)``, ``b = −ΔΣu``), and the set circuit scales them by ``V =
volts_per_spike(G)`` and ``G`` (:class:`~.plan.CircuitPlan`). So the learned synapses
transmit with fixed units from those constants (:class:`Learning`): an instar weight ``w``
is ``V·a/pool`` volts per input spike, a feed-forward weight ``μ`` is ``connection_p·V·a/pool``
(centred separations; the threshold separation's feed-forward weights are the structural
``−c``, not learned), and the neuron's intrinsic current while a cue is shown is
``G·κ/(pool·connection_p)·(excitability − energy) + tonic`` (``energy``: the calibration's
mean ``Σx²`` of the memories given at construction in excitability units, ×pool·connection_p,
the centre of a centred separation's bias). With a one-presentation instar, ``w = x`` in the
mean, so those units give the set circuit's drive: no learned value is rescaled, compared
with or fitted to a set weight (tests/test_plasticity.py replaces the set weights by values
that raise when read).
Similarities whose weights are not such a function (the KL forms: log-weights) or whose
encoding of a stored pattern is signed are :class:`UnsupportedComponent`.

**Calibrated, not learned** (from the memories given at construction, as for ``set``, and
kept by :meth:`SpikingUHN.store`): the gain ``G``, the inhibition, the tonic offset, the
mean energy, the feed-forward pool's operating point, the feature encoding (thermometer
levels), the teacher's scale ``max|P|`` and the decoder's gain and baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ...errors import ValidationError
from ..mapping import SimilarityMap
from ..registry import unsupported
from .plan import volts_per_spike
from .readout import output_weights

__all__ = [
    "PlasticStorage",
    "LearnedForm",
    "Learning",
    "learned_form",
    "N_RECRUIT",
    "trace_step",
    "INSTAR_ON_POST",
    "OUTSTAR_ON_PRE",
    "RECRUIT_ON_PRE",
    "RUNNING_MEAN",
    "CONSOLIDATION",
]

#: Recruitment (novelty) neurons.
N_RECRUIT = 50


@dataclass(frozen=True)
class LearnedForm:
    """``W = a·x + c`` and ``b = κ·Σ x²`` for an encoding ``x = φ(m)/scale`` (see module)."""

    a: float
    c: float
    kappa: float


def learned_form(sim_map: SimilarityMap, M: np.ndarray, name: str) -> LearnedForm:
    """The similarity's closed-form ``(a, c, κ)`` (:attr:`SimilarityMap.affine`, from its
    definition); nothing is fitted. Refuses what no local rule learns: a synapse that is not a
    product, a signed encoding of a stored pattern, no affine form (the KL forms'
    log-weights), weights that fall with the encoding, a structural part that excites."""
    why = None
    if sim_map.synapse != "product":
        why = "its synapse is not a product of weight and rate"
    elif np.min(sim_map.features(M) / sim_map.scale) < -1e-12:
        why = (
            "the encoding of a stored pattern is signed; the off-channel weights would need "
            "cross-channel terms that no instar rule learns (nonnegative patterns work)"
        )
    elif sim_map.affine is None:
        why = (
            "its weights are not an affine function of the stored pattern's encoding (e.g. "
            "the log-weights of the KL forms), so no instar rule learns them"
        )
    elif not sim_map.affine[0] > 0:
        why = "its weights fall with the pattern's encoding"
    elif sim_map.affine[1] > 0:
        why = "its weights have a positive structural part, which no learned pathway carries"
    if why is not None:
        raise unsupported(f"similarity {name!r} with storage='plasticity'", "circuit", why)
    a, c, kappa = sim_map.affine
    return LearnedForm(float(a), float(c), float(kappa))


# ---------------------------------------------------------------------- the rules
#: The memory neuron's learning state: ``tag`` counts this presentation's spikes, ``novel``
#: the recruitment (novelty) input it received as the next free population, ``occupied`` is
#: set at consolidation (it fired and it was recruited: a free neuron's spontaneous spikes do
#: not occupy it), ``n_learn`` counts gated spikes (the instar's step is 1/(n_learn + 1)),
#: ``prev_occ`` is the previous population's occupancy (the chain), ``first`` marks
#: population 0; ``learning``: the neuron learns while free and recruited (a free neuron's
#: spontaneous spikes change nothing).
LEARNING_STATE = """
learning = (1 - occupied) * int(novel > 0) : 1
tag : 1
novel : 1
n_learn : 1
occupied : 1
prev_occ : 1
first : 1 (constant)
"""
#: The cue's bias as an intrinsic current: while a cue is shown (``cue_on``, the cue unit's
#: drive, 1 in the mean) the neuron's excitability sets it; a neuron never recruited
#: (``occupied`` 0) has none, so a free population is silent at retrieval instead of
#: competing as a stored all-zero pattern would.
INTRINSIC_CUE = """
gc = cue_on * occupied * (bias_gain * (excitability - energy) + tonic) : volt
cue_on : 1 (linked)
excitability : 1
"""
#: The cue unit's drive, normalised: 1 in the mean while a cue is shown.
CUE_STATE = "dc/dt = -c / tau_e : 1"
#: Feature neurons with a presynaptic trace ``x`` (``rate/r_in`` in the mean).
FEATURE_TRACE = """
dx/dt = -x / tau_x : 1
rate = stimulus(t - t0, i // pool_f) * {showing} : Hz
"""
#: Storage signals (``t - t0``: from the run's start). ``TRANSMIT`` is what a learned
#: pathway's transmission is multiplied by.
TRANSMIT = "(1 - storing(t - t0))"

#: The local rules (only the synapse's own variables, ``_pre``/``_post`` traces and flags,
#: and the global signals); tests/test_plasticity.py reads them from the built network.
INSTAR_ON_POST = (
    "w += gate(t - t0) * learning_post * (x_pre - w) / (n_learn_post + 1)\n"
    "du = gate(t - t0) * learning_post * (w * x_pre - u) / (n_learn_post + 1)\n"
    "u += du\n"
    "excitability_post += du"
)
RECRUIT_ON_PRE = (
    "eligible = (1 - occupied_post) * clip(prev_occ_post + first_post, 0, 1)\n"
    "ge_post += w_rec * eligible\n"
    "novel_post += eligible"
)
OUTSTAR_ON_PRE = "p += gate(t - t0) * learning_pre * (y_post - p) / (n_learn_pre + 1)"
#: the feed-forward synapse's running mean over the presentations it has seen (``n``, its
#: own count), one step per consolidation
RUNNING_MEAN = "mu += consolidate(t - t0) * (x_pre - mu) / (n + 1)\nn += consolidate(t - t0)"
#: Consolidation, once per presentation at its end: occupancy, then the counters restart.
CONSOLIDATION = (
    "occupied = clip(occupied + consolidate(t - t0) * int(tag >= n_occ) * int(novel > 0), 0, 1)\n"
    "tag = tag * (1 - consolidate(t - t0))\n"
    "novel = novel * (1 - consolidate(t - t0))\n"
    "n_learn = n_learn * (1 - consolidate(t - t0))"
)
#: The memory neuron's reset with learning: it counts its spikes (``{reset}``: the membrane's).
LEARNING_RESET = "{reset}tag += 1\nn_learn += gate(t - t0) * learning"


@dataclass(frozen=True)
class Learning:
    """The learning pathways' constants, in closed form from the calibration (``G``, ``V``)
    and the similarity's own form (see module); one per built circuit."""

    capacity: int
    w_unit: float  # V per input spike per unit of instar weight: V·a/pool
    feedforward_unit: float  # V per input spike per unit of μ (centred), else 0
    structural: float  # V per input spike of the fixed feed-forward weights (threshold), ≥ 0
    bias_gain: float  # V of intrinsic current per unit of excitability: G·κ/(pool·p_conn)
    energy: float  # the bias's centre (centred separations): pool·p·mean Σx² of M
    tonic: float  # V
    typical_encoding: np.ndarray = field(repr=False)  # mean x of M (the FF pool's scale)
    output_unit: float = 0.0  # the dendritic conductance per memory spike at p = 1

    @property
    def centred(self) -> bool:
        return self.feedforward_unit > 0

    def bias(self, excitability: np.ndarray) -> np.ndarray:
        """The intrinsic current while a cue is shown (V) at ``excitability``."""
        return self.bias_gain * (np.asarray(excitability) - self.energy) + self.tonic


# ---------------------------------------------------------------------- building
def build_learning(b2, plan, cfg, net) -> None:
    """The circuit's learned pathways and storage machinery (after :mod:`.build` made the
    feature neurons with traces, the cue unit and the memories): instar feature→memory
    synapses, the pooled feed-forward inhibition with learned (or structural) input weights,
    the intrinsic bias's cue state, the recruitment and its chain, and the consolidation."""
    L, sp, c = plan.learning, cfg.plasticity, cfg.circuit
    dt, K = net.dt, net.K
    n_feat, mem = net.n_features, net.n_memory_neurons
    features, memories = net["features"], net["memories"]
    n_cue = net.sizes["cue"]  # the cue unit's neurons
    unit = storage_unit(sp)
    net.namespace.update(
        tau_x=sp.tau_trace * b2.second, x_step=trace_step(sp.input_rate, sp.tau_trace, cfg.dt),
        y_step=trace_step(sp.teach_rate, sp.tau_trace, cfg.dt),
        r_rec=sp.recruit_rate * b2.Hz, n_occ=sp.occupancy_spikes,
        w_rec=sp.recruit_drive * c.gap / (N_RECRUIT * sp.recruit_rate * c.tau_e) * b2.volt,
        w_unit=L.w_unit * b2.volt, ff_unit=L.feedforward_unit * b2.volt,
        bias_gain=L.bias_gain * b2.volt, energy=L.energy, tonic=L.tonic * b2.volt,
        w_cue=1.0 / (n_cue * cfg.input_rate * c.tau_e), a_out=L.output_unit,
        store_step=unit * b2.second, **quiet(b2, net.outputs.n_columns),
    )  # fmt: skip
    # instar synapses: every feature neuron onto every memory neuron (connection_p: a draw)
    keep = net.rng.random((mem, n_feat)) < c.connection_p if c.connection_p < 1 else None
    post, pre = np.nonzero(keep) if keep is not None else _dense(mem, n_feat)
    net.connect(b2, features, memories, pre, post, "excitation", model="w : 1\nu : 1",
                on_pre=f"ge_post += {TRANSMIT} * w_unit * w",
                on_post=INSTAR_ON_POST)  # fmt: skip
    # the cue state: the cue unit's drive, 1 in the mean, linked into the memories as cue_on
    state = net.add(b2.NeuronGroup(K, CUE_STATE, method="exact", dt=dt, name="cue_state"), 1)
    net.connect(b2, net["cue"], state, np.arange(n_cue), np.zeros(n_cue, int), "cue_state_input",
                on_pre="c_post += w_cue")  # fmt: skip
    memories.cue_on = b2.linked_var(state, "c", index=net.copies.copy_of(mem))
    # recruitment: N_RECRUIT novelty neurons excite the memory populations while a pattern is
    # shown, gated by the population's own state: free and next in line
    novelty = net.add(b2.NeuronGroup(K * N_RECRUIT, "", dt=dt, name="novelty",
                                     threshold="rand() < recruit(t - t0) * r_rec * dt"),
                      N_RECRUIT)  # fmt: skip
    post, pre = _dense(mem, N_RECRUIT)
    net.connect(b2, novelty, memories, pre, post, "recruitment", on_pre=RECRUIT_ON_PRE)
    n = cfg.neurons_per_memory
    if L.capacity > 1:
        net.connect(b2, memories, memories, np.arange((L.capacity - 1) * n),
                    np.arange(n, L.capacity * n), "allocation_chain",
                    model="prev_occ_post = occupied_pre : 1 (summed)")  # fmt: skip
    memories.first = np.tile(np.r_[np.ones(n), np.zeros((L.capacity - 1) * n)], K)
    memories.run_regularly(CONSOLIDATION, dt=unit * b2.second, when="end",
                           name="consolidation")  # fmt: skip


def build_feedforward_input(b2, plan, net, drive) -> None:
    """The feed-forward pool's input from the feature neurons: learned running means (centred
    separations) or the structural weights (threshold)."""
    L = plan.learning
    n_feat = net.n_features
    pre, post = np.arange(n_feat), np.zeros(n_feat, int)
    if L.centred:
        syn = net.connect(b2, net["features"], drive, pre, post, "feedforward_input",
                          model="mu : 1\nn : 1",
                          on_pre=f"gp_post += {TRANSMIT} * ff_unit * mu")  # fmt: skip
        syn.run_regularly(RUNNING_MEAN, dt=net.namespace["store_step"], when="end",
                          name="feedforward_mean")  # fmt: skip
    else:
        syn = net.connect(b2, net["features"], drive, pre, post, "feedforward_input",
                          model="w : volt", on_pre=f"gp_post += {TRANSMIT} * w")  # fmt: skip
        syn.w = L.structural * b2.volt


def typical_feedforward(plan, cfg, pool: int) -> float:
    """V of mean feed-forward drive on a typical stored pattern (sets the pool's unit)."""
    L = plan.learning
    x = np.repeat(L.typical_encoding, pool)
    rate = x * cfg.input_rate
    if L.centred:
        return float(cfg.circuit.connection_p * L.w_unit * (x @ rate)) * cfg.circuit.tau_e
    return float(L.structural * rate.sum()) * cfg.circuit.tau_e


def build_teaching(b2, net, dt) -> None:
    """The outstar memory→output synapses and the teacher: one Poisson teaching input per
    output neuron at its column's rate, whose trace ``y`` (its instructive signal on the
    output neuron's dendrite) the output neuron reads as a linked variable."""
    layout, mem, K = net.outputs, net.n_memory_neurons, net.K
    outputs = net["outputs"]
    teacher = net.add(b2.NeuronGroup(
        K * layout.per_copy, "dy/dt = -y / tau_x : 1", method="exact", dt=dt, name="teacher",
        threshold=f"rand() < teach(t - t0, i // {layout.neurons}) * dt", reset="y += y_step",
    ), layout.per_copy)  # fmt: skip
    outputs.y = b2.linked_var(teacher, "y")
    pre, post = _dense(layout.per_copy, mem)[::-1]
    net.connect(b2, net["memories"], outputs, pre, post, "projection", model="p : 1",
                on_pre=f"go_post += {TRANSMIT} * a_out * p\n{OUTSTAR_ON_PRE}")  # fmt: skip


def trace_step(rate: float, tau: float, dt: float) -> float:
    """A trace's step per spike, so that the value a rule reads — after the time step's
    decay, before the step's own spikes add to it — has mean ``rate_now / rate`` for a
    Poisson train at ``rate_now``: ``(exp(dt/τ) − 1)/(rate·dt)``, about ``(1 + dt/2τ)/(rate·τ)``
    (with ``1/(rate·τ)`` the read value would be ``e^(−dt/τ)(dt/τ)/(1 − e^(−dt/τ))``, 1.2 % low
    at dt = 0.25 ms, τ = 10 ms)."""
    return float(np.expm1(dt / tau) / (rate * dt))


def _dense(n_post: int, n_pre: int) -> tuple[np.ndarray, np.ndarray]:
    """``(post, pre)`` of every pair, post-major."""
    return np.repeat(np.arange(n_post), n_pre), np.tile(np.arange(n_pre), n_post)


# ---------------------------------------------------------------------- the schedule
def storage_unit(sp) -> float:
    """The largest step (>= 1 ms) that divides every storage time: the schedule's grid."""
    times = (sp.allocation, sp.presentation, sp.pause)
    for unit in (0.01, 0.005, 0.002, 0.001):
        if all(abs(t / unit - round(t / unit)) < 1e-9 for t in times):
            return unit
    raise ValidationError(
        f"StorageParams times {times} must be whole milliseconds (the input schedule's grid)"
    )


def quiet(b2, n_cols: int) -> dict:
    """The storage signals at retrieval: all zero (no storing, no gate, no recruitment, no
    consolidation, no teacher)."""
    zero = b2.TimedArray(np.zeros(1), dt=1 * b2.second)
    return {"storing": zero, "gate": zero, "recruit": zero, "consolidate": zero,
            "teach": b2.TimedArray(np.zeros((1, n_cols)) * b2.Hz, dt=1 * b2.second)}  # fmt: skip


def schedule(b2, X: np.ndarray, T: np.ndarray, sp) -> tuple[dict, float, int]:
    """The storage run's signals for presenting rows ``X`` (feature neurons' rates / r_in)
    with teacher rows ``T`` (output columns' rates / teach_rate): ``(namespace entries,
    duration in s, steps per presentation slot)``. Slot k = pause | allocation | encoding on
    a grid of ``unit`` s; the consolidation at its end (the next slot's first step)."""
    unit = storage_unit(sp)
    n_gap, n_alloc = round(sp.pause / unit), round(sp.allocation / unit)
    n_slot = n_gap + round(sp.presentation / unit)
    P = len(X)
    steps = P * n_slot + 1
    rates, teach = np.zeros((steps, X.shape[1])), np.zeros((steps, T.shape[1]))
    gate, recruit, consolidate = np.zeros(steps), np.zeros(steps), np.zeros(steps)
    for k in range(P):
        s0, s1 = k * n_slot, (k + 1) * n_slot
        rates[s0 + n_gap : s1] = X[k] * sp.input_rate
        recruit[s0 + n_gap : s1] = 1.0
        teach[s0 + n_gap : s1] = T[k] * sp.teach_rate
        gate[s0 + n_gap + n_alloc : s1] = 1.0
        consolidate[s1] = 1.0
    u = unit * b2.second
    ns = {
        "stimulus": b2.TimedArray(rates * b2.Hz, dt=u), "teach": b2.TimedArray(teach * b2.Hz, dt=u),
        "gate": b2.TimedArray(gate, dt=u), "recruit": b2.TimedArray(recruit, dt=u),
        "consolidate": b2.TimedArray(consolidate, dt=u),
        "storing": b2.TimedArray(np.ones(1), dt=u),
        # the retrieval's cue window always open (the stimulus carries the pauses); no cue
        "cue_period": u, "cue_time": 2 * u, "cue_rate": 0 * b2.Hz,
    }  # fmt: skip
    return ns, steps * unit, n_slot


# ---------------------------------------------------------------------- storage
class PlasticStorage:
    """The storage of a circuit with ``storage="plasticity"``: the learning constants, the
    bookkeeping of what was presented, and the presentation itself (:meth:`present`), run
    in the built retrieval network.

    The calibration (gain, inhibition, tonic offset, encoding, the teacher's scale) comes
    from the memories given at construction, as for ``"set"``; the weights come only from
    presentations.
    """

    #: Synapse groups whose presynaptic pathway only transmits (the learned feature→memory
    #: and feature→feed-forward weights): while storing every event adds exactly 0, so the
    #: presentations skip them, the cost that dominates storage (a feature spike is an
    #: event on every memory neuron's synapse). ``skip_silent = False`` runs them (same
    #: values: tests/test_plasticity.py).
    SILENT_WHILE_STORING = ("excitation", "feedforward_input")
    skip_silent = True

    def __init__(self, model, sim_map: SimilarityMap, M: np.ndarray, calibration, cfg):
        self.form = learned_form(sim_map, M, model.similarity.name)
        self.sim_map, self.calibration, self.config = sim_map, calibration, cfg
        capacity = cfg.plasticity.capacity or len(M)
        if capacity < len(M):
            raise ValidationError(
                f"'capacity' ({capacity}) must be at least the number of memories given ({len(M)})"
            )
        self.capacity = capacity
        X = sim_map.features(M) / sim_map.scale  # the memories given at construction
        #: their mean energy mean Σx², the learned bias's centre, and mean encoding
        #: (calibrated, like G)
        self.energy = float(np.mean(np.sum(X**2, axis=1))) if len(X) else 0.0
        self._typical = X.mean(axis=0) if len(X) else np.zeros(X.shape[1])
        #: memory i -> the population recruitment allocated to it; presentations so far;
        #: per presentation the spikes of each population in its slot; occupancy; wall time
        self.population_of_list: list[int] = []
        self.presentations = 0
        self.allocation: list[np.ndarray] = []
        self.occupied = np.zeros(capacity, dtype=bool)
        self.seconds = 0.0

    def forget(self) -> None:
        """Clear the bookkeeping (a fresh network, whose synapses start at zero)."""
        self.population_of_list, self.presentations, self.allocation = [], 0, []
        self.occupied = np.zeros(self.capacity, dtype=bool)
        self.seconds = 0.0

    @property
    def population_of(self) -> np.ndarray:
        """Memory i → the population recruitment allocated to it."""
        return np.asarray(self.population_of_list, dtype=int)

    def learning(self, pool: int) -> Learning:
        """The learning pathways' constants (see module), for ``pool`` feature neurons per
        feature."""
        cal, form, cfg = self.calibration, self.form, self.config
        p_conn = cfg.circuit.connection_p
        V = volts_per_spike(cal.gain, self.sim_map, cfg)
        centred = bool(cal.centred)
        if not centred and form.c != 0 and -1 in self.sim_map.channels:
            # (no similarity has both: Hamming and Manhattan bits are never signed)
            raise unsupported("a structural weight on signed feature channels", "circuit",
                              "the off channel's structural part would excite")  # fmt: skip
        return Learning(
            capacity=self.capacity,
            w_unit=V * form.a / pool,
            feedforward_unit=p_conn * V * form.a / pool if centred else 0.0,
            structural=0.0 if centred else -p_conn * V * form.c / pool,
            bias_gain=cal.gain * form.kappa / (pool * p_conn),
            energy=pool * p_conn * self.energy if centred else 0.0,  # excitability units
            tonic=cal.tonic,
            typical_encoding=np.asarray(self._typical, dtype=float),
            output_unit=output_weights(cal, cfg)[0],
        )

    def plan(self, pool: int):
        """The plan the circuit is built from: the calibration's constants, ``capacity``
        populations and the learning pathways' constants (no weight: they start at zero)."""
        import dataclasses

        cal = self.calibration
        F = cal.W.shape[1]
        n_out = cal.P_on.shape[1]
        return dataclasses.replace(
            cal, W=np.zeros((self.capacity, F)), bias=np.zeros(self.capacity),
            P_on=np.zeros((self.capacity, n_out)),
            P_off=np.zeros((self.capacity, n_out)) if cal.signed_output else None,
            learning=self.learning(pool),
        )  # fmt: skip

    def teacher(self, P: np.ndarray) -> np.ndarray:
        """Output columns' teaching rates / teach_rate for projection rows P (on, off)."""
        cal = self.calibration
        cols = [np.clip(P, 0, None) / cal.P_scale]
        if cal.signed_output:
            cols.append(np.clip(-P, 0, None) / cal.P_scale)
        return np.clip(np.concatenate(cols, axis=1), 0, 1)

    def check_room(self, n: int) -> None:
        """A clear error when ``n`` patterns do not fit the free populations."""
        free = int(np.count_nonzero(~self.occupied))
        if n > free:
            raise ValidationError(
                f"the network is full: {n} pattern(s) to store but {free} free memory "
                f"population(s) of capacity {self.capacity} (set SpikingConfig(plasticity="
                "StorageParams(capacity=...)) to build a larger one)"
            )

    def present(self, b2, built, net, X: np.ndarray, P: np.ndarray, seed: int | None) -> None:
        """Show each row of ``X`` (feature neurons' rates / StorageParams.input_rate, every
        channel) once, with its projection row, to the built network ``net`` (one Brian2 run
        from its current state; the retrieval monitors are paused). Records which population
        each presentation recruited."""
        self.check_room(len(X))
        began = time.perf_counter()
        cfg, sp = self.config, self.config.plasticity
        signals, duration, n_slot = schedule(b2, X, self.teacher(P), sp)
        start = float(net.t / b2.second)
        ns = dict(built.namespace, **signals, t0=start * b2.second)
        monitors = [o for o in net.objects if type(o).__name__ in ("SpikeMonitor", "StateMonitor")]
        # pathways that only transmit, each event adding (1 − storing)·… = 0 exactly while
        # storing: skipped, which changes no value (no random number is drawn in them)
        silent = [built[name].pre for name in self.SILENT_WHILE_STORING
                  if name in built and self.skip_silent]  # fmt: skip
        for obj in monitors + silent:
            obj.active = False
        memories = built["memories"]
        spikes = b2.SpikeMonitor(memories, name="storage_spikes")
        net.add(spikes)
        try:
            if seed is not None:
                b2.seed(seed)
            net.run(duration * b2.second, namespace=ns)
            i_sp = np.asarray(spikes.i[:]) // cfg.neurons_per_memory
            t_sp = np.asarray(spikes.t[:] / b2.second) - start
        finally:
            net.remove(spikes)
            for obj in monitors + silent:
                obj.active = True
        n = cfg.neurons_per_memory
        flags = np.asarray(memories.occupied[:]).reshape(self.capacity, n) > 0.5
        split = np.flatnonzero(flags.any(axis=1) & ~flags.all(axis=1))
        if len(split):
            raise RuntimeError(
                f"storage: population(s) {split.tolist()} ended with only some of their "
                f"{n} neurons occupied (a neuron fired fewer than occupancy_spikes times); "
                "raise StorageParams.recruit_drive or lower occupancy_spikes"
            )
        occupied = flags[:, 0]
        new = np.flatnonzero(occupied & ~self.occupied)
        unit = storage_unit(sp)
        slot = np.minimum((t_sp / (n_slot * unit)).astype(int), len(X) - 1)
        per_slot = np.zeros((len(X), self.capacity))
        np.add.at(per_slot, (slot, i_sp), 1)
        chosen: list[int] = []
        for k in range(len(X)):
            taken = self.occupied.copy()
            taken[chosen] = True  # (a population's last spikes may spill into the next slot)
            pop = int(np.argmax(np.where(taken, -1, per_slot[k])))
            if pop not in new or pop in chosen:
                raise RuntimeError(
                    f"storage: presentation {k} recruited no single free population (spikes "
                    f"per population {per_slot[k].astype(int).tolist()}, occupied "
                    f"{np.flatnonzero(occupied).tolist()}); raise StorageParams.recruit_drive "
                    "or lower occupancy_spikes"
                )
            chosen.append(pop)
        built.namespace["t0"] = net.t  # retrievals count time from here
        self.occupied = occupied
        self.population_of_list += chosen
        self.presentations += len(X)
        self.allocation += list(per_slot)
        self.seconds += time.perf_counter() - began

    def state(self, built) -> dict[str, np.ndarray]:
        """What the built network's synapses and neurons hold, one copy, per memory neuron:
        ``"instar"`` and ``"eligibility"`` (memory neurons × features, the mean over each
        feature's pool of neurons), ``"feedforward"`` (features,; the learned running mean, or
        zeros for the threshold's structural weights), ``"excitability"`` and
        ``"projection"`` (memory neurons × output columns, the mean over a column's neurons),
        ``"occupied"`` (populations,)."""
        mem, F, pool = built.n_memory_neurons, built.n_features // built.pool, built.pool
        exc = built["excitation"]
        w, u = np.zeros((mem, F * pool)), np.zeros((mem, F * pool))
        i, j = np.asarray(exc.i[:]), np.asarray(exc.j[:])
        w[j, i], u[j, i] = np.asarray(exc.w[:]), np.asarray(exc.u[:])
        mu = np.zeros(F * pool)
        if self.calibration.centred:
            ff = built["feedforward_input"]
            mu[np.asarray(ff.i[:])] = np.asarray(ff.mu[:])
        proj = built["projection"]
        layout = built.outputs
        p = np.zeros((mem, layout.n_columns))
        np.add.at(p, (np.asarray(proj.i[:]), layout.column_of(np.asarray(proj.j[:]))),
                  np.asarray(proj.p[:]) / layout.neurons)  # fmt: skip

        def per_feature(a):
            return a.reshape(*a.shape[:-1], F, pool).mean(axis=-1)

        return {
            "instar": per_feature(w), "eligibility": per_feature(u),
            "feedforward": per_feature(mu),
            "excitability": np.asarray(built["memories"].excitability[:mem]),
            "projection": p, "occupied": self.occupied.copy(),
            "instar_neurons": w, "feedforward_neurons": mu,
        }  # fmt: skip

    def check_patterns(self, X: np.ndarray, P: np.ndarray) -> None:
        """Refuse what the network cannot store faithfully: an encoding outside the feature
        neurons' range, or a projection row outside the output neurons' range (both were
        fixed at construction from the memories given then)."""
        vr = self.sim_map.value_range
        if vr is not None and X.size:
            tol = 1e-9 * max(1.0, abs(vr[0]), abs(vr[1]))
            if np.min(X) < vr[0] - tol or np.max(X) > vr[1] + tol:
                raise ValidationError(
                    f"'patterns' must lie in the range the network was built for, "
                    f"[{vr[0]:g}, {vr[1]:g}] (the memories given at construction: its "
                    f"feature code saturates beyond it); got values in [{np.min(X):g}, "
                    f"{np.max(X):g}], which would be stored clipped",
                    argument="patterns",
                )
        phi = self.sim_map.features(X)
        if phi.size and np.min(phi) < -1e-12:
            raise ValidationError(
                "'patterns' must have a nonnegative encoding for storage='plasticity', as the "
                "memories given at construction: a signed one needs cross-channel weights "
                "that no local rule learns"
            )
        top = float(np.max(np.abs(phi))) / self.sim_map.scale if phi.size else 0.0
        if top > 1 + 1e-9:
            raise ValidationError(
                f"'patterns' must lie in the range the network was built for: its feature "
                f"neurons fire at input_rate for an encoded value of {self.sim_map.scale:g} "
                f"(the largest of the memories given at construction), and this pattern "
                f"encodes to {top * self.sim_map.scale:g}, which would be stored clipped; "
                "rescale it, or build the network with memories that span its range",
                argument="patterns",
            )
        cal = self.calibration
        lo = -cal.P_scale if cal.signed_output else 0.0
        if P.size and (np.max(P) > cal.P_scale * (1 + 1e-9) or np.min(P) < lo - 1e-9 * cal.P_scale):
            raise ValidationError(
                f"'projection' rows must lie in [{lo:g}, {cal.P_scale:g}], the range the "
                "output neurons were built for (max|P| of the memories given at "
                f"construction); got values in [{np.min(P):g}, {np.max(P):g}], which would be "
                "stored clipped",
                argument="projection",
            )

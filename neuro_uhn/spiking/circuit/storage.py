"""``storage="plasticity"``: memories written into the circuit by local learning rules.

The circuit of :mod:`.build` is built from weights; here those weights are *learned*, each
memory from one presentation, in a storage network with the same neurons::

    features (Poisson, trace x) ──w (instar)──▶ memory populations ◀── recruitment (novelty)
        │                                          │   ▲ lateral inhibition (allocation WTA)
        └── relays ──μ (running mean)              └──p (instar)──▶ outputs ◀── teacher (P row)

One presentation of pattern ``m`` (``StorageParams``) runs in three phases:

1. **Allocation** (first ``allocation`` s). The feature neurons fire at the pattern's rates and
   50 recruitment (novelty) neurons excite the memory populations through synapses gated by
   the population's own flags: it must be free (``1 − occupied``) and next in line (the
   previous population is occupied, passed along a chain of one synapse per neuron). So
   exactly one population is driven: the *index* of the new memory, allocated as in
   hippocampal indexing theory (Teyler & DiScenna 1986), in order, like the age-ordered
   recruitment of adult-born granule cells (Aimone et al. 2011). A competition among all
   free populations was tried first: with equal drive it is a near-tie, and it split
   memories over two or three populations (digits, 5 populations of 4 neurons: 15, 7 and 1
   spikes in three of them for one presentation).
2. **Encoding** (rest of the presentation). A neuromodulatory gate ``gate(t)`` opens (the
   cholinergic encoding state of Hasselmo 1999: the learned pathways do not transmit while
   they learn). At each spike of a free memory neuron, every feature→memory synapse moves
   toward the presynaptic trace (Grossberg's instar, with the running-average step
   ``1/(n+1)`` of the neuron's n-th gated spike), so ``w → x = rate/r_in``, the pattern's
   encoding; the output neurons are driven by a teacher at the projection row's rates and each
   memory→output synapse moves toward the postsynaptic trace at each presynaptic spike, so
   ``p → P/max|P|``. Each feature→memory synapse also keeps an eligibility ``u → w·x``.
3. **Consolidation** (the pause). A population whose neurons fired ``occupancy_spikes`` times on
   average is marked occupied: it is never recruited again and its synapses never learn again.
   The feature→relay synapses (blanket feed-forward inhibition onto every memory, Packer &
   Yuste 2011) take one step of a running mean, ``μ ← μ + (x − μ)/n``, the mean encoding of
   the stored patterns.

Every rule reads only its synapse's weight, the pre- and postsynaptic traces and flags, and
the gate (checked by tests/test_plasticity.py from the synapse equations).

**What each similarity needs.** The set circuit's weights are an affine function of the
stored pattern's encoding ``x = φ(m)/scale``, ``W = a·x + c``, with a bias ``b = κ·Σ x²``, in
closed form from the similarity's definition (:attr:`SimilarityMap.affine`; Euclidean:
``W = 2m``, ``b = −‖m‖²``, so ``a = 2·scale``, ``κ = −scale²``; Hamming ``W = 2b − 1``,
``b = −Σb``; dot and cosine ``W = m = scale·x``, ``b = 0``; Manhattan by thermometer bits
``W = Δ(2u − 1)``, ``b = −ΔΣu``). The retrieval circuit scales what was learned by the
separation's own rule (:func:`learned_plan`): ``V·a·(w − μ)`` volts per input spike (the
centring across memories, by the learned feed-forward inhibition: at retrieval ``V·a·w`` are
the excitatory synapses' weights and ``V·a·μ`` the pooled inhibition's input weights, its
own pathway; the threshold separation
uses ``V·(a·w + c)``, ``c`` a structural inhibition) and a bias ``G·κ·Σu`` (the memory
neuron's intrinsic excitability, a variable of the neuron that each instar step moves by
the change of the synapse's eligibility, so it is the eligibility sum without a sum taken
outside the neuron). Nothing is fitted against the set
weights (tests/test_plasticity.py replaces them by values that raise when read). Similarities
whose weights are not such a function of the pattern's encoding (the KL forms: log-weights)
or whose encoding of a stored pattern is signed (it would need cross-channel terms) are
:class:`UnsupportedComponent`.

**Calibrated, not learned** (from the memories given at construction, as for ``set``, and
kept by :meth:`SpikingUHN.store`): the gain ``G`` and ``V = volts_per_spike(G)``, the
inhibition, the tonic offset and, for the centred separations, the stored patterns' mean
energy ``mean Σx²`` (the bias's centre), the feature encoding (thermometer levels), the
teacher's scale ``max|P|`` and the decoder's gain and baseline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ...errors import ValidationError
from ..mapping import SimilarityMap
from ..registry import unsupported
from .plan import volts_per_spike

__all__ = [
    "PlasticStorage",
    "LearnedForm",
    "Learned",
    "learned_form",
    "learned_plan",
    "store",
]

#: Recruitment (novelty) neurons per storage network.
N_RECRUIT = 50


@dataclass(frozen=True)
class LearnedForm:
    """``W = a·x + c`` and ``b = κ·Σ x²`` for an encoding ``x = φ(m)/scale`` (see module)."""

    a: float
    c: float
    kappa: float


def learned_form(sim_map: SimilarityMap, M: np.ndarray, name: str) -> LearnedForm:
    """The similarity's closed-form ``(a, c, κ)`` (:attr:`SimilarityMap.affine`, from its
    definition: Euclidean ``W = 2·scale·x``, ``b = −scale²·Σx²``, ...); nothing is fitted.
    Refuses what no local rule learns: a synapse that is not a product, a signed encoding
    of a stored pattern, no affine form (the KL forms' log-weights), weights that fall with
    the encoding."""
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
    if why is not None:
        raise unsupported(f"similarity {name!r} with storage='plasticity'", "circuit", why)
    a, c, kappa = sim_map.affine
    return LearnedForm(float(a), float(c), float(kappa))


@dataclass
class Learned:
    """The state the storage network learned (one copy; neuron order of the circuit)."""

    w: np.ndarray  # (capacity·n, feature neurons) instar weights, rate/r_in units
    u: np.ndarray  # (capacity·n, feature neurons) eligibilities w·x
    mu: np.ndarray  # (feature neurons,) running mean encoding (feed-forward inhibition)
    mu_n: np.ndarray  # (feature neurons,) presentations each feed-forward synapse averaged
    excitability: np.ndarray  # (capacity·n,) each memory neuron's Σu, its own variable
    p: np.ndarray  # (capacity·n, output columns) release probabilities
    occupied: np.ndarray  # (capacity,) bool
    population_of: list[int]  # stored memory i -> its population
    presentations: int = 0  # presentations so far (each memory once)
    allocation: list[np.ndarray] = dataclasses.field(default_factory=list)  # spikes/pop

    @classmethod
    def empty(cls, capacity: int, n: int, n_features: int, n_cols: int) -> Learned:
        return cls(
            np.zeros((capacity * n, n_features)),
            np.zeros((capacity * n, n_features)),
            np.zeros(n_features),
            np.zeros(n_features),
            np.zeros(capacity * n),
            np.zeros((capacity * n, n_cols)),
            np.zeros(capacity, dtype=bool),
            [],
        )


# The storage network's memory neurons: the circuit's LIF membrane (``v``, ``ge``), plus the
# allocation bookkeeping: ``tag`` counts this presentation's spikes, ``occupied`` is set at
# consolidation, ``n_learn`` counts gated spikes (the instar's step is 1/(n_learn + 1)),
# ``prev_occ`` is the previous population's occupancy (the chain), ``first`` marks population 0;
# ``excitability`` is the neuron's intrinsic excitability, the sum of its synapses'
# eligibilities (moved by the instar rule itself, so no sum is taken outside the neuron).
STORAGE_MEMORY = """
dv/dt = (v_rest - v + ge) / tau_m + sigma * sqrt(2 / tau_m) * xi : volt (unless refractory)
dge/dt = -ge / tau_e : volt
tag : 1
n_learn : 1
occupied : 1
prev_occ : 1
first : 1 (constant)
excitability : 1
"""

#: The local rules (only these variables: the synapse's own, ``_pre``/``_post`` traces and
#: flags, and ``gate(t)``); tests/test_plasticity.py reads them.
INSTAR_ON_POST = (
    "w += gate(t) * (1 - occupied_post) * (x_pre - w) / (n_learn_post + 1)\n"
    "du = gate(t) * (1 - occupied_post) * (w * x_pre - u) / (n_learn_post + 1)\n"
    "u += du\n"
    "excitability_post += du"
)
RECRUIT_ON_PRE = "ge_post += w_rec * (1 - occupied_post) * clip(prev_occ_post + first_post, 0, 1)"
OUTSTAR_ON_PRE = "p += gate(t) * (1 - occupied_pre) * (y_post - p) / (n_learn_pre + 1)"
#: the feed-forward synapse's running mean over the presentations it has seen (``n``, its
#: own count), one step per consolidation
RUNNING_MEAN = "mu += consolidate(t) * (x_pre - mu) / (n + 1)\nn += consolidate(t)"
#: Consolidation, once per presentation at its end: occupancy, then the counters restart.
CONSOLIDATION = (
    "occupied = clip(occupied + consolidate(t) * int(tag >= n_occ), 0, 1)\n"
    "tag = tag * (1 - consolidate(t))\n"
    "n_learn = n_learn * (1 - consolidate(t))"
)


def store(
    b2, learned: Learned, X: np.ndarray, T: np.ndarray, cfg, *, seed: int | None,
    target: str = "numpy",
):  # fmt: skip
    """Present each row of ``X`` (encodings, rate/r_in, every feature channel) once with its
    teacher row ``T`` (output columns' rates / teach_rate) and update ``learned`` in place.

    One Brian2 run: presentations back to back, rates from TimedArrays; ``target`` "numpy"
    (runtime) or "cpp_standalone" (compiled once for this run; large networks). Returns the
    storage ``brian2.Network`` and its namespace (for inspection).
    """
    standalone = None
    if target == "cpp_standalone":
        from ..device import Standalone

        standalone = Standalone.start(b2, "cpp_standalone", cfg.threads)
    else:
        b2.set_device("runtime")
        b2.prefs.codegen.target = target
    try:
        return _store(b2, learned, X, T, cfg, seed, standalone)
    finally:
        if standalone is not None:
            standalone.close()
            b2.set_device("runtime")


def _store(b2, learned, X, T, cfg, seed, standalone):
    sp, c = cfg.plasticity, cfg.circuit
    n = cfg.neurons_per_memory
    cap = learned.occupied.size
    check_room(learned, len(X))
    F, n_cols = X.shape[1], T.shape[1]
    dt = cfg.dt * b2.second
    # time grid: slot k = gap | allocation | encoding, on a grid of `unit` seconds; the
    # consolidation runs once per slot, at its end (= the start of the next slot)
    unit = _grid(sp.allocation, sp.presentation, sp.pause)
    n_gap = round(sp.pause / unit)
    n_alloc = round(sp.allocation / unit)
    n_slot = n_gap + round(sp.presentation / unit)
    P = len(X)
    steps = P * n_slot + 1
    rates, teach = np.zeros((steps, F)), np.zeros((steps, n_cols))
    gate, recruit = np.zeros(steps), np.zeros(steps)
    consolidate = np.zeros(steps)
    for k in range(P):
        s0, s1 = k * n_slot, (k + 1) * n_slot
        rates[s0 + n_gap : s1] = X[k] * sp.input_rate
        recruit[s0 + n_gap : s1] = 1.0
        teach[s0 + n_gap : s1] = T[k] * sp.teach_rate  # traces at steady state when gated
        gate[s0 + n_gap + n_alloc : s1] = 1.0
        consolidate[s1] = 1.0
    unit_q = unit * b2.second
    ns = {
        "v_rest": c.v_rest * b2.volt, "v_th": c.v_threshold * b2.volt,
        "v_reset": c.v_reset * b2.volt, "tau_m": c.tau_m * b2.second,
        "tau_e": c.tau_e * b2.second, "sigma": c.noise * b2.volt,
        "tau_x": sp.tau_trace * b2.second, "r_in": sp.input_rate * b2.Hz,
        "r_teach": sp.teach_rate * b2.Hz, "r_rec": sp.recruit_rate * b2.Hz,
        "feature_rate": b2.TimedArray(rates * b2.Hz, dt=unit_q),
        "teach_rate": b2.TimedArray(teach * b2.Hz, dt=unit_q),
        "gate": b2.TimedArray(gate, dt=unit_q),
        "recruit": b2.TimedArray(recruit, dt=unit_q),
        "consolidate": b2.TimedArray(consolidate, dt=unit_q),
        "n_occ": sp.occupancy_spikes,
    }  # fmt: skip
    gap = c.gap
    slot_q = n_slot * unit_q
    features = b2.NeuronGroup(
        F, "dx/dt = -x / tau_x : 1", threshold="rand() < feature_rate(t, i) * dt",
        reset="x += 1 / (r_in * tau_x)", method="exact", dt=dt, name="storage_features",
    )  # fmt: skip
    memories = b2.NeuronGroup(
        cap * n, STORAGE_MEMORY, threshold="v > v_th",
        reset="v = v_reset; tag += 1; n_learn += gate(t) * (1 - occupied)",
        refractory=cfg.refractory * b2.second, method="euler", dt=dt, name="storage_memories",
    )  # fmt: skip
    memories.v = c.v_rest * b2.volt
    memories.occupied = np.repeat(learned.occupied.astype(float), n)
    memories.excitability = learned.excitability
    memories.run_regularly(CONSOLIDATION, dt=slot_q, when="end", name="consolidation")
    outputs = b2.NeuronGroup(
        n_cols, "dy/dt = -y / tau_x : 1", threshold="rand() < teach_rate(t, i) * dt",
        reset="y += 1 / (r_teach * tau_x)", method="exact", dt=dt, name="storage_outputs",
    )  # fmt: skip
    # recruitment: N_RECRUIT novelty neurons excite the memory populations while a pattern is
    # shown, through synapses gated by the population's own state: free (1 - occupied) and
    # next in line (the previous population is occupied: `prev_occ`, passed along a chain of
    # one synapse per neuron; population 0 has `first`). Exactly one population is driven.
    novelty = b2.NeuronGroup(
        N_RECRUIT, "", threshold="rand() < recruit(t) * r_rec * dt", dt=dt, name="novelty",
    )  # fmt: skip
    ns["w_rec"] = sp.recruit_drive * gap / (N_RECRUIT * sp.recruit_rate * c.tau_e) * b2.volt
    recruit_syn = b2.Synapses(novelty, memories, on_pre=RECRUIT_ON_PRE, dt=dt,
                              name="recruitment")  # fmt: skip
    recruit_syn.connect()
    chain = b2.Synapses(memories, memories, "prev_occ_post = occupied_pre : 1 (summed)",
                        dt=dt, name="allocation_chain")  # fmt: skip
    if cap > 1:
        chain.connect(i=np.arange((cap - 1) * n), j=np.arange(n, cap * n))
    memories.first = np.r_[np.ones(n), np.zeros((cap - 1) * n)]
    # the learned pathways: they do not transmit while they learn, they only change. Explicit
    # connections: their order is known without reading Brian2's indices (which a standalone
    # device has only after the run)
    plastic = b2.Synapses(
        features, memories, "w : 1\nu : 1", on_post=INSTAR_ON_POST, dt=dt,
        name="storage_feature_to_memory",
    )  # fmt: skip
    pre, post = np.repeat(np.arange(F), cap * n), np.tile(np.arange(cap * n), F)
    plastic.connect(i=pre, j=post)
    if np.any(learned.w) or np.any(learned.u):  # (a fresh network starts at zero)
        plastic.w = learned.w[post, pre]
        plastic.u = learned.u[post, pre]
    relays = b2.NeuronGroup(F, "", dt=dt, name="storage_relays")
    ffi = b2.Synapses(features, relays, "mu : 1\nn : 1", dt=dt, name="storage_feedforward")
    ffi.connect(i=np.arange(F), j=np.arange(F))
    ffi.mu = learned.mu
    ffi.n = learned.mu_n
    ffi.run_regularly(RUNNING_MEAN, dt=slot_q, when="end", name="storage_feedforward_mean")
    to_out = b2.Synapses(memories, outputs, "p : 1", on_pre=OUTSTAR_ON_PRE, dt=dt,
                         name="storage_memory_to_output")  # fmt: skip
    pre_o, post_o = np.repeat(np.arange(cap * n), n_cols), np.tile(np.arange(n_cols), cap * n)
    to_out.connect(i=pre_o, j=post_o)
    if np.any(learned.p):
        to_out.p = learned.p[pre_o, post_o]
    spikes = b2.SpikeMonitor(memories, name="storage_spikes")
    net = b2.Network(
        features, memories, outputs, novelty, recruit_syn, chain, plastic, relays, ffi,
        to_out, spikes,
    )  # fmt: skip
    if seed is not None:
        b2.seed(seed)
    net.run(P * slot_q + dt, namespace=ns)  # + dt: the last consolidation, at P·slot
    if standalone is not None:
        standalone.device.build(
            directory=standalone.directory, compile=True, run=True, with_output=False
        )

    occupied = np.asarray(memories.occupied[:]).reshape(cap, n)[:, 0] > 0.5
    new = np.flatnonzero(occupied & ~learned.occupied)
    # which population each presentation recruited: the one with most spikes in its slot
    i_sp = np.asarray(spikes.i[:]) // n
    t_sp = np.asarray(spikes.t[:] / b2.second)
    slot = np.minimum((t_sp / (n_slot * unit)).astype(int), P - 1)  # spikes in the gap: few
    per_slot = np.zeros((P, cap))
    np.add.at(per_slot, (slot, i_sp), 1)
    chosen = []
    for k in range(P):
        pop = int(np.argmax(np.where(learned.occupied, -1, per_slot[k])))
        if pop not in new or pop in chosen:
            raise RuntimeError(
                f"storage: presentation {k} recruited no single free population (spikes per "
                f"population {per_slot[k].astype(int).tolist()}, occupied "
                f"{np.flatnonzero(occupied).tolist()}); raise StorageParams.recruit_drive or "
                "lower occupancy_spikes"
            )
        chosen.append(pop)
    learned.w[post, pre] = np.asarray(plastic.w[:])
    learned.u[post, pre] = np.asarray(plastic.u[:])
    learned.mu[:] = np.asarray(ffi.mu[:])
    learned.mu_n[:] = np.asarray(ffi.n[:])
    learned.excitability[:] = np.asarray(memories.excitability[:])
    learned.p[pre_o, post_o] = np.asarray(to_out.p[:])
    learned.occupied = occupied
    learned.population_of += chosen
    learned.presentations += P
    learned.allocation += list(per_slot)
    return net, ns


def check_room(learned: Learned, n: int) -> None:
    """A clear error when ``n`` patterns do not fit the free populations."""
    free = int(np.count_nonzero(~learned.occupied))
    if n > free:
        raise ValidationError(
            f"the network is full: {n} pattern(s) to store but {free} free memory "
            f"population(s) of capacity {learned.occupied.size} (set SpikingConfig(plasticity="
            "StorageParams(capacity=...)) to build a larger one)"
        )


def _grid(*times: float) -> float:
    """The largest step (>= 1 ms) that divides every time, for the TimedArrays."""
    for unit in (0.01, 0.005, 0.002, 0.001):
        if all(abs(t / unit - round(t / unit)) < 1e-9 for t in times):
            return unit
    raise ValidationError(
        f"StorageParams times {times} must be whole milliseconds (the input schedule's grid)"
    )


def learned_plan(learned: Learned, calibration, form: LearnedForm, sim_map, energy, cfg):
    """The retrieval circuit's plan from what was learned, in closed form: the calibration's
    constants (gain ``G``, inhibition, tonic offset, decoder scale, from the memories given
    at construction) with every neuron's own weights, bias and release probabilities.

    The set circuit uses ``W = V·(W₀ − centred·mean_k W₀)`` volts per input spike and
    ``bias = G·(b₀ − centred·mean_k b₀) + tonic`` (``V = volts_per_spike(G)``, ``centred``
    and ``tonic`` the separation's rule, :class:`~.plan.CircuitPlan`); with ``W₀ = a·x + c``
    and ``b₀ = κ·Σx²`` (the similarity's own form) the learned one is ``V·a·(w − μ)``
    (centred: the learned feed-forward mean μ replaces the mean over memories) or
    ``V·(a·w + c)``, and ``G·κ·(Σu − centred·energy) + tonic`` (u the eligibilities,
    ``energy`` the calibration's mean pattern energy ``mean_M Σx²``). No learned value is
    compared with, or fitted to, a set weight.
    """
    n = cfg.neurons_per_memory
    signs = sim_map.channels
    channels = np.repeat(signs, sim_map.W.shape[1])  # each feature neuron's channel
    V = volts_per_spike(calibration.gain, sim_map, cfg)
    G = calibration.gain
    w = learned.w
    # the feed-forward inhibition's own weights, per feature neuron: the learned running
    # mean (centred separations) or the structural part −c (threshold); built as the pooled
    # inhibition's input weights, never subtracted from the excitatory ones in NumPy
    excitatory = V * form.a * w
    if calibration.centred:
        feedforward = V * form.a * learned.mu
    else:  # the structural part c of each weight: inhibitory where negative
        structural = V * form.c * channels
        feedforward = np.clip(-structural, 0, None)
        excitatory = excitatory + np.clip(structural, 0, None)[None, :]
        energy = 0.0
    W = excitatory - feedforward[None, :]  # the signed drive per synapse, as reported
    bias = G * form.kappa * (learned.excitability - energy) + calibration.tonic
    cap = learned.occupied.size
    n_out = calibration.P_on.shape[1]
    p_pop = learned.p.reshape(cap, n, -1).mean(axis=1)
    return dataclasses.replace(
        calibration,
        P_on=p_pop[:, :n_out],
        P_off=p_pop[:, n_out : 2 * n_out] if calibration.signed_output else None,
        W=W.reshape(cap, n, -1).mean(axis=1)[:, : sim_map.W.shape[1]] * signs[0],
        bias=bias.reshape(cap, n).mean(axis=1),
        neurons={"W": W, "bias": bias, "P": learned.p.copy(), "excitatory": excitatory,
                 "feedforward": feedforward},  # fmt: skip
    )


class PlasticStorage:
    """The storage step of a circuit with ``storage="plasticity"``: what was learned so far,
    and the retrieval plan it gives (:func:`learned_plan`).

    The calibration (gain, inhibition, tonic offset, encoding, the teacher's scale) comes
    from the memories given at construction, as for ``"set"``; the weights come only from
    presentations (:func:`store`).
    """

    #: storage work (presentations × plastic synapses) above which target "auto" compiles
    #: the storage network (cpp_standalone, about 15 s to compile); numpy stores 100 digits
    #: (4 neurons per memory, 400 × 1024 synapses) in about 23 s on 2 cores
    STANDALONE_WORK = 5e7

    def __init__(self, model, sim_map: SimilarityMap, M: np.ndarray, calibration, cfg):
        self.form = learned_form(sim_map, M, model.similarity.name)
        self.sim_map, self.calibration, self.config = sim_map, calibration, cfg
        X = sim_map.features(M) / sim_map.scale  # the memories given at construction
        #: their mean energy mean Σx², the learned bias's centre (calibrated, like G)
        self.energy = float(np.mean(np.sum(X**2, axis=1))) if len(X) else 0.0
        capacity = cfg.plasticity.capacity or len(M)
        if capacity < len(M):
            raise ValidationError(
                f"'capacity' ({capacity}) must be at least the number of memories given ({len(M)})"
            )
        self.capacity = capacity
        n_features = sim_map.W.shape[1] * len(sim_map.channels)
        n_cols = calibration.P_on.shape[1] * (2 if calibration.signed_output else 1)
        self.learned = Learned.empty(capacity, cfg.neurons_per_memory, n_features, n_cols)

    @property
    def presentations(self) -> int:
        return self.learned.presentations

    @property
    def population_of(self) -> np.ndarray:
        """Memory i → the population recruitment allocated to it."""
        return np.asarray(self.learned.population_of, dtype=int)

    def state(self) -> dict[str, np.ndarray]:
        """What was learned: instar weights, eligibilities, the feed-forward running mean,
        each memory neuron's intrinsic excitability (the sum of its eligibilities, kept by
        the neuron) and the occupancy of each population."""
        L = self.learned
        return {"instar": L.w.copy(), "eligibility": L.u.copy(), "feedforward": L.mu.copy(),
                "excitability": L.excitability.copy(),
                "occupied": L.occupied.copy()}  # fmt: skip

    def teacher(self, P: np.ndarray) -> np.ndarray:
        """Output columns' teaching rates / teach_rate for projection rows P (on, off)."""
        cal = self.calibration
        cols = [np.clip(P, 0, None) / cal.P_scale]
        if cal.signed_output:
            cols.append(np.clip(-P, 0, None) / cal.P_scale)
        return np.clip(np.concatenate(cols, axis=1), 0, 1)

    def check_room(self, n: int) -> None:
        check_room(self.learned, n)

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

    def target(self, n_patterns: int) -> str:
        """Where the storage run compiles: numpy, or cpp_standalone for large work."""
        cfg = self.config
        if cfg.target in ("numpy", "cpp_standalone"):
            return cfg.target
        if cfg.target == "auto":
            n_features = self.learned.w.shape[1]
            work = n_patterns * self.capacity * cfg.neurons_per_memory * n_features
            if work > self.STANDALONE_WORK:
                from ..device import require_compiler

                try:
                    require_compiler("cpp_standalone")
                    return "cpp_standalone"
                except ValidationError:
                    return "numpy"
        return "numpy"  # cython and cuda: the storage run uses numpy

    def present(self, encoded: np.ndarray, P: np.ndarray, seed: int | None):
        """Present every row (encodings, rate/input_rate, every channel) once with its
        projection row, and return the retrieval plan from everything learned so far."""
        from ..device import brian

        store(brian(), self.learned, encoded, self.teacher(P), self.config, seed=seed,
              target=self.target(len(encoded)))  # fmt: skip
        return learned_plan(self.learned, self.calibration, self.form, self.sim_map,
                            self.energy, self.config)  # fmt: skip

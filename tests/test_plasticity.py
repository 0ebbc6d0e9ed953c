"""storage="plasticity": memories written by local rules, one presentation each.

References are independent of the learning code: the set circuit's weights (built from M by
``plan_circuit``), the abstract model's nearest memory (a brute-force loop here), and the
storage network's own Brian2 objects (its equations and schedule).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn.errors import ValidationError
from neuro_uhn.spiking import SpikingConfig, SpikingUHN, StorageParams, UnsupportedComponent

pytest.importorskip("brian2")

N_MEM = 8


def config(storage="plasticity", **plasticity):
    return SpikingConfig(
        mode="circuit", storage=storage, neurons_per_memory=3, duration=0.12, settle=0.03,
        target="numpy", seed=3,
        plasticity=StorageParams(**plasticity) if storage == "plasticity" else None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    rng = np.random.default_rng(0)
    M = X[rng.choice(len(X), N_MEM, replace=False)]
    Q = np.clip(M + rng.normal(0, 0.15, M.shape), 0, 1)
    return M, Q


def nearest_l1(M, Q):
    """The abstract uhn_best (Manhattan/max) winner, by a plain loop."""
    return np.array([min(range(len(M)), key=lambda k: np.abs(q - M[k]).sum()) for q in Q])


def driven_r(learned, target, rates):
    """Pearson r over the synapses of feature neurons that some stored pattern drives."""
    cols = rates.max(axis=0) > 0
    return np.corrcoef(learned[:, cols].ravel(), target[:, cols].ravel())[0, 1]


@pytest.fixture(scope="module")
def pair(digits):
    M, _ = digits
    return (
        SpikingUHN("uhn_best", M, config=config("set")),
        SpikingUHN("uhn_best", M, config=config()),
    )


def test_learned_weights_match_the_set_weights(pair, digits):
    M, _ = digits
    fixed, learned = pair
    a, b = fixed.weights(), learned.weights()
    for key in ("feature_to_memory", "memory_to_output", "bias"):
        assert a[key].shape == b[key].shape, key
    rates = learned.query_inputs(M)["rates"]
    assert driven_r(b["feature_to_memory"], a["feature_to_memory"], rates) >= 0.95
    r_out = np.corrcoef(a["memory_to_output"].ravel(), b["memory_to_output"].ravel())[0, 1]
    assert r_out >= 0.95
    # and at the right scale: a correlation ignores it (half the instar's learning rate
    # keeps r but gives a slope of about 0.8), so the least-squares slope through the
    # origin of learned on set weights must be 1 within the rules' sampling noise
    cols = rates.max(axis=0) > 0
    for key, (x, y) in {
        "feature_to_memory": (a["feature_to_memory"][:, cols], b["feature_to_memory"][:, cols]),
        "memory_to_output": (a["memory_to_output"], b["memory_to_output"]),
    }.items():
        slope = float((x * y).sum() / (x * x).sum())
        assert 0.93 <= slope <= 1.07, (key, slope)
    assert np.corrcoef(a["bias"], b["bias"])[0, 1] >= 0.95


def test_retrieval_with_learned_weights_agrees_with_abstract_and_set(pair, digits):
    M, Q = digits
    fixed, learned = pair
    want = nearest_l1(M, Q)
    got_set = fixed.run(Q).counts.argmax(axis=1)
    got = learned.run(Q).counts.argmax(axis=1)
    assert np.mean(got == want) >= 0.85
    assert np.mean(got == got_set) >= 0.85
    Z = learned.retrieve(Q)
    assert Z.shape == Q.shape
    # z comes from the output neurons: nearest stored pattern to z is the retrieved one
    assert np.mean(nearest_l1(M, Z) == want) >= 0.85


def storage_of(net):
    return net.engine.kind.storage


@pytest.fixture(scope="module")
def small(digits):
    """Four digits stored by plasticity and built once (tests that only read it share it)."""
    M, _ = digits
    net = SpikingUHN("uhn_best", M[:4], config=config())
    net.weights()  # builds: stores, calibrates
    return net


def test_each_memory_is_presented_once_and_recruits_a_new_population(pair):
    _, learned = pair
    learned.build()
    S = storage_of(learned)
    assert S.presentations == N_MEM
    assert sorted(S.population_of.tolist()) == list(range(N_MEM))
    assert S.occupied.all()
    for k, counts in enumerate(S.allocation):
        # the recruited population fired; every other free population stayed silent
        pop = S.population_of[k]
        assert counts[pop] > 0
        later = S.population_of[k + 1 :]
        assert np.all(counts[later] == 0)


def test_one_network_stores_and_recalls(digits, monkeypatch):
    """Building a network with storage="plasticity" makes exactly one brian2.Network; its
    instar, feed-forward and outstar synapses start at zero, the presentations write them,
    and retrieval runs through those same synapse objects from the stored state (t0: where
    storage ended)."""
    from neuro_uhn.spiking.device import brian

    b2 = brian()
    made = []
    original = b2.Network.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(b2.Network, "__init__", counting)
    M, Q = digits
    net = SpikingUHN("uhn_best", M[:4], config=config())
    net.build(4)
    assert len(made) == 1 and made[0] is net.network
    names = {o.name for o in net.network.objects}
    assert not any(name.startswith("storage") for name in names)
    exc, ff, proj = net["excitation"], net["feedforward_input"], net["projection"]
    assert "storing" in str(exc.pre.code) and "w_unit * w" in str(exc.pre.code)
    assert "ff_unit * mu" in str(ff.pre.code) and "a_out * p" in str(proj.pre.code)
    assert np.max(exc.w[:]) > 0.5 and np.max(proj.p[:]) > 0.5 and np.max(ff.mu[:]) > 0
    t0 = float(net.engine.built.namespace["t0"] / b2.second)
    sp = config().plasticity
    assert t0 == pytest.approx(4 * (sp.presentation + sp.pause) + 0.01)
    # the synapses that learned are the ones that retrieve: silence memory 0's instar
    # synapses in the stored state and its own cue no longer retrieves it
    got = net.run(Q[:4]).counts.argmax(axis=1)
    assert got[0] == 0
    pop = int(net.population_of_memory[0])
    n = config().neurons_per_memory
    own = (np.asarray(exc.j[:]) >= pop * n) & (np.asarray(exc.j[:]) < (pop + 1) * n)
    net.network.restore("built")
    w = np.asarray(exc.w[:])
    w[own] = 0.0
    exc.w[:] = w
    net.network.store("built")
    assert net.run(Q[:4]).counts.argmax(axis=1)[0] != 0


def test_the_rules_are_local(small):
    from neuro_uhn.spiking.device import brian

    b2 = brian()
    net = small
    ns = net.engine.built.namespace
    # the global signals (neuromodulatory: the learning gate, the encoding state, the
    # recruitment and the consolidation), and time
    allowed_global = {"gate", "consolidate", "storing", "recruit", "t", "t0"}
    checked = 0
    learning = ("excitation", "feedforward_input", "projection", "recruitment")
    for name in learning:
        obj = net[name]
        own = set(obj.variables.keys())
        codes = [str(p.code) for p in obj._pathways]
        codes += [str(o.abstract_code) for o in obj.contained_objects if "mean" in o.name]
        for code in codes:
            temporaries = set(re.findall(r"^\s*(\w+)\s*=(?!=)", code, re.M))  # `du = ...`
            for var in set(re.findall(r"[A-Za-z_]\w*", code)):
                if var.endswith(("_pre", "_post")) or var in allowed_global | temporaries:
                    continue
                if var in ns and not isinstance(ns[var], b2.TimedArray):
                    continue  # constants (w_unit, w_rec, ...)
                assert var in own or var in {"clip", "int"}, (name, var)
            checked += 1
        for var in re.findall(r"(\w+)_(?:pre|post)", " ".join(codes)):
            side = obj.source if f"{var}_pre" in " ".join(codes) else obj.target
            assert var in side.variables, (name, var)
    assert checked >= 5
    # the learned pathways transmit only outside storage (the encoding state)
    for name in ("excitation", "feedforward_input", "projection"):
        assert "(1 - storing(t - t0))" in str(net[name].pre.code), name
    # the consolidation's code reads the neuron's own variables and the global signal
    code = str(next(o for o in net["memories"].contained_objects
                    if o.name == "consolidation").abstract_code)  # fmt: skip
    assert set(re.findall(r"[A-Za-z_]\w*", code)) <= (
        {"occupied", "tag", "novel", "n_learn", "n_occ", "clip", "int"} | allowed_global
    )


def test_the_neurons_keep_their_own_excitability_and_the_running_mean_its_own_count():
    """The bias is a neuron variable that each instar step moves by the change of the
    synapse's eligibility: it equals the eligibility sum (computed here, after the run, as a
    reference), with no sum taken outside Brian2. The feed-forward running mean counts its
    own presentations: after P patterns it is their mean encoding, and each synapse's count
    is P."""
    M = np.random.default_rng(3).random((4, 6)) * 0.9 + 0.05
    net = SpikingUHN("uhn_best", M, config=config())
    net.build(1)
    exc = net["excitation"]
    n_mem = net.engine.built.n_memory_neurons
    u_sum = np.bincount(np.asarray(exc.j[:]), np.asarray(exc.u[:]), minlength=n_mem)
    np.testing.assert_allclose(np.asarray(net["memories"].excitability[:]), u_sum,
                               rtol=1e-9, atol=1e-12)  # fmt: skip
    assert np.count_nonzero(u_sum) == n_mem  # every neuron was recruited and learned
    ff = net["feedforward_input"]
    np.testing.assert_array_equal(np.asarray(ff.n[:]), 4.0)
    # the running mean of the traces at the consolidations: near the mean encoding
    X = net.query_inputs(M)["rates"] / net.config.input_rate
    mu = net.weights()["feedforward"]
    assert np.corrcoef(mu, X.mean(axis=0))[0, 1] > 0.8


def test_the_schedule_shows_each_pattern_once():
    from neuro_uhn.spiking.circuit.storage import schedule
    from neuro_uhn.spiking.device import brian

    rng = np.random.default_rng(1)
    X = rng.random((4, 6)) * (rng.random((4, 6)) > 0.4)
    X[:, 0] = 1.0
    sp = StorageParams()
    ns, duration, n_slot = schedule(brian(), X, X[:, :2], sp)
    rates = np.asarray(ns["stimulus"].values)
    gate, recruit = np.asarray(ns["gate"].values), np.asarray(ns["recruit"].values)
    shown = [np.flatnonzero(np.all(np.isclose(rates, X[k] * sp.input_rate), axis=1))
             for k in range(4)]  # fmt: skip
    for k, steps in enumerate(shown):
        assert len(steps) > 0 and np.all(np.diff(steps) == 1), k  # one contiguous window
        assert np.all(recruit[steps] == 1)
        # the gate opens after the allocation, for the rest of the presentation
        assert np.sum(gate[steps]) == pytest.approx(len(steps) * (1 - sp.allocation
                                                                 / sp.presentation))  # fmt: skip
    consolidations = np.flatnonzero(np.asarray(ns["consolidate"].values))
    assert consolidations.tolist() == [(k + 1) * n_slot for k in range(4)]
    assert duration == pytest.approx((4 * n_slot + 1) * 0.01)


def test_recruitment_never_reuses_an_occupied_population(digits):
    # occupancy stays contiguous (a population is recruited only when the previous one is
    # occupied); two stored, two more stored later, one left free
    M, _ = digits
    net = SpikingUHN("uhn_best", M[:2], config=config(capacity=5))
    net.build(1)
    n = config().neurons_per_memory
    exc = net["excitation"]
    j = np.asarray(exc.j[:])
    old = j < 2 * n
    before = np.asarray(exc.w[:])[old].copy()
    net.store(M[2:4])
    S = storage_of(net)
    assert S.population_of.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.asarray(exc.w[:])[old], before)  # never changed
    for counts in S.allocation[2:]:
        # the free one and the first never fired; the previous population's last spikes
        # may fall in the next slot's pause (its slow self-excitation decaying)
        assert counts[4] == 0 and counts[0] == 0
        assert counts[:2].max() <= 0.1 * counts.max()
    assert S.occupied.tolist() == [True, True, True, True, False]


def test_store_after_retrievals_keeps_the_earlier_memories(digits):
    M, Q = digits
    net = SpikingUHN("uhn_best", M[:-1], config=config(capacity=N_MEM))
    first = net.run(Q[:-1]).counts.argmax(axis=1)
    gain_before = net.decoder.gain
    w_before = net.weights()["feature_to_memory"][: (N_MEM - 1) * 3]
    net.store(M[-1])
    assert net.n_memories == N_MEM
    after = net.run(Q).counts.argmax(axis=1)
    # the network (not rebuilt) recalibrates its decoder on every stored pattern's run
    assert 0.5 * gain_before <= net.decoder.gain <= 2 * gain_before
    assert np.mean(after[:-1] == first) >= 0.85
    assert after[-1] == N_MEM - 1  # the new memory is retrieved from its own cue
    # the earlier memories' instar weights were not touched (the centring moves with μ)
    S = storage_of(net)
    old = S.population_of[:-1]
    assert np.all(S.occupied[old])
    W_after = net.weights()["feature_to_memory"][: (N_MEM - 1) * 3]
    assert np.corrcoef(w_before.ravel(), W_after.ravel())[0, 1] > 0.98


def test_a_full_network_is_a_clear_error(pair, digits):
    M, _ = digits
    _, learned = pair
    with pytest.raises(ValidationError, match="full"):
        learned.store(M[0])


def test_what_no_local_rule_learns_is_named():
    M = np.random.default_rng(0).random((5, 8)) + 0.1
    with pytest.raises(UnsupportedComponent, match="affine"):  # W = log m̃
        SpikingUHN(nu.UHN(similarity="reverse_kl", separation="max"), M, config=config())
    with pytest.raises(UnsupportedComponent, match="signed"):  # features log q̃ < 0
        SpikingUHN(nu.UHN(similarity="kl", separation="max"), M, config=config())
    with pytest.raises(UnsupportedComponent, match="signed"):
        SpikingUHN(nu.UHN(similarity="dot", separation="max"), M - 0.5, config=config())


def test_storage_arguments_are_checked(pair, digits):
    M, _ = digits
    fixed, _ = pair
    with pytest.raises(ValidationError, match="store"):
        fixed.store(M[0])
    with pytest.raises(ValidationError, match="'storage' is not read in mode='spiking'"):
        SpikingConfig(mode="spiking", storage="plasticity")
    with pytest.raises(ValidationError, match="storage"):
        SpikingConfig(mode="circuit", storage="learned")
    with pytest.raises(ValidationError, match="capacity"):
        SpikingUHN("uhn_best", M, config=config(capacity=2))
    with pytest.raises(ValidationError, match="allocation"):
        StorageParams(allocation=0.2)
    net = SpikingUHN("uhn_best", M[:2], config=config(capacity=4))
    with pytest.raises(ValidationError, match="patterns"):
        net.store(np.ones((1, 3)))
    euclid = SpikingUHN(nu.UHN(similarity="euclidean", separation="max"), M[:2],
                        config=config(capacity=4))  # fmt: skip
    with pytest.raises(ValidationError, match="nonnegative encoding"):
        euclid.store(M[2] - 0.5)


def test_the_storage_experiment_resumes(tmp_path, monkeypatch, digits):
    from neuro_uhn.experiments import plasticity as exp

    M, Q = digits
    point = dict(model="uhn_best", memories=M[:4], queries=Q[:4], targets=np.arange(4),
                 config=config(), sweep="n_memories", value=4, label="four")  # fmt: skip
    path = tmp_path / "rows.json"
    (row,) = exp.storage_sweep([point], results=path)
    assert row["r_feature_to_memory"] >= 0.95 and row["n_memories"] == 4
    assert row["accuracy_learned"] == row["accuracy_abstract"] == 1.0

    def boom(*args, **kwargs):
        raise AssertionError("a finished point was computed again")

    monkeypatch.setattr(exp, "storage_point", boom)
    assert exp.storage_sweep([point], results=path) == [row]  # read back, not recomputed
    with pytest.raises(AssertionError, match="again"):  # another sweep value is a new point
        exp.storage_sweep([{**point, "value": 5}], results=path)


def test_similar_memories_are_alike_by_the_spread(digits):
    from neuro_uhn.experiments.plasticity import similar_memories

    images = np.random.default_rng(0).random((50, 16))
    close, far = similar_memories(images, 10, 0.05), similar_memories(images, 10, 0.5)
    assert close.shape == far.shape == (10, 16)
    assert 0 <= close.min() and close.max() <= 1
    alike = lambda X: np.corrcoef(X)[np.triu_indices(len(X), 1)].mean()  # noqa: E731
    assert alike(close) > alike(far)


def test_sdm_threshold_learns_its_hamming_weights():
    """Hetero-association without centring: W = 2b − 1 needs the structural −1 (blanket
    inhibition) beside the learned instar, and the teacher drives on and off outputs."""
    rng = np.random.default_rng(0)
    A = (rng.random((8, 32)) > 0.5).astype(float)
    P = np.sign(rng.random((8, 6)) - 0.5)
    Q = np.abs(A - (rng.random(A.shape) < 0.03))
    cfg = config().replace(duration=0.15)
    fixed = SpikingUHN("sdm", A, P, config=cfg.replace(storage="set"))
    learned = SpikingUHN("sdm", A, P, config=cfg)
    a, b = fixed.weights(), learned.weights()
    assert np.corrcoef(a["feature_to_memory"].ravel(), b["feature_to_memory"].ravel())[0, 1] > 0.95
    assert np.corrcoef(a["memory_to_output"].ravel(), b["memory_to_output"].ravel())[0, 1] > 0.95
    assert b["memory_to_output"].shape[1] == 2 * 6  # on, off
    # both read out the abstract SDM (sign of the summed rows of the active set); the learned
    # one less well: the threshold decides on integer Hamming distances, and the rule's noise
    # (about 0.5 bit in each neuron's drive, docs/circuit.md) moves borderline populations
    want = np.sign(np.asarray(nu.load_model("sdm").retrieve(A, Q, projection=P)))
    bits_learned = np.mean(np.sign(learned.retrieve(Q)) == want)
    bits_set = np.mean(np.sign(fixed.retrieve(Q)) == want)
    assert bits_learned >= 0.6 and bits_set - bits_learned <= 0.2


def test_set_weights_are_the_ones_in_the_network(digits):
    """weights() against the built Brian2 synapses of copy 0 (sparse connectivity included)."""
    M, _ = digits
    storage = "set"
    cfg = config(storage).replace(circuit=config().circuit.replace(connection_p=0.5))
    net = SpikingUHN("uhn_best", M[:4], config=cfg)
    w = net.weights()
    net.build(1)
    n_mem, n_feat = w["feature_to_memory"].shape
    built = net.engine.built
    pool, cue = built.pool, built.sizes["cue"]

    def signed(exc_name, ff_name, n_src):
        """Excitatory weights minus the shared part each source gives the feed-forward
        pool: the signed weights per source neuron (copy 0)."""
        A = np.zeros((n_mem, n_src))
        syn = net[exc_name]
        i, j = np.asarray(syn.i[:]), np.asarray(syn.j[:])
        keep = (i < n_src) & (j < n_mem)
        A[j[keep], i[keep]] = np.asarray(syn.w[:])[keep]
        if ff_name in built:
            ff = net[ff_name]
            i, c = np.asarray(ff.i[:]), np.asarray(ff.w[:])
            shared = np.zeros(n_src)
            shared[i[i < n_src]] = c[i < n_src]  # the same c_j to every pool neuron
            A -= shared[None, :]
        return A

    A = signed("excitation", "feedforward_input", n_feat * pool)
    got = A.reshape(n_mem, n_feat, pool).sum(axis=2)  # each pool neuron carries W / pool
    np.testing.assert_allclose(got, w["feature_to_memory"], rtol=1e-9, atol=1e-12)
    A_cue = signed("cue_excitation", "feedforward_cue", cue)
    if "cue_shared" in built:  # the part of the bias every memory shares: one current
        A_cue += np.asarray(net["cue_shared"].w[:])[:cue][None, :]
    bias = A_cue.sum(axis=1) * cfg.input_rate * cfg.circuit.tau_e
    np.testing.assert_allclose(bias, w["bias"], rtol=1e-9, atol=1e-12)
    from neuro_uhn.spiking.circuit.readout import output_weights

    a, _ = output_weights(net.engine.kind.plan, cfg)
    proj = net["projection"]
    i, j = np.asarray(proj.i[:]), np.asarray(proj.j[:])
    n_cols = w["memory_to_output"].shape[1]
    m = cfg.circuit.output_neurons  # neurons per output column
    keep = (i < n_mem) & (j < n_cols * m)
    P = np.zeros((m,) + w["memory_to_output"].shape)
    P[j[keep] % m, i[keep], j[keep] // m] = np.asarray(proj.w[:])[keep] / a
    for r in range(m):  # every neuron of a column has the same relative weight
        np.testing.assert_allclose(P[r], w["memory_to_output"], rtol=1e-9)


def test_learned_weights_are_the_ones_in_the_network(digits):
    """storage="plasticity": weights() reads the built synapses and neurons (sparse
    connectivity included) and reports them in the units they transmit with: instar weights
    times w_unit, the feed-forward running mean times ff_unit, summed over a feature's pool;
    the bias the intrinsic current from each neuron's excitability; the outstar's p."""
    M, _ = digits
    cfg = config().replace(circuit=config().circuit.replace(connection_p=0.5))
    net = SpikingUHN("uhn_best", M[:4], config=cfg)
    w = net.weights()
    built = net.engine.built
    ns, pool = built.namespace, built.pool
    n_mem, n_feat = w["feature_to_memory"].shape
    exc = net["excitation"]
    i, j = np.asarray(exc.i[:]), np.asarray(exc.j[:])
    assert 0.4 < len(i) / (n_mem * n_feat * pool) < 0.6  # the sparse draw
    A = np.zeros((n_mem, n_feat * pool))
    A[j, i] = float(ns["w_unit"]) * np.asarray(exc.w[:])
    ff = net["feedforward_input"]
    shared = np.zeros(n_feat * pool)
    shared[np.asarray(ff.i[:])] = float(ns["ff_unit"]) * np.asarray(ff.mu[:])
    got = (A - shared[None, :]).reshape(n_mem, n_feat, pool).sum(axis=2)
    np.testing.assert_allclose(got, w["feature_to_memory"], rtol=1e-9, atol=1e-15)
    exc_v = np.asarray(net["memories"].excitability[:])
    bias = float(ns["bias_gain"]) * (exc_v - ns["energy"]) + float(ns["tonic"])
    np.testing.assert_allclose(bias, w["bias"], rtol=1e-9, atol=1e-15)
    proj = net["projection"]
    m = cfg.circuit.output_neurons
    P = np.zeros_like(w["memory_to_output"])
    np.add.at(P, (np.asarray(proj.i[:]), np.asarray(proj.j[:]) // m), np.asarray(proj.p[:]) / m)
    np.testing.assert_allclose(P, w["memory_to_output"], rtol=1e-9)


def test_compare_runs_a_network_already_made(pair, digits):
    """compare(network=...) runs the learned network itself (no second storage) and refuses
    a network made from something else."""
    from neuro_uhn.spiking import compare

    M, Q = digits
    _, learned = pair
    r = compare("uhn_best", M, Q[:4], targets=np.arange(4), network=learned)
    assert r.config is learned.config and r.z_spiking.shape == Q[:4].shape
    with pytest.raises(ValidationError, match="memories"):
        compare("uhn_best", M[:-1], Q[:4], network=learned)
    with pytest.raises(ValidationError, match="config"):
        compare("uhn_best", M, Q[:4], network=learned, config=config("set"))


class _SetWeight:
    """Stands for a set weight array: its shape may be read, any value raises."""

    __array_ufunc__ = None  # numpy's ufuncs refuse it; Python's operators raise TypeError

    def __init__(self, a, what):
        self.shape, self.ndim, self.size, self.dtype = a.shape, a.ndim, a.size, a.dtype
        self.what = what

    def _used(self, *_, **__):
        raise AssertionError(f"storage='plasticity' read the set weights ({self.what})")

    __array__ = __getitem__ = __iter__ = __len__ = __float__ = _used


def test_nothing_fitted_against_the_set_weights(digits):
    """With every set weight replaced by a stand-in that raises when its values are read
    (the similarity's W and b, the calibration plan's W and bias), storing and retrieving
    still work: what retrieval uses comes from the learned values and closed-form
    constants only, never from a fit against (or any other use of) the set weights."""
    M, Q = digits
    net = SpikingUHN("uhn_best", M, config=config())
    kind = net.engine.kind
    probe = _SetWeight(np.zeros(2), "probe")
    with pytest.raises(AssertionError, match="set weights"):
        np.asarray(probe)
    with pytest.raises((AssertionError, TypeError)):
        probe.shape[0] * 1.0 + probe
    owners = (kind.sim_map, kind.plan, kind.storage.calibration)
    for owner, names in ((o, ("W", "bias")) for o in owners):
        for name in names:
            setattr(owner, name, _SetWeight(getattr(owner, name), name))
    got = net.run(Q).counts.argmax(axis=1)
    assert np.mean(got == nearest_l1(M, Q)) >= 0.85
    assert net.retrieve(Q[:2]).shape == Q[:2].shape


def test_the_learned_units_are_closed_form(digits, small):
    """The units the learned synapses transmit with come from the calibration's constants
    and the similarity's own form (V = volts_per_spike(G), a, κ), never from the learned
    values: the instar and the feed-forward mean transmit V·a/pool per unit, and the
    intrinsic current is G·κ/(pool·p) per unit of excitability (p = connection_p, 1 here)."""
    from neuro_uhn.spiking.circuit.plan import volts_per_spike

    M, _ = digits
    net = small
    kind, ns = net.engine.kind, net.engine.built.namespace
    pool, form, cal = net.engine.built.pool, kind.storage.form, kind.storage.calibration
    Va = volts_per_spike(cal.gain, kind.sim_map, kind.config) * form.a
    assert float(ns["w_unit"]) == pytest.approx(Va / pool, rel=1e-12)
    assert float(ns["ff_unit"]) == pytest.approx(Va / pool, rel=1e-12)
    assert float(ns["bias_gain"]) == pytest.approx(cal.gain * form.kappa / pool, rel=1e-12)
    assert float(ns["tonic"]) == pytest.approx(cal.tonic, rel=1e-12)
    # the instar learns the encoding itself: w ≈ x = rate / input_rate of the memory's
    # pattern, at the scale 1 the closed-form units assume
    w = net.weights()
    X = net.query_inputs(M[:4])["rates"] / kind.config.input_rate
    own = w["instar"].reshape(4, kind.config.neurons_per_memory, -1).mean(axis=1)
    own = own[np.argsort(net.population_of_memory)]
    driven = X.max(axis=0) > 0
    slope = float((X[:, driven] * own[:, driven]).sum() / (X[:, driven] ** 2).sum())
    assert 0.93 <= slope <= 1.07


def test_the_trace_step_makes_the_read_trace_a_rate_estimate():
    """A rule reads a trace after the time step's exact decay and before the step's own
    spikes add to it; with trace_step's increment its mean is rate/r. Brute force: the
    discrete recursion with Bernoulli spikes, against the closed form."""
    from neuro_uhn.spiking.circuit.storage import trace_step

    rng = np.random.default_rng(0)
    dt, tau, r = 2.5e-4, 0.01, 1000.0
    for rate in (1000.0, 400.0):
        step, decay = trace_step(r, tau, dt), np.exp(-dt / tau)
        spikes = rng.random(400_000) < rate * dt
        x, read = 0.0, np.empty(spikes.size)
        for k, s in enumerate(spikes):  # decay, read, then this step's spike
            x *= decay
            read[k] = x
            x += step * s
        assert read[2000:].mean() == pytest.approx(rate / r, rel=0.01)
    # the naive 1/(r·τ) step reads low by the discretisation, as the docstring says
    assert trace_step(r, tau, dt) * r * tau == pytest.approx(1 + dt / (2 * tau), rel=1e-3)


def test_a_centred_bias_is_learned_at_the_set_bias_centre(digits):
    """Euclidean/max (feature pools of 5, on/off channels): the learned bias is the set one
    in value, not only in correlation — the centre (the calibration's mean energy) is in
    the excitability's units (pool·connection_p·Σx²)."""
    M, _ = digits
    model = nu.UHN(similarity="euclidean", separation="max")
    a = SpikingUHN(model, M, config=config("set")).weights()["bias"]
    b = SpikingUHN(model, M, config=config()).weights()["bias"]
    assert abs(np.mean(b - a)) <= 0.15 * np.std(a)
    assert np.sqrt(np.mean((b - a) ** 2)) <= 0.4 * np.std(a)


def test_building_again_keeps_what_was_learned(digits, small):
    """build() on a built learning network keeps it (compare() calls build): rebuilding
    would make a network whose synapses never saw the memories."""
    _, Q = digits
    net = small
    before = net.weights()["instar"]
    network = net.network
    net.build(len(Q))
    assert net.network is network
    np.testing.assert_array_equal(net.weights()["instar"], before)
    assert np.mean(net.run(Q[:4]).counts.argmax(axis=1) == np.arange(4)) >= 0.75


def test_skipping_the_silent_pathways_while_storing_changes_nothing(digits, monkeypatch):
    """Storage skips the transmission-only pathways (their events add (1 − storing)·w = 0):
    with them run instead, the same seed learns exactly the same values."""
    from neuro_uhn.spiking.circuit.storage import PlasticStorage

    M, _ = digits
    model = nu.UHN(similarity="euclidean", separation="max")  # pools, and a feed-forward mean
    skipped = SpikingUHN(model, M[:4], config=config()).weights()
    monkeypatch.setattr(PlasticStorage, "skip_silent", False)
    ran = SpikingUHN(model, M[:4], config=config()).weights()
    for key in ("instar", "eligibility", "feedforward", "excitability", "memory_to_output"):
        np.testing.assert_array_equal(skipped[key], ran[key], err_msg=key)


def test_a_fresh_network_learns_every_memory_again(digits):
    """Closing the engine drops the network and what its synapses learned: the next build
    presents every memory (those stored later too) to the fresh one."""
    M, Q = digits
    net = SpikingUHN("uhn_best", M[:3], config=config(capacity=4))
    net.build(1)
    net.store(M[3])
    net.engine.close()
    net.build(1)
    S = storage_of(net)
    assert S.presentations == 4 and S.occupied.all()
    assert np.max(net["excitation"].w[:]) > 0.5
    assert np.mean(net.run(Q[:4]).counts.argmax(axis=1) == np.arange(4)) >= 0.75


def test_dales_law_holds_in_the_learning_network(digits):
    """Every synapse of the learning network excites or inhibits as its source's cell type
    says, and every learned value that transmits (w, μ, p) is nonnegative; the allocation
    chain passes a flag (a summed variable), no current."""
    M, _ = digits
    net = SpikingUHN(nu.UHN(similarity="euclidean", separation="max"), M[:4], -M[:4],
                     config=config())  # fmt: skip
    net.build(1)
    types = net.cell_types
    assert types["novelty"] == types["teacher"] == "excitatory"
    for obj in net.network.objects:
        if type(obj).__name__ != "Synapses":
            continue
        code = " ".join(str(p.code) for p in obj._pathways)
        targets = set(re.findall(r"(\w+)_post \+=", code)) - {"excitability"}
        if not targets:
            assert obj.name == "allocation_chain", obj.name
            continue
        assert "-=" not in code, obj.name
        sign = "inhibitory" if targets <= {"gi", "gf", "g"} else "excitatory"
        assert sign == types[obj.source.name], (obj.name, targets)
        for var in ("w", "mu", "p"):
            if var in obj.variables:
                assert np.all(np.asarray(getattr(obj, var)[:]) >= 0), (obj.name, var)


def test_free_populations_neither_learn_nor_compete(digits):
    """With room for more memories than stored, the free populations stay at zero (their
    spontaneous spikes are not recruited ones) and are silent at retrieval: no intrinsic
    current before recruitment, so they do not compete as a stored all-zero pattern would
    (a dim, masked cue is the case where that pattern is nearest)."""
    M, Q = digits
    net = SpikingUHN("uhn_best", M[:3], config=config(capacity=8))
    w = net.weights()
    n = config().neurons_per_memory
    free = np.repeat(~storage_of(net).occupied, n)
    assert free.sum() == 5 * n
    assert not np.any(w["instar"][free]) and not np.any(w["memory_to_output"][free])
    dim = np.vstack([Q[:3] * 0.3, np.zeros((1, Q.shape[1])) + 0.02])
    run = net.run(dim)
    spikes = np.concatenate([i for i, _ in run.spikes])  # memories' populations (0..2 stored)
    assert run.counts.shape[1] == 3 and (spikes.size == 0 or spikes.max() < 3)
    pops = np.concatenate([np.asarray(net["memory_spikes"].i[:]) // n])
    assert not np.any(np.isin(pops, np.flatnonzero(~storage_of(net).occupied)))


def test_a_failed_store_leaves_the_network_as_it_was(digits, monkeypatch):
    """A presentation that fails (here: forced) leaves the built network, its memories and
    its decoder as they were, and the patterns are not counted as stored."""
    from neuro_uhn.spiking.circuit.storage import PlasticStorage

    M, Q = digits
    net = SpikingUHN("uhn_best", M[:3], config=config(capacity=5))
    before = net.run(Q[:3]).counts.argmax(axis=1)
    original = PlasticStorage.present

    def failing(self, b2, built, network, X, P, seed):
        network.run(0.01 * b2.second, namespace=built.namespace)  # the state moves on
        raise RuntimeError("forced")

    monkeypatch.setattr(PlasticStorage, "present", failing)
    with pytest.raises(RuntimeError, match="forced"):
        net.store(M[3])
    assert net.n_memories == 3 and storage_of(net).presentations == 3
    np.testing.assert_array_equal(net.run(Q[:3]).counts.argmax(axis=1), before)
    monkeypatch.setattr(PlasticStorage, "present", original)
    net.store(M[3])  # and it can store again
    assert net.n_memories == 4 and storage_of(net).population_of.tolist() == [0, 1, 2, 3]

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


def test_each_memory_is_presented_once_and_recruits_a_new_population(pair):
    _, learned = pair
    learned.build()
    L = learned.kind.storage.learned
    assert L.presentations == N_MEM
    assert sorted(L.population_of) == list(range(N_MEM))
    assert L.occupied.all()
    for k, counts in enumerate(L.allocation):
        # the recruited population fired; every other free population stayed silent
        pop = L.population_of[k]
        assert counts[pop] > 0
        later = [p for p in L.population_of[k + 1 :]]
        assert np.all(counts[later] == 0)


def storage_network(M, cap, occupied=None, seed=5):
    """Run the storage network directly and return (net, ns, learned, rates)."""
    from neuro_uhn.spiking.circuit.storage import Learned, store
    from neuro_uhn.spiking.device import brian

    b2 = brian()
    b2.set_device("runtime")
    b2.prefs.codegen.target = "numpy"
    net0 = SpikingUHN("uhn_best", M, config=config("set"))
    X = net0.query_inputs(M)["rates"] / net0.config.input_rate
    T = np.concatenate([M, np.ones((len(M), 1))], axis=1)
    cfg = config()
    L = Learned.empty(cap, cfg.neurons_per_memory, X.shape[1], T.shape[1])
    if occupied is not None:
        L.occupied = np.asarray(occupied, bool)
        L.w[:] = 0.5  # something to disturb
    before = L.w.copy()
    net, ns = store(b2, L, X, T, cfg, seed=seed)
    return net, ns, L, X, before


def test_the_rules_are_local():
    from neuro_uhn.spiking.device import brian

    b2 = brian()
    M = np.eye(3, 6)
    net, ns, *_ = storage_network(M, 3)
    allowed_global = {"gate", "consolidate", "t"}  # the neuromodulatory gates, and time
    checked = 0
    for obj in net.objects:
        if type(obj).__name__ != "Synapses" or obj.name == "allocation_chain":
            continue
        own = set(obj.variables.keys())
        codes = [str(p.code) for p in obj._pathways]
        codes += [str(o.abstract_code) for o in obj.contained_objects if "run_regularly" in o.name
                  or "mean" in o.name]  # fmt: skip
        for code in codes:
            temporaries = set(re.findall(r"^\s*(\w+)\s*=(?!=)", code, re.M))  # `du = ...`
            for name in set(re.findall(r"[A-Za-z_]\w*", code)):
                if name.endswith(("_pre", "_post")) or name in allowed_global | temporaries:
                    continue
                if name in ns and not isinstance(ns[name], b2.TimedArray):
                    continue  # constants (w_rec)
                assert name in own or name in {"clip", "int"}, (obj.name, name)
            checked += 1
        for name in re.findall(r"(\w+)_(?:pre|post)", " ".join(codes)):
            side = obj.source if f"{name}_pre" in " ".join(codes) else obj.target
            assert name in side.variables, (obj.name, name)
    assert checked >= 4
    # the learned pathways do not transmit while they learn: no on_pre onto the membrane
    plastic = net["storage_feature_to_memory"]
    assert not any(re.search(r"\b(v|ge|gi)_post\b", str(p.code)) for p in plastic._pathways)


def test_the_neurons_keep_their_own_excitability_and_the_running_mean_its_own_count():
    """The bias is a neuron variable that each instar step moves by the change of the
    synapse's eligibility: it equals the eligibility sum (computed here, after the run, as a
    reference), with no sum taken outside Brian2. The feed-forward running mean counts its
    own presentations: after P patterns it is their mean encoding, and each synapse's count
    is P."""
    M = np.random.default_rng(3).random((4, 6)) * 0.9 + 0.05
    net, ns, L, X, _ = storage_network(M, 4)
    mem = net["storage_memories"]
    np.testing.assert_allclose(np.asarray(mem.excitability[:]), L.u.sum(axis=1),
                               rtol=1e-9, atol=1e-12)  # fmt: skip
    assert np.all(L.excitability[L.u.sum(axis=1) > 0] > 0)
    np.testing.assert_array_equal(L.mu_n, np.full(X.shape[1], 4.0))
    # the running mean of the traces at the consolidations: near the mean encoding
    assert np.corrcoef(L.mu, X.mean(axis=0))[0, 1] > 0.8


def test_the_schedule_shows_each_pattern_once():
    M = np.random.default_rng(1).random((4, 6)) * (np.random.default_rng(2).random((4, 6)) > 0.4)
    M[:, 0] = 1.0
    net, ns, L, X, _ = storage_network(M, 4)
    rates = np.asarray(ns["feature_rate"].values)
    shown = [np.flatnonzero(np.all(np.isclose(rates, X[k] * 1000.0), axis=1)) for k in range(4)]
    for k, steps in enumerate(shown):
        assert len(steps) > 0 and np.all(np.diff(steps) == 1), k  # one contiguous window
    assert L.presentations == 4


def test_recruitment_never_reuses_an_occupied_population():
    # the network's own storage keeps occupancy contiguous (a population is recruited only
    # when the previous one is occupied); here two are occupied, one pattern resembles them
    M = np.eye(2, 6)
    occupied = [True, True, False, False, False]
    _, _, L, _, before = storage_network(M, 5, occupied=occupied)
    assert L.population_of == [2, 3]
    n = config().neurons_per_memory
    for pop in (0, 1):  # occupied: their synapses never changed
        np.testing.assert_array_equal(L.w[pop * n : (pop + 1) * n], before[pop * n : (pop + 1) * n])
    for pop in (0, 1, 4):  # and they, like the free one, did not fire
        assert all(counts[pop] == 0 for counts in L.allocation)
    assert L.occupied.tolist() == [True, True, True, True, False]


def test_store_after_retrievals_keeps_the_earlier_memories(digits):
    M, Q = digits
    net = SpikingUHN("uhn_best", M[:-1], config=config(capacity=N_MEM))
    first = net.run(Q[:-1]).counts.argmax(axis=1)
    gain_before = net.decoder.gain
    w_before = net.weights()["feature_to_memory"][: (N_MEM - 1) * 3]
    net.store(M[-1])
    assert net.n_memories == N_MEM
    after = net.run(Q).counts.argmax(axis=1)
    # the rebuilt network recalibrates its decoder on every stored pattern's run
    assert 0.5 * gain_before <= net.decoder.gain <= 2 * gain_before
    assert np.mean(after[:-1] == first) >= 0.85
    assert after[-1] == N_MEM - 1  # the new memory is retrieved from its own cue
    # the earlier memories' instar weights were not touched (the centring moves with μ)
    L = net.kind.storage.learned
    old = np.asarray(L.population_of[:-1])
    assert np.all(L.occupied[old])
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


@pytest.mark.parametrize("storage", ["set", "plasticity"])
def test_weights_are_the_ones_in_the_network(storage, digits):
    """weights() against the built Brian2 synapses of copy 0 (sparse connectivity included)."""
    M, _ = digits
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
    for owner, names in ((kind.sim_map, ("W", "bias")), (kind.plan, ("W", "bias"))):
        for name in names:
            setattr(owner, name, _SetWeight(getattr(owner, name), name))
    got = net.run(Q).counts.argmax(axis=1)
    assert np.mean(got == nearest_l1(M, Q)) >= 0.85
    assert net.retrieve(Q[:2]).shape == Q[:2].shape


def test_the_learned_mean_is_the_feedforward_pathway_and_the_instar_the_excitation(digits):
    """At retrieval the learned running mean μ is the pooled feed-forward inhibition's own
    input weight (V·a·μ per feature, spread over its pool) and the instar weights are the
    excitatory synapses' (V·a·w): neither is subtracted from the other in NumPy. V and a are
    the closed-form volts per spike and the similarity's slope."""
    from neuro_uhn.spiking.circuit.plan import volts_per_spike

    M, _ = digits
    net = SpikingUHN("uhn_best", M[:4], config=config())
    state = net.weights()
    net.build(1)
    kind, built = net.engine.kind, net.engine.built
    pool = built.pool
    Va = volts_per_spike(kind.plan.gain, kind.sim_map, kind.config) * kind.storage.form.a
    ff = net["feedforward_input"]
    i, w = np.asarray(ff.i[:]), np.asarray(ff.w[:])
    keep = i < kind.n_features * pool  # copy 0
    np.testing.assert_allclose(w[keep], Va * state["feedforward"][i[keep] // pool] / pool,
                               rtol=1e-9)  # fmt: skip
    exc = net["excitation"]
    i, j, w = np.asarray(exc.i[:]), np.asarray(exc.j[:]), np.asarray(exc.w[:])
    keep = (i < kind.n_features * pool) & (j < len(state["instar"]))
    np.testing.assert_allclose(w[keep], Va * state["instar"][j[keep], i[keep] // pool] / pool,
                               rtol=1e-9, atol=1e-15)  # fmt: skip

"""The spiking package refuses what it cannot do faithfully, at its root: impossible settings,
patterns outside what plasticity can store, networks or plans too large to allocate, and a
run with nothing to read. Expected values come from closed forms here, not the code."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn.errors import SilentNetworkWarning, ValidationError, ValidationTypeError
from neuro_uhn.spiking import CircuitParams, SpikingConfig, SpikingUHN, StorageParams


def circuit(**kw):
    base = dict(mode="circuit", duration=0.15, settle=0.05, target="numpy", seed=3)
    return SpikingConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def plastic():
    M = np.array([[1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.5], [0.5, 0.0, 1.0, 0.0]])
    cfg = circuit(storage="plasticity", plasticity=StorageParams(capacity=6),
                  neurons_per_memory=2)  # fmt: skip
    return M, SpikingUHN("uhn_best", M[:2], config=cfg)


@pytest.mark.parametrize(
    ("pattern", "match"),
    [
        (np.full(4, 2.0), "range the network was built for"),  # its code would saturate
        (np.full(4, -1.0), "range|nonnegative"),  # would be stored as 0s
    ],
)
def test_plasticity_refuses_a_pattern_it_would_store_clipped(plastic, pattern, match):
    _, net = plastic
    before = net.n_memories
    with pytest.raises(ValidationError, match=match):
        net.store(pattern)
    assert net.n_memories == before  # nothing was queued


def test_plasticity_refuses_a_value_beyond_the_feature_code_even_with_a_valid_projection(
    plastic,
):
    _, net = plastic
    with pytest.raises(ValidationError, match="'patterns' must lie in the range"):
        net.store([2.0, 0.0, 0.0, 0.0], projection=[[1.0, 0.0, 0.0, 0.0]])


def test_plasticity_refuses_a_projection_row_outside_the_outputs_range():
    M = np.array([[1.0, 0.0], [0.0, 1.0]])
    model = "uhn_best"
    cfg = circuit(storage="plasticity", plasticity=StorageParams(capacity=3),
                  neurons_per_memory=1)  # fmt: skip
    net = SpikingUHN(model, M, config=cfg)
    with pytest.raises(ValidationError, match="'projection' rows must lie in"):
        net.store([0.5, 0.5], projection=[[3.0, 0.0]])


@pytest.mark.parametrize(
    ("value", "error"),
    [("not numbers", ValidationError), ([[1.0, 0.0], [1.0]], ValidationError),
     (np.zeros((0, 4)), ValidationError), (np.full(4, np.nan), ValidationError),
     (np.zeros((2, 3)), ValidationError)],
)  # fmt: skip
def test_store_refuses_malformed_patterns_with_library_errors(plastic, value, error):
    _, net = plastic
    with pytest.raises(error, match="'patterns'"):
        net.store(value)


def test_a_pattern_within_range_is_stored_faithfully(plastic):
    M, net = plastic
    before = net.n_memories
    net.store(M[2])
    assert net.n_memories == before + 1
    w = net.weights()
    # the third population's instar weights learned the pattern's encoding (rate / input rate)
    pop = net.population_of_memory[2]
    learned = w["instar"].reshape(6, 2, -1)[pop].mean(axis=0)
    want = net.query_inputs(M[2:3])["rates"][0] / net.config.input_rate
    assert np.corrcoef(learned, want)[0, 1] > 0.95


@pytest.mark.parametrize("value", [float("inf"), True, float("nan")])
def test_gains_must_be_finite_numbers(value):
    with pytest.raises((ValidationError, ValidationTypeError), match="'wta_gain'"):
        SpikingConfig(mode="hybrid", wta_gain=value)
    with pytest.raises((ValidationError, ValidationTypeError), match="'inhibitory_gain'"):
        CircuitParams(inhibitory_gain=value)


def test_an_input_rate_beyond_one_spike_a_step_is_refused():
    with pytest.raises(ValidationError, match=r"'input_rate' \* 'dt'.*at most once a step"):
        SpikingConfig(mode="circuit", input_rate=20_000.0)  # 20 kHz × 0.25 ms = 5 per step
    SpikingConfig(mode="circuit", input_rate=2_000.0)  # 0.5 per step: allowed


def test_a_window_too_short_to_hold_a_spike_warns():
    M = np.eye(4, 8)
    # the first 1.5 ms after the cue's onset: no membrane reaches threshold that soon
    net = SpikingUHN("uhn_best", M, config=circuit(duration=0.0015, settle=0.001))
    net.build(len(M))  # (Brian2's own import-time notices are not this test's business)
    with pytest.warns(SilentNetworkWarning, match="no memory neuron fired.*baseline noise"):
        net.retrieve(M)
    ok = SpikingUHN("uhn_best", M, config=circuit(duration=0.15, settle=0.05))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SilentNetworkWarning)
        assert ok.retrieve(M).any()


def test_a_network_too_large_is_refused_before_anything_is_allocated():
    M = np.random.default_rng(0).random((200, 784))
    cfg = circuit(circuit=CircuitParams(output_neurons=10_000))
    with pytest.raises(ValidationError, match=r"synapses per query copy.*output_neurons=10000"):
        SpikingUHN(nu.UHN(similarity="euclidean", separation="max"), M, config=cfg)


@pytest.mark.parametrize("mode", ["circuit", "hybrid"])
def test_planning_scores_beyond_the_budget_are_refused(mode):
    """40 000 memories of 4 features: the stored patterns' (N, N) scores would be 12 GiB."""
    M = np.random.default_rng(0).random((40_000, 4))
    model = "uhn_best" if mode == "hybrid" else "mchn"
    with pytest.raises(ValidationError, match=r"\(40000, 40000\) matrix of 11\.9 GiB"):
        SpikingUHN(model, M, config=SpikingConfig(mode=mode))


def test_the_largest_seed_runs_and_sub_seeds_are_valid():
    from neuro_uhn.spiking.engine import sub_seed

    top = 2**32 - 1
    seeds = {sub_seed(top, purpose, i) for purpose in range(3) for i in range(500)}
    assert len(seeds) == 1500 and all(0 <= s < 2**32 for s in seeds)  # distinct, valid
    M = np.eye(3, 6)
    Z = SpikingUHN("uhn_best", M, config=circuit(seed=top)).retrieve(M)
    assert Z.shape == (3, 6)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_the_inhibition_is_wired_at_the_strength_the_formula_gives(n):
    """Every memory neuron receives ``inhibition × inhibitory_gain × (v_threshold − v_rest)
    × 4/n`` volts per memory spike in the mean (max: k = 1; ``n`` neurons per memory, so a
    population's inhibition per unit of its rate per neuron is the same at every ``n``): the
    I→E weights summed over the inhibitory population, times the inhibitory spikes one memory
    spike causes per inhibitory neuron (``e_to_i``: it fires once per gap of input). The
    self-excitation per spike scales alike: ``self_excitation × inhibitory_gain × gap × τi/τself
    × 4/n``."""
    M = np.eye(4, 8)
    c = CircuitParams()
    gap = c.v_threshold - c.v_rest
    for inhibition in (0.5, 1.0, 1.7):
        net = SpikingUHN("uhn_best", M, config=circuit(inhibition=inhibition, neurons_per_memory=n))
        net.build()
        syn = net["i_to_e"]
        per_target = np.bincount(np.asarray(syn.j[:]), weights=np.asarray(syn.w[:]))
        want = inhibition * c.inhibitory_gain * gap * 4 / n
        np.testing.assert_allclose(per_target * min(1.0, c.e_to_i), want, rtol=1e-12)
    w_self = np.unique(np.asarray(net["self_excitation"].w[:]))
    want = c.self_excitation * c.inhibitory_gain * gap * c.tau_i / c.tau_self * 4 / n
    np.testing.assert_allclose(w_self, [want], rtol=1e-12)


@pytest.mark.slow
def test_an_intermediate_inhibition_lets_fewer_populations_fire_than_none():
    """Active populations fall monotonically with the inhibition's strength (digits, 16
    cues): at 0.25 between the knockout and full strength."""
    sklearn = pytest.importorskip("sklearn.datasets")
    X = sklearn.load_digits().data / 16.0
    rng = np.random.default_rng(0)
    M = X[rng.choice(len(X), 20, replace=False)]
    Q = np.clip(M[rng.integers(0, 20, 16)] + 0.2 * rng.standard_normal((16, 64)), 0, 1)
    active = {}
    for inhibition in (0.0, 0.25, 1.0):
        counts = SpikingUHN("uhn_best", M, config=circuit(inhibition=inhibition)).run(Q).counts
        active[inhibition] = np.mean((counts >= 0.1 * counts.max(1, keepdims=True)).sum(1))
    assert active[0.0] > active[0.25] > active[1.0] - 1e-9
    assert active[0.25] < active[0.0] - 0.2

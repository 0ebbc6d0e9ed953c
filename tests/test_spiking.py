"""The spiking network against the abstract model (Brian2, numpy target, small networks)."""

import subprocess
import sys

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn.problems import model_problem
from neuro_uhn.spiking import SpikingConfig, SpikingUHN, UnsupportedComponent, compare

from . import reference as ref

SIMILARITIES = ["dot", "cosine", "euclidean", "manhattan", "hamming", "kl", "reverse_kl"]
SEPARATIONS = [
    {"kind": "identity"},
    {"kind": "polynomial", "n": 2.0},
    {"kind": "softmax", "beta": 3.0},
    "max",
    {"kind": "topk", "k": 2},
    {"kind": "threshold", "theta": -1.5},
]


def small_inputs(sim, rng):
    if sim == "hamming":
        M = rng.integers(0, 2, (5, 12)).astype(float)
        return M, np.abs(M[[0, 1, 2, 3]] - (rng.random((4, 12)) < 0.15))
    M = rng.random((5, 12))
    return M, np.clip(M[[0, 1, 2, 3]] + 0.1 * rng.standard_normal((4, 12)), 0.01, 1)


def _reference_separation(sep):
    """The brute-force separation of tests/reference.py for one of SEPARATIONS."""
    kind = sep if isinstance(sep, str) else sep["kind"]
    if kind == "identity":
        return lambda s: list(s)
    if kind == "polynomial":
        return ref.sep_polynomial(sep["n"])
    if kind == "softmax":
        return ref.sep_softmax(sep["beta"])
    if kind == "max":
        return ref.sep_max
    if kind == "topk":
        return ref.sep_topk(sep["k"])
    return ref.sep_threshold(sep["theta"])


@pytest.mark.slow
@pytest.mark.parametrize("sep", SEPARATIONS, ids=str)
@pytest.mark.parametrize("sim", SIMILARITIES)
def test_continuous_mode_equals_the_brute_force_reference(sim, sep, rng):
    """The wiring proof: no spikes, every coupling a summed variable, <= 1e-9 relative to
    the per-query loops of tests/reference.py (not to neuro_uhn's own retrieve)."""
    M, Q = small_inputs(sim, rng)
    P = rng.standard_normal((5, 3))
    model = nu.UHN(similarity=sim, separation=sep)
    score = ref.STANDARD[sim]
    for projection in (None, P):
        net = SpikingUHN(model, M, projection, config=SpikingConfig(mode="continuous"))
        run = net.run(Q)
        Zs = net.decode(run)
        Za = ref.retrieve_loop(M, Q, score, _reference_separation(sep), projection)
        scale = max(np.abs(Za).max(), 1e-300)
        assert np.abs(Zs - Za).max() / scale <= 1e-9
        # the output neurons' accumulators carry P: J = counts · P
        np.testing.assert_allclose(run.J, run.counts @ net.P, rtol=1e-9, atol=1e-12)
        if sep in ("max", {"kind": "topk", "k": 2}):  # the decision, by a plain argmax here
            S = ref.pairwise(M, Q, score)
            k = 1 if sep == "max" else 2
            top = np.argsort(-run.counts, axis=1, kind="stable")[:, :k]
            best = np.argsort(-S, axis=1, kind="stable")[:, :k]
            assert np.array_equal(np.sort(top, 1), np.sort(best, 1))


TRANSFERS = [
    ("identity", {"kind": "identity"}),
    ("power", {"kind": "polynomial", "n": 2.0}),
    ("exp, divisive", {"kind": "softmax", "beta": 1.5}),
    ("step", {"kind": "threshold", "theta": 0.5}),
]


@pytest.mark.parametrize(("name", "sep"), TRANSFERS, ids=[t[0] for t in TRANSFERS])
@pytest.mark.parametrize("refractory", [0.0, 0.004])
def test_memory_neurons_fire_at_their_transfer_rate(name, sep, refractory):
    """Constant input current s → counts within 5 Poisson sigma of rate(s)·T."""
    s = np.array([-0.5, 0.2, 0.6, 1.0, 1.4])  # scores = dot(e_i, q) with q = s
    M, q = np.eye(5), s[None, :]
    cfg = SpikingConfig(
        mode="hybrid", duration=2.0, settle=0.0, neurons_per_memory=1, refractory=refractory, seed=3
    )
    net = SpikingUHN(nu.UHN(similarity="dot", separation=sep), M, config=cfg)
    run = net.run(np.repeat(q, 8, axis=0))  # 8 copies: 8 × 2 s of spikes per memory
    # the transfer in closed form (docs/spiking.md): the stored scores of M = I are 0 and 1,
    # so the score range is [a, b] = [-0.5, 1.5] (widened by half its width on each side)
    a, b = -0.5, 1.5
    g = {
        "identity": (s - a) / (b - a),
        "power": (np.clip(s, 0, None) / b) ** 2,
        "exp, divisive": np.exp(1.5 * s) / np.exp(1.5 * s).sum(),  # softmax, beta = 1.5
        "step": (s >= 0.5).astype(float),
    }[name]
    rate = cfg.memory_rate * g
    rate = np.clip(rate, 0, cfg.max_rate)
    rate = rate / (1 + rate * refractory)  # dead time compresses the rate
    expected = rate * cfg.window * 8
    got = run.counts.sum(axis=0)
    assert np.all(np.abs(got - expected) <= 5 * np.sqrt(expected) + 1), (got, expected)


def agreement(name, mode, seed=1, **cfg):
    p = model_problem(name, n_memories=20, n_queries=50, seed=seed)
    config = SpikingConfig(mode=mode, seed=seed, **cfg)
    return compare(
        name,
        p.memories,
        p.queries,
        projection=p.projection,
        targets=p.targets,
        truth=p.truth,
        config=config,
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "spiking"])
@pytest.mark.parametrize("name", ["uhn_best", "mchn", "hopfield", "dam", "sdm", "attention"])
def test_every_model_file_retrieves_the_same_memory_spiking(name, mode):
    """At T = 500 ms (default config), >= 95 % agreement where the abstract model is right."""
    result = agreement(name, mode)
    assert result.config.duration <= 0.5
    assert result.identity_correct_abstract.mean() >= 0.5  # a problem the model can solve
    assert result.agreement_where_abstract_correct >= 0.95, result.summary()


@pytest.mark.slow
def test_error_falls_as_one_over_root_t():
    """Relative error of z against the window T: fitted log-log slope near −1/2."""
    p = model_problem("mchn", n_memories=20, n_queries=40, seed=4)
    cfg = SpikingConfig(mode="hybrid", duration=1.6, settle=0.03, neurons_per_memory=1, seed=4)
    windows = 0.03 + np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.57])
    result = compare("mchn", p.memories, p.queries, config=cfg, windows=windows)
    T = np.array([w["T"] for w in result.sweep]) - cfg.settle
    err = np.array([w["median_relative_error"] for w in result.sweep])
    slope = np.polyfit(np.log(T), np.log(err), 1)[0]
    assert -0.65 <= slope <= -0.35, (slope, err)


@pytest.mark.slow
def test_more_neurons_per_memory_lower_the_error():
    p = model_problem("mchn", n_memories=20, n_queries=40, seed=5)
    errs = [
        np.median(
            compare(
                "mchn",
                p.memories,
                p.queries,
                config=SpikingConfig(mode="hybrid", duration=0.3, neurons_per_memory=n, seed=5),
            ).relative_error
        )
        for n in (1, 16)
    ]
    assert errs[1] < 0.5 * errs[0]  # 1/sqrt(16) = 0.25 in theory


@pytest.mark.slow
def test_dales_law_keeps_the_result():
    """Negative weights through inhibitory interneurons: same retrieval, one step later."""
    with_dale = agreement("uhn_best", "spiking", dale=True, duration=0.3)
    assert with_dale.agreement_where_abstract_correct >= 0.95
    net = SpikingUHN("uhn_best", np.eye(3), config=SpikingConfig(mode="spiking", dale=True))
    net.run(np.eye(3)[:1])
    assert "interneurons" in {o.name for o in net.network.objects}


def test_compare_result_contract():
    p = model_problem("uhn_best", n_memories=8, n_queries=6, seed=0)
    r = compare(
        "uhn_best",
        p.memories,
        p.queries,
        targets=p.targets,
        config=SpikingConfig(mode="spiking", duration=0.2, seed=0),
    )
    assert r.z_spiking.shape == r.z_abstract.shape == p.queries.shape
    assert r.same_memory.dtype == bool and r.agreement == r.same_memory.mean()
    assert r.cosine.shape == r.relative_error.shape == r.settling_time.shape == (6,)
    assert np.all((r.settling_time > 0) & (r.settling_time <= 0.2 + 1e-9))
    assert len(r.sweep) == 6 and r.sweep[-1]["T"] == pytest.approx(0.2)
    assert set(r.summary()) >= {"agreement", "accuracy_spiking", "sse_accuracy_abstract"}
    assert r.sse_correct_spiking.dtype == bool


def test_unsupported_components_are_named_with_the_mode():
    M = np.random.default_rng(0).random((4, 6))
    cases = [
        (nu.UHN(similarity="js", separation="max"), "similarity 'js'"),
        (nu.UHN(similarity="dot", separation="log"), "separation 'log'"),
        (
            nu.UHN(similarity="dot", separation={"kind": "topk", "k": 2, "weighting": "score"}),
            "weighting='score'",
        ),
    ]
    for model, what in cases:
        with pytest.raises(
            UnsupportedComponent, match=f"{what}.*not supported in spiking mode 'hybrid'"
        ):
            SpikingUHN(model, M, config=SpikingConfig(mode="hybrid"))
    with pytest.raises(ValueError, match="'dale' is not read in mode='hybrid'"):
        SpikingConfig(mode="hybrid", dale=True)


def _brian2cuda_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("brian2cuda") is not None


@pytest.mark.skipif(_brian2cuda_importable(), reason="brian2cuda is installed here")
def test_cuda_target_without_brian2cuda_is_a_clear_error():
    with pytest.raises(UnsupportedComponent, match="brian2cuda is not installed"):
        SpikingUHN("uhn_best", np.eye(3), config=SpikingConfig(target="cuda_standalone"))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"mode": "fast"}, ValueError, "'mode' must be one of"),
        ({"duration": -1.0}, ValueError, "'duration' must be a number of seconds > 0"),
        ({"settle": 0.6}, ValueError, r"'settle' must be in \[0, duration"),
        ({"duration": "1s"}, TypeError, "'duration' must be a finite number of seconds"),
        ({"max_rate": 5000.0, "dt": 2e-4}, ValueError, "'max_rate' \\* 'dt'"),
        ({"neurons_per_memory": 0}, ValueError, r"'neurons_per_memory' must be an integer in \[1"),
        ({"neurons_per_memory": 2.5}, TypeError, "'neurons_per_memory' must be an integer"),
        ({"mode": "circuit", "wta_gain": 99.0}, ValueError, "'wta_gain' is not read in mode"),
        ({"mode": "circuit", "dale": True}, ValueError, "'dale' is not read in mode"),
        ({"mode": "hybrid", "inhibition": 0.5}, ValueError, "'inhibition' is not read in mode"),
        ({"mode": "hybrid", "input_rate": 100.0}, ValueError, "'input_rate' is not read in"),
        ({"mode": "spiking", "input_rate": 1e4}, ValueError, r"'input_rate' \* 'dt'"),
        ({"mode": "circuit", "input_rate": 1e4}, ValueError, r"'input_rate' \* 'dt'"),
        ({"seed": 2**32}, ValueError, "'seed' must be an integer in"),
        ({"target": "gpu"}, ValueError, "'target' must be one of"),
    ],
)
def test_config_rejects_bad_values(kwargs, error, message):
    with pytest.raises(error, match=message):
        SpikingConfig(**kwargs)


def test_config_takes_brian2_quantities():
    from brian2 import Hz, ms

    cfg = SpikingConfig(mode="spiking", duration=200 * ms, settle=20 * ms, input_rate=150 * Hz)
    assert cfg.duration == pytest.approx(0.2) and cfg.input_rate == pytest.approx(150.0)
    with pytest.raises(ValueError, match="'duration' must be in seconds"):
        SpikingConfig(duration=200 * Hz)


def test_importing_neuro_uhn_does_not_import_brian2():
    code = "import sys, neuro_uhn; import neuro_uhn.retrieval; print('brian2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_brian2_leaves_no_debug_log(tmp_path):
    code = (
        "import tempfile, glob, os; import neuro_uhn.spiking.device as d; d.brian();"
        "print(len(glob.glob(os.path.join(tempfile.gettempdir(), 'brian_*'))))"
    )
    env = {"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert out.stdout.strip() == "0" and list(tmp_path.iterdir()) == []


@pytest.mark.standalone
def test_cpp_standalone_compiles_once_and_agrees_with_runtime(tmp_path, monkeypatch):
    """One compiled project, several device.run calls with run_args; results in a temp dir."""
    monkeypatch.chdir(tmp_path)
    p = model_problem("attention", n_memories=10, n_queries=12, seed=2)
    cfg = SpikingConfig(mode="hybrid", duration=0.2, batch_size=4, target="cpp_standalone")
    result = compare(
        "attention",
        p.memories,
        p.queries,
        projection=p.projection,
        targets=p.targets,
        truth=p.truth,
        config=cfg,
    )
    assert result.agreement_where_abstract_correct >= 0.95
    continuous = compare(
        "attention",
        p.memories,
        p.queries,
        projection=p.projection,
        config=cfg.replace(mode="continuous"),
    )
    np.testing.assert_allclose(continuous.z_spiking, continuous.z_abstract, rtol=1e-9, atol=1e-12)
    assert list(tmp_path.iterdir()) == []  # nothing written to the working directory
    # a network built later retires this one with a clear error
    old = SpikingUHN("attention", p.memories, p.projection, config=cfg)
    old.build(4)
    SpikingUHN("attention", p.memories, p.projection, config=cfg).build(4)
    with pytest.raises(RuntimeError, match="a newer standalone network was built"):
        old.run(p.queries[:4])


PAPER_SEPARATIONS = [
    {"kind": "softmax", "beta": 1000.0},
    "max",
    "identity",
    {"kind": "polynomial", "n": 2.0},
]


@pytest.mark.parametrize("sep", PAPER_SEPARATIONS, ids=str)
@pytest.mark.parametrize("sim", ["manhattan", "euclidean", "dot"])
def test_paper_convention_continuous_equals_the_official_pipeline(sim, sep, rng):
    """Reciprocal distances through a divisive unit, sum-normalisation through a second."""
    M = rng.random((6, 10))
    Q = np.clip(M[[0, 1, 2, 3]] + 0.1 * rng.standard_normal((4, 10)), 0.01, 1)
    model = nu.UHN(similarity=sim, separation=sep)
    net = SpikingUHN(model, M, config=SpikingConfig(mode="continuous"), convention="paper")
    run = net.run(Q)
    Zs = net.decode(run)
    Za = model.retrieve(M, Q, convention="paper")
    assert np.abs(Zs - Za).max() / np.abs(Za).max() <= 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "spiking"])
def test_paper_convention_spiking_agrees(mode):
    p = model_problem("uhn_best", n_memories=20, n_queries=50, seed=1)
    r = compare(
        "uhn_best",
        p.memories,
        p.queries,
        targets=p.targets,
        config=SpikingConfig(mode=mode, seed=1),
        convention="paper",
    )
    assert r.agreement_where_abstract_correct >= 0.95


def test_paper_convention_without_a_spiking_form_is_named():
    M = np.random.default_rng(0).random((4, 6))
    with pytest.raises(UnsupportedComponent, match="similarity 'inverse_kl' \\(paper"):
        SpikingUHN(nu.UHN(similarity="kl", separation="max"), M, convention="paper")
    with pytest.raises(UnsupportedComponent, match="separation 'threshold' \\(paper"):
        SpikingUHN(nu.UHN(similarity="manhattan", separation="threshold"), M, convention="paper")


def test_auto_target_compiles_only_when_it_pays():
    small = SpikingUHN("uhn_best", np.eye(8), config=SpikingConfig(mode="hybrid"))
    assert small.chosen_target(50) == "numpy"
    M = (np.random.default_rng(0).random((1000, 784)) < 0.2).astype(float)
    big = SpikingUHN(
        nu.UHN(similarity="dot", separation="max"),
        M,
        config=SpikingConfig(mode="spiking", neurons_per_memory=1),
    )
    assert big.chosen_target(100) == "cpp_standalone"  # 1.57 M synapses × 50 sim. s
    assert big.chosen_target(5) == "numpy"
    fixed = SpikingUHN("uhn_best", np.eye(8), config=SpikingConfig(target="cython"))
    assert fixed.chosen_target(10_000) == "cython"


def _mean_counts_per_copy(net, q, copies):
    run = net.run(np.repeat(q, copies, axis=0))
    return run.counts.mean(axis=0), run.counts.std(axis=0, ddof=1) / np.sqrt(copies)


def _gain(mean, se, expected, x):
    """The weights' scale the counts imply: ``1 + k`` for the least-squares ``k`` (weighted
    by 1/se²) in ``mean = expected + k·x``, with ``x`` the part of each count that scales
    with the feature→memory weights; pooled over the memories, it sees a common scale error
    that no single memory's count shows."""
    w = 1 / se**2
    k = np.sum(w * x * (mean - expected)) / np.sum(w * x**2)
    return 1 + k


@pytest.mark.slow
def test_spiking_mode_mean_counts_match_the_rate_model_within_standard_errors(monkeypatch):
    """Poisson features → synaptic traces → linear transfer: by Campbell's theorem the mean
    count is exact, so over many copies and a long window it must sit within a few standard
    errors of ``r·(s − a)/(b − a)·T``. A feature→memory weight off by 10 % must fail this
    (nearest-memory agreement cannot see it)."""
    M = np.eye(5)
    q = np.array([[0.1, 0.3, 0.5, 0.7, 0.9]])
    # identity separation on M = I: stored scores are 1 (self) and 0, so the transfer's range
    # is [a, b] = [0 − 0.5, 1 + 0.5] (widened by half its width; docs/spiking.md)
    a, b = -0.5, 1.5
    cfg = SpikingConfig(mode="spiking", duration=2.0, settle=0.1, neurons_per_memory=1,
                        input_rate=400.0, seed=11, batch_size=24)  # fmt: skip
    model = nu.UHN(similarity="dot", separation="identity")
    expected = cfg.memory_rate * (q[0] - a) / (b - a) * cfg.window
    x = cfg.memory_rate * q[0] / (b - a) * cfg.window  # the weight-borne part of each count
    net = SpikingUHN(model, M, config=cfg)
    mean, se = _mean_counts_per_copy(net, q, 24)
    z = (mean - expected) / se
    assert np.all(np.abs(z) <= 4), (mean, expected, z)
    # pooled over the five memories the weights' scale is measured to about 2 %: 1.003 here,
    # 0.976-1.003 over seeds and copy counts; a 5 % error (1.049) is inside that spread, so
    # the bound is what the noise allows
    assert abs(_gain(mean, se, expected, x) - 1) <= 0.035
    # the test's power: the same network with every input weight 10 % too strong (measured
    # 1.103, and 1.077 with 48 copies), which no single memory's count shows at 4 SE
    from neuro_uhn.spiking.rate.network import RateNetwork

    original = RateNetwork._weights
    monkeypatch.setattr(RateNetwork, "_weights", lambda self: 1.1 * original(self))
    wrong = SpikingUHN(model, M, config=cfg)
    mean, se = _mean_counts_per_copy(wrong, q, 24)
    assert _gain(mean, se, expected, x) - 1 >= 0.06


def test_builders_are_found_through_the_mro_and_subclasses_that_change_scores_are_named():
    """A user's subclass that keeps Dot's computation gets Dot's builder; one that overrides
    ``score`` gets an UnsupportedComponent naming the way out, until it registers one."""
    from dataclasses import dataclass

    from neuro_uhn.similarity import Dot
    from neuro_uhn.spiking.mapping import SimilarityMap, similarity_builders

    @dataclass(frozen=True, kw_only=True)
    class PlainDot(Dot):
        pass

    @dataclass(frozen=True, kw_only=True)
    class ShiftedDot(Dot):
        def score(self, prepared, Q, xp):
            return super().score(prepared, Q, xp) + 1.0

    M = np.eye(3)
    cfg = SpikingConfig(mode="continuous")
    net = SpikingUHN(nu.UHN(similarity=PlainDot(), separation="max"), M, config=cfg)
    np.testing.assert_allclose(net.retrieve(M), M)
    with pytest.raises(UnsupportedComponent, match="overrides score.*register a builder"):
        SpikingUHN(nu.UHN(similarity=ShiftedDot(), separation="max"), M, config=cfg)
    try:

        @similarity_builders.register(ShiftedDot)
        def _shifted(sim, M, cfg):
            return SimilarityMap(M.copy(), np.ones(len(M)), lambda Q: Q,
                                 lambda Q: np.zeros(len(Q)), scale=1.0)  # fmt: skip

        net = SpikingUHN(nu.UHN(similarity=ShiftedDot(), separation="max"), M, config=cfg)
        np.testing.assert_allclose(net.retrieve(M), M)
    finally:
        similarity_builders._table.pop(ShiftedDot, None)


@pytest.mark.slow
def test_two_networks_in_two_threads_give_the_sequential_answers():
    """Brian2's state is process-wide: runs in threads take turns and agree exactly."""
    import threading

    rng = np.random.default_rng(6)
    M = rng.random((6, 10))
    Q = np.clip(M + 0.2 * rng.standard_normal(M.shape), 0, 1)
    configs = [SpikingConfig(mode="spiking", duration=0.1, seed=s, target="numpy") for s in (1, 2)]
    sequential = [SpikingUHN("mchn", M, config=c).run(Q).counts for c in configs]
    nets = [SpikingUHN("mchn", M, config=c) for c in configs]
    results = [None, None]

    def work(i):
        results[i] = nets[i].run(Q).counts

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, sequential):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"duration": float("inf")}, ValueError, "'duration' must be a finite number"),
        ({"duration": True}, TypeError, "'duration' must be a finite number of seconds"),
        ({"dt": 1e-3, "duration": 0.1005, "settle": 0.1}, ValueError, "at least one step"),
        ({"seed": -1}, ValueError, r"'seed' must be an integer in \[0, 4294967295\]"),
        ({"seed": 2**40}, ValueError, r"'seed' must be an integer in \[0, 4294967295\]"),
        ({"mode": "circuit", "inhibition": float("nan")}, ValueError, "'inhibition' must be a fi"),
        ({"threads": 0}, ValueError, r"'threads' must be an integer in \[1"),
        ({"threads": 2.0}, TypeError, r"'threads' must be an integer in \[1"),
    ],
)
def test_config_rejects_more_bad_values(kwargs, error, message):
    with pytest.raises(error, match=message):
        SpikingConfig(**kwargs)


def test_compare_checks_targets_before_building():
    M = np.eye(4)
    for targets, error, message in [
        ([0, 1, 9], ValueError, r"'targets' must be indices in 0..3"),
        ([0, -1, 2], ValueError, r"'targets' must be indices in 0..3"),
        ([0.0, 1.0, 2.0], TypeError, "'targets' must be integer indices"),
    ]:
        with pytest.raises(error, match=message):
            compare("uhn_best", M, M[:3], targets=targets, config=SpikingConfig(mode="continuous"))


def test_a_missing_compiler_is_named(monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CXX", raising=False)
    for target in ("cpp_standalone", "cython"):
        with pytest.raises(ValueError, match="no compiler .* on the PATH"):
            SpikingUHN("uhn_best", np.eye(3), config=SpikingConfig(target=target))


def test_brian2_does_not_wrap_a_users_own_error():
    """Brian2 installs a sys.excepthook that calls every uncaught error 'unexpected, please
    report'; after building a network, a user's own NameError must read as itself."""
    script = (
        "import numpy as np\n"
        "from neuro_uhn.spiking import SpikingConfig, SpikingUHN\n"
        "cfg = SpikingConfig(mode='continuous')\n"
        "SpikingUHN('uhn_best', np.eye(3), config=cfg).run(np.eye(3))\n"
        "undefined_name\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode != 0
    assert "NameError: name 'undefined_name' is not defined" in proc.stderr
    assert "Brian 2 encountered an unexpected error" not in proc.stderr


def test_stale_standalone_projects_of_dead_processes_are_removed(tmp_path):
    """Folders named with a process id go once that process is gone; others stay."""
    from neuro_uhn.spiking.device import PROJECT_PREFIX, remove_stale_projects

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import os

    stale = tmp_path / f"{PROJECT_PREFIX}{dead.pid}_abc"
    mine = tmp_path / f"{PROJECT_PREFIX}{os.getpid()}_def"
    foreign = tmp_path / f"{PROJECT_PREFIX}notapid"
    for folder in (stale, mine, foreign):
        (folder / "code_objects").mkdir(parents=True)
    assert remove_stale_projects(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and mine.exists() and foreign.exists()

"""Bad input gets a clear error that names the argument and what was expected."""

import numpy as np
import pytest

import neuro_uhn as nu

rng = np.random.default_rng(0)
M = rng.random((5, 4))
Q = rng.random((3, 4))
NAN = M.copy()
NAN[1, 2] = np.nan
INF_Q = Q.copy()
INF_Q[0, 0] = np.inf
NEG = M - 0.5
ZERO_ROW = M.copy()
ZERO_ROW[2] = 0


def call(memories=M, queries=Q, similarity="manhattan", separation="max", **kw):
    return nu.retrieve(memories, queries, similarity=similarity, separation=separation, **kw)


CASES = [
    # (description, kwargs for call, error type, message regex)
    (
        "feature mismatch",
        dict(queries=rng.random((3, 5))),
        ValueError,
        "'queries' has 5 features but 'memories' has 4",
    ),
    (
        "3-D memories",
        dict(memories=rng.random((2, 5, 4))),
        ValueError,
        r"'memories' must be 2-D, shape \(n_memories, n_features\)",
    ),
    ("1-D memories", dict(memories=rng.random(4)), ValueError, "'memories' must be 2-D"),
    (
        "3-D queries",
        dict(queries=rng.random((2, 3, 4))),
        ValueError,
        "'queries' must be 1-D .* or 2-D",
    ),
    ("no memories", dict(memories=np.empty((0, 4))), ValueError, "'memories' must not be empty"),
    (
        "no features",
        dict(memories=np.empty((3, 0)), queries=np.empty((2, 0))),
        ValueError,
        "'memories' must not be empty",
    ),
    ("no queries", dict(queries=np.empty((0, 4))), ValueError, "'queries' must not be empty"),
    ("NaN memory", dict(memories=NAN), ValueError, "'memories' contains 1 NaN or infinite"),
    ("inf query", dict(queries=INF_Q), ValueError, "'queries' contains 1 NaN or infinite"),
    ("NaN projection", dict(projection=NAN), ValueError, "'projection' contains 1 NaN"),
    (
        "projection rows",
        dict(projection=rng.random((4, 2))),
        ValueError,
        "'projection' has 4 rows but there are 5 memories",
    ),
    ("projection 1-D", dict(projection=rng.random(5)), ValueError, "'projection' must be 2-D"),
    ("complex", dict(memories=M.astype(complex)), TypeError, "'memories' must hold real numbers"),
    ("strings", dict(queries=np.array([["a"] * 4])), TypeError, "'queries' must hold real numbers"),
    ("object", dict(memories=M.astype(object)), TypeError, "'memories' must hold real numbers"),
    ("not an array", dict(memories="abc"), TypeError, "'memories' must be an array"),
    ("None memories", dict(memories=None), TypeError, "'memories' must be an array"),
    (
        "negative for kl",
        dict(memories=NEG, similarity="kl"),
        ValueError,
        "kl needs non-negative 'memories'",
    ),
    (
        "negative for reverse_kl",
        dict(queries=Q - 1, similarity="reverse_kl"),
        ValueError,
        "reverse_kl needs non-negative 'queries'",
    ),
    (
        "negative for js",
        dict(memories=NEG, similarity="js"),
        ValueError,
        "js needs non-negative 'memories'",
    ),
    (
        "zero row for kl",
        dict(memories=ZERO_ROW, similarity="kl"),
        ValueError,
        "every row of 'memories' to have a positive sum",
    ),
    (
        "non-binary hamming",
        dict(similarity="hamming"),
        ValueError,
        r"hamming needs binary \{0, 1\} or bipolar",
    ),
    (
        "mixed coding hamming",
        dict(
            memories=np.array([[0.0, 1.0], [1.0, 0.0]]),
            queries=np.array([[-1.0, 1.0]]),
            similarity="hamming",
        ),
        ValueError,
        "must use one coding",
    ),
    (
        "beta zero",
        dict(separation="softmax", beta=0.0),
        ValueError,
        "'beta' of separation 'softmax' must be a finite number > 0",
    ),
    ("beta negative", dict(separation="softmax", beta=-1.0), ValueError, "'beta'.*> 0"),
    ("beta inf", dict(separation="softmax", beta=np.inf), ValueError, "'beta'.*finite"),
    ("beta nan", dict(separation="softmax", beta=np.nan), ValueError, "'beta'.*must not be NaN"),
    ("beta bool", dict(separation="softmax", beta=True), TypeError, "'beta'.*real number"),
    ("beta string", dict(separation="softmax", beta="1"), TypeError, "'beta'.*real number"),
    ("k zero", dict(separation="topk", k=0), ValueError, "'k' of separation 'topk' must be"),
    ("k too big", dict(separation="topk", k=6), ValueError, r"'k'.*in 1..n_memories=5; got 6"),
    ("k float", dict(separation="topk", k=2.0), TypeError, "'k'.*must be an integer"),
    ("n zero", dict(separation="polynomial", n=0.0), ValueError, "'n' of separation"),
    ("eps zero", dict(similarity="kl", eps=0.0), ValueError, r"'eps' of similarity 'kl'.*\(0, 1\)"),
    (
        "unknown similarity",
        dict(similarity="manhatan"),
        ValueError,
        "unknown similarity 'manhatan' \\(did you mean 'manhattan'\\?\\); registered: .*manhattan",
    ),
    ("unknown separation", dict(separation="argmax"), ValueError, "unknown separation 'argmax'"),
    ("unknown readout", dict(readout="tanh"), ValueError, "unknown readout 'tanh'"),
    (
        "unknown parameter",
        dict(separation="max", beta=3.0),
        TypeError,
        r"unknown parameter\(s\) \['beta'\]",
    ),
    (
        "given twice",
        dict(separation={"kind": "softmax", "beta": 2.0}, beta=3.0),
        TypeError,
        "given twice",
    ),
    ("mapping without kind", dict(separation={"beta": 2.0}), ValueError, "needs a 'kind' key"),
    ("wrong component type", dict(similarity=3), TypeError, "a similarity is a registered name"),
    (
        "separation as similarity",
        dict(similarity=nu.separation.Max()),
        TypeError,
        "expected a similarity; got the separation",
    ),
    (
        "bad convention",
        dict(convention="official"),
        ValueError,
        "'convention' must be 'standard' or 'paper'",
    ),
    (
        "log of negative scores",
        dict(separation="log"),
        ValueError,
        "separation 'log' needs positive scores",
    ),
    (
        "mixed libraries",
        dict(queries=__import__("array_api_strict").asarray(Q)),
        TypeError,
        "one array library",
    ),
]


@pytest.mark.parametrize(("desc", "kwargs", "error", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(desc, kwargs, error, message):
    with pytest.raises(error, match=message):
        call(**kwargs)


def test_hetero_model_without_projection():
    with pytest.raises(ValueError, match="pass 'projection', shape \\(n_memories, n_out\\)"):
        nu.load_model("attention").retrieve(M, Q)


def test_uhn_constructor_rejects_bad_fields():
    with pytest.raises(ValueError, match="'association' must be 'auto' or 'hetero'"):
        nu.UHN(similarity="dot", separation="max", association="both")
    with pytest.raises(TypeError, match="'name' must be a string"):
        nu.UHN(similarity="dot", separation="max", name=3)


def test_registering_a_name_twice_is_an_error():
    from dataclasses import dataclass

    with pytest.raises(ValueError, match="similarity 'dot' is already registered"):

        @nu.similarity.register("dot")
        @dataclass(frozen=True, kw_only=True)
        class Another(nu.similarity.Similarity):
            pass


def test_integer_and_boolean_inputs_are_promoted_to_float():
    B = np.array([[1, 0, 1], [0, 1, 1]])
    z = nu.retrieve(B, B.astype(bool), similarity="hamming", separation="max")
    assert z.dtype == np.float64
    np.testing.assert_array_equal(z, B)


_ARGUMENT = {"memories", "queries", "projection", "beta", "k", "n", "eps", "convention",
             "similarity", "separation", "readout"}  # fmt: skip


@pytest.mark.parametrize(("desc", "kwargs", "error", "message"), CASES, ids=[c[0] for c in CASES])
def test_every_error_is_a_library_error_that_names_its_argument(desc, kwargs, error, message):
    with pytest.raises(nu.NeuroUHNError) as info:
        call(**kwargs)
    kind = nu.ValidationTypeError if error is TypeError else nu.ValidationError
    assert isinstance(info.value, kind)
    if desc != "mixed libraries":  # (about two arguments at once)
        assert info.value.argument in _ARGUMENT, (desc, info.value.argument)
    if desc.startswith("unknown ") and desc != "unknown parameter":
        assert info.value.argument == desc.split()[1]


def test_a_hetero_model_without_projection_names_projection():
    with pytest.raises(nu.ValidationError) as info:
        nu.load_model("attention").retrieve(M, Q)
    assert info.value.argument == "projection"


@pytest.mark.parametrize(
    ("call", "hint"),
    [
        (
            lambda: nu.retrieve(np.eye(3), np.eye(3), similarity="manhatan", separation="max"),
            "'manhattan'",
        ),
        (
            lambda: nu.retrieve(np.eye(3), np.eye(3), similarity="dot", separation="sofmax"),
            "'softmax'",
        ),
        (lambda: nu.UHN(similarity="dot", separation="max", readout="sing"), "'sign'"),
        (
            lambda: nu.retrieve(
                np.eye(3), np.eye(3), similarity="inverse_euclidian", separation="max"
            ),
            "'inverse_euclidean'",
        ),
        (lambda: nu.load_model("hopfeld"), "'hopfield'"),
        (lambda: __import__("neuro_uhn.datasets").datasets.load("mnits"), "'mnist'"),
        (
            lambda: __import__("neuro_uhn.corruptions").corruptions.corrupt(
                np.eye(2), "gausian", 0.1
            ),
            "'gaussian'",
        ),
        (
            lambda: __import__("neuro_uhn.experiments").experiments.plan(
                "capcity", __import__("neuro_uhn.datasets").datasets.load("digits")
            ),
            "'capacity'",
        ),
        (lambda: __import__("neuro_uhn.problems").problems.model_problem("hopfeld"), "'hopfield'"),
        (
            lambda: nu.retrieve(
                np.eye(3), np.eye(3), similarity="dot", separation="max", convention="papr"
            ),
            "'paper'",
        ),
    ],
    ids=[
        "similarity",
        "separation",
        "readout",
        "paper form",
        "model",
        "dataset",
        "corruption",
        "experiment",
        "problem",
        "convention",
    ],
)
def test_every_registry_suggests_the_closest_name(call, hint):
    with pytest.raises(ValueError, match=f"did you mean {hint}"):
        call()


def test_importing_nn_without_torch_names_the_extra():
    import subprocess
    import sys

    code = "import sys; sys.modules['torch'] = None\nimport neuro_uhn.nn"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: neuro_uhn.nn needs PyTorch")
    assert 'pip install -e ".[torch]"' in last

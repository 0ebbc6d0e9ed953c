"""Fuzzing the public API: for any input, a correct result or a clear error — nothing else.

"Clear error" = a ``ValueError``/``TypeError`` (or the library's subclasses of them) whose
message names an argument, a parameter or a file. Anything else — an ``IndexError`` from deep
inside NumPy, a ``ZeroDivisionError``, a NaN in a result — fails the test. Bounded in CI
(``NEURO_UHN_FUZZ`` examples per test, default 60); run longer on demand, e.g.
``NEURO_UHN_FUZZ=5000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neuro_uhn as nu
from neuro_uhn import corruptions, datasets
from neuro_uhn.model import ModelFileError

FUZZ = settings(
    max_examples=int(os.environ.get("NEURO_UHN_FUZZ", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NAMED = re.compile(
    r"'[A-Za-z_][A-Za-z0-9_ ]*'|\bmodel\b|\.toml|file '|similarity|separation|readout"
)


def _clear(err: Exception) -> None:
    assert isinstance(err, ValueError | TypeError), f"{type(err).__name__}: {err}"
    msg = str(err)
    assert msg and NAMED.search(msg), f"message names nothing: {msg!r}"
    assert "Traceback" not in msg


DTYPES = st.sampled_from(
    [np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex128, np.uint8]
)


def arrays(max_dims=3, max_side=6):
    return DTYPES.flatmap(
        lambda dt: hnp.arrays(
            dt,
            hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side),
            elements=None
            if dt not in (np.float64, np.float32)
            else st.floats(-1e6, 1e6, width=32) | st.sampled_from([np.nan, np.inf, 0.0]),
        )
    )


SIMILARITIES = st.sampled_from(
    ["dot", "cosine", "euclidean", "manhattan", "hamming", "kl", "reverse_kl", "js", "dott", ""]
)
SEPARATIONS = st.one_of(
    st.sampled_from(["identity", "max", "softmax", "normalize", "log", "threshold", "nope"]),
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["softmax", "polynomial", "topk", "threshold"])},
        optional={
            "beta": st.floats(allow_nan=True, allow_infinity=True) | st.integers(-3, 3),
            "n": st.floats(-2, 12) | st.text(max_size=2),
            "k": st.integers(-2, 9),
            "theta": st.floats(-2, 2),
        },
    ),
)


@FUZZ
@given(
    M=arrays(),
    Q=arrays(),
    sim=SIMILARITIES,
    sep=SEPARATIONS,
    conv=st.sampled_from(["standard", "paper"]),
)
def test_retrieve_returns_a_result_or_a_clear_error(M, Q, sim, sep, conv):
    try:
        with np.errstate(all="ignore"):
            Z = nu.retrieve(M, Q, similarity=sim, separation=sep, convention=conv)
    except Exception as err:  # noqa: BLE001 - classifying is the point
        _clear(err)
        return
    Z = np.asarray(Z)
    rows = 1 if np.ndim(Q) == 1 else np.shape(Q)[0]
    assert Z.shape == ((M.shape[1],) if np.ndim(Q) == 1 else (rows, M.shape[1]))
    if conv == "standard":  # the paper convention reproduces the official NaNs on purpose
        assert np.all(np.isfinite(Z)), "a silent NaN/inf in a standard-convention result"


KEYS = ["name", "title", "association", "similarity", "separation", "readout", "kind", "beta",
        "n", "k", "theta", "normalized", "squared", "eps", "colour"]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(['"dot"', '"max"', '"softmax"', '"auto"', '"hetero"', '"manhattan"', '"x"']),
    st.integers(-5, 5).map(str),
    st.floats(-10, 10, allow_nan=False).map(repr),
    st.sampled_from(["true", "false", "[1, 2]", '"1e400"', "inf", "nan"]),
)


@st.composite
def toml_specs(draw):
    lines = []
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True)):
        lines.append(f"{key} = {draw(VALUES)}")
    for table in draw(st.lists(st.sampled_from(["similarity", "separation", "readout", "extra"]),
                               max_size=3, unique=True)):  # fmt: skip
        lines.append(f"[{table}]")
        for key in draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True)):
            lines.append(f"{key} = {draw(VALUES)}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=toml_specs())
def test_spec_files_load_or_fail_with_a_model_file_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("spec") / "fuzz.toml"
    path.write_text(text)
    try:
        model = nu.load_model(path)
    except ModelFileError as err:
        assert "fuzz.toml" in str(err)
        return
    except Exception as err:  # noqa: BLE001
        _clear(err)
        return
    assert isinstance(model, nu.UHN)
    Z = model.retrieve(np.eye(3), np.eye(3), np.eye(3) if model.association == "hetero" else None)
    assert np.asarray(Z).shape == (3, 3)


@FUZZ
@given(
    X=arrays(max_dims=3),
    level=st.floats(-1, 2) | st.sampled_from([np.nan, "0.5", None]),
    shape=st.sampled_from([(2, 2), (3, 3), (2, 2, 3), (4,), (0, 2)]),
    which=st.sampled_from(["gaussian", "folded", "mask", "random", "inpaint", "flip"]),
)
def test_corruptions_return_images_or_a_clear_error(X, level, shape, which):
    calls = {
        "gaussian": lambda: corruptions.gaussian_noise(X, level, 0),
        "folded": lambda: corruptions.gaussian_noise(X, level, 0, kind="paper"),
        "mask": lambda: corruptions.mask_bottom(X, level, shape),
        "random": lambda: corruptions.random_mask(X, level, shape, 0),
        "inpaint": lambda: corruptions.inpaint(X, level, shape),
        "flip": lambda: corruptions.flip_bits(X, level, 0),
    }
    try:
        Y = calls[which]()
    except Exception as err:  # noqa: BLE001
        _clear(err)
        return
    assert Y.shape == np.shape(X) and np.all(np.isfinite(Y))


@FUZZ
@given(X=arrays(max_dims=4), suffix=st.sampled_from([".npy", ".npz"]))
def test_user_dataset_files_load_or_fail_clearly(tmp_path_factory, X, suffix):
    path = tmp_path_factory.mktemp("ds") / f"user{suffix}"
    if suffix == ".npy":
        np.save(path, X)
    else:
        np.savez(path, images=X)
    try:
        ds = datasets.load(path)
    except Exception as err:  # noqa: BLE001
        _clear(err)
        assert "user" in str(err) or "'n'" in str(err)
        return
    assert ds.images.dtype == np.float64 and ds.images.ndim == 2
    assert np.all((ds.images >= 0) & (ds.images <= 1))
    assert int(np.prod(ds.image_shape)) == ds.images.shape[1]


@pytest.mark.parametrize(
    "label, message",
    [
        ("softmax(beta=1e400)", "must be finite"),
        ("max(", "cannot read separation 'max\\('"),
        ("topk(k=1,k=2)", "parameter 'k' is given twice"),
        ("softmax(beta=1, beta=2)", "parameter 'beta' is given twice"),
        ("a(b=c=d)", "cannot read parameter 'b=c=d'"),
        ("soft max", "cannot read separation"),
        ("topk(k=)", "cannot read parameter 'k='"),
    ],
)
def test_odd_component_labels(label, message):
    from neuro_uhn.experiments import parse_label

    with pytest.raises(ValueError, match=message) as info:
        parse_label(label, "separation")
    _clear(info.value)


# --- valid inputs: every example checks its values against the brute-force reference -----

from . import reference as ref  # noqa: E402

VALID_SIMS = ["dot", "cosine", "euclidean", "manhattan", "kl", "reverse_kl", "js", "hamming"]


@st.composite
def valid_problems(draw):
    n = draw(st.integers(1, 6))
    d = draw(st.integers(1, 6))
    sim = draw(st.sampled_from(VALID_SIMS))
    unit = st.floats(0.01, 1.0, allow_nan=False, width=64)
    if sim == "hamming":
        unit = st.sampled_from([0.0, 1.0])
    M = draw(hnp.arrays(np.float64, (n, d), elements=unit))
    Q = draw(hnp.arrays(np.float64, (draw(st.integers(1, 4)), d), elements=unit))
    kind = draw(st.sampled_from(["max", "softmax", "topk", "polynomial", "identity", "threshold"]))
    params = {
        "softmax": {"beta": draw(st.floats(0.01, 50.0))},
        "topk": {"k": draw(st.integers(1, n))},
        "polynomial": {"n": draw(st.floats(1.0, 4.0))},  # (n < 1 magnifies rounding at 0)
        "threshold": {"theta": draw(st.floats(-3.0, 3.0))},
    }.get(kind, {})
    return M, Q, sim, kind, params


def _reference_sep(kind, params):
    return {
        "max": lambda: ref.sep_max,
        "softmax": lambda: ref.sep_softmax(params["beta"]),
        "topk": lambda: ref.sep_topk(params["k"]),
        "polynomial": lambda: ref.sep_polynomial(params["n"]),
        "identity": lambda: lambda s: list(s),
        "threshold": lambda: ref.sep_threshold(params["theta"]),
    }[kind]()


@FUZZ
@given(problem=valid_problems())
def test_retrieve_on_valid_inputs_equals_the_reference(problem):
    from hypothesis import assume

    M, Q, sim, kind, params = problem
    S = ref.pairwise(M, Q, ref.STANDARD[sim])
    if kind in ("max", "topk", "threshold"):  # the answer hangs on an order or a comparison:
        # leave out the examples whose scores are too close for any float rounding to decide
        if kind == "threshold":
            assume(np.min(np.abs(S - params["theta"])) > 1e-9)
        else:
            k = params.get("k", 1)
            top = np.sort(S, axis=1)[:, ::-1]
            assume(k == S.shape[1] or np.all(top[:, k - 1] - top[:, k] > 1e-9))
    sep = {"kind": kind, **params}
    Z = nu.retrieve(M, Q, similarity=sim, separation=sep)
    expected = ref.retrieve_loop(M, Q, ref.STANDARD[sim], _reference_sep(kind, params))
    np.testing.assert_allclose(Z, expected, rtol=1e-7, atol=1e-9)


# --- the command line: random flags, paths and dataset files ------------------------------

CLI_FUZZ = settings(FUZZ, max_examples=max(10, FUZZ.max_examples // 4))

_FLAG_VALUES = {
    "--runs": ["1", "0", "-1", "x", "2"],
    "--seed": ["0", "-1", "4294967296", "1.5", "7"],
    "--n-memories": ["3", "0", "3,4", "x", "100000"],
    "--levels": ["0.1", "-1", "nan", "0.1,0.2", "a"],
    "--similarity": ["dot", "manhattan,dot", "dott", "softmax(beta=1)", "kl(eps=0)"],
    "--separation": ["max", "softmax(beta=5)", "topk(k=1,k=2)", "softmax(beta=)", "nope"],
    "--threshold": ["5", "-1", "inf"],
    "--workers": ["1", "0", "-3", "two"],
    "--convention": ["standard", "paper", "offical", "paper,standard"],
    "--max-queries": ["3"],
    "--models": ["mchn"],
    "--duration": ["0.2"],
}
_PATHS = ["{d}/out.csv", "{d}/data.npy", "{d}/store.sqlite", "{d}", "{d}/no/such/x.csv",
          "{d}/notes.txt", ""]  # fmt: skip


@st.composite
def cli_runs(draw):
    argv = ["run", draw(st.sampled_from(["noise", "mask", "capacity", "threshold", "nosuch"]))]
    argv += ["--dataset", draw(st.sampled_from(["{d}/data.npy", "{d}/bad.npy", "{d}/data.npz",
                                                "{d}", "{d}/none.npy", "mnits"]))]  # fmt: skip
    for flag in draw(st.lists(st.sampled_from(sorted(_FLAG_VALUES)), max_size=4, unique=True)):
        argv += [flag, draw(st.sampled_from(_FLAG_VALUES[flag]))]
    for flag in ("--store", "--csv"):
        if draw(st.booleans()):
            argv += [flag, draw(st.sampled_from(_PATHS))]
    if "--n-memories" not in argv:
        argv += ["--n-memories", "3"]
    if "--runs" not in argv:
        argv += ["--runs", "1"]
    if "--levels" not in argv:
        argv += ["--levels", "0.2"]
    if "--similarity" not in argv:
        argv += ["--similarity", "dot"]
    return argv + ["--workers", "1", "--no-progress"] if "--workers" not in argv else argv


def _run_cli(argv):
    import contextlib
    import io

    from neuro_uhn.app.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, err.getvalue()


@CLI_FUZZ
@given(template=cli_runs(), damaged=st.binary(max_size=64))
def test_cli_run_succeeds_or_fails_in_one_line_and_never_destroys_a_file(
    tmp_path_factory, template, damaged
):
    from neuro_uhn.experiments import ResultStore

    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(len(template))
    np.save(d / "data.npy", rng.random((12, 16)))
    np.savez(d / "data.npz", images=rng.random((12, 16)))
    (d / "bad.npy").write_bytes(b"\x93NUMPY" + damaged)
    (d / "notes.txt").write_text("a user's notes\n")
    ResultStore(d / "store.sqlite").close()
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file() and p.suffix != ".sqlite"}
    argv = [a.replace("{d}", str(d)) for a in template]
    code, err = _run_cli(argv)
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert code in (0, 2), (argv, err)
    if code == 2:
        assert lines[-1].startswith("neuro-uhn run: error: "), lines
        assert lines[0].startswith("usage:") or len(lines) == 1, lines
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file() and p.suffix != ".sqlite"}
    outputs = {argv[argv.index(f) + 1] for f in ("--csv", "--store") if f in argv}
    for name, data in before.items():  # inputs and users' files are untouched
        if str(d / name) not in outputs or code == 2:
            assert after.get(name) == data, (name, argv, err)
    extra = set(after) - set(before)
    made = {os.path.basename(o) for o in outputs if o.startswith(str(d) + "/")}
    assert extra <= (made if code == 0 else set()), (extra, argv, err)

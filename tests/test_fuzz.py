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


@pytest.mark.parametrize("label", ["softmax(beta=1e400)", "max(", "topk(k=1,k=2)", "a(b=c=d)"])
def test_odd_component_labels(label):
    from neuro_uhn.experiments import parse_label

    try:
        parse_label(label, "separation")
    except ValueError as err:
        _clear(err)

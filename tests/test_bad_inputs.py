"""The bad-input catalogue: what users get wrong, entry point by entry point, and the exact
error each gets (type and message). ``test_errors.py`` holds ``retrieve``'s own catalogue;
this file covers the rest: the UHN spec, model files, the spiking builder and ``compare``,
corruptions, datasets, experiments, the results store and every ``neuro-uhn`` subcommand
(one line on stderr, exit status 2, no traceback)."""

from __future__ import annotations

import gzip
import sqlite3
from contextlib import closing

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn import corruptions, datasets
from neuro_uhn.cli import main
from neuro_uhn.experiments import ResultStore, StoreError, plan, run_experiment
from neuro_uhn.model import ModelFileError

rng = np.random.default_rng(0)
M = rng.random((6, 16))


def _spiking():
    from neuro_uhn import spiking

    return spiking


# --- the UHN spec and model files ---------------------------------------------------------

SPEC_CASES = [
    (
        "association",
        dict(association="both"),
        ValueError,
        "'association' must be 'auto' or 'hetero'",
    ),
    (
        "unknown similarity",
        dict(similarity="dott"),
        ValueError,
        "unknown similarity 'dott'; registered",
    ),
    (
        "unknown separation",
        dict(separation="softmaks"),
        ValueError,
        "unknown separation 'softmaks'",
    ),
    ("unknown readout", dict(readout="tanh"), ValueError, "unknown readout 'tanh'; registered"),
    (
        "negative beta",
        dict(separation={"kind": "softmax", "beta": -1}),
        ValueError,
        "'beta' of separation 'softmax' must be a finite number > 0",
    ),
    (
        "infinite beta",
        dict(separation={"kind": "softmax", "beta": float("inf")}),
        ValueError,
        "'beta' of separation 'softmax' must be a finite",
    ),
    (
        "beta as text",
        dict(separation={"kind": "softmax", "beta": "big"}),
        TypeError,
        "'beta' of separation 'softmax' must be a real number",
    ),
    (
        "k = 0",
        dict(separation={"kind": "topk", "k": 0}),
        ValueError,
        "'k' of separation 'topk' must be an integer >= 1",
    ),
    (
        "polynomial n = 0",
        dict(separation={"kind": "polynomial", "n": 0}),
        ValueError,
        "'n' of separation 'polynomial' must be > 0",
    ),
    ("unknown parameter", dict(separation={"kind": "max", "beta": 2}), TypeError, "beta"),
    ("name not text", dict(name=3), TypeError, "'name' must be a string; got 3"),
    ("spec of wrong type", dict(similarity=3.5), TypeError, "similarity"),
]


@pytest.mark.parametrize("what, kwargs, error, match", SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_uhn_spec(what, kwargs, error, match):
    spec = {"similarity": "dot", "separation": "max", **kwargs}
    with pytest.raises(error, match=match):
        nu.UHN(**spec)


def test_hetero_model_without_projection():
    model = nu.UHN(similarity="dot", separation="max", association="hetero")
    with pytest.raises(ValueError, match=r"^model is hetero-associative: pass 'projection'"):
        model.retrieve(M, M)


TOML_CASES = [
    ("unknown top key", 'name = "x"\nsimilarty = "dot"\n[separation]\nkind = "max"\n', "similarty"),
    (
        "unknown component key",
        '[similarity]\nkind = "dot"\n[separation]\nkind = "softmax"\nbetta = 2\n',
        "betta",
    ),
    (
        "wrong type",
        '[similarity]\nkind = "dot"\n[separation]\nkind = "softmax"\nbeta = "hot"\n',
        "beta",
    ),
    ("unknown kind", '[similarity]\nkind = "cosin"\n[separation]\nkind = "max"\n', "cosin"),
    ("missing separation", '[similarity]\nkind = "dot"\n', "separation"),
    ("not TOML", "similarity = = dot\n", "TOML"),
    (
        "association",
        'association = "sometimes"\n[similarity]\nkind = "dot"\n[separation]\nkind = "max"\n',
        "association",
    ),
]


@pytest.mark.parametrize("what, text, match", TOML_CASES, ids=[c[0] for c in TOML_CASES])
def test_model_files(tmp_path, what, text, match):
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(ModelFileError, match=match) as info:
        nu.load_model(path)
    assert "m.toml" in str(info.value)  # the message names the file


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown model 'nosuch': not a bundled model"):
        nu.load_model("nosuch")


# --- the spiking network ------------------------------------------------------------------

CONFIG_CASES = [
    ("mode", dict(mode="analog"), ValueError, r"'mode' must be one of \['continuous'"),
    ("duration <= 0", dict(duration=-1), ValueError, "'duration' must be > 0"),
    (
        "duration as text",
        dict(duration="1s"),
        TypeError,
        "'duration' must be a finite number of seconds",
    ),
    (
        "neurons per memory",
        dict(neurons_per_memory=0),
        ValueError,
        "'neurons_per_memory' must be an integer >= 1",
    ),
    ("target", dict(target="gpu"), ValueError, r"'target' must be one of \['auto'"),
    ("dt", dict(dt=0), ValueError, "'dt' must be > 0"),
]


@pytest.mark.parametrize(
    "what, kwargs, error, match", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES]
)
def test_spiking_config(what, kwargs, error, match):
    with pytest.raises(error, match=match):
        _spiking().SpikingConfig(**kwargs)


def test_spiking_builder_and_compare():
    sp = _spiking()
    with pytest.raises(TypeError, match="'model' must be a UHN or a model name; got int"):
        sp.SpikingUHN(3, M)
    with pytest.raises(
        sp.UnsupportedComponent, match="similarity 'js' is not supported in spiking mode 'spiking'"
    ):
        sp.SpikingUHN(
            nu.UHN(similarity="js", separation="max"), M, config=sp.SpikingConfig(mode="spiking")
        )
    with pytest.raises(ValueError, match="'memories' contains 12 NaN or infinite"):
        sp.SpikingUHN("uhn_best", np.full((3, 4), np.nan))
    with pytest.raises(TypeError, match="'config' must be a SpikingConfig"):
        sp.SpikingUHN("uhn_best", M, config={"mode": "spiking"})
    cont = sp.SpikingConfig(mode="continuous")
    with pytest.raises(ValueError, match=r"'targets' must hold one index per query \(2\)"):
        sp.compare("uhn_best", M, M[:2], targets=[0], config=cont)
    with pytest.raises(ValueError, match="'queries' has 3 features but 'memories' has 16"):
        sp.compare("uhn_best", M, np.ones((2, 3)), config=cont)


# --- corruptions --------------------------------------------------------------------------

CORRUPTION_CASES = [
    (
        "negative sigma",
        lambda: corruptions.gaussian_noise(M, -1),
        ValueError,
        "'sigma' must be a number >= 0",
    ),
    (
        "noise kind",
        lambda: corruptions.gaussian_noise(M, 0.1, kind="folded"),
        ValueError,
        "'kind' must be 'paper' or 'zero_mean'",
    ),
    (
        "3-D images",
        lambda: corruptions.gaussian_noise(np.ones((2, 2, 2)), 0.1),
        ValueError,
        r"'images' must be 1-D or 2-D \(n, D\)",
    ),
    (
        "empty images",
        lambda: corruptions.gaussian_noise(np.ones((0, 4)), 0.1),
        ValueError,
        "not empty",
    ),
    (
        "NaN pixel",
        lambda: corruptions.gaussian_noise(np.array([[0.5, np.nan]]), 0.1),
        ValueError,
        "'images' contains 1 NaN or infinite",
    ),
    (
        "text images",
        lambda: corruptions.gaussian_noise(np.array([["a"]]), 0.1),
        TypeError,
        "'images' must hold real numbers",
    ),
    (
        "complex images",
        lambda: corruptions.mask_bottom(np.ones((2, 4), complex), 0.5, (2, 2)),
        TypeError,
        "'images' must hold real numbers",
    ),
    (
        "non-binary patterns",
        lambda: corruptions.flip_bits(M, 0.1),
        ValueError,
        "'patterns' must be binary",
    ),
    (
        "fraction > 1",
        lambda: corruptions.mask_bottom(M, 2, (4, 4)),
        ValueError,
        r"'fraction' must be in \[0, 1\]",
    ),
    (
        "fraction as text",
        lambda: corruptions.random_mask(M, "half", (4, 4)),
        TypeError,
        "'fraction' must be a number",
    ),
    (
        "image shape",
        lambda: corruptions.inpaint(M, 0.5, (3, 3)),
        ValueError,
        r"'image_shape' \(3, 3\) has 9 values but the images have 16",
    ),
]


@pytest.mark.parametrize(
    "what, call, error, match", CORRUPTION_CASES, ids=[c[0] for c in CORRUPTION_CASES]
)
def test_corruptions(what, call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- datasets -----------------------------------------------------------------------------


def test_dataset_files(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'mnits'"):
        datasets.load("mnits")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.load(tmp_path / "none.npy")
    np.save(tmp_path / "nan.npy", np.full((3, 4), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        datasets.load(tmp_path / "nan.npy")
    np.save(tmp_path / "big.npy", np.full((3, 4), 3.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        datasets.load(tmp_path / "big.npy")
    np.save(tmp_path / "obj.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickl"):
        datasets.load(tmp_path / "obj.npy")
    with pytest.raises(ValueError, match="'n'"):
        datasets.load("digits", n=0)


def test_a_truncated_archive_in_the_cache(tmp_path):
    from neuro_uhn.datasets import _formats

    blob = gzip.compress(bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big") + bytes(100))
    (tmp_path / "t.gz").write_bytes(blob[:-10])
    with pytest.raises(ValueError, match="t.gz"):
        _formats.read_idx(tmp_path / "t.gz")


# --- experiments and the results store ----------------------------------------------------


class _Data:
    name, image_shape, stand_in = "blobs", (4, 4), None
    images = rng.random((300, 16))


EXPERIMENT_CASES = [
    ("unknown experiment", dict(experiment="capacty"), ValueError, "unknown experiment 'capacty'"),
    ("convention", dict(conventions=["offical"]), ValueError, "'convention' must be one of"),
    ("runs = 0", dict(runs=0), ValueError, "'runs' must hold integers >= 1"),
    ("negative seed", dict(seed=-1), ValueError, "'seed' must be an integer >= 0"),
    (
        "N too large",
        dict(n_memories=[5000]),
        ValueError,
        "asks for 5000 memories but dataset 'blobs' has only 300",
    ),
    ("N = 0", dict(n_memories=[0]), ValueError, "'n_memories' must hold integers >= 1"),
    ("negative level", dict(levels=[-0.1]), ValueError, "'levels' must hold numbers >= 0"),
    ("NaN level", dict(levels=[float("nan")]), ValueError, "'levels' must hold finite numbers"),
    (
        "unknown similarity",
        dict(similarities=["manhatan"]),
        ValueError,
        "unknown similarity 'manhatan'",
    ),
    ("bad label", dict(separations=["softmax(beta)"]), ValueError, "cannot read parameter"),
    ("negative threshold", dict(threshold=-5), ValueError, "'threshold' must hold numbers >= 0"),
    (
        "spiking in paper convention",
        dict(experiment="spiking", conventions=["paper"]),
        ValueError,
        "'standard' convention only",
    ),
]


@pytest.mark.parametrize(
    "what, kwargs, error, match", EXPERIMENT_CASES, ids=[c[0] for c in EXPERIMENT_CASES]
)
def test_experiment_options(what, kwargs, error, match):
    kwargs = dict(kwargs)
    experiment = kwargs.pop("experiment", "noise")
    with pytest.raises(error, match=match):
        plan(experiment, _Data(), **kwargs)


def test_dataset_of_wrong_type():
    with pytest.raises(TypeError, match="'dataset' must be a dataset name, a path"):
        run_experiment("noise", 42)


def test_results_store_files(tmp_path):
    (tmp_path / "junk.sqlite").write_bytes(b"\x00junk" * 400)
    with pytest.raises(StoreError, match="is not a neuro_uhn results database"):
        ResultStore(tmp_path / "junk.sqlite")
    ResultStore(tmp_path / "old.sqlite").close()
    with closing(sqlite3.connect(tmp_path / "old.sqlite")) as db, db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 0, this neuro_uhn writes version 1"):
        ResultStore(tmp_path / "old.sqlite")
    with pytest.raises(StoreError, match="does not exist"):
        ResultStore(tmp_path / "missing" / "r.sqlite")
    with (
        ResultStore(":memory:") as store,
        pytest.raises(ValueError, match="cannot filter on 'colour'"),
    ):
        store.rows(colour="red")


# --- the command line: one line, exit 2 ---------------------------------------------------

CLI_CASES = [
    ["demo", "--n-memories", "0", "--spiking-queries", "0"],
    ["demo", "--n-memories", "5000", "--spiking-queries", "0"],
    ["demo", "--sigma", "-1", "--spiking-queries", "0"],
    ["demo", "--mask", "1.5", "--spiking-queries", "0"],
    ["compare", "--model", "nosuch"],
    ["compare", "--duration", "0"],
    ["compare", "--n-queries", "0"],
    ["run", "noise", "--dataset", "mnits"],
    ["run", "noise", "--dataset", "digits", "--separation", "softmax(beta=x y)"],
    ["run", "noise", "--dataset", "digits", "--levels", "-1", "--workers", "1"],
    ["run", "noise", "--dataset", "/no/such/file.npy"],
    ["run", "capacity", "--dataset", "digits", "--store", "/no/such/dir/r.sqlite"],
    ["figures", "--only", "fig99"],
]


@pytest.mark.parametrize("argv", CLI_CASES, ids=[" ".join(a[:3]) for a in CLI_CASES])
def test_cli_fails_politely(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith(("neuro-uhn", "usage")) or "error" in err[-1]
    assert not any("Traceback" in line for line in err)
    assert err[-1].count("error") >= 1 and len(err[-1]) < 400

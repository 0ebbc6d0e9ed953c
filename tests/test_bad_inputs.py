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
from neuro_uhn.app.cli import main
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
        "unknown similarity 'dott' \\(did you mean 'dot'\\?\\); registered",
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
    ("duration <= 0", dict(duration=-1), ValueError, "'duration' must be a number of seconds > 0"),
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
        r"'neurons_per_memory' must be an integer in \[1, 10000\]",
    ),
    ("target", dict(target="gpu"), ValueError, r"'target' must be one of \['auto'"),
    ("dt", dict(dt=0), ValueError, "'dt' must be a number of seconds > 0"),
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
    ("negative seed", dict(seed=-1), ValueError, r"'seed' must be an integer in 0..4294967295"),
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

CLI_CASES = [  # (argv, the message the one line must carry)
    (["demo", "--n-memories", "0", "--spiking-queries", "0"], "'n_memories' must be in 1..1797"),
    (["demo", "--n-memories", "5000", "--spiking-queries", "0"], "'n_memories' must be in 1..1797"),
    (["demo", "--sigma", "-1", "--spiking-queries", "0"], "'sigma' must be a number >= 0"),
    (["demo", "--mask", "1.5", "--spiking-queries", "0"], r"'mask' must be in \[0, 1\]"),
    (["demo", "--seed", "-1"], r"argument --seed: expected an integer in 0\.\.4294967295"),
    (["demo", "--seed", "99999999999"], "argument --seed: expected an integer"),
    (["compare", "--model", "nosuch"], "unknown model 'nosuch'"),
    (["compare", "--duration", "0"], "'duration' must be a number of seconds > 0"),
    (["compare", "--n-queries", "0"], "'n_queries' must be an integer >= 1"),
    (["compare", "--n-queries", "10000000000000"], "'n_queries' = 10000000000000 .* GiB"),
    (["compare", "--seed", "-5"], "argument --seed: expected an integer"),
    (["run", "noise", "--dataset", "mnits"], "unknown dataset 'mnits'"),
    (
        ["run", "noise", "--dataset", "digits", "--separation", "softmax(beta=x y)"],
        "cannot read parameter value 'x y'",
    ),
    (
        ["run", "noise", "--dataset", "digits", "--levels", "-1", "--workers", "1"],
        "'levels' must hold numbers >= 0",
    ),
    (["run", "noise", "--dataset", "/no/such/file.npy"], "'/no/such/file.npy' does not exist"),
    (
        ["run", "capacity", "--dataset", "digits", "--store", "/no/such/dir/r.sqlite"],
        "does not exist",
    ),
    (["run", "noise", "--dataset", "digits", "--workers", "0"], "argument --workers: expected a"),
    (["run", "noise", "--dataset", "digits", "--workers", "-1"], "argument --workers: expected a"),
    (["figures", "--workers", "0"], "argument --workers: expected a positive integer"),
    (["run", "noise", "--dataset", "digits", "--seed", "-1"], "argument --seed: expected"),
    (
        ["run", "noise", "--dataset", "digits", "--duration", "0.5"],
        "--duration is not used by the noise experiment",
    ),
    (
        ["run", "noise", "--dataset", "digits", "--settle", "0.1"],
        "--settle is not used by the noise experiment",
    ),
    (
        ["run", "capacity", "--dataset", "digits", "--network", "circuit", "--duration", "0.1",
         "--settle", "0.2"],
        r"'settle' must be in \[0, duration=0\.1\); got 0\.2",
    ),
    (
        ["run", "capacity", "--dataset", "digits", "--spiking-mode", "hybrid"],
        "--spiking-mode is not used by the capacity experiment",
    ),
    (
        ["run", "noise", "--dataset", "digits", "--models", "mchn"],
        "'models' is not used by the noise experiment",
    ),
    (
        ["run", "mask", "--dataset", "digits", "--max-queries", "5"],
        "'max_queries' is not used by the mask experiment",
    ),
    (
        ["run", "threshold", "--dataset", "digits", "--threshold", "5"],
        "'threshold' is not used by the threshold experiment",
    ),
    (
        ["run", "spiking", "--dataset", "digits", "--similarity", "dot"],
        "'similarities' is not used by the spiking experiment",
    ),
    (["figures", "--only", "fig99"], "fig99"),
    (["bench", "--quick", "--n-memories", "5"], "--n-memories is not used with --quick"),
    (["bench", "--n-memories", "100,1000000000"], "--n-memories 1000000000 needs about .* GiB"),
    (
        [
            "run",
            "noise",
            "--dataset",
            "digits",
            "--n-memories",
            "3",
            "--runs",
            "1",
            "--scheduler",
            "garbage",
            "--no-progress",
        ],
        "is not a Dask scheduler address|needs Dask",
    ),  # fmt: skip
    (["compare", "--mode", "continuous", "--out", "x"], "--out is not used in --mode continuous"),
    (["run", "noise", "--dataset", "digits", "--store", ":memory:"], "would keep nothing"),
    (["run", "noise", "--dataset", "digits", "--runs", "100000000"], "cells, more than 1,000,000"),
    (
        ["run", "capacity", "--dataset", "digits", "--levels", ",".join(["0.1"] * 200000)],
        "cells, more than",
    ),
    (["bench", "--n-memories", "10,x"], "expected integers separated by commas"),
]


@pytest.mark.parametrize("argv, message", CLI_CASES, ids=[" ".join(c[0][:4]) for c in CLI_CASES])
def test_cli_fails_politely(argv, message):
    import re

    code, err = _cli(argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert not any("Traceback" in line for line in lines)
    assert lines and lines[-1].startswith(f"neuro-uhn {argv[0]}: error: "), lines
    assert re.search(message, lines[-1]), (message, lines[-1])
    assert len(lines[-1]) < 600
    if not lines[0].startswith("usage:"):  # the library's errors: exactly one line
        assert len(lines) == 1, lines


def test_the_cli_keeps_the_traceback_of_a_bug(monkeypatch):
    """Only library errors become one line: an internal bug must stay visible."""
    import neuro_uhn.experiments as exps

    def broken(*args, **kwargs):
        return [][1]  # an IndexError: a bug, not a user error

    monkeypatch.setattr(exps, "run_experiment", broken)
    with pytest.raises(IndexError):
        main(["run", "noise", "--dataset", "digits", "--workers", "1", "--no-progress"])
    monkeypatch.setattr(exps, "run_experiment", lambda *a, **k: int("x"))  # a plain ValueError
    with pytest.raises(ValueError, match="invalid literal"):
        main(["run", "noise", "--dataset", "digits", "--workers", "1", "--no-progress"])


# --- outputs never destroy inputs, the store, or files that are not ours -----------------

OUTPUT_CASES = [  # (argv template, files made first, message); {d} is the temporary folder
    (["run", "noise", "--dataset", "{d}/data.npy", "--csv", "{d}/data.npy"], [], "same file as "
     "the dataset file"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--store", "{d}/s.sqlite", "--csv",
      "{d}/s.sqlite"], ["s.sqlite"], "same file as the results store"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--store", "{d}/data.npy"], [], "--store .* "
     "same file as the dataset file"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--csv", "{d}/sub/../data.npy"], ["sub/"],
     "same file as the dataset file"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--csv", "{d}/link.csv"], ["link.csv->data.npy"],
     "same file as the dataset file"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--csv", "{d}/notes.txt"], ["notes.txt"],
     "exists and is not a CSV table neuro_uhn wrote"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--csv", "{d}/other.csv"], ["other.csv"],
     "exists and is not a CSV table"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--csv", "{d}"], [], "is a folder"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--csv", "{d}/no/t.csv"], [], "does not exist"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--store", "{d}/sub"], ["sub/"], "is a folder"),
    (["bench", "--quick", "--json", "{d}/data.npy"], [], "not a benchmark JSON file"),
    (["bench", "--quick", "--json", "{d}/notes.txt"], ["notes.txt"], "not a benchmark JSON"),
    (["bench", "--quick", "--json", "{d}"], [], "is a folder"),
    (["demo", "--out", "{d}/data.npy"], [], "is a file, not a folder"),
    (["demo", "--out", "{d}"], ["demo.png"], "demo.png' exists and is not a PNG figure"),
    (["compare", "--out", "{d}"], ["raster_uhn_best.png"], "exists and is not a PNG figure"),
    (["figures", "--out", "{d}/notes.txt"], ["notes.txt"], "is a file, not a folder"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--store", "{d}/s.sqlite", "--csv",
      "{d}/s.sqlite-wal"], [], "same file as the results store's -wal file"),
    (["run", "noise", "--dataset", "{d}/data.npy", "--store", "{d}/s.sqlite", "--csv",
      "{d}/s.sqlite-journal"], [], "the results store's -journal file"),
]  # fmt: skip


@pytest.mark.parametrize(
    "argv, make, message", OUTPUT_CASES, ids=[f"{c[0][0]}-{i}" for i, c in enumerate(OUTPUT_CASES)]
)
def test_outputs_never_destroy_inputs_or_foreign_files(tmp_path, argv, make, message):
    import os
    import re

    np.save(tmp_path / "data.npy", rng.random((40, 16)))
    for item in make:
        if item.endswith("/"):
            (tmp_path / item).mkdir()
        elif "->" in item:
            link, target = item.split("->")
            os.symlink(tmp_path / target, tmp_path / link)
        elif item.endswith(".sqlite"):
            ResultStore(tmp_path / item).close()
        else:
            (tmp_path / item).write_bytes(b"a user's own file\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, err = _cli([a.replace("{d}", str(tmp_path)) for a in argv])
    assert code == 2 and re.search(message, err), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # nothing overwritten, nothing left behind


def test_an_existing_csv_of_ours_is_replaced(tmp_path):
    argv = ["run", "noise", "--dataset", "digits", "--n-memories", "5", "--runs", "1",
            "--levels", "0.1", "--similarity", "dot", "--convention", "standard",
            "--workers", "1", "--no-progress", "--csv", str(tmp_path / "t.csv")]  # fmt: skip
    assert _cli(argv)[0] == 0
    first = (tmp_path / "t.csv").read_text()
    assert _cli(argv)[0] == 0  # a table we wrote may be replaced
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == first.splitlines()[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]  # no temp files left


# --- damaged or odd dataset files: one ValidationError naming the file, never a traceback --


def _npy_bytes(array) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _npz_bytes(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


_GOOD_NPY = _npy_bytes(rng.random((5, 16)))
_GOOD_NPZ = _npz_bytes(images=rng.random((5, 16)))
DAMAGED_FILES = [
    ("text named .npy", "x.npy", b"hello world\n", "is not a NumPy .npy file"),
    ("empty .npy", "x.npy", b"", "is not a NumPy .npy file"),
    ("header cut", "x.npy", _GOOD_NPY[:100], "damaged header"),
    ("data cut", "x.npy", _GOOD_NPY[:-7], "is truncated: its header promises 640 bytes"),
    ("magic only", "x.npy", _GOOD_NPY[:8], "damaged header"),
    ("garbled header", "x.npy", _GOOD_NPY[:20] + b"!" * 10 + _GOOD_NPY[30:], "damaged header"),
    ("CSV named .npy", "x.npy", b"0.1,0.2\n0.3,0.4\n", "is not a NumPy .npy file"),
    ("text named .npz", "x.npz", b"hello", "is not a NumPy .npz file"),
    ("archive cut", "x.npz", _GOOD_NPZ[: len(_GOOD_NPZ) // 2], "damaged .npz archive"),
    ("npy named .npz", "x.npz", _GOOD_NPY, "is not a NumPy .npz file"),
    ("zip of text", "x.npz", _zip_bytes({"readme.txt": b"hi"}), "'readme.txt', which is not"),
    ("zip of garbage", "x.npz", _zip_bytes({"images.npy": b"garbage"}), "damaged header"),
    (
        "member cut",
        "x.npz",
        _zip_bytes({"images.npy": _GOOD_NPY[:-40]}),
        "array 'images'.* is truncated",
    ),
    (
        "object member",
        "x.npz",
        _npz_bytes(images=np.array([None, 1], dtype=object)),
        "holds Python objects",
    ),
    (
        "pickle named .npy",
        "x.npy",
        __import__("pickle").dumps([1, 2]),
        "is not a NumPy .npy file",
    ),
]


@pytest.mark.parametrize(
    "what, name, data, match", DAMAGED_FILES, ids=[c[0] for c in DAMAGED_FILES]
)
def test_damaged_dataset_files_are_one_clear_error(tmp_path, what, name, data, match):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(nu.ValidationError, match=match) as info:
        datasets.load(path)
    assert name in str(info.value)  # names the file
    # and the command line reports it as one line, exit 2
    code, err = _cli(["run", "noise", "--dataset", str(path), "--workers", "1"])
    assert code == 2 and name in err and len(err.splitlines()) == 1


def test_a_folder_named_like_a_dataset_file(tmp_path):
    for name in ("x.npy", "y.npz"):
        (tmp_path / name).mkdir()
        with pytest.raises(nu.ValidationError, match=f"'{tmp_path / name}' is a folder"):
            datasets.load(tmp_path / name)
    (tmp_path / "z.npy").symlink_to("/dev/zero")
    with pytest.raises(nu.ValidationError, match="is not a regular file"):
        datasets.load(tmp_path / "z.npy")


@pytest.mark.parametrize("stem", ["mnist", "digits", "cifar10", "MNIST", "tiny_imagenet"])
def test_a_user_file_named_like_a_bundled_dataset_is_not_labelled_as_it(tmp_path, stem):
    path = tmp_path / f"{stem}.npy"
    np.save(path, rng.random((4, 784)))
    ds = datasets.load(path)
    assert ds.name == f"{stem}.npy" and ds.title == f"{stem}.npy"
    assert ds.name not in datasets.DATASET_NAMES and "user file" in ds.source


def _cli(argv):
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, err.getvalue()


# --- model files: odd encodings and shapes ------------------------------------------------

_MODEL = '[similarity]\nkind = "dot"\n[separation]\nkind = "max"\n'


@pytest.mark.parametrize(
    "what, data, match",
    [
        ("nested arrays", "x = " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
        ("nested tables", "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", "nested too deep"),
        ("latin-1", "title = 'caf\xe9'\n" + _MODEL, "not valid TOML"),
        ("NUL byte", "title = 'a\x00b'\n" + _MODEL, "not valid TOML"),
        ("binary junk", "\x93NUMPY\x01\x00", "not valid TOML"),
        (
            "separation nested in lists",
            "[similarity]\nkind='dot'\n[[separation]]\nkind=[[1]]\n",
            "separation",
        ),
    ],  # fmt: skip
)
def test_odd_model_files_are_a_model_file_error(tmp_path, what, data, match):
    path = tmp_path / "m.toml"
    path.write_bytes(data.encode("latin-1") if what == "latin-1" else data.encode())
    with pytest.raises(ModelFileError, match=match):
        nu.load_model(path)


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""])
def test_a_model_file_with_a_byte_order_mark_loads(tmp_path, bom):
    path = tmp_path / "m.toml"
    path.write_bytes(bom + _MODEL.encode())
    assert nu.load_model(path) == nu.UHN(similarity="dot", separation="max", name="m")


def test_a_folder_named_like_a_model_file(tmp_path):
    (tmp_path / "m.toml").mkdir()
    with pytest.raises(ModelFileError, match="is a folder"):
        nu.load_model(tmp_path / "m.toml")


@pytest.mark.parametrize(
    "text",
    ["a\x00b", "tab\there", "bell\x07", "del\x7f", "esc\x1b[0m", "cr\r\nlf", 'q"u\\', "é\u2028"],
)
def test_dump_model_writes_any_text_load_model_reads_back(tmp_path, text):
    model = nu.UHN(similarity="dot", separation="max", name="x", title=text, reference=text)
    nu.dump_model(model, tmp_path / "m.toml")
    assert nu.load_model(tmp_path / "m.toml") == model


# --- model names are accepted wherever a model is -----------------------------------------


@pytest.mark.parametrize("name", ["mchn", "dam", "uhn_best", "hopfield"])
def test_bundled_model_names_work_in_iterate_energy_and_dump_model(tmp_path, name):
    B = np.sign(rng.standard_normal((4, 16)))
    model = nu.load_model(name)
    if name == "uhn_best":
        B = (B + 1) / 2
    assert nu.has_energy(name) == nu.has_energy(model)
    r_name, r_model = nu.iterate(name, B, B, max_iter=3), nu.iterate(model, B, B, max_iter=3)
    np.testing.assert_array_equal(r_name.states, r_model.states)
    if nu.has_energy(model):
        np.testing.assert_array_equal(nu.energy(name, B, B), nu.energy(model, B, B))
    nu.dump_model(name, tmp_path / "m.toml")
    assert nu.load_model(tmp_path / "m.toml") == model


@pytest.mark.parametrize("call", ["iterate", "energy", "has_energy", "dump_model", "prepare"])
@pytest.mark.parametrize("model, error", [(3, TypeError), ("nosuch", ValueError)])
def test_what_is_not_a_model_is_named(tmp_path, call, model, error):
    from neuro_uhn.retrieval import prepare

    fn = {
        "iterate": lambda: nu.iterate(model, M, M),
        "energy": lambda: nu.energy(model, M, M),
        "has_energy": lambda: nu.has_energy(model),
        "dump_model": lambda: nu.dump_model(model, tmp_path / "m.toml"),
        "prepare": lambda: prepare(model, M),
    }[call]
    with pytest.raises(error, match="'model' must be a UHN|unknown model 'nosuch'") as info:
        fn()
    assert isinstance(info.value, nu.NeuroUHNError)


# --- one rule: a wrong type is a TypeError, a wrong value a ValueError --------------------

TYPE_VALUE_CASES = [
    (lambda v: nu.iterate("mchn", M, M, max_iter=v), "max_iter", ["3", 2.0, None], [0, -1]),
    (lambda v: nu.iterate("mchn", M, M, tol=v), "tol", ["0", None, [0]], [-1, float("nan")]),
    (lambda v: nu.iterate("mchn", M, M, seed=v), "seed", ["1", 1.5], [-1, 2**32]),
    (lambda v: corruptions.gaussian_noise(M, v), "sigma", ["0.1", None], [-0.1, float("inf")]),
    (lambda v: corruptions.gaussian_noise(M, 0.1, v), "rng", ["x", 0.5], [-1, 2**40]),
    (lambda v: corruptions.random_mask(M, 0.5, (4, 4), v), "rng", ["x"], [-3]),
    (lambda v: corruptions.mask_bottom(M, v, (4, 4)), "fraction", ["0.5", None], [1.5, -0.1]),
    (lambda v: plan("noise", _Data(), runs=v), "runs", ["2", 1.5], [0, -2]),
    (lambda v: plan("noise", _Data(), seed=v), "seed", ["0", 0.0], [-1, 2**33]),
    (lambda v: plan("noise", _Data(), levels=v), "levels", [["a"], 0.1], [[-1], [float("nan")]]),
    (lambda v: plan("noise", _Data(), n_memories=v), "n_memories", [[1.5], 10], [[0]]),
    (lambda v: datasets.load("digits", seed=v), "seed", ["0", 1.0], [-1, 2**32]),
    (lambda v: datasets.load("digits", n=v), "n", ["5", 2.5], [0, -1]),
    (lambda v: nu.memory_budget(v).__enter__(), "nbytes", ["1", 1e9], [0, 100]),
]


@pytest.mark.parametrize(
    "call, name, wrong_types, wrong_values",
    TYPE_VALUE_CASES,
    ids=[f"{c[1]}-{i}" for i, c in enumerate(TYPE_VALUE_CASES)],
)
def test_wrong_type_is_type_error_and_wrong_value_is_value_error(
    call, name, wrong_types, wrong_values
):
    for v in wrong_types:
        with pytest.raises(nu.ValidationTypeError, match=f"'{name}'") as info:
            call(v)
        assert info.value.argument == name
    for v in wrong_values:
        with pytest.raises(nu.ValidationError, match=f"'{name}'") as info:
            call(v)
        assert info.value.argument == name


def test_every_library_error_is_a_neuro_uhn_error():
    from neuro_uhn import errors

    mine = (nu.ModelFileError, errors.MissingFile, datasets.DatasetUnavailable)
    for cls in mine + (errors.UnsupportedComponent, nu.ValidationError, nu.ValidationTypeError):
        assert issubclass(cls, nu.NeuroUHNError)
    assert issubclass(nu.ValidationError, ValueError)
    assert issubclass(nu.ValidationTypeError, TypeError)
    assert nu.ValidationError("'beta' of separation 'softmax' ...").argument == "beta"
    assert nu.ValidationError("x", argument="y").argument == "y"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5e9", "100", " ", "12 MiB"])
def test_a_bad_memory_budget_variable_is_named_and_import_still_works(value):
    import subprocess
    import sys

    code = (
        "import neuro_uhn as nu, numpy as np\n"
        "try:\n"
        "    nu.retrieve(np.eye(3), np.eye(3), similarity='dot', separation='max')\n"
        "except nu.ValidationError as e:\n"
        "    print('ERR', e.argument)\n"
        "else:\n"
        "    print('OK')\n"
    )
    env = {**__import__("os").environ, "NEURO_UHN_MEMORY_BUDGET": value}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("OK" if value == " " else "ERR NEURO_UHN_MEMORY_BUDGET")


# --- masked arrays: refused wherever an array is taken (a mask would be silently dropped) -

_MASKED = np.ma.masked_array(M, mask=np.eye(6, 16, dtype=bool))
MASKED_CASES = {
    "retrieve memories": lambda: nu.retrieve(_MASKED, M, similarity="dot", separation="max"),
    "retrieve queries": lambda: nu.retrieve(M, _MASKED, similarity="dot", separation="max"),
    "retrieve projection": lambda: nu.retrieve(
        M, M, similarity="dot", separation="max", projection=_MASKED
    ),
    "UHN.retrieve": lambda: nu.load_model("uhn_best").retrieve(_MASKED, M),
    "similarity call": lambda: nu.similarity.make("manhattan")(M, _MASKED),
    "iterate": lambda: nu.iterate("mchn", _MASKED, M),
    "energy": lambda: nu.energy("mchn", M, _MASKED),
    "gaussian_noise": lambda: corruptions.gaussian_noise(_MASKED, 0.1, 0),
    "mask_bottom": lambda: corruptions.mask_bottom(_MASKED, 0.5, (4, 4)),
    "random_mask": lambda: corruptions.random_mask(_MASKED, 0.5, (4, 4), 0),
    "inpaint": lambda: corruptions.inpaint(_MASKED, 0.5, (4, 4)),
    "flip_bits": lambda: corruptions.flip_bits(
        np.ma.masked_array(np.ones((2, 3)), [[1, 0, 0]] * 2), 0.1, 0
    ),  # fmt: skip
}


@pytest.mark.parametrize("where", list(MASKED_CASES))
def test_masked_arrays_are_refused_naming_the_argument(where):
    with pytest.raises(nu.ValidationTypeError, match="is a masked array with .* masked value"):
        MASKED_CASES[where]()


def test_a_masked_array_with_nothing_masked_is_a_plain_array():
    plain = np.ma.masked_array(M)
    Z = nu.retrieve(plain, M, similarity="manhattan", separation="max")
    assert type(Z) is np.ndarray
    np.testing.assert_array_equal(Z, M)


# --- interrupts say what was kept -----------------------------------------------------------


@pytest.mark.parametrize(
    "argv, says",
    [
        (["run", "noise", "--dataset", "digits", "--store", "{d}/s.sqlite"], "are in {d}/s.sqlite"),
        (["run", "noise", "--dataset", "digits"], r"nothing was kept \(pass --store"),
        (["run", "noise", "--dataset", "digits", "--csv", "{d}/t.csv"], "nothing was kept"),
        (["bench", "--quick", "--json", ""], "interrupted$"),
        (["demo", "--out", "{d}/demo"], "interrupted$"),
    ],
)
def test_an_interrupt_says_whether_anything_was_kept(tmp_path, monkeypatch, argv, says):
    import re

    from neuro_uhn.app import cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("neuro_uhn.experiments.run_experiment", interrupted)
    monkeypatch.setattr("neuro_uhn.app.bench.run_bench", interrupted)
    monkeypatch.setattr("neuro_uhn.app.demo.run_demo", interrupted)
    code, err = _cli([a.replace("{d}", str(tmp_path)) for a in argv])
    assert code == 130
    line = err.strip().splitlines()[-1]
    assert re.search(says.replace("{d}", str(tmp_path)), line), line
    if "--store" not in argv:
        assert "in the store" not in line and "resume" not in line
    del cli


# --- library writers never replace a file that is not theirs --------------------------------

FOREIGN_TARGETS = {
    "pyproject.toml": b'[project]\nname = "mine"\n',
    "notes.toml": b"just = 'notes'\n",
    "broken.toml": b"[[[\n",
    "README.csv": b"my,own,table\n1,2,3\n",
    "empty.csv": b"",
}


@pytest.mark.parametrize("name", list(FOREIGN_TARGETS))
def test_dump_model_and_write_csv_refuse_a_foreign_file(tmp_path, name):
    from neuro_uhn.experiments import write_csv

    path = tmp_path / name
    path.write_bytes(FOREIGN_TARGETS[name])
    with pytest.raises(nu.NeuroUHNError, match="refusing to overwrite"):
        if name.endswith(".toml"):
            nu.dump_model("mchn", path)
        else:
            write_csv([{"experiment": "x"}], path)
    assert path.read_bytes() == FOREIGN_TARGETS[name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_dump_model_and_write_csv_replace_their_own_files(tmp_path):
    from neuro_uhn.experiments import write_csv

    nu.dump_model("mchn", tmp_path / "m.toml")
    nu.dump_model("dam", tmp_path / "m.toml")
    assert nu.load_model(tmp_path / "m.toml") == nu.load_model("dam")
    write_csv([{"experiment": "a"}], tmp_path / "t.csv")
    write_csv([{"experiment": "b"}], tmp_path / "t.csv")
    assert "b" in (tmp_path / "t.csv").read_text()
    for bad in (tmp_path / "x.txt", tmp_path):
        with pytest.raises(nu.ValidationError, match="must end in .toml|is a folder"):
            nu.dump_model("mchn", bad)


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1e9", "12MiB", "1023"])
@pytest.mark.parametrize("command", [["run", "noise", "--dataset", "digits"], ["bench", "--quick"]])
def test_a_bad_memory_budget_variable_is_one_line_from_every_command(monkeypatch, value, command):
    from neuro_uhn import _config

    monkeypatch.setenv("NEURO_UHN_MEMORY_BUDGET", value)
    monkeypatch.setitem(_config._state, "budget", None)
    code, err = _cli(command)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "NEURO_UHN_MEMORY_BUDGET must be a whole number of bytes" in err


@pytest.mark.parametrize("scale", [1e160, 1e200, 1e300])
def test_an_energy_that_overflows_is_an_error_not_inf(scale):
    X = rng.random((3, 16)) * scale
    with pytest.raises(nu.ValidationError, match="the energy overflows float64"):
        with np.errstate(all="ignore"):
            nu.energy("mchn", X, X)


CHOICE_CASES = [
    (lambda v: nu.UHN(similarity="dot", separation="max", association=v), "association"),
    (lambda v: nu.retrieve(M, M, similarity="dot", separation="max", convention=v), "convention"),
    (lambda v: nu.iterate("mchn", M, M, update=v), "update"),
    (lambda v: corruptions.gaussian_noise(M, 0.1, 0, kind=v), "kind"),
    (lambda v: corruptions.mask_bottom(M, 0.5, (4, 4), kind=v), "kind"),
    (lambda v: plan(v, _Data()), "experiment"),
]


@pytest.mark.parametrize("call, name", CHOICE_CASES, ids=[c[1] for c in CHOICE_CASES])
def test_a_choice_of_the_wrong_type_is_a_type_error_and_an_unknown_one_a_value_error(call, name):
    for wrong_type in (3, None, ["auto"], b"paper"):
        with pytest.raises(nu.ValidationTypeError, match=f"'{name}' must be"):
            call(wrong_type)
    for wrong_value in ("", "AUTO", "official", "synchronous "):
        with pytest.raises(nu.ValidationError, match=f"'{name}' must be|unknown {name}"):
            call(wrong_value)


def test_a_single_label_string_is_a_list_of_one():
    one = plan("noise", _Data(), conventions="standard", similarities="dot", separations="max",
               n_memories=[5], runs=1, levels=[0.1])  # fmt: skip
    assert {(c.convention, c.similarity, c.separation) for t in one for c in t.cells} == {
        ("standard", "dot", "max")
    }


# --- nothing is replaced or truncated silently (issue 23) ----------------------------------


@pytest.mark.parametrize("option", ["similarities", "separations", "conventions", "models"])
def test_an_empty_list_option_is_refused_not_read_as_the_defaults(option):
    from neuro_uhn import datasets
    from neuro_uhn.experiments import plan

    experiment = "spiking" if option == "models" else "noise"
    with pytest.raises(ValueError, match=f"'{option}' is empty: name at least one, or leave it"):
        plan(experiment, datasets.load("digits"), **{option: []})


def test_fractional_image_shapes_and_neuron_counts_are_refused_not_truncated():
    import numpy as np

    from neuro_uhn import corruptions, datasets
    from neuro_uhn.experiments import circuit
    from neuro_uhn.spiking import SpikingConfig

    X = np.random.default_rng(0).random((3, 64))
    with pytest.raises(ValueError, match=r"'image_shape' must be whole numbers >= 1.*8\.5"):
        corruptions.mask_bottom(X, 0.5, (8.5, 8))
    np.testing.assert_array_equal(corruptions.mask_bottom(X, 0.5, (8.0, 8)),
                                  corruptions.mask_bottom(X, 0.5, (8, 8)))  # fmt: skip
    with pytest.raises(ValueError, match=r"'image_shape' must be whole numbers >= 1"):
        datasets.Dataset("x", X, (8.5, 8), "test")
    assert datasets.Dataset("x", X, (8.0, 8), "test").image_shape == (8, 8)
    base = SpikingConfig(mode="circuit")
    with pytest.raises(ValueError, match="'neurons_per_memory' must be a whole number >= 1"):
        circuit.point_config(base, "neurons_per_memory", 2.5)
    assert circuit.point_config(base, "neurons_per_memory", 2.0).neurons_per_memory == 2
    with pytest.raises(ValueError, match="'neurons_per_memory' must be a whole number"):
        circuit.circuit_label("neurons_per_memory", 2.5)
    with pytest.raises(ValueError, match="'parameters' names 'tau_m' 2 times"):
        circuit.check_parameters(["tau_m", "tau_m"])

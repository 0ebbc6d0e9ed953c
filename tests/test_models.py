"""The literature's models as data: every file loads, recalls, and is validated strictly."""

import dataclasses

import numpy as np
import pytest

import neuro_uhn as nu
from neuro_uhn import ModelFileError

REQUIRED = {"hopfield", "sdm", "dam", "mchn", "attention", "uhn_best"}


def test_every_required_model_ships():
    assert REQUIRED <= set(nu.model_names())


def bipolar_problem(rng, n=6, d=128, flip=0.1):
    M = rng.choice([-1.0, 1.0], size=(n, d))
    Q = M * np.where(rng.random(M.shape) < flip, -1.0, 1.0)
    return M, Q


@pytest.mark.parametrize("name", ["hopfield", "dam", "mchn", "uhn_best"])
def test_auto_models_recall_bipolar_patterns_from_noisy_cues(name, rng):
    M, Q = bipolar_problem(rng)
    Z = nu.load_model(name).retrieve(M, Q)
    nearest = np.argmin(np.abs(Z[:, None, :] - M[None]).sum(-1), axis=1)
    assert np.all(nearest == np.arange(len(M)))
    if name != "mchn":
        np.testing.assert_array_equal(Z, M)


def test_hetero_models_need_a_projection(rng):
    M, Q = bipolar_problem(rng)
    for name in ("attention", "sdm"):
        with pytest.raises(ValueError, match="hetero-associative: pass 'projection'"):
            nu.load_model(name).retrieve((M > 0) * 1.0, (Q > 0) * 1.0)


def test_attention_maps_keys_to_values(rng):
    K = rng.choice([-1.0, 1.0], size=(10, 64))
    V = rng.standard_normal((10, 3))
    Z = nu.load_model("attention").retrieve(K, K, projection=V)
    # β = 1/8 on scores of 64 (self) vs about ±8 (others): each value is read back with
    # small weight on the others
    np.testing.assert_allclose(Z, V, atol=0.1)
    assert np.all(np.argmin(((Z[:, None] - V[None]) ** 2).sum(-1), axis=1) == np.arange(10))


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_dump_and_load_round_trip(name, tmp_path):
    model = nu.load_model(name)
    nu.dump_model(model, tmp_path / "m.toml")
    assert nu.load_model(tmp_path / "m.toml") == model


def test_chain_separation_round_trips(tmp_path):
    model = nu.UHN(similarity="manhattan", separation=[{"kind": "normalize"}, "max"])
    nu.dump_model(model, tmp_path / "chain.toml")
    text = (tmp_path / "chain.toml").read_text()
    assert "[[separation]]" in text or "separation = [" in text  # tomli_w: an array of tables
    assert nu.load_model(tmp_path / "chain.toml").separation == model.separation


BAD_FILES = [
    ('colour = "red"\nsimilarity = "dot"\nseparation = "max"\n', r"unknown key\(s\) \['colour'\]"),
    ('similarity = "dot"\n', "missing required key 'separation'"),
    ('similarity = "dott"\nseparation = "max"\n', "key 'similarity': unknown similarity 'dott'"),
    (
        'similarity = "dot"\n[separation]\nkind = "softmax"\nbeta = "big"\n',
        "key 'separation'.*'beta' of separation 'softmax' must be a real number",
    ),
    (
        'similarity = "dot"\n[separation]\nkind = "softmax"\nbta = 1.0\n',
        r"key 'separation'.*unknown parameter\(s\) \['bta'\]",
    ),
    (
        'similarity = "dot"\n[separation]\nkind = "softmax"\nbeta = -1.0\n',
        "'beta' of separation 'softmax' must be a finite number > 0",
    ),
    ('similarity = "dot"\nseparation = "max"\nassociation = "both"\n', "'association' must be"),
    ('similarity = "dot"\nseparation = "max"\nname = 3\n', "key 'name' must be a string"),
    ('similarity = 3\nseparation = "max"\n', "key 'similarity' must be a name or a table"),
    ('similarity = "dot"\n[separation]\nbeta = 1.0\n', "key 'separation' is missing 'kind'"),
    (
        'similarity = "dot"\nseparation = "max"\n[readout]\nkind = "tanh"\n',
        "unknown readout 'tanh'",
    ),
    ('similarity = "dot\nseparation = "max"\n', "not valid TOML"),
    ('similarity = ["dot"]\nseparation = "max"\n', "key 'similarity' must be a table, not a list"),
    ('similarity = "hamming"\n[separation]\nkind = "topk"\nk = 1.5\n', "'k' .* must be an integer"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES, ids=[m for _, m in BAD_FILES])
def test_malformed_spec_files_name_the_file_and_key(text, message, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ModelFileError, match=message) as info:
        nu.load_model(path)
    assert str(path) in str(info.value)


def test_unknown_model_name_lists_the_bundled_ones():
    with pytest.raises(ValueError, match="unknown model 'hopfeld'.*hopfield"):
        nu.load_model("hopfeld")
    with pytest.raises(ValueError, match="unknown model"):
        nu.load_model("../models/hopfield")  # names never become paths
    with pytest.raises(FileNotFoundError):
        nu.load_model("/nonexistent/x.toml")


def test_spec_files_are_never_evaluated(tmp_path):
    path = tmp_path / "evil.toml"
    path.write_text("similarity = \"__import__('os').system('true')\"\nseparation = \"max\"\n")
    with pytest.raises(ModelFileError, match="unknown similarity"):
        nu.load_model(path)


def test_dump_writes_control_characters_as_escapes_and_reads_them_back(tmp_path):
    title = "".join(chr(c) for c in range(0x20)) + '\x7f "quoted" \\ back é'
    model = nu.UHN(similarity="dot", separation="max", title=title)
    nu.dump_model(model, tmp_path / "c.toml")
    assert nu.load_model(tmp_path / "c.toml") == dataclasses.replace(model, name="c")

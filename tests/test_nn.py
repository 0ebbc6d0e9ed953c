"""neuro_uhn.nn: UHN attention against SDPA, brute force, gradcheck and the abstract model."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import neuro_uhn as nu  # noqa: E402
from neuro_uhn import nn as unn  # noqa: E402

from . import reference as ref  # noqa: E402

SEPARATIONS = [
    ("softmax", {"beta": 0.7}),
    ("max", {}),
    ("topk", {"k": 3}),
    ("polynomial", {"n": 2}),
    ("identity", {}),
]


def _qkv(seed, batch=(2, 3), L=5, S=7, d=4, dv=6, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(*batch, n, m, generator=g, dtype=dtype) for n, m in ((L, d), (S, d), (S, dv))
    )


def test_importing_neuro_uhn_does_not_import_torch():
    code = "import sys, neuro_uhn, neuro_uhn.latent; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_dot_softmax_equals_scaled_dot_product_attention():
    q, k, v = _qkv(0)
    beta = 1 / math.sqrt(q.shape[-1])
    ours = unn.attention(q, k, v, similarity="dot", separation="softmax", beta=beta)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v), atol=1e-9, rtol=0)


@pytest.mark.parametrize("kind", ["bool", "float", "causal", "empty_row", "broadcast"])
def test_masks_behave_as_in_pytorch(kind):
    q, k, v = _qkv(1)
    g = torch.Generator().manual_seed(2)
    kw = {}
    if kind == "bool":
        kw["attn_mask"] = torch.rand(5, 7, generator=g) > 0.4
    elif kind == "float":
        kw["attn_mask"] = torch.randn(5, 7, generator=g, dtype=torch.float64)
    elif kind == "causal":
        kw["is_causal"] = True
    elif kind == "empty_row":
        m = torch.rand(5, 7, generator=g) > 0.4
        m[2] = False  # nothing allowed: SDPA gives 0
        kw["attn_mask"] = m
    else:
        kw["attn_mask"] = torch.rand(2, 1, 5, 7, generator=g) > 0.3
    beta = 1 / math.sqrt(q.shape[-1])
    ours = unn.attention(q, k, v, separation="softmax", beta=beta, **kw)
    torch.testing.assert_close(
        ours, F.scaled_dot_product_attention(q, k, v, **kw), atol=1e-9, rtol=0
    )


@pytest.mark.parametrize("sep, kw", SEPARATIONS, ids=[s for s, _ in SEPARATIONS])
@pytest.mark.parametrize("sim", unn.SIMILARITIES)
def test_masked_keys_get_no_weight_under_every_separation(sim, sep, kw):
    q, k, v = _qkv(3)
    mask = torch.rand(5, 7, generator=torch.Generator().manual_seed(4)) > 0.3
    mask[:, 0] = True  # at least one key each
    mask[:, 5] = False  # a key no query may see
    W = unn.attention_weights(q, k, similarity=sim, separation=sep, attn_mask=mask, **kw)
    assert torch.all(W[..., ~mask] == 0)
    out = unn.attention(q, k, v, similarity=sim, separation=sep, attn_mask=mask, **kw)
    v2 = v.clone()
    v2[..., ~mask.any(0), :] = 1e6  # keys no query may see: changing them changes nothing
    out2 = unn.attention(q, k, v2, similarity=sim, separation=sep, attn_mask=mask, **kw)
    torch.testing.assert_close(out, out2, atol=0, rtol=0)


@pytest.mark.parametrize("name", ["euclidean", "manhattan"])
def test_distance_scores_equal_brute_force(name):
    q, k, v = _qkv(5, batch=(3,), L=6, S=9, d=5)
    sim = nu.similarity.make(name)
    S = unn.scores(sim, q, k).numpy()
    f = getattr(ref, name)
    for b in range(3):
        for i in range(6):
            for j in range(9):
                assert abs(S[b, i, j] - f(k[b, j].numpy(), q[b, i].numpy())) <= 1e-12
    # and the outputs: softmax weights by the definition, one loop per query
    out = unn.attention(q, k, v, similarity=name, separation="softmax", beta=0.8).numpy()
    for b in range(3):
        for i in range(6):
            s = np.array([f(k[b, j].numpy(), q[b, i].numpy()) for j in range(9)])
            w = np.exp(0.8 * (s - s.max()))
            np.testing.assert_allclose(out[b, i], (w / w.sum()) @ v[b].numpy(), atol=1e-12)


SIM_FORMS = [
    ("dot", {}),
    ("cosine", {}),
    ("euclidean", {}),
    ("euclidean", {"squared": True}),
    ("manhattan", {}),
    ("hamming", {}),
    ("hamming", {"normalized": True}),
]


@pytest.mark.parametrize("sim, kw", SIM_FORMS)
def test_scores_equal_the_librarys_similarities(sim, kw):
    """The batched forms cannot drift from neuro_uhn.similarity: same inputs, same scores."""
    g = torch.Generator().manual_seed(6)
    M = torch.randn(11, 8, generator=g, dtype=torch.float64)
    Q = torch.randn(13, 8, generator=g, dtype=torch.float64)
    if sim == "hamming":
        M, Q = torch.sign(M), torch.sign(Q)
    comp = nu.similarity.make(sim, **kw)
    expected = comp(M.numpy(), Q.numpy())
    got = unn.scores(comp, Q, M).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-10, rtol=1e-12)


@pytest.mark.parametrize(
    "sim, sep, kw",
    [
        ("dot", "softmax", {"beta": 0.5}),
        ("cosine", "softmax", {"beta": 4.0}),
        ("euclidean", "softmax", {"beta": 1.5}),
        ("manhattan", "softmax", {"beta": 0.3}),
        ("dot", "polynomial", {"n": 3}),
        ("dot", "identity", {}),
        ("cosine", "polynomial", {"n": 2}),
    ],
)
def test_gradcheck(sim, sep, kw):
    q, k, v = (t.requires_grad_() for t in _qkv(7, batch=(2,), L=3, S=4, d=3, dv=2))
    assert torch.autograd.gradcheck(
        lambda a, b, c: unn.attention(a, b, c, similarity=sim, separation=sep, **kw), (q, k, v)
    )


def test_gradcheck_with_broadcast_batch_dimensions():
    q, k, v = _qkv(8, batch=(2, 1), L=3, S=4, d=3, dv=2)
    k = k[:1, 0].clone()  # (1, S, d): broadcast against q's (2, 1)
    q, k, v = (t.requires_grad_() for t in (q, k, v))
    assert torch.autograd.gradcheck(
        lambda a, b, c: unn.attention(a, b, c, similarity="manhattan", beta=0.5), (q, k, v)
    )


@pytest.mark.parametrize("sep, kw", [("max", {}), ("topk", {"k": 2})])
def test_straight_through_gradient(sep, kw):
    q, k, v = (t.requires_grad_() for t in _qkv(9, batch=(), L=4, S=6, d=3, dv=2))
    W = unn.attention_weights(
        q, k, similarity="manhattan", separation=sep, surrogate_beta=2.0, **kw
    )
    hard = nu.separation.make(sep, **kw)(-torch.cdist(q, k, p=1).detach().numpy())
    np.testing.assert_allclose(W.detach().numpy(), hard, atol=1e-12)  # forward: exact
    out = unn.attention(q, k, v, similarity="manhattan", separation=sep, surrogate_beta=2.0, **kw)
    g_out = torch.randn_like(out)
    gq, gk, gv = torch.autograd.grad(out, (q, k, v), g_out)
    torch.testing.assert_close(gv, torch.as_tensor(hard).T @ g_out)  # values: exact gradient
    # queries and keys: the softmax(2·S) surrogate's gradient
    q2, k2 = q.detach().requires_grad_(), k.detach().requires_grad_()
    soft = torch.softmax(-2.0 * torch.cdist(q2, k2, p=1), -1) @ v.detach()
    sq, sk = torch.autograd.grad(soft, (q2, k2), g_out)
    torch.testing.assert_close(gq, sq)
    torch.testing.assert_close(gk, sk)


def _largest_allocation(fn) -> int:
    """Bytes of the largest single CPU allocation while ``fn`` runs (PyTorch's profiler)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    return max((e.cpu_memory_usage for e in prof.events() if e.cpu_memory_usage > 0), default=0)


def test_manhattan_never_allocates_an_L_S_d_temporary_on_the_cpu():
    q, k, v = (t.requires_grad_() for t in _qkv(14, batch=(2,), L=256, S=256, d=64, dv=8,
                                                  dtype=torch.float32))  # fmt: skip
    whole = 2 * 256 * 256 * 64 * 4  # 32 MiB: what broadcasting q − k would allocate

    def step():
        unn.attention(q, k, v, similarity="manhattan", beta=0.1).sum().backward()

    assert _largest_allocation(step) <= whole // 16

    # the broadcast definition does allocate it: the measurement sees such temporaries
    def broadcast():
        S = -(q[..., :, None, :] - k[..., None, :, :]).abs().sum(-1)
        (torch.softmax(0.1 * S, -1) @ v).sum().backward()

    assert _largest_allocation(broadcast) >= whole


def test_blocked_manhattan_backward_stays_within_the_memory_budget(monkeypatch):
    """The backward used off the CPU (forced here): blocks within the budget, same gradients."""
    q, k, v = (t.requires_grad_() for t in _qkv(10, batch=(3, 2), L=40, S=50, d=16))
    out = unn.attention(q, k, v, similarity="manhattan", beta=0.2)
    g = torch.randn_like(out)
    full = torch.autograd.grad(out, (q, k, v), g)  # native cdist
    monkeypatch.setattr(unn, "NATIVE_L1_DEVICES", ())
    seen = []
    monkeypatch.setattr(unn, "_temporary_hook", seen.append)
    budget = 16 * 1024
    with nu.memory_budget(budget):
        out = unn.attention(q, k, v, similarity="manhattan", beta=0.2)
        biggest = _largest_allocation(lambda: seen.append(torch.autograd.grad(out, (q, k, v), g)))
    chunked = seen.pop()
    assert len(seen) > 10  # many blocks
    whole = 6 * 40 * 50 * 16 * 8
    assert all(2 * math.prod(shape) * 8 <= budget < whole for shape in seen)
    # the largest allocation is a (B, L, S) score-sized tensor, never (B, L, S, d)
    assert biggest <= max(budget, 2 * 6 * 40 * 50 * 8) < whole
    for a, b in zip(full, chunked):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
    # and it agrees with autograd through the broadcast definition
    q2, k2 = q.detach().requires_grad_(), k.detach().requires_grad_()
    S = -(q2[..., :, None, :] - k2[..., None, :, :]).abs().sum(-1)
    brute = torch.autograd.grad(torch.softmax(0.2 * S, -1) @ v.detach(), (q2, k2), g)
    torch.testing.assert_close(chunked[0], brute[0], atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(chunked[1], brute[1], atol=1e-10, rtol=1e-10)


def test_gradcheck_of_the_blocked_manhattan_backward(monkeypatch):
    monkeypatch.setattr(unn, "NATIVE_L1_DEVICES", ())
    q, k, v = (t.requires_grad_() for t in _qkv(15, batch=(2, 1), L=3, S=4, d=3, dv=2))
    with nu.memory_budget(1024):
        assert torch.autograd.gradcheck(
            lambda a, b, c: unn.attention(a, b[:1], c[:1], similarity="manhattan", beta=0.5),
            (q, k, v),
        )


@pytest.mark.parametrize(
    "sim, sep, kw",
    [
        ("dot", "softmax", {"beta": 2.0}),
        ("manhattan", "max", {}),
        ("euclidean", "topk", {"k": 3}),
        ("cosine", "polynomial", {"n": 2}),
        ("euclidean", "softmax", {"beta": 10.0}),
        ("hamming", "max", {}),
    ],
)
def test_attention_with_memories_as_keys_and_values_equals_retrieve(sim, sep, kw):
    rng = np.random.default_rng(11)
    M = rng.random((30, 12))
    Q = np.clip(M[rng.integers(0, 30, 9)] + 0.2 * rng.standard_normal((9, 12)), 0, 1)
    if sim == "hamming":
        M, Q = (M > 0.5).astype(float), (Q > 0.5).astype(float)
    expected = nu.retrieve(M, Q, similarity=sim, separation=sep, **kw)
    Mt = torch.as_tensor(M)
    got = unn.attention(torch.as_tensor(Q), Mt, Mt, similarity=sim, separation=sep, **kw)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-10)
    # hetero-association: values = labels
    V = np.eye(30)
    got = unn.attention(torch.as_tensor(Q), Mt, torch.as_tensor(V), similarity=sim,
                        separation=sep, **kw)  # fmt: skip
    np.testing.assert_allclose(
        got.numpy(), nu.retrieve(M, Q, similarity=sim, separation=sep, projection=V, **kw),
        atol=1e-10,
    )  # fmt: skip


def test_float32_stays_float32_and_shapes():
    q, k, v = _qkv(12, batch=(2,), dtype=torch.float32)
    out = unn.attention(q, k, v, similarity="manhattan", separation="topk", k=2)
    assert out.dtype == torch.float32 and out.shape == (2, 5, 6)
    out = unn.attention(q[0], k[0], v[0], similarity="euclidean")  # no batch dimensions
    assert out.shape == (5, 6)


def test_module_equals_multihead_attention():
    torch.manual_seed(0)
    E, H = 16, 4
    mha = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    ours = unn.UHNAttention(E, H, dtype=torch.float64)
    ours.load_state_dict(mha.state_dict())
    x = torch.randn(3, 6, E, dtype=torch.float64)
    y = torch.randn(3, 8, E, dtype=torch.float64)
    pad = torch.zeros(3, 8, dtype=torch.bool)
    pad[0, 5:] = True
    causal = torch.ones(6, 8, dtype=torch.bool).triu(1)
    for kw in ({}, {"key_padding_mask": pad}, {"attn_mask": causal},
               {"key_padding_mask": pad, "attn_mask": causal}):  # fmt: skip
        a, wa = mha(x, y, y, need_weights=True, **kw)
        b, wb = ours(x, y, y, need_weights=True, **kw)
        torch.testing.assert_close(b, a, atol=1e-9, rtol=0)
        torch.testing.assert_close(wb, wa, atol=1e-9, rtol=0)
    a, _ = mha(x, x, x, attn_mask=torch.ones(6, 6, dtype=torch.bool).triu(1), is_causal=True)
    b, _ = ours(x, x, x, is_causal=True)
    torch.testing.assert_close(b, a, atol=1e-9, rtol=0)


@pytest.mark.parametrize("sim", unn.SIMILARITIES)
@pytest.mark.parametrize("sep", ["softmax", "max", "topk"])
def test_module_trains_with_every_similarity(sim, sep):
    torch.manual_seed(1)
    m = unn.UHNAttention(
        8, 2, similarity=sim, separation=sep, **({"k": 2} if sep == "topk" else {})
    )
    x = torch.randn(2, 5, 8)
    out, _ = m(x, x, x)
    out.square().mean().backward()
    assert out.shape == (2, 5, 8)
    assert torch.isfinite(m.in_proj_weight.grad).all()
    assert m.in_proj_weight.grad[:8].abs().sum() > 0  # the query projection learns


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda q, k, v: unn.attention(q.numpy(), k, v), TypeError, "'q' must be a torch.Tensor"),
        (lambda q, k, v: unn.attention(q, k[..., :3], v), ValueError, "'q' has 4 features"),
        (lambda q, k, v: unn.attention(q, k, v[..., :2, :]), ValueError, "'k' has 7 keys"),
        (lambda q, k, v: unn.attention(q, k.float(), v), TypeError, "share one dtype"),
        (lambda q, k, v: unn.attention(q.long(), k, v), TypeError, "'q' must be a floating"),
        (lambda q, k, v: unn.attention(q[0, 0, 0], k, v), ValueError, "'q' must have shape"),
        (lambda q, k, v: unn.attention(q, k, v, similarity="kl"), ValueError, "not available"),
        (lambda q, k, v: unn.attention(q, k, v, bogus=1), TypeError, r"unknown parameter"),
        (lambda q, k, v: unn.attention(q, k, v, separation="max", beta=1), TypeError, "beta"),
        (lambda q, k, v: unn.attention(q, k, v, beta=-1), ValueError, "'beta'"),
        (
            lambda q, k, v: unn.attention(q, k, v, attn_mask=torch.ones(3, 3, dtype=torch.bool)),
            ValueError,
            "'attn_mask' of shape",
        ),
        (
            lambda q, k, v: unn.attention(q, k, v, attn_mask=torch.ones(5, 7, dtype=torch.int64)),
            TypeError,
            "'attn_mask' must be boolean or floating",
        ),
        (
            lambda q, k, v: unn.attention(q, k, v, separation="topk", k=99),
            ValueError,
            "'k' of separation 'topk'",
        ),
        (lambda q, k, v: unn.UHNAttention(10, 3), ValueError, "divisible"),
        (lambda q, k, v: unn.UHNAttention(8, 2)(q, q, q), ValueError, "'query' must be"),
    ],
)
def test_bad_input_is_a_clear_error(call, exc, match):
    q, k, v = _qkv(13)
    with pytest.raises(exc, match=match):
        call(q, k, v)


def test_attention_bench_rows_are_ratios_to_sdpa_in_one_run():
    from neuro_uhn.app.bench import format_attention_table, run_attention_bench

    rows = run_attention_bench(shapes=((1, 1, 16, 16, 8),), repeats=1, threads=1, compiled=False)
    names = {r["attention"] for r in rows}
    assert {"SDPA (dot / softmax)", "euclidean / softmax", "manhattan / softmax"} <= names
    for r in rows:
        base = next(
            b["seconds"]
            for b in rows
            if b["attention"].startswith("SDPA") and b["pass"] == r["pass"]
        )
        assert r["vs_sdpa"] == pytest.approx(r["seconds"] / base)
    table = format_attention_table(rows)
    assert table.count("\n") == 1 + len(names) and "manhattan / softmax" in table


def test_recall_task_targets_are_the_cued_pairs_values():
    task = unn.RecallTask(n_pairs=5, key_dim=4, n_values=3)
    x, y = task.sample(50, torch.Generator().manual_seed(0), "none", 0.0)
    assert x.shape == (50, 6, 4 + 3 + 1) and y.shape == (50,)
    keys, values, cue = x[:, :-1, :4], x[:, :-1, 4:7].argmax(-1), x[:, -1, :4]
    assert torch.all(x[:, -1, 4:7] == 0) and torch.all(x[:, -1, 7] == 1)
    for b in range(50):  # the cue is one of the keys exactly; the target is its value
        j = [i for i in range(5) if torch.equal(keys[b, i], cue[b])][0]
        assert y[b] == values[b, j]
    xm, _ = task.sample(50, torch.Generator().manual_seed(0), "mask", 1.0)
    assert torch.all(xm[:, -1, :4] == 0)
    with pytest.raises(ValueError, match="'corruption' must be"):
        task.sample(2, torch.Generator(), "blur", 0.1)


def test_train_recall_is_seeded_and_reports_curves():
    torch.set_num_threads(1)
    kw = dict(steps=6, eval_every=3, eval_size=20, embed_dim=16)
    a = unn.train_recall("manhattan", "topk", k=2, seed=3, **kw)
    b = unn.train_recall("manhattan", "topk", k=2, seed=3, **kw)
    assert a["steps"] == [3, 6] and a["accuracy"] == b["accuracy"] and a["loss"] == b["loss"]
    assert set(a["accuracy"]) == {"clean", "noise 0.2", "noise 0.4", "mask 0.3"}
    assert a["config"]["k"] == 2 and a["seconds_per_step"] > 0
    t = unn.time_recall_steps(unn.RECALL_CONFIGS[:2], rounds=1, steps=1)
    assert list(t["ratio"].values())[0] == 1.0 and len(t["seconds"]) == 2


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile's own internals
def test_compiled_manhattan_equals_cdist_and_never_materialises_the_difference():
    import shutil

    if not (shutil.which("c++") or shutil.which("g++")):
        pytest.skip("torch.compile needs a C++ compiler")
    torch.set_num_threads(1)
    q, k, v = _qkv(16, batch=(2,), L=64, S=96, d=32, dv=8)
    args = [t.clone().requires_grad_() for t in (q, k, v)]
    out = unn.attention(*args, similarity="manhattan", beta=0.3, compiled=True)
    g = torch.randn_like(out)
    grads = torch.autograd.grad(out, args, g)
    ref_args = [t.clone().requires_grad_() for t in (q, k, v)]
    ref = unn.attention(*ref_args, similarity="manhattan", beta=0.3)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=1e-10)
    for a, b in zip(grads, torch.autograd.grad(ref, ref_args, g)):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9)
    whole = 2 * 64 * 96 * 32 * 8

    def step():
        unn.attention(*args, similarity="manhattan", beta=0.3, compiled=True).sum().backward()

    assert _largest_allocation(step) <= whole // 8


# --------------------------------------------------------------- NaN, half precision, edges
NAN_SEPARATIONS = [("softmax", {}), ("max", {}), ("topk", {"k": 2}), ("identity", {}),
                   ("threshold", {"theta": -1.0})]  # fmt: skip


@pytest.mark.parametrize("sim", unn.SIMILARITIES)
@pytest.mark.parametrize("sep, kw", NAN_SEPARATIONS, ids=[s for s, _ in NAN_SEPARATIONS])
def test_nan_in_is_nan_out_under_every_separation(sim, sep, kw):
    """A NaN key poisons the queries that may attend to it (argmax would make it the winner
    of every query of its head, with a finite-looking output); a NaN query its own row; a
    masked NaN key nothing."""
    q, k, v = _qkv(21, batch=(2,), dtype=torch.float32)
    k[0, 3, 1] = math.nan  # head 0, key 3
    out = unn.attention(q, k, v, similarity=sim, separation=sep, **kw)
    assert out[0].isnan().all() and out[1].isfinite().all()
    allowed = torch.ones(5, 7, dtype=torch.bool)
    allowed[:, 3] = False
    out = unn.attention(q, k, v, similarity=sim, separation=sep, attn_mask=allowed, **kw)
    assert out.isfinite().all()
    q, k, v = _qkv(22, batch=(2,), dtype=torch.float32)
    q[1, 2, 0] = math.nan
    out = unn.attention(q, k, v, similarity=sim, separation=sep, **kw)
    assert out[1, 2].isnan().all()
    assert out[0].isfinite().all() and out[1, [0, 1, 3, 4]].isfinite().all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("sim", unn.SIMILARITIES)
def test_half_precision_is_as_robust_as_the_builtin_attention(sim, dtype):
    """Scores and weights in float32, weights cast back: the distances run in half
    precision (no cdist kernel there), and scores beyond 65504 do not overflow to NaN."""
    q, k, v = (x.to(dtype) for x in _qkv(23, batch=(2,), dtype=torch.float32))
    out = unn.attention(q, k, v, similarity=sim, beta=0.5)
    want = unn.attention(*(x.float() for x in (q, k, v)), similarity=sim, beta=0.5)
    assert out.dtype == dtype and out.isfinite().all()
    torch.testing.assert_close(out.float(), want, atol=0.05, rtol=0.05)
    big = torch.full((1, 3, 8), 300.0, dtype=dtype)  # q·k = 720000: beyond float16's range
    big[0, 1] = 200.0
    beta = 1 / math.sqrt(8)
    sdpa = F.scaled_dot_product_attention(big, big, v[:1, :3])
    assert sdpa.isfinite().all()
    if sim == "dot":
        out = unn.attention(big, big, v[:1, :3], beta=beta)
        assert out.isfinite().all()
        torch.testing.assert_close(out.float(), sdpa.float(), atol=0.05, rtol=0.05)
    w = unn.attention_weights(big, big, similarity=sim, beta=beta)
    assert w.dtype == dtype and w.isfinite().all()


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 0.0, -1.0, True, "1", None])
def test_surrogate_beta_must_be_a_finite_positive_number(bad):
    q, k, v = _qkv(24, batch=(), dtype=torch.float32)
    with pytest.raises(nu.NeuroUHNError, match="'surrogate_beta' must be a finite number > 0"):
        unn.attention(q, k, v, separation="max", surrogate_beta=bad)
    with pytest.raises(nu.NeuroUHNError, match="'surrogate_beta' must be a finite number > 0"):
        unn.UHNAttention(8, 2, separation="max", surrogate_beta=bad)


@pytest.mark.parametrize("sep", [{"kind": "softmax", "beta": 2.0}, "max"], ids=["softmax", "max"])
def test_cosine_with_a_zero_query_or_key_has_finite_gradients(sep):
    q, k, v = (x.requires_grad_() for x in _qkv(25, batch=(2,), dtype=torch.float64))
    with torch.no_grad():
        q[0, 1] = 0.0
        k[1, 2] = 0.0
    out = unn.attention(q, k, v, similarity="cosine", separation=sep)
    assert out.isfinite().all()
    out.square().sum().backward()
    for t in (q, k, v):
        assert t.grad.isfinite().all()
    # the abstract similarity under autograd: a zero memory or query, finite gradients too
    M = torch.randn(4, 5, dtype=torch.float64)
    M[2] = 0.0
    M.requires_grad_()
    Q = torch.zeros(2, 5, dtype=torch.float64, requires_grad=True)
    xp = unn._xp()
    sim = nu.similarity.make("cosine")
    sim.score(sim.prepare(M, xp), Q, xp).sum().backward()
    assert M.grad.isfinite().all() and Q.grad.isfinite().all()

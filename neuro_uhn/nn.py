"""UHN attention for PyTorch models: ``sep(sim(K, Q)) · V`` with the library's components.

Attention is a Universal Hopfield Network whose memories are the keys and whose projection
is the values (Millidge et al. 2022, §3). This module (the ``torch`` extra; importing
``neuro_uhn`` does not import it) swaps the dot product and the softmax of a transformer for
any similarity and separation of the library::

    from neuro_uhn import nn as unn
    out = unn.attention(q, k, v, similarity="manhattan", separation="softmax", beta=0.5)
    layer = unn.UHNAttention(64, 4, similarity="euclidean", separation="softmax")
    y, _ = layer(x, x, x, key_padding_mask=pad)

Shapes as in :func:`torch.nn.functional.scaled_dot_product_attention`: ``q`` (..., L, d),
``k`` (..., S, d), ``v`` (..., S, dv) → (..., L, dv), batch dimensions broadcast.

Definitions. The separations are the library's own components (:mod:`neuro_uhn.separation`,
applied through the array API to the (..., L, S) score tensor), so they cannot drift from
the abstract model. The similarities are batched forms of the library's definitions, and
``tests/test_nn.py`` checks each against :mod:`neuro_uhn.similarity` on the same inputs:

=============  ==================================================  ==========================
similarity     score of query q and key k                          how
=============  ==================================================  ==========================
``dot``        q·k                                                 matmul
``cosine``     q·k / (‖q‖ ‖k‖) (a zero row scores 0)               the library's row norms
``euclidean``  −‖q − k‖₂ (``squared=True``: −‖q − k‖₂²)            ``torch.cdist``
``manhattan``  −‖q − k‖₁                                           cdist (CPU); chunked bwd
``hamming``    −#{i: [q_i > 0] ≠ [k_i > 0]} (``normalized``: ÷ d)  binary matmul, STE
=============  ==================================================  ==========================

Gradients. ``max`` and ``topk`` are piecewise constant; their weights carry a
straight-through gradient, ``W = hard + soft − soft.detach()`` with
``soft = softmax(surrogate_beta · S)``, so queries and keys still learn (values get the
exact gradient of ``hard``). ``hamming`` binarises with a straight-through estimator too.

Memory. Manhattan's gradient needs ``sign(q − k)`` for every (query, key, feature), never
materialised whole: on the CPU ``torch.cdist(p=1)`` computes forward and backward in its
own kernels (allocations O(B·L·S), checked with the profiler in the tests); on other
devices a custom backward computes it in blocks whose (batch, L, S, d) temporary fits the
library's memory budget (:func:`neuro_uhn.memory_budget`).

Precision and NaN. Half-precision inputs (float16, bfloat16) get their scores and weights
computed in float32 and the weights cast back, as the fused kernels of
:func:`~torch.nn.functional.scaled_dot_product_attention` accumulate: scores beyond 65504 do
not overflow to NaN, and the distances (``torch.cdist`` has no half-precision kernel on the
CPU) work in every dtype. NaN in is NaN out under every separation: a query whose scores,
own features or allowed keys hold a NaN gets a row of NaN weights (``argmax`` would take a
NaN score as the largest, so one NaN key would otherwise win every query of its head); a
masked key's NaN reaches nothing.

Masks follow :func:`~torch.nn.functional.scaled_dot_product_attention`: a boolean
``attn_mask`` is True where a query may attend, a float one is added to the logits (to
``β·S`` for softmax, to ``S`` otherwise); ``is_causal`` allows keys up to the query's
position. Masked keys get weight exactly 0 under every separation; a query that may attend
to nothing gets output 0, as SDPA's does. ``q``, ``k`` and ``v`` are positional-only, so
top-k's ``k=`` is a parameter.
:class:`UHNAttention` follows :class:`torch.nn.MultiheadAttention` instead (True = masked).
"""

from __future__ import annotations

import math
from typing import Any

try:
    import torch
except ModuleNotFoundError as err:  # name the extra that brings it, not just the module
    if err.name != "torch":
        raise
    from ._extras import install_hint

    raise ModuleNotFoundError(
        f"neuro_uhn.nn needs PyTorch, which is not installed: {install_hint('torch')} "
        "(for the CPU build where pip would pick a CUDA one, see the docs' Getting started)",
        name="torch",
    ) from None
from torch import Tensor

from ._config import get_memory_budget
from .errors import ValidationError, ValidationTypeError

__all__ = [
    "attention",
    "attention_weights",
    "UHNAttention",
    "SIMILARITIES",
    "l1_blocks",
    "compiled_l1",
    "RecallTask",
    "RecallModel",
    "train_recall",
    "recall_sweep",
    "time_recall_steps",
]

#: The similarities attention supports (those of the library that make sense for it).
SIMILARITIES = ("dot", "cosine", "euclidean", "manhattan", "hamming")


# ----------------------------------------------------------------------------- components
def _components(similarity: Any, separation: Any, params: dict[str, Any]):
    from .separation import _registry as separations
    from .separation import make as make_separation
    from .similarity import _registry as similarities

    sim_keys = similarities.accepts(similarity)
    sep_keys = set() if isinstance(separation, list | tuple) else separations.accepts(separation)
    sim_params = {k: v for k, v in params.items() if k in sim_keys}
    sep_params = {k: v for k, v in params.items() if k in sep_keys}
    unused = sorted(set(params) - set(sim_params) - set(sep_params))
    if unused:
        raise ValidationTypeError(
            f"unknown parameter(s) {unused}: not accepted by similarity {similarity!r} "
            f"or separation {separation!r}"
        )
    sim = similarities.make(similarity, **sim_params)
    if sim.name not in SIMILARITIES:
        raise ValidationError(
            f"'similarity' {sim.name!r} is not available for attention; expected one of "
            f"{list(SIMILARITIES)}",
            argument="similarity",
        )
    return sim, make_separation(separation, **sep_params)


def _xp():
    import array_api_compat.torch as xtorch

    return xtorch


def _unit_rows(X: Tensor) -> Tensor:
    from .similarity import _unit_rows as unit_rows

    return unit_rows(X, _xp())


def _st_binary(X: Tensor) -> Tensor:
    """``[X > 0]`` forward, identity gradient (straight-through)."""
    hard = (X > 0).to(X.dtype)
    return hard + X - X.detach() if X.requires_grad else hard


def scores(sim, q: Tensor, k: Tensor, *, compiled: bool = False) -> Tensor:
    """``S[..., l, s] = sim(k_s, q_l)`` for batched queries and keys.

    ``compiled=True``: Manhattan through :func:`compiled_l1` (``torch.compile``).
    """
    name = sim.name
    if name == "dot":
        return q @ k.mT
    if name == "cosine":
        return _unit_rows(q) @ _unit_rows(k).mT
    if name == "euclidean":
        if sim.squared:
            # ‖q‖² + ‖k‖² − 2 q·k (the library's form), clipped at 0
            d2 = (q * q).sum(-1, keepdim=True) + (k * k).sum(-1).unsqueeze(-2) - 2 * q @ k.mT
            return -d2.clamp_min(0)
        # cdist's matrix-product path (5x faster than its exact loop on a CPU, measured)
        return -torch.cdist(q, k, p=2.0)
    if name == "manhattan":
        if compiled:
            return -compiled_l1()(q, k)
        if q.device.type in NATIVE_L1_DEVICES:
            return -torch.cdist(q, k, p=1.0)
        return -_L1.apply(q, k)
    if name == "hamming":
        qb, kb = _st_binary(q), _st_binary(k)
        S = 2 * (qb @ kb.mT) - qb.sum(-1, keepdim=True) - kb.sum(-1).unsqueeze(-2)
        return S / q.shape[-1] if sim.normalized else S
    raise AssertionError(name)  # pragma: no cover - _components checked it


# --------------------------------------------------------------------- memory-bounded L1
def l1_blocks(batch: int, L: int, S: int, d: int, itemsize: int) -> tuple[int, int, int]:
    """Block sizes ``(bb, bl, bs)`` with ``bb·bl·bs·d·itemsize·2 <= budget`` (at least 1)."""
    pairs = max(1, get_memory_budget() // max(1, 2 * d * itemsize))
    bs = max(1, min(S, pairs))
    bl = max(1, min(L, pairs // bs))
    bb = max(1, min(batch, pairs // (bs * bl)))
    return bb, bl, bs


#: Devices where ``torch.cdist(p=1)`` runs forward *and* backward: its CPU kernels allocate
#: O(B·L·S) at most, never a (B, L, S, d) temporary, and are 6x faster than the blocked
#: backward below (measured; tests/test_nn.py checks the allocations with the profiler).
#: Elsewhere (CUDA's cdist backward allocates a (B, S, L, d) buffer) the blocked one runs.
NATIVE_L1_DEVICES = ("cpu",)

#: Called with the shape of every (batch, L, S, d) temporary the L1 backward builds (tests).
_temporary_hook = None


class _L1(torch.autograd.Function):
    """``D[..., l, s] = ‖q_l − k_s‖₁``: cdist forward, blocked backward (subgradient sign 0)."""

    @staticmethod
    def forward(ctx, q, k):
        ctx.save_for_backward(q, k)
        return torch.cdist(q, k, p=1.0)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        q, k = ctx.saved_tensors
        batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2])
        L, d = q.shape[-2:]
        S = k.shape[-2]
        qf = q.expand(*batch, L, d).reshape(-1, L, d)
        kf = k.expand(*batch, S, d).reshape(-1, S, d)
        gf = grad.expand(*batch, L, S).reshape(-1, L, S)
        B = qf.shape[0]
        gq = torch.zeros_like(qf) if ctx.needs_input_grad[0] else None
        gk = torch.zeros_like(kf) if ctx.needs_input_grad[1] else None
        bb, bl, bs = l1_blocks(B, L, S, d, q.element_size())
        for b in range(0, B, bb):
            for i in range(0, L, bl):
                for j in range(0, S, bs):
                    sgn = qf[b : b + bb, i : i + bl, None, :] - kf[b : b + bb, None, j : j + bs, :]
                    if _temporary_hook is not None:
                        _temporary_hook(tuple(sgn.shape))
                    sgn.sign_()
                    g = gf[b : b + bb, i : i + bl, j : j + bs]
                    if gq is not None:
                        gq[b : b + bb, i : i + bl] += torch.einsum("bls,blsd->bld", g, sgn)
                    if gk is not None:
                        gk[b : b + bb, j : j + bs] -= torch.einsum("bls,blsd->bsd", g, sgn)
                    del sgn
        out_q = out_k = None
        if gq is not None:
            out_q = _sum_to(gq.reshape(*batch, L, d), q.shape)
        if gk is not None:
            out_k = _sum_to(gk.reshape(*batch, S, d), k.shape)
        return out_q, out_k


def _l1_broadcast(q: Tensor, k: Tensor) -> Tensor:
    return (q[..., :, None, :] - k[..., None, :, :]).abs().sum(-1)


_COMPILED: dict[str, Any] = {}


def compiled_l1():
    """``‖q_l − k_s‖₁`` as one ``torch.compile``-d kernel (dynamic shapes), built on first use.

    Inductor fuses the broadcast difference into the reduction, forward and backward, so
    the (B, L, S, d) tensor is never materialised (largest allocation 2.5 MiB where it would
    be 128 MiB, measured with the profiler) and, on this project's CPU, forward + backward
    ran 2.7x faster than ``torch.cdist`` (L = S = 256, d = 64, 8 heads, 1 thread). The first
    call compiles (5–30 s, and a C++ compiler must be installed); opt in with
    ``attention(..., compiled=True)`` or ``UHNAttention(..., compiled=True)``.
    """
    if "l1" not in _COMPILED:
        _COMPILED["l1"] = torch.compile(_l1_broadcast, dynamic=True)
    return _COMPILED["l1"]


def _sum_to(g: Tensor, shape) -> Tensor:
    """Reduce a broadcast gradient back to ``shape``."""
    while g.ndim > len(shape):
        g = g.sum(0)
    dims = [i for i, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1]
    return g.sum(dims, keepdim=True) if dims else g


# ------------------------------------------------------------------------------ attention
def _check(q, k, v):
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor):
            raise ValidationTypeError(f"{name!r} must be a torch.Tensor; got {type(t).__name__}")
        if not t.is_floating_point():
            raise ValidationTypeError(f"{name!r} must be a floating tensor; got {t.dtype}")
        if t.ndim < 2:
            raise ValidationError(
                f"{name!r} must have shape (..., length, features); got {tuple(t.shape)}"
            )
    if not (q.dtype == k.dtype == v.dtype):
        raise ValidationTypeError(
            f"'q', 'k' and 'v' must share one dtype; got {q.dtype}, {k.dtype}, {v.dtype}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValidationError(
            f"'q' has {q.shape[-1]} features but 'k' has {k.shape[-1]}; they must match"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValidationError(
            f"'k' has {k.shape[-2]} keys but 'v' has {v.shape[-2]} rows; they must match"
        )
    if k.shape[-2] == 0:
        raise ValidationError("'k' must hold at least one key")
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValidationError(
            f"the batch dimensions of 'q' {tuple(q.shape[:-2])}, 'k' {tuple(k.shape[:-2])} and "
            f"'v' {tuple(v.shape[:-2])} do not broadcast"
        ) from None


def _masks(attn_mask, is_causal, L, S, S_scores, device):
    """``(allowed, additive)``: a boolean mask (or None) and a float mask (or None)."""
    allowed = additive = None
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise ValidationTypeError(
                f"'attn_mask' must be a boolean or floating torch.Tensor; got "
                f"{type(attn_mask).__name__}"
            )
        try:
            torch.broadcast_shapes(attn_mask.shape, S_scores.shape)
        except RuntimeError:
            raise ValidationError(
                f"'attn_mask' of shape {tuple(attn_mask.shape)} does not broadcast to the "
                f"scores' shape {tuple(S_scores.shape)} (..., L, S)"
            ) from None
        if attn_mask.dtype == torch.bool:
            allowed = attn_mask
        elif attn_mask.is_floating_point():
            additive = attn_mask.to(S_scores.dtype)
        else:
            raise ValidationTypeError(
                f"'attn_mask' must be boolean or floating; got {attn_mask.dtype}"
            )
    if is_causal:
        if attn_mask is not None:
            raise ValidationError("pass 'attn_mask' or is_causal=True, not both (as SDPA)")
        allowed = torch.ones(L, S, dtype=torch.bool, device=device).tril()
    return allowed, additive


def attention_weights(
    q: Tensor,
    k: Tensor,
    /,
    *,
    similarity: Any = "dot",
    separation: Any = "softmax",
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    surrogate_beta: float = 1.0,
    **params: Any,
) -> Tensor:
    """The (..., L, S) weights ``sep(sim(k, q))`` that :func:`attention` applies to ``v``."""
    _check(q, k, k)
    sim, sep = _components(similarity, separation, params)
    return _weights(sim, sep, q, k, attn_mask, is_causal, surrogate_beta)


def _surrogate_beta(value: Any) -> float:
    """The straight-through softmax temperature: a finite number > 0."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationTypeError(
            f"'surrogate_beta' must be a finite number > 0 (the softmax temperature of the "
            f"straight-through gradient); got {type(value).__name__} {value!r}",
            argument="surrogate_beta",
        )
    if not (math.isfinite(value) and value > 0):
        raise ValidationError(
            f"'surrogate_beta' must be a finite number > 0 (the softmax temperature of the "
            f"straight-through gradient; inf would make it NaN); got {value!r}: pass e.g. "
            "1/sqrt(head_dim)",
            argument="surrogate_beta",
        )
    return float(value)


#: Inputs of these dtypes get their scores and weights computed in float32.
_HALF = (torch.float16, torch.bfloat16)


def _weights(sim, sep, q, k, attn_mask, is_causal, surrogate_beta, compiled=False):
    from .separation import Max, Softmax, TopK

    surrogate_beta = _surrogate_beta(surrogate_beta)
    dtype = q.dtype
    if dtype in _HALF:  # as SDPA's kernels: no overflow beyond 65504, cdist in every dtype
        q, k = q.float(), k.float()
    S = scores(sim, q, k, compiled=compiled)
    L, n_keys = q.shape[-2], k.shape[-2]
    allowed, additive = _masks(attn_mask, is_causal, L, n_keys, S, q.device)
    ordered = isinstance(sep, Softmax | Max | TopK)
    if additive is not None and bool((additive == -math.inf).any()):
        # -inf in a float mask (MultiheadAttention's form of "masked"): as a boolean mask
        blocked = additive == -math.inf
        allowed = ~blocked if allowed is None else allowed & ~blocked
        additive = additive.masked_fill(blocked, 0.0)
    if additive is not None:
        S = S + (additive / sep.beta if isinstance(sep, Softmax) else additive)
    # NaN in, NaN out: a NaN score, or a NaN feature of the query or of a key (hamming's
    # binarisation and argmax would hide it), makes the query's row NaN if the key is allowed
    nan = torch.isnan(S) | (
        torch.isnan(q).any(-1).unsqueeze(-1) | torch.isnan(k).any(-1).unsqueeze(-2)
    )
    if allowed is not None:
        nan = nan & allowed
    nan_rows = nan.any(-1, keepdim=True)
    if allowed is not None:
        allowed = allowed.expand(S.shape)
        S = S.masked_fill(~allowed, -math.inf if ordered else 0.0)
        any_allowed = allowed.any(-1, keepdim=True)
        if ordered:  # a row with nothing allowed: scores 0 (no NaN), weights zeroed below
            S = S.masked_fill(~any_allowed, 0.0)
    # the library's softmax(β S) as torch's fused kernel (checked equal in tests/test_nn.py)
    W = torch.softmax(sep.beta * S, dim=-1) if type(sep) is Softmax else sep(S)
    if isinstance(sep, Max | TopK) and S.requires_grad:
        soft = torch.softmax(surrogate_beta * S, dim=-1)
        W = W + soft - soft.detach()
    if allowed is not None:
        W = torch.where(allowed & any_allowed, W, torch.zeros((), dtype=W.dtype))
    W = torch.where(nan_rows, torch.full((), math.nan, dtype=W.dtype, device=W.device), W)
    return W.to(dtype)


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    /,
    *,
    similarity: Any = "dot",
    separation: Any = "softmax",
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    surrogate_beta: float = 1.0,
    compiled: bool = False,
    **params: Any,
) -> Tensor:
    """UHN attention ``sep(sim(k, q)) · v``: q (..., L, d), k (..., S, d), v (..., S, dv).

    ``similarity`` / ``separation``: names, mappings or components as for
    :func:`neuro_uhn.retrieve`; ``**params`` go to whichever accepts them (``beta``, ``k``,
    ``n``, ``squared``, ``normalized``). The library's defaults hold (softmax β = 1; pass
    ``beta=1/sqrt(d)`` for a transformer's scaling). ``surrogate_beta``: the softmax
    temperature of the straight-through gradient of ``max`` and ``topk``.

    ``compiled=True`` computes Manhattan scores with :func:`compiled_l1` (``torch.compile``).

    ``attn_mask`` and ``is_causal`` as in :func:`torch.nn.functional.scaled_dot_product_attention`
    (see the module docstring); a query with no allowed key returns 0, as SDPA. Under
    ``topk`` a query with fewer than k allowed keys keeps only their weights (sum < 1).
    """
    _check(q, k, v)
    sim, sep = _components(similarity, separation, params)
    W = _weights(sim, sep, q, k, attn_mask, is_causal, surrogate_beta, compiled)
    return W @ v


# --------------------------------------------------------------------------------- module
class UHNAttention(torch.nn.Module):
    """Multi-head UHN attention, a drop-in for :class:`torch.nn.MultiheadAttention`.

    Same parameters (``in_proj_weight``, ``in_proj_bias``, ``out_proj``) and call,
    ``m(query, key, value, key_padding_mask=None, need_weights=False, attn_mask=None,
    is_causal=False) -> (output, weights or None)``, with masks in MultiheadAttention's
    convention (boolean True = *not* allowed; float = added). ``batch_first=True`` by
    default. A :class:`~torch.nn.MultiheadAttention` state dict loads into it; with
    ``similarity="dot"``, ``separation="softmax"`` and the default β = 1/√head_dim it
    computes the same function.

    ``beta`` (softmax) and ``surrogate_beta`` (the straight-through gradient of ``max`` and
    ``topk``) default to 1/√head_dim; ``compiled=True`` uses :func:`compiled_l1` for
    Manhattan; other ``**params`` (``k``, ``n``, ``squared``, ``normalized``) are passed to
    :func:`attention`.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        similarity: Any = "dot",
        separation: Any = "softmax",
        *,
        bias: bool = True,
        batch_first: bool = True,
        device=None,
        dtype=None,
        **params: Any,
    ):
        super().__init__()
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"{name!r} must be an integer >= 1; got {value!r}")
        if embed_dim % num_heads:
            raise ValidationError(
                f"'embed_dim' ({embed_dim}) must be divisible by 'num_heads' ({num_heads})"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.batch_first = batch_first
        scale = 1.0 / math.sqrt(self.head_dim)
        self.surrogate_beta = _surrogate_beta(params.pop("surrogate_beta", scale))
        self.compiled = bool(params.pop("compiled", False))
        sep_name = separation if isinstance(separation, str) else None
        if sep_name == "softmax" and "beta" not in params:
            params["beta"] = scale
        self.sim, self.sep = _components(similarity, separation, params)
        kw = {"device": device, "dtype": dtype}
        self.in_proj_weight = torch.nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **kw))
        self.in_proj_bias = torch.nn.Parameter(torch.zeros(3 * embed_dim, **kw)) if bias else None
        self.out_proj = torch.nn.Linear(embed_dim, embed_dim, bias=bias, **kw)
        torch.nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            torch.nn.init.zeros_(self.out_proj.bias)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
            f"similarity={self.sim!r}, separation={self.sep!r}"
        )

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = False,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        if not self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        for name, x in (("query", query), ("key", key), ("value", value)):
            if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[-1] != self.embed_dim:
                raise ValidationError(
                    f"{name!r} must be a tensor of shape (batch, length, {self.embed_dim}); "
                    f"got {tuple(getattr(x, 'shape', ())) or type(x).__name__}"
                )
        N, L, E = query.shape
        S = key.shape[1]
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        H, hd = self.num_heads, self.head_dim

        def heads(x, w, b, n):
            return torch.nn.functional.linear(x, w, b).view(N, n, H, hd).transpose(1, 2)

        q, k, v = heads(query, w_q, b_q, L), heads(key, w_k, b_k, S), heads(value, w_v, b_v, S)
        mask = self._mask(key_padding_mask, attn_mask, is_causal, N, L, S, query)
        W = _weights(self.sim, self.sep, q, k, mask, False, self.surrogate_beta, self.compiled)
        out = (W @ v).transpose(1, 2).reshape(N, L, E)
        out = self.out_proj(out)
        if not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        return out, (W.mean(1) if average_attn_weights else W)

    @staticmethod
    def _mask(key_padding_mask, attn_mask, is_causal, N, L, S, like):
        """MultiheadAttention's masks (True = masked) → one (N, 1|H, L, S) mask for attention."""
        masks = []
        for name, m, shape in (
            ("key_padding_mask", key_padding_mask, (N, S)),
            ("attn_mask", attn_mask, None),
        ):
            if m is None:
                continue
            if not isinstance(m, Tensor):
                raise ValidationTypeError(f"{name!r} must be a torch.Tensor; got {type(m)}")
            if name == "key_padding_mask":
                if tuple(m.shape) != shape:
                    raise ValidationError(
                        f"'key_padding_mask' must have shape (batch, S) = {shape}; "
                        f"got {tuple(m.shape)}"
                    )
                m = m[:, None, None, :]
            elif m.ndim == 3:  # (N·H, L, S)
                m = m.view(N, -1, L, S)
            masks.append(m)
        if is_causal and attn_mask is None:
            masks.append(torch.ones(L, S, dtype=torch.bool, device=like.device).triu(1))
        if not masks:
            return None
        if all(m.dtype == torch.bool for m in masks):
            blocked = masks[0]
            for m in masks[1:]:
                blocked = blocked | m
            return ~blocked
        total = torch.zeros((), dtype=like.dtype, device=like.device)
        for m in masks:
            if m.dtype == torch.bool:
                m = torch.zeros(m.shape, dtype=like.dtype, device=like.device).masked_fill(
                    m, -math.inf
                )
            total = total + m
        return total


# -------------------------------------------------------------- associative-recall benchmark
class RecallTask:
    """Associative recall in a sequence: ``n_pairs`` key→value tokens, then a cue.

    Each sequence draws fresh random keys, uniform in [0, 1]^``key_dim`` (like pixels), and
    values (classes ``0..n_values-1``); a pair token is ``[key, one_hot(value), 0]``. The
    last token is ``[corrupted key, 0, 1]`` for one of the pairs, and the target is that
    pair's value. Corruptions of the cue: ``noise`` (Gaussian, standard deviation
    ``level``), ``mask`` (each entry zeroed with probability ``level``) or ``none``.
    Nothing can be memorised across sequences: the model must learn to *look up* the cue
    among its context's keys, and with noisy cues the nearest key (Euclidean) is the best
    guess, which a dot product of learned projections can only approximate (it misses
    ``‖k‖²``).
    """

    def __init__(self, n_pairs: int = 16, key_dim: int = 16, n_values: int = 8):
        self.n_pairs, self.key_dim, self.n_values = n_pairs, key_dim, n_values
        self.token_dim = key_dim + n_values + 1

    def sample(self, batch: int, generator, corruption: str = "noise", level: float = 0.2):
        """``(tokens (batch, n_pairs + 1, token_dim), targets (batch,))``, float32."""
        K, dk, nv = self.n_pairs, self.key_dim, self.n_values
        keys = torch.rand((batch, K, dk), generator=generator)
        values = torch.randint(0, nv, (batch, K), generator=generator)
        which = torch.randint(0, K, (batch,), generator=generator)
        cue = keys[torch.arange(batch), which].clone()
        if corruption == "noise":
            cue = cue + level * torch.randn(cue.shape, generator=generator)
        elif corruption == "mask":
            cue = torch.where(torch.rand(cue.shape, generator=generator) < level, 0.0, cue)
        elif corruption != "none":
            raise ValidationError(f"'corruption' must be noise, mask or none; got {corruption!r}")
        pairs = torch.cat([keys, F_one_hot(values, nv), torch.zeros(batch, K, 1)], dim=-1)
        query = torch.cat([cue, torch.zeros(batch, nv), torch.ones(batch, 1)], dim=-1)
        return torch.cat([pairs, query[:, None]], dim=1), values[torch.arange(batch), which]


def F_one_hot(index: Tensor, n: int) -> Tensor:  # noqa: N802 - mirrors torch's F.one_hot
    return torch.nn.functional.one_hot(index, n).float()


class RecallModel(torch.nn.Module):
    """Embedding, ``layers`` pre-norm transformer blocks with :class:`UHNAttention`, a
    linear read-out of the last token."""

    def __init__(self, task: RecallTask, *, embed_dim=64, num_heads=2, layers=1, **attn):
        super().__init__()
        self.embed = torch.nn.Linear(task.token_dim, embed_dim)
        self.blocks = torch.nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(
                torch.nn.ModuleDict(
                    {
                        "norm1": torch.nn.LayerNorm(embed_dim),
                        "attn": UHNAttention(embed_dim, num_heads, **attn),
                        "norm2": torch.nn.LayerNorm(embed_dim),
                        "mlp": torch.nn.Sequential(
                            torch.nn.Linear(embed_dim, 2 * embed_dim),
                            torch.nn.GELU(),
                            torch.nn.Linear(2 * embed_dim, embed_dim),
                        ),
                    }
                )
            )
        self.norm = torch.nn.LayerNorm(embed_dim)
        self.head = torch.nn.Linear(embed_dim, task.n_values)

    def forward(self, tokens: Tensor) -> Tensor:
        x = self.embed(tokens)
        for b in self.blocks:
            h = b["norm1"](x)
            x = x + b["attn"](h, h, h)[0]
            x = x + b["mlp"](b["norm2"](x))
        return self.head(self.norm(x[:, -1]))


def train_recall(
    similarity: Any = "dot",
    separation: Any = "softmax",
    *,
    seed: int = 0,
    steps: int = 600,
    batch: int = 64,
    lr: float = 3e-3,
    task: RecallTask | None = None,
    train_corruption: tuple[str, float] = ("noise", 0.2),
    eval_every: int = 50,
    eval_sets: tuple[tuple[str, float], ...] = (
        ("none", 0.0),
        ("noise", 0.2),
        ("noise", 0.4),
        ("mask", 0.3),
    ),
    eval_size: int = 1000,
    embed_dim: int = 64,
    num_heads: int = 2,
    layers: int = 1,
    **params: Any,
) -> dict[str, Any]:
    """Train a :class:`RecallModel` with the given attention; return curves and timings.

    Seeded (model, training data and the fixed evaluation sets). Returns ``steps`` (the
    evaluation steps), ``accuracy`` (eval set name → accuracy at each of them), ``loss``
    (training loss at each), ``seconds_per_step`` (mean wall time of one optimisation step,
    evaluation excluded) and the configuration.
    """
    task = task or RecallTask()
    torch.manual_seed(seed)
    model = RecallModel(
        task,
        embed_dim=embed_dim,
        num_heads=num_heads,
        layers=layers,
        similarity=similarity,
        separation=separation,
        **params,
    )
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    evals = {
        f"{c} {lv:g}" if c != "none" else "clean": task.sample(
            eval_size, torch.Generator().manual_seed(10_000 + i), c, lv
        )
        for i, (c, lv) in enumerate(eval_sets)
    }
    out = {"steps": [], "loss": [], "accuracy": {k: [] for k in evals}}
    train_seconds, running = 0.0, []
    import time

    for step in range(1, steps + 1):
        x, y = task.sample(batch, gen, *train_corruption)
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        train_seconds += time.perf_counter() - t0
        running.append(float(loss.detach()))
        if step % eval_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                for name, (xe, ye) in evals.items():
                    acc = float((model(xe).argmax(-1) == ye).float().mean())
                    out["accuracy"][name].append(acc)
            model.train()
            out["steps"].append(step)
            out["loss"].append(sum(running) / len(running))
            running = []
    out["seconds_per_step"] = train_seconds / steps
    out["config"] = {
        "similarity": similarity if isinstance(similarity, str) else repr(similarity),
        "separation": separation if isinstance(separation, str) else repr(separation),
        "seed": seed,
        "steps": steps,
        **{k: v for k, v in params.items() if isinstance(v, int | float | str)},
    }
    return out


#: The comparison of the figure and the notebook: three similarities, softmax and top-2.
RECALL_CONFIGS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("dot", "softmax", {}),
    ("euclidean", "softmax", {}),
    ("manhattan", "softmax", {}),
    ("dot", "topk", {"k": 2}),
    ("euclidean", "topk", {"k": 2}),
    ("manhattan", "topk", {"k": 2}),
)


def recall_sweep(configs=RECALL_CONFIGS, seeds=(0, 1, 2), progress=None, **options: Any):
    """:func:`train_recall` for every (similarity, separation, params) and seed.

    Returns a list of result dicts (each with ``label``); ``options`` go to every run.
    """
    results = []
    for sim, sep, params in configs:
        label = f"{sim} / {sep}" + "".join(f" {k}={v}" for k, v in params.items())
        for seed in seeds:
            r = train_recall(sim, sep, seed=seed, **params, **options)
            r["label"] = label
            results.append(r)
            if progress:
                final = {k: round(v[-1], 3) for k, v in r["accuracy"].items()}
                progress(f"{label} seed {seed}: {final}, {1e3 * r['seconds_per_step']:.1f} ms/step")
    return results


def time_recall_steps(configs=RECALL_CONFIGS, *, rounds: int = 6, steps: int = 10, seed: int = 0):
    """Seconds per training step of each configuration, measured *interleaved*.

    Every model trains on the same batch; each round times ``steps`` steps of every
    configuration in turn, so a change of machine load hits all of them alike. Returns
    label → the best round's seconds per step (and ``"ratio"``: label → that / the first
    configuration's).
    """
    import time

    task = RecallTask()
    models = {}
    for sim, sep, params in configs:
        torch.manual_seed(seed)
        label = f"{sim} / {sep}" + "".join(f" {k}={v}" for k, v in params.items())
        m = RecallModel(task, similarity=sim, separation=sep, **params)
        models[label] = (m, torch.optim.Adam(m.parameters(), lr=3e-3))
    x, y = task.sample(64, torch.Generator().manual_seed(seed))
    best = dict.fromkeys(models, float("inf"))
    for _ in range(rounds):
        for label, (m, opt) in models.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                loss = torch.nn.functional.cross_entropy(m(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            best[label] = min(best[label], (time.perf_counter() - t0) / steps)
    first = next(iter(best.values()))
    return {"seconds": best, "ratio": {k: v / first for k, v in best.items()}}

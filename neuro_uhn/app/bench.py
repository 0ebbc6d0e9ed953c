"""Benchmark: batched similarity vs a per-query NumPy loop vs the machine's matmul, side by side.

For each dtype, feature count ``d`` and memory count ``n`` every measurement runs in the same
process on the same data, and the results are ratios:

* ``of_matmul`` = t(matmul of the same shape) / t(ours): the fraction of the machine's
  measured matrix-product throughput that the similarity reaches (1.0 = the physical limit
  for the matrix-product-shaped similarities);
* ``vs_loop`` = t(per-query loop) / t(ours), per query: how much batching buys over the
  straightforward loop the official code uses (one NumPy call per query, same math);
* ``vs_dot`` = t(ours) / t(ours, dot): the cost of a similarity relative to the dot product.

Each time is the best of ``repeats`` runs. Compute only; the CLI prints and writes JSON.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .. import similarity as _sim
from .._kernels import available as kernels_available
from ..retrieval import retrieve

__all__ = [
    "BenchRecord",
    "run_bench",
    "machine_label",
    "plain_install_ratio",
    "LOOP_REFERENCES",
    "run_attention_bench",
    "format_attention_table",
]

SIMILARITIES = ["dot", "cosine", "euclidean", "hamming", "kl", "reverse_kl", "manhattan", "js"]


def _smooth(x, eps=1e-6):
    p = x / x.sum(axis=-1, keepdims=True)
    return (p + eps) / (1 + x.shape[-1] * eps)


def _loop_kl(M, q):
    p, r = _smooth(M), _smooth(q)
    return -np.sum(p * np.log(p / r), axis=1)


def _loop_rkl(M, q):
    p, r = _smooth(M), _smooth(q)
    return -np.sum(r * np.log(r / p), axis=1)


def _loop_js(M, q):
    p, r = M / M.sum(axis=1, keepdims=True), q / q.sum()
    mix = (p + r) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / mix), 0.0)
        b = np.where(r > 0, r * np.log(r / mix), 0.0)
    return -0.5 * np.sum(a + b, axis=1)


#: The straightforward per-query NumPy expression of each similarity (same math as ours).
LOOP_REFERENCES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "dot": lambda M, q: M @ q,
    "cosine": lambda M, q: (M @ q) / (np.linalg.norm(M, axis=1) * np.linalg.norm(q)),
    "euclidean": lambda M, q: -np.sqrt(np.sum((M - q) ** 2, axis=1)),
    "hamming": lambda M, q: -np.sum(M != q, axis=1).astype(M.dtype),
    "kl": _loop_kl,
    "reverse_kl": _loop_rkl,
    "manhattan": lambda M, q: -np.sum(np.abs(M - q), axis=1),
    "js": _loop_js,
}


@dataclass
class BenchRecord:
    dtype: str
    d: int
    n_memories: int
    n_queries: int
    similarity: str
    seconds_per_query: float
    loop_seconds_per_query: float
    matmul_seconds_per_query: float
    of_matmul: float
    vs_loop: float
    vs_dot: float
    max_abs_error: float  # ours vs the loop, on the timed queries

    def to_dict(self):
        return asdict(self)


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _queries_for(budget_flops: float, n: int, d: int, lo: int, hi: int) -> int:
    return int(max(lo, min(hi, budget_flops // max(1, n * d))))


def run_bench(
    *,
    dtypes=("float32", "float64"),
    dims=(784, 3072),
    n_memories=(100, 1000, 10000),
    n_queries: int = 1000,
    loop_queries: int = 20,
    similarities=SIMILARITIES,
    repeats: int = 3,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    bar: bool = False,
) -> list[BenchRecord]:
    """Measure every (dtype, d, n, similarity) cell; see the module docstring.

    ``bar`` shows a progress bar with an ETA on stderr (weighted by each cell's n·d, so the
    estimate holds although the big cells take far longer); without the bar, ``progress``
    gets one line naming each finished cell (its results are in the records only).
    """
    from .._progress import tqdm

    rng = np.random.default_rng(seed)
    records: list[BenchRecord] = []
    work = {name: (4.0 if name == "js" else 1.0) for name in similarities}
    total = sum(n * d * work[s] for _ in dtypes for d in dims for n in n_memories
                for s in similarities)  # fmt: skip
    meter = tqdm(total=total, disable=not bar, desc="bench", unit="", unit_scale=True,
                 bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}",
                 dynamic_ncols=True)  # fmt: skip
    with meter:
        _measure(dtypes, dims, n_memories, n_queries, loop_queries, similarities, repeats, rng,
                 records, progress, meter, work)  # fmt: skip
    return records


def _measure(dtypes, dims, n_memories, n_queries, loop_queries, similarities, repeats, rng,
             records, progress, meter, work) -> None:  # fmt: skip
    for dtype in dtypes:
        for d in dims:
            for n in n_memories:
                M = rng.random((n, d)).astype(dtype)
                Q = rng.random((n_queries, d)).astype(dtype)
                Mb = (M > 0.5).astype(dtype)
                Qb = (Q > 0.5).astype(dtype)
                t_mm = _best(lambda M=M, Q=Q: Q @ M.T, repeats) / n_queries
                dot_time = None
                for name in similarities:
                    A, B = (Mb, Qb) if name == "hamming" else (M, Q)
                    # js evaluates logs per (query, memory, feature): fewer queries keep it short
                    b = n_queries if name != "js" else _queries_for(2e8, n, d, 8, n_queries)
                    sim = _sim.make(name)
                    sim(A[:2], B[:2])  # compile / warm up outside the timing
                    t = _best(lambda s=sim, A=A, B=B[:b]: s(A, B), repeats) / b
                    lq = min(loop_queries, b)
                    ref = LOOP_REFERENCES[name]

                    def loop(A=A, B=B, lq=lq, ref=ref):
                        return np.stack([ref(A, B[i]) for i in range(lq)])

                    t_loop = _best(loop, max(1, repeats - 1)) / lq
                    err = float(np.max(np.abs(loop() - sim(A, B[:lq]))))
                    if name == "dot":
                        dot_time = t
                    records.append(
                        BenchRecord(
                            dtype=dtype,
                            d=d,
                            n_memories=n,
                            n_queries=b,
                            similarity=name,
                            seconds_per_query=t,
                            loop_seconds_per_query=t_loop,
                            matmul_seconds_per_query=t_mm,
                            of_matmul=t_mm / t,
                            vs_loop=t_loop / t,
                            vs_dot=t / dot_time if dot_time else float("nan"),
                            max_abs_error=err,
                        )
                    )
                    # where the run is, not its results: those are printed once, as a table
                    cell = f"{dtype} d={d} n={n} {name}"
                    meter.set_postfix_str(cell, refresh=False)
                    meter.update(n * d * work[name])
                    if progress and meter.disable:
                        progress(f"measured {cell}")


def plain_install_ratio(
    n: int = 1000, d: int = 784, n_queries: int = 2000, dtype: str = "float32", seed: int = 0,
    repeats: int = 2,
) -> dict[str, float]:  # fmt: skip
    """The Manhattan similarity with and without the compiled kernels, against the dot product.

    Seconds for the scores of ``n_queries`` queries against ``n`` memories, with the numba
    kernel and with the chunked NumPy fallback (what an install without numba runs, or
    ``NEURO_UHN_KERNELS=off``), and their ratios to the dot product's.
    """
    from .._config import use_compiled_kernels

    rng = np.random.default_rng(seed)
    M = rng.random((n, d)).astype(dtype)
    Q = rng.random((n_queries, d)).astype(dtype)

    def timed(similarity):
        sim = _sim.make(similarity)
        sim(M, Q[:4])  # compile / warm up
        return _best(lambda: sim(M, Q), repeats)

    out = {"dot": timed("dot")}
    if kernels_available():
        out["manhattan_numba"] = timed("manhattan")
    with use_compiled_kernels(False):
        out["manhattan_numpy"] = timed("manhattan")
    ratios = {f"{k}_vs_dot": v / out["dot"] for k, v in out.items() if k != "dot"}
    return {**out, **ratios, "n": n, "d": d, "n_queries": n_queries}


def retrieval_speedup(
    n: int = 1000,
    d: int = 784,
    n_queries: int = 1000,
    loop_queries: int = 50,
    dtype: str = "float32",
    similarities=("dot", "euclidean", "manhattan"),
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Full retrieval (similarity, max, projection): batched vs the official code's loop.

    The loop does per query what ``general_update_rule`` does: the scores, a one-hot argmax,
    and ``Mᵀ w`` (a matrix-vector product).
    """
    rng = np.random.default_rng(seed)
    M = rng.random((n, d)).astype(dtype)
    Q = rng.random((n_queries, d)).astype(dtype)
    out = {}
    for name in similarities:
        retrieve(M, Q[:2], similarity=name, separation="max")
        t = _best(lambda name=name: retrieve(M, Q, similarity=name, separation="max"), 3)
        ref = LOOP_REFERENCES[name]

        def loop(ref=ref):
            for i in range(loop_queries):
                s = ref(M, Q[i])
                w = np.zeros_like(s)
                w[np.argmax(s)] = 1.0
                _ = M.T @ w

        t_loop = _best(loop, 2) / loop_queries
        out[name] = {
            "seconds_per_query": t / n_queries,
            "loop_seconds_per_query": t_loop,
            "speedup": t_loop / (t / n_queries),
        }
    return out


def machine_label() -> str:
    """CPU model, cores, NumPy and numba versions: the label the README table carries."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    numba = "numba " + __import__("numba").__version__ if kernels_available() else "no numba"
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, {numba}"
    )


def run_attention_bench(
    *,
    shapes=((2, 4, 256, 256, 64), (2, 4, 1024, 1024, 64)),
    dtype: str = "float32",
    repeats: int = 3,
    threads: int | None = None,
    compiled: bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """UHN attention (``neuro_uhn.nn``) against PyTorch's SDPA, in one run, as ratios.

    For each (batch, heads, L, S, d): forward and forward + backward time of SDPA, of our
    dot / softmax (β = 1/√d, the same function), Euclidean and Manhattan softmax attention,
    and, where the (B, H, L, S, d) temporary fits in 1 GiB, Manhattan by plain
    broadcasting (the path ``torch.cdist`` and the chunked backward replace).
    ``vs_sdpa`` = t(ours) / t(SDPA). ``compiled`` (default: when a C++ compiler is on the
    PATH) adds Manhattan through ``torch.compile`` (:func:`neuro_uhn.nn.compiled_l1`; its
    compilation is not timed). Needs the ``torch`` extra.
    """
    import shutil

    import torch

    from .. import nn as unn

    if compiled is None:
        compiled = bool(shutil.which("c++") or shutil.which("g++"))
    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    F = torch.nn.functional
    out = []
    try:
        for B, H, L, S, d in shapes:
            g = torch.Generator().manual_seed(0)
            dt = getattr(torch, dtype)
            q, k, v = (torch.randn(B, H, n, d, generator=g, dtype=dt) for n in (L, S, S))
            beta = 1 / math.sqrt(d)

            def bcast(q, k, v, beta=beta):
                D = (q[..., :, None, :] - k[..., None, :, :]).abs().sum(-1)
                return torch.softmax(-beta * D, -1) @ v

            fns = {
                "SDPA (dot / softmax)": lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
                "dot / softmax": lambda q, k, v, b=beta: unn.attention(q, k, v, beta=b),
                "euclidean / softmax": lambda q, k, v, b=beta: unn.attention(
                    q, k, v, similarity="euclidean", beta=b
                ),
                "manhattan / softmax": lambda q, k, v, b=beta: unn.attention(
                    q, k, v, similarity="manhattan", beta=b
                ),
            }
            if compiled:
                fns["manhattan / softmax, torch.compile"] = lambda q, k, v, b=beta: unn.attention(
                    q, k, v, similarity="manhattan", beta=b, compiled=True
                )
            if B * H * L * S * d * q.element_size() <= 2**30:
                fns["manhattan, broadcast (reference)"] = bcast
            base = {}
            for name, fn in fns.items():
                for mode in ("forward", "forward+backward"):
                    args = [t.detach().clone().requires_grad_(mode != "forward") for t in (q, k, v)]

                    def run(fn=fn, args=args, mode=mode):
                        if mode == "forward":
                            with torch.no_grad():
                                return fn(*args)
                        fn(*args).sum().backward()

                    try:
                        run()  # warm up (and compile)
                    except Exception as err:  # noqa: BLE001 - torch.compile without a toolchain
                        if "torch.compile" not in name:
                            raise
                        if progress:
                            progress(f"{name}: skipped ({type(err).__name__})")
                        break
                    t = _best(run, repeats)
                    base.setdefault(mode, t)
                    out.append(
                        {
                            "batch": B, "heads": H, "L": L, "S": S, "d": d, "dtype": dtype,
                            "attention": name, "pass": mode, "seconds": t,
                            "vs_sdpa": t / base[mode],
                        }
                    )  # fmt: skip
                    if progress:  # where the run is; the results are printed once, as a table
                        progress(f"attention L={L} S={S} d={d}: measured {name}, {mode}")
    finally:
        torch.set_num_threads(old_threads)
    return out


def format_attention_table(rows: list[dict]) -> str:
    """Markdown table of :func:`run_attention_bench` rows (ms, and the ratio to SDPA)."""
    lines = [
        "| B×H | L = S | d | attention | forward ms | × SDPA | fwd+bwd ms | × SDPA |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    seen = {}
    for r in rows:
        seen.setdefault((r["batch"], r["heads"], r["L"], r["d"], r["attention"]), {})[r["pass"]] = r
    for (B, H, L, d, name), by in seen.items():
        f, b = by.get("forward"), by.get("forward+backward")
        if f is None or b is None:
            continue
        lines.append(
            f"| {B}×{H} | {L} | {d} | {name} | {1e3 * f['seconds']:.1f} | {f['vs_sdpa']:.2f} | "
            f"{1e3 * b['seconds']:.1f} | {b['vs_sdpa']:.2f} |"
        )
    return "\n".join(lines)

"""The ``neuro-uhn`` command: ``demo`` (the main job), ``compare`` and ``bench``.

Errors a user can fix are printed as one line and exit with status 2; ``--debug`` shows the
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _demo(args) -> int:
    from .demo import run_demo
    from .plotting import demo_figure

    t0 = time.perf_counter()
    result = run_demo(
        n_memories=args.n_memories,
        sigma=args.sigma,
        mask=args.mask,
        seed=args.seed,
        spiking_queries=args.spiking_queries,
    )
    print(
        f"neuro_uhn demo: {result.n_memories} scikit-learn digits (8x8) stored; every one "
        f"queried once per corruption (seed {args.seed})"
    )
    print(
        "identity = nearest stored memory to the output is the cue's memory; "
        "SSE = the paper's criterion (sum of squared error <= 60 per 784 pixels)\n"
    )
    header = f"{'model':<36} {'corruption':<20} {'identity':>8} {'SSE':>6} {'ms':>8}"
    print(header)
    print("-" * len(header))
    for r in result.rows:
        print(
            f"{r.model:<36} {r.corruption:<20} {r.identity_accuracy:>8.2f} "
            f"{r.sse_accuracy:>6.2f} {1e3 * r.seconds:>8.2f}"
        )
    paths = [demo_figure(result, Path(args.out) / "demo.png")]
    if result.spiking:
        from .plotting import raster_figure, spiking_images_figure

        print(
            f"\nspiking network (Brian2) vs abstract model, first {args.spiking_queries} "
            "noisy cues, default SpikingConfig (T = 500 ms, 4 neurons per memory):\n"
        )
        print(_comparison_table({f"{m} / {mode}": c for (m, mode), c in result.spiking.items()}))
        best = result.spiking[("uhn_best", "spiking")]
        paths.append(
            raster_figure(
                best,
                Path(args.out) / "raster.png",
                title="uhn_best, fully spiking: memory neurons, query 0",
            )
        )
        paths.append(
            spiking_images_figure(
                result.spiking[("mchn", "spiking")],
                result.image_shape,
                Path(args.out) / "spiking_vs_abstract.png",
                title="mchn: abstract (top) vs fully spiking (bottom)",
            )
        )
    print(f"\nfigures: {', '.join(map(str, paths))}   ({time.perf_counter() - t0:.1f} s in all)")
    return 0


def _comparison_table(comparisons) -> str:
    header = (
        f"{'network':<22} {'agree':>6} {'acc abs':>7} {'acc spk':>7} {'rel err':>7} "
        f"{'settle ms':>9} {'wall s/q':>8}"
    )
    lines = [header, "-" * len(header)]
    for label, c in comparisons.items():
        s = c.summary()
        lines.append(
            f"{label:<22} {s['agreement']:>6.2f} {s.get('accuracy_abstract', float('nan')):>7.2f} "
            f"{s.get('accuracy_spiking', float('nan')):>7.2f} {s['median_relative_error']:>7.3f} "
            f"{s['median_settling_ms']:>9.0f} {s['wall_seconds_per_query']:>8.3f}"
        )
    return "\n".join(lines)


def _compare(args) -> int:
    from .problems import model_problem
    from .spiking import SpikingConfig, compare

    problem = model_problem(
        args.problem or args.model,
        n_memories=args.n_memories,
        n_queries=args.n_queries,
        seed=args.seed,
    )
    config = SpikingConfig(
        mode=args.mode,
        duration=args.duration,
        seed=args.seed,
        neurons_per_memory=args.neurons_per_memory,
        target=args.target,
    )
    result = compare(
        args.model,
        problem.memories,
        problem.queries,
        projection=problem.projection,
        targets=problem.targets,
        truth=problem.truth,
        config=config,
        convention=args.convention,
    )
    print(f"{args.model}: {problem.description}; {args.n_queries} queries")
    print(
        f"{config.mode} mode, T = {1e3 * config.duration:.0f} ms (decoded after "
        f"{1e3 * config.settle:.0f} ms), {config.neurons_per_memory} neuron(s) per memory, "
        f"target {config.target}; build {result.build_seconds:.1f} s, "
        f"run {result.run_seconds:.1f} s\n"
    )
    print(_comparison_table({f"{args.model} / {config.mode}": result}))
    s = result.summary()
    print(
        f"\nagreement where the abstract model is right: "
        f"{s['agreement_where_abstract_correct']:.3f}; paper's SSE criterion: abstract "
        f"{s['sse_accuracy_abstract']:.2f}, spiking {s['sse_accuracy_spiking']:.2f}"
    )
    if result.sweep:
        print("\nT (ms)  agreement  median rel. error")
        for row in result.sweep:
            print(
                f"{1e3 * row['T']:6.0f}  {row['agreement']:9.2f}  "
                f"{row['median_relative_error']:17.4f}"
            )
    if args.out and config.mode != "continuous":
        from .plotting import raster_figure

        print(f"\nfigure: {raster_figure(result, Path(args.out) / f'raster_{args.model}.png')}")
    return 0


def _bench(args) -> int:
    if args.spiking:
        return _bench_spiking(args)
    from .bench import machine_label, retrieval_speedup, run_bench

    if args.quick:
        kw = dict(
            dtypes=("float32",),
            dims=(784,),
            n_memories=(100, 1000),
            n_queries=200,
            loop_queries=10,
            repeats=2,
        )
    else:
        kw = dict(n_memories=tuple(args.n_memories))
    label = machine_label()
    print(f"machine: {label}")
    records = run_bench(progress=(lambda s: print("  " + s, file=sys.stderr)), **kw)
    speed = retrieval_speedup(
        n=1000 if not args.quick else 200, n_queries=200 if args.quick else 1000
    )
    print()
    print(format_table(records))
    n = 200 if args.quick else 1000
    print(
        f"\nfull retrieval (max separation, n={n}, d=784, float32) vs the official code's "
        "per-query loop (scores, one-hot argmax, Mᵀw):"
    )
    for name, r in speed.items():
        print(
            f"  {name:<10} {r['speedup']:5.0f}x faster ({1e6 * r['seconds_per_query']:.1f} vs "
            f"{1e6 * r['loop_seconds_per_query']:.1f} µs per query)"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": label, "records": [r.to_dict() for r in records], "retrieval": speed},
                indent=1,
            )
        )
        print(f"JSON: {args.json}")
    return 0


def _bench_spiking(args) -> int:
    from .bench import machine_label
    from .spiking._bench import run_spiking_bench

    if args.quick:
        kw = dict(n_memories=(20,), n_queries=3, d=64, targets=("numpy",))
    else:
        kw = dict(
            n_memories=tuple(
                args.n_memories if args.n_memories != [100, 1000, 10000] else [100, 1000]
            ),
            n_queries=10,
        )
    label = machine_label()
    print(f"machine: {label}")
    records = run_spiking_bench(progress=lambda s: print("  " + s, file=sys.stderr), **kw)
    print()
    print(format_spiking_table(records))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": label, "spiking": [r.to_dict() for r in records]}, indent=1)
        )
        print(f"JSON: {args.json}")
    return 0


def format_spiking_table(records) -> str:
    lines = [
        "| system | memories | neurons/query | build s | wall s per query per sim. s "
        "| accuracy (abstract) | settling ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        lines.append(
            f"| {r.system} | {r.n_memories} | {r.neurons} | {r.build_seconds:.1f} | "
            f"{r.wall_per_query_per_sim_second:.3f} | {r.accuracy:.2f} "
            f"({r.accuracy_abstract:.2f}) | {r.median_settling_ms:.0f} |"
        )
    return "\n".join(lines)


def format_table(records) -> str:
    """Markdown table of bench records (ratios; times per query in microseconds)."""
    lines = [
        "| dtype | d | n | similarity | µs/query | of matmul | vs loop | vs dot |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in records:
        lines.append(
            f"| {r.dtype} | {r.d} | {r.n_memories} | {r.similarity} | "
            f"{1e6 * r.seconds_per_query:.1f} | {r.of_matmul:.2f} | {r.vs_loop:.0f}x | "
            f"{r.vs_dot:.2f} |"
        )
    return "\n".join(lines)


def _positive_int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas; got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers; got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neuro-uhn", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="store digits, corrupt cues, retrieve with several models")
    demo.add_argument("--n-memories", type=int, default=100)
    demo.add_argument("--sigma", type=float, default=0.3, help="Gaussian noise std")
    demo.add_argument("--mask", type=float, default=0.5, help="fraction of rows masked")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="neuro-uhn-demo", help="folder for the figures")
    demo.add_argument(
        "--spiking-queries",
        type=int,
        default=50,
        help="noisy cues also run through the Brian2 network (0 = none)",
    )
    demo.set_defaults(func=_demo)

    comp = sub.add_parser("compare", help="spiking (Brian2) vs abstract retrieval on one model")
    comp.add_argument("--model", default="uhn_best", help="a bundled model name")
    comp.add_argument(
        "--problem",
        default=None,
        help="bipolar, sdm, keys, digits or patterns (default: the model's own)",
    )
    comp.add_argument("--mode", default="hybrid", choices=["continuous", "hybrid", "spiking"])
    comp.add_argument("--duration", type=float, default=0.5, help="simulated s per query")
    comp.add_argument("--neurons-per-memory", type=int, default=4)
    comp.add_argument("--target", default="numpy", help="Brian2 code-generation target")
    comp.add_argument("--convention", default="standard", choices=["standard", "paper"])
    comp.add_argument("--n-memories", type=int, default=20)
    comp.add_argument("--n-queries", type=int, default=50)
    comp.add_argument("--seed", type=int, default=0)
    comp.add_argument("--out", default="", help="folder for a raster figure ('' = none)")
    comp.set_defaults(func=_compare)

    bench = sub.add_parser("bench", help="batched vs per-query loop vs matmul, as ratios")
    bench.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    bench.add_argument(
        "--spiking",
        action="store_true",
        help="the Brian2 network per target, and nengo_spa if installed",
    )
    bench.add_argument("--n-memories", type=_positive_int_list, default=[100, 1000, 10000])
    bench.add_argument("--json", default="bench.json", help="write results here ('' = don't)")
    bench.set_defaults(func=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as err:
        if args.debug:
            raise
        print(f"neuro-uhn {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""The ``neuro-uhn`` command: ``demo`` (the main job), ``run``, ``figures``, ``compare``, ``bench``.

Help texts are plain text (no reST markup); time estimates come from :mod:`.timings`.

Errors a user can fix are printed as one line and exit with status 2; ``--debug`` shows the
traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

from ..errors import ValidationError
from .timings import estimate

__all__ = ["main"]

DESCRIPTION = (
    "Universal Hopfield Networks from the command line: demo (the main job), compare, "
    "bench, run, figures."
)


#: What ``neuro-uhn demo`` writes into its folder: every run replaces the whole set (a run
#: without the spiking networks removes the previous run's rasters).
DEMO_FIGURES = ("demo.png", "raster.png", "spiking_vs_abstract.png")


def _demo(args) -> int:
    from .._outputs import is_png, output_folder
    from .demo import check_options, run_demo

    # every check first: a command that fails prints nothing and creates nothing
    check_options(args.n_memories, args.sigma, args.mask, args.spiking_queries)
    _check_figure_folder(args.out, "--out", list(DEMO_FIGURES))
    t0 = time.perf_counter()
    print(
        f"neuro_uhn demo: {args.n_memories} scikit-learn digits (8x8) stored; every one "
        f"queried once per corruption (seed {args.seed}); then "
        + (
            f"the first {args.spiking_queries} noisy cues through the spiking networks"
            if args.spiking_queries
            else "no spiking network (--spiking-queries 0)"
        ),
        flush=True,
    )
    with output_folder(args.out) as out:
        result = run_demo(
            n_memories=args.n_memories,
            sigma=args.sigma,
            mask=args.mask,
            seed=args.seed,
            spiking_queries=args.spiking_queries,
            progress=not args.no_progress,
        )
        paths = _demo_report(result, args, out)
    for stale in sorted(set(DEMO_FIGURES) - {p.name for p in paths}):
        if (out / stale).is_file() and is_png(out / stale):
            (out / stale).unlink()  # the previous run's, which this run did not redraw
    print(f"\nfigures: {', '.join(map(str, paths))}   ({time.perf_counter() - t0:.1f} s in all)")
    return 0


def _demo_report(result, args, out: Path) -> list[Path]:
    """The demo's tables on stdout and its figures in ``out``; returns the figures' paths."""
    from .figures import save
    from .plotting import demo_figure

    print(
        "identity = nearest stored memory to the output is the cue's memory; "
        "SSE = the paper's criterion (sum of squared error <= 60 per 784 pixels); "
        "ms = retrieval time, one-off numba compilation excluded\n"
    )
    header = f"{'model':<36} {'corruption':<20} {'identity':>8} {'SSE':>6} {'ms':>8}"
    print(header)
    print("-" * len(header))
    for r in result.rows:
        print(
            f"{r.model:<36} {r.corruption:<20} {r.identity_accuracy:>8.2f} "
            f"{r.sse_accuracy:>6.2f} {1e3 * r.seconds:>8.2f}"
        )
    save(demo_figure(result), out / "demo.png")
    paths = [out / "demo.png"]
    if not result.spiking:
        return paths
    from .demo import demo_config
    from .plotting import raster_figure, spiking_images_figure

    circuit = demo_config("circuit", args.seed)
    print(
        f"\nspiking networks (Brian2) vs abstract model, first {args.spiking_queries} "
        f"noisy cues, {1e3 * circuit.duration:.0f} ms each ({1e3 * circuit.settle:.0f} ms "
        f"settling), {circuit.neurons_per_memory} neurons per memory; 'circuit' is the "
        "neural circuit (LIF neurons, lateral inhibition, z from output neurons), "
        "'hybrid' the rate-model sampler:\n"
    )
    print(_comparison_table({f"{m} / {mode}": c for (m, mode), c in result.spiking.items()}))
    key = ("uhn_best", "circuit")
    decoded = int(result.decoded[key][0])
    fig = raster_figure(
        result.spiking[key],
        decoded=decoded,
        target=0,
        title="uhn_best as a neural circuit: memory populations, query 0 (a noisy cue of "
        "memory 0)",
    )
    save(fig, out / "raster.png")
    noisy = next(c for c in result.examples if c.startswith("gaussian"))
    stored, cues, _ = result.examples[noisy]
    fig = spiking_images_figure(
        result.spiking[key],
        result.image_shape,
        title=f"uhn_best (manhattan / max) as a neural circuit, z read from its output "
        f"neurons: scikit-learn digits, "
        f"N = {result.n_memories} stored, cues with zero-mean Gaussian noise "
        f"σ = {args.sigma} (pixels in [0, 1])",
        stored=stored,
        cues=cues,
    )
    save(fig, out / "spiking_vs_abstract.png")
    return paths + [out / "raster.png", out / "spiking_vs_abstract.png"]


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
    from ..model import load_model
    from ..problems import model_problem
    from ..spiking import SpikingConfig, compare

    load_model(args.model)  # an unknown model is named as such, before anything is built
    if args.out is not None and args.mode == "continuous":
        raise ValidationError(
            "--out is not used in --mode continuous (there are no spikes to draw); leave it out",
            argument="--out",
        )
    if args.out is not None:
        _check_figure_folder(args.out, "--out", [f"raster_{Path(args.model).stem}.png"])
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
    print(f"{args.model}: {problem.description}; {args.n_queries} queries")
    # building (a circuit calibrates on its stored patterns) and simulating take a while:
    # say what is happening before the wait, not after it
    print(
        f"building the {config.mode}-mode network and simulating {args.n_queries} queries × "
        f"{1e3 * config.duration:.0f} ms"
        + (
            f" (the circuit: {estimate('neuro-uhn compare --mode circuit')} on 2 cores at the "
            "default sizes)"
            if config.mode == "circuit"
            else ""
        )
        + " ...",
        file=sys.stderr,
        flush=True,
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
    if args.out is not None and config.mode != "continuous":
        from .. import metrics
        from .._outputs import output_folder
        from .figures import save
        from .plotting import raster_figure

        items = problem.truth if problem.truth is not None else problem.projection
        items = problem.memories if items is None else items
        decoded = int(metrics.nearest_memory(result.z_spiking[:1], items)[0])
        target = None if problem.targets is None else int(problem.targets[0])
        with output_folder(args.out) as out:
            path = out / f"raster_{Path(args.model).stem}.png"
            save(raster_figure(result, decoded=decoded, target=target), path)
        print(f"\nfigure: {path}")
    return 0


def _bench(args) -> int:
    from ..problems import _memory_limit

    need = 8 * 4 * max(args.n_memories) * 3072  # memories, queries, scores: a few copies
    if need > _memory_limit():
        raise ValidationError(
            f"--n-memories {max(args.n_memories)} needs about {need / 2**30:.0f} GiB for the "
            f"3072-feature rows, more than this machine can spare "
            f"({_memory_limit() / 2**30:.1f} GiB): use fewer",
            argument="--n-memories",
        )
    if args.quick and args.n_memories != [100, 1000, 10000]:
        raise ValidationError(
            "--n-memories is not used with --quick (its sizes are fixed); leave one out",
            argument="--n-memories",
        )
    if args.json:
        from .._outputs import check_output, is_our_json

        check_output(args.json, "--json", ours=is_our_json, what="benchmark JSON file")
    if args.spiking:
        return _bench_spiking(args)
    from .bench import machine_label, plain_install_ratio, retrieval_speedup, run_bench

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
    records = run_bench(bar=not args.no_progress, **kw)
    speed = retrieval_speedup(
        n=1000 if not args.quick else 200, n_queries=200 if args.quick else 1000
    )
    plain = plain_install_ratio(n_queries=200 if args.quick else 2000)
    attention = _bench_attention(args.quick)
    print()
    print(format_table(records))
    n = 200 if args.quick else 1000
    print(
        f"\nfull retrieval (max separation, n={n}, d=784, float32) vs the official code's "
        "per-query loop (scores, one-hot argmax, Mᵀw):"
    )
    for name, r in speed.items():
        print(
            f"  {name:<10} {times_faster(r['speedup']):>13} ({1e6 * r['seconds_per_query']:.1f} "
            f"vs {1e6 * r['loop_seconds_per_query']:.1f} µs per query)"
        )
    print(f"\n{format_plain_install(plain)}")
    if attention:
        from .bench import format_attention_table

        print("\nUHN attention (neuro_uhn.nn) vs PyTorch's SDPA, float32, 1 thread, same run:")
        print(format_attention_table(attention))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": label,
                    "records": [r.to_dict() for r in records],
                    "retrieval": speed,
                    "plain_install": plain,
                    "attention": attention,
                },
                indent=1,
            )
        )
        print(f"JSON: {args.json}")
    return 0


def times_faster(speedup: float) -> str:
    """``t(other) / t(ours)`` in words: ``"3.2x faster"``, or ``"8.0x slower"`` below 1."""
    if speedup >= 1:
        return f"{speedup:.1f}x faster"
    return f"{1 / speedup:.1f}x slower" if speedup > 0 else "not measured"


def _bench_attention(quick: bool) -> list:
    """The attention row group (needs the ``torch`` extra; skipped with a note without it)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        from .._extras import install_hint

        print(f"  (attention rows skipped: {install_hint('torch')})", file=sys.stderr)
        return []
    from .bench import run_attention_bench

    shapes = ((1, 2, 128, 128, 32),) if quick else ((2, 4, 256, 256, 64), (2, 4, 1024, 1024, 64))
    return run_attention_bench(
        shapes=shapes,
        repeats=2 if quick else 3,
        threads=1,
        compiled=None if not quick else False,  # quick: no compilation (tens of seconds)
        progress=lambda s: print("  " + s, file=sys.stderr),
    )


def format_plain_install(plain) -> str:
    """The numba-vs-NumPy-fallback line of the benchmark (the README quotes it)."""
    size = f"{plain['n_queries']} queries × {plain['n']} memories × {plain['d']} float32"
    numba = (
        f"with numba {plain['manhattan_numba']:.3f} s ({plain['manhattan_numba_vs_dot']:.1f}x); "
        if "manhattan_numba" in plain
        else "numba not installed; "
    )
    return (
        f"manhattan similarity ({size}) vs dot ({plain['dot']:.3f} s): {numba}"
        f"NumPy fallback (no numba, or NEURO_UHN_KERNELS=off) {plain['manhattan_numpy']:.2f} s "
        f"({plain['manhattan_numpy_vs_dot']:.0f}x)"
    )


def _bench_spiking(args) -> int:
    from .bench import machine_label
    from .spiking_bench import run_spiking_bench

    if args.quick:
        kw = dict(n_memories=(20,), n_queries=3, d=64, targets=("numpy",))
    else:
        kw = dict(
            n_memories=tuple(
                args.n_memories if args.n_memories != [100, 1000, 10000] else [100, 1000]
            ),
            n_queries=10,
        )
    if args.neurons_per_memory is not None:
        kw["neurons_per_memory"] = args.neurons_per_memory
    label = machine_label()
    print(f"machine: {label}")
    records = run_spiking_bench(
        progress=lambda s: print("  " + s, file=sys.stderr),
        show_bar=not getattr(args, "no_progress", False),
        **kw,
    )
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


def _run(args) -> int:
    from ..experiments import ResultStore, run_experiment, summarize, write_csv

    options = dict(
        conventions=args.convention,
        runs=args.runs,
        similarities=args.similarity,
        separations=args.separation,
        n_memories=args.n_memories,
        levels=args.levels,
        threshold=args.threshold,
        models=args.models,
        max_queries=args.max_queries,
    )
    if args.network is not None:  # capacity, noise, mask: the neural circuit too
        options["networks"] = args.network
    # the simulated time per cue, and the part of it at the start that is not read
    timing = {name: value for name, value in (("duration", args.duration),
                                              ("settle", args.settle)) if value is not None}
    if args.experiment == "spiking":
        options["spiking"] = {"mode": args.spiking_mode or "spiking", "duration": 0.3, **timing}
        options["conventions"] = args.convention or ["standard"]
    elif args.experiment in ("circuit", "storage"):
        if args.spiking_mode is not None:
            raise ValidationError(
                f"--spiking-mode is not used by the {args.experiment} experiment (it runs the "
                "circuit); leave it out",
                argument="--spiking-mode",
            )
        if timing:
            options["spiking"] = timing
        options["conventions"] = args.convention or ["standard"]
    elif "circuit" in (args.network or ()) and args.spiking_mode is None:
        if timing:
            options["spiking"] = timing
    else:
        for flag, value in (("--spiking-mode", args.spiking_mode), ("--duration", args.duration),
                            ("--settle", args.settle)):  # fmt: skip
            if value is not None:
                raise ValidationError(
                    f"{flag} is not used by the {args.experiment} experiment (it applies to the "
                    "spiking, circuit and storage experiments only); leave it out",
                    argument=flag,
                )
    if args.parameters is not None:
        options["parameters"] = args.parameters
    _check_run_paths(args)  # before the store is opened or anything is computed
    # the dataset and every option are checked before a store file is created or opened:
    # a command that fails leaves no new store behind
    from ..datasets import load as load_dataset
    from ..experiments import plan

    dataset = load_dataset(args.dataset, seed=args.seed)
    plan(args.experiment, dataset, seed=args.seed, **options)
    store = ResultStore(":memory:" if args.store is None else args.store)
    t0 = time.perf_counter()
    with store:
        sweep = run_experiment(
            args.experiment,
            dataset,
            store=store,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
            seed=args.seed,
            **options,
        )
    ds = sweep.dataset
    print(
        f"neuro-uhn run {args.experiment}: {ds.title if hasattr(ds, 'title') else ds.name}, "
        f"{len(sweep.rows)} cells ({sweep.computed} computed, {sweep.reused} from the store) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    if args.csv is not None:
        write_csv(sweep.rows, args.csv)
        print(f"table: {args.csv}")
    print(_summary_table(summarize(sweep.rows), summarize(sweep.rows, "fraction_identity")))
    return 0


def _check_run_paths(args) -> None:
    """No output of ``run`` may destroy an input, the store, or a file that is not ours."""
    from .._outputs import check_output
    from ..datasets import _is_path
    from ..experiments.store import is_our_csv

    dataset = args.dataset if _is_path(args.dataset) else None
    inputs = [("the dataset file (--dataset)", dataset)]
    if args.store == ":memory:":
        raise ValidationError(
            "--store ':memory:' would keep nothing; give a file name (or leave --store out)",
            argument="--store",
        )
    # given, even empty, a path is checked: "" is refused, never read as "no store"
    if args.store is not None:
        check_output(args.store, "--store", inputs=inputs, what="results store")
    if args.csv is not None:
        check_output(
            args.csv,
            "--csv",
            inputs=inputs
            + [("the results store (--store)", args.store or None)]
            + [
                (f"the results store's {x} file", args.store + x if args.store else None)
                for x in ("-wal", "-shm", "-journal")
            ],
            ours=is_our_csv,
            what="CSV table",
        )


def _check_figure_folder(out: str, option: str, names: list[str]) -> None:
    """``out`` is (or can be made) a folder, and the figures it will hold replace only
    figures. Creates nothing (``output_folder`` does, once every check has passed)."""
    from .._outputs import check_folder, check_output, is_png

    if not out.strip():
        raise ValidationError(
            f"{option} is empty: give a folder for the figures (e.g. {option} figures-out)",
            argument=option,
        )
    if Path(out).exists() and not Path(out).is_dir():
        raise ValidationError(f"{option} {out!r} is a file, not a folder", argument=option)
    check_folder(Path(out), option, out, create=True)
    if Path(out).is_dir():
        for name in names:
            check_output(Path(out) / name, option, ours=is_png, what="PNG figure")


def _summary_table(sse, ident) -> str:
    by_key = {
        tuple(sorted((k, v) for k, v in r.items() if k not in ("mean", "std"))): r for r in ident
    }
    cols = (
        "convention",
        "similarity",
        "separation",
        "association",
        "network",
        "n_memories",
        "corruption",
        "level",
        "threshold",
    )
    # every row names its similarity and separation; the other columns only where they vary
    varying = [c for c in cols if c in ("similarity", "separation") or len({r[c] for r in sse}) > 1]
    single = all(r.get("runs", 1) == 1 for r in sse)  # one run: no spread to print

    def value(r) -> str:
        return f"{r['mean']:.2f}" if single else f"{r['mean']:.2f} ± {r['std']:.2f}"

    widths = {c: max([len(c)] + [len(_fmt(r[c])) for r in sse]) for c in varying}
    w = 6 if single else 13
    head = " ".join(f"{c:>{widths[c]}}" for c in varying) + f" {'SSE ok':>{w}} {'identity':>{w}}"
    lines = [head, "-" * len(head)]
    for r in sse:
        i = by_key.get(tuple(sorted((k, v) for k, v in r.items() if k not in ("mean", "std"))))
        cells = " ".join(f"{_fmt(r[c]):>{widths[c]}}" for c in varying)
        lines.append(f"{cells} {value(r):>{w}} {value(i) if i else '':>{w}}")
    if single:
        lines.append("(one run: no spread; --runs N gives mean ± std over N runs)")
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _figures(args) -> int:
    from .._outputs import output_folder
    from .figures import make_figures

    _check_figure_folder(args.out, "--out", [])
    t0 = time.perf_counter()
    with output_folder(args.out):
        made = make_figures(
            args.out,
            quick=args.quick,
            only=args.only,
            workers=args.workers,
            progress=not args.no_progress,
        )
    for name, paths, seconds in made:
        print(f"{name:<28} {seconds:>7.1f} s  {', '.join(map(str, paths))}")
    print(f"{len(made)} figure scripts in {time.perf_counter() - t0:.1f} s")
    return 0


def _label_list(text: str) -> list[str]:
    from ..experiments import split_labels

    try:
        return split_labels(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _conventions(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",")]
    bad = [v for v in values if v not in ("paper", "standard")]
    if bad:
        raise argparse.ArgumentTypeError(
            f"expected paper, standard or paper,standard; got {text!r}"
        )
    return values


def _float_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas; got {text!r}"
        ) from None
    return values


def _circuit_parameters(text: str) -> dict[str, list[float] | None]:
    """``inhibition=0:0.5:1,tau_m`` → ``{"inhibition": [0, 0.5, 1], "tau_m": None}`` (None:
    the parameter's default values); the experiment checks the names."""
    out: dict[str, list[float] | None] = {}
    for part in text.split(","):
        name, _, values = part.partition("=")
        name = name.strip()
        if name in out:  # the second would silently replace the first
            raise argparse.ArgumentTypeError(
                f"{name!r} is named twice in {text!r}; name each parameter once, with all its "
                f"values: {name}=V1:V2:..."
            )
        try:
            out[name] = [float(v) for v in values.split(":")] if values.strip() else None
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected NAME or NAME=V1:V2:..., separated by commas; got {part!r}"
            ) from None
    return out


def _seed(text: str) -> int:
    from .._validation import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an integer in 0..{MAX_SEED}; got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (>= 1); got {text!r}")
    return value


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


def _named(valid, what: str, paths: str = ""):
    """An argparse type: one of ``valid`` names (or, with ``paths``, an existing file of
    that suffix); a mistyped name gets the closest valid one."""

    def parse(text: str) -> str:
        if text in valid or (paths and text.endswith(paths) and Path(text).exists()):
            return text
        if paths and (text.endswith(paths) or "/" in text or "\\" in text):
            raise argparse.ArgumentTypeError(f"{what} file {text!r} does not exist")
        from .._suggest import did_you_mean

        suffixes = "/".join(paths) if isinstance(paths, tuple) else paths
        also = f", or a path to a {suffixes} file" if paths else ""
        raise argparse.ArgumentTypeError(
            f"unknown {what} {text!r}{did_you_mean(text, valid)}; "
            f"expected one of {', '.join(valid)}{also}"
        )

    return parse


def _names_list(text: str, valid, what: str) -> list[str]:
    names = _label_list(text)
    for name in names:
        _named(valid, what)(name)
    return names


def _figure_names() -> list[str]:
    """``NAME`` of every figure script, read without importing the scripts."""
    import re

    from .figures import figures_dir

    found = []
    for path in sorted(figures_dir().glob("fig*.py")):
        m = re.search(r'^NAME = "([^"]+)"', path.read_text(encoding="utf-8"), re.M)
        if m:
            found.append(m.group(1))
    return found


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in every option's help, except where there is none to show."""

    def _get_help_string(self, action):
        default = action.default
        if default is None or default is False or default in ("", argparse.SUPPRESS):
            return action.help
        if action.required:
            return action.help
        return super()._get_help_string(action)


class _Once(argparse._StoreAction):
    """An option that takes a value, given at most once: argparse keeps the last of
    ``--store a.sqlite --store b.sqlite`` and drops the first without a word."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_neuro_uhn_given", set())
        if self.dest in given:
            parser.error(
                f"{option_string} is given twice ({getattr(namespace, self.dest)!r}, then "
                f"{values!r}); give it once"
            )
        given.add(self.dest)
        super().__call__(parser, namespace, values, option_string)


def _parser(**kwargs) -> argparse.ArgumentParser:
    """An ArgumentParser whose options that take a value refuse to be given twice."""
    parser = argparse.ArgumentParser(formatter_class=_Help, **kwargs)
    parser.register("action", None, _Once)
    parser.register("action", "store", _Once)
    return parser


def _defaults(obj) -> dict:
    """The default of each parameter of a function, or of each field of a dataclass: the CLI
    shows and uses the library's own defaults instead of repeating them."""
    import dataclasses
    import inspect

    if dataclasses.is_dataclass(obj):
        return {
            f.name: f.default
            for f in dataclasses.fields(obj)
            if f.default is not dataclasses.MISSING
        }
    return {
        k: p.default
        for k, p in inspect.signature(obj).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def build_parser() -> argparse.ArgumentParser:
    from ..datasets import DATASET_NAMES
    from ..experiments import EXPERIMENTS
    from ..model import model_names
    from ..problems import PROBLEM_KINDS
    from .figures import DEFAULT_OUT

    models = model_names()
    figure_names = _figure_names()
    parser = _parser(prog="neuro-uhn", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_parser)  # fmt: skip

    def command(name: str, help: str, **kwargs):
        return sub.add_parser(name, help=help, description=kwargs.pop("description", help),
                              **kwargs)  # fmt: skip

    demo = command(
        "demo",
        "store digits, corrupt cues, retrieve with several models, then run 20 cues through "
        f"the spiking networks ({estimate('neuro-uhn demo')} on 2 cores; --spiking-queries 0: "
        f"{estimate('neuro-uhn demo --spiking-queries 0')})",
    )
    from . import demo as demo_module

    demo.add_argument("--n-memories", type=int, default=demo_module.N_MEMORIES,
                      help="digits stored (1..1797)")  # fmt: skip
    demo.add_argument("--sigma", type=float, default=demo_module.SIGMA,
                      help="Gaussian noise std, pixels in [0, 1]")  # fmt: skip
    demo.add_argument("--mask", type=float, default=demo_module.MASK,
                      help="fraction of rows masked")  # fmt: skip
    demo.add_argument("--seed", type=_seed, default=0, help="random seed")
    demo.add_argument("--out", default="neuro-uhn-demo", help="folder for the figures")
    demo.add_argument(
        "--spiking-queries",
        type=int,
        default=demo_module.SPIKING_QUERIES,
        help="noisy cues also run through the Brian2 networks (0 = none)",
    )
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)

    comp = command(
        "compare",
        "spiking (Brian2) vs abstract retrieval on one model "
        f"({estimate('neuro-uhn compare')}; --mode circuit: "
        f"{estimate('neuro-uhn compare --mode circuit')})",
    )
    comp.add_argument(
        "--model",
        default="uhn_best",
        type=_named(models, "model", paths=".toml"),
        help=f"a bundled model ({', '.join(models)}) or a .toml spec file",
    )
    problems = sorted(set(PROBLEM_KINDS.values()) | {"patterns"})
    comp.add_argument(
        "--problem",
        default=None,
        type=_named(problems + models, "problem"),
        help=f"{', '.join(problems)} (default: the model's own)",
    )
    # no Brian2 import: the config module is plain Python
    from ..spiking.config import MODES, TARGETS, SpikingConfig

    spiking = _defaults(SpikingConfig)  # the defaults are SpikingConfig's own
    comp.add_argument("--mode", default=spiking["mode"], choices=list(MODES),
                      help="continuous (the wiring), hybrid/spiking (rate-model samplers) or "
                      "circuit (the neural circuit)")  # fmt: skip
    comp.add_argument("--duration", type=float, default=spiking["duration"],
                      help="simulated s per query")  # fmt: skip
    comp.add_argument("--neurons-per-memory", type=int, default=spiking["neurons_per_memory"],
                      help="Poisson neurons each")  # fmt: skip
    comp.add_argument("--target", default=spiking["target"], choices=list(TARGETS),
                      help="Brian2 code-generation target (auto: cpp_standalone for large "
                      "networks when a compiler is found, else numpy)")  # fmt: skip
    comp.add_argument("--convention", default="standard", choices=["standard", "paper"],
                      help="the textbook formulas or the official code's")  # fmt: skip
    comp.add_argument("--n-memories", type=int, default=20, help="patterns stored")
    comp.add_argument("--n-queries", type=int, default=50, help="cues retrieved")
    comp.add_argument("--seed", type=_seed, default=0, help="random seed")
    comp.add_argument("--out", default=None, help="folder for a raster figure (none if not given)")
    comp.set_defaults(func=_compare)

    bench = command(
        "bench",
        f"batched vs per-query loop vs matmul, as ratios (full: {estimate('neuro-uhn bench')} "
        f"on 2 cores; --quick: {estimate('neuro-uhn bench --quick')})",
    )
    bench.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    bench.add_argument(
        "--spiking",
        action="store_true",
        help="the Brian2 network per target, and nengo_spa if installed",
    )
    bench.add_argument(
        "--neurons-per-memory", type=_positive_int, default=None,
        help="--spiking: neurons per memory on both sides, ours and Nengo's (an equal neuron "
        "budget); default ours 1, Nengo's 50",
    )  # fmt: skip
    bench.add_argument("--n-memories", type=_positive_int_list, default=[100, 1000, 10000],
                       help="memory counts, comma-separated")  # fmt: skip
    bench.add_argument("--json", default="", help="also write the results to this JSON file")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(func=_bench)

    run = command(
        "run",
        "run (or resume) one of the paper's experiments and print/export its table",
        description="Run one experiment as a sweep of cells; with --store, finished cells are "
        "kept and a rerun computes only the missing ones. Experiments: "
        + "; ".join(f"{k} ({e.paper_figure})" for k, e in EXPERIMENTS.items()),
    )
    run.add_argument("experiment", type=_named(list(EXPERIMENTS), "experiment"),
                     help=", ".join(EXPERIMENTS))  # fmt: skip
    run.add_argument(
        "--dataset",
        required=True,
        type=_named(DATASET_NAMES, "dataset", paths=(".npy", ".npz")),
        help=f"{', '.join(DATASET_NAMES)}, or a path to a .npy/.npz array (n, D) in [0, 1]",
    )
    run.add_argument(
        "--convention",
        type=_conventions,
        default=None,
        help="paper, standard or paper,standard (default: both; spiking: standard)",
    )
    from ..experiments import plan

    run.add_argument("--runs", type=int, default=_defaults(plan)["runs"],
                     help="runs on disjoint memory blocks")  # fmt: skip
    run.add_argument("--seed", type=_seed, default=0, help="random seed")
    run.add_argument("--similarity", type=_label_list, default=None,
                     help="e.g. manhattan,dot (default: the experiment's)")  # fmt: skip
    run.add_argument("--separation", type=_label_list, default=None,
                     help="e.g. max,softmax(beta=1000) (default: the experiment's)")  # fmt: skip
    run.add_argument("--n-memories", type=_positive_int_list, default=None, help="e.g. 10,100")
    run.add_argument(
        "--levels",
        type=_float_list,
        default=None,
        help="corruption levels (σ, fractions); the threshold experiment's thresholds",
    )
    run.add_argument(
        "--threshold", type=float, default=None, help="SSE threshold (default: per convention)"
    )
    run.add_argument(
        "--models",
        type=lambda text: _names_list(text, models, "model"),
        default=None,
        help=f"spiking, circuit, storage: bundled model names ({', '.join(models)})",
    )
    # the spiking experiment's defaults, shown here, live in its definition
    sim, most = EXPERIMENTS["spiking"].spiking, EXPERIMENTS["spiking"].extra["max_queries"]
    run.add_argument("--max-queries", type=int, default=None,
                     help=f"queries per cell (spiking: {most}, circuit: "
                          f"{EXPERIMENTS['circuit'].extra['max_queries']}, storage: "
                          f"{EXPERIMENTS['storage'].extra['max_queries']})")  # fmt: skip
    run.add_argument("--spiking-mode", default=None, choices=["hybrid", "spiking"],
                     help=f"spiking: ({sim['mode']})")  # fmt: skip
    circ = EXPERIMENTS["circuit"].spiking["duration"]
    run.add_argument("--duration", type=float, default=None,
                     help=f"spiking, circuit, storage: simulated s per query "
                          f"({sim['duration']}, {circ})")  # fmt: skip
    run.add_argument("--settle", type=float, default=None,
                     help="spiking, circuit, storage: simulated s at the start of each query "
                          "that is not read (circuit: "
                          f"{EXPERIMENTS['circuit'].spiking['settle']})")  # fmt: skip
    run.add_argument("--network", type=lambda text: _names_list(text, ["abstract", "circuit"],
                                                                 "network"),
                     default=None, help="capacity, noise, mask: abstract, circuit or "
                     "abstract,circuit (the neural circuit on the same memories and cues, "
                     "standard convention; --duration, --settle and --max-queries apply; "
                     "default: "
                     "abstract)")  # fmt: skip
    run.add_argument("--parameters", type=_circuit_parameters, default=None,
                     help="circuit, storage: the parameters swept one at a time, NAME or "
                          "NAME=V1:V2:... separated by commas, e.g. inhibition=0:1,tau_m "
                          "(circuit: all at their default values; storage: none, the "
                          "defaults only)")  # fmt: skip
    run.add_argument("--store", default=None, help="SQLite results file (resumable)")
    run.add_argument("--csv", default=None, help="write the tidy table here")
    run.add_argument(
        "--workers", type=_positive_int, default=None, help="local processes (default: CPUs)"
    )
    run.add_argument(
        "--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786"
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    figs = command(
        "figures",
        "regenerate the figures (paper's and spiking ones; full: "
        f"{estimate('neuro-uhn figures')} on 2 cores, --quick: "
        f"{estimate('neuro-uhn figures --quick')})",
    )
    figs.add_argument("--quick", action="store_true", help="small sweeps, titles say QUICK")
    figs.add_argument(
        "--only",
        type=_label_list,  # checked by make_figures (an error naming the closest figure)
        default=None,
        help=f"figure names, comma-separated: {', '.join(figure_names)} (default: all)",
    )
    figs.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help="folder for the images; the committed set is regenerated only with --out figures",
    )
    figs.add_argument("--workers", type=_positive_int, default=None,
                      help="local processes (default: CPUs)")  # fmt: skip
    figs.add_argument("--no-progress", action="store_true", help="no progress bar")
    figs.set_defaults(func=_figures)
    return parser


def _terminate(signum, frame):
    # a scheduler's SIGTERM ends the run like Ctrl-C: finished cells are already stored
    raise KeyboardInterrupt


def _interrupted(args) -> str:
    """What an interrupt leaves behind: only a sweep with a results file on disk resumes."""
    if args.command == "run" and args.store is not None:
        return f"interrupted; finished cells are in {args.store}, rerun the same command to resume"
    if args.command == "figures":
        return (
            "interrupted; finished cells are in the figures' results store, rerun the same "
            "command to resume"
        )
    if args.command == "run":
        return "interrupted; nothing was kept (pass --store FILE to make a sweep resumable)"
    return "interrupted"


#: OS errors that mean the user's disk or permissions, even without a file name attached
_USER_ERRNOS = {
    getattr(__import__("errno"), n)
    for n in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM")
    if hasattr(__import__("errno"), n)
}


def _is_user_error(err: BaseException) -> bool:
    """Errors a user can fix: the library's own, and OS errors on a path they gave.

    Anything else (an ``IndexError`` from deep inside NumPy, a plain ``ValueError`` the library
    did not raise on purpose) is a bug and keeps its traceback.
    """
    from ..errors import NeuroUHNError
    from ..experiments import StoreError

    if isinstance(err, NeuroUHNError | StoreError):
        return True
    return isinstance(err, OSError) and (err.filename is not None or err.errno in _USER_ERRNOS)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 600 else text[:597] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if args.command in ("run", "figures") and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        from .._config import get_memory_budget

        get_memory_budget()  # a bad NEURO_UHN_MEMORY_BUDGET is reported first, not ignored
        return args.func(args)
    except KeyboardInterrupt:
        print(f"neuro-uhn {args.command}: {_interrupted(args)}", file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug or not _is_user_error(err):
            raise  # a bug: its traceback is what gets it reported and fixed
        print(f"neuro-uhn {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

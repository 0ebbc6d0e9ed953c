"""Run the figure scripts: ``neuro-uhn figures [--quick] [--only NAME]``.

Each figure is one script in the top-level ``figures/`` folder (shipped inside the wheel as
``neuro_uhn/_figures``), with a docstring naming the paper's figure, module constants
``NAME`` and ``PAPER_FIGURE``, and ``make(out_dir, *, quick, store, workers, progress)``
that computes with :mod:`neuro_uhn.experiments` and draws with :mod:`neuro_uhn.plotting`.
This module finds and runs them and holds what they share: which datasets, and sweeps into
panels. Results go to ``<out>/.results/{quick,full}.sqlite``, so a rerun redraws from the
store and an interrupted one resumes.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["figures_dir", "discover", "make_figures", "figure_datasets", "sweep_panels"]


def figures_dir() -> Path:
    """The scripts: ``figures/`` of a source checkout, else the copy inside the package."""
    checkout = Path(__file__).resolve().parents[1] / "figures"
    if any(checkout.glob("fig*.py")):
        return checkout
    return Path(__file__).resolve().parent / "_figures"


def discover() -> dict[str, ModuleType]:
    """``NAME`` → module, for every ``fig*.py`` script (our own code, imported from file)."""
    out = {}
    for path in sorted(figures_dir().glob("fig*.py")):
        spec = importlib.util.spec_from_file_location(f"neuro_uhn_figure_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out[module.NAME] = module
    return out


def make_figures(
    out: str | Path = "figures",
    *,
    quick: bool = False,
    only: list[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> list[tuple[str, list[Path], float]]:
    """Run the scripts (all, or ``only`` these names); returns (name, paths, seconds) each."""
    from .experiments import ResultStore

    scripts = discover()
    if only:
        unknown = [n for n in only if n not in scripts]
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown}; expected names from {list(scripts)}")
        scripts = {n: scripts[n] for n in only}
    out = Path(out)
    (out / ".results").mkdir(parents=True, exist_ok=True)
    made = []
    with ResultStore(out / ".results" / ("quick.sqlite" if quick else "full.sqlite")) as store:
        for name, module in scripts.items():
            t0 = time.perf_counter()
            paths = module.make(out, quick=quick, store=store, workers=workers, progress=progress)
            made.append((name, list(paths), time.perf_counter() - t0))
    return made


def script_main(make) -> None:
    """``python figures/figX.py [--quick] [--out DIR]``: one script on its own."""
    from .experiments import ResultStore

    parser = argparse.ArgumentParser(description=(make.__module__ or "figure"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(figures_dir()))
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    out = Path(args.out)
    (out / ".results").mkdir(parents=True, exist_ok=True)
    with ResultStore(out / ".results" / ("quick.sqlite" if args.quick else "full.sqlite")) as s:
        for p in make(out, quick=args.quick, store=s, workers=args.workers, progress=True):
            print(p)


@functools.lru_cache(maxsize=8)
def _dataset(name: str):
    from . import datasets

    return datasets.load(name)


def figure_datasets(names=("mnist", "cifar10", "tiny_imagenet")) -> list[Any]:
    """The paper's datasets: the real ones where this machine has them, else the labelled
    natural-image stand-ins (their titles say so)."""
    from .datasets import DatasetUnavailable

    out = []
    for name in names:
        try:
            out.append(_dataset(name))
        except DatasetUnavailable:
            if name in ("cifar10", "tiny_imagenet"):
                out.append(_dataset(f"{name}_standin"))
            else:
                raise
    return out


def sweep_panels(
    experiment: str,
    *,
    quick: bool,
    quick_options: dict[str, Any],
    store,
    workers,
    progress,
    datasets: list[Any] | None = None,
    row: tuple[str, ...] = ("convention",),
    **options: Any,
) -> list[dict[str, Any]]:
    """Run ``experiment`` on each dataset and split the summaries into figure panels.

    One column per dataset, one row per value of the ``row`` columns (the convention by
    default). ``quick_options`` replace ``options`` in quick mode.
    """
    from .experiments import run_experiment, summarize

    panels = []
    for ds in datasets or figure_datasets():
        kwargs = {**options, **(quick_options if quick else {})}
        sweep = run_experiment(
            experiment, ds, store=store, workers=workers, progress=progress, **kwargs
        )
        correct = summarize(sweep.rows)
        identity = summarize(sweep.rows, "fraction_identity")
        keys = list(dict.fromkeys(tuple(r[c] for c in row) for r in correct))
        for key in keys:

            def pick(rows, key=key):
                return [r for r in rows if tuple(r[c] for c in row) == key]

            panels.append(
                {
                    "row": " · ".join(
                        f"{c} {v}" if c != "convention" else f"{v} convention"
                        for c, v in zip(row, key)
                    ),
                    "col": ds.title,
                    "correct": pick(correct),
                    "identity": pick(identity),
                }
            )
    return panels

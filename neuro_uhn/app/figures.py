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
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import ValidationError

__all__ = [
    "DEFAULT_OUT",
    "QUICK_IMAGES",
    "SIMILARITY_NAMES",
    "discover",
    "figure_datasets",
    "figures_dir",
    "save",
    "make_figures",
    "script_main",
    "sweep_panels",
]


def figures_dir() -> Path:
    """The scripts: ``figures/`` of a source checkout, else the copy inside the package."""
    package = Path(__file__).resolve().parents[1]  # neuro_uhn/
    checkout = package.parent / "figures"
    if any(checkout.glob("fig*.py")):
        return checkout
    return package / "_figures"


def save(fig, path, *, compact: bool = False, dpi: int = 120):
    """Write ``fig`` to ``path`` (folders made as needed); returns ``path``.

    Saving and the PNG's size live here, in the application, not in the plotting functions.
    ``compact``: a line plot as a 256-colour PNG (about a third of the size, no visible
    change).
    """
    import io

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not compact:
        fig.savefig(path, dpi=dpi)
        return path
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format="png")
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        ).save(path, optimize=True)
    return path


def discover() -> dict[str, ModuleType]:
    """``NAME`` → module, for every ``fig*.py`` script (our own code, imported from file)."""
    out = {}
    for path in sorted(figures_dir().glob("fig*.py")):
        spec = importlib.util.spec_from_file_location(f"neuro_uhn_figure_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out[module.NAME] = module
    return out


#: Where ``neuro-uhn figures`` writes unless told otherwise: a folder of its own, never the
#: committed ``figures/`` (regenerate those only with an explicit ``--out figures``).
DEFAULT_OUT = "neuro-uhn-figures"

#: Legend names of the similarities: which function each name is in each convention.
SIMILARITY_NAMES = {
    "euclidean": "euclidean — paper: 1/Σ(m−q)²; standard: −‖m−q‖₂",
    "manhattan": "manhattan — paper: 1/Σ|m−q|; standard: −Σ|m−q|",
    "dot": "dot — paper: L1-normalised ⟨m/Σm, q/Σq⟩; standard: raw m·q",
    "kl": "kl — paper: 1/KL, ε = 1e-4 in the logs; standard: −KL, smoothed (ε = 1e-6)",
    "reverse_kl": "reverse_kl — paper: 1/KL(q‖m), ε = 1e-4; standard: −KL(q‖m), smoothed",
    "js": "js — paper: the official harmonic mean of KL and reverse KL; standard: true −JS",
}


def make_figures(
    out: str | Path = DEFAULT_OUT,
    *,
    quick: bool = False,
    only: list[str] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> list[tuple[str, list[Path], float]]:
    """Run the scripts (all, or ``only`` these names); returns (name, paths, seconds) each."""
    scripts = discover()
    if only:
        unknown = [n for n in only if n not in scripts]
        if unknown:
            from .._suggest import did_you_mean

            hints = "".join(did_you_mean(n, scripts) for n in unknown)
            raise ValidationError(
                f"unknown figure(s) {unknown}{hints}; expected names from {list(scripts)}",
                argument="only",
            )
        scripts = {n: scripts[n] for n in only}
    return _run(scripts, Path(out), quick=quick, workers=workers, progress=progress)


#: Every quick-mode figure's title starts with this.
QUICK_TITLE = "QUICK RUN (2 runs, few points: checks the pipeline, not for reading numbers)\n"


def _run(scripts, out: Path, *, quick, workers, progress) -> list[tuple[str, list[Path], float]]:
    from contextlib import nullcontext

    from ..experiments import ResultStore
    from .plotting import title_prefix

    (out / ".results").mkdir(parents=True, exist_ok=True)
    made = []
    with ResultStore(out / ".results" / ("quick.sqlite" if quick else "full.sqlite")) as store:
        for name, module in scripts.items():
            t0 = time.perf_counter()
            with title_prefix(QUICK_TITLE) if quick else nullcontext():
                paths = module.make(
                    out, quick=quick, store=store, workers=workers, progress=progress
                )
            made.append((name, list(paths), time.perf_counter() - t0))
    return made


def script_main(module_name: str) -> None:
    """``python figures/figX.py [--quick] [--out DIR] [--workers N]``: one script alone.

    Call as ``figures.script_main(__name__)`` from the script's ``__main__`` block.
    """
    module = sys.modules[module_name]
    parser = argparse.ArgumentParser(
        description=(module.__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sweeps (seconds)")
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help="folder for the images (the committed set: --out figures)",
    )
    parser.add_argument("--workers", type=int, default=None, help="local processes")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    made = _run({module.NAME: module}, Path(args.out), quick=args.quick,
                workers=args.workers, progress=not args.no_progress)  # fmt: skip
    for name, paths, seconds in made:
        print(f"{name}: {seconds:.1f} s  {', '.join(map(str, paths))}")


#: Images loaded per dataset in quick mode: two runs of the largest default block (1000)
#: fit without overlap (a block as large as the dataset would make every run the same).
QUICK_IMAGES = 2000


@functools.lru_cache(maxsize=16)
def _dataset(name: str, n: int | None):
    from .. import datasets

    return datasets.load(name, n=n)


def figure_datasets(names=("mnist", "cifar10", "tiny_imagenet"), *, quick: bool = False):
    """The paper's datasets: the real ones where this machine has them, else the labelled
    natural-image stand-ins (their titles say so). Quick mode keeps the first
    :data:`QUICK_IMAGES` (of the seeded shuffle)."""
    from ..datasets import DatasetUnavailable

    n = QUICK_IMAGES if quick else None
    out = []
    for name in names:
        try:
            out.append(_dataset(name, n))
        except DatasetUnavailable:
            if name in ("cifar10", "tiny_imagenet"):
                out.append(_dataset(f"{name}_standin", n))
            else:
                raise
    return out


_CORRUPTIONS = {
    "random_mask": "random pixels zeroed (prob. p)",
    "inpaint": "inpainting (border p/2 zeroed)",
    "gaussian": "zero-mean noise clip(x + N(0, σ²))",
    "gaussian_folded": "FOLDED noise clip(|x + N(0, σ²)|)",
    "mask_bottom": "round(f·H) rows zeroed",
    "mask_bottom_paper": "H − int(H·(1−f)) rows zeroed (official)",
    "flip": "10 % of bits flipped (bipolar images)",
}


def _row_title(column: str, value) -> str:
    if column == "convention":
        return f"{value} convention"
    if column == "corruption" and value in ("gaussian", "gaussian_folded"):
        return _CORRUPTIONS[value]
    if column == "corruption":
        return _CORRUPTIONS.get(value, value)
    return f"{column} {value}"


def _threshold_note(rows) -> str:
    """Which threshold T each convention used on each dataset (they differ by image size)."""
    found: dict[str, dict[str, float]] = {}
    for r in rows:
        found.setdefault(r["convention"], {}).setdefault(r["title"], r["threshold"])
    if not found:
        return ""
    parts = []
    for convention, by_title in found.items():
        values = ", ".join(f"{title.split(' (')[0]} {t:.3g}" for title, t in by_title.items())
        parts.append(f"{convention}: {values}")
    return "threshold T — " + "; ".join(parts)


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
) -> tuple[list[dict[str, Any]], str]:
    """Run ``experiment`` on each dataset and split the summaries into figure panels.

    One column per dataset, one row per value of the ``row`` columns (the convention by
    default). ``quick_options`` replace ``options`` in quick mode. Returns the panels (for
    :func:`neuro_uhn.app.plotting.sweep_figure`) and a note for the figure: the threshold each
    convention used, and where a dataset was too small for disjoint runs.
    """
    from ..experiments import EXPERIMENTS, run_experiment, summarize

    sweeps_threshold = EXPERIMENTS[experiment].sweeps_threshold
    panels, seen, overlap, dropped = [], [], [], set()
    kwargs = {**options, **(quick_options if quick else {})}
    for ds in datasets or figure_datasets(quick=quick):
        sweep = run_experiment(
            experiment, ds, store=store, workers=workers, progress=progress, **kwargs
        )
        correct = summarize(sweep.rows)
        identity = summarize(sweep.rows, "fraction_identity")
        seen += [{**r, "title": ds.title} for r in correct]
        runs = 1 + max(r["run"] for r in sweep.rows)
        block = max(t.block_size for t in sweep.tasks)
        if len(ds.images) < runs * block:
            overlap.append(f"{ds.title.split(' (')[0]} ({len(ds.images)} images)")
        keys = list(dict.fromkeys(tuple(r[c] for c in row) for r in correct))
        for key in keys:

            def pick(rows, key=key):
                return [r for r in rows if tuple(r[c] for c in row) == key]

            ok = pick(correct)
            if (
                not sweeps_threshold
                and ds.stand_in
                and any(r["convention"] == "standard" for r in ok)
            ):
                # T = 60·D/784 (235, 940) accepts nearly any patch of the same photograph:
                # the criterion does not discriminate there, so its curves are left out
                dropped.add(ds.title.split(" (")[0])
                ok = [r for r in ok if r["convention"] != "standard"]
            panels.append(
                {
                    "row": " · ".join(_row_title(c, v) for c, v in zip(row, key)),
                    "col": ds.title,
                    "correct": ok,
                    "identity": pick(identity),
                }
            )
    notes = [] if sweeps_threshold else [_threshold_note(seen)]
    if dropped:
        notes.append(
            "standard convention on the stand-ins: SSE curves left out — T = 60·D/784 accepts "
            "nearly any patch of the same photograph there; read identity"
        )
    if overlap:
        notes.append(
            f"fewer images than runs × {block} memories, so runs share images: "
            + ", ".join(overlap)
        )
    return panels, "\n".join(n for n in notes if n)

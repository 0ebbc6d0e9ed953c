"""The figure scripts: each is documented and shipped, ``neuro-uhn figures --quick`` makes
every one of them, and a second run redraws from the results store without computing."""

from __future__ import annotations

import ast
import sqlite3
import tomllib
from contextlib import closing
from pathlib import Path

import pytest

from neuro_uhn.app import figures
from neuro_uhn.app.cli import main

SCRIPTS = sorted(figures.figures_dir().glob("fig*.py"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assigned(tree: ast.Module) -> dict[str, ast.expr]:
    return {
        t.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_names_its_figure_and_defines_make(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc, f"{path.name}: no module docstring"
    assigned = _assigned(tree)
    assert {"NAME", "PAPER_FIGURE"} <= set(assigned), path.name
    paper_figure = ast.literal_eval(assigned["PAPER_FIGURE"])
    assert isinstance(paper_figure, str) and paper_figure
    # the docstring says which figure it is: the paper's number, or what kind of figure
    if paper_figure.startswith("Fig."):
        assert paper_figure.split(" (")[0] in doc, path.name
    else:
        assert any(w in doc for w in ("Fig.", "figure", "appendix")), path.name
    make = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "make")
    assert [a.arg for a in make.args.args] == ["out_dir"]
    assert [a.arg for a in make.args.kwonlyargs] == ["quick", "store", "workers", "progress"]
    assert "__main__" in path.read_text(encoding="utf-8"), f"{path.name} cannot run alone"


def test_names_are_unique_and_every_script_ships_in_the_wheel():
    assert len(figures.discover()) == len(SCRIPTS) >= 10
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    table = tomllib.loads(pyproject.read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    shipped = table["force-include"]
    for path in SCRIPTS:
        assert shipped.get(f"figures/{path.name}") == f"neuro_uhn/_figures/{path.name}"


def test_unknown_figure_is_a_one_line_error(tmp_path, capsys):
    assert main(["figures", "--only", "capacity,capacityy", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "capacityy" in err and "'spiking_dynamics'" in err


FIGURES = figures.discover()


def _is_sweep(name: str) -> bool:
    """A figure whose cells go through the results store (run_experiment or sweep_panels)."""
    src = Path(FIGURES[name].__file__).read_text()
    return "run_experiment" in src or "sweep_panels" in src


def test_the_store_backed_figures_are_found():
    assert sum(map(_is_sweep, FIGURES)) >= 8


# one test per figure (not one for the whole command), so that pytest-xdist's workers share
# them: the whole `neuro-uhn figures --quick` in one test took 560 s of CI's critical path
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_quick_figure_is_made_and_a_rerun_computes_nothing(
    name, tmp_path, capsys, monkeypatch, figure_datasets_or_skip
):
    argv = ["figures", "--quick", "--only", name, "--out", str(tmp_path), "--workers", "1"]
    assert main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out
    line = next((ln for ln in out.splitlines() if ln.split()[:1] == [name]), None)
    assert line is not None, f"no output line for figure {name!r}"
    paths = [Path(p) for p in line.split(" s  ", 1)[1].split(", ")]
    assert paths, name
    for p in paths:
        assert p.parent == tmp_path and p.suffix == ".png", p
        data = p.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000, p
    if not _is_sweep(name):
        return
    store = tmp_path / ".results" / "quick.sqlite"
    with closing(sqlite3.connect(store)) as db, db:
        before = db.execute("SELECT key, finished_at FROM results ORDER BY key").fetchall()
    assert before

    # the rerun computes in this process (--workers 1), so a compute would hit this patch
    from neuro_uhn.experiments import runner

    def no_compute(*args, **kwargs):
        raise AssertionError("a cell was computed although the store holds it")

    monkeypatch.setattr(runner, "compute_task", no_compute)
    assert main([*argv, "--no-progress"]) == 0
    with closing(sqlite3.connect(store)) as db, db:
        after = db.execute("SELECT key, finished_at FROM results ORDER BY key").fetchall()
    assert after == before


def test_plot_functions_take_no_path_and_the_one_panel_plot_takes_ax():
    import inspect

    from neuro_uhn.app import plotting

    for name in plotting.__all__:
        params = inspect.signature(getattr(plotting, name)).parameters
        assert "path" not in params, name
    assert "ax" in inspect.signature(plotting.raster_figure).parameters


def test_library_code_never_switches_the_matplotlib_backend():
    package = Path(figures.__file__).resolve().parent
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "matplotlib.use(" not in text and "switch_backend" not in text, path


def test_plots_return_a_figure_keep_the_backend_and_say_quick(tmp_path):
    import matplotlib
    from matplotlib.figure import Figure

    from neuro_uhn.app import plotting

    rows = [
        {"similarity": s, "n_memories": n, "mean": m, "std": 0.0}
        for s, m in (("dot", 0.5), ("manhattan", 0.9))
        for n in (10, 100)
    ]
    panels = [{"row": "standard convention", "col": "MNIST", "correct": rows, "identity": rows}]
    backend = matplotlib.get_backend()
    fig = plotting.sweep_figure(panels, x="n_memories", hue=("similarity",), xlabel="N",
                                suptitle="a title")  # fmt: skip
    assert isinstance(fig, Figure) and matplotlib.get_backend() == backend
    assert not any(tmp_path.iterdir())  # plotting saves nothing: the figure scripts do
    with plotting.title_prefix(figures.QUICK_TITLE):
        fig = plotting.sweep_figure(
            panels, x="n_memories", hue=("similarity",), xlabel="N", suptitle="a title",
        )  # fmt: skip
    assert fig.get_suptitle().startswith("QUICK RUN")
    figures.save(fig, tmp_path / "q.png", compact=True)
    assert (tmp_path / "q.png").read_bytes().startswith(PNG_MAGIC)
    assert not plotting.sweep_figure(panels, x="n_memories", hue=("similarity",), xlabel="N",
                                     suptitle="t").get_suptitle().startswith("QUICK")  # fmt: skip


def _fake_comparison(n_memories=20):
    """A Comparison-shaped record of one cue: memory 7 spikes most, as in a circuit whose
    output neurons still decode memory 0."""
    from types import SimpleNamespace

    import numpy as np

    rng = np.random.default_rng(0)
    memory = np.concatenate([np.full(30, 7), np.full(20, 0), rng.integers(0, n_memories, 10)])
    times = np.sort(rng.uniform(0.0, 0.2, len(memory)))
    counts = np.bincount(memory, minlength=n_memories).astype(float)
    sweep = [{"T": t, "agreement": a, "median_relative_error": e}
             for t, a, e in ((0.1, 0.9, 0.2), (0.2, 1.0, 0.1))]  # fmt: skip
    return SimpleNamespace(
        run=SimpleNamespace(spikes=[(memory, times)], counts=counts[None]),
        config=SimpleNamespace(settle=0.05, duration=0.2, mode="circuit"),
        sweep=sweep,
        settling_time=np.array([0.06]),
    )


def _red_rows(ax):
    return {int(y) for line in ax.get_lines() if line.get_color() == "C3" for y in line.get_ydata()}


def test_the_raster_marks_the_decoded_memory_and_says_so():
    from neuro_uhn.app import plotting

    fig = plotting.raster_figure(_fake_comparison(), decoded=0, target=0)
    ax = fig.axes[0]
    assert _red_rows(ax) == {0}  # the decoded memory, not the one that spiked most (7)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("decoded: memory 0" in t for t in labels)
    assert any("the cue's memory: 0" in t for t in labels)
    assert "most spikes: memory 7" in ax.get_title()


def test_without_the_decoded_memory_the_raster_names_what_it_marks():
    from neuro_uhn.app import plotting

    ax = plotting.raster_figure(_fake_comparison()).axes[0]
    assert _red_rows(ax) == {7}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("most spikes after settling: memory 7" in t for t in labels)
    assert not any(t.startswith("decoded") for t in labels)


def test_axes_that_count_things_have_whole_number_ticks():
    from neuro_uhn.app import plotting

    fig = plotting.raster_figure(_fake_comparison(n_memories=13))
    ticks = fig.axes[0].yaxis.get_major_locator().tick_values(-0.5, 12.5)
    assert all(float(t).is_integer() for t in ticks)
    panels = [{"row": "r", "col": "c",
               "correct": [{"n_memories": n, "mean": 0.5, "std": 0.1, "similarity": "dot"}
                           for n in (10, 20, 30)],
               "identity": []}]  # fmt: skip
    fig = plotting.sweep_figure(panels, x="n_memories", hue=("similarity",), xlabel="N",
                                suptitle="t")  # fmt: skip
    ticks = fig.axes[0].xaxis.get_major_locator().tick_values(10, 30)
    assert all(float(t).is_integer() for t in ticks)


def test_coinciding_convergence_lines_stay_distinguishable():
    from neuro_uhn.app import plotting

    comps = {k: _fake_comparison() for k in ("a", "b", "c")}
    fig = plotting.spiking_dynamics_figure(comps, title="t", decoded={"a": 0, "b": 7, "c": 0})
    agree = fig.axes[3]  # the agreement panel: every curve is 0.9 then 1.0
    lines = [ln for ln in agree.get_lines() if ln.get_label() in comps]
    styles = {(ln.get_marker(), ln.get_linestyle()) for ln in lines}
    assert len(styles) == 3  # no two drawn alike
    widths = [ln.get_linewidth() for ln in lines]
    assert widths == sorted(widths, reverse=True)  # earlier lines wider, underneath
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "decoded memory (nearest stored memory to the output)" in legend  # not "memory 0"
    assert [ax.get_title() for ax in fig.axes[:3]] == [
        "a, cue 0: decoded memory 0", "b, cue 0: decoded memory 7", "c, cue 0: decoded memory 0"
    ]  # fmt: skip

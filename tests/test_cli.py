"""The neuro-uhn command: the demo (main job) and the benchmark run end to end."""

import json

import numpy as np
import pytest

from neuro_uhn.app.cli import main
from neuro_uhn.app.demo import run_demo


@pytest.mark.slow
def test_demo_prints_a_table_and_saves_the_figure(tmp_path, capsys):
    argv = ["demo", "--n-memories", "60", "--spiking-queries", "4", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "manhattan / max (uhn_best)" in out and "identity" in out
    assert "uhn_best / circuit" in out and "mchn / circuit" in out and "uhn_best / hybrid" in out
    for name in ("demo.png", "raster.png", "spiking_vs_abstract.png"):
        png = tmp_path / name
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_prints_agreement_and_the_t_sweep(tmp_path, capsys):
    argv = [
        "compare",
        "--model",
        "attention",
        "--mode",
        "spiking",
        "--duration",
        "0.2",
        "--n-queries",
        "8",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "agreement where the abstract model is right" in out and "T (ms)" in out
    assert (tmp_path / "raster_attention.png").is_file()


def test_demo_reproduces_the_papers_ranking():
    """Distances beat the raw dot product on noisy digits (the paper's headline)."""
    result = run_demo(n_memories=100, seed=3)
    acc = {(r.model, r.corruption): r.identity_accuracy for r in result.rows}
    noise = next(c for _, c in acc if c.startswith("gaussian"))
    assert acc[("manhattan / max (uhn_best)", noise)] > acc[("dot / max", noise)] + 0.3
    assert acc[("euclidean / max", noise)] > acc[("dot / max", noise)] + 0.3
    assert all(0 <= r.identity_accuracy <= 1 and 0 <= r.sse_accuracy <= 1 for r in result.rows)


def test_bench_quick_writes_consistent_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["machine"] and all(r["speedup"] > 0 for r in data["retrieval"].values())
    names = {r["similarity"] for r in data["records"]}
    assert names == {"dot", "cosine", "euclidean", "hamming", "kl", "reverse_kl", "manhattan", "js"}
    for r in data["records"]:
        # our batched scores equal the per-query loop's on the timed queries
        assert r["max_abs_error"] < (2e-3 if r["dtype"] == "float32" else 1e-9), r
        assert r["of_matmul"] > 0 and r["vs_loop"] > 0 and np.isfinite(r["vs_dot"])
    captured = capsys.readouterr()
    assert "| dtype | d | n | similarity |" in captured.out
    # the plain-install line: Manhattan with and without numba against the dot product
    plain = data["plain_install"]
    assert plain["manhattan_numpy"] > 0 and plain["dot"] > 0
    assert plain["manhattan_numpy_vs_dot"] == pytest.approx(plain["manhattan_numpy"] / plain["dot"])
    assert "NumPy fallback" in captured.out
    assert "bench:" in captured.err and "<" in captured.err  # the progress bar, with an ETA


@pytest.mark.slow
def test_spiking_bench_quick_reports_a_row_per_system(tmp_path, capsys):
    path = tmp_path / "spiking.json"
    assert main(["bench", "--spiking", "--quick", "--json", str(path)]) == 0
    rows = json.loads(path.read_text())["spiking"]
    systems = {r["system"] for r in rows}
    assert {"neuro_uhn numpy hybrid", "neuro_uhn numpy spiking"} <= systems
    assert all(r["wall_per_query_per_sim_second"] > 0 and 0 <= r["accuracy"] <= 1 for r in rows)
    assert "wall s per query per sim. s" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--n-memories", "0"], "'n_memories' must be in 1..1797"),
        (["demo", "--sigma", "-1"], "'sigma' must be a number >= 0"),
        (["demo", "--mask", "2"], "'mask' must be in [0, 1]"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_option_values_are_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bench", "--n-memories", "10,x"])
    assert info.value.code == 2
    assert "expected integers separated by commas" in capsys.readouterr().err


def test_help_shows_defaults_and_valid_names(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "hopfield" in out and "uhn_best" in out and "(default: uhn_best)" in out
    with pytest.raises(SystemExit):
        main(["figures", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "spiking_dynamics" in out and "(default: neuro-uhn-figures)" in out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "tiny_imagenet_standin" in out and "(default: 5)" in out and "(default: 0)" in out


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["compare", "--model", "hopfeld"], "did you mean 'hopfield'?"),
        (["run", "capcity", "--dataset", "digits"], "did you mean 'capacity'?"),
        (["run", "noise", "--dataset", "mnits"], "did you mean 'mnist'?"),
        (["figures", "--only", "separaton", "--out", "{tmp}"], "did you mean 'separation'?"),
    ],
)
def test_unknown_names_suggest_the_closest(argv, hint, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    assert hint in capsys.readouterr().err


def test_single_run_table_has_no_spread_and_names_each_rows_functions(capsys):
    argv = ["run", "mask", "--dataset", "digits", "--runs", "1", "--levels", "0.5",
            "--similarity", "manhattan,dot", "--workers", "1", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "± 0.00" not in out and "one run: no spread" in out
    table = out[out.index("similarity") :].splitlines()
    assert "separation" in table[0]
    rows = [ln for ln in table[2:] if ln.strip() and not ln.startswith("(")]
    assert len(rows) == 4 and all("max" in ln for ln in rows)
    assert sum("manhattan" in ln for ln in rows) == 2


def test_figures_default_to_their_own_folder():
    from neuro_uhn.app.cli import build_parser

    args = build_parser().parse_args(["figures", "--quick"])
    assert args.out == "neuro-uhn-figures" and args.out != "figures"


def test_demo_header_comes_first_and_times_exclude_compilation(tmp_path, capsys):
    argv = ["demo", "--n-memories", "30", "--spiking-queries", "0", "--out", str(tmp_path)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("neuro_uhn demo: 30 scikit-learn digits")
    assert "one-off numba compilation excluded" in captured.out
    assert "demo:" in captured.err  # the progress bar


def test_help_shows_the_librarys_own_defaults(capsys):
    from neuro_uhn.app.cli import build_parser
    from neuro_uhn.spiking import SpikingConfig

    parser = build_parser()
    args = parser.parse_args(["compare"])
    cfg = SpikingConfig()
    assert (args.mode, args.duration, args.target) == (cfg.mode, cfg.duration, cfg.target)
    assert args.neurons_per_memory == cfg.neurons_per_memory
    with pytest.raises(SystemExit):
        parser.parse_args(["compare", "--help"])
    assert f"(default: {cfg.target})" in capsys.readouterr().out


def test_one_function_gives_the_papers_threshold():
    from neuro_uhn.experiments import default_threshold
    from neuro_uhn.metrics import paper_threshold

    assert paper_threshold(784) == 60.0 and paper_threshold(3072) == 60.0 * 3072 / 784
    assert paper_threshold(3072, "paper") == 60.0
    assert paper_threshold(3072, "paper", per_size=True) == 60.0 * 784 / 3072
    assert default_threshold("capacity", "paper", 3072) == paper_threshold(
        3072, "paper", per_size=True
    )
    assert default_threshold("mask", "standard", 64) == paper_threshold(64)


# --- values are never replaced or dropped silently -----------------------------------------


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--store", ""], "--store is empty: give a file name"),
        (["--store", " "], "--store is empty: give a file name"),
        (["--csv", ""], "--csv is empty: give a file name"),
        (["--store", "{tmp}/a.sqlite", "--store", "{tmp}/b.sqlite"], "--store is given twice"),
        (["--runs", "1", "--runs", "2"], "--runs is given twice (1, then 2); give it once"),
        (["--similarity", "dot", "--similarity", "manhattan"], "--similarity is given twice"),
    ],
)
def test_a_run_option_given_empty_or_twice_is_refused_before_any_work(
    extra, message, tmp_path, capsys, monkeypatch
):
    """``--store ""`` ran without a store and exited 0; a repeated option kept its last
    value."""
    from neuro_uhn.experiments import runner

    monkeypatch.setattr(runner, "_execute", _never_compute)
    extra = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    options = {"--n-memories": "5", "--runs": "1", "--levels": "0.1", "--similarity": "dot"}
    argv = ["run", "noise", "--dataset", "digits", "--no-progress"]
    argv += [x for k, v in options.items() if k not in extra for x in (k, v)]
    monkeypatch.chdir(tmp_path)
    assert _exit_code(argv + extra) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no store, no table


def _never_compute(*args, **kwargs):
    raise AssertionError("a sweep ran for a command that must be refused")


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("inhibition=0,inhibition=1", "'inhibition' is named twice"),
        ("inhibition=0:0.5:0", "'inhibition' has the value 0.0 twice"),
        ("neurons_per_memory=2.5", "'neurons_per_memory' is a count, its values must be whole"),
        ("neurons_per_memory=0", "'neurons_per_memory' is a count, its values must be whole"),
    ],
)
def test_circuit_parameters_named_twice_or_fractional_neurons_are_refused(
    parameters, message, capsys, monkeypatch
):
    from neuro_uhn.experiments import runner

    monkeypatch.setattr(runner, "_execute", _never_compute)
    argv = ["run", "circuit", "--dataset", "digits", "--parameters", parameters, "--no-progress"]
    assert _exit_code(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("experiment", ["circuit", "storage", "spiking"])
def test_max_queries_zero_is_refused_not_read_as_the_default(experiment, capsys, monkeypatch):
    from neuro_uhn import datasets
    from neuro_uhn.experiments import plan, runner

    monkeypatch.setattr(runner, "_execute", _never_compute)
    argv = ["run", experiment, "--dataset", "digits", "--max-queries", "0", "--no-progress"]
    assert _exit_code(argv) == 2
    assert "'max_queries' must be an integer >= 1; got 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'max_queries' must be an integer >= 1; got 0"):
        plan(experiment, datasets.load("digits"), max_queries=0)


@pytest.mark.parametrize("command", [["compare", "--mode", "spiking"], ["demo"], ["figures"]])
def test_an_empty_out_folder_is_refused(command, tmp_path, capsys, monkeypatch):
    """``--out ""`` is not the current folder (nor, for compare, "no figure")."""
    import neuro_uhn.spiking
    from neuro_uhn.app import demo, figures

    monkeypatch.setattr(demo, "run_demo", _never_compute)
    monkeypatch.setattr(figures, "make_figures", _never_compute)
    monkeypatch.setattr(neuro_uhn.spiking, "compare", _never_compute)
    monkeypatch.chdir(tmp_path)
    assert _exit_code([*command, "--out", ""]) == 2
    assert "--out is empty: give a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
# ------------------------------------------------------------------ what a new user trips on
@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--sigma", "-1"],
        ["demo", "--n-memories", "0"],
        ["demo", "--spiking-queries", "500"],
        ["compare", "--n-memories", "0"],
        ["figures", "--only", "nonsense"],
    ],
    ids=["demo sigma", "demo n", "demo spiking queries", "compare n", "figures only"],
)
def test_a_failed_command_prints_nothing_and_leaves_no_folder(argv, tmp_path, capsys):
    out = tmp_path / "new" / "out"
    assert main([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no header before the error
    assert "error:" in captured.err
    assert not (tmp_path / "new").exists()


def test_demo_without_scikit_learn_names_the_extra_and_leaves_nothing(tmp_path, capsys):
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import importlib.util as u; real = u.find_spec\n"
        "u.find_spec = lambda n, *a: None if n == 'sklearn' else real(n, *a)\n"
        "from neuro_uhn.app.cli import main; sys.exit(main(['demo', '--out', 'figs']))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and 'pip install -e ".[demo]"' in done.stderr
    assert not list(tmp_path.iterdir())


def test_a_demo_rerun_replaces_the_previous_set_of_figures(tmp_path, capsys):
    for name in ("raster.png", "spiking_vs_abstract.png"):  # a previous run's figures
        (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n")
    argv = ["demo", "--n-memories", "20", "--spiking-queries", "0", "--out", str(tmp_path),
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.png"]


def test_a_demo_rerun_keeps_files_that_are_not_its_figures(tmp_path, capsys):
    (tmp_path / "raster.png").write_text("my notes")  # not a PNG: not ours to replace
    argv = ["demo", "--n-memories", "20", "--spiking-queries", "0", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert (tmp_path / "raster.png").read_text() == "my notes"


def test_bench_writes_no_json_unless_asked(tmp_path, monkeypatch):
    from neuro_uhn.app.cli import build_parser

    assert build_parser().parse_args(["bench"]).json == ""


@pytest.mark.parametrize(("speedup", "text"), [(8.0, "8.0x faster"), (0.124, "8.1x slower"),
                                               (1.0, "1.0x faster")])  # fmt: skip
def test_bench_says_slower_when_it_is_slower(speedup, text):
    from neuro_uhn.app.cli import times_faster

    assert times_faster(speedup) == text


def test_bench_prints_each_result_once(tmp_path, capsys, monkeypatch):
    from neuro_uhn.app import bench

    calls = {}
    real = bench.run_bench

    def small(**kw):
        calls.update(kw)
        return real(**{**kw, "dims": (64,), "n_memories": (50,), "n_queries": 20})

    monkeypatch.setattr(bench, "run_bench", small)
    monkeypatch.setattr(
        bench,
        "retrieval_speedup",
        lambda **kw: {
            "dot": {"speedup": 0.125, "seconds_per_query": 8e-6, "loop_seconds_per_query": 1e-6}
        },
    )
    monkeypatch.setattr(bench, "plain_install_ratio", lambda **kw: {
        "dot": 1.0, "manhattan_numpy": 3.0, "manhattan_numpy_vs_dot": 3.0, "n": 1, "d": 1,
        "n_queries": 1})  # fmt: skip
    monkeypatch.setattr("neuro_uhn.app.cli._bench_attention", lambda quick: [])
    assert main(["bench", "--quick"]) == 0
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert both.count("| float32 | 64 | 50 | manhattan |") == 1  # the table, and only it
    assert "manhattan:" not in both  # no per-cell result lines beside the table
    assert "8.0x slower" in captured.out and "0x faster" not in captured.out


def test_help_is_plain_text_with_the_one_set_of_time_estimates(capsys):
    from neuro_uhn.app.timings import TIMES

    texts = []
    for argv in ([], ["demo"], ["compare"], ["bench"], ["run"], ["figures"]):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        texts.append(" ".join(capsys.readouterr().out.split()))
    assert not any("``" in t or ":func:" in t for t in texts)
    top = texts[0]
    for command in ("neuro-uhn demo", "neuro-uhn bench", "neuro-uhn figures"):
        assert TIMES[command] in top
    assert TIMES["neuro-uhn demo --spiking-queries 0"] in top


def test_compare_says_what_it_does_before_the_wait(capsys, monkeypatch):
    import neuro_uhn.spiking as spiking

    seen = {}

    def compare(*args, **kwargs):  # stands in for the long build and run
        seen["stderr before"] = capsys.readouterr().err
        raise KeyboardInterrupt

    monkeypatch.setattr(spiking, "compare", compare)
    assert main(["compare", "--mode", "circuit"]) == 130
    assert "building the circuit-mode network" in seen["stderr before"]


def test_the_demo_progress_bar_weighs_each_step_by_its_time(monkeypatch):
    """The spiking networks take most of the demo's time, so they carry most of the bar: its
    ETA no longer reads 00:00 before a 20-s circuit step."""
    import neuro_uhn._progress as progress
    import neuro_uhn.spiking as spiking
    from neuro_uhn.app import demo

    bars = []

    class Recorder:
        def __init__(self, *args, total=None, **kwargs):
            self.total, self.steps, self.labels = total, [], []
            bars.append(self)

        def set_postfix_str(self, text, refresh=True):
            self.labels.append(text)

        def update(self, n=1):
            self.steps.append((self.labels[-1], n))

        def close(self):
            pass

    def compare(name, M, Q, **kwargs):
        from types import SimpleNamespace

        return SimpleNamespace(z_spiking=M[: len(Q)])

    monkeypatch.setattr(progress, "tqdm", Recorder)
    monkeypatch.setattr(spiking, "compare", compare)
    result = demo.run_demo(n_memories=20, spiking_queries=20, progress=True)
    [bar] = bars
    assert sum(n for _, n in bar.steps) == pytest.approx(bar.total)
    spiking_share = sum(n for label, n in bar.steps if label.startswith("spiking")) / bar.total
    assert spiking_share > 0.8
    assert all("(about" in label for label in bar.labels if label.startswith("spiking"))
    assert set(result.decoded) == set(demo.DEMO_NETWORKS)

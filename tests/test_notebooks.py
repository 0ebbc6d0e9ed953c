"""The notebooks: stored without outputs, defining nothing reusable, and executing cleanly in
quick mode (``NEURO_UHN_QUICK=1``) on a kernel that runs this interpreter."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01_tour",
    "02_spiking_vs_abstract",
    "03_reproduce_a_figure",
    "04_latent_and_attention",
    "05_plasticity",
]
NOTEBOOKS = [NOTEBOOK_DIR / f"{name}.ipynb" for name in EXPECTED]
QUICK_LINE = 'QUICK = os.environ.get("NEURO_UHN_QUICK") == "1"'


def _code_cells(path: Path) -> list:
    book = nbformat.read(path, as_version=4)
    return [c for c in book.cells if c.cell_type == "code"]


def test_the_three_notebooks_are_there():
    assert sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=EXPECTED)
def test_stored_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    assert book.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(book.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} is stored with outputs"
            assert cell.execution_count is None, f"cell {i} is stored with an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=EXPECTED)
def test_defines_nothing_and_imports_the_package(path):
    cells = _code_cells(path)
    imports_package = False
    for i, cell in enumerate(cells):
        assert not re.search(r"^(async\s+def|def|class)\s", cell.source, re.M), (
            f"code cell {i} defines a function or class: put reusable code in the package"
        )
        tree = ast.parse(cell.source)  # also: every cell is plain Python (no magics)
        assert not [
            n
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neuro_uhn"):
                imports_package = True
            if isinstance(node, ast.Import) and any(a.name == "neuro_uhn" for a in node.names):
                imports_package = True
    assert imports_package
    assert QUICK_LINE in cells[0].source, "the first code cell reads the quick-mode variable"


def _kernel_manager(tmp_path: Path):
    """A kernel that runs *this* interpreter (the test's environment), whatever "python3"
    resolves to among the machine's installed kernelspecs."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    spec_dir = tmp_path / "kernels" / "neuro-uhn-test"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "neuro_uhn tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="neuro-uhn-test", kernel_spec_manager=specs)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=EXPECTED)
def test_executes_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("NEURO_UHN_QUICK", "1")  # before the kernel starts: it inherits it
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend
    temp = tmp_path / "temp"  # the kernel's temp folder: ours must be gone when it stops
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    book = nbformat.read(path, as_version=4)
    book.cells.append(  # which interpreter and mode the kernel really ran
        nbformat.v4.new_code_cell(
            "import os, sys\nprint(sys.executable, os.environ['NEURO_UHN_QUICK'])"
        )
    )
    workdir = tmp_path / "run"  # the notebooks' working directory: must stay empty
    workdir.mkdir()
    client = nbclient.NotebookClient(
        book,
        km=_kernel_manager(tmp_path),
        timeout=120,  # per cell
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    # cleanup_kc: shut the kernel down and close every channel afterwards, error or not
    # (nbclient leaves a kernel it was handed running, with its zmq sockets open)
    client.execute(cleanup_kc=True)  # raises CellExecutionError, with the traceback
    errors = [
        o for c in book.cells if c.cell_type == "code" for o in c.outputs
        if o.output_type == "error"
    ]  # fmt: skip
    assert not errors
    warned = [
        o["text"] for c in book.cells if c.cell_type == "code" for o in c.outputs
        if o.output_type == "stream" and o.get("name") == "stderr" and "Warning" in o["text"]
    ]  # fmt: skip
    assert not warned, f"the notebook printed warnings: {warned}"  # e.g. tqdm's IProgress
    check = "".join(o.get("text", "") for o in book.cells[-1].outputs)
    assert check.split() == [sys.executable, "1"]
    images = [
        o for c in book.cells if c.cell_type == "code" for o in c.outputs
        if "image/png" in o.get("data", {})
    ]  # fmt: skip
    assert images, "the notebook shows no figure inline"
    assert not list(workdir.iterdir()), f"the notebook wrote {sorted(workdir.iterdir())}"
    left = sorted(p.name for p in temp.iterdir() if p.name.startswith(("neuro_uhn", "brian_")))
    assert not left, f"the notebook left {left} in the temp folder"

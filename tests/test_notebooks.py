"""The notebooks: stored without outputs, defining nothing reusable, and executing cleanly
in quick mode (``NEURO_UHN_QUICK=1``) with the current interpreter."""

from __future__ import annotations

import ast
import gc
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

# jupyter_client/zmq close their sockets lazily; not ours to fix
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:jupyter_client.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:zmq.*"),
]

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_three_notebooks():
    names = [p.stem for p in NOTEBOOKS]
    assert len(names) >= 3 and any("tour" in n for n in names)
    assert any("spiking" in n for n in names) and any("figure" in n for n in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_clean_and_defines_nothing(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None, "stored with outputs"
        tree = ast.parse(cell.source)
        defined = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defined, "notebooks import from the package; they define nothing"
        assert any(
            isinstance(n, ast.ImportFrom) and (n.module or "").startswith("neuro_uhn")
            or isinstance(n, ast.Import) and any(a.name.startswith("neuro_uhn") for a in n.names)
            for c in book.cells if c.cell_type == "code"
            for n in ast.parse(c.source).body
        )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_executes_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("NEURO_UHN_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(path, as_version=4)
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    # this interpreter (the test's environment), not whatever "python3" means on PATH
    km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    client = nbclient.NotebookClient(
        book, km=km, timeout=240, resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        del client, km
        gc.collect()  # zmq's lazily closed sockets warn here, inside the filtered test
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert not errors

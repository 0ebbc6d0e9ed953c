"""The layout is the architecture: the library never imports the application."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import neuro_uhn

PACKAGE = Path(neuro_uhn.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    package = parts if path.name == "__init__.py" else parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join([*base, *([node.module] if node.module else [])])
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_no_library_module_imports_the_application():
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(
            m for m in _imports(path) if m == "neuro_uhn.app" or m.startswith("neuro_uhn.app.")
        )
        for path in PACKAGE.rglob("*.py")
        if "app" not in path.relative_to(PACKAGE).parts[:1]
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_similarity_does_not_import_paper():
    assert not any("paper" in m for m in _imports(PACKAGE / "similarity.py"))


def test_importing_the_library_loads_neither_the_application_nor_matplotlib():
    code = (
        "import sys, neuro_uhn, neuro_uhn.experiments, neuro_uhn.datasets; "
        "print(sorted(m for m in sys.modules if m.startswith(('neuro_uhn.app', 'matplotlib'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

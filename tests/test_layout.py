"""The layout is the architecture: the library never imports the application."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import neuro_uhn

PACKAGE = Path(neuro_uhn.__file__).resolve().parent


def _imports(path: Path, modules=None) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved). With
    ``modules`` (the package's module names), ``from X import y`` names X.y alone when y is
    a module, X otherwise."""
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
            subs = {f"{mod}.{a.name}" for a in node.names}
            if modules is not None and subs <= set(modules):
                out.update(subs)
            else:
                out.add(mod)
                out.update(subs)
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


def _module_graph() -> dict[str, set[str]]:
    """``{module: neuro_uhn modules it imports}``, imports inside functions included; ``from
    X import y`` counts X, and X.y where y is a module of its own."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path, modules) if m in modules and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    """No module imports (directly or through others) a module that imports it back,
    counting imports inside functions: the packages form layers."""
    assert _cycles(_module_graph()) == []


def test_the_cycle_check_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_private_modules_are_not_imported_across_packages():
    """``pkg/_private.py`` is imported only from within ``pkg`` (its own package)."""
    graph = _module_graph()
    offenders = []
    for name, imported in graph.items():
        for m in imported:
            parts = m.split(".")
            if parts[-1].startswith("_") and parts[-1] != "__init__":
                owner = ".".join(parts[:-1])
                if not (name == owner or name.startswith(owner + ".")):
                    offenders.append((name, m))
    allowed = {  # the library's shared private helpers, used by its own subpackages
        m for m in graph if m.count(".") == 1 and m.split(".")[1].startswith("_")
    }
    assert [(a, b) for a, b in offenders if b not in allowed] == []

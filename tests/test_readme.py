"""The README's two commands for a fresh machine: the first sets up and runs the demo with
only what the demo needs; the second sets up and runs the tests, and is exactly what CI
(``.ci/run``) runs. (Every Python block of the README runs in tests/test_docs.py.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = re.findall(r"^```bash\n(python3 -m venv .*?)\n```", README, re.M | re.S)


def _steps(command: str) -> list[str]:
    return [s.strip() for s in command.split("&&")]


def test_the_readme_gives_two_one_line_commands():
    assert len(COMMANDS) == 2 and all("\n" not in c for c in COMMANDS), COMMANDS
    demo, tests = map(_steps, COMMANDS)
    assert demo[-1] == "neuro-uhn demo" and tests[-1] == "python -m pytest -q -n auto"


def test_the_demo_command_installs_only_the_demo_extra():
    demo = _steps(COMMANDS[0])
    installs = [s for s in demo if s.startswith("pip install")]
    assert installs == ['pip install -e ".[demo]"']
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert [r.split(">")[0] for r in extras["demo"]] == ["scikit-learn"]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    tests = _steps(COMMANDS[1])
    ci_lines = [ln.split("#")[0].strip() for ln in ci.splitlines()]
    ci_steps = [ln.replace("python -m pip", "pip").replace(" --quiet", "") for ln in ci_lines]
    for step in tests[2:]:  # after the venv and its activation (CI's venv has its own name)
        assert step in ci_steps, f"CI does not run {step!r}"
    assert "ruff check ." in ci_steps
    assert any(s.startswith("mkdocs build --strict") or "mkdocs build --strict" in s
               for s in ci_steps)  # fmt: skip


@pytest.mark.slow
def test_the_demo_runs_with_only_what_its_extra_installs(tmp_path):
    """A small demo (abstract models and one spiking cue) with every installed distribution
    outside neuro_uhn's core requirements and the demo extra (and what they require) made
    unimportable: what the first command installs is enough. (Modules such as pytest, which
    Brian2 imports when it finds them, are blocked too: the demo must not need them.)"""
    import json
    import tomllib
    from importlib import metadata

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    allowed = _closure(project["dependencies"] + project["optional-dependencies"]["demo"])
    blocked = sorted(
        module
        for module, dists in metadata.packages_distributions().items()
        if not any(_norm(d) in allowed or _norm(d) == "neuro-uhn" for d in dists)
    )
    assert "torch" in blocked or "torch" not in metadata.packages_distributions()
    # setuptools, in every venv, imports the packages it vendors (Brian2 reaches it through
    # distutils); where another distribution also installed one of them, it comes first
    import importlib.util

    spec = importlib.util.find_spec("setuptools")
    vendor = Path(next(iter(spec.submodule_search_locations))) / "_vendor" if spec else None
    if vendor is not None and vendor.is_dir():
        vendored = {p.name.split("-")[0] for p in vendor.iterdir()}
        blocked = [m for m in blocked if m not in vendored]
    code = (
        "import json, sys\n"
        f"BLOCKED = set(json.loads({json.dumps(json.dumps(blocked))}))\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f'blocked: {name}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from neuro_uhn.app.cli import main\n"
        "sys.exit(main(['demo', '--n-memories', '20', '--spiking-queries', '1', '--out', 'f',"
        " '--no-progress']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [
        "demo.png", "raster.png", "spiking_vs_abstract.png"
    ]  # fmt: skip


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` bring, recursively as installed here (their own
    requirements without extras)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = _norm(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += [Requirement(r) for r in metadata.requires(name) or []]
        except metadata.PackageNotFoundError:
            continue
    return seen

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
    assert demo[-1] == "neuro-uhn demo" and tests[-1] == "python -m pytest -q"


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
def test_the_demo_imports_nothing_its_extra_does_not_install(tmp_path):
    """Run a small demo (abstract models and one spiking cue) and map every module it loaded
    to its distribution: each must be neuro_uhn's core dependency, scikit-learn (the demo
    extra) or a dependency of those."""
    code = (
        "import sys, json\n"
        "from neuro_uhn.app.cli import main\n"
        "main(['demo', '--n-memories', '20', '--spiking-queries', '1', '--out', 'f',"
        " '--no-progress'])\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    import json
    from importlib import metadata

    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    owners = metadata.packages_distributions()
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["demo"]
    allowed = _closure(wanted) | {"neuro-uhn"}
    outside = {}
    for module in loaded:
        for dist in owners.get(module, []):
            if _norm(dist) not in allowed:
                outside[module] = dist
    assert not outside, f"the demo loaded modules its install does not bring: {outside}"


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

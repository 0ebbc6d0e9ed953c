"""Every Python block of README.md runs on its own: a fresh interpreter, an empty folder,
within a few minutes, and leaves that folder empty."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs_alone(index, tmp_path):
    env_dir = tmp_path / "cwd"
    env_dir.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", BLOCKS[index]],
        cwd=env_dir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"README block {index} failed:\n{done.stderr[-3000:]}"
    assert not any(env_dir.iterdir()), f"block {index} wrote {list(env_dir.iterdir())}"

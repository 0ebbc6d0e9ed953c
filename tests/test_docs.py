"""Every Python block of README.md and of the documentation (docs/**/*.md) runs on its own: a
fresh interpreter, an empty folder, within a few minutes, leaving behind only the files the
block itself names. A block preceded by ``<!-- skip: reason -->`` is not run (the reason is
required, and the marker is for blocks that cannot run here, such as a Dask cluster).

Also: the documentation refers to the spiking package only through ``neuro_uhn.spiking``, the
time estimates are :mod:`neuro_uhn.app.timings`' table, and the site's navigation and API
reference cover what they should."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The pages: README.md and the Markdown under docs/ (not through its links to notebooks/
#: and figures/, which have their own tests).
PAGES = [ROOT / "README.md"] + sorted(
    p for p in DOCS.rglob("*.md") if not any(part in ("notebooks", "figures") for part in
                                              p.relative_to(DOCS).parts)
)  # fmt: skip
FENCE = re.compile(r"^(?P<marker><!-- skip: (?P<reason>[^>]*?) -->\n)?```python\n(?P<code>.*?)^```",
                   re.M | re.S)  # fmt: skip


def _blocks() -> list[tuple[str, str, str | None]]:
    """(id, code, skip reason) of every Python block."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start("code"))
            found.append((f"{page.relative_to(ROOT)}:{line}", m["code"], m["reason"]))
    return found


BLOCKS = _blocks()


def test_the_pages_have_python_blocks_and_few_are_skipped():
    readme = [b for b in BLOCKS if b[0].startswith("README.md")]
    assert len(readme) >= 2
    assert len(BLOCKS) >= 12
    skipped = [b for b in BLOCKS if b[2] is not None]
    assert all(reason.strip() for _, _, reason in skipped)
    assert len(skipped) <= 3, [b[0] for b in skipped]


@pytest.mark.parametrize("code", [b[1] for b in BLOCKS], ids=[b[0] for b in BLOCKS])
def test_every_block_is_valid_python(code):
    compile(code, "<block>", "exec")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "reason"), [(b[1], b[2]) for b in BLOCKS], ids=[b[0] for b in BLOCKS]
)
def test_every_block_runs_alone(code, reason, tmp_path):
    if reason is not None:
        pytest.skip(reason)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(tmp_path),
    )
    assert done.returncode == 0, f"the block failed:\n{done.stderr[-3000:]}"
    named = {p.name for p in cwd.iterdir() if f'"{p.name}"' in code or f"'{p.name}'" in code}
    left = sorted(p.name for p in cwd.iterdir() if p.name not in named)
    assert not left, f"the block wrote {left} without naming them"


def _env(tmp_path: Path) -> dict:
    import os

    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    temp = tmp_path / "temp"
    temp.mkdir()
    env["TMPDIR"] = str(temp)
    return env


# ------------------------------------------------------------------------- what docs say
def test_the_docs_use_only_the_public_spiking_package():
    private = re.compile(r"neuro_uhn[./]spiking[./]_\w+")
    for page in PAGES:
        hits = private.findall(page.read_text(encoding="utf-8"))
        assert not hits, f"{page.relative_to(ROOT)} names private spiking modules: {hits}"


def test_time_estimates_come_from_the_one_table():
    from neuro_uhn.app.timings import TIMES, markdown_table

    table = markdown_table()
    for page in (ROOT / "README.md", DOCS / "getting-started.md"):
        assert table in page.read_text(encoding="utf-8"), f"{page.name} lacks the timings table"
    # outside the table, the README and the guides quote no time of a command of their own
    # (the figure index keeps each figure's measured time, a fact of its own)
    for page in (ROOT / "README.md", DOCS / "getting-started.md", ROOT / "notebooks/README.md"):
        text = page.read_text(encoding="utf-8").replace(table, "")
        name = page.relative_to(ROOT)
        for estimate in set(TIMES.values()):
            assert estimate not in text, f"{name} repeats {estimate!r} outside the table"
        loose = re.findall(r"\babout \d+(?:[.–]\d+)? ?(?:s|min|minutes|seconds)\b", text)
        assert not loose, f"{name} quotes times outside the table: {loose}"
    figures = (ROOT / "figures/README.md").read_text(encoding="utf-8")
    assert "neuro-uhn figures --quick" in figures and TIMES["neuro-uhn figures"] not in figures


def test_the_readme_is_a_user_manual():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 150 <= len(text.splitlines()) <= 250
    assert not re.search(r"\bissue[s]? \d+", text, re.I)
    assert not re.search(r"\b[0-9a-f]{7,40}\b", text)  # no commit hashes
    assert "pip install neuro_uhn" not in text  # not on PyPI
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings.index(next(h for h in headings if "et up" in h)) == 0  # set-up first


def test_the_site_lists_every_page_and_documents_public_modules_only():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert str(page.relative_to(DOCS)) in nav, f"{page.name} is not in mkdocs.yml's nav"
    for page in (DOCS / "api").glob("*.md"):
        for target in re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), re.M):
            assert not any(part.startswith("_") for part in target.split(".")), target

"""How long the commands take: the one table every estimate is quoted from.

``neuro-uhn --help`` reads these strings, and README.md and docs/getting-started.md hold this
table (``tests/test_docs.py`` checks their copies against :func:`markdown_table`), so an
estimate is changed here and nowhere else. Each is a wall-clock range measured on
:data:`MACHINE`: the low end with the machine to itself, the high end with other jobs
sharing its cores.
"""

from __future__ import annotations

__all__ = ["MACHINE", "TIMES", "markdown_table", "estimate"]

#: Where the times were measured.
#: (x86 virtual machines, AMD EPYC and Intel Xeon; Python 3.11)
MACHINE = "2 cores"

#: command -> wall-clock time, as every text quotes it.
TIMES: dict[str, str] = {
    "neuro-uhn demo": "30–60 s",
    "neuro-uhn demo --spiking-queries 0": "4–10 s",
    "neuro-uhn compare": "4–10 s",
    "neuro-uhn compare --mode circuit": "35–80 s",
    "neuro-uhn bench --quick": "7–20 s",
    "neuro-uhn bench": "about 9 min",
    "neuro-uhn figures --quick": "4–6 min",
    "neuro-uhn figures": (
        "about 3.5 h (the circuit's validation tables and Fig. 2 in the circuit are most of it; "
        "it resumes)"
    ),
    "NEURO_UHN_QUICK=1 jupyter execute notebooks/NAME.ipynb": "5 s (01) to 1 min (04)",
    "jupyter execute notebooks/NAME.ipynb": "5 s (01) to 8 min (04)",
    "python -m pytest -q -n auto": "13–25 min (30 min or more on one worker)",
}


def estimate(command: str) -> str:
    """The time of ``command`` (a key of :data:`TIMES`), e.g. ``"30–45 s"``."""
    return TIMES[command]


def markdown_table() -> str:
    """The table README.md and docs/getting-started.md carry, exactly."""
    lines = [f"| command | time on {MACHINE} |", "|---|---|"]
    lines += [f"| `{cmd}` | {t} |" for cmd, t in TIMES.items()]
    return "\n".join(lines)

"""``did you mean 'hopfield'?`` for a mistyped name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(name: object, valid: Iterable[str]) -> str:
    """``" (did you mean 'hopfield'?)"`` for the closest valid name, or ``""`` when none is
    close (difflib's ratio ≥ 0.6, case-insensitive)."""
    choices = {str(v).lower(): str(v) for v in valid}
    match = difflib.get_close_matches(str(name).lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {choices[match[0]]!r}?)" if match else ""

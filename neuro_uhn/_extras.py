"""The install command for an optional extra, named the same way in every message.

neuro_uhn is installed from a checkout (it is not on PyPI), so the command is pip's
editable install of the extra, run in the checkout's folder.
"""

from __future__ import annotations

__all__ = ["install_hint"]


def install_hint(extra: str) -> str:
    """``pip install -e ".[torch]"`` (in the neuro_uhn checkout) for ``extra="torch"``."""
    return f'pip install -e ".[{extra}]" in the neuro_uhn checkout'

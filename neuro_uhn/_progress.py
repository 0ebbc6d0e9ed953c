"""Progress bars: tqdm's notebook widget where it can be drawn, its text bar everywhere else.

``tqdm.auto`` picks the widget inside Jupyter, and without ipywidgets installed the widget
cannot be drawn: tqdm then warns "IProgress not found" in every notebook cell that shows a
bar. This picks the widget only when ipywidgets is there.
"""

from __future__ import annotations

import importlib.util

__all__ = ["tqdm"]


def tqdm(*args, **kwargs):
    """A ``tqdm`` progress bar (same arguments): the notebook widget when ipywidgets is
    installed and this runs in Jupyter, the text bar otherwise."""
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm as bar
    else:
        from tqdm.std import tqdm as bar
    return bar(*args, **kwargs)

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


def settle_notebook_tqdm() -> None:
    """Inside a Jupyter kernel without ipywidgets: import ``tqdm.autonotebook`` once with its
    "IProgress not found" warning silenced, so that every later ``from tqdm.auto import
    tqdm`` (code not yet going through :func:`tqdm` above) gets the text bar tqdm falls back
    to anyway, without printing the warning into the notebook. Does nothing elsewhere."""
    import sys

    if "ipykernel" not in sys.modules or "tqdm.autonotebook" in sys.modules:
        return
    if importlib.util.find_spec("ipywidgets") is not None:
        return  # the widget works: nothing to silence
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tqdm.autonotebook  # noqa: F401

"""Helpers shared by tests."""

import numpy as np


def to_xp(xp, a):
    """A NumPy array in namespace ``xp`` (float64 stays float64 on torch)."""
    if xp is np:
        return a
    if xp.__name__.endswith("torch"):
        import torch

        return torch.asarray(a)
    return xp.asarray(a)


def to_np(a):
    from neuro_uhn._xp import to_numpy

    return to_numpy(a)

"""Datasets as float arrays in [0, 1], shape (n, D), in a deterministic order.

This module starts with what ships inside installed packages; the paper's datasets
(MNIST, CIFAR-10, Tiny ImageNet) and their offline stand-ins are added by the experiments
work (issue 4).
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits", "DatasetUnavailable"]


class DatasetUnavailable(RuntimeError):
    """The data is not on this machine; the message says how to get it."""


def load_digits() -> tuple[np.ndarray, tuple[int, ...]]:
    """scikit-learn's 1,797 handwritten digits, 8×8 pixels scaled from 0..16 to [0, 1].

    Returns ``(X, image_shape)`` with ``X`` of shape (1797, 64), float64.
    """
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        raise DatasetUnavailable(
            "the digits dataset ships with scikit-learn, which is not installed: "
            "pip install 'neuro_uhn[datasets]'"
        ) from None
    return sk_digits().data.astype(np.float64) / 16.0, (8, 8)

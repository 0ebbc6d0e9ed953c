"""How retrieval is scored: the paper's squared-error criterion and nearest-memory identity."""

from __future__ import annotations

import numpy as np

from ._validation import _refuse_masked
from .errors import ValidationError
from .similarity import Euclidean

__all__ = [
    "sse_correct",
    "nearest_memory",
    "identity_correct",
    "paper_threshold",
    "PAPER_THRESHOLD",
]

#: The official code's threshold on the sum of squared errors over all pixels (MNIST scale);
#: the paper's threshold-sweep figure marks 50.
PAPER_THRESHOLD = 60.0
_MNIST_FEATURES = 784


def paper_threshold(
    n_features: int, convention: str = "standard", *, per_size: bool = False
) -> float:
    """The squared-error threshold a retrieval of ``n_features`` values is judged by.

    The one place that scales the paper's criterion (60 on 784 MNIST pixels) to a size:

    * ``"standard"``: ``60·D/784``, the same per-pixel mean squared error (0.077) on every
      image size.
    * ``"paper"``: the official code's — 60 on every size, or, with ``per_size`` (its
      ``normalize_error_threshold``, used by the capacity experiment), ``60·784/D``.
    """
    from ._validation import check_choice, check_int

    n_features = check_int(n_features, "n_features", 1)
    check_choice(convention, "convention", ("standard", "paper"))
    if convention == "paper":
        return PAPER_THRESHOLD * _MNIST_FEATURES / n_features if per_size else PAPER_THRESHOLD
    return PAPER_THRESHOLD * n_features / _MNIST_FEATURES


def sse_correct(outputs, targets, threshold: float = PAPER_THRESHOLD) -> np.ndarray:
    """Per query: ``Σ_d (target − output)² <= threshold`` (NaN outputs count as wrong)."""
    _refuse_masked(outputs, "outputs")
    _refuse_masked(targets, "targets")
    Z, T = np.asarray(outputs, dtype=float), np.asarray(targets, dtype=float)
    if Z.shape != T.shape:
        raise ValidationError(f"'outputs' {Z.shape} and 'targets' {T.shape} must have one shape")
    sse = np.sum((T - Z) ** 2, axis=-1)
    return np.where(np.isnan(sse), False, sse <= threshold)


def nearest_memory(outputs, memories) -> np.ndarray:
    """Index of the stored memory closest (Euclidean) to each output; -1 for NaN outputs."""
    _refuse_masked(outputs, "outputs")
    Z = np.atleast_2d(np.asarray(outputs, dtype=float))
    bad = ~np.all(np.isfinite(Z), axis=-1)
    idx = np.argmax(Euclidean(squared=True)(memories, np.where(bad[:, None], 0.0, Z)), axis=-1)
    return np.where(bad, -1, idx)


def identity_correct(outputs, memories, target_index) -> np.ndarray:
    """Per query: the nearest stored memory to the output is the target memory."""
    _refuse_masked(target_index, "target_index")
    return nearest_memory(outputs, memories) == np.asarray(target_index)

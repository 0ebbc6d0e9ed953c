"""Query corruptions, seeded: every function takes a NumPy ``Generator`` or a seed.

The paper's Gaussian noise (official ``gaussian_perturb_image``) is ``clip(|x + N(0, σ²)|, 0, 1)``:
folded and clamped, so it brightens dark pixels on average (σ·√(2/π) ≈ 0.40 at σ = 0.5).
``gaussian_noise(..., kind="zero_mean")`` is the unbiased alternative, ``clip(x + N(0, σ²), 0, 1)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["gaussian_noise", "mask_bottom", "flip_bits"]


def _generator(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _images(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim not in (1, 2):
        raise ValueError(f"'images' must be 1-D or 2-D (n, D); got shape {X.shape}")
    return X


def gaussian_noise(
    images, sigma: float, rng=None, *, kind: Literal["paper", "zero_mean"] = "zero_mean"
) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` and clip to [0, 1].

    ``kind="paper"`` folds the noisy value (absolute value) before clipping, as the
    official code does.
    """
    X = _images(images)
    if not (isinstance(sigma, int | float) and not isinstance(sigma, bool) and sigma >= 0):
        raise ValueError(f"'sigma' must be a number >= 0; got {sigma!r}")
    if kind not in ("paper", "zero_mean"):
        raise ValueError(f"'kind' must be 'paper' or 'zero_mean'; got {kind!r}")
    noisy = X + sigma * _generator(rng).standard_normal(X.shape)
    if kind == "paper":
        noisy = np.abs(noisy)
    return np.clip(noisy, 0.0, 1.0)


def mask_bottom(images, fraction: float, image_shape: tuple[int, ...]) -> np.ndarray:
    """Zero the bottom ``fraction`` of rows of each image (the paper's masking).

    ``image_shape`` is (H, W) or (H, W, C) for rows stored in that (row-major) order; the
    same rows are masked in every channel.
    """
    X = _images(images)
    if not (isinstance(fraction, int | float) and 0 <= fraction <= 1):
        raise ValueError(f"'fraction' must be in [0, 1]; got {fraction!r}")
    if int(np.prod(image_shape)) != X.shape[-1]:
        raise ValueError(
            f"'image_shape' {tuple(image_shape)} has {int(np.prod(image_shape))} pixels but the "
            f"images have {X.shape[-1]} features"
        )
    H = image_shape[0]
    keep = H - int(round(fraction * H))
    out = X.reshape(X.shape[:-1] + tuple(image_shape)).copy()
    out[(slice(None),) * (X.ndim - 1) + (slice(keep, None),)] = 0.0
    return out.reshape(X.shape)


def flip_bits(patterns, fraction: float, rng=None) -> np.ndarray:
    """Flip a random ``fraction`` of the entries of binary {0,1} or bipolar {-1,+1} patterns."""
    X = _images(patterns)
    if not (isinstance(fraction, int | float) and 0 <= fraction <= 1):
        raise ValueError(f"'fraction' must be in [0, 1]; got {fraction!r}")
    bipolar = bool(np.any(X < 0))
    if not (np.all(np.isin(X, (-1.0, 1.0))) if bipolar else np.all(np.isin(X, (0.0, 1.0)))):
        raise ValueError("'patterns' must be binary {0, 1} or bipolar {-1, +1}")
    flip = _generator(rng).random(X.shape) < fraction
    return np.where(flip, -X if bipolar else 1.0 - X, X)

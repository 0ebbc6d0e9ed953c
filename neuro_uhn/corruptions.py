"""Query corruptions, seeded: every function takes a NumPy ``Generator`` or a seed.

The paper's Gaussian noise (official ``gaussian_perturb_image``) is ``clip(|x + N(0, σ²)|, 0, 1)``:
folded and clamped, so it brightens dark pixels on average (σ·√(2/π) ≈ 0.40 at σ = 0.5).
``gaussian_noise(..., kind="zero_mean")`` is the unbiased alternative, ``clip(x + N(0, σ²), 0, 1)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .errors import ValidationError, ValidationTypeError

__all__ = [
    "gaussian_noise",
    "mask_bottom",
    "masked_rows",
    "random_mask",
    "inpaint",
    "flip_bits",
    "to_bipolar",
    "corrupt",
    "CORRUPTIONS",
]


def _generator(rng) -> np.random.Generator:
    """A NumPy ``Generator`` as it is, or a seed (None or an integer in 0..2**32 - 1)."""
    from ._validation import check_seed

    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(check_seed(rng, "rng"))


def _images(X, name: str = "images") -> np.ndarray:
    from ._validation import _refuse_masked, as_float_array, check_finite

    _refuse_masked(X, name)
    X = np.asarray(as_float_array(np.asarray(X) if not isinstance(X, list | tuple) else X, name))
    if X.ndim not in (1, 2) or X.size == 0:
        raise ValidationError(
            f"{name!r} must be 1-D or 2-D (n, D) and not empty; got shape {X.shape}"
        )
    check_finite(X, name, np)
    return X.astype(float, copy=False)


def gaussian_noise(
    images, sigma: float, rng=None, *, kind: Literal["paper", "zero_mean"] = "zero_mean"
) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` and clip to [0, 1].

    ``kind="paper"`` folds the noisy value (absolute value) before clipping, as the
    official code does.
    """
    X = _images(images)
    from ._validation import check_real

    sigma = check_real(sigma, "sigma", 0)
    from ._validation import check_choice

    check_choice(kind, "kind", ("paper", "zero_mean"))
    noisy = X + sigma * _generator(rng).standard_normal(X.shape)
    if kind == "paper":
        noisy = np.abs(noisy)
    return np.clip(noisy, 0.0, 1.0)


def _fraction(fraction, name: str = "fraction") -> float:
    import numbers

    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise ValidationTypeError(f"{name!r} must be a number in [0, 1]; got {fraction!r}")
    if not 0 <= fraction <= 1:
        raise ValidationError(f"{name!r} must be in [0, 1]; got {fraction!r}")
    return float(fraction)


def _as_images(X: np.ndarray, image_shape) -> np.ndarray:
    """View rows as images of ``image_shape``: (H, W) grey or (H, W, C) colour, row-major."""
    from ._validation import check_shape

    shape = check_shape(image_shape, "image_shape")
    if len(shape) not in (2, 3):
        raise ValidationError(f"'image_shape' must be (H, W) or (H, W, C); got {image_shape!r}")
    if int(np.prod(shape)) != X.shape[-1]:
        raise ValidationError(
            f"'image_shape' {shape} has {int(np.prod(shape))} values but the images have "
            f"{X.shape[-1]} features"
        )
    return X.reshape(X.shape[:-1] + shape).copy()


def masked_rows(height: int, fraction: float, kind: str = "standard") -> int:
    """How many bottom rows :func:`mask_bottom` zeroes: ``round(f·H)`` (``"standard"``), or
    ``H − int(H·(1 − f))`` as the official ``mask_continuous_img`` does (``"paper"``: the
    float product truncated, one row more than rounding at f = 0.3, 0.4, 0.8, 0.9 on MNIST)."""
    from ._validation import check_choice

    check_choice(kind, "kind", ("standard", "paper"))
    if kind == "standard":
        return int(round(fraction * height))
    if kind == "paper":
        return height - int(height * (1 - fraction))
    raise ValidationError(f"'kind' must be 'standard' or 'paper'; got {kind!r}")


def mask_bottom(
    images, fraction: float, image_shape: tuple[int, ...], *, kind: str = "standard"
) -> np.ndarray:
    """Zero the bottom ``fraction`` of rows of each image (the paper's masking).

    ``image_shape`` is (H, W) or (H, W, C) for rows stored in that (row-major, channels
    last) order; the same rows are masked in every channel. (The official code reshaped
    channels-last Tiny ImageNet rows as channels-first, masking three stripes instead.)
    ``kind`` picks how the row count is rounded (:func:`masked_rows`): ``"paper"`` zeroes
    exactly the official code's rows.
    """
    X = _images(images)
    fraction = _fraction(fraction)
    out = _as_images(X, image_shape)
    H = out.shape[X.ndim - 1]
    keep = H - masked_rows(H, fraction, kind)
    out[(slice(None),) * (X.ndim - 1) + (slice(keep, None),)] = 0.0
    return out.reshape(X.shape)


def random_mask(images, fraction: float, image_shape: tuple[int, ...], rng=None) -> np.ndarray:
    """Zero each *pixel* (all its channels together) with probability ``fraction``.

    The official ``random_mask_frac_handle_color``: one Bernoulli draw per pixel, so a
    colour pixel is either kept or black, never a changed hue.
    """
    X = _images(images)
    fraction = _fraction(fraction)
    out = _as_images(X, image_shape)
    pixels = out.shape[: X.ndim - 1 + 2]  # (..., H, W)
    drop = _generator(rng).random(pixels) < fraction
    out[drop] = 0.0
    return out.reshape(X.shape)


def inpaint(images, fraction: float, image_shape: tuple[int, ...]) -> np.ndarray:
    """Keep only the centre: zero a frame ``int(H·fraction // 2)`` rows (and the matching
    ``int(W·fraction // 2)`` columns) wide on all four sides (official ``image_inpaint``)."""
    X = _images(images)
    fraction = _fraction(fraction)
    out = _as_images(X, image_shape)
    lead = (slice(None),) * (X.ndim - 1)
    H, W = out.shape[X.ndim - 1], out.shape[X.ndim]
    fh, fw = int(H * fraction // 2), int(W * fraction // 2)
    if fh:
        out[lead + (slice(0, fh),)] = 0.0
        out[lead + (slice(H - fh, None),)] = 0.0
    if fw:
        out[lead + (slice(None), slice(0, fw))] = 0.0
        out[lead + (slice(None), slice(W - fw, None))] = 0.0
    return out.reshape(X.shape)


def to_bipolar(images) -> np.ndarray:
    """Binarise [0, 1] images to bipolar {-1, +1} at 0.5 (ties to +1), for the classical
    Hopfield network. (The official ``binary_to_bipolar`` is ``sign(x − 0.5)``, which maps
    exactly 0.5 to 0.)"""
    X = _images(images)
    return np.where(X >= 0.5, 1.0, -1.0)


def flip_bits(patterns, fraction: float, rng=None) -> np.ndarray:
    """Flip a random ``fraction`` of the entries of binary {0,1} or bipolar {-1,+1} patterns."""
    X = _images(patterns, "patterns")
    fraction = _fraction(fraction)
    bipolar = bool(np.any(X < 0))
    if not (np.all(np.isin(X, (-1.0, 1.0))) if bipolar else np.all(np.isin(X, (0.0, 1.0)))):
        raise ValidationError("'patterns' must be binary {0, 1} or bipolar {-1, +1}")
    flip = _generator(rng).random(X.shape) < fraction
    return np.where(flip, -X if bipolar else 1.0 - X, X)


#: Every corruption by the name the experiments and their tables use, with what it takes.
CORRUPTIONS = {
    "gaussian": "zero-mean Gaussian noise of std `level`, clipped to [0, 1]",
    "gaussian_folded": "the official noise: |x + N(0, level²)| clipped to [0, 1] (biased bright)",
    "mask_bottom": "bottom `level` fraction of rows zeroed (round(level·H) rows)",
    "mask_bottom_paper": "the official masking: the bottom H − int(H·(1 − level)) rows zeroed",
    "random_mask": "each pixel zeroed with probability `level`",
    "inpaint": "a frame of `level`/2 of the height and width zeroed on every side",
    "flip": "a `level` fraction of bipolar/binary entries flipped",
    "none": "the stored pattern itself",
}


#: How each corruption is applied, by the same names: ``(images, level, image_shape, rng)``.
_APPLY = {
    "gaussian": lambda X, level, shape, rng: gaussian_noise(X, level, rng, kind="zero_mean"),
    "gaussian_folded": lambda X, level, shape, rng: gaussian_noise(X, level, rng, kind="paper"),
    "mask_bottom": lambda X, level, shape, rng: mask_bottom(X, level, shape),
    "mask_bottom_paper": lambda X, level, shape, rng: mask_bottom(X, level, shape, kind="paper"),
    "random_mask": lambda X, level, shape, rng: random_mask(X, level, shape, rng),
    "inpaint": lambda X, level, shape, rng: inpaint(X, level, shape),
    "flip": lambda X, level, shape, rng: flip_bits(X, level, rng),
    "none": lambda X, level, shape, rng: np.array(X, copy=True),
}
assert set(_APPLY) == set(CORRUPTIONS)


def corrupt(images, name: str, level: float, image_shape=None, rng=None) -> np.ndarray:
    """The corruption ``name`` (one of :data:`CORRUPTIONS`) of ``images`` at ``level``."""
    if name not in _APPLY:
        from ._suggest import did_you_mean

        raise ValidationError(
            f"unknown corruption {name!r}{did_you_mean(name, _APPLY)}; "
            f"expected one of {sorted(_APPLY)}"
        )
    return _APPLY[name](images, level, image_shape, rng)

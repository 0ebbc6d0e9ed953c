"""Corruptions and scoring used by the demo (and later the experiments)."""

import numpy as np
import pytest

from neuro_uhn import corruptions, metrics


def test_zero_mean_noise_is_unbiased_and_paper_noise_is_folded(rng):
    X = np.full((200, 100), 0.5)
    Z = corruptions.gaussian_noise(X, 0.1, rng)
    assert abs(Z.mean() - 0.5) < 0.005 and Z.min() >= 0 and Z.max() <= 1
    black = np.zeros((200, 100))
    folded = corruptions.gaussian_noise(black, 0.5, rng, kind="paper")
    # |N(0, σ²)| clipped to 1 has mean about σ·sqrt(2/π) = 0.40 (a bit less after clipping)
    assert 0.33 < folded.mean() < 0.40
    np.testing.assert_array_equal(
        corruptions.gaussian_noise(X, 0.3, 7), corruptions.gaussian_noise(X, 0.3, 7)
    )  # seeded


def test_mask_bottom_zeroes_rows_in_every_channel():
    img = np.arange(1, 4 * 2 * 3 + 1, dtype=float).reshape(1, -1) / 24  # (H, W, C) = (4, 2, 3)
    out = corruptions.mask_bottom(img, 0.5, (4, 2, 3)).reshape(4, 2, 3)
    assert np.all(out[2:] == 0) and np.all(out[:2] == img.reshape(4, 2, 3)[:2])
    grey = np.ones((3, 16))
    out = corruptions.mask_bottom(grey, 0.25, (4, 4)).reshape(3, 4, 4)
    assert np.all(out[:, 3] == 0) and np.all(out[:, :3] == 1)
    with pytest.raises(ValueError, match="'image_shape' .* has 12 pixels"):
        corruptions.mask_bottom(grey, 0.5, (3, 4))


def test_flip_bits_flips_the_requested_fraction(rng):
    X = rng.choice([-1.0, 1.0], size=(50, 200))
    Y = corruptions.flip_bits(X, 0.1, rng)
    assert set(np.unique(Y)) <= {-1.0, 1.0}
    assert abs(np.mean(Y != X) - 0.1) < 0.01
    B = (X > 0).astype(float)
    assert set(np.unique(corruptions.flip_bits(B, 0.5, rng))) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="binary"):
        corruptions.flip_bits(X * 0.5, 0.1)


def test_sse_and_identity_criteria():
    M = np.array([[0.0, 0.0], [1.0, 1.0]])
    Z = np.array([[0.1, 0.0], [np.nan, 0.0], [0.9, 0.8]])
    assert metrics.sse_correct(Z, M[[0, 0, 1]], threshold=0.05).tolist() == [True, False, True]
    assert metrics.nearest_memory(Z, M).tolist() == [0, -1, 1]
    assert metrics.identity_correct(Z, M, [0, 0, 1]).tolist() == [True, False, True]

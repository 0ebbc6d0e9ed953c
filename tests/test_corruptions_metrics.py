"""Corruptions and scoring used by the demo and the experiments."""

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


def test_paper_masking_zeroes_the_official_rows():
    # the official mask_continuous_img keeps int(H * (1 - f)) rows: on MNIST (H = 28) one
    # row more than rounding at f = 0.3, 0.4, 0.8 and 0.9 (float truncation: 28 * 0.7 < 19.6)
    img = np.ones((1, 28 * 28))
    differ = []
    for f in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        official = 28 - int(28 * (1 - f))
        out = corruptions.mask_bottom(img, f, (28, 28), kind="paper").reshape(28, 28)
        assert (out.sum(axis=1) == 0).sum() == official
        assert (out[: 28 - official] == 1).all() and (out[28 - official :] == 0).all()
        standard = corruptions.mask_bottom(img, f, (28, 28)).reshape(28, 28)
        if (standard.sum(axis=1) == 0).sum() != official:
            differ.append(f)
    assert differ == [0.3, 0.4, 0.8, 0.9]
    with pytest.raises(ValueError, match="'kind'"):
        corruptions.mask_bottom(img, 0.5, (28, 28), kind="official")


def test_mask_bottom_zeroes_rows_in_every_channel():
    img = np.arange(1, 4 * 2 * 3 + 1, dtype=float).reshape(1, -1) / 24  # (H, W, C) = (4, 2, 3)
    out = corruptions.mask_bottom(img, 0.5, (4, 2, 3)).reshape(4, 2, 3)
    assert np.all(out[2:] == 0) and np.all(out[:2] == img.reshape(4, 2, 3)[:2])
    grey = np.ones((3, 16))
    out = corruptions.mask_bottom(grey, 0.25, (4, 4)).reshape(3, 4, 4)
    assert np.all(out[:, 3] == 0) and np.all(out[:, :3] == 1)
    with pytest.raises(ValueError, match="'image_shape' .* has 12 values"):
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


def test_random_mask_drops_whole_pixels_across_channels(rng):
    X = rng.random((50, 8 * 8 * 3)) + 0.1  # no zero pixels before masking
    Y = corruptions.random_mask(X, 0.3, (8, 8, 3), rng).reshape(50, 8, 8, 3)
    dropped = Y == 0
    # a pixel is dropped in all of its channels or in none
    assert np.array_equal(dropped.all(axis=-1), dropped.any(axis=-1))
    assert abs(dropped[..., 0].mean() - 0.3) < 0.03
    kept = ~dropped
    np.testing.assert_array_equal(Y[kept], X.reshape(50, 8, 8, 3)[kept])


def test_random_mask_is_seeded():
    X = np.ones((4, 36))
    a = corruptions.random_mask(X, 0.5, (6, 6), 3)
    np.testing.assert_array_equal(a, corruptions.random_mask(X, 0.5, (6, 6), 3))
    assert not np.array_equal(a, corruptions.random_mask(X, 0.5, (6, 6), 4))


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.3, 0.5, 0.7, 1.0])
def test_inpaint_keeps_only_the_centre(fraction):
    H, W = 10, 6
    X = np.ones((2, H * W * 3))
    Y = corruptions.inpaint(X, fraction, (H, W, 3)).reshape(2, H, W, 3)
    fh, fw = int(H * fraction // 2), int(W * fraction // 2)
    for i in range(H):  # brute force: a pixel survives iff it is inside the frame
        for j in range(W):
            inside = fh <= i < H - fh and fw <= j < W - fw
            assert np.all(Y[:, i, j] == (1.0 if inside else 0.0)), (i, j)


def test_to_bipolar_thresholds_at_one_half():
    np.testing.assert_array_equal(
        corruptions.to_bipolar([0.0, 0.49, 0.5, 1.0]), [-1.0, -1.0, 1.0, 1.0]
    )


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: corruptions.random_mask(np.ones((2, 9)), 1.5, (3, 3)), ValueError, "fraction"),
        (lambda: corruptions.inpaint(np.ones((2, 9)), "half", (3, 3)), TypeError, "fraction"),
        (lambda: corruptions.inpaint(np.ones((2, 9)), 0.5, (9,)), ValueError, "image_shape"),
        (lambda: corruptions.random_mask(np.ones((2, 9)), 0.5, (2, 2)), ValueError, "9 features"),
    ],
)
def test_mask_arguments_are_checked(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_metrics_refuse_masked_arrays_with_masked_values():
    """A mask would be dropped silently by the arithmetic; refused by name, unless empty."""
    import numpy as np
    import pytest

    from neuro_uhn import metrics

    Z = np.ma.masked_array(np.ones((2, 3)), mask=[[0, 1, 0], [0, 0, 0]])
    M = np.ones((2, 3))
    with pytest.raises(TypeError, match="'outputs' is a masked array"):
        metrics.sse_correct(Z, M)
    with pytest.raises(TypeError, match="'targets' is a masked array"):
        metrics.sse_correct(M, Z)
    with pytest.raises(TypeError, match="'outputs' is a masked array"):
        metrics.nearest_memory(Z, M)
    with pytest.raises(TypeError, match="'target_index' is a masked array"):
        metrics.identity_correct(M, M, np.ma.masked_array([0, 1], mask=[1, 0]))
    clean = np.ma.masked_array(np.ones((2, 3)))  # nothing masked: accepted
    assert metrics.sse_correct(clean, M).all()

"""Welsh et al. 2002 (colorcourse.exemplar_welsh): colors lent by a reference photo."""

import numpy as np
from scipy.ndimage import uniform_filter

from colorcourse.color import lab_to_rgb, rgb_to_gray, rgb_to_lab
from colorcourse.exemplar_welsh import (
    colorize_welsh, jittered_samples, neighbourhood_stats, remap_luminance, transfer_ab,
)


def quadrant_photo(size=64, seed=1):
    """Four regions told apart by their lightness statistics, each its own color: smooth dark red,
    smooth light green, textured mid blue, textured light yellow."""
    rng = np.random.default_rng(seed)
    h = size // 2
    lab = np.zeros((size, size, 3))
    regions = [((slice(0, h), slice(0, h)), 35, 0, (45, 30)), ((slice(0, h), slice(h, None)), 80, 0, (-40, 35)),
               ((slice(h, None), slice(0, h)), 50, 12, (10, -45)), ((slice(h, None), slice(h, None)), 75, 12, (0, 60))]
    for (rows, cols), L, texture, ab in regions:
        patch = lab[rows, cols]
        patch[..., 0] = L + texture * rng.choice([-1.0, 1.0], size=patch.shape[:2])
        patch[..., 1:] = ab
    return lab_to_rgb(lab)


def test_neighbourhood_stats_match_a_direct_window_computation():
    L = np.random.default_rng(0).random((9, 11)) * 100
    stats = neighbourhood_stats(L)
    padded = np.pad(L, 2, mode="symmetric")  # scipy's "reflect" repeats the edge pixel
    y, x = 4, 6
    window = padded[y:y + 5, x:x + 5]
    assert np.isclose(stats[y, x, 0], window.mean()) and np.isclose(stats[y, x, 1], window.std())
    y, x = 0, 0
    window = padded[y:y + 5, x:x + 5]
    assert np.isclose(stats[y, x, 0], window.mean()) and np.isclose(stats[y, x, 1], window.std())
    assert np.allclose(stats[..., 0], uniform_filter(L, 5, mode="reflect"))


def test_luminance_remapping_takes_the_targets_mean_and_spread():
    rng = np.random.default_rng(2)
    ref, target = rng.normal(70, 20, (30, 30)), rng.normal(40, 5, (20, 25))
    out = remap_luminance(ref, target)
    assert np.isclose(out.mean(), target.mean()) and np.isclose(out.std(), target.std())
    assert np.corrcoef(out.ravel(), ref.ravel())[0, 1] > 0.999  # same order of pixels


def test_jittered_samples_are_about_200_one_per_cell_and_seeded():
    ys, xs = jittered_samples((120, 300), 200, seed=3)
    assert 180 <= len(ys) <= 220
    assert ys.min() >= 0 and ys.max() < 120 and xs.min() >= 0 and xs.max() < 300
    assert len(set(zip(ys.tolist(), xs.tolist()))) == len(ys)  # one pixel per cell: no repeats
    again = jittered_samples((120, 300), 200, seed=3)
    assert np.array_equal(ys, again[0]) and np.array_equal(xs, again[1])
    assert not np.array_equal(xs, jittered_samples((120, 300), 200, seed=4)[1])


def test_a_reference_equal_to_the_target_gives_back_its_colors():
    rgb = quadrant_photo()
    gray = rgb_to_gray(rgb)
    ab = transfer_ab(gray, rgb)
    true_ab = rgb_to_lab(rgb)[..., 1:]
    error = np.linalg.norm(ab - true_ab, axis=-1)
    inner = np.ones(gray.shape, bool)
    inner[28:36], inner[:, 28:36] = False, False  # windows that straddle two regions are ambiguous
    assert np.median(error[inner]) < 3.0
    assert np.mean(error[inner] < 10) > 0.9
    # against the gray answer (a*b* = 0) it is a large improvement
    assert np.mean(error[inner]) < 0.2 * np.mean(np.linalg.norm(true_ab, axis=-1)[inner])


def test_a_flat_color_reference_paints_that_color():
    color = np.array([0.75, 0.45, 0.3])  # a mid orange: inside the gamut for mid grays
    reference = np.broadcast_to(color, (40, 50, 3)).copy()
    gray = 0.35 + 0.3 * quadrant_photo()[..., 1]
    ab = transfer_ab(gray, reference)
    assert np.allclose(ab, rgb_to_lab(color)[1:])  # the a*b* copied is exactly the reference's
    out = colorize_welsh(gray, reference)
    hue = np.degrees(np.arctan2(*rgb_to_lab(out)[..., 2:0:-1].transpose(2, 0, 1)))
    want = np.degrees(np.arctan2(rgb_to_lab(color)[2], rgb_to_lab(color)[1]))
    assert np.max(np.abs(hue - want)) < 8.0


def test_the_luminance_is_the_targets_own():
    rgb = quadrant_photo(seed=5)
    gray = rgb_to_gray(rgb)
    reference = quadrant_photo(seed=6)[::-1]  # another photo with other lightness
    out = colorize_welsh(gray, reference)
    assert out.shape == rgb.shape and out.dtype == np.float32
    assert np.max(np.abs(rgb_to_gray(out.astype(np.float64)) - gray)) < 1e-5

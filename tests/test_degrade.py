"""Old-photo degradations: shape, range, identity, monotone strength, seeds, references, errors."""

import numpy as np
import pytest
from scipy import ndimage
from skimage import data

from colorcourse import degrade as dg
from colorcourse.color import rgb_to_gray


@pytest.fixture(scope="module")
def photo():
    """A real gray photo (the cameraman), 128 x 128, float64 in [0, 1]."""
    return data.camera()[::4, ::4] / 255.0


# name -> (identity strength, three increasing strengths); jpeg's strength is its quality.
SWEEPS = {
    "film_grain": (0.0, (0.03, 0.08, 0.2)),
    "blur": (0.0, (0.7, 1.5, 4.0)),
    "fade": (0.0, (0.2, 0.5, 0.9)),
    "sepia": (0.0, (0.3, 0.6, 1.0)),
    "selenium": (0.0, (0.3, 0.6, 1.0)),
    "scratches_and_dust": (0.0, (0.1, 0.4, 1.0)),
    "jpeg_scan": (100, (90, 40, 5)),
}


def test_every_degradation_has_a_sweep_and_a_sane_default():
    assert set(SWEEPS) == set(dg.DEGRADATIONS)
    for name, (function, default) in dg.DEGRADATIONS.items():
        assert callable(function)
        assert default != SWEEPS[name][0], name  # the default does something


@pytest.mark.parametrize("name", sorted(SWEEPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_and_range_are_kept(photo, name, dtype):
    gray = photo.astype(dtype)
    for strength in SWEEPS[name][1]:
        out = dg.degrade(gray, name, strength, seed=1)
        assert out.shape == gray.shape and out.dtype == dtype
        assert out.min() >= 0.0 and out.max() <= 1.0
        assert out is not gray
    # extreme inputs: all black, all white, a hard edge
    for extreme in (np.zeros((20, 30)), np.ones((20, 30)), np.tile(np.r_[np.zeros(15), np.ones(15)], (20, 1))):
        out = dg.degrade(extreme.astype(dtype), name, SWEEPS[name][1][-1], seed=2)
        assert out.shape == (20, 30) and out.dtype == dtype and 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("name", sorted(SWEEPS))
def test_identity_setting_returns_the_input(photo, name):
    identity = SWEEPS[name][0]
    before = photo.copy()
    out = dg.degrade(photo, name, identity, seed=3)
    np.testing.assert_array_equal(photo, before)  # the input is never modified
    if name == "jpeg_scan":  # 8-bit storage and the DCT's rounding: about a gray level at most
        assert np.abs(out - photo).mean() < 0.5 / 255 and np.abs(out - photo).max() <= 2 / 255
    else:
        np.testing.assert_allclose(out, photo, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SWEEPS))
def test_the_effect_grows_with_strength(photo, name):
    identity, strengths = SWEEPS[name]
    diffs = [np.abs(dg.degrade(photo, name, s, seed=5) - photo).mean() for s in (identity, *strengths)]
    assert all(a < b for a, b in zip(diffs, diffs[1:])), diffs
    assert diffs[-1] > 0.005  # the strongest setting is clearly visible, not a rounding effect


def test_blur_matches_scipy_and_removes_high_frequencies(photo):
    for sigma in (0.8, 2.0, 5.0):
        np.testing.assert_allclose(dg.blur(photo, sigma), ndimage.gaussian_filter(photo, sigma), atol=1e-10)
    energy = [ndimage.laplace(dg.blur(photo, s)).var() for s in (0.0, 0.7, 1.5, 4.0)]
    assert all(a > b for a, b in zip(energy, energy[1:])), energy
    assert energy[-1] < 0.05 * energy[0]
    # a blur keeps the mean (mirrored edges lose no light) and a constant image is unchanged
    assert dg.blur(photo, 3.0).mean() == pytest.approx(photo.mean(), abs=1e-3)
    np.testing.assert_allclose(dg.blur(np.full((9, 7), 0.3), 2.0), 0.3, atol=1e-12)


def test_fade_scales_contrast_by_the_expected_factor():
    ramp = np.tile(np.linspace(0.0, 1.0, 64), (8, 1))
    for amount in (0.25, 0.5, 0.8):
        out = dg.fade(ramp, amount)
        assert out.std() == pytest.approx((1 - amount) * ramp.std(), rel=1e-12)
        assert out.min() == pytest.approx(0.5 * amount)  # blacks lifted
        assert out.max() == pytest.approx(1 - 0.5 * amount)  # whites lowered
        assert out.mean() == pytest.approx(ramp.mean())  # a symmetric ramp keeps its mean
    np.testing.assert_allclose(dg.fade(ramp, 1.0), 0.5)
    assert dg.fade(ramp, 0.5, level=0.2).min() == pytest.approx(0.1)


def test_toning_changes_the_tone_curve_through_the_scanner():
    ramp = np.linspace(0.0, 1.0, 101)[None, :]
    for tone in ("sepia", "selenium"):
        rgb = dg.toned_print(ramp, tone, 1.0)
        assert rgb.shape == (1, 101, 3)
        # the scanner's gray of the print is the course's luma of it
        np.testing.assert_allclose(dg.toning_to_gray(ramp, tone, 1.0), rgb_to_gray(rgb), atol=1e-12)
        out = dg.toning_to_gray(ramp, tone, 1.0)
        assert out[0, 0] == pytest.approx(0.0) and out[0, -1] == pytest.approx(1.0)  # black and white stay
        assert np.all(np.diff(out[0]) > 0)  # still a monotone tone curve
    mid = 50
    sepia, selenium = (dg.toned_print(ramp, t, 1.0)[0, mid] for t in ("sepia", "selenium"))
    assert sepia[0] > sepia[1] > sepia[2]  # warm brown: red over blue
    assert selenium[1] < selenium[0] and selenium[1] < selenium[2]  # purple: green lowest
    assert dg.sepia_toning(ramp, 1.0)[0, mid] > 0.5  # sepia lightens the midtones
    assert dg.selenium_toning(ramp, 1.0)[0, mid] < 0.5  # selenium deepens them
    # known value: luma of 0.5 ** gamma per channel
    gammas = dg.TONES["sepia"]
    expected = np.array([0.299, 0.587, 0.114]) @ (0.5 ** gammas)
    assert dg.sepia_toning(ramp, 1.0)[0, mid] == pytest.approx(expected, abs=1e-9)
    half = dg.sepia_toning(ramp, 0.5)[0, mid]
    assert half == pytest.approx(0.5 * 0.5 + 0.5 * expected, abs=1e-9)  # linear in amount


def test_jpeg_low_quality_differs_more_and_shows_blocks(photo):
    errors = {q: np.abs(dg.jpeg_scan(photo, q) - photo).mean() for q in (95, 75, 30, 5)}
    assert errors[95] < errors[75] < errors[30] < errors[5]
    assert errors[5] > 5 * errors[95]
    # a smooth ramp at quality 5 turns into steps along the 8 x 8 grid
    ramp = np.tile(np.linspace(0.2, 0.8, 64), (64, 1))
    coarse = dg.jpeg_scan(ramp, 5)
    steps = np.abs(np.diff(coarse, axis=1)).mean(axis=0)
    assert steps[7::8].mean() > 2 * np.delete(steps, np.s_[7::8]).mean()


def test_grain_depends_on_the_signal_and_the_seed():
    field = np.concatenate([np.full((200, 200), 0.1), np.full((200, 200), 0.8)], axis=1)
    out = dg.film_grain(field, 0.1, seed=0)
    dark, light = (out - field)[:, :200], (out - field)[:, 200:]
    # std = sigma * sqrt(value): 0.1 * sqrt(0.1) = 0.0316, 0.1 * sqrt(0.8) = 0.0894 (no clipping here)
    assert dark.std() == pytest.approx(0.1 * np.sqrt(0.1), rel=0.05)
    assert light.std() == pytest.approx(0.1 * np.sqrt(0.8), rel=0.05)
    assert abs(dark.mean()) < 0.003 and abs(light.mean()) < 0.003
    np.testing.assert_array_equal(dg.film_grain(np.zeros((30, 30)), 0.3, seed=0), 0.0)  # no light, no grain
    # clumped grain: neighbouring pixels correlate, white grain does not
    clumped = dg.film_grain(np.full((200, 200), 0.5), 0.1, seed=0, grain_size=1.5) - 0.5
    white = dg.film_grain(np.full((200, 200), 0.5), 0.1, seed=0) - 0.5
    corr = lambda n: np.corrcoef(n[:, :-1].ravel(), n[:, 1:].ravel())[0, 1]  # noqa: E731
    assert corr(clumped) > 0.5 and abs(corr(white)) < 0.05
    assert clumped.std() == pytest.approx(0.1 * np.sqrt(0.5), rel=0.05)


@pytest.mark.parametrize("name", sorted(dg.SEEDED))
def test_seeded_degradations_are_reproducible(photo, name):
    strength = SWEEPS[name][1][1]
    a = dg.degrade(photo, name, strength, seed=11)
    np.testing.assert_array_equal(a, dg.degrade(photo, name, strength, seed=11))
    assert np.abs(a - dg.degrade(photo, name, strength, seed=12)).mean() > 1e-3
    # a Generator works too, and the same Generator state gives the same damage
    b = dg.degrade(photo, name, strength, seed=np.random.default_rng(4))
    np.testing.assert_array_equal(b, dg.degrade(photo, name, strength, seed=np.random.default_rng(4)))


def test_unseeded_degradations_ignore_the_seed(photo):
    for name in set(dg.DEGRADATIONS) - dg.SEEDED:
        np.testing.assert_array_equal(dg.degrade(photo, name, seed=1), dg.degrade(photo, name, seed=2))


def test_more_scratches_keep_the_earlier_ones(photo):
    light = dg.scratches_and_dust(photo, 0.2, seed=7)
    heavy = dg.scratches_and_dust(photo, 0.8, seed=7)
    damaged = light != photo
    assert damaged.sum() > 50
    # every pixel the light setting touched is touched at the heavy one as well
    assert np.all(heavy[damaged] != photo[damaged])
    # both polarities: bright scratches / specks and dark ones
    assert (heavy - photo).max() > 0.3 and (heavy - photo).min() < -0.3
    # thin lines: some column-ish run of damage taller than any speck (radius <= 2.5)
    only_scratches = dg.scratches_and_dust(np.full((256, 256), 0.5), 1.0, seed=7) != 0.5
    runs = [np.max(np.diff(np.flatnonzero(np.r_[0, col, 0] == 0))) - 1 for col in only_scratches.T]
    assert max(runs) > 20


def test_default_strength_is_used_when_none(photo):
    for name, (function, default) in dg.DEGRADATIONS.items():
        expected = function(photo, default, 0) if name in dg.SEEDED else function(photo, default)
        np.testing.assert_array_equal(dg.degrade(photo, name), expected)


def test_bad_arguments_raise_clear_errors(photo):
    rgb = np.stack([photo] * 3, axis=-1)
    for name in dg.DEGRADATIONS:
        with pytest.raises(ValueError, match="gray image H x W.*rgb_to_gray"):
            dg.degrade(rgb, name, seed=0)
        if name != "jpeg_scan":
            with pytest.raises(ValueError, match=">= 0"):
                dg.degrade(photo, name, -0.1, seed=0)
    with pytest.raises(ValueError, match="unknown degradation 'mold'.*blur"):
        dg.degrade(photo, "mold")
    with pytest.raises(ValueError, match="quality must be an integer from 1 to 100"):
        dg.jpeg_scan(photo, 0)
    with pytest.raises(ValueError, match="quality"):
        dg.jpeg_scan(photo, 101)
    with pytest.raises(ValueError, match="quality"):
        dg.jpeg_scan(photo, 50.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        dg.fade(photo, 1.5)
    with pytest.raises(ValueError, match="unknown tone 'cyanotype'"):
        dg.toning_to_gray(photo, "cyanotype", 0.5)
    with pytest.raises(ValueError, match="floats in \\[0, 1\\].*255"):
        dg.blur((photo * 255).astype(np.uint8), 1.0)
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        dg.blur(photo * 2, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        dg.fade(np.full((4, 4), np.nan), 0.2)
    with pytest.raises(ValueError, match="seed"):
        dg.film_grain(photo, 0.1, seed=-1)
    with pytest.raises(ValueError, match="sigma must be a number"):
        dg.blur(photo, "a lot")

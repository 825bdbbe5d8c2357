"""The fast chroma-gamut conversion gives color.lab_to_rgb's numbers exactly (random, extreme and
real colors, every band size), scikit-image's inside the gamut, and the same through the banded,
threaded lab_to_rgb_chunked."""

import numpy as np
import pytest
import torch
from skimage import color as skcolor
from skimage import data

from colorcourse import color, gamut_fast
from colorcourse.fusion.infer import lab_to_rgb_chunked

EXTREMES = [
    [100, 0, 0], [0, 0, 0], [50, 0, 0], [50, 500, -500], [100, 127, 127], [0, -128, 128],
    [110, 5, 5], [-3, 1, 1], [50, 1e-9, 0], [100, 0, 1e-7], [20, -120, 0], [5, -60, -60],
    [97, -20, 90], [60, 98, -60], [30, 0, -108], [0.5, 80, 80], [99.9, -1e-3, 1e-3],
]


def random_lab(rng, n):
    """Lab over and past the documented ranges: most of it outside sRGB, some L outside [0, 100]."""
    return np.stack([rng.uniform(-5, 105, n), rng.normal(0, 60, n), rng.normal(0, 60, n)], -1)


def test_equals_color_lab_to_rgb_exactly_on_random_and_extreme_colors():
    rng = np.random.default_rng(0)
    lab = random_lab(rng, 40_000).reshape(200, 200, 3)
    lab[0, : len(EXTREMES)] = EXTREMES
    reference = color.lab_to_rgb(lab, gamut="chroma")
    outside = np.any(np.abs(color.lab_to_rgb(lab, gamut="clip") - reference) > 1e-3, axis=-1)
    assert 0.3 < outside.mean() < 0.95  # the test covers both sides of the gamut boundary
    np.testing.assert_array_equal(gamut_fast.lab_to_rgb_chroma(lab), reference)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 127, 1001])
def test_equals_color_lab_to_rgb_at_every_size(n):
    # the matrix product runs through BLAS kernels chosen by size: each must give color's numbers
    lab = random_lab(np.random.default_rng(n), n)
    np.testing.assert_array_equal(gamut_fast.lab_to_rgb_chroma(lab), color.lab_to_rgb(lab))
    np.testing.assert_array_equal(gamut_fast.lab_to_rgb_chroma(lab[None]), color.lab_to_rgb(lab[None]))


def test_equals_color_lab_to_rgb_on_a_real_photos_colors_made_vivid():
    rgb = data.astronaut()[::4, ::4] / 255.0
    lab = color.rgb_to_lab(rgb)
    for gain in (1.0, 1.5, 3.0):  # a chroma gain as the colorizers apply it, up to far outside sRGB
        vivid = lab * np.array([1.0, gain, gain])
        np.testing.assert_array_equal(gamut_fast.lab_to_rgb_chroma(vivid), color.lab_to_rgb(vivid))


def test_matches_scikit_image_inside_the_gamut():
    rgb = np.random.default_rng(1).random((64, 48, 3))
    lab = skcolor.rgb2lab(rgb)
    np.testing.assert_allclose(gamut_fast.lab_to_rgb_chroma(lab), skcolor.lab2rgb(lab), atol=1e-6)
    np.testing.assert_allclose(gamut_fast.lab_to_rgb_chroma(lab), rgb, atol=1e-6)


def test_outside_the_gamut_keeps_lightness_and_hue_and_fits():
    lab = random_lab(np.random.default_rng(2), 2000)
    lab[:, 0] = np.clip(lab[:, 0], 1, 99)
    rgb = gamut_fast.lab_to_rgb_chroma(lab)
    assert rgb.min() >= 0 and rgb.max() <= 1
    back = color.rgb_to_lab(rgb)
    np.testing.assert_allclose(back[:, 0], lab[:, 0], atol=1e-3)
    chroma_in, chroma_out = np.hypot(*lab[:, 1:].T), np.hypot(*back[:, 1:].T)
    assert np.all(chroma_out <= chroma_in + 1e-3)  # shrunk, never grown
    turn = np.angle(np.exp(1j * (np.arctan2(back[:, 2], back[:, 1]) - np.arctan2(lab[:, 2], lab[:, 1]))))
    assert np.abs(turn[chroma_out > 5]).max() < 1e-2  # the hue kept (where there is hue left to measure)


@pytest.mark.parametrize("threads", [1, 2])
def test_banded_conversion_equals_color_module_exactly(threads):
    rng = np.random.default_rng(3)
    lab = random_lab(rng, 37 * 53).reshape(37, 53, 3).astype(np.float32)  # float32, as the colorizers give it
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for rows in (7, 16, 128):
            out = lab_to_rgb_chunked(lab, "chroma", rows=rows)
            assert out.dtype == np.float32
            np.testing.assert_array_equal(out, color.lab_to_rgb(lab).astype(np.float32))
        np.testing.assert_array_equal(lab_to_rgb_chunked(lab, "clip", rows=7),
                                      color.lab_to_rgb(lab, "clip").astype(np.float32))
    finally:
        torch.set_num_threads(before)


def test_refuses_arrays_without_three_channels():
    with pytest.raises(ValueError, match="3 channels"):
        gamut_fast.lab_to_rgb_chroma(np.zeros((4, 2)))

"""Cheng features: patch and DAISY at every pixel, checked against direct slicing and skimage."""

import numpy as np
import pytest
from skimage import data
from skimage.feature import daisy

from colorcourse.cheng.features import (
    GrayImageError,
    check_gray,
    daisy_features,
    feature_dims,
    patch_features,
    pixel_features,
)
from colorcourse.color import rgb_to_gray


@pytest.fixture(scope="module")
def gray():
    return rgb_to_gray(data.astronaut()[100:164, 150:230] / 255.0).astype(np.float32)  # 64 x 80


@pytest.fixture(scope="module")
def big_gray():
    return rgb_to_gray(data.astronaut()[100:196, 150:250] / 255.0).astype(np.float32)  # 96 x 100


def test_patch_matches_direct_slices_including_borders(gray):
    feats = patch_features(gray)
    assert feats.shape == gray.shape + (49,)
    padded = np.pad(gray, 3, mode="reflect")
    for y, x in [(0, 0), (0, 79), (63, 40), (10, 3), (33, 77)]:
        expected = padded[y : y + 7, x : x + 7].ravel()
        np.testing.assert_array_equal(feats[y, x], expected)
    # the centre of the patch is the pixel itself
    np.testing.assert_array_equal(feats[..., 24], gray)


def test_daisy_interior_equals_skimage_on_unpadded_image(big_gray):
    gray, r = big_gray, 8
    ours = daisy_features(gray, radius=r)
    assert ours.shape == gray.shape + (32,)
    ref = daisy(gray, step=1, radius=r, rings=1, histograms=3, orientations=8)
    # skimage's descriptor (i, j) belongs to pixel (i + r, j + r). DAISY smooths its orientation
    # maps over the whole image, so the padding changes descriptors near the old border only:
    # 2 r further in, they must agree.
    ours_at_ref = ours[r : r + ref.shape[0], r : r + ref.shape[1]]
    m = 2 * r
    np.testing.assert_allclose(ours_at_ref[m:-m, m:-m], ref[m:-m, m:-m], atol=1e-5)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, atol=1e-4)  # l1-normalised everywhere


def test_pixel_features_groups_and_dims(gray):
    sem = np.random.default_rng(0).dirichlet(np.ones(33), size=gray.shape).astype(np.float32)
    full = pixel_features(gray, semantic=sem)
    assert full.shape == gray.shape + (114,) == gray.shape + (feature_dims(("patch", "daisy", "semantic")),)
    assert pixel_features(gray, groups=("patch",)).shape[-1] == 49
    assert pixel_features(gray, groups=("daisy", "patch")).shape[-1] == 81
    np.testing.assert_array_equal(full[..., 81:], sem)
    with pytest.raises(ValueError, match="semantic"):
        pixel_features(gray)  # semantic group without maps
    with pytest.raises(ValueError, match="unknown feature group"):
        pixel_features(gray, groups=("patch", "sift"))


def test_bad_inputs_have_clear_errors():
    with pytest.raises(GrayImageError, match="color image"):
        check_gray(np.zeros((32, 32, 3)))
    with pytest.raises(GrayImageError, match="smaller than"):
        patch_features(np.zeros((5, 40)))
    with pytest.raises(GrayImageError, match=r"\[0, 1\]"):
        check_gray(np.full((16, 16), 200.0))
    with pytest.raises(GrayImageError, match="NaN"):
        check_gray(np.full((16, 16), np.nan))

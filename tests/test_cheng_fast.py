"""The pipeline's fast paths equal the library calls they replace, and the pipeline's output equals
what it was with those calls (tolerance: 1e-4 in U and V, whose range is about +-0.6)."""

import numpy as np
import pytest
from scipy import ndimage
from skimage import data
from skimage.feature import daisy
from skimage.transform import resize

from colorcourse.cheng import bilateral, fast, features
from colorcourse.color import rgb_to_gray
from colorcourse.paths import models_dir

UV_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def gray():
    return rgb_to_gray(resize(data.astronaut() / 255.0, (96, 120), anti_aliasing=True)).astype(np.float32)


@pytest.mark.parametrize("sigma", [1.0, 3.0, 4.0, 12.0])
def test_gaussian_filter_equals_scipy(gray, sigma):
    ref = ndimage.gaussian_filter(gray, sigma, mode="reflect")
    np.testing.assert_allclose(fast.gaussian_filter(gray, sigma), ref, atol=2e-6)


@pytest.mark.parametrize("sigma", [1.0, 3.0])
def test_gradient_magnitude_equals_scipy(gray, sigma):
    ref = ndimage.gaussian_gradient_magnitude(gray, sigma, mode="reflect")
    np.testing.assert_allclose(fast.gaussian_gradient_magnitude(gray, sigma), ref, atol=2e-6)


def test_gaussian_kernel_rejects_bad_arguments():
    with pytest.raises(ValueError, match="positive"):
        fast.gaussian_kernel(0.0)
    with pytest.raises(ValueError, match="order"):
        fast.gaussian_kernel(1.0, order=2)


@pytest.mark.parametrize("radius", [5, 15])
def test_dense_daisy_equals_skimage(gray, radius):
    ref = daisy(gray, step=1, radius=radius, rings=1, histograms=3, orientations=8, normalization="l1")
    ours = fast.dense_daisy(gray, radius)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_dense_daisy_on_a_flat_image_spreads_nothing():
    # no gradient anywhere: skimage's arctan2(0, 0) = 0 convention, and a uniform histogram after
    # the L1 normalisation of the 1e-10 floor
    out = fast.dense_daisy(np.full((40, 40), 0.5, np.float32), 5)
    np.testing.assert_allclose(out, 1 / 32, atol=1e-6)
    with pytest.raises(ValueError, match="larger than twice"):
        fast.dense_daisy(np.zeros((20, 20), np.float32), 10)


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_joint_bilateral_filter_equals_the_lessons_filter(gray, channels):
    src = np.random.default_rng(channels).normal(0, 0.1, gray.shape + (channels,)).astype(np.float32)
    ref = bilateral.joint_bilateral_filter(src, gray, 3.0, 0.08)
    np.testing.assert_allclose(fast.joint_bilateral_filter(src, gray, 3.0, 0.08), ref, atol=1e-5)
    np.testing.assert_allclose(fast.joint_bilateral_filter(src[..., 0], gray, 3.0, 0.08), ref[..., 0], atol=1e-5)


def _reference_calls(monkeypatch):
    """Put the library calls the fast paths replaced back into the pipeline."""
    monkeypatch.setattr(fast, "gaussian_filter", lambda img, s: ndimage.gaussian_filter(img, s, mode="reflect"))
    monkeypatch.setattr(fast, "gaussian_gradient_magnitude",
                        lambda img, s: ndimage.gaussian_gradient_magnitude(img, s, mode="reflect"))
    monkeypatch.setattr(features, "dense_daisy", lambda img, r, histograms, orientations: daisy(
        img, step=1, radius=r, rings=1, histograms=histograms, orientations=orientations,
        normalization="l1").astype(np.float32))
    monkeypatch.setattr(fast, "joint_bilateral_filter", bilateral.joint_bilateral_filter)


@pytest.mark.skipif(not (models_dir() / "cheng_clusters.safetensors").is_file(), reason="Cheng models not shipped")
def test_pipeline_output_equals_the_reference_calls(monkeypatch):
    from colorcourse.cheng.pipeline import ChengColorizer

    colorizer = ChengColorizer(refine=True, clustering=True)
    grays = [rgb_to_gray(resize(p / 255.0, (80, 104), anti_aliasing=True)).astype(np.float32)
             for p in (data.coffee(), data.chelsea())]
    fast_uv = [colorizer.predict(g)[0] for g in grays]
    batch_uv = [uv for uv, _ in colorizer.predict_many(grays, workers=2)]
    with monkeypatch.context() as m:
        _reference_calls(m)
        reference_uv = [colorizer.predict(g)[0] for g in grays]
    for ours, batch, ref in zip(fast_uv, batch_uv, reference_uv):
        np.testing.assert_array_equal(batch, ours)  # threads change nothing
        assert np.abs(ours - ref).max() < UV_TOLERANCE


def test_pixel_features_written_in_place_equal_the_concatenated_groups(gray):
    semantic = np.random.default_rng(0).dirichlet(np.ones(5), size=gray.shape).astype(np.float32)
    parts = [features.patch_features(gray), features.daisy_features(gray), semantic]
    expected = np.concatenate(parts, axis=-1)
    np.testing.assert_array_equal(features.pixel_features(gray, features.FEATURE_GROUPS, semantic), expected)
    np.testing.assert_array_equal(features.pixel_features(gray, ("daisy", "semantic"), semantic), expected[..., 49:])


@pytest.mark.parametrize("band_rows", [1, 7, 64])
def test_feature_bands_cover_the_image_with_the_same_features(gray, band_rows):
    semantic = np.random.default_rng(1).dirichlet(np.ones(4), size=gray.shape).astype(np.float32)
    whole = features.pixel_features(gray, features.FEATURE_GROUPS, semantic)
    seen = np.zeros(gray.shape[0], int)
    for rows, band in features.feature_bands(gray, features.FEATURE_GROUPS, semantic, band_rows=band_rows):
        np.testing.assert_array_equal(band, whole[rows])
        seen[rows] += 1
    assert (seen == 1).all()  # every row once, in order
    with pytest.raises(ValueError, match="band_rows"):
        next(features.feature_bands(gray, band_rows=0))

"""The guided filter against OpenCV's implementation, and the properties the refinement relies on."""

import cv2
import numpy as np
import pytest
from scipy.ndimage import uniform_filter
from skimage import data

from colorcourse.chroma_refine import box_mean, guided_filter, refine_chroma


def test_equals_opencvs_guided_filter_away_from_the_borders():
    rng = np.random.default_rng(0)
    guide = data.camera()[::4, ::4].astype(np.float32) / 255.0
    src = (rng.normal(0, 20, guide.shape) + 40 * guide).astype(np.float32)
    ours = guided_filter(guide, src, radius=4, eps=1e-2)
    theirs = cv2.ximgproc.guidedFilter(guide, src, 4, 1e-2)
    inner = (slice(10, -10), slice(10, -10))  # the two mirror the borders differently
    np.testing.assert_allclose(ours[inner], theirs[inner], atol=2e-3)


@pytest.mark.parametrize("shape, radius", [((64, 48), 8), ((5, 5), 8), ((1, 7), 3), ((3, 40), 8)])
def test_box_mean_is_scipys_mirrored_uniform_filter(shape, radius):
    """OpenCV's box filter with BORDER_REFLECT mirrors as SciPy's mode="reflect" does, even with a
    window larger than the image."""
    x = np.random.default_rng(2).normal(size=shape)
    expected = uniform_filter(x, size=2 * radius + 1, mode="reflect")
    np.testing.assert_allclose(box_mean(x, radius), expected, rtol=0, atol=1e-12)


def test_a_flat_guide_gives_the_twice_box_blurred_input():
    rng = np.random.default_rng(1)
    src = rng.normal(size=(40, 50))
    out = guided_filter(np.full(src.shape, 0.5), src, radius=3, eps=1e-2)
    twice = uniform_filter(uniform_filter(src, 7, mode="reflect"), 7, mode="reflect")
    np.testing.assert_allclose(out, twice, atol=1e-10)


def test_color_stays_on_its_side_of_a_gray_edge():
    # a chroma edge blurred (as bilinear upsampling blurs it) next to a sharp gray edge
    gray = np.zeros((32, 64))
    gray[:, 32:] = 1.0
    chroma = np.where(np.arange(64) < 32, -30.0, 30.0)[None, :].repeat(32, 0)
    blurred = uniform_filter(chroma, size=(1, 9), mode="nearest")
    ab = np.stack([blurred, -blurred], axis=-1)
    refined = refine_chroma(gray, ab, radius=4, eps=1e-3)
    steps = np.abs(np.diff(refined[..., 0], axis=1))
    assert (steps.argmax(axis=1) == 31).all()  # the chroma now changes where the gray does
    assert steps[:, 31].min() > 3 * np.abs(np.diff(blurred, axis=1)).max()
    assert (np.sign(refined[:, :32, 0]) == -1).all() and (np.sign(refined[:, 32:, 0]) == 1).all()


def test_refine_chroma_is_the_guided_filter_on_each_channel_and_keeps_a_flat_color():
    rng = np.random.default_rng(2)
    gray = data.coffee()[::8, ::8, 0] / 255.0
    ab = rng.normal(0, 10, gray.shape + (2,))
    refined = refine_chroma(gray, ab, radius=5, eps=3e-3)
    for c in range(2):
        np.testing.assert_allclose(refined[..., c], guided_filter(gray, ab[..., c], 5, 3e-3), atol=1e-4)
    flat = np.broadcast_to(np.array([12.0, -7.0], np.float32), gray.shape + (2,))
    np.testing.assert_allclose(refine_chroma(gray, flat), flat, atol=1e-4)


def test_bad_shapes_and_settings_are_refused():
    with pytest.raises(ValueError, match="does not fit"):
        refine_chroma(np.zeros((4, 4)), np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match="radius"):
        guided_filter(np.zeros((4, 4)), np.zeros((4, 4)), radius=0)

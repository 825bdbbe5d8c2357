"""Held against the truth (colorcourse.exemplar_diagnosis): the blend's ingredients at the photo's
size, the error measures on known inputs, and each location's best match."""

import numpy as np
import pytest
from skimage import color as skcolor, data

from colorcourse import encoder as enc
from colorcourse import exemplar_diagnosis as diag
from colorcourse.color import rgb_to_gray


def test_match_quality_on_known_maps():
    true_ab = np.zeros((2, 2, 2))
    warp_ab = np.zeros((2, 2, 2))
    warp_ab[0, 0] = (3.0, 4.0)  # error 5 at the one sure pixel
    auto_ab = np.zeros((2, 2, 2))
    auto_ab[1, 1] = (6.0, 8.0)  # error 10 at a pixel nobody trusts the warp
    confidence = np.array([[1.0, 0.0], [0.25, 0.0]])
    q = diag.match_quality(true_ab, warp_ab, auto_ab, confidence)
    assert q["mean_confidence"] == pytest.approx(1.25 / 4)
    assert q["confident_share"] == pytest.approx(0.25)  # only the pixel at 1.0 reaches CONFIDENT
    assert q["warp_error"] == pytest.approx(5.0 * 1.0 / 1.25)  # weighted by confidence
    assert q["auto_error"] == pytest.approx(0.0)  # its only error is where the confidence is 0
    assert q["warp_error_all"] == pytest.approx(5.0 / 4) and q["auto_error_all"] == pytest.approx(10.0 / 4)


def test_match_quality_without_any_confidence_and_on_bad_shapes():
    zeros = np.zeros((3, 3, 2))
    q = diag.match_quality(zeros, zeros, zeros + 1.0, np.zeros((3, 3)))
    assert np.isnan(q["warp_error"]) and np.isnan(q["auto_error"]) and q["confident_share"] == 0.0
    with pytest.raises(ValueError, match="H x W x 2"):
        diag.match_quality(zeros, zeros, zeros, np.zeros((3, 4)))


encoder_needed = pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")


@pytest.fixture(scope="module")
def model():
    from colorcourse.fusion import hinted

    return hinted.from_pretrained()


@pytest.fixture(scope="module")
def astronaut():
    rgb = (data.astronaut()[::4, ::4] / 255.0).astype(np.float32)  # 128 x 128
    return rgb, rgb_to_gray(rgb).astype(np.float32)


@encoder_needed
def test_the_maps_are_what_the_confidence_blend_mixes(model, astronaut):
    from colorcourse.exemplar import ExemplarSession
    from colorcourse.fusion.pretrained import upsample_ab

    rgb, gray = astronaut
    session = ExemplarSession(model, gray, rgb[:, ::-1])
    warp_ab, auto_ab, confidence = diag.correspondence_maps(session)
    assert warp_ab.shape == auto_ab.shape == gray.shape + (2,) and confidence.shape == gray.shape
    assert confidence.min() >= 0 and confidence.max() <= 1
    blended = upsample_ab(session.predict_ab_grid("confidence"), session.session.shape)
    # the blend happens on the decoder's grid, the maps are upsampled: equal up to interpolation order
    mixed = confidence[..., None] * warp_ab + (1 - confidence[..., None]) * auto_ab
    assert np.median(np.abs(mixed - blended)) < 0.5
    # own colors: where sure, the warp is nearer the truth than the automatic guess (scikit-image's Lab)
    q = diag.match_quality(skcolor.rgb2lab(rgb.astype(np.float64))[..., 1:], warp_ab, auto_ab, confidence)
    assert q["confident_share"] > 0.5 and q["warp_error"] < q["auto_error"]


@encoder_needed
def test_a_flat_reference_warps_its_one_color_everywhere(model, astronaut):
    from colorcourse.exemplar import ExemplarSession

    rgb, gray = astronaut
    flat = np.zeros((64, 96, 3), np.float32) + np.array([0.8, 0.3, 0.2], np.float32)
    warp_ab, _, _ = diag.correspondence_maps(ExemplarSession(model, gray, flat))
    np.testing.assert_allclose(warp_ab, np.broadcast_to(skcolor.rgb2lab(flat[:1, :1])[0, 0, 1:], warp_ab.shape), atol=0.05)


@encoder_needed
def test_best_matches_find_each_location_itself_in_an_identical_reference(model, astronaut):
    from colorcourse.exemplar import ExemplarSession

    rgb, gray = astronaut
    session = ExemplarSession(model, gray, rgb)
    h, w = session.correspondence.confidence.shape
    cells = [(0, 0), (h // 2, w // 3), (h - 1, w - 1)]
    matches = diag.best_matches(session, cells)
    assert [m["reference"] for m in matches] == cells
    assert all(m["cosine"] == pytest.approx(1.0, abs=1e-5) for m in matches)
    assert matches[0]["target_yx"] == matches[0]["reference_yx"] == (0.5 / h, 0.5 / w)
    with pytest.raises(ValueError, match="outside"):
        diag.best_matches(session, [(h, 0)])

"""What a click of the hint widget runs, made cheaper without changing a number: the hints' spread
(domain transform, NumPy steps and all reaches at once) equals the torch loop bit for bit, and a
session's colorization equals color.lab_to_rgb of its own a*b* joined with the photo's L*."""

import numpy as np
import pytest
import torch
from skimage import data

from colorcourse import encoder as enc
from colorcourse.cheng.semantic import domain_transform_filter
from colorcourse.color import lab_to_rgb, rgb_to_gray
from colorcourse.fusion import hinted, pretrained


def torch_loop(src, guide, sigma, sigma_range, iterations=3):
    """The domain transform as the torch loop computes it (the path kept for gradients and GPUs)."""
    return hinted._recursive_filter_torch(src, hinted._recursion_weights(guide, sigma, sigma_range, iterations))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_numpy_steps_equal_the_torch_loop_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    src = torch.from_numpy(rng.normal(size=(2, 5, 13, 21))).to(dtype)
    guide = torch.from_numpy(rng.random((2, 1, 13, 21))).to(dtype)
    sigmas = (8.0, 64.0, 3.0)
    together = hinted.domain_transforms(src, guide, sigmas, 0.1)
    for sigma, result in zip(sigmas, together):
        expected = torch_loop(src, guide, sigma, 0.1)
        assert result.dtype == dtype and torch.equal(result, expected)
        assert torch.equal(hinted.domain_transform(src, guide, sigma, 0.1), expected)
    # and both are the course's NumPy domain transform (Cheng's lesson), photo by photo
    for n in range(2):
        reference = domain_transform_filter(src[n].permute(1, 2, 0).double().numpy(), guide[n, 0].double().numpy(), 8.0, 0.1)
        np.testing.assert_allclose(together[0][n].permute(1, 2, 0).numpy(), reference, atol=1e-4)
    assert torch.equal(src, torch.from_numpy(np.random.default_rng(0).normal(size=(2, 5, 13, 21))).to(dtype))  # input kept


def test_gradients_still_flow_through_the_torch_loop():
    rng = np.random.default_rng(1)
    src = torch.from_numpy(rng.normal(size=(1, 3, 9, 11)).astype(np.float32)).requires_grad_(True)
    guide = torch.from_numpy(rng.random((1, 1, 9, 11)).astype(np.float32))
    out = hinted.domain_transform(src, guide, 8.0, 0.1)
    out.sum().backward()
    assert src.grad is not None and torch.isfinite(src.grad).all()
    with torch.no_grad():
        assert torch.equal(out, hinted.domain_transform(src, guide, 8.0, 0.1))


@pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")
def test_a_sessions_clicks_are_color_lab_to_rgb_of_its_own_ab_exactly():
    hints_module = pytest.importorskip("colorcourse.hints")
    rgb = data.astronaut()[::4, ::4] / 255.0  # 128 x 128
    gray = rgb_to_gray(rgb).astype(np.float32)
    session = hinted.HintSession(hinted.load_model(), gray, work_size=None)
    points = [{"x": 30.0, "y": 90.0, "color": "#20c020", "radius": 3.0},  # vivid: far outside the gamut
              {"x": 100.0, "y": 20.0, "color": "#2040ff", "radius": 2.0}]
    for k in (0, 1, 2, 1):  # the photo's L* is kept after the first click: later clicks reuse it
        hints = hints_module.hints_from_points(points[:k], gray.shape) if k else None
        lab = np.empty(gray.shape + (3,), np.float32)
        lab[..., 0] = pretrained.photo_lightness(gray)
        lab[..., 1:] = session.predict_ab(hints)
        expected = lab_to_rgb(lab).astype(np.float32)
        np.testing.assert_array_equal(session.colorize(hints), expected)
        without_gain = session.predict_ab(hints, gain=1.0)  # what colorize joins, before its gain
        np.testing.assert_array_equal(pretrained.ab_to_rgb(gray, without_gain, session.gain_for(hints)), expected)

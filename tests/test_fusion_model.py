"""The fusion network: the published layer table, any-size inference, tiling."""

import numpy as np
import pytest
import torch
from torch import nn

from colorcourse.color import gray_to_lightness, rgb_to_lab
from colorcourse.fusion.infer import (
    ImageTooSmallError,
    colorize,
    colorize_lab,
    gray_to_lightness_unit,
    predict_ab_unit,
)
from colorcourse.fusion.model import FusionNet

# The paper's table written out by hand (Iizuka et al. 2016, Sec. 3 and Fig. 2), independent of model.LAYER_TABLE:
# (in channels, out channels, kernel, stride) per convolution, (in, out) per FC layer.
PAPER_CONVS = {
    "low": [(1, 64, 3, 2), (64, 128, 3, 1), (128, 128, 3, 2), (128, 256, 3, 1), (256, 256, 3, 2), (256, 512, 3, 1)],
    "mid": [(512, 512, 3, 1), (512, 256, 3, 1)],
    "global_net": [(512, 512, 3, 2), (512, 512, 3, 1), (512, 512, 3, 2), (512, 512, 3, 1)],
    "fusion": [(512, 256, 1, 1)],
    "colorize": [(256, 128, 3, 1), (128, 64, 3, 1), (64, 64, 3, 1), (64, 32, 3, 1), (32, 2, 3, 1)],
}
PAPER_FCS = [(7 * 7 * 512, 1024), (1024, 512), (512, 256), (512, 256), (256, 205)]


def paper_parameter_count():
    n = sum(ci * co * k * k + co for convs in PAPER_CONVS.values() for ci, co, k, _ in convs)
    return n + sum(i * o + o for i, o in PAPER_FCS)


def test_width_one_is_the_published_table():
    model = FusionNet(width=1.0, n_classes=205)
    for block, expected in PAPER_CONVS.items():
        convs = [m for m in getattr(model, block).modules() if isinstance(m, nn.Conv2d)]
        got = [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs]
        assert got == expected, block
        assert all(c.padding == ((c.kernel_size[0] - 1) // 2,) * 2 for c in convs)
    fcs = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(f.in_features, f.out_features) for f in fcs] == PAPER_FCS
    assert sum(p.numel() for p in model.parameters()) == paper_parameter_count()
    # the colorization network upsamples by nearest neighbour, twice, and ends in a sigmoid
    ups = [m for m in model.colorize if isinstance(m, nn.Upsample)]
    assert [(u.mode, u.scale_factor) for u in ups] == [("nearest", 2), ("nearest", 2)]
    assert isinstance(model.colorize[-1], nn.Sigmoid)


def test_shapes_and_output_range():
    torch.manual_seed(0)
    model = FusionNet(width=0.25, n_classes=7).eval()
    with torch.no_grad():
        ab, logits = model(torch.rand(2, 1, 224, 224))
        assert ab.shape == (2, 2, 112, 112) and logits.shape == (2, 7)
        assert ab.min() >= 0 and ab.max() <= 1
        ab, logits = model(torch.rand(1, 1, 64, 96))  # global path on a 224 resize
        assert ab.shape == (1, 2, 32, 48) and logits.shape == (1, 7)
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 1, 60, 64))


def test_shared_low_level_equals_separate_global_input():
    torch.manual_seed(1)
    model = FusionNet(width=0.125, n_classes=3).eval()
    L = torch.rand(1, 1, 224, 224)
    with torch.no_grad():
        a, la = model(L)  # low-level features computed once and shared
        b, lb = model(L, L.clone())  # global path recomputes them
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(la, lb)


def test_without_global_features_has_no_classifier():
    model = FusionNet(width=0.125, use_global=False)
    ab, logits = model(torch.rand(1, 1, 32, 32))
    assert ab.shape == (1, 2, 16, 16) and logits is None


def test_lightness_matches_color_module():
    gray = np.random.default_rng(0).random((20, 30))
    np.testing.assert_allclose(gray_to_lightness_unit(gray) * 100, gray_to_lightness(gray), atol=2e-3)


@pytest.mark.parametrize("shape", [(37, 53), (8, 8), (57, 17)])
def test_any_size_keeps_size_and_lightness(shape):
    torch.manual_seed(0)
    model = FusionNet(width=0.125, n_classes=0)
    gray = np.random.default_rng(1).random(shape)
    lab = colorize_lab(model, gray)
    assert lab.shape == shape + (3,)
    # the output's L is the input's own L, not a prediction
    np.testing.assert_array_equal(lab[..., 0], gray_to_lightness_unit(gray) * 100.0)
    rgb = colorize(model, gray)
    assert rgb.shape == shape + (3,) and rgb.min() >= 0 and rgb.max() <= 1
    # converting the RGB back gives the input lightness (gamut mapping keeps L)
    np.testing.assert_allclose(rgb_to_lab(rgb)[..., 0], gray_to_lightness(gray), atol=0.05)


def test_chroma_is_upsampled_bilinearly_from_half_resolution():
    torch.manual_seed(0)
    model = FusionNet(width=0.125, use_global=False)
    L = torch.rand(32, 48)
    full = predict_ab_unit(model, L, None)
    with torch.no_grad():
        half = model.local(L[None, None], None)
    assert half.shape[-2:] == (16, 24)
    ref = torch.nn.functional.interpolate(half, size=(32, 48), mode="bilinear", align_corners=False)[0]
    torch.testing.assert_close(full, ref)


def test_too_small_image_is_a_clear_error():
    model = FusionNet(width=0.125)
    with pytest.raises(ImageTooSmallError, match="at least 8 pixels"):
        colorize(model, np.zeros((7, 40)))
    with pytest.raises(ValueError, match="gray"):
        colorize(model, np.zeros((16, 16, 3)))


def test_tiled_equals_untiled():
    torch.manual_seed(3)
    model = FusionNet(width=0.125, n_classes=0)
    gray = np.random.default_rng(2).random((203, 270))
    L = torch.from_numpy(gray_to_lightness_unit(gray))
    vec = torch.rand(1, model.global_dim)
    whole = predict_ab_unit(model, L, vec, tile_size=None)
    tiled = predict_ab_unit(model, L, vec, tile_size=64, margin=64)
    assert (tiled - whole).abs().max() < 1e-4
    with pytest.raises(ValueError, match="receptive"):
        predict_ab_unit(model, L, vec, tile_size=64, margin=16)


def test_chroma_gain_scales_ab_only():
    torch.manual_seed(0)
    model = FusionNet(width=0.125, n_classes=0)
    gray = np.random.default_rng(4).random((24, 32))
    plain = colorize_lab(model, gray)
    double = colorize_lab(model, gray, chroma_gain=2.0)
    np.testing.assert_array_equal(double[..., 0], plain[..., 0])
    np.testing.assert_allclose(double[..., 1:], 2 * plain[..., 1:], rtol=1e-5, atol=1e-4)
    assert np.abs(colorize_lab(model, gray, chroma_gain=0.0)[..., 1:]).max() == 0


def test_fast_gamut_conversion_equals_color_module():
    from colorcourse.color import lab_to_rgb
    from colorcourse.fusion.infer import lab_to_rgb_chunked

    rng = np.random.default_rng(5)
    lab = np.stack([rng.uniform(0, 100, (40, 30)), rng.normal(0, 40, (40, 30)), rng.normal(0, 40, (40, 30))], -1)
    for gamut in ("chroma", "clip"):
        np.testing.assert_allclose(lab_to_rgb_chunked(lab, gamut, rows=7), lab_to_rgb(lab, gamut), atol=1e-6)

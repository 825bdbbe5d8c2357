"""Color conversions against scikit-image, on random and edge-case colors, plus round trips."""

import numpy as np
import pytest
import torch
from skimage import color as skcolor

from colorcourse import color

EDGE_COLORS = np.array(
    [
        [0, 0, 0],  # black
        [1, 1, 1],  # white
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],  # saturated primaries
        [1, 1, 0],
        [0, 1, 1],
        [1, 0, 1],  # secondaries
        [0.5, 0.5, 0.5],
        [0.01, 0.02, 0.03],  # near black: the linear segment of sRGB and of CIE f(t)
    ],
    dtype=np.float64,
)


@pytest.fixture
def random_rgb():
    return np.random.default_rng(0).random((32, 24, 3))


@pytest.mark.parametrize("rgb_name", ["random", "edges"])
def test_rgb_to_yuv_matches_skimage(rgb_name, random_rgb):
    rgb = random_rgb if rgb_name == "random" else EDGE_COLORS.reshape(-1, 1, 3)
    np.testing.assert_allclose(color.rgb_to_yuv(rgb), skcolor.rgb2yuv(rgb), atol=1e-10)
    np.testing.assert_allclose(color.rgb_to_gray(rgb), skcolor.rgb2yuv(rgb)[..., 0], atol=1e-10)


def test_yuv_round_trip_and_ranges(random_rgb):
    yuv = color.rgb_to_yuv(random_rgb)
    np.testing.assert_allclose(color.yuv_to_rgb(yuv), random_rgb, atol=1e-10)
    np.testing.assert_allclose(color.yuv_to_rgb(yuv), skcolor.yuv2rgb(yuv), atol=1e-10)
    # the documented ranges hold at the extremes of the RGB cube
    corners = color.rgb_to_yuv(EDGE_COLORS)
    assert corners[:, 0].min() >= 0 and corners[:, 0].max() <= 1 + 1e-12
    assert np.abs(corners[:, 1]).max() <= color.U_MAX + 1e-3
    assert np.abs(corners[:, 2]).max() <= color.V_MAX + 1e-3


def test_gray_has_no_chroma():
    gray = np.linspace(0, 1, 11).reshape(1, 11)
    yuv = color.rgb_to_yuv(color.gray_to_rgb(gray))
    np.testing.assert_allclose(yuv[..., 0], gray, atol=1e-12)
    np.testing.assert_allclose(yuv[..., 1:], 0, atol=1e-7)


def test_merge_y_uv_inverts_split(random_rgb):
    yuv = color.rgb_to_yuv(random_rgb)
    np.testing.assert_allclose(color.merge_y_uv(yuv[..., 0], yuv[..., 1:]), random_rgb, atol=1e-10)
    # chroma that would leave the gamut is shrunk, keeping the luma exactly and the hue
    y = np.array([[0.05, 0.5, 0.95]])
    uv = np.array([[[0.3, -0.4], [0.4, 0.6], [-0.3, 0.2]]])
    merged = color.merge_y_uv(y, uv)
    assert merged.min() >= 0 and merged.max() <= 1
    np.testing.assert_allclose(color.rgb_to_gray(merged), y, atol=1e-12)
    out_uv = color.rgb_to_yuv(merged)[..., 1:]
    cross = out_uv[..., 0] * uv[..., 1] - out_uv[..., 1] * uv[..., 0]
    np.testing.assert_allclose(cross, 0, atol=1e-12)  # same hue direction
    assert np.all(np.linalg.norm(out_uv, axis=-1) < np.linalg.norm(uv, axis=-1))
    with pytest.raises(ValueError, match="uv must have shape"):
        color.merge_y_uv(yuv[..., 0], yuv[:-1, :, 1:])


@pytest.mark.parametrize("rgb_name", ["random", "edges"])
def test_rgb_to_lab_matches_skimage(rgb_name, random_rgb):
    rgb = random_rgb if rgb_name == "random" else EDGE_COLORS.reshape(-1, 1, 3)
    np.testing.assert_allclose(color.rgb_to_lab(rgb), skcolor.rgb2lab(rgb), atol=1e-6)


def test_lab_to_rgb_matches_skimage_inside_gamut(random_rgb):
    lab = skcolor.rgb2lab(random_rgb)
    for gamut in ("clip", "chroma"):
        np.testing.assert_allclose(color.lab_to_rgb(lab, gamut=gamut), random_rgb, atol=1e-6)
    np.testing.assert_allclose(
        color.lab_to_rgb(skcolor.rgb2lab(EDGE_COLORS), gamut="clip"), EDGE_COLORS, atol=1e-6
    )


def test_out_of_gamut_lab_is_brought_back_into_range():
    # L = 50 with a* = b* = 120 is far outside sRGB
    lab = np.array([[[50.0, 120.0, 120.0], [95.0, -100.0, 90.0], [20.0, 0.0, -120.0]]])
    clipped = color.lab_to_rgb(lab, gamut="clip")
    np.testing.assert_allclose(clipped, np.clip(skcolor.lab2rgb(lab), 0, 1), atol=1e-6)
    shrunk = color.lab_to_rgb(lab, gamut="chroma")
    assert shrunk.min() >= 0 and shrunk.max() <= 1
    back = color.rgb_to_lab(shrunk)
    # chroma mode keeps lightness and hue angle, and only reduces chroma
    np.testing.assert_allclose(back[..., 0], lab[..., 0], atol=0.05)
    hue_in = np.arctan2(lab[..., 2], lab[..., 1])
    hue_out = np.arctan2(back[..., 2], back[..., 1])
    np.testing.assert_allclose(np.angle(np.exp(1j * (hue_out - hue_in))), 0, atol=0.02)
    assert np.all(np.hypot(back[..., 1], back[..., 2]) < np.hypot(lab[..., 1], lab[..., 2]))


def test_lab_to_rgb_rejects_unknown_gamut_mode():
    with pytest.raises(ValueError, match="gamut"):
        color.lab_to_rgb(np.zeros((1, 1, 3)), gamut="wrap")


def test_ab_unit_scaling_covers_the_srgb_gamut():
    cube = np.stack(np.meshgrid(*[np.linspace(0, 1, 17)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    unit = color.ab_to_unit(color.rgb_to_lab(cube)[..., 1:])
    assert unit.min() > 0 and unit.max() < 1
    np.testing.assert_allclose(color.unit_to_ab(color.ab_to_unit(unit)), unit, atol=1e-12)


def test_torch_conversions_match_numpy_and_are_differentiable(random_rgb):
    t = torch.tensor(np.moveaxis(random_rgb, -1, 0)[None], dtype=torch.float64, requires_grad=True)
    lab_t = color.rgb_to_lab_torch(t)
    np.testing.assert_allclose(
        np.moveaxis(lab_t[0].detach().numpy(), 0, -1), color.rgb_to_lab(random_rgb), atol=1e-8
    )
    yuv_t = color.rgb_to_yuv_torch(t)
    np.testing.assert_allclose(
        np.moveaxis(yuv_t[0].detach().numpy(), 0, -1), color.rgb_to_yuv(random_rgb), atol=1e-10
    )
    back = color.lab_to_rgb_torch(lab_t)
    np.testing.assert_allclose(back[0].detach().numpy(), t[0].detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(color.yuv_to_rgb_torch(yuv_t).detach(), t.detach(), atol=1e-10)
    (lab_t[:, 1:].sum() + back.sum()).backward()
    assert torch.isfinite(t.grad).all()


def test_torch_lab_gradient_is_finite_at_black_and_checked_numerically():
    black = torch.zeros(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    color.rgb_to_lab_torch(black).sum().backward()
    assert torch.isfinite(black.grad).all()
    x = torch.rand(1, 3, 3, 3, dtype=torch.float64) * 0.8 + 0.1
    assert torch.autograd.gradcheck(
        lambda v: color.rgb_to_lab_torch(v), (x.requires_grad_(),), eps=1e-6, atol=1e-4
    )


def test_channel_checks_give_clear_errors():
    with pytest.raises(ValueError, match="3 channels"):
        color.rgb_to_lab(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="3 x H x W"):
        color.rgb_to_lab_torch(torch.zeros(1, 4, 4, 4))


def test_gray_to_lightness_is_lightness_of_neutral_color():
    gray = np.array([[0.0, 0.18, 0.5, 1.0]])
    np.testing.assert_allclose(
        color.gray_to_lightness(gray), skcolor.rgb2lab(color.gray_to_rgb(gray))[..., 0], atol=1e-6
    )
    np.testing.assert_allclose(color.gray_to_lightness(gray)[0, [0, 3]], [0, 100], atol=1e-6)


def test_scale_chroma_endpoints_and_luma(random_rgb):
    np.testing.assert_allclose(color.scale_chroma(random_rgb, 1.0), random_rgb, atol=1e-10)
    np.testing.assert_allclose(
        color.scale_chroma(random_rgb, 0.0), color.gray_to_rgb(color.rgb_to_gray(random_rgb)), atol=1e-10
    )
    half = color.scale_chroma(random_rgb, 0.5)
    np.testing.assert_allclose(color.rgb_to_gray(half), color.rgb_to_gray(random_rgb), atol=1e-10)
    np.testing.assert_allclose(
        color.rgb_to_yuv(half)[..., 1:], 0.5 * color.rgb_to_yuv(random_rgb)[..., 1:], atol=1e-10
    )

"""full_resolution.colorize_full_resolution on big photos: band by band, float32, the same numbers."""

import numpy as np
import pytest
from skimage import data
from skimage.transform import resize

from colorcourse import full_resolution, methods
from colorcourse.color import merge_y_uv, rgb_to_gray, rgb_to_yuv
from colorcourse.imageio import to_uint8
from colorcourse.metrics import gray_baseline


@pytest.mark.parametrize("small, big", [((8, 8), (100, 37)), ((37, 64), (800, 1203)), ((1, 5), (3, 17))])
def test_banded_chroma_upsampling_is_skimages_bilinear_resize(small, big):
    uv = np.random.default_rng(0).normal(size=small + (2,))
    expected = resize(uv, big + (2,), order=1, preserve_range=True)
    up = full_resolution._ChromaUpsampler(uv, *big)
    got = np.concatenate([up.rows(top, min(top + 30, big[0])) for top in range(0, big[0], 30)])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=2e-6)


def _oracle(rgb):
    def colorize(gray):
        return resize(rgb, gray.shape + (3,), anti_aliasing=True)
    return colorize


@pytest.mark.parametrize("work_size", [96, None])
def test_bands_do_not_change_the_result(monkeypatch, work_size):
    rgb = data.astronaut()[::2, ::2] / 255.0  # 256 x 256
    gray = rgb_to_gray(rgb)[:250, :230]
    rgb = rgb[:250, :230]
    monkeypatch.setattr(full_resolution, "BAND_ROWS", 10_000)
    whole = methods.colorize_full_resolution(_oracle(rgb), gray, work_size)
    monkeypatch.setattr(full_resolution, "BAND_ROWS", 7)  # bands that do not divide the height
    banded = methods.colorize_full_resolution(_oracle(rgb), gray, work_size)
    assert whole.dtype == banded.dtype == np.float32
    np.testing.assert_array_equal(banded, whole)
    # and both are what the unbanded float64 recipe gives (up to float32 rounding)
    if work_size is None:
        uv = rgb_to_yuv(rgb)[..., 1:]
    else:
        small = resize(gray, (96, round(230 * 96 / 250)), anti_aliasing=True, preserve_range=True)
        uv = resize(rgb_to_yuv(_oracle(rgb)(small))[..., 1:], gray.shape + (2,), order=1, preserve_range=True)
    np.testing.assert_allclose(whole, merge_y_uv(gray, uv), atol=1e-5)
    np.testing.assert_allclose(rgb_to_gray(whole), gray, atol=1e-6)  # the photo's own luma


def test_gray_baseline_at_full_resolution_is_the_gray_image():
    gray = np.random.default_rng(1).uniform(-0.1, 1.1, (33, 45)).astype(np.float32)  # out-of-range values too
    out = methods.colorize_full_resolution(gray_baseline, gray, None)
    expected = merge_y_uv(gray, rgb_to_yuv(gray_baseline(gray))[..., 1:])  # the general route
    assert out.dtype == np.float32 and out.shape == (33, 45, 3)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_to_uint8_in_bands_rounds_like_before():
    rgb = np.random.default_rng(2).uniform(-0.2, 1.2, (1100, 9, 3)).astype(np.float32)
    expected = np.round(np.clip(rgb.astype(np.float64), 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(to_uint8(rgb, rows=100), expected)
    np.testing.assert_array_equal(to_uint8(rgb), expected)
    assert to_uint8(np.float64(0.5)) == 128


@pytest.mark.parametrize("work_size", [96, None])
def test_uint8_out_is_the_float_result_rounded(work_size):
    rgb = data.astronaut()[::2, ::2] / 255.0
    gray = rgb_to_gray(rgb)
    as_float = methods.colorize_full_resolution(_oracle(rgb), gray, work_size)
    out = np.zeros(gray.shape + (3,), dtype=np.uint8)
    returned = methods.colorize_full_resolution(_oracle(rgb), gray, work_size, out=out)
    assert returned is out
    np.testing.assert_array_equal(out, to_uint8(as_float))
    gray_out = methods.colorize_full_resolution(gray_baseline, gray, None, out=np.empty_like(out))
    np.testing.assert_array_equal(gray_out, to_uint8(np.repeat(gray[..., None], 3, axis=-1)))
    with pytest.raises(ValueError, match="out must be a 256 x 256 x 3"):
        methods.colorize_full_resolution(gray_baseline, gray, None, out=np.empty((256, 256, 3), dtype=np.int16))


def test_save_rgb_writes_uint8_as_it_is(tmp_path):
    from colorcourse.imageio import load_rgb, save_rgb

    pixels = np.random.default_rng(3).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    path = save_rgb(tmp_path / "u8.png", pixels)
    np.testing.assert_array_equal(to_uint8(load_rgb(path)), pixels)


@pytest.mark.parametrize("style", [False, True])
def test_fusion_in_bands_is_the_whole_photo_at_once(monkeypatch, style):
    import torch

    from colorcourse.fusion.infer import FusionColorizer
    from colorcourse.fusion.model import FusionConfig, FusionNet

    torch.manual_seed(0)
    model = FusionNet(FusionConfig(width=0.125, n_classes=2)).eval()
    rgb = data.astronaut()[::2, ::2] / 255.0
    gray = rgb_to_gray(rgb)[:203, :141]  # not a multiple of 8 either way
    colorizer = FusionColorizer(model, style_image=rgb[::3, ::3] if style else None, chroma_gain=1.7)
    whole = methods.colorize_full_resolution(colorizer, gray, None)  # one band: the plain call
    np.testing.assert_array_equal(
        whole, methods.colorize_full_resolution(lambda g: colorizer(g), gray, None))
    monkeypatch.setattr(full_resolution, "FUSION_BAND_ROWS", 48)  # 5 bands, the last one 11 rows high
    monkeypatch.setattr(full_resolution, "BAND_ROWS", 40)
    calls = []
    real = full_resolution._fusion_in_bands
    monkeypatch.setattr(full_resolution, "_fusion_in_bands", lambda *a, **k: calls.append(1) or real(*a, **k))
    banded = methods.colorize_full_resolution(colorizer, gray, None)
    assert calls == [1]
    np.testing.assert_allclose(banded, whole, atol=1e-5)
    assert np.abs(rgb_to_yuv(whole)[..., 1:]).max() > 0.01  # there is chroma to compare

"""The comparison lesson's widget logic (plain functions) and the wiring of the builders."""

import io

import numpy as np
import pytest
from PIL import Image

from colorcourse.cheng.bilateral import refine_uv
from colorcourse.color import rgb_to_gray, rgb_to_yuv
from colorcourse.imageio import to_uint8
from colorcourse.metrics import colorfulness, gray_baseline, psnr
from colorcourse.widgets import (bilateral_view, compare_methods, comparison_caption, decode_image_bytes,
                                 fit_size, load_colorizers, swipe_composite, swipe_views, swipe_widget,
                                 to_png_bytes, upload_to_rgb)


@pytest.fixture
def photo():
    rng = np.random.default_rng(1)
    return rng.random((24, 32, 3)).astype(np.float32)


def test_swipe_composite_columns(photo):
    other = 1.0 - photo
    np.testing.assert_array_equal(swipe_composite(photo, other, 0.0, None), other)
    np.testing.assert_array_equal(swipe_composite(photo, other, 1.0, None), photo)
    half = swipe_composite(photo, other, 0.25, None)  # seam at column 8 of 32
    np.testing.assert_array_equal(half[:, :8], photo[:, :8])
    np.testing.assert_array_equal(half[:, 8:], other[:, 8:])
    lined = swipe_composite(photo, other, 0.25, divider_rgb=(1, 0, 0))
    np.testing.assert_array_equal(lined[:, 8], np.tile([1, 0, 0], (24, 1)))
    np.testing.assert_array_equal(lined[:, 9:], other[:, 9:])


def test_swipe_composite_refuses_bad_input(photo):
    with pytest.raises(ValueError, match="position"):
        swipe_composite(photo, photo, 1.5)
    with pytest.raises(ValueError, match="differ in shape"):
        swipe_composite(photo, photo[:, :-1], 0.5)
    with pytest.raises(ValueError, match="H x W x 3"):
        swipe_composite(photo[..., 0], photo[..., 0], 0.5)


def test_swipe_views_gray_is_what_the_model_sees(photo):
    views = swipe_views(photo, 1 - photo)
    assert list(views) == ["gray", "colorized", "ground truth"]
    np.testing.assert_allclose(views["gray"][..., 1], rgb_to_gray(photo), atol=1e-6)
    np.testing.assert_allclose(np.ptp(views["gray"], axis=-1), 0, atol=1e-6)


def test_png_bytes_round_trip(photo):
    decoded = np.asarray(Image.open(io.BytesIO(to_png_bytes(photo))))
    np.testing.assert_array_equal(decoded, to_uint8(photo))
    np.testing.assert_allclose(decode_image_bytes(to_png_bytes(photo)), to_uint8(photo) / 255.0, atol=1e-7)


def test_upload_value_decoding_and_transparency():
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 255  # red, half of it fully transparent
    rgba[:, :2, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    value = ({"name": "me.png", "type": "image/png", "size": 1, "content": memoryview(buffer.getvalue())},)
    rgb = upload_to_rgb(value)
    np.testing.assert_array_equal(rgb[:, :2], np.tile([1.0, 0, 0], (4, 2, 1)))
    np.testing.assert_array_equal(rgb[:, 2:], np.ones((4, 3, 3)))  # transparent -> over white
    assert upload_to_rgb(()) is None
    with pytest.raises(ValueError, match="not an image"):
        decode_image_bytes(b"not an image at all")


def test_fit_size_only_shrinks(photo):
    assert fit_size(photo, 100) is photo
    assert fit_size(photo, 16).shape == (12, 16, 3)


def test_compare_methods_scores_match_the_metrics(photo):
    oracle = {"gray": gray_baseline, "truth": lambda gray: photo}
    rows = compare_methods(photo, oracle)
    assert [r.name for r in rows] == ["ground truth", "gray", "truth"]
    expected = gray_baseline(rgb_to_gray(photo))
    np.testing.assert_allclose(rows[1].rgb, expected, atol=1e-6)
    assert rows[1].psnr == pytest.approx(psnr(expected, photo))
    assert rows[1].colorfulness == pytest.approx(colorfulness(expected), abs=1e-3)
    assert rows[2].psnr == float("inf")
    assert "dB" in comparison_caption(rows[1]) and "dB" not in comparison_caption(rows[0])


def test_compare_methods_on_a_gray_upload_has_no_psnr(photo):
    gray_photo = gray_baseline(rgb_to_gray(photo))
    rows = compare_methods(gray_photo, {"tint": lambda g: np.stack([g, g, g * 0.5], -1)})
    assert rows[0].name == "input (gray)"
    assert all(r.psnr is None for r in rows)
    assert rows[1].colorfulness > 0


def test_compare_methods_rejects_a_colorizer_that_changes_size(photo):
    with pytest.raises(ValueError, match="shape"):
        compare_methods(photo, {"crop": lambda g: photo[:-1]})


def test_untrained_models_are_listed_as_unavailable_with_the_reason(tmp_path):
    loaded, unavailable = load_colorizers(["gray", "cheng", "fusion"], models=tmp_path)
    assert list(loaded) == ["gray"]
    assert set(unavailable) == {"cheng", "fusion"}
    assert "fusion_full.safetensors" in unavailable["fusion"]
    with pytest.raises(ValueError, match="unknown colorizer"):
        load_colorizers(["nope"], models=tmp_path)


def test_bilateral_view_is_the_refined_chroma_on_the_input_gray(photo):
    gray = 0.25 + 0.5 * rgb_to_gray(photo)  # mid grays and faint chroma: no RGB clipping
    uv = 0.1 * rgb_to_yuv(photo)[..., 1:]
    out = bilateral_view(gray, uv, 2.0, 0.1)
    np.testing.assert_allclose(rgb_to_yuv(out)[..., 0], gray, atol=1e-5)  # luminance untouched
    np.testing.assert_allclose(rgb_to_yuv(out)[..., 1:], refine_uv(uv, gray, 2.0, 0.1), atol=1e-5)


def test_swipe_widget_slider_redraws_the_image(photo):
    views = swipe_views(photo, 1 - photo)
    box = swipe_widget(views, position=0.5)
    (left, right), slider, image = box.children[0].children, box.children[1], box.children[2]
    before = image.value
    slider.value = 0.2
    assert image.value != before
    assert image.value == to_png_bytes(swipe_composite(views["gray"], views["colorized"], 0.2))
    right.value = "ground truth"
    assert image.value == to_png_bytes(swipe_composite(views["gray"], views["ground truth"], 0.2))


def test_cluster_view_needs_a_clustered_colorizer(photo):
    from colorcourse.widgets import cluster_view

    with pytest.raises(ValueError, match="clustering=True"):
        cluster_view(gray_baseline, rgb_to_gray(photo))


def test_lesson_photos_fall_back_to_skimage_samples_without_the_pack(tmp_path, monkeypatch):
    from colorcourse.widgets import lesson_photos

    monkeypatch.setenv("COLORCOURSE_DATA", str(tmp_path))
    photos, source = lesson_photos("test", limit=2)
    assert [p.name for p in photos] == ["astronaut", "chelsea"]
    assert "make data" in source  # says how to get the real pack
    assert max(photos[0].rgb.shape[:2]) == 256 and photos[0].rgb.dtype == np.float32


def test_gain_view_and_sweep():
    import torch

    from colorcourse.fusion.infer import colorize
    from colorcourse.fusion.model import FusionConfig, FusionNet
    from colorcourse.widgets import gain_sweep, gain_view

    torch.manual_seed(0)
    model = FusionNet(FusionConfig(width=0.0625, n_classes=2)).eval()
    rng = np.random.default_rng(3)
    truth = rng.random((32, 40, 3)).astype(np.float32)
    rgb, p, cf = gain_view(model, truth, 1.5)
    assert rgb.shape == truth.shape
    np.testing.assert_allclose(rgb, colorize(model, rgb_to_gray(truth), chroma_gain=1.5))
    assert p == pytest.approx(psnr(rgb, truth)) and cf == pytest.approx(colorfulness(rgb))
    gray_rgb, _, gray_cf = gain_view(model, truth, 0.0)  # no chroma at all: a gray picture
    assert gray_cf < 1.0
    rows = gain_sweep(model, [truth, truth[::-1]], [0.5, 1.0, 2.0])
    assert [r["gain"] for r in rows] == [0.5, 1.0, 2.0]
    assert rows[0]["colorfulness"] <= rows[1]["colorfulness"] <= rows[2]["colorfulness"]
    assert rows[1]["colorfulness_ratio"] == pytest.approx(
        np.mean([gain_view(model, t, 1.0)[2] / colorfulness(t) for t in [truth, truth[::-1]]]))
    with pytest.raises(ValueError):
        gain_view(model, truth, -1.0)
    with pytest.raises(ValueError):
        gain_view(model, truth[..., 0], 1.0)


def test_the_comparison_offers_every_method_of_the_command_line_from_one_registry(tmp_path):
    # one registry (colorcourse.methods) serves the CLI and the widgets: every method is either
    # loaded or listed with its reason, the default first, under the CLI's names
    from colorcourse import methods
    from colorcourse.widgets import colorizer_factories

    factories = colorizer_factories(models=tmp_path)
    assert list(factories)[: len(methods.automatic())] == methods.automatic()
    assert list(factories)[0] == methods.DEFAULT
    loaded, unavailable = load_colorizers(models=tmp_path)
    assert set(methods.available()) <= set(loaded) | set(unavailable)
    for name in set(methods.available()) - set(methods.automatic()):
        assert "hints" in unavailable[name]
    # with no models in the folder, the registry's own error (naming the file) is the reason
    assert "fusion_full.safetensors" in unavailable["fusion"] and loaded["gray"] is methods.load("gray")


def test_registry_methods_load_what_the_command_line_loads():
    from colorcourse import methods

    loaded, _ = load_colorizers(["gray", "fusion"])
    assert loaded["gray"] is methods.load("gray")
    assert type(loaded["fusion"]) is type(methods.load("fusion"))


def test_lesson_photos_spread_over_the_labels():
    from colorcourse.coursepack import load_split
    from colorcourse.widgets import lesson_photos

    labels = {p.label for p in load_split("test")}
    photos, source = lesson_photos("test", limit=len(labels))
    assert "course pack" in source and {p.label for p in photos} == labels

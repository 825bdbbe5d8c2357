"""The guided-colorization widget's logic (colorcourse.hint_editor) and wiring (colorcourse.hint_widget), no browser.

tests/test_browser_hints.py clicks the real widget in Chromium; here every step behind it is
checked as a plain function: coordinates, the hint list with undo, the update call, encoding,
saving that never overwrites, the colorizer fallbacks, and the wiring with a simulated click.
"""

import io
import json

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2lab

from colorcourse.color import gray_to_lightness, lab_to_rgb
from colorcourse.hint_editor import (HintEditor, HintSessionColorizer, HintState, as_gray, canvas_to_photo,
                                     default_colorizer, display_shape, encode_image, free_path, levin_colorizer,
                                     normalize_color, photo_to_canvas, radius_to_photo, save_hints_json,
                                     save_result_png)
from colorcourse.hint_widget import hint_widget
from colorcourse.hints import read_hint_json


class FlatColorizer:
    """A fake colorizer with a known answer: the gray's lightness with the mean a*b* of the hints."""

    def __init__(self, suggestions=None):
        self.calls, self.prepared, self.suggestions = [], [], suggestions

    def prepare(self, gray):
        self.prepared.append(gray)

    def __call__(self, gray, hints):
        self.calls.append((gray, hints))
        lab = np.zeros((*gray.shape, 3))
        lab[..., 0] = gray_to_lightness(gray)
        if len(hints):
            lab[..., 1:] = hints.ab.mean(axis=0)
        return lab_to_rgb(lab).astype(np.float32)


class SuggestingColorizer(FlatColorizer):
    def suggest_colors(self, gray, x, y, k=6):
        self.asked = (gray.shape, x, y, k)
        return self.suggestions


def ab_of(hex_color):
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return rgb2lab(rgb[None, None])[0, 0, 1:]  # scikit-image as the independent reference


@pytest.fixture
def gray():
    y, x = np.mgrid[0:40, 0:60]
    return (0.2 + 0.6 * x / 59 + 0.1 * np.sin(y / 5)).astype(np.float32)  # 40 x 60, in [0.1, 0.9]


# ---------------------------------------------------------------- colors and coordinates


def test_normalize_color():
    assert normalize_color("#ABC") == "#aabbcc"
    assert normalize_color(" Red ") == "#ff0000"
    assert normalize_color("#D62728") == "#d62728"
    with pytest.raises(ValueError, match="not a color: 'blurple'"):
        normalize_color("blurple")


def test_display_shape_shrinks_and_never_enlarges():
    assert display_shape((1000, 2000), 512) == (256, 512)
    assert display_shape((2000, 1000), 512) == (512, 256)
    assert display_shape((256, 385), 512) == (256, 385)
    with pytest.raises(ValueError, match="at least 8"):
        display_shape((10, 10), 4)


def test_canvas_to_photo_for_a_canvas_shown_at_another_size():
    # a 100 x 200 photo (H x W) on a canvas the browser shows 50 x 25 CSS px (width x height)
    assert canvas_to_photo(10.2, 3.9, (50, 25), (100, 200)) == (40, 15)  # floor(10.2*4), floor(3.9*4)
    assert canvas_to_photo(0, 0, (50, 25), (100, 200)) == (0, 0)
    assert canvas_to_photo(50, 25, (50, 25), (100, 200)) == (199, 99)  # the far border: last pixel
    assert canvas_to_photo(-3, 30, (50, 25), (100, 200)) == (0, 99)
    with pytest.raises(ValueError, match="no area"):
        canvas_to_photo(1, 1, (0, 25), (100, 200))


@pytest.mark.parametrize("shown", [(60, 40), (23, 17), (240, 160)])
def test_every_pixel_drawn_on_the_canvas_maps_back_to_itself(shown):
    shape = (40, 60)
    for row in range(shape[0]):
        for col in range(shape[1]):
            x, y = photo_to_canvas(col, row, shown, shape)
            if shown[0] >= shape[1]:  # pixels at least one screen pixel wide: exactly recovered
                assert canvas_to_photo(x, y, shown, shape) == (col, row)
            else:  # a click within half a shown pixel of the centre lands in it
                assert abs(canvas_to_photo(x, y, shown, shape)[0] - col) <= 1
    assert radius_to_photo(5, 128, 512) == 20.0
    with pytest.raises(ValueError, match="radius"):
        radius_to_photo(-1, 128, 512)


# ---------------------------------------------------------------- the hint list


def test_editor_add_undo_clear_and_undo_of_clear():
    editor = HintEditor((40, 60))
    assert not editor.undo() and not editor.clear()
    editor.add(3, 4, "#FF0000")
    editor.add(10, 20, "blue", radius=2.5)
    assert editor.points == [{"x": 3, "y": 4, "color": "#ff0000"},
                             {"x": 10, "y": 20, "color": "#0000ff", "radius": 2.5}]
    assert editor.undo() and len(editor) == 1
    editor.add(5, 5, "#00ff00")
    assert editor.clear() and len(editor) == 0
    assert editor.undo() and [p["color"] for p in editor.points] == ["#ff0000", "#00ff00"]  # nothing lost
    editor.recolor_last("#123456")
    assert editor.points[-1] == {"x": 5, "y": 5, "color": "#123456"}
    assert editor.undo() and editor.points[-1]["color"] == "#00ff00"
    with pytest.raises(ValueError, match=r"\(60, 0\) is outside the 60 x 40 photo"):
        editor.add(60, 0, "#ff0000")
    with pytest.raises(ValueError, match="not a color"):
        editor.add(1, 1, "nope")
    assert len(editor) == 2  # a refused point leaves the list as it was
    with pytest.raises(ValueError, match="click the photo first"):
        HintEditor((4, 4)).recolor_last("#ff0000")


def test_editor_hints_carry_the_colors_chroma_at_the_clicked_pixels():
    editor = HintEditor((40, 60))
    editor.add(7, 9, "#d62728")
    editor.add(50, 30, "#1f77b4", radius=1.0)
    hints = editor.hints()
    ab, mask = hints.dense()
    assert mask[9, 7] == 1 and mask[30, 50] == 1 and mask[30, 51] == 1 and mask[32, 50] == 0
    np.testing.assert_allclose(ab[9, 7], ab_of("#d62728"), atol=0.05)
    np.testing.assert_allclose(ab[30, 51], ab_of("#1f77b4"), atol=0.05)
    small_ab, small_mask = editor.hints((20, 30)).dense()  # on the display grid: pixel // 2
    assert small_mask[4, 3] == 1 and small_mask[15, 25] == 1
    np.testing.assert_allclose(small_ab[4, 3], ab_of("#d62728"), atol=0.05)


# ---------------------------------------------------------------- images and files


def test_encode_image_png_is_exact_and_jpeg_close(gray):
    rgb = np.stack([gray, 1 - gray, gray ** 2], axis=-1)
    png = np.asarray(Image.open(io.BytesIO(encode_image(rgb, "png"))))
    np.testing.assert_array_equal(png, np.round(rgb * 255).astype(np.uint8))
    jpeg = Image.open(io.BytesIO(encode_image(rgb, "jpeg")))
    assert jpeg.format == "JPEG" and jpeg.size == (60, 40)
    assert np.abs(np.asarray(jpeg, float) - rgb * 255).mean() < 2.0
    gray_png = np.asarray(Image.open(io.BytesIO(encode_image(gray, "png"))))  # one channel: a third the bytes
    np.testing.assert_array_equal(gray_png, np.round(gray * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="'jpeg' or 'png'"):
        encode_image(rgb, "gif")


def test_saving_never_overwrites(tmp_path, gray):
    editor = HintEditor(gray.shape)
    editor.add(7, 9, "#d62728", radius=2)
    first = save_hints_json(editor, tmp_path / "cat.json")
    first_text = first.read_text()
    editor.add(1, 1, "#00ff00")
    second = save_hints_json(editor, tmp_path / "cat.json")
    assert (first.name, second.name) == ("cat.json", "cat-2.json")
    assert first.read_text() == first_text  # untouched
    assert json.loads(second.read_text())["width"] == 60
    back = read_hint_json(second, gray.shape)  # the CLI's reader gets the same hints back
    np.testing.assert_array_equal(back.dense()[1], editor.hints().dense()[1])
    np.testing.assert_allclose(back.dense()[0], editor.hints().dense()[0], atol=1e-5)

    rgb = np.stack([gray] * 3, axis=-1)
    png = save_result_png(rgb, tmp_path / "cat_colorized.png")
    png2 = save_result_png(1 - rgb, tmp_path / "cat_colorized.png")
    assert png2.name == "cat_colorized-2.png"
    np.testing.assert_array_equal(np.asarray(Image.open(png)), np.round(rgb * 255).astype(np.uint8))
    assert free_path(tmp_path / "cat.json").name == "cat-3.json"
    with pytest.raises(ValueError, match="saved as PNG"):
        save_result_png(rgb, tmp_path / "cat.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat-2.json", "cat.json", "cat_colorized-2.png",
                                                          "cat_colorized.png"]


# ---------------------------------------------------------------- the state behind the widget


def test_as_gray_accepts_gray_rgb_and_refuses_bad_input(gray):
    assert as_gray(gray).shape == (40, 60)
    np.testing.assert_allclose(as_gray(np.stack([gray] * 3, -1)), gray, atol=1e-6)
    with pytest.raises(ValueError, match="divide 8-bit images by 255"):
        as_gray(gray * 255)
    with pytest.raises(ValueError, match="H x W gray"):
        as_gray(gray[None])


def test_a_click_is_mapped_hinted_and_colorized_at_the_display_size(gray, tmp_path):
    colorizer = FlatColorizer()
    state = HintState(gray, colorizer, size=30, name="demo", folder=tmp_path)  # display 20 x 30
    assert state.display_shape == (20, 30) and state.canvas_size == (30, 20)
    assert len(colorizer.prepared) == 1 and colorizer.prepared[0].shape == (20, 30)  # encoder once

    before = state.update()
    np.testing.assert_allclose(np.ptp(before, axis=-1), 0, atol=1e-3)  # no hint: gray
    # the canvas (30 x 20 px) shown twice as large; (31, 11) CSS px is photo pixel (31, 11)
    point = state.click(31, 11, (60, 40), "#d62728", radius=0)
    assert point == {"x": 31, "y": 11, "color": "#d62728"}
    after = state.update()
    gray_seen, hints = colorizer.calls[-1]
    assert gray_seen is state.display_gray and hints.shape == (20, 30)
    assert (hints.ys.tolist(), hints.xs.tolist()) == ([5], [15])  # 11 // 2, 31 // 2
    ab, target = rgb2lab(after)[..., 1:], ab_of("#d62728")  # the hint's hue (chroma shrunk to the gamut)
    np.testing.assert_allclose(np.arctan2(ab[..., 1], ab[..., 0]), np.arctan2(*target[::-1]), atol=0.03)
    assert np.hypot(ab[..., 0], ab[..., 1]).min() > 10
    decoded = np.asarray(Image.open(io.BytesIO(state.result_bytes)), float) / 255
    assert decoded.shape == (20, 30, 3) and np.abs(decoded - after).mean() < 0.01
    assert state.status().startswith("1 hint · colorized in ") and "kB JPEG" in state.status()
    assert len(colorizer.prepared) == 1  # a click re-runs only the cheap part

    assert state.canvas_points() == [{"x": 15.75, "y": 5.75, "r": 0.0, "color": "#d62728"}]
    state.click(0, 0, (30, 20), "#0000ff", radius=4)  # 4 canvas px = 8 photo px
    assert state.editor.points[-1]["radius"] == 8.0 and state.canvas_points()[-1]["r"] == 4.0

    png = state.save_result()  # the full 40 x 60 photo, one extra colorizer run on it
    assert png.name == "demo_colorized.png" and colorizer.calls[-1][0] is state.gray
    assert np.asarray(Image.open(png)).shape == (40, 60, 3)
    assert state.save_hints().name == "demo.json" and state.save_hints().name == "demo-2.json"
    with pytest.raises(ValueError, match="may hold only letters"):
        state.save_hints("../elsewhere")


def test_suggested_colors_are_asked_at_the_last_hint_on_the_display_grid(gray):
    colorizer = SuggestingColorizer(suggestions=["#FF0000", "navy"])
    state = HintState(gray, colorizer, size=30)
    assert state.suggestions() == []  # no hint yet
    state.click(45, 21, (60, 40), "#00ff00")
    assert state.suggestions(k=4) == ["#ff0000", "#000080"]
    assert colorizer.asked == ((20, 30), 22, 10, 4)
    colorizer.suggestions = None  # a network without a palette head says None
    assert state.suggestions() == []
    assert HintState(gray, FlatColorizer(), size=30).suggestions() == []


def test_levin_fallback_and_its_colorizer(gray, tmp_path):
    colorizer, description = default_colorizer(tmp_path / "missing.safetensors")
    assert colorizer is levin_colorizer and description.startswith("Levin et al.'s optimization (the hint network")
    editor = HintEditor(gray.shape)
    np.testing.assert_allclose(levin_colorizer(gray, editor.hints()), np.stack([gray] * 3, -1), atol=1e-6)
    flat = np.full((24, 24), 0.5, np.float32)
    editor = HintEditor(flat.shape)
    editor.add(12, 12, "#d62728")
    ab = rgb2lab(levin_colorizer(flat, editor.hints()))[..., 1:]  # one hint on a flat photo fills it
    assert ab.reshape(-1, 2).std(axis=0).max() < 0.5 and np.hypot(*ab[0, 0]) > 20
    hue = np.degrees(np.arctan2(ab[..., 1], ab[..., 0]))
    target = ab_of("#d62728")
    assert np.abs(hue - np.degrees(np.arctan2(target[1], target[0]))).max() < 5


def test_hint_session_colorizer_encodes_each_photo_once(gray, monkeypatch):
    import colorcourse.fusion.hinted as hinted

    made = []

    class CountingSession:
        def __init__(self, model, g, **kwargs):
            made.append(g)
            self.g = g

        def colorize(self, hints):
            return np.stack([self.g] * 3, axis=-1)

    monkeypatch.setattr(hinted, "HintSession", CountingSession)
    colorizer = HintSessionColorizer(model=object())
    small = gray[::2, ::2]
    for _ in range(3):
        colorizer(small, None)
    colorizer(gray, None)
    colorizer(small, None)
    assert [g.shape for g in made] == [(20, 30), (40, 60)]  # the display photo and the full one, once each
    assert colorizer.suggest_colors(small, 1, 1) is None  # a session without a palette


# ---------------------------------------------------------------- the wiring (a simulated click)


def test_widget_wiring_with_a_simulated_click(gray, tmp_path):
    box = hint_widget(gray, FlatColorizer(suggestions=None), size=30, name="demo", folder=tmp_path)
    state, controls = box.hint_state, box.hint_controls
    canvas, status = controls["canvas"], controls["status"]
    first = canvas.result
    assert first and canvas.size == [30, 20] and "0 hints" in status.value
    canvas._handle_custom_msg({"event": "click", "x": 31, "y": 11, "width": 60, "height": 40}, [])
    assert len(state.editor) == 1 and len(canvas.points) == 1 and "1 hint ·" in status.value
    assert canvas.result != first
    controls["undo"].click()
    assert len(state.editor) == 0 and canvas.points == [] and canvas.result == first
    controls["save_json"].click()
    assert "hints saved to" in status.value and (tmp_path / "demo.json").is_file()
    # a failure inside a callback is shown on the status line, not swallowed
    canvas._handle_custom_msg({"event": "click", "x": 1, "y": 1, "width": 0, "height": 40}, [])
    assert "ValueError: the canvas has no area on screen" in status.value


def test_widget_palette_swatch_recolors_the_last_hint(gray, tmp_path):
    colorizer = SuggestingColorizer(suggestions=["#2ca02c", "#9467bd"])
    box = hint_widget(gray, colorizer, size=60, folder=tmp_path)
    state, controls = box.hint_state, box.hint_controls
    assert controls["palette"].children == ()  # nothing suggested before a click
    controls["canvas"]._handle_custom_msg({"event": "click", "x": 5, "y": 6, "width": 60, "height": 40}, [])
    label, *swatches = controls["palette"].children
    assert [b.style.button_color for b in swatches] == ["#2ca02c", "#9467bd"]
    before = controls["canvas"].result
    swatches[1].click()
    assert state.editor.points == [{"x": 5, "y": 6, "color": "#9467bd"}]
    assert controls["picker"].value == "#9467bd" and controls["canvas"].color == "#9467bd"
    assert controls["canvas"].points[0]["color"] == "#9467bd" and controls["canvas"].result != before
    controls["clear"].click()
    assert len(state.editor) == 0 and controls["palette"].children == ()
    with pytest.raises(ValueError, match="fmt must be 'jpeg' or 'png'"):
        HintState(gray, colorizer, fmt="webp")

"""Hints as data: points, JSON files and hint images give the same hints; grids; samplers; bad files."""

import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab

from colorcourse import hints as H
from colorcourse.hints import HintFileError, Hints

SHAPE = (30, 40)  # H x W of the photo the hints belong to
POINTS = [
    {"x": 5, "y": 4, "color": "#ff0000"},
    {"x": 20.2, "y": 10.7, "color": "#00a0ff", "radius": 2.5},
    {"x": 39, "y": 29, "color": "#336600"},  # the last pixel
    {"x": 21, "y": 11, "color": "#ffee00"},  # painted over the blue disc: the later point wins
]


def _ab_of(hex_color):
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return rgb2lab(rgb[None, None])[0, 0, 1:]  # scikit-image as the independent reference


def _expected_dense(points, shape):
    """The hints drawn by hand: each point's pixels (centres within its radius), later on top."""
    ab = np.zeros(shape + (2,))
    mask = np.zeros(shape)
    rows, cols = np.mgrid[:shape[0], :shape[1]]
    for p in points:
        disc = (rows - p["y"]) ** 2 + (cols - p["x"]) ** 2 <= p.get("radius", 0) ** 2
        disc[int(np.floor(p["y"] + 0.5)), int(np.floor(p["x"] + 0.5))] = True
        ab[disc] = _ab_of(p["color"])
        mask[disc] = 1
    return ab, mask


def test_points_give_the_pixels_and_colors_drawn_by_hand():
    hints = H.hints_from_points(POINTS, SHAPE)
    ab, mask = hints.dense()
    want_ab, want_mask = _expected_dense(POINTS, SHAPE)
    assert np.array_equal(mask, want_mask)
    assert np.allclose(ab, want_ab, atol=1e-3)
    # the radius-2.5 disc around (20.2, 10.7) holds 4 + 5 + 5 + 4 + 2 pixel centres (rows 9 to 13)
    assert len(hints) == want_mask.sum() == 1 + 20 + 1
    assert mask[11, 21] == 1 and np.allclose(ab[11, 21], _ab_of("#ffee00"), atol=1e-3)


@pytest.mark.parametrize("wrap", [lambda text: json.loads(text), lambda text: json.loads(text)["points"]])
def test_points_json_hints_round_trip(tmp_path, wrap):
    text = H.points_to_json(POINTS, SHAPE)
    assert json.loads(text)["width"] == SHAPE[1] and json.loads(text)["height"] == SHAPE[0]
    path = tmp_path / "hints.json"
    path.write_text(json.dumps(wrap(text)))  # the widget's {"points": [...]} and a bare list
    assert H.read_hint_json(path, SHAPE) == H.hints_from_points(POINTS, SHAPE)
    assert H.read_hints(path, SHAPE) == H.hints_from_points(POINTS, SHAPE)


def test_hint_image_equals_json_of_the_same_points(tmp_path):
    ab, mask = _expected_dense(POINTS, SHAPE)
    rgba = np.zeros(SHAPE + (4,), np.uint8)
    for p in POINTS:  # paint each point's color where it is the visible (last) one
        color = [int(p["color"][i:i + 2], 16) for i in (1, 3, 5)]
        rows, cols = np.nonzero(mask)
        mine = np.all(np.isclose(ab[rows, cols], _ab_of(p["color"])), axis=1)
        rgba[rows[mine], cols[mine]] = color + [255]
    rgba[0, 39] = [10, 200, 10, 0]  # alpha 0: not a hint, whatever its color
    Image.fromarray(rgba, "RGBA").save(tmp_path / "hints.png")
    (tmp_path / "hints.json").write_text(H.points_to_json(POINTS, SHAPE))
    from_image = H.read_hints(tmp_path / "hints.png", SHAPE)
    assert from_image == H.read_hints(tmp_path / "hints.json", SHAPE)
    assert len(from_image) == mask.sum()


def test_hint_image_with_faint_alpha_and_a_palette(tmp_path):
    img = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    img.putpixel((7, 3), (200, 30, 30, 1))  # alpha 1 of 255 still counts
    img.convert("P").save(tmp_path / "palette.png")  # Pillow keeps transparency in the palette
    img.save(tmp_path / "rgba.png")
    hints = H.read_hint_image(tmp_path / "rgba.png", SHAPE)
    assert (hints.ys.tolist(), hints.xs.tolist()) == ([3], [7])
    assert np.allclose(hints.ab[0], _ab_of("#c81e1e"), atol=1e-3)
    assert len(H.read_hint_image(tmp_path / "palette.png", SHAPE)) == 1


def test_hint_image_of_the_same_aspect_is_rescaled(tmp_path):
    small = np.zeros((15, 20, 4), np.uint8)
    small[3:5, 6:8] = [255, 0, 0, 255]  # a 2x2 block at half size
    Image.fromarray(small, "RGBA").save(tmp_path / "half.png")
    ab, mask = H.read_hint_image(tmp_path / "half.png", SHAPE).dense()
    assert np.array_equal(np.argwhere(mask), np.argwhere(np.pad(np.ones((4, 4)), ((6, 20), (12, 24)))))
    assert np.allclose(ab[mask > 0], _ab_of("#ff0000"), atol=1e-3)
    # and a JSON saved for the half-size photo lands on the same pixels of the full-size one
    path = tmp_path / "half.json"
    path.write_text(H.points_to_json([{"x": 6.5, "y": 3.5, "color": "#ff0000", "radius": 0.8}], (15, 20)))
    assert H.read_hint_json(path, SHAPE) == H.read_hint_image(tmp_path / "half.png", SHAPE)


def test_dense_on_a_coarser_grid_averages_each_cell():
    hints = Hints((8, 8), ys=[0, 1, 1, 5, 7], xs=[0, 1, 3, 6, 7],
                  ab=[[10, 0], [20, 4], [-6, 8], [1, 1], [3, -5]])
    ab, mask = hints.dense((4, 4))  # 2 x 2 pixels per cell
    want_mask = np.zeros((4, 4))
    want_mask[0, 0] = want_mask[0, 1] = want_mask[2, 3] = want_mask[3, 3] = 1
    assert np.array_equal(mask, want_mask)
    assert np.allclose(ab[0, 0], [15, 2])  # (10 + 20) / 2, (0 + 4) / 2
    assert np.allclose(ab[0, 1], [-6, 8])
    assert np.allclose(ab[2, 3], [1, 1]) and np.allclose(ab[3, 3], [3, -5])
    assert np.all(ab[mask == 0] == 0)
    # a 4000 x 3000 photo's hints on a 512 px working grid: cells of 7.8125 pixels, by centre
    big = Hints((3000, 4000), ys=[0, 7, 8, 2999], xs=[0, 7, 8, 3999], ab=[[1, 1], [3, 3], [5, 5], [7, 7]])
    ab, mask = big.dense((384, 512))
    assert np.argwhere(mask).tolist() == [[0, 0], [1, 1], [383, 511]]
    assert np.allclose(ab[0, 0], [2, 2]) and np.allclose(ab[1, 1], [5, 5])


def test_rescaled_to_a_finer_grid_covers_whole_blocks_and_back():
    hints = Hints((4, 5), ys=[1, 3], xs=[2, 4], ab=[[5, -5], [9, 9]])
    up = hints.rescaled((12, 15))  # 3 x 3 pixels per hinted pixel
    ab, mask = up.dense()
    assert mask.sum() == 18 and np.all(mask[3:6, 6:9] == 1) and np.all(mask[9:12, 12:15] == 1)
    assert np.allclose(ab[4, 7], [5, -5]) and np.allclose(ab[11, 14], [9, 9])
    assert up.rescaled((4, 5)) == hints  # each block averages back to its pixel


def test_hints_are_validated_and_empty_hints_work():
    empty = Hints.empty(SHAPE)
    assert len(empty) == 0 and empty.dense()[1].sum() == 0 and len(empty.rescaled((3, 4))) == 0
    with pytest.raises(ValueError, match="inside"):
        Hints((4, 4), ys=[4], xs=[0], ab=[[0, 0]])
    with pytest.raises(ValueError, match="one entry per hint"):
        Hints((4, 4), ys=[1, 2], xs=[0], ab=[[0, 0]])
    ab = np.random.default_rng(1).normal(size=(6, 7, 2)).astype(np.float32)
    mask = np.zeros((6, 7))
    mask[2, 3] = mask[5, 6] = 1
    back_ab, back_mask = Hints.from_dense(ab, mask).dense()
    assert np.array_equal(back_mask, mask) and np.array_equal(back_ab, ab * mask[..., None])


# ---------------------------------------------------------------- samplers


def _squares(mask, hint):
    """The hinted regions that are whole squares of one color (patches that overlapped none)."""
    labels, _ = ndimage.label(mask > 0)
    boxes = ndimage.find_objects(labels)
    return [b for i, b in enumerate(boxes) if b[0].stop - b[0].start == b[1].stop - b[1].start
            and np.all(labels[b] == i + 1) and np.all(hint[b] == hint[b][0, 0])]


def test_zhang_training_hint_count_is_geometric_from_zero():
    rng = np.random.default_rng(0)
    ab = np.zeros((128, 128, 2), np.float32)
    counts = np.array([H.zhang_training_hints(ab, rng, p=1 / 8, max_side=1)[1].sum() for _ in range(3000)])
    # one-pixel patches around the centre rarely collide, so the hinted pixels count the points
    assert abs(counts.mean() - 7.0) < 0.45  # (1 - p) / p; the standard error is 0.14
    assert abs((counts == 0).mean() - 1 / 8) < 0.02  # P(no hint) = p
    assert abs(counts.var() - 56.0) < 8  # (1 - p) / p^2


def test_zhang_training_patches_are_their_mean_color_around_the_centre():
    rng = np.random.default_rng(3)
    ab = rng.normal(0, 30, size=(96, 128, 2)).astype(np.float32)
    sides, centres = [], []
    for _ in range(200):
        hint, mask = H.zhang_training_hints(ab, rng, p=0.3)
        assert np.all(hint[mask == 0] == 0)
        for box in _squares(mask, hint):
            assert np.allclose(hint[box], ab[box].mean(axis=(0, 1)), atol=1e-4)
            sides.append(box[0].stop - box[0].start)
            centres.append([(box[0].start + box[0].stop) / 2, (box[1].start + box[1].stop) / 2])
    assert len(sides) > 300 and set(sides) == set(range(1, 10))  # sides 1 to 9
    assert np.allclose(np.mean(centres, axis=0), [48, 64], atol=3)  # around the centre
    assert np.allclose(np.std(centres, axis=0), [24, 32], rtol=0.2)  # standard deviation (H - P + 1) / 4


def test_evaluation_hints_are_patches_of_their_mean_true_color():
    ab = np.random.default_rng(5).normal(0, 30, size=(120, 160, 2)).astype(np.float32)
    hints = H.evaluation_hints(ab, n_points=6, patch=9, seed=11)
    hint, mask = hints.dense()
    boxes = _squares(mask, hint)
    assert len(boxes) == 6 and len(hints) == 6 * 81  # this seed's squares do not overlap
    for box in boxes:
        assert box[0].stop - box[0].start == 9
        assert np.allclose(hint[box], ab[box].mean(axis=(0, 1)), atol=1e-4)
    assert H.evaluation_hints(ab, 6, 9, seed=11) == hints  # seeded
    assert H.evaluation_hints(ab, 6, 9, seed=12) != hints
    # uniform over the places fully inside: corners cover the photo evenly
    corners = np.argwhere(H.evaluation_hints(ab, 2000, patch=1, seed=0).dense()[1])
    assert np.allclose(corners.mean(axis=0), [59.5, 79.5], atol=3)
    with pytest.raises(ValueError, match="patch"):
        H.evaluation_hints(ab[:5], 1, patch=9)


# ---------------------------------------------------------------- bad hint files


def _png_header_only(path, width, height):
    """A PNG whose header claims ``width x height`` RGBA pixels and holds almost none."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def _bad_json(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


BAD_FILES = [
    ("wrong aspect", lambda t: Image.new("RGBA", (40, 40)).save(t / "bad.png") or t / "bad.png", "aspect"),
    ("json wrong aspect", lambda t: _bad_json(t, {"width": 40, "height": 40, "points": []}), "aspect"),
    ("no alpha", lambda t: Image.new("RGB", (40, 30)).save(t / "bad.png") or t / "bad.png", "no alpha channel"),
    ("too large", lambda t: _png_header_only(t / "bad.png", 20_000, 15_000), "too large"),
    ("not an image", lambda t: (t / "bad.png").write_bytes(b"hello") and t / "bad.png", "not an image"),
    ("truncated", lambda t: _png_header_only(t / "bad.png", 40, 30), "corrupt or truncated"),
    ("missing x", lambda t: _bad_json(t, [{"y": 1, "color": "#ffffff"}]), "point 1: missing field 'x'"),
    ("missing color", lambda t: _bad_json(t, {"points": [{"x": 1, "y": 1}]}), "point 1: missing field 'color'"),
    ("missing points", lambda t: _bad_json(t, {"dots": []}), "missing field 'points'"),
    ("outside", lambda t: _bad_json(t, [{"x": 1, "y": 1, "color": "#fff"}, {"x": 40, "y": 3, "color": "#fff"}]),
     "point 2: (x=40, y=3) is outside the 40 x 30 photo"),
    ("not a color", lambda t: _bad_json(t, [{"x": 1, "y": 1, "color": "red"}]), "'red' is not a color"),
    ("not a number", lambda t: _bad_json(t, [{"x": "1", "y": 1, "color": "#fff"}]), "'x' must be a number"),
    ("negative radius", lambda t: _bad_json(t, [{"x": 1, "y": 1, "color": "#fff", "radius": -2}]), "'radius'"),
    ("not JSON", lambda t: _bad_json(t, "{'x': 1,"), "not JSON"),
    ("bad width", lambda t: _bad_json(t, {"width": "wide", "height": 30, "points": []}), "'width' and 'height'"),
    ("suffix", lambda t: (t / "bad.txt").write_text("[]") and t / "bad.txt", "not a hint file"),
    ("no file", lambda t: t / "missing.json", "no such file"),
]


@pytest.mark.parametrize("make, problem", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_hint_files_name_the_file_and_the_problem(tmp_path, make, problem):
    path = make(tmp_path)
    with pytest.raises(HintFileError) as info:
        H.read_hints(path, SHAPE)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message
    assert info.value.path == path


def test_json_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(H, "MAX_HINT_JSON_BYTES", 100)
    path = _bad_json(tmp_path, [{"x": 1, "y": 1, "color": "#ffffff"}] * 10)
    with pytest.raises(HintFileError, match="too large"):
        H.read_hints(path, SHAPE)


def test_points_to_json_refuses_bad_points():
    with pytest.raises(ValueError, match="points: point 1: .* is outside"):
        H.points_to_json([{"x": -3, "y": 1, "color": "#fff"}], SHAPE)

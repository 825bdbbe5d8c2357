"""`colorcourse colorize --hints` (issue 21): hint files drawn or written by hand, matched to their
photos, refused in one line when bad (only that photo fails), and never colorized or overwritten."""

import json

import numpy as np
import pytest
from PIL import Image

from colorcourse import cli, methods
from colorcourse.color import rgb_to_lab
from colorcourse.imageio import load_rgb

H, W = 40, 60
RED, BLUE = (220, 30, 30), (30, 60, 220)


def two_tone_photo(path):
    """A gray photo of two flat halves (dark left, light right), as a scan would be."""
    gray = np.zeros((H, W), np.uint8)
    gray[:, : W // 2], gray[:, W // 2:] = 80, 170
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(gray).save(path)
    return path


def hint_image(path, size=(H, W), strokes=((RED, 12), (BLUE, 46))):
    """A transparent layer with one vertical stroke per (color, column), as a paint program saves it."""
    h, w = size
    layer = np.zeros((h, w, 4), np.uint8)
    for color, col in strokes:
        c = round(col * w / W)
        layer[h // 4: 3 * h // 4, c: c + 3] = (*color, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(layer).save(path)
    return path


def ab_of(path, row, col):
    return rgb_to_lab(load_rgb(path)[row, col])[1:]


class RecordingHinted:
    """Stands in for the hint network: records the hints of each call, returns a fixed color."""

    def __init__(self):
        self.calls = []

    def __call__(self, gray, hints=None):
        self.calls.append(None if hints is None else (hints.shape, len(hints)))
        rgb = np.repeat(np.asarray(gray, np.float32)[..., None], 3, axis=-1)
        rgb[..., 0] = np.clip(rgb[..., 0] + 0.1, 0, 1)
        return rgb


def test_the_default_method_takes_hints_where_there_are_some(tmp_path, capsys, monkeypatch):
    recording = RecordingHinted()
    monkeypatch.setattr(methods, "load_hinted", lambda method, work_size=None: recording)
    photos = tmp_path / "photos"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        two_tone_photo(photos / name)
    hint_image(tmp_path / "hints" / "a.png")
    (tmp_path / "hints" / "c.json").write_text(json.dumps([{"x": 5, "y": 5, "color": "#00ff00"}]))
    (tmp_path / "hints" / "notes.txt").write_text("not a hint file")
    assert cli.main(["colorize", str(photos), "--hints", str(tmp_path / "hints"), "-o", str(tmp_path / "out"),
                     "--quiet"]) == 0
    assert "3 written, 0 failed; 2 of the 3 written had hints" in capsys.readouterr().out
    strokes = 2 * 3 * (3 * H // 4 - H // 4)  # two strokes, 3 columns wide, half the height
    assert recording.calls == [((H, W), strokes), None, ((H, W), 1)]  # b: no hint file, colorized automatically


@pytest.mark.parametrize("method", ["gray", "cheng", "fusion"])
def test_a_method_without_hints_refuses_them_in_one_line(tmp_path, capsys, method):
    photo = two_tone_photo(tmp_path / "p.png")
    hints = hint_image(tmp_path / "h.png")
    assert cli.main(["colorize", str(photo), "--method", method, "--hints", str(hints), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--method {method} takes no hints" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.png", "p.png"]


def test_whole_run_problems_with_hints_are_one_line_and_exit_2(tmp_path, capsys):
    a, b = two_tone_photo(tmp_path / "a.png"), two_tone_photo(tmp_path / "b.png")
    hints = hint_image(tmp_path / "h" / "a.png")
    cases = [
        (["colorize", str(a), "--method", "levin"], "--method levin needs hints"),
        (["colorize", str(a), str(b), "--method", "levin", "--hints", str(hints)], "2 photos were given"),
        (["colorize", str(a), "--method", "levin", "--hints", str(tmp_path / "nowhere")], "no such file or folder"),
        (["colorize", str(tmp_path / "h"), "--method", "levin", "--hints", str(tmp_path / "h")],
         "every input is in --hints"),
    ]
    for argv, expected in cases:
        assert cli.main([*argv, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.png", "a.png", "b.png", "h"]

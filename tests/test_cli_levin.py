"""`colorcourse colorize --method levin --hints` (issue 21) on fabricated photos and hint files:
the colors spread within regions, bad hint files fail their photo only, hint files are never
colorized or overwritten. The helpers are test_cli_hints.py's."""

import json

import numpy as np
import pytest
from PIL import Image
from test_cli_hints import BLUE, RED, H, W, ab_of, hint_image, two_tone_photo

from colorcourse import cli
from colorcourse.color import rgb_to_gray, rgb_to_lab
from colorcourse.imageio import load_gray, load_rgb, output_tag

pytest.importorskip("colorcourse.levin")  # committed by the hints + Levin engineer; until then these wait


def test_levin_spreads_a_painted_hint_layer_within_each_region(tmp_path, capsys):
    photo = two_tone_photo(tmp_path / "scan.png")
    hints = hint_image(tmp_path / "scan_hints.png")
    out = tmp_path / "out"
    assert cli.main(["colorize", str(photo), "--method", "levin", "--hints", str(hints), "-o", str(out),
                     "--quiet"]) == 0
    assert "1 written, 0 failed; 1 of the 1 written had hints" in capsys.readouterr().out
    result = out / "scan_levin.png"
    red_ab, blue_ab = rgb_to_lab(np.array(RED) / 255)[1:], rgb_to_lab(np.array(BLUE) / 255)[1:]
    # far from the strokes, each half takes its own stroke's hue (the edge stops the spread)
    for col, ab in ((2, red_ab), (W - 3, blue_ab)):
        got = ab_of(result, H // 2, col)
        cosine = got @ ab / (np.linalg.norm(got) * np.linalg.norm(ab))
        assert cosine > 0.95 and np.linalg.norm(got) > 0.3 * np.linalg.norm(ab)
    # the luminance is the photo's own
    np.testing.assert_allclose(rgb_to_gray(load_rgb(result)), load_gray(photo), atol=1.5 / 255)
    assert output_tag(result).startswith("colorcourse colorize --method levin --hints scan_hints.png")


def test_levin_reads_json_points_and_a_half_size_layer(tmp_path):
    photo = two_tone_photo(tmp_path / "p.png")
    points = {"width": W, "height": H, "points": [{"x": 10, "y": 20, "color": "#dc1e1e", "radius": 3},
                                                  {"x": 50, "y": 20, "color": "#1e3cdc", "radius": 3}]}
    (tmp_path / "p.json").write_text(json.dumps(points))
    assert cli.main(["colorize", str(photo), "--method", "levin", "--hints", str(tmp_path / "p.json"),
                     "-o", str(tmp_path / "a"), "--quiet"]) == 0
    half = hint_image(tmp_path / "half.png", size=(H // 2, W // 2))  # same aspect: rescaled to the photo
    assert cli.main(["colorize", str(photo), "--method", "levin", "--hints", str(half),
                     "-o", str(tmp_path / "b"), "--quiet"]) == 0
    for result in (tmp_path / "a" / "p_levin.png", tmp_path / "b" / "p_levin.png"):
        assert ab_of(result, H // 2, 2)[0] > 20 and ab_of(result, H // 2, W - 3)[1] < -20  # red left, blue right


def test_a_hints_folder_inside_the_input_folder_is_never_colorized(tmp_path, capsys):
    photos = tmp_path / "photos"
    two_tone_photo(photos / "a.jpg")
    two_tone_photo(photos / "b.jpg")
    hint_image(photos / "hints" / "a.png")
    assert cli.main(["colorize", str(photos), "--method", "levin", "--hints", str(photos / "hints"),
                     "--quiet"]) == 1  # b has no hint file: levin has nothing to spread
    captured = capsys.readouterr()
    assert "no hint file b.png or b.json in" in captured.err and "1 written, 1 failed" in captured.out
    assert sorted(p.relative_to(photos).as_posix() for p in photos.rglob("*")) == [
        "a.jpg", "a_levin.png", "b.jpg", "hints", "hints/a.png"]  # no hints/a_levin.png


def test_a_bad_hint_file_fails_its_photo_only(tmp_path, capsys):
    photos = tmp_path / "photos"
    names = ["good", "no_alpha", "bad_json", "wrong_aspect", "empty", "both"]
    for name in names:
        two_tone_photo(photos / f"{name}.png")
    hints = tmp_path / "hints"
    hint_image(hints / "good.png")
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(hints / "no_alpha.png")
    hints.joinpath("bad_json.json").write_text('{"points": [{"x": 1, "y": ')
    hint_image(hints / "wrong_aspect.png", size=(W, H))
    Image.fromarray(np.zeros((H, W, 4), np.uint8)).save(hints / "empty.png")  # fully transparent
    hint_image(hints / "both.png")
    hints.joinpath("both.json").write_text("[]")
    out = tmp_path / "out"
    assert cli.main(["colorize", str(photos), "--method", "levin", "--hints", str(hints), "-o", str(out),
                     "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "1 written, 5 failed" in captured.out
    assert [p.name for p in out.iterdir()] == ["good_levin.png"]
    errors = captured.err.splitlines()
    assert len(errors) == 5 and all(line.startswith("error: ") for line in errors)
    for name, problem in [("no_alpha.png", "no alpha channel"), ("bad_json.json", "not JSON"),
                          ("wrong_aspect.png", ""), ("empty.png", "no hinted pixel"),
                          ("both.json", "both claim to be its hints")]:
        assert any(str(hints / name) in line and problem in line for line in errors), (name, errors)


def test_a_hint_file_is_never_written_over_even_with_force(tmp_path, capsys):
    photo = two_tone_photo(tmp_path / "x.png")
    hints = tmp_path / "hints"
    hint_image(hints / "x.png")
    other = hint_image(hints / "x_levin.png")  # the hint file of a photo called x_levin
    before = other.read_bytes()
    assert cli.main(["colorize", str(photo), "--method", "levin", "--hints", str(hints), "-o", str(hints),
                     "--force", "--quiet"]) == 1
    assert "is one of this run's inputs" in capsys.readouterr().err
    assert other.read_bytes() == before

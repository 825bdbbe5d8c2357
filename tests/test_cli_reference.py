"""`colorcourse colorize --reference REF` (issue 24): one reference lends its colors to every photo
through the default method; other methods, bad files and gray references are one clear line."""

import numpy as np
import pytest
from PIL import Image

from colorcourse import cli, methods
from colorcourse import encoder as enc
from colorcourse.color import rgb_to_lab
from colorcourse.imageio import load_rgb

H, W = 48, 64


def gray_photo(path, level=120):
    """A fabricated scan: a gray gradient with a darker square."""
    gray = np.tile(np.linspace(level - 40, level + 40, W), (H, 1)).astype(np.uint8)
    gray[10:30, 10:30] = level - 60
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(gray).save(path)
    return path


def color_photo(path, color=(200, 90, 40)):
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:] = color
    rgb[:, W // 2:] = (np.array(color) * 0.6).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return path


class RecordingExemplar:
    """Stands in for the exemplar colorizer: one instance per run, records the photo sizes it colors."""

    instances = []

    def __init__(self, method, reference_rgb, work_size=None):
        self.reference, self.calls = reference_rgb, []
        RecordingExemplar.instances.append(self)

    def __call__(self, gray):
        self.calls.append(gray.shape)
        rgb = np.repeat(np.asarray(gray, np.float32)[..., None], 3, axis=-1)
        rgb[..., 0] = np.clip(rgb[..., 0] + 0.1, 0, 1)
        return rgb


@pytest.fixture
def recording(monkeypatch):
    RecordingExemplar.instances = []
    monkeypatch.setattr(methods, "load_exemplar", RecordingExemplar)
    return RecordingExemplar


def test_one_reference_serves_every_photo(tmp_path, capsys, recording):
    photos = [gray_photo(tmp_path / "in" / f"{n}.png", level) for n, level in (("a", 100), ("b", 140), ("c", 120))]
    reference = color_photo(tmp_path / "ref.jpg")
    assert cli.main(["colorize", *map(str, photos), "--reference", str(reference), "-o", str(tmp_path / "out"),
                     "--quiet"]) == 0
    assert "3 written, 0 failed" in capsys.readouterr().out
    assert len(recording.instances) == 1 and recording.instances[0].calls == [(H, W)] * 3  # loaded once
    assert np.allclose(recording.instances[0].reference, load_rgb(reference))
    written = sorted((tmp_path / "out").iterdir())
    assert len(written) == 3 and all(load_rgb(p)[..., 0].mean() > load_rgb(p)[..., 2].mean() for p in written)
    assert (tmp_path / "ref.jpg").is_file() and sorted(p.name for p in (tmp_path / "in").iterdir()) == ["a.png", "b.png", "c.png"]


@pytest.mark.parametrize("method", ["gray", "cheng", "fusion", "levin"])
def test_other_methods_refuse_a_reference_in_one_line(tmp_path, capsys, method, recording):
    photo, reference = gray_photo(tmp_path / "p.png"), color_photo(tmp_path / "r.png")
    assert cli.main(["colorize", str(photo), "--method", method, "--reference", str(reference), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--reference needs --method pretrained" in err and method in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png", "r.png"] and not recording.instances


def test_a_bad_or_gray_reference_is_one_clear_line(tmp_path, capsys, monkeypatch):
    photo = gray_photo(tmp_path / "p.png")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    gray_ref = gray_photo(tmp_path / "scan.png")
    neutral = tmp_path / "neutral.png"  # stored as RGB, but every pixel is gray
    Image.fromarray(np.repeat(np.asarray(Image.open(gray_ref))[..., None], 3, axis=-1)).save(neutral)
    from colorcourse.fusion import hinted

    monkeypatch.setattr(hinted, "load_model", lambda *a, **k: object())  # no network needed to refuse a reference
    cases = [(tmp_path / "missing.jpg", "missing.jpg: no such file"), (broken, "broken.jpg: not an image file"),
             (gray_ref, "scan.png: a gray image has no colors to lend"),
             (neutral, "neutral.png: its pixels are all gray: it has no colors to lend")]
    for reference, expected in cases:
        assert cli.main(["colorize", str(photo), "--reference", str(reference), "--quiet"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: --reference") and expected in err, err
    assert not any("pretrained" in p.name for p in tmp_path.iterdir())  # nothing written


def test_reference_and_hints_together_are_refused(tmp_path, capsys, recording):
    photo, reference = gray_photo(tmp_path / "p.png"), color_photo(tmp_path / "r.png")
    (tmp_path / "h.json").write_text("[]")
    assert cli.main(["colorize", str(photo), "--reference", str(reference), "--hints", str(tmp_path / "h.json"),
                     "--quiet"]) == 2
    assert "cannot be combined" in capsys.readouterr().err


@pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")
def test_the_real_exemplar_colorizer_takes_the_references_colors(tmp_path, capsys, monkeypatch):
    from colorcourse.fusion import hinted

    # the shipped default's decoder; the reference's colors come through the correspondence
    monkeypatch.setattr(hinted, "load_model", lambda *a, **k: hinted.from_pretrained())
    photo = gray_photo(tmp_path / "p.png")
    reference = tmp_path / "r.png"
    rgb = np.repeat(np.asarray(Image.open(photo))[..., None], 3, axis=-1).astype(np.float64) / 255
    lab = rgb_to_lab(rgb)
    lab[..., 1:] = (60.0, 40.0)  # the photo's own structure, colored orange-red
    from colorcourse.color import lab_to_rgb

    Image.fromarray(np.round(lab_to_rgb(lab) * 255).astype(np.uint8)).save(reference)
    assert cli.main(["colorize", str(photo), "--reference", str(reference), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    (result,) = (tmp_path / "out").iterdir()
    ab = rgb_to_lab(load_rgb(result).astype(np.float64))[..., 1:]
    assert np.median(ab[..., 0]) > 20 and np.median(ab[..., 1]) > 15  # warm, as the reference

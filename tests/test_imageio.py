"""Bad and unusual image files: handled correctly, or rejected with the file's name."""

import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorcourse.color import rgb_to_gray
from colorcourse.imageio import (
    GrayscaleImageError,
    ImageLoadError,
    load_gray,
    load_rgb,
    save_rgb,
    to_uint8,
)


@pytest.fixture(scope="module")
def chelsea():
    return data.chelsea()[::2, ::2]  # uint8 150 x 226 x 3


def test_png_round_trip_is_exact(tmp_path, chelsea):
    path = save_rgb(tmp_path / "cat.png", chelsea / 255.0)
    assert np.array_equal(to_uint8(load_rgb(path)), chelsea)
    assert load_rgb(path).dtype == np.float32


def test_save_never_overwrites_unless_asked(tmp_path, chelsea):
    path = save_rgb(tmp_path / "cat.png", chelsea / 255.0)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="cat.png exists"):
        save_rgb(path, np.zeros_like(chelsea, dtype=float))
    assert path.read_bytes() == before
    save_rgb(path, np.zeros_like(chelsea, dtype=float), overwrite=True)
    assert load_rgb(path).max() == 0
    assert [p.name for p in tmp_path.iterdir()] == ["cat.png"]  # no temp files left behind


def test_exif_rotation_is_applied(tmp_path, chelsea):
    img = Image.fromarray(chelsea)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    loaded = load_rgb(tmp_path / "rotated.jpg")
    assert loaded.shape == (chelsea.shape[1], chelsea.shape[0], 3)
    expected = np.rot90(chelsea, k=-1) / 255.0
    assert np.abs(loaded - expected).mean() < 0.02


def test_cmyk_jpeg_is_converted(tmp_path, chelsea):
    Image.fromarray(chelsea).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    loaded = load_rgb(tmp_path / "cmyk.jpg")
    assert loaded.shape == chelsea.shape
    assert np.abs(loaded - chelsea / 255.0).mean() < 0.03


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red
    rgba[:2, :, 3] = 255  # top half opaque, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cutout.png")
    loaded = load_rgb(tmp_path / "cutout.png")
    np.testing.assert_allclose(loaded[:2], [[[1, 0, 0]] * 4] * 2)
    np.testing.assert_allclose(loaded[2:], 1.0)


def test_16bit_gray_keeps_its_precision(tmp_path):
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "scan16.png")
    gray = load_gray(tmp_path / "scan16.png")
    np.testing.assert_allclose(gray, ramp / 65535.0, atol=1e-6)
    assert len(np.unique(gray)) > 256  # more levels than an 8-bit file could hold
    with pytest.raises(GrayscaleImageError, match="scan16.png"):
        load_rgb(tmp_path / "scan16.png")


def test_16bit_color_png_keeps_its_precision(tmp_path):
    import cv2  # an independent writer of 48-bit PNGs (Pillow cannot write them)

    rgb16 = np.random.default_rng(0).integers(0, 65536, (8, 9, 3), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "deep.png"), rgb16[..., ::-1])
    np.testing.assert_allclose(load_rgb(tmp_path / "deep.png"), rgb16 / 65535.0, atol=1e-6)
    np.testing.assert_allclose(load_gray(tmp_path / "deep.png"), rgb_to_gray(rgb16 / 65535.0), atol=1e-6)


def test_grayscale_file_rejected_for_color_but_fine_as_gray(tmp_path, chelsea):
    Image.fromarray(chelsea).convert("L").save(tmp_path / "bw.jpg")
    with pytest.raises(GrayscaleImageError, match="bw.jpg.*grayscale-only"):
        load_rgb(tmp_path / "bw.jpg")
    assert load_rgb(tmp_path / "bw.jpg", allow_gray=True).shape == chelsea.shape
    assert load_gray(tmp_path / "bw.jpg").shape == chelsea.shape[:2]


def test_color_file_as_gray_is_its_luma(tmp_path, chelsea):
    path = save_rgb(tmp_path / "c.png", chelsea / 255.0)
    np.testing.assert_allclose(load_gray(path), rgb_to_gray(chelsea / 255.0), atol=1e-6)


def test_truncated_corrupt_and_missing_files_name_the_file(tmp_path, chelsea):
    Image.fromarray(chelsea).save(tmp_path / "whole.jpg", quality=95)
    raw = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(raw[: len(raw) // 3])
    (tmp_path / "notes.jpg").write_text("this is not a photo")
    with pytest.raises(ImageLoadError, match="truncated.jpg: corrupt or truncated"):
        load_rgb(tmp_path / "truncated.jpg")
    with pytest.raises(ImageLoadError, match="notes.jpg: not an image"):
        load_rgb(tmp_path / "notes.jpg")
    with pytest.raises(ImageLoadError, match="absent.png: no such file"):
        load_gray(tmp_path / "absent.png")


def test_palette_image(tmp_path, chelsea):
    Image.fromarray(chelsea).convert("P", palette=Image.ADAPTIVE, colors=64).save(tmp_path / "p.gif")
    loaded = load_rgb(tmp_path / "p.gif")
    assert loaded.shape == chelsea.shape
    assert np.abs(loaded - chelsea / 255.0).mean() < 0.05

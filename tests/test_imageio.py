"""Bad and unusual image files: handled correctly, or rejected with the file's name."""

import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorcourse.color import rgb_to_gray
from colorcourse.imageio import (
    DEFAULT_MAX_PIXELS,
    GrayscaleImageError,
    ImageLoadError,
    ImageTooLargeError,
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


def write_png_bomb(path, width=40_000, height=40_000):
    """A valid 1-bit PNG of ``width x height`` zeros: ~200 KB on disk, 1.6 GB once decoded to 8 bits."""
    import struct
    import zlib

    row = b"\x00" + bytes((width + 7) // 8)  # filter byte + packed pixels
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * min(1000, height - top)) for top in range(0, height, 1000)]
    parts.append(comp.flush())

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit gray, no interlace
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def png_bomb(tmp_path_factory):
    return write_png_bomb(tmp_path_factory.mktemp("bomb") / "bomb.png")


def test_decompression_bomb_is_refused_from_its_header(png_bomb, monkeypatch):
    import cv2
    from PIL import ImageFile

    assert png_bomb.stat().st_size < 1_000_000
    with pytest.raises(Exception, match="CV_IO_MAX_IMAGE_PIXELS"):  # what used to escape a batch
        cv2.imread(str(png_bomb), cv2.IMREAD_UNCHANGED)

    def no_decoding(*args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(cv2, "imread", no_decoding)
    for load in (load_gray, load_rgb):
        with pytest.raises(ImageTooLargeError) as info:
            load(png_bomb)
        assert str(info.value) == (f"{png_bomb}: 40000 x 40000 = 1600 megapixels is above the limit of "
                                   f"{DEFAULT_MAX_PIXELS // 10**6} megapixels; raise it with --max-pixels")


def test_max_pixels_is_the_callers_choice(tmp_path):
    Image.fromarray(np.full((300, 400), 128, dtype=np.uint8)).save(tmp_path / "mid.png")
    with pytest.raises(ImageTooLargeError, match=r"mid.png: 400 x 300 = 0.12 megapixels is above the limit of 0.1 megapixels; raise it with --max-pixels"):
        load_gray(tmp_path / "mid.png", max_pixels=100_000)
    with pytest.raises(ImageTooLargeError, match=r"400 x 300 = 120000 pixels is above the limit of 119999 pixels"):
        load_gray(tmp_path / "mid.png", max_pixels=119_999)
    assert load_gray(tmp_path / "mid.png", max_pixels=120_000).shape == (300, 400)  # the limit itself is allowed
    assert load_gray(tmp_path / "mid.png", max_pixels=None).shape == (300, 400)


def test_any_decoder_error_becomes_the_files_error(tmp_path, chelsea, monkeypatch):
    import cv2

    rgb16 = np.random.default_rng(1).integers(0, 65536, (6, 7, 3), dtype=np.uint16)
    assert cv2.imwrite(str(tmp_path / "deep.png"), rgb16)

    def cv2_refuses(*args, **kwargs):
        raise cv2.error("OpenCV(5.0.0) loadsave.cpp:79: error: (-215:Assertion failed)\n"
                        "pixels <= CV_IO_MAX_IMAGE_PIXELS in function 'validateInputImageSize'")

    monkeypatch.setattr(cv2, "imread", cv2_refuses)
    with pytest.raises(ImageLoadError, match=r"deep.png: cannot decode it \(error: .*CV_IO_MAX_IMAGE_PIXELS"):
        load_rgb(tmp_path / "deep.png")
    monkeypatch.undo()

    Image.fromarray(chelsea).save(tmp_path / "cat.jpg")
    Image.fromarray(chelsea).convert("CMYK").save(tmp_path / "cmyk.jpg")

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(Image.Image, "convert", out_of_memory)  # CMYK -> RGB runs out of memory
    with pytest.raises(ImageLoadError, match="cmyk.jpg: not enough memory"):
        load_rgb(tmp_path / "cmyk.jpg")
    monkeypatch.undo()

    from PIL import ImageFile

    def bomb(*args, **kwargs):
        raise Image.DecompressionBombError("bomb")

    monkeypatch.setattr(ImageFile.ImageFile, "load", bomb)
    with pytest.raises(ImageTooLargeError, match="cat.jpg: too large to decode safely"):
        load_gray(tmp_path / "cat.jpg")


def test_16bit_color_is_read_once_and_8bit_png_never_goes_through_opencv(tmp_path, chelsea, monkeypatch):
    import cv2

    calls = []
    real_imread = cv2.imread
    monkeypatch.setattr(cv2, "imread", lambda *a, **k: calls.append(a[0]) or real_imread(*a, **k))
    path = save_rgb(tmp_path / "cat8.png", chelsea / 255.0)
    assert np.array_equal(to_uint8(load_rgb(path)), chelsea)
    assert calls == []  # an 8-bit PNG is decoded once, by Pillow
    rgb16 = (chelsea.astype(np.uint16) * 257)[..., ::-1]
    assert real_imread is not None and cv2.imwrite(str(tmp_path / "cat16.png"), rgb16)
    np.testing.assert_allclose(load_rgb(tmp_path / "cat16.png"), chelsea / 255.0, atol=1e-6)
    assert calls == [str(tmp_path / "cat16.png")]

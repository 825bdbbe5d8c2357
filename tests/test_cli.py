"""The `colorcourse` command on real photos: batches with broken files, any size, never overwriting."""

import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorcourse import cli, methods
from colorcourse.color import rgb_to_gray, rgb_to_yuv
from colorcourse.imageio import load_gray, load_rgb, save_rgb


@pytest.fixture
def photo_folder(tmp_path):
    """Two real photos, a 16-bit gray scan, a grayscale JPEG and a broken file."""
    folder = tmp_path / "photos"
    save_rgb(folder / "astronaut.png", data.astronaut()[::2, ::2] / 255.0)
    Image.fromarray(data.chelsea()).save(folder / "cat.jpg", quality=95)
    scan = (rgb_to_gray(data.coffee() / 255.0) * 65535).astype(np.uint16)
    Image.fromarray(scan).save(folder / "scan16.png")
    Image.fromarray(data.rocket()).convert("L").save(folder / "sub" / "rocket_bw.jpg") if (folder / "sub").mkdir() is None else None
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def test_batch_with_a_broken_file_goes_on_and_fails_at_the_end(photo_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["colorize", str(photo_folder), "-o", str(out), "--method", "gray", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.jpg" in captured.err
    assert "4 written, 1 failed" in captured.out
    written = sorted(p.name for p in out.iterdir())
    assert written == ["astronaut_gray.png", "cat_gray.png", "rocket_bw_gray.png", "scan16_gray.png"]
    # full resolution kept, and the result's luma is the input's gray image
    cat = load_rgb(out / "cat_gray.png")
    assert cat.shape == data.chelsea().shape
    np.testing.assert_allclose(rgb_to_gray(cat), load_gray(photo_folder / "cat.jpg"), atol=1 / 255)


def test_never_overwrites_without_force(photo_folder, tmp_path, capsys):
    out = tmp_path / "out"
    source = photo_folder / "cat.jpg"
    assert cli.main(["colorize", str(source), "-o", str(out), "--method", "gray", "--quiet"]) == 0
    target = out / "cat_gray.png"
    target.write_bytes(b"the user's own file")
    assert cli.main(["colorize", str(source), "-o", str(out), "--method", "gray", "--quiet"]) == 1
    assert "use --force" in capsys.readouterr().err
    assert target.read_bytes() == b"the user's own file"
    assert cli.main(["colorize", str(source), "-o", str(out), "--method", "gray", "--force", "--quiet"]) == 0
    assert load_rgb(target).shape == data.chelsea().shape


def test_globs_and_missing_inputs(photo_folder, tmp_path, capsys):
    files, problems = cli.expand_inputs([str(photo_folder / "*.png"), str(tmp_path / "nothing*.jpg")])
    assert sorted(p.name for p in files) == ["astronaut.png", "scan16.png"]
    assert len(problems) == 1 and "nothing*.jpg" in problems[0]
    code = cli.main(["colorize", str(tmp_path / "absent.jpg"), "--method", "gray", "--quiet"])
    assert code == 1 and "absent.jpg" in capsys.readouterr().err


def test_output_defaults_to_beside_the_photo(photo_folder):
    assert cli.main(["colorize", str(photo_folder / "cat.jpg"), "--method", "gray", "--quiet"]) == 0
    assert (photo_folder / "cat_gray.png").is_file()


def test_full_resolution_keeps_luma_and_upsamples_chroma():
    rgb = data.astronaut() / 255.0
    gray = rgb_to_gray(rgb)
    calls = []

    def oracle_small(small_gray):
        # a colorizer that returns the true colors at whatever size it is asked
        calls.append(small_gray.shape)
        from skimage.transform import resize

        return resize(rgb, small_gray.shape + (3,), anti_aliasing=True)

    out = methods.colorize_full_resolution(oracle_small, gray, work_size=128)
    assert calls == [(128, 128)]
    assert out.shape == rgb.shape
    np.testing.assert_allclose(rgb_to_gray(out), gray, atol=1e-9)  # luma untouched
    # chroma from a 4x smaller image: close to the truth, much closer than no chroma at all
    err = np.abs(rgb_to_yuv(out)[..., 1:] - rgb_to_yuv(rgb)[..., 1:]).mean()
    assert err < 0.25 * np.abs(rgb_to_yuv(rgb)[..., 1:]).mean()


def test_style_needs_the_fusion_method():
    with pytest.raises(ValueError, match="style image needs --method fusion"):
        methods.load("cheng", style_image=np.zeros((8, 8)))
    with pytest.raises(ValueError, match="unknown method"):
        methods.load("magic")


def test_evaluate_prints_the_gray_baseline(photo_folder, capsys):
    code = cli.main(["evaluate", str(photo_folder), "--method", "gray", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0
    assert "2 photos" in captured.out  # the two color photos; gray and broken files are skipped
    assert "gray" in captured.out and "psnr" in captured.out
    assert "broken.jpg" in captured.err and "grayscale-only" in captured.err

"""The `colorcourse` command on real photos: batches with broken files, any size, never overwriting."""

import re
import subprocess
import sys

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
    first = target.read_bytes()
    # an earlier result of the tool: kept without --force, replaced with it
    assert cli.main(["colorize", str(source), "-o", str(out), "--method", "gray", "--quiet"]) == 1
    assert "use --force" in capsys.readouterr().err
    assert target.read_bytes() == first
    assert cli.main(["colorize", str(source), "-o", str(out), "--method", "gray", "--force", "--quiet"]) == 0
    assert load_rgb(target).shape == data.chelsea().shape
    # a file the tool did not write is never replaced, not even with --force
    target.write_bytes(b"the user's own file")
    assert cli.main(["colorize", str(source), "-o", str(out), "--method", "gray", "--force", "--quiet"]) == 1
    assert "not written by colorcourse" in capsys.readouterr().err
    assert target.read_bytes() == b"the user's own file"


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
    assert code == 1  # the broken file failed; the table of the others is still printed
    assert f"{photo_folder} (2) PSNR" in captured.out  # the two color photos; gray and broken files are skipped
    assert re.search(r"^gray\s+\d+\.\d+", captured.out, re.M)  # the gray row with its PSNR
    assert "broken.jpg" in captured.err and "grayscale-only" in captured.err


def test_a_decompression_bomb_fails_alone_and_the_batch_goes_on(tmp_path, capsys):
    from test_imageio import write_png_bomb

    folder = tmp_path / "photos"
    save_rgb(folder / "a_astronaut.png", data.astronaut()[::4, ::4] / 255.0)
    write_png_bomb(folder / "b_bomb.png")
    Image.fromarray(data.chelsea()).save(folder / "c_cat.jpg", quality=95)
    out = tmp_path / "out"
    code = cli.main(["colorize", str(folder), "-o", str(out), "--method", "gray", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "2 written, 1 failed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["a_astronaut_gray.png", "c_cat_gray.png"]
    bomb_lines = [line for line in captured.err.splitlines() if "b_bomb.png" in line]
    assert bomb_lines == [f"error: {folder / 'b_bomb.png'}: 40000 x 40000 = 1600 megapixels is above the limit "
                          "of 200 megapixels; raise it with --max-pixels"]


def test_max_pixels_option(tmp_path, capsys):
    big = tmp_path / "big.png"
    Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (1500, 8))).save(big)  # 2048 x 1500 = 3.07 MP
    out = tmp_path / "out"
    args = ["colorize", str(big), "-o", str(out), "--method", "gray", "--quiet"]
    assert cli.main(args + ["--max-pixels", "2M"]) == 1
    assert "3.07 megapixels is above the limit of 2 megapixels; raise it with --max-pixels" in capsys.readouterr().err
    assert not out.exists()
    assert cli.main(args + ["--max-pixels", "3.5M"]) == 0
    assert load_rgb(out / "big_gray.png").shape == (1500, 2048, 3)
    # evaluate takes the same limit (a gray file is skipped anyway, so use a color one)
    save_rgb(tmp_path / "color" / "c.png", data.astronaut()[::4, ::4] / 255.0)  # 128 x 128
    assert cli.main(["evaluate", str(tmp_path / "color"), "--method", "gray", "--quiet", "--max-pixels", "10000"]) == 1
    assert "c.png: 128 x 128 = 0.0164 megapixels is above the limit of 0.01 megapixels" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args + ["--max-pixels", "lots"])
    assert exit_info.value.code == 2 and "'lots' is not a pixel count" in capsys.readouterr().err


def test_a_batch_loads_the_model_once_and_shows_photos_per_second(photo_folder, tmp_path, capsys, monkeypatch):
    loads = []
    real_load = methods.load
    monkeypatch.setattr(methods, "load", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    code = cli.main(["colorize", str(photo_folder), "-o", str(tmp_path / "out"), "--method", "gray"])
    err = capsys.readouterr().err
    assert code == 1 and loads == [("gray",)]
    assert re.search(r"colorize \(gray\): 100%.* 5/5 \[.*(photo/s|s/photo)\]", err)
    # output order follows the input order even though the next photo is decoded ahead
    assert err.index("broken.jpg") < err.index("colorize (gray): 100%")


def test_help_and_argument_errors_import_neither_torch_nor_pandas():
    check = (
        "import sys, colorcourse.cli as cli\n"
        "parser = cli.build_parser()\n"
        "try:\n"
        "    parser.parse_args(['colorize', 'x.png', '--method', 'nope'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 2, e.code\n"
        "heavy = sorted(m for m in ('torch', 'pandas', 'skimage', 'cv2', 'scipy') if m in sys.modules)\n"
        "print('heavy:', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heavy: []"
    assert "invalid choice: 'nope'" in result.stderr
    for help_args in (["--help"], ["colorize", "--help"], ["evaluate", "--help"]):
        shown = subprocess.run([sys.executable, "-m", "colorcourse.cli", *help_args],
                               capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr
        if help_args[0] == "colorize":
            assert all(name in shown.stdout for name in methods.METHODS) and "--hints" in shown.stdout
    # evaluate scores the methods that need no hints
    assert all(name in shown.stdout for name in methods.automatic()) and "levin" not in shown.stdout
    assert methods.DESCRIPTIONS["pretrained"].split()[0] in shown.stdout


def test_the_gray_baseline_runs_without_importing_torch_or_pandas(tmp_path):
    # the start-up target (benchmarks/startup.py): the command that does no work must not pay
    # for torch's import; it is what the gray command is measured against
    from PIL import Image

    Image.fromarray(np.full((12, 16, 3), 90, np.uint8)).save(tmp_path / "tiny.png")
    check = (
        "import sys, colorcourse.cli as cli\n"
        f"code = cli.main(['colorize', {str(tmp_path / 'tiny.png')!r}, '--method', 'gray', '-o', {str(tmp_path / 'out')!r}])\n"
        "heavy = sorted(m for m in ('torch', 'pandas') if m in sys.modules)\n"
        "print('code', code, 'heavy:', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "code 0 heavy: []"
    assert len(list((tmp_path / "out").iterdir())) == 1

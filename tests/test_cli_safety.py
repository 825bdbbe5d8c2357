"""Nothing a user made is lost (issue 20): the hostile-input probe's reproductions, each in a
temporary folder. Output names never collide, --force never touches an input or a file the tool
did not write, re-runs skip the tool's own results, files get the user's umask, and every bad
value or file ends in one escaped line, the batch going on."""

import json
import os
import stat

import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorcourse import cli, study
from colorcourse.atomic import new_file_mode
from colorcourse.cli_types import boolean, int_at_least, positive_float, printable
from colorcourse.imageio import OUTPUT_TAG, load_rgb, output_tag, save_rgb


def photo(path, seed=0, size=(24, 32)):
    """A small color photo (distinct per seed) written with Pillow, as a user's file would be."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size + (3,), dtype=np.uint8)).save(path)
    return path


def colorize(*args):
    return cli.main(["colorize", *map(str, args), "--method", "gray", "--quiet"])


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


# -- 1. names never collide within a run ---------------------------------------------------


def test_same_name_in_two_folders_is_refused_for_both_and_the_rest_is_written(tmp_path, capsys):
    a, b = photo(tmp_path / "A" / "same.jpg", 1), photo(tmp_path / "B" / "same.jpg", 2)
    other = photo(tmp_path / "A" / "other.png", 3)
    out = tmp_path / "out"
    assert colorize(a, b, other, "-o", out, "--force") == 1
    captured = capsys.readouterr()
    assert "1 written, 2 failed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["other_gray.png"]  # neither same_gray.png: no winner
    errors = [line for line in captured.err.splitlines() if "same_gray.png" in line]
    assert len(errors) == 2 and str(b) in errors[0] and str(a) in errors[1]


def test_photo_jpg_beside_photo_png_both_fail_without_a_result(tmp_path, capsys):
    jpg, png = photo(tmp_path / "w" / "photo.jpg", 1), photo(tmp_path / "w" / "Photo.png", 2)
    assert colorize(tmp_path / "w") == 1  # names compared as a case-insensitive file system would
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["Photo.png", "photo.jpg"]
    assert "0 written, 2 failed" in capsys.readouterr().out
    assert jpg.is_file() and png.is_file()


# -- 2. --force never replaces an input or a file the tool did not write ---------------------


def test_force_never_replaces_an_input_that_looks_like_a_result(tmp_path, capsys):
    a = photo(tmp_path / "w" / "a.jpg", 1)
    lookalike = photo(tmp_path / "w" / "a_gray.png", 2)  # the user's own photo, named like a result
    before = lookalike.read_bytes()
    assert colorize(a, lookalike, "--force") == 1
    captured = capsys.readouterr()
    assert lookalike.read_bytes() == before
    assert "is one of this run's inputs" in captured.err and "1 written, 1 failed" in captured.out
    assert output_tag(tmp_path / "w" / "a_gray_gray.png") is not None  # the look-alike itself is colorized
    # without the look-alike among the inputs it is still the user's file: never replaced
    assert colorize(a, "--force") == 1
    assert "not written by colorcourse" in capsys.readouterr().err
    assert lookalike.read_bytes() == before


def test_a_symlink_or_style_image_at_the_result_name_is_not_replaced(tmp_path, capsys):
    a = photo(tmp_path / "a.jpg", 1)
    precious = photo(tmp_path / "keep" / "precious.png", 2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a_gray.png").symlink_to(precious)
    before = precious.read_bytes()
    assert colorize(a, "-o", tmp_path / "out", "--force") == 1
    assert precious.read_bytes() == before and "not written by colorcourse" in capsys.readouterr().err


# -- 3. re-runs recognise the tool's own results ---------------------------------------------


def test_a_second_run_on_a_folder_skips_the_first_runs_results(tmp_path, capsys):
    folder = tmp_path / "photos"
    for i, name in enumerate(["a.jpg", "b.png", "sub/c.jpg"]):
        photo(folder / name, i)
    assert colorize(folder) == 0
    first = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*_gray.png"))
    assert first == ["a_gray.png", "b_gray.png", "sub/c_gray.png"]
    assert all(output_tag(folder / name).startswith("colorcourse colorize --method gray") for name in first)
    capsys.readouterr()
    assert colorize(folder, "--force") == 0
    captured = capsys.readouterr()
    assert "skipped 3 earlier result(s) of colorcourse" in captured.err
    assert "3 written, 0 failed, 3 skipped" in captured.out
    assert not list(folder.rglob("*_gray_gray.png"))
    # a result renamed by the user is still recognised by its tag, not by its name
    (folder / "a_gray.png").rename(folder / "holiday.png")
    assert colorize(folder, "--force") == 0
    assert not (folder / "holiday_gray.png").exists()


def test_the_tag_is_read_from_the_header_and_only_png_carries_it(tmp_path):
    path = save_rgb(tmp_path / "x.png", np.zeros((4, 4, 3)), tag="made by a test")
    assert output_tag(path) == "made by a test"
    with Image.open(path) as img:
        assert img.info[OUTPUT_TAG] == "made by a test"  # an ordinary PNG text chunk
    assert output_tag(photo(tmp_path / "plain.png")) is None
    assert output_tag(tmp_path / "missing.png") is None
    with pytest.raises(ValueError, match="only a PNG"):
        save_rgb(tmp_path / "x.jpg", np.zeros((4, 4, 3)), tag="t")


# -- 4. the user's umask -------------------------------------------------------------------


def test_results_and_checkpoints_get_the_umask_and_a_replaced_file_keeps_its_mode(tmp_path):
    import torch

    from colorcourse.checkpoint import save_checkpoint

    old = os.umask(0o002)  # a group-shared class folder
    try:
        assert new_file_mode() == 0o664
        png = save_rgb(tmp_path / "r.png", np.zeros((4, 4, 3)))
        model = save_checkpoint(tmp_path / "m.safetensors", {"w": torch.zeros(2)}, {}, kind="toy")
        assert stat.S_IMODE(png.stat().st_mode) == 0o664
        assert stat.S_IMODE(model.stat().st_mode) == 0o664
        os.umask(0o022)
        os.chmod(png, 0o644)
        save_rgb(png, np.ones((4, 4, 3)), overwrite=True)
        assert stat.S_IMODE(png.stat().st_mode) == 0o644  # not turned into 0600
        os.chmod(model, 0o640)
        save_checkpoint(model, {"w": torch.ones(2)}, {}, kind="toy", overwrite=True)
        assert stat.S_IMODE(model.stat().st_mode) == 0o640
    finally:
        os.umask(old)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_cli_results_follow_the_umask(tmp_path, umask_022):
    assert colorize(photo(tmp_path / "a.jpg"), "-o", tmp_path / "out") == 0
    assert stat.S_IMODE((tmp_path / "out" / "a_gray.png").stat().st_mode) == 0o644


def test_no_overwrite_write_never_replaces_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    from colorcourse import atomic

    target = tmp_path / "r.png"
    real_mkstemp = atomic.tempfile.mkstemp

    def racing_mkstemp(**kwargs):  # another process creates the file after the existence check
        target.write_bytes(b"theirs")
        return real_mkstemp(**kwargs)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", racing_mkstemp)
    with pytest.raises(FileExistsError):
        save_rgb(target, np.zeros((4, 4, 3)))
    assert target.read_bytes() == b"theirs"


# -- 5. evaluate: a bad photo is skipped, the rest scored -----------------------------------------


def test_evaluate_skips_tiny_and_sliver_photos_and_scores_the_rest(tmp_path, capsys):
    folder = tmp_path / "eval"
    save_rgb(folder / "astronaut.png", data.astronaut()[::4, ::4] / 255.0)
    Image.fromarray(data.chelsea()[::3, ::3]).save(folder / "cat.png")
    photo(folder / "one_pixel.png", 1, size=(1, 1))
    photo(folder / "sliver.png", 2, size=(3, 5000))
    photo(folder / "sub" / "cat.png", 4, size=(40, 40))  # the same name in a subfolder: scored as its own photo
    code = cli.main(["evaluate", str(folder), "--method", "gray", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{folder} (3) PSNR" in captured.out
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 2 and all("too small to score" in line for line in skipped)
    assert "Traceback" not in captured.err


# -- 6. study merge ---------------------------------------------------------------------------


def _answer(**fields):
    record = {"participant": "Ann", "image_id": "img0/real", "method": "real", "answer": "natural",
              "timestamp": 1.0}
    record.update(fields)
    return json.dumps(record)


def test_study_merge_skips_hostile_lines_with_short_one_line_reports(tmp_path, capsys):
    handed_in = tmp_path / "a.jsonl"
    lines = [
        _answer(),
        "[" * 100_000 + "]" * 100_000,  # nested too deeply for the JSON parser (RecursionError)
        _answer(image_id="img1/real", timestamp=int("9" * 400)),  # 400 digits: no float (OverflowError)
        _answer(participant="Bob").replace("Bob", "B\\ud800b"),  # a lone surrogate: not writable as UTF-8
        _answer(image_id="img2/real", answer="x" * 17_000_000),  # a 17 MB bad value
        _answer(participant="\u001b[2J\nfake line"),  # escape codes in a name
        _answer(image_id="img3/real").replace("1.0", "9" * 5000),  # past Python's own integer limit
    ]
    handed_in.write_text("\n".join(lines) + "\n")
    out = tmp_path / "class.jsonl"
    assert cli.main(["study", "merge", str(handed_in), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert len(err) == 6 and all(line.startswith(f"skipped: {handed_in}, line ") for line in err)
    assert [int(line.split(", line ")[1].split(":")[0]) for line in err] == [2, 3, 4, 5, 6, 7]
    assert "nested too deeply" in err[0] and "'timestamp' must be a number" in err[1]
    assert "a lone surrogate" in err[2] and "control characters" in err[4]
    assert len(captured.err) < 2000 and "(17,000,002 characters)" in err[3]
    assert "\x1b" not in captured.err
    assert "1 answers from 1 participant(s)" in captured.out


def test_study_merge_into_a_folder_it_cannot_write_is_one_line(tmp_path, capsys, monkeypatch):
    handed_in = tmp_path / "a.jsonl"
    handed_in.write_text(_answer() + "\n")
    real_open = open

    def read_only_folder(path, mode="r", *args, **kwargs):
        if "x" in mode:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(study, "open", read_only_folder, raising=False)
    out = tmp_path / "ro" / "class.jsonl"
    assert cli.main(["study", "merge", str(handed_in), "-o", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {out}: cannot write the merged file there (Permission denied)"]
    assert not out.exists() and not list((tmp_path / "ro").iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_study_merge_into_a_real_read_only_folder(tmp_path, capsys):
    handed_in = tmp_path / "a.jsonl"
    handed_in.write_text(_answer() + "\n")
    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o555)
    try:
        assert cli.main(["study", "merge", str(handed_in), "-o", str(tmp_path / "ro" / "c.jsonl")]) == 1
    finally:
        os.chmod(tmp_path / "ro", 0o755)
    assert "cannot write the merged file there" in capsys.readouterr().err


# -- 8, 9. values refused where they are parsed; one line where a traceback was ------------------


@pytest.mark.parametrize("value", ["0", "-5", "31", "big"])
def test_work_size_must_be_a_real_size(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as e:
        cli.main(["colorize", str(tmp_path / "a.jpg"), "--work-size", value])
    assert e.value.code == 2
    assert "argument --work-size: must be a whole number" in capsys.readouterr().err


def test_style_without_fusion_and_an_unknown_split_are_one_line(tmp_path, capsys):
    a = photo(tmp_path / "a.jpg")
    assert cli.main(["colorize", str(a), "--method", "gray", "--style", str(a), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--style needs --method fusion" in err
    assert not (tmp_path / "a_gray.png").exists()
    assert cli.main(["evaluate", "--split", "bogus", "--method", "gray", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--split bogus: not a course-pack split" in err


def test_an_output_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    taken = tmp_path / "results"
    taken.write_bytes(b"the user's notes")
    assert colorize(photo(tmp_path / "a.jpg"), "-o", taken) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file: -o names the folder" in err
    assert taken.read_bytes() == b"the user's notes"


def test_an_unexpected_error_is_one_line_and_debug_shows_it(tmp_path, capsys, monkeypatch):
    from colorcourse import methods

    def broken_load(*args, **kwargs):
        raise RuntimeError("something deep went wrong")

    monkeypatch.setattr(methods, "load", broken_load)
    a = photo(tmp_path / "a.jpg")
    assert colorize(a) == 1
    assert capsys.readouterr().err.splitlines() == ["error: RuntimeError: something deep went wrong"]
    with pytest.raises(RuntimeError, match="something deep"):
        colorize(a, "--debug")


def test_a_failing_photo_is_one_line_and_debug_raises_it(tmp_path, capsys):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    good = photo(tmp_path / "good.jpg")
    assert colorize(tmp_path / "broken.jpg", good, "-o", tmp_path / "out") == 1
    assert "1 written, 1 failed" in capsys.readouterr().out
    from colorcourse.imageio import ImageLoadError

    with pytest.raises(ImageLoadError):
        colorize(tmp_path / "broken.jpg", "-o", tmp_path / "out2", "--debug")


# -- 10. names printed with control characters escaped -----------------------------------------


def test_a_file_name_with_escape_codes_and_a_newline_is_printed_escaped(tmp_path, capsys):
    hostile = tmp_path / "x\x1b[2J\nerror: all photos deleted.jpg"
    hostile.write_bytes(b"not an image")
    assert colorize(hostile, "-o", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1
    assert "x\\x1b[2J\\nerror: all photos deleted.jpg" in err


def test_printable_escapes_and_shortens():
    assert printable("plain name.jpg") == "plain name.jpg"
    assert printable("a\x1b[31mb\nc\td\x7f") == "a\\x1b[31mb\\nc\\td\\x7f"
    assert printable("evil\u202egpj.exe") == "evil\\u202egpj.exe"  # a right-to-left override
    assert printable("bytes\udcff") == "bytes\\udcff"  # an undecodable byte of a file name
    assert printable("x" * 1000, limit=10) == "xxxxxxxxxx... (1,000 characters)"


# -- 7. the argument types the training commands share (their options: test_training_args.py) -----


def test_argument_types():
    assert [boolean(s) for s in ("true", "False", "YES", "no", "1", "0")] == [True, False, True, False, True, False]
    import argparse

    for bad in ("ture", "", "2"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be true or false"):
            boolean(bad)
    at_least_3 = int_at_least(3)
    assert at_least_3("3") == 3
    for bad in ("2", "-1", "3.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            at_least_3(bad)
    assert positive_float("0.5") == 0.5
    for bad in ("0", "-1", "nan", "inf", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_float(bad)


# -- multi-frame files ------------------------------------------------------------------------------


def test_animated_gif_and_multipage_tiff_say_the_first_frame_was_used(tmp_path, capsys):
    frames = [Image.fromarray(np.full((16, 16, 3), v, np.uint8)) for v in (40, 200, 120)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:2])
    still = photo(tmp_path / "still.png")
    assert colorize(tmp_path / "anim.gif", tmp_path / "pages.tif", still, "-o", tmp_path / "out") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {tmp_path / 'anim.gif'}: 3 frames: only the first was colorized "
                        "(extract the others to colorize them)",
                        f"warning: {tmp_path / 'pages.tif'}: 2 pages: only the first was colorized "
                        "(extract the others to colorize them)"]
    np.testing.assert_allclose(load_rgb(tmp_path / "out" / "anim_gray.png"), 40 / 255, atol=1 / 255)

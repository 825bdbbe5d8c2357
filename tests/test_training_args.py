"""Every value of the training commands is checked where it is parsed (issue 20, reproduction 7):
one argparse line naming the option and exit code 2 before any photo is loaded; any later error
is one line and exit code 1."""

import pytest


def _parse_error(main, argv, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize("argv, option", [
    (["--use-global", "ture"], "--use-global"),
    (["--steps", "0"], "--steps"),
    (["--steps", "-3"], "--steps"),
    (["--batch-size", "0"], "--batch-size"),
    (["--crop", "0"], "--crop"),
    (["--width", "0"], "--width"),
    (["--rarity", "2"], "--rarity"),
    (["--lr", "nan"], "--lr"),
    (["--limit", "0"], "--limit"),
    (["--workers", "-1"], "--workers"),
])
def test_fusion_training_refuses_bad_values_before_training(tmp_path, capsys, argv, option):
    from colorcourse.fusion import train

    line = _parse_error(train.main, [*argv, "--out", str(tmp_path / "m.safetensors")], capsys)
    assert f"argument {option}" in line
    assert not (tmp_path / "m.safetensors").exists()


def test_fusion_training_types_every_option_and_reads_booleans():
    from dataclasses import fields

    from colorcourse.fusion import train

    parser = train.build_parser()
    for f in fields(train.TrainConfig):
        if f.name not in ("n_classes", "classes") and not isinstance(getattr(train.TrainConfig(), f.name), str):
            assert f.name in train.OPTION_TYPES, f"--{f.name} has no checked type"
    assert parser.parse_args(["--use-global", "false", "--out", "x"]).use_global is False
    assert parser.parse_args(["--use-global", "True", "--out", "x"]).use_global is True


@pytest.mark.parametrize("module, argv, option", [
    ("colorcourse.fusion.train_pretrained", ["--steps", "0"], "--steps"),
    ("colorcourse.fusion.train_pretrained", ["--batch", "-1"], "--batch"),
    ("colorcourse.fusion.train_pretrained", ["--lr", "0"], "--lr"),
    ("colorcourse.fusion.train_pretrained", ["--extra-splits", "shift_val"], "--extra-splits"),
    ("colorcourse.fusion.train_pretrained", ["--extra-splits", "test"], "--extra-splits"),
    ("colorcourse.fusion.train_pretrained", ["--scale-range", "2,1"], "--scale-range"),
    ("colorcourse.fusion.train_pretrained", ["--scale-range", "0.5"], "--scale-range"),
    ("colorcourse.fusion.train_hinted", ["--extra-splits", "shift_test"], "--extra-splits"),
    ("colorcourse.cheng.train", ["--epochs", "0"], "--epochs"),
    ("colorcourse.cheng.train", ["--per-image", "-3"], "--per-image"),
    ("colorcourse.fusion.alpha_sweep", ["--out", "x.csv", "--steps", "0"], "--steps"),
    ("colorcourse.fusion.alpha_sweep", ["--out", "x.csv", "--alphas", "-1"], "--alphas"),
])
def test_other_training_commands_refuse_bad_values(capsys, module, argv, option):
    import importlib

    main = importlib.import_module(module).main
    assert f"argument {option}" in _parse_error(main, argv, capsys)


def test_a_training_error_is_one_line(tmp_path, capsys):
    from colorcourse.fusion import train

    code = train.main(["--photos", str(tmp_path / "nowhere"), "--steps", "1", "--out", str(tmp_path / "m.safetensors")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error:") and "nowhere" in err[0]

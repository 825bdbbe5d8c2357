"""`make models`: the recorded training commands, redirected away from the shipped models."""

from pathlib import Path

from colorcourse import train_defaults
from colorcourse.fusion.report import TRAINING_COMMANDS


def test_every_recorded_fusion_command_is_redirected_into_the_output_folder(tmp_path):
    for name, command in TRAINING_COMMANDS.items():
        args = train_defaults.fusion_arguments(command, tmp_path)
        assert args[args.index("--out") + 1] == str(tmp_path / f"{name}.safetensors")
        assert "python" not in args and "colorcourse.fusion.train" not in args
        assert "models/" not in " ".join(args)  # nothing left pointing at the shipped models


def test_existing_models_are_never_overwritten_without_force(tmp_path, capsys):
    mine = tmp_path / "fusion_full.safetensors"
    mine.write_bytes(b"a student's model")
    assert train_defaults.main(["--out", str(tmp_path), "--only", "fusion"]) == 2
    assert "fusion_full.safetensors" in capsys.readouterr().err
    assert mine.read_bytes() == b"a student's model"


def test_models_folder_follows_the_environment(monkeypatch, tmp_path):
    from colorcourse.paths import models_dir, repo_root

    monkeypatch.delenv("COLORCOURSE_MODELS", raising=False)
    assert models_dir() == repo_root() / "models"
    monkeypatch.setenv("COLORCOURSE_MODELS", str(tmp_path))
    assert models_dir() == Path(tmp_path).resolve()


def test_pretrained_commands_are_redirected_and_refuse_to_overwrite(tmp_path, capsys):
    from colorcourse.fusion import train_pretrained

    for name, command in train_pretrained.TRAINING_COMMANDS.items():
        args = train_defaults.fusion_arguments(command, tmp_path, "colorcourse.fusion.train_pretrained")
        assert args[args.index("--out") + 1] == str(tmp_path / f"{name}.safetensors")
        assert "models/" not in " ".join(args)
    mine = tmp_path / "pretrained_fusion.safetensors"
    mine.write_bytes(b"a student's decoder")
    assert train_defaults.main(["--out", str(tmp_path), "--only", "pretrained"]) == 2
    assert "exists" in capsys.readouterr().err
    assert mine.read_bytes() == b"a student's decoder"

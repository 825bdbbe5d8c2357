"""The guided and by-example evaluations and the hint network's training end an error in one line."""

import pytest

from colorcourse import exemplar_eval, guided_eval
from colorcourse.fusion import train_hinted


def _boom(*_, **__):
    raise RuntimeError("disk on fire\nsecond line")


@pytest.mark.parametrize("module, argv", [
    (guided_eval, ["--split", "shift_val", "--limit", "2"]),
    (exemplar_eval, ["--limit", "2"]),
    (train_hinted, []),
])
def test_an_error_is_one_line_and_exit_1_and_debug_shows_the_traceback(module, argv, tmp_path, monkeypatch, capsys):
    suffix = ".safetensors" if module is train_hinted else ".csv"
    argv = argv + ["--out", str(tmp_path / f"result{suffix}")]
    monkeypatch.setattr(exemplar_eval, "load_hint_model", _boom)  # after the split is read
    monkeypatch.setattr(guided_eval, "load_methods", _boom)
    monkeypatch.setattr(train_hinted, "train", _boom)
    assert module.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "disk on fire" in err and "Traceback" not in err and len(err.splitlines()) == 1
    with pytest.raises(RuntimeError, match="disk on fire"):
        module.main(argv + ["--debug"])


def test_a_split_that_cannot_be_read_is_one_escaped_line(tmp_path, monkeypatch, capsys):
    from colorcourse import coursepack

    monkeypatch.setattr(coursepack, "load_split", _boom)
    assert guided_eval.main(["--split", "shift_val", "--out", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --split shift_val: RuntimeError: disk on fire second line"

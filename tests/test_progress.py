"""Progress output: a tqdm bar on a terminal, two plain lines per step in a log."""

import io

from tqdm.auto import tqdm

from colorcourse.progress import LineProgress, on_terminal, progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_in_a_log_each_step_writes_a_start_and_an_end_line_and_no_carriage_return():
    log = io.StringIO()
    bar = progress_bar(range(500), desc="screening candidates", file=log)
    assert isinstance(bar, LineProgress)
    seen = [i for i in bar]
    bar.close()  # a second close writes nothing more
    assert seen == list(range(500))
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0] == "screening candidates: started (its: 0 of 500)"
    assert lines[1].startswith("screening candidates: done, 500 its in ") and lines[1].endswith(" s")


def test_line_progress_counts_updates_and_postfix_and_disable_prints_nothing():
    log = io.StringIO()
    with progress_bar(total=10, desc="train", file=log, unit="step") as bar:
        for _ in range(10):
            bar.update(1)
        bar.set_postfix({"loss": "0.1234"}, refresh=False)
    last = log.getvalue().splitlines()[-1]
    assert last.startswith("train: done, 10 steps in ") and last.endswith("(loss=0.1234)")
    quiet = io.StringIO()
    assert list(progress_bar([1, 2], desc="x", disable=True, file=quiet)) == [1, 2]
    assert quiet.getvalue() == ""


def test_on_a_terminal_it_is_tqdm():
    terminal = FakeTerminal()
    assert on_terminal(terminal) and not on_terminal(io.StringIO())
    bar = progress_bar(range(3), desc="x", file=terminal)
    assert isinstance(bar, tqdm)
    assert list(bar) == [0, 1, 2]
    assert "\r" in terminal.getvalue()  # tqdm redraws in place


def test_the_pack_builder_writes_lines_not_bar_updates_into_a_log(capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "data_scripts"))
    import build_course_pack as builder
    from skimage import data as skdata

    def png(rgb):
        buffer = io.BytesIO()
        from PIL import Image

        Image.fromarray(rgb).save(buffer, format="PNG")
        return buffer.getvalue()

    cands = [builder.Candidate(f"c{i}", "animals", "pypi", "x", "0", "p", "CC0-1.0", "t",
                               read=lambda b=png(skdata.chelsea()): b) for i in range(3)]
    accepted, _ = builder.screen(cands, progress=True)
    err = capsys.readouterr().err  # pytest's capture is not a terminal, like a log file
    assert len(accepted) == 3
    assert "\r" not in err and len(err.splitlines()) == 2 and "screening candidates: done, 3" in err

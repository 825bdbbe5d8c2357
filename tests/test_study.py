"""The naturalness study: append-only log safe for concurrent writers, Wilson intervals, the deck."""

import json
import multiprocessing
import os
import re

import numpy as np
import pytest

from colorcourse.study import (REAL, StudyLog, StudyLogError, StudySession, build_study_deck,
                               naturalness_table, wilson_interval)


class _Photo:
    def __init__(self, name, rgb):
        self.name, self.rgb = name, rgb


def _photos(n=6):
    rng = np.random.default_rng(0)
    return [_Photo(f"p{i}", rng.random((16, 20, 3)).astype(np.float32)) for i in range(n)]


def _writer(path, participant, count):
    log = StudyLog(path)
    for i in range(count):
        log.append(participant, f"img{i}", "fusion" if i % 2 else REAL, "natural" if i % 3 else "unnatural")


def test_two_processes_appending_at_once_lose_nothing(tmp_path):
    path = tmp_path / "answers.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, name, 200)) for name in ("ann", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 400
    records = [json.loads(line) for line in lines]  # every line whole and parseable
    for name in ("ann", "bob"):
        mine = [r for r in records if r["participant"] == name]
        assert [r["image_id"] for r in mine] == [f"img{i}" for i in range(200)]  # in order, none lost
    assert set(records[0]) == {"participant", "image_id", "method", "answer", "timestamp"}


def test_a_new_log_on_the_same_file_keeps_earlier_answers(tmp_path):
    path = tmp_path / "study" / "answers.jsonl"
    StudyLog(path).append("ann", "a/real", REAL, "natural", timestamp=1.0)
    before = path.read_bytes()
    log = StudyLog(path)  # "kernel restart": a fresh object on the same file
    log.append("bob", "b/fusion", "fusion", "unnatural", timestamp=2.0)
    assert path.read_bytes().startswith(before)  # never truncated or rewritten
    assert [(r["participant"], r["answer"]) for r in log.records()] == [("ann", "natural"), ("bob", "unnatural")]


def test_bad_answers_are_refused_and_nothing_is_written(tmp_path):
    log = StudyLog(tmp_path / "a.jsonl")
    with pytest.raises(ValueError, match="answer must be"):
        log.append("ann", "x", REAL, "maybe")
    with pytest.raises(ValueError, match="participant"):
        log.append("  ", "x", REAL, "natural")
    assert log.records() == []


def test_a_corrupted_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "a.jsonl"
    StudyLog(path).append("ann", "x", REAL, "natural")
    with open(path, "a") as f:
        f.write("{not json\n")
    with pytest.raises(StudyLogError, match="line 2"):
        StudyLog(path).records()


@pytest.mark.parametrize("k, n, low, high", [
    (5, 10, 0.2366, 0.7634),   # textbook values (Wilson 1927; Newcombe 1998 method 3)
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),  # a commonly quoted worked example
])
def test_wilson_interval_known_values(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize("k, n", [(1, 7), (30, 40), (926, 1000)])
def test_wilson_bounds_solve_the_score_equation(k, n):
    # The Wilson bounds are the p with |p_hat - p| = z sqrt(p (1 - p) / n).
    z = 1.959963984540054
    for p in wilson_interval(k, n):
        assert (k / n - p) ** 2 == pytest.approx(z * z * p * (1 - p) / n, rel=1e-9, abs=1e-12)


def test_naturalness_table_per_method(tmp_path):
    path = tmp_path / "a.jsonl"
    log = StudyLog(path)
    for i in range(10):
        log.append(f"s{i % 3}", f"r{i}", REAL, "natural" if i < 9 else "unnatural")
    for i in range(4):
        log.append("s0", f"f{i}", "fusion", "natural" if i < 2 else "unnatural")
    table = naturalness_table(path)
    assert table.loc[REAL, "answers"] == 10 and table.loc[REAL, "natural"] == 9
    assert table.loc[REAL, "naturalness"] == pytest.approx(0.9)
    assert table.loc[REAL, "participants"] == 3
    assert (table.loc["fusion", "ci_low"], table.loc["fusion", "ci_high"]) == pytest.approx(wilson_interval(2, 4))
    assert naturalness_table(tmp_path / "nobody.jsonl").empty


def test_deck_is_balanced_shuffled_and_reproducible():
    photos = _photos(6)
    methods = {"gray": lambda g: np.repeat(g[..., None], 3, -1), "tint": lambda g: np.stack([g, g * 0.5, g], -1)}
    deck = build_study_deck(photos, methods, n=6, seed=3)
    assert len(deck) == 6
    assert len({item.photo for item in deck}) == 6  # each photo once: no photo in two versions
    counts = {m: sum(item.method == m for item in deck) for m in (REAL, *methods)}
    assert counts == {REAL: 2, "gray": 2, "tint": 2}
    for item in deck:
        original = next(p for p in photos if p.name == item.photo).rgb
        if item.method == REAL:
            np.testing.assert_array_equal(item.rgb, original)
        else:
            assert not np.allclose(item.rgb, original)
            assert item.image_id == f"{item.photo}/{item.method}"
    again = build_study_deck(photos, methods, n=6, seed=3)
    assert [i.image_id for i in again] == [i.image_id for i in deck]
    other = build_study_deck(photos, methods, n=6, seed=4)
    assert [i.image_id for i in other] != [i.image_id for i in deck]
    with pytest.raises(ValueError, match="n must be"):
        build_study_deck(photos, methods, n=7)


def test_session_records_each_answer_and_stops_at_the_end(tmp_path):
    deck = build_study_deck(_photos(3), {"gray": lambda g: np.repeat(g[..., None], 3, -1)}, seed=0)
    log = StudyLog(tmp_path / "a.jsonl")
    session = StudySession(deck, log, " carol ")
    for answer in ("natural", "unnatural", "natural"):
        session.answer(answer)
    assert session.done and session.current() is None
    with pytest.raises(ValueError, match="finished"):
        session.answer("natural")
    records = log.records()
    assert [r["image_id"] for r in records] == [item.image_id for item in deck]
    assert {r["participant"] for r in records} == {"carol"}
    with pytest.raises(ValueError, match="participant"):
        StudySession(deck, log, "")


def test_study_widget_buttons_record_answers(tmp_path):
    from colorcourse.study import study_widget

    deck = build_study_deck(_photos(2), {"gray": lambda g: np.repeat(g[..., None], 3, -1)}, seed=1)
    log = StudyLog(tmp_path / "a.jsonl")
    box = study_widget(deck, log)
    (name, start), status, image, (natural, unnatural) = (box.children[0].children, box.children[1],
                                                          box.children[2], box.children[3].children)
    start.click()
    assert "participant" in status.value and log.records() == []  # no name: nothing starts
    name.value = "dana"
    start.click()
    assert status.value == "1 / 2" and image.value
    natural.click()
    unnatural.click()
    assert status.value == "done, thank you" and natural.disabled
    assert [(r["image_id"], r["answer"]) for r in log.records()] == [
        (deck[0].image_id, "natural"), (deck[1].image_id, "unnatural")]


# -- a real class: export, merge -----------------------------------------------------------

import hashlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

from colorcourse import cli  # noqa: E402
from colorcourse.study import export_answers, merge_answer_files, read_answers  # noqa: E402

CLASS = {"Ann Smith": 30, "Bob Jones": 30, "Carol Diaz": 20, "Dan Okafor": 25}


def _hand_counts(counts):
    """Per method (answers, natural) of the _writer pattern, counted the slow obvious way."""
    table = {REAL: [0, 0], "fusion": [0, 0]}
    for n in counts:
        for i in range(n):
            method = "fusion" if i % 2 else REAL
            table[method][0] += 1
            table[method][1] += 1 if i % 3 else 0
    return {m: tuple(v) for m, v in table.items()}


@pytest.fixture
def class_files(tmp_path):
    """Answer files as a class hands them in, written by four processes at once.

    section_a.jsonl: Ann and Bob on one machine (two processes, one file); carol.jsonl,
    dan.jsonl: their own. Dan's study crashed mid-answer: his last line is half a JSON object.
    Carol handed in an export of her log as well (exact duplicates). Ann ran the study again
    later and judged img0 and img1 a second time, the other way round.
    """
    folder = tmp_path / "handed_in"
    folder.mkdir()
    targets = {"Ann Smith": "section_a.jsonl", "Bob Jones": "section_a.jsonl",
               "Carol Diaz": "carol.jsonl", "Dan Okafor": "dan.jsonl"}
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(folder / targets[name], name, n)) for name, n in CLASS.items()]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with open(folder / "dan.jsonl", "a") as f:
        f.write('{"answer": "natural", "image_id": "img25", "method": "re')  # the crash
    assert StudyLog(folder / "carol.jsonl").export(folder / "carol_export.jsonl") == 20
    again = StudyLog(folder / "ann_again.jsonl")
    again.append("Ann Smith", "img0", REAL, "natural")  # first time: unnatural (0 % 3 == 0)
    again.append("Ann Smith", "img1", "fusion", "unnatural")  # first time: natural
    # ann_again first on the command line: "first" means first in time, not first in the list
    return [folder / name for name in ("ann_again.jsonl", "section_a.jsonl", "carol.jsonl",
                                       "carol_export.jsonl", "dan.jsonl")]


def test_merge_of_a_class(class_files, tmp_path):
    out = tmp_path / "class.jsonl"
    report = merge_answer_files(class_files, out, salt="pepper")
    # exactly the truncated line is skipped, named by file and line
    assert len(report.bad_lines) == 1
    assert report.bad_lines[0].startswith(f"{class_files[-1]}, line 26: not valid JSON")
    assert "cut off" in report.bad_lines[0]
    assert report.answers_read == 2 + 60 + 20 + 20 + 25
    assert report.duplicates == 20  # carol's export
    assert report.written == 105 == len(out.read_text().splitlines())
    assert report.participants == 4
    hashed = {name: hashlib.sha256(("pepper" + name).encode()).hexdigest() for name in CLASS}
    assert sorted(report.repeats) == sorted([(hashed["Ann Smith"], "img0"), (hashed["Ann Smith"], "img1")])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    # the first answers are kept
    ann = {r["image_id"]: r["answer"] for r in records if r["participant"] == hashed["Ann Smith"]}
    assert ann["img0"] == "unnatural" and ann["img1"] == "natural" and len(ann) == 30
    # names are hashed: the pseudonyms are sha256(salt + name), no name is left in the file
    assert {r["participant"] for r in records} == set(hashed.values())
    text = out.read_text()
    assert not any(part in text for name in CLASS for part in name.split())
    # one answer per (participant, image), sorted by time
    assert len({(r["participant"], r["image_id"]) for r in records}) == len(records)
    assert [r["timestamp"] for r in records] == sorted(r["timestamp"] for r in records)
    # the table: counts as counted by hand (see _hand_counts; literally 53 / 34 and 52 / 35)
    expected = _hand_counts(CLASS.values())
    assert expected == {REAL: (53, 34), "fusion": (52, 35)}
    table = report.table
    for method, (n, k) in expected.items():
        assert (table.loc[method, "answers"], table.loc[method, "natural"]) == (n, k)
        assert table.loc[method, "participants"] == 4
        assert (table.loc[method, "ci_low"], table.loc[method, "ci_high"]) == pytest.approx(wilson_interval(k, n))
    assert table.equals(naturalness_table(out))


def test_merge_never_overwrites_and_hashes_consistently(class_files, tmp_path):
    out = tmp_path / "class.jsonl"
    first = merge_answer_files(class_files, out)
    assert first.salt_generated and len(first.salt) == 32
    before = out.read_bytes()
    with pytest.raises(FileExistsError, match="choose another name"):
        merge_answer_files(class_files, out)
    with pytest.raises(FileExistsError, match="choose another name"):
        merge_answer_files(class_files, out, keep_names=True)
    assert out.read_bytes() == before
    # a file the teacher already has is refused as well, and a missing input stops everything
    mine = tmp_path / "mine.jsonl"
    mine.write_text("my own notes\n")
    with pytest.raises(FileExistsError):
        merge_answer_files(class_files, mine)
    assert mine.read_text() == "my own notes\n"
    with pytest.raises(FileNotFoundError, match="nobody.jsonl"):
        merge_answer_files([*class_files, tmp_path / "nobody.jsonl"], tmp_path / "other.jsonl")
    assert not (tmp_path / "other.jsonl").exists()
    # the same salt gives the same pseudonyms; keep_names keeps the names
    again = merge_answer_files(class_files, tmp_path / "again.jsonl", salt=first.salt)
    assert not again.salt_generated
    assert (tmp_path / "again.jsonl").read_bytes() == before
    named = merge_answer_files(class_files, tmp_path / "named.jsonl", keep_names=True)
    assert named.salt is None
    names = {json.loads(line)["participant"] for line in (tmp_path / "named.jsonl").read_text().splitlines()}
    assert names == set(CLASS)
    with pytest.raises(ValueError, match="one or the other"):
        merge_answer_files(class_files, tmp_path / "x.jsonl", salt="s", keep_names=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary files left


def _merge_into(files, out, queue):
    try:
        merge_answer_files(files, out, salt="s")
        queue.put("written")
    except FileExistsError:
        queue.put("refused")


def test_two_merges_at_once_write_the_file_once(class_files, tmp_path):
    out = tmp_path / "class.jsonl"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_merge_into, args=(class_files, out, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = sorted(queue.get(timeout=5) for _ in procs)
    assert outcomes.count("written") >= 1 and outcomes.count("written") + outcomes.count("refused") == 4
    # whoever won, the file is one complete merge (never two interleaved or a half one)
    assert len(out.read_text().splitlines()) == 105


def test_every_bad_line_is_named_and_skipped(tmp_path):
    path = tmp_path / "messy.jsonl"
    good = {"participant": "eve", "image_id": "a/real", "method": REAL, "answer": "natural", "timestamp": 1.0}
    lines = [
        json.dumps(good),                                                    # 1 fine
        "{not json",                                                         # 2
        json.dumps([1, 2]),                                                  # 3 not an object
        json.dumps({k: v for k, v in good.items() if k not in ("answer", "method")}),  # 4 missing two
        json.dumps({**good, "participant": 5}),                              # 5 wrong type
        json.dumps({**good, "timestamp": "yesterday"}),                      # 6
        json.dumps({**good, "answer": "maybe"}),                             # 7
        "",                                                                  # 8 blank: ignored
        json.dumps({**good, "timestamp": True}),                             # 9 a bool is no time
        json.dumps({**good, "image_id": "  "}),                              # 10 empty
        json.dumps({**good, "image_id": "b/fusion", "method": "fusion", "timestamp": 2, "extra": 1}),  # 11 fine
    ]
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")            # 12 not UTF-8
    records, problems = read_answers(path)
    assert [r["image_id"] for r in records] == ["a/real", "b/fusion"]
    assert set(records[1]) == {"participant", "image_id", "method", "answer", "timestamp"}  # extra dropped
    numbers = [int(p.split(", line ")[1].split(":")[0]) for p in problems]
    assert numbers == [2, 3, 4, 5, 6, 7, 9, 10, 12]
    assert all(p.startswith(f"{path}, line ") for p in problems)
    reasons = dict(zip(numbers, problems))
    assert "not valid JSON" in reasons[2] and "cut off" not in reasons[2]  # a complete line, just broken
    assert "not an object" in reasons[3]
    assert "missing fields 'method', 'answer'" in reasons[4]
    assert "'participant' must be a non-empty string, got 5" in reasons[5]
    assert "'timestamp' must be a number" in reasons[6] and "'timestamp' must be a number" in reasons[9]
    assert "'answer' must be one of" in reasons[7]
    assert "not UTF-8" in reasons[12]
    # the merge reports the same lines and carries on
    report = merge_answer_files([path], tmp_path / "out.jsonl", keep_names=True)
    assert report.bad_lines == problems and report.written == 2
    # nothing valid at all: an error, and no file
    junk = tmp_path / "junk.jsonl"
    junk.write_text("{\n[]\n")
    with pytest.raises(ValueError, match=r"no valid answers.*\n.*junk.jsonl, line 1"):
        merge_answer_files([junk], tmp_path / "none.jsonl")
    assert not (tmp_path / "none.jsonl").exists()


def test_small_merge_table_by_hand(tmp_path):
    # two students, five images; Fay's second "c/fusion" is a repeat, Gus's file repeats a line
    fay, gus = tmp_path / "fay.jsonl", tmp_path / "gus.jsonl"
    log = StudyLog(fay)
    log.append("Fay", "a/real", REAL, "natural", timestamp=10)
    log.append("Fay", "b/real", REAL, "natural", timestamp=11)
    log.append("Fay", "c/fusion", "fusion", "unnatural", timestamp=12)
    log.append("Fay", "c/fusion", "fusion", "natural", timestamp=13)  # repeat: dropped
    log = StudyLog(gus)
    log.append("Gus", "a/real", REAL, "unnatural", timestamp=20)
    log.append("Gus", "c/fusion", "fusion", "natural", timestamp=21)
    log.append("Gus", "c/fusion", "fusion", "natural", timestamp=21)  # exact duplicate: dropped
    log.append("Gus", "d/cheng", "cheng", "natural", timestamp=22)
    report = merge_answer_files([gus, fay], tmp_path / "class.jsonl", keep_names=True)
    assert (report.written, report.duplicates, report.repeats) == (6, 1, [("Fay", "c/fusion")])
    table = report.table
    assert table["answers"].to_dict() == {"cheng": 1, "fusion": 2, REAL: 3}
    assert table["natural"].to_dict() == {"cheng": 1, "fusion": 1, REAL: 2}
    assert table["participants"].to_dict() == {"cheng": 1, "fusion": 2, REAL: 2}
    assert table.loc[REAL, "naturalness"] == pytest.approx(2 / 3)
    assert table.loc["fusion", "ci_low"] == pytest.approx(0.0945, abs=1e-4)  # Wilson, 1 of 2
    assert table.loc["fusion", "ci_high"] == pytest.approx(0.9055, abs=1e-4)


def test_export_one_participant(tmp_path):
    log = StudyLog(tmp_path / "shared.jsonl")
    log.append("Hal", "a/real", REAL, "natural", timestamp=1)
    log.append("Ida", "a/real", REAL, "unnatural", timestamp=2)
    log.append("Hal", "b/fusion", "fusion", "unnatural", timestamp=3)
    with open(log.path, "a") as f:
        f.write('{"participant": "Hal", "ima')  # a crash while Hal answered
    out = tmp_path / "hand_in" / "hal.jsonl"
    with pytest.warns(UserWarning, match="shared.jsonl, line 4"):
        assert log.export(out, participant=" Hal ") == 2
    assert [(r["image_id"], r["answer"]) for r in StudyLog(out).records()] == [
        ("a/real", "natural"), ("b/fusion", "unnatural")]
    before = out.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FileExistsError, match="choose another name"):
            log.export(out, participant="Hal")
        assert out.read_bytes() == before
        with pytest.raises(ValueError, match="no answer from 'Hak'.*spelling"):
            export_answers(log.path, tmp_path / "hak.jsonl", participant="Hak")
        assert not (tmp_path / "hak.jsonl").exists()
        assert export_answers(log.path, tmp_path / "all.jsonl") == 3  # everyone's


def test_cli_study_merge(class_files, tmp_path, capsys):
    out = tmp_path / "class.jsonl"
    args = ["study", "merge", *map(str, class_files), "-o", str(out)]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == captured.err.strip().splitlines()[0]  # one skipped line, no more
    assert captured.err.startswith(f"skipped: {class_files[-1]}, line 26: not valid JSON")
    assert "105 answers from 4 participant(s)" in captured.out
    salt = re.search(r"generated salt ([0-9a-f]{32})", captured.out).group(1)
    hashes = {json.loads(line)["participant"] for line in out.read_text().splitlines()}
    assert hashes == {hashlib.sha256((salt + name).encode()).hexdigest() for name in CLASS}
    row = re.search(r"^real\s+53\s+34\s+0\.642\s+(\S+)\s+(\S+)\s+4$", captured.out, re.M)
    assert row, captured.out
    low, high = wilson_interval(34, 53)
    assert (float(row.group(1)), float(row.group(2))) == pytest.approx((low, high), abs=6e-4)
    assert re.search(r"^fusion\s+52\s+35\s", captured.out, re.M)
    # never overwritten: refused with a clear message, file unchanged
    before = out.read_bytes()
    assert cli.main(args) == 1
    assert "choose another name" in capsys.readouterr().err
    assert out.read_bytes() == before
    # --keep-names, and --salt with --keep-names is an argument error
    assert cli.main(["study", "merge", *map(str, class_files), "-o", str(tmp_path / "n.jsonl"), "--keep-names"]) == 0
    assert "Carol Diaz" in (tmp_path / "n.jsonl").read_text() and "salt" not in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        cli.main(["study", "merge", str(class_files[0]), "-o", str(tmp_path / "m.jsonl"), "--salt", "s",
                  "--keep-names"])
    assert e.value.code == 2


def test_study_help_imports_neither_torch_nor_pandas():
    check = (
        "import sys, colorcourse.cli as cli\n"
        "for argv in (['study'], ['study', 'merge', 'a.jsonl']):\n"
        "    try:\n"
        "        cli.build_parser().parse_args(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 2, e.code\n"
        "print('heavy:', sorted(m for m in ('torch', 'pandas') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heavy: []"
    assert "-o/--output" in result.stderr  # merge without -o: argparse names the missing option
    shown = subprocess.run([sys.executable, "-m", "colorcourse.cli", "study", "merge", "--help"],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "--keep-names" in shown.stdout

"""The naturalness study: append-only log safe for concurrent writers, Wilson intervals, the deck."""

import json
import multiprocessing
import os

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

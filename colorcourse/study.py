"""A naturalness study the class can run, as Iizuka et al. did (92.6% natural for their method,
97.7% for real photos).

Taught in notebooks/09_comparison.ipynb.

Participants see a shuffled mix of real photos and colorizations, one at a time, and answer
"natural" or "unnatural". Every answer is one JSON line appended to a log file:

- appended, never rewritten: the file survives kernel restarts and a crash loses at most the
  answer being written;
- each append holds an exclusive ``fcntl.flock`` lock and is a single ``write`` of one whole
  line to a file opened in append mode, so two participants answering at once (two kernels,
  two processes) lose nothing and never interleave half lines.

:func:`naturalness_table` reads the log back: the share of "natural" answers per method with a
Wilson 95% confidence interval (a handful of answers gives a wide interval: say so).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .color import rgb_to_gray

ANSWERS = ("natural", "unnatural")
REAL = "real"  # the method name of the untouched photos


class StudyLogError(ValueError):
    """A line of the study log is not a valid answer record."""


class StudyLog:
    """An append-only JSON-lines file of answers, safe for several concurrent writers."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, participant: str, image_id: str, method: str, answer: str,
               timestamp: float | None = None) -> dict:
        """Record one answer; returns the record written."""
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}, got {answer!r}")
        for field_name, value in (("participant", participant), ("image_id", image_id), ("method", method)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{field_name} must be a non-empty string, got {value!r}")
        record = {"participant": participant.strip(), "image_id": image_id, "method": method,
                  "answer": answer, "timestamp": time.time() if timestamp is None else float(timestamp)}
        line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
        # O_APPEND: every write lands at the current end of file, never over earlier answers.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                written = 0
                while written < len(line):  # a short write (rare) must not leave half a line
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return record

    def records(self) -> list[dict]:
        """Every answer in the order written; an empty list when nobody has answered yet."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, "rb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH)  # never read a line while it is being written
            try:
                lines = f.read().decode("utf-8").splitlines()
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise StudyLogError(f"{self.path}, line {number} is not JSON: {e}") from None
            if record.get("answer") not in ANSWERS or "method" not in record:
                raise StudyLogError(f"{self.path}, line {number} is not an answer record: {line!r}")
            out.append(record)
        return out


def wilson_interval(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a proportion (default 95%); ``(0, 1)`` when there are no trials.

    Unlike ``p +- z sqrt(p(1-p)/n)`` it stays inside [0, 1] and is not zero-width at 0% or 100%,
    which matters for the handful of answers a class collects.
    """
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    z2 = z * z
    center = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, center - half), min(1.0, center + half)


def naturalness_table(path: str | os.PathLike) -> pd.DataFrame:
    """Per method: answers, natural, naturalness (share), ci_low, ci_high (Wilson 95%), participants."""
    records = StudyLog(path).records()
    columns = ["answers", "natural", "naturalness", "ci_low", "ci_high", "participants"]
    if not records:
        return pd.DataFrame(columns=columns).rename_axis("method")
    df = pd.DataFrame(records)
    rows = {}
    for method, group in df.groupby("method", sort=True):
        n, k = len(group), int((group["answer"] == "natural").sum())
        low, high = wilson_interval(k, n)
        rows[method] = {"answers": n, "natural": k, "naturalness": k / n, "ci_low": low, "ci_high": high,
                        "participants": group["participant"].nunique()}
    return pd.DataFrame.from_dict(rows, orient="index")[columns].rename_axis("method")


@dataclass
class StudyItem:
    """One image of the deck: a real photo or a colorization of it."""

    image_id: str  # "<photo name>/<method>": unique per shown image
    photo: str
    method: str  # REAL or a colorizer's name
    rgb: np.ndarray  # H x W x 3 in [0, 1]


def build_study_deck(photos: Sequence, methods: Mapping[str, Callable[[np.ndarray], np.ndarray]],
                     n: int | None = None, seed: int = 0) -> list[StudyItem]:
    """A shuffled deck of ``n`` images: each photo appears once, as itself or as one method's output.

    Photos (objects with ``.name`` and ``.rgb``) are shuffled, then assigned ``real`` and the
    methods in turn, so versions are balanced and nobody judges two versions of the same photo
    (seeing the original first would give the colorization away). Same ``seed``, same deck.
    """
    photos = list(photos)
    n = len(photos) if n is None else n
    if not 1 <= n <= len(photos):
        raise ValueError(f"n must be between 1 and the number of photos ({len(photos)}), got {n}")
    if REAL in methods:
        raise ValueError(f"{REAL!r} is reserved for the untouched photos; rename that method")
    versions = [REAL, *methods]
    rng = random.Random(seed)
    chosen = rng.sample(photos, n)
    offset = rng.randrange(len(versions))  # which version the first photo gets
    deck = []
    for i, photo in enumerate(chosen):
        method = versions[(i + offset) % len(versions)]
        rgb = np.asarray(photo.rgb, dtype=np.float32)
        if method != REAL:
            rgb = np.clip(np.asarray(methods[method](rgb_to_gray(rgb)), dtype=np.float32), 0.0, 1.0)
        deck.append(StudyItem(f"{photo.name}/{method}", photo.name, method, rgb))
    rng.shuffle(deck)
    return deck


class StudySession:
    """One participant going through a deck; each :meth:`answer` is appended to the log at once."""

    def __init__(self, deck: Sequence[StudyItem], log: StudyLog, participant: str):
        if not participant or not participant.strip():
            raise ValueError("a participant name (or pseudonym) is needed to record answers")
        self.deck, self.log, self.participant = list(deck), log, participant.strip()
        self.position = 0

    @property
    def done(self) -> bool:
        return self.position >= len(self.deck)

    def current(self) -> StudyItem | None:
        return None if self.done else self.deck[self.position]

    def answer(self, answer: str) -> StudyItem | None:
        """Record ``answer`` for the current image and move on; returns the next item (None at the end)."""
        item = self.current()
        if item is None:
            raise ValueError("the study is finished: every image has an answer")
        self.log.append(self.participant, item.image_id, item.method, answer)
        self.position += 1
        return self.current()

    def progress(self) -> str:
        return f"{min(self.position + 1, len(self.deck))} / {len(self.deck)}" if not self.done else "done, thank you"


def study_widget(deck: Sequence[StudyItem], log: StudyLog):
    """The study as a widget: a participant name, then one image at a time with two buttons."""
    import ipywidgets as widgets

    from .widgets import to_png_bytes

    name = widgets.Text(description="participant", placeholder="your name or a pseudonym")
    start = widgets.Button(description="start")
    natural = widgets.Button(description="natural", button_style="success", disabled=True)
    unnatural = widgets.Button(description="unnatural", button_style="danger", disabled=True)
    status = widgets.Label("enter a name and press start")
    image = widgets.Image(format="png", layout={"max_width": "400px"})
    state: dict = {}

    def show():
        session = state["session"]
        item = session.current()
        status.value = session.progress()
        natural.disabled = unnatural.disabled = item is None
        if item is not None:
            image.value = to_png_bytes(item.rgb)

    def on_start(_):
        try:
            state["session"] = StudySession(deck, log, name.value)
        except ValueError as e:
            status.value = str(e)
            return
        show()

    def on_answer(answer):
        def handler(_):
            state["session"].answer(answer)
            show()

        return handler

    start.on_click(on_start)
    natural.on_click(on_answer("natural"))
    unnatural.on_click(on_answer("unnatural"))
    return widgets.VBox([widgets.HBox([name, start]), status, image, widgets.HBox([natural, unnatural])])

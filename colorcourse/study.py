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

A real class: each student runs the study on their own machine and hands in their answers
(:meth:`StudyLog.export` / :func:`export_answers`: one JSONL file, never written over an
existing one). The teacher merges the files with :func:`merge_answer_files`
(``colorcourse study merge FILE... -o CLASS.jsonl``), which

- checks every line and skips a bad one (not JSON, a field missing or of the wrong type, a
  last line cut off by a crash), naming its file and line -- one broken file does not sink
  the class's results;
- drops exact duplicates (the same file handed in twice, an export merged with the log it
  came from);
- keeps the *first* answer (earliest timestamp) when a participant judged the same image
  twice: the second time they had already seen it, so it is not a first impression;
- stores participant names as salted hashes (``sha256(salt + name)``) unless asked to keep
  them, so the class file can be shared without the names; the same salt maps the same name
  to the same hash, so participants are still counted correctly;
- never replaces an existing output file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import random
import secrets
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .cli_types import shown, unprintable_characters
from .color import rgb_to_gray

ANSWERS = ("natural", "unnatural")
REAL = "real"  # the method name of the untouched photos


class StudyLogError(ValueError):
    """A line of the study log is not a valid answer record."""


class NoAnswersError(ValueError):
    """A merge found no valid answer at all; ``bad_lines`` says why, line by line."""

    def __init__(self, message: str, bad_lines: list[str]):
        super().__init__(message)
        self.bad_lines = bad_lines


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
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # less the user's umask
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

    def export(self, out_path: str | os.PathLike, participant: str | None = None) -> int:
        """Write the answers (only ``participant``'s when given) to a new JSONL file to hand in.

        The file has the log's format, one answer per line, so :func:`merge_answer_files` and
        :func:`naturalness_table` read it. A bad line of the log (a crash cut the last answer
        short) is left out with a warning naming it. ``out_path`` must not exist: an export
        never replaces a file. Returns the number of answers written.
        """
        return export_answers(self.path, out_path, participant)


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


# -- a real class: export, validate, merge ---------------------------------------------------

FIELDS = ("participant", "image_id", "method", "answer", "timestamp")


def validate_record(obj) -> dict:
    """One answer as the log stores it (the five fields, names stripped), or StudyLogError why not."""
    if not isinstance(obj, dict):
        raise StudyLogError(f"not an answer record (a JSON {type(obj).__name__}, not an object)")
    missing = [name for name in FIELDS if name not in obj]
    if missing:
        raise StudyLogError("missing field" + ("s " if len(missing) > 1 else " ") + ", ".join(map(repr, missing)))
    for name in ("participant", "image_id", "method"):
        value = obj[name]
        if not isinstance(value, str) or not value.strip():
            raise StudyLogError(f"{name!r} must be a non-empty string, got {shown(value)}")
        bad = unprintable_characters(value)  # a lone surrogate cannot even be written as UTF-8
        if bad:
            raise StudyLogError(f"{name!r} contains {bad} (not a name anyone typed), got {shown(value)}")
    if obj["answer"] not in ANSWERS:
        raise StudyLogError(f"'answer' must be one of {ANSWERS}, got {shown(obj['answer'])}")
    stamp = obj["timestamp"]
    try:  # a 400-digit integer is valid JSON but no float: float() overflows
        finite = not isinstance(stamp, bool) and isinstance(stamp, (int, float)) and math.isfinite(float(stamp))
    except OverflowError:
        finite = False
    if not finite:
        raise StudyLogError(f"'timestamp' must be a number (seconds since 1970), got {shown(stamp)}")
    return {"participant": obj["participant"].strip(), "image_id": obj["image_id"], "method": obj["method"],
            "answer": obj["answer"], "timestamp": float(stamp)}


def read_answers(path: str | os.PathLike) -> tuple[list[dict], list[str]]:
    """Every valid answer of a JSONL file, and one ``"FILE, line N: why"`` per bad line skipped.

    Blank lines are ignored. The file is read under a shared lock, so a line being appended by
    a running study is read whole or not at all.
    """
    path = Path(path)
    with open(path, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH)
        try:
            data = f.read()
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    lines = data.split(b"\n")
    records, problems = [], []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        cut_off = number == len(lines) and not data.endswith(b"\n")  # no newline after the last line
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{path}, line {number}: not UTF-8 text")
            continue
        except RecursionError:  # JSON nested thousands of levels deep: no answer record looks like that
            problems.append(f"{path}, line {number}: JSON nested too deeply to be an answer record")
            continue
        except json.JSONDecodeError as e:
            hint = " (the last line has no newline: probably cut off while it was written)" if cut_off else ""
            problems.append(f"{path}, line {number}: not valid JSON: {e.msg}{hint}")
            continue
        except ValueError as e:  # e.g. an integer of more than 4300 digits (Python's own limit)
            problems.append(f"{path}, line {number}: not a usable JSON value: {shown(str(e), 120)}")
            continue
        try:
            records.append(validate_record(obj))
        except StudyLogError as e:
            problems.append(f"{path}, line {number}: {e}")
    return records, problems


def _refuse_existing(out_path: Path) -> None:
    if out_path.exists():
        raise FileExistsError(f"{out_path} exists and is never replaced: choose another name for the output")


def _write_new(out_path: Path, records: Sequence[dict]) -> None:
    """Write ``records`` as JSONL to a file that must not exist yet, all at once or not at all.

    The lines go to a temporary file that is then hard-linked to ``out_path``: ``link`` fails
    if the name exists (no check-then-write race with another merge), and nobody ever sees a
    half-written output.
    """
    payload = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode("utf-8")
    tmp = out_path.parent / f".{out_path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        _refuse_existing(out_path)
        with open(tmp, "xb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
    except FileExistsError:
        raise
    except OSError as e:  # a read-only or full folder: name the output, not the temporary file
        tmp.unlink(missing_ok=True)
        raise type(e)(f"{out_path}: cannot write the merged file there ({e.strerror or e})") from None
    try:
        os.link(tmp, out_path)
    except FileExistsError:
        raise FileExistsError(f"{out_path} exists and is never replaced: choose another name for the output") from None
    except OSError:  # a file system without hard links: exclusive create instead
        try:
            with open(out_path, "xb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
        except FileExistsError:
            raise FileExistsError(
                f"{out_path} exists and is never replaced: choose another name for the output") from None
    finally:
        tmp.unlink(missing_ok=True)


def export_answers(log_path: str | os.PathLike, out_path: str | os.PathLike,
                   participant: str | None = None) -> int:
    """One participant's answers (everyone's when None) from a study log to a new JSONL file.

    See :meth:`StudyLog.export`. Raises FileExistsError if ``out_path`` exists, ValueError if
    the log holds no answer from ``participant``.
    """
    log_path, out_path = Path(log_path), Path(out_path)
    _refuse_existing(out_path)
    records, problems = read_answers(log_path)
    for problem in problems:
        warnings.warn(f"left out of the export: {problem}", stacklevel=2)
    if participant is not None:
        if not isinstance(participant, str) or not participant.strip():
            raise ValueError(f"participant must be a non-empty string, got {participant!r}")
        others = {r["participant"] for r in records}
        records = [r for r in records if r["participant"] == participant.strip()]
        if not records:
            raise ValueError(f"{log_path} holds no answer from {participant.strip()!r} "
                             f"({len(others)} other participant(s) answered): check the spelling")
    elif not records:
        raise ValueError(f"{log_path} holds no answers yet")
    _write_new(out_path, records)
    return len(records)


def hash_participant(name: str, salt: str) -> str:
    """``sha256(salt + name)`` as hex: the same name and salt give the same pseudonym."""
    return hashlib.sha256((salt + name.strip()).encode("utf-8")).hexdigest()


@dataclass
class MergeReport:
    """What :func:`merge_answer_files` read, skipped and wrote."""

    out_path: Path
    files: list[Path]
    answers_read: int = 0  # valid lines over all files
    bad_lines: list[str] = field(default_factory=list)  # "FILE, line N: why", in file order
    duplicates: int = 0  # exact copies of an earlier answer, dropped
    repeats: list[tuple[str, str]] = field(default_factory=list)  # (participant as stored, image_id) dropped
    written: int = 0
    participants: int = 0
    salt: str | None = None  # None when names were kept
    salt_generated: bool = False
    table: pd.DataFrame | None = None  # naturalness_table of the output

    def summary(self) -> str:
        return (f"{len(self.files)} file(s): {self.answers_read} answers read, {len(self.bad_lines)} bad line(s) "
                f"skipped, {self.duplicates} exact duplicate(s) dropped, {len(self.repeats)} repeated judgment(s) "
                f"dropped (first answer kept); {self.written} answers from {self.participants} participant(s) "
                f"written to {self.out_path}")


def merge_answer_files(paths: Sequence[str | os.PathLike], out_path: str | os.PathLike,
                       salt: str | None = None, keep_names: bool = False) -> MergeReport:
    """Merge the class's answer files into one new JSONL file; see the module docstring.

    Bad lines are reported (``report.bad_lines``) and skipped; exact duplicates dropped; for a
    participant who judged an image more than once the earliest answer is kept (ties: the order
    of ``paths`` and lines). Names become ``sha256(salt + name)``; with ``salt=None`` a random
    salt is generated and returned in ``report.salt`` (keep it to hash a later merge the same
    way). ``keep_names=True`` stores the names as given. The output is written sorted by time,
    only if it does not exist (FileExistsError otherwise) and only when there is at least one
    valid answer (ValueError otherwise); a missing input file is an error before anything is
    written (FileNotFoundError), never a silently missing student.
    """
    out_path = Path(out_path)
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("no answer files to merge")
    if keep_names and salt is not None:
        raise ValueError("a salt hashes the names; keep_names keeps them: give one or the other")
    if salt is not None and (not isinstance(salt, str) or not salt):
        raise ValueError(f"salt must be a non-empty string, got {salt!r}")
    _refuse_existing(out_path)
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such answer file: {', '.join(missing)}")
    report = MergeReport(out_path=out_path, files=files)
    seen: set[str] = set()
    unique: list[dict] = []
    for path in files:
        records, problems = read_answers(path)
        report.answers_read += len(records)
        report.bad_lines += problems
        for record in records:
            key = json.dumps(record, sort_keys=True)
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            unique.append(record)
    if not keep_names:
        report.salt_generated = salt is None
        report.salt = secrets.token_hex(16) if salt is None else salt
    # Earliest first; sorted() is stable, so equal timestamps keep the order of files and lines.
    kept: dict[tuple[str, str], dict] = {}
    for record in sorted(unique, key=lambda r: r["timestamp"]):
        if not keep_names:
            record = {**record, "participant": hash_participant(record["participant"], report.salt)}
        key = (record["participant"], record["image_id"])
        if key in kept:
            report.repeats.append(key)
        else:
            kept[key] = record
    if not kept:
        shown_lines = "".join(f"\n  {problem}" for problem in report.bad_lines[:5])
        more = f"\n  ... and {len(report.bad_lines) - 5} more" if len(report.bad_lines) > 5 else ""
        raise NoAnswersError(f"no valid answers in {len(files)} file(s) ({len(report.bad_lines)} bad line(s)): "
                             f"nothing written{shown_lines}{more}", report.bad_lines)
    merged = list(kept.values())
    _write_new(out_path, merged)
    report.written = len(merged)
    report.participants = len({r["participant"] for r in merged})
    report.table = naturalness_table(out_path)
    return report


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

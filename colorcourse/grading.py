"""The course's graded assignments: generate the student release and check the nbgrader round trip.

Not a lesson: this drives nbgrader (https://nbgrader.readthedocs.io) for instructors and for CI.
The sources live in ``assignments/source/<assignment>/<assignment>.ipynb``: one notebook per
assignment, holding the solutions (``### BEGIN SOLUTION`` / ``### END SOLUTION``) and the hidden
tests (``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``). The student version is always
*generated* from it by ``nbgrader generate_assignment``; nobody edits a release by hand.

The round trip (:func:`round_trip`), run in a temporary course directory:

1. copy the sources in and ``nbgrader generate_assignment --force`` (this also adds the
   assignment to the gradebook);
2. check the release for leaks (:func:`find_leaks`): no nbgrader marker and no line of a
   solution or a hidden test may survive;
3. submit the source (the solutions) as student ``solutions`` and the untouched release as
   student ``untouched``, then ``nbgrader autograde --force``;
4. grade the written answers (nbgrader's manually graded answer cells) as a person would in
   ``nbgrader formgrader``, by a script (:func:`grade_written_answers`): the source's answer
   (the rubric and model answer) gets the cell's full points. The untouched release's answers
   must need no person at all: nbgrader scores an answer cell left as handed out 0 by itself;
5. read the scores back from the gradebook: the solutions must get full marks, the untouched
   release zero on every graded cell, and the grader must have scored every graded cell.

Command line (see assignments/README.md)::

    python -m colorcourse.grading release OUT_DIR [ASSIGNMENT ...] [--source DIR] [--force]
    python -m colorcourse.grading check [ASSIGNMENT ...] [--source DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .paths import repo_root

SOURCE_DIR = repo_root() / "assignments" / "source"
COURSE_ID = "colorcourse"
SOLUTIONS_STUDENT = "solutions"  # submits the source notebook: must get full marks
UNTOUCHED_STUDENT = "untouched"  # submits the release as handed out: must get zero
AUTOGRADE_SECONDS_PER_ASSIGNMENT = 400  # the solutions and the blank release of one assignment
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
_SECRET_BLOCK = re.compile(
    r"^[ \t]*###[ \t]*BEGIN (SOLUTION|HIDDEN TESTS)[ \t]*$(.*?)^[ \t]*###[ \t]*END \1[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


class GradingError(RuntimeError):
    """nbgrader failed, or an assignment's release or grades are not what they must be."""


@dataclass
class RoundTrip:
    """What one assignment's round trip produced."""

    assignment: str
    release: Path  # the generated student notebook
    leaks: list[str] = field(default_factory=list)
    solution_scores: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    untouched_scores: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)  # grade_ids of the hand-graded answers
    untouched_needs_person: list[str] = field(default_factory=list)  # blank answers left to a person
    seconds: float = 0.0

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.solution_scores.values())

    def problems(self) -> list[str]:
        """Every way this round trip falls short; empty when it passed."""
        out = [f"leak: {leak}" for leak in self.leaks]
        if not self.solution_scores:
            out.append("the gradebook has no graded cells for the solutions")
        for cell, (score, top) in self.solution_scores.items():
            if score is None or abs(score - top) > 1e-9:
                out.append(f"solutions scored {score} of {top} on {cell}")
        if set(self.untouched_scores) != set(self.solution_scores):
            out.append(
                f"graded cells differ: release {sorted(self.untouched_scores)}, "
                f"source {sorted(self.solution_scores)}"
            )
        for cell, (score, top) in self.untouched_scores.items():
            if score is None:
                out.append(f"the grader did not score {cell} of the untouched release")
            elif score != 0:
                out.append(f"the untouched release scored {score} of {top} on {cell}")
        for cell in self.untouched_needs_person:
            out.append(f"the blank answer {cell} of the untouched release was sent to a person to grade")
        return out


# ---------------------------------------------------------------- assignments on disk


def assignment_names(source_dir: str | os.PathLike = SOURCE_DIR) -> list[str]:
    """The assignments in ``source_dir``: folders holding a notebook of the same name."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise GradingError(f"no assignment sources in {source_dir}")
    return sorted(p.name for p in source_dir.iterdir() if (p / f"{p.name}.ipynb").is_file())


def _check_names(names, source_dir: Path) -> list[str]:
    known = assignment_names(source_dir)
    names = list(names) or known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GradingError(f"unknown assignment(s) {unknown}; {source_dir} has {known}")
    return names


# ---------------------------------------------------------------- leaks


def _cell_texts(path: Path) -> list[str]:
    nb = nbformat.read(str(path), as_version=4)
    return [cell.source for cell in nb.cells]


def _release_stubs() -> set[str]:
    """The lines nbgrader writes in place of a solution (allowed in the release)."""
    from nbgrader.preprocessors import ClearSolutions

    clear = ClearSolutions()
    stubs = list(clear.code_stub.values()) + [clear.text_stub]
    return {line.strip() for stub in stubs for line in stub.splitlines()}


def secret_lines(source_notebook: str | os.PathLike) -> set[str]:
    """Lines of the solutions and hidden tests that appear nowhere else in the source notebook.

    Lines are compared stripped of surrounding whitespace; blank lines are ignored.
    """
    secret, public = set(), set()
    for text in _cell_texts(Path(source_notebook)):
        for match in _SECRET_BLOCK.finditer(text):
            secret.update(line.strip() for line in match.group(2).splitlines())
        public.update(line.strip() for line in _SECRET_BLOCK.sub("", text).splitlines())
    return {line for line in secret - public - _release_stubs() if line}


def find_leaks(source_notebook: str | os.PathLike, release_notebook: str | os.PathLike) -> list[str]:
    """What the release gives away: nbgrader markers, and lines of solutions or hidden tests."""
    release_notebook = Path(release_notebook)
    raw = release_notebook.read_text(encoding="utf-8")
    leaks = [f"marker {m!r} in {release_notebook.name}" for m in MARKERS if m in raw]
    release_lines = {
        line.strip() for text in _cell_texts(release_notebook) for line in text.splitlines()
    }
    for line in sorted(secret_lines(source_notebook) & release_lines):
        leaks.append(f"secret line in {release_notebook.name}: {line!r}")
    return leaks


# ---------------------------------------------------------------- nbgrader


def nbgrader(args: list[str], course_dir: Path, timeout: float = 600) -> str:
    """Run ``python -m nbgrader ARGS`` in ``course_dir``; returns its log; raises on failure."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs the `alembic` command when it creates the gradebook: find the one that
    # was installed beside this Python even when its bin folder is not on PATH.
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(
        cmd, cwd=course_dir, env=env, capture_output=True, text=True, timeout=timeout
    )
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise GradingError(f"`nbgrader {' '.join(args)}` failed ({proc.returncode}):\n{log[-4000:]}")
    return log


def make_course(course_dir: str | os.PathLike, names, source_dir=SOURCE_DIR) -> Path:
    """A fresh nbgrader course directory holding copies of the named assignments' sources."""
    course_dir, source_dir = Path(course_dir), Path(source_dir)
    course_dir.mkdir(parents=True, exist_ok=True)
    config = (
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.root = {str(course_dir.resolve())!r}\n"
        "c.Execute.timeout = 300\n"
    )
    (course_dir / "nbgrader_config.py").write_text(config)
    for name in names:
        target = course_dir / "source" / name
        if target.exists():
            shutil.rmtree(target)
        # only the notebook and its data files, never checkpoints or caches
        shutil.copytree(
            source_dir / name,
            target,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
    return course_dir


def generate_release(course_dir: Path, name: str) -> Path:
    """``nbgrader generate_assignment NAME --force``; returns the release folder."""
    nbgrader(["generate_assignment", name, "--force"], course_dir)
    release = course_dir / "release" / name
    if not (release / f"{name}.ipynb").is_file():
        raise GradingError(f"nbgrader made no release notebook for {name} in {release}")
    return release


def _submit(course_dir: Path, name: str, student: str, notebook_dir: Path) -> None:
    target = course_dir / "submitted" / student / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(notebook_dir / f"{name}.ipynb", target / f"{name}.ipynb")


def read_scores(course_dir: Path, name: str, student: str) -> dict[str, tuple[float | None, float]]:
    """``{grade_id: (score, max_score)}`` of one student's notebook, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    db = course_dir / "gradebook.db"
    if not db.is_file():
        raise GradingError(f"no gradebook in {course_dir}")
    with Gradebook(f"sqlite:///{db}", COURSE_ID) as gb:
        try:
            nb = gb.find_submission_notebook(name, name, student)
        except MissingEntry:
            raise GradingError(f"the gradebook has no graded {name} for {student}") from None
        return {g.name: (g.score, g.max_score) for g in nb.grades}


def written_answer_cells(notebook: str | os.PathLike) -> dict[str, float]:
    """``{grade_id: points}`` of the notebook's written answers: the cells graded by a person
    (nbgrader's "manually graded answer" cells: ``solution`` and ``grade`` both true)."""
    nb = nbformat.read(str(notebook), as_version=4)
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade"):
            out[meta["grade_id"]] = float(meta["points"])
    return out


def grade_written_answers(course_dir: Path, name: str, student: str, fraction: float = 1.0) -> dict[str, float]:
    """The scripted grader: give every answer of ``student`` that waits for a person
    ``fraction`` of its points (what an instructor does in ``nbgrader formgrader``).

    Only answers that nbgrader left to a person are touched (``needs_manual_grade``): a blank
    answer, which nbgrader already scored 0, keeps its 0. Returns ``{grade_id: score given}``.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    given = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", COURSE_ID) as gb:
        try:
            nb = gb.find_submission_notebook(name, name, student)
        except MissingEntry:
            raise GradingError(f"the gradebook has no graded {name} for {student}") from None
        for grade in nb.grades:
            if grade.needs_manual_grade:
                grade.manual_score = fraction * grade.max_score
                grade.needs_manual_grade = False
                given[grade.name] = grade.manual_score
        gb.db.commit()
    return given


def needs_person(course_dir: Path, name: str, student: str) -> list[str]:
    """grade_ids of ``student``'s cells still waiting for a person to grade them."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", COURSE_ID) as gb:
        nb = gb.find_submission_notebook(name, name, student)
        return sorted(g.name for g in nb.grades if g.needs_manual_grade)


def _add_students(course_dir: Path, students) -> None:
    """Register students in the gradebook (what ``nbgrader db student add`` does, in-process)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", COURSE_ID) as gb:
        for student in students:
            gb.update_or_create_student(student)


def round_trip(
    names=(), source_dir=SOURCE_DIR, course_dir: str | os.PathLike | None = None
) -> dict[str, RoundTrip]:
    """Release, leak check, autograde of the solutions and of the untouched release.

    All assignments share one course directory (a temporary one unless ``course_dir`` is
    given) and one ``generate_assignment`` and one ``autograde`` run: each nbgrader start costs
    seconds. Returns one :class:`RoundTrip` per assignment (``seconds`` is the wall time of
    the whole shared run); call ``.problems()`` on each.
    """
    source_dir = Path(source_dir)
    names = _check_names(names, source_dir)
    if course_dir is None:
        with tempfile.TemporaryDirectory(prefix="colorcourse-grading-") as tmp:
            return round_trip(names, source_dir, tmp)
    start = time.perf_counter()
    course_dir = make_course(course_dir, names, source_dir)
    # one name, or every assignment in this course directory (nbgrader globs the id)
    selection = names[0] if len(names) == 1 else "*"
    nbgrader(["generate_assignment", f"--assignment={selection}", "--force"], course_dir)
    _add_students(course_dir, [SOLUTIONS_STUDENT, UNTOUCHED_STUDENT])
    results = {}
    for name in names:
        source_nb = course_dir / "source" / name / f"{name}.ipynb"
        release_nb = course_dir / "release" / name / f"{name}.ipynb"
        if not release_nb.is_file():
            raise GradingError(f"nbgrader made no release notebook for {name}")
        results[name] = RoundTrip(name, release_nb, find_leaks(source_nb, release_nb))
        _submit(course_dir, name, SOLUTIONS_STUDENT, source_nb.parent)
        _submit(course_dir, name, UNTOUCHED_STUDENT, release_nb.parent)
    # every submission runs its notebook: allow each assignment's two its own time (the capstone
    # trains two small networks live; a busy shared machine is several times slower)
    nbgrader(["autograde", f"--assignment={selection}", "--force"], course_dir,
             timeout=AUTOGRADE_SECONDS_PER_ASSIGNMENT * len(names))
    for name, result in results.items():
        result.written = sorted(written_answer_cells(course_dir / "source" / name / f"{name}.ipynb"))
        # a blank answer must never reach a person: nbgrader scores it 0 by itself
        result.untouched_needs_person = needs_person(course_dir, name, UNTOUCHED_STUDENT)
        grade_written_answers(course_dir, name, SOLUTIONS_STUDENT)
    seconds = time.perf_counter() - start
    for name, result in results.items():
        result.solution_scores = read_scores(course_dir, name, SOLUTIONS_STUDENT)
        result.untouched_scores = read_scores(course_dir, name, UNTOUCHED_STUDENT)
        result.seconds = seconds
    return results


def release(
    out_dir: str | os.PathLike, names=(), source_dir=SOURCE_DIR, force: bool = False
) -> list[Path]:
    """Generate the student notebooks into ``out_dir/<assignment>/``; checks them for leaks.

    Refuses to replace an existing ``out_dir/<assignment>`` unless ``force``.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    names = _check_names(names, source_dir)
    existing = [str(out_dir / n) for n in names if (out_dir / n).exists()]
    if existing and not force:
        raise GradingError(f"{', '.join(existing)} already exist(s); pass --force to replace")
    written = []
    with tempfile.TemporaryDirectory(prefix="colorcourse-release-") as tmp:
        course_dir = make_course(tmp, names, source_dir)
        for name in names:
            generated = generate_release(course_dir, name)
            leaks = find_leaks(course_dir / "source" / name / f"{name}.ipynb", generated / f"{name}.ipynb")
            if leaks:
                raise GradingError(f"{name}: the release would leak:\n  " + "\n  ".join(leaks))
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(generated, target)
            written.append(target / f"{name}.ipynb")
    return written


# ---------------------------------------------------------------- command line


def _format(result: RoundTrip) -> str:
    got = sum(s or 0 for s, _ in result.solution_scores.values())
    untouched = sum(s or 0 for s, _ in result.untouched_scores.values())
    status = "ok" if not result.problems() else "FAILED"
    written = sum(result.solution_scores[c][1] for c in result.written if c in result.solution_scores)
    return (
        f"{result.assignment:24s} solutions {got:g}/{result.max_score:g} "
        f"({written:g} of them written, scripted grader)  "
        f"untouched release {untouched:g}/{result.max_score:g}  "
        f"leaks {len(result.leaks)}  {status}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorcourse.grading", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate the student notebooks into a folder")
    rel.add_argument("out_dir", help="folder to write <assignment>/<assignment>.ipynb into")
    rel.add_argument("assignments", nargs="*", help="default: all")
    rel.add_argument("--source", default=str(SOURCE_DIR), help="assignment sources (default: %(default)s)")
    rel.add_argument("--force", action="store_true", help="replace existing release folders")
    chk = sub.add_parser("check", help="release + leak check + autograde round trip")
    chk.add_argument("assignments", nargs="*", help="default: all")
    chk.add_argument("--source", default=str(SOURCE_DIR), help="assignment sources (default: %(default)s)")
    chk.add_argument("--keep", help="run in this course folder and keep it (default: a temporary one)")
    chk.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            for path in release(args.out_dir, args.assignments, args.source, args.force):
                print(f"wrote {path}")
            return 0
        results = round_trip(args.assignments, args.source, args.keep)
    except GradingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    failed = False
    seconds = next(iter(results.values())).seconds
    print(f"round trip of {len(results)} assignment(s) in one course folder: {seconds:.1f} s")
    for result in results.values():
        print(_format(result))
        for problem in result.problems():
            failed = True
            print(f"    {problem}")
    if args.json:
        print(json.dumps({n: {"solutions": r.solution_scores, "untouched": r.untouched_scores,
                              "written": r.written, "leaks": r.leaks, "seconds": r.seconds} for n, r in results.items()}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

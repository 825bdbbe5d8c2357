"""Where ``colorcourse colorize`` writes, and what it may replace: nothing a user made.

The rules, checked for the whole batch before the first photo is colorized:

- **Names**: ``photo.jpg`` -> ``photo_<method>.png``, in ``-o`` (flat) or beside the photo.
  Flat and predictable on purpose: a result is found by the photo's name alone. Two inputs that
  would get the same result name (``A/same.jpg`` and ``B/same.jpg`` with one ``-o``;
  ``photo.jpg`` beside ``photo.png``) both fail, each naming the other, and the rest of the
  batch is colorized: writing one would be arbitrary and writing both would lose one. (Mirroring
  the input folders under ``-o`` would avoid the clash for ``-o`` only, not for two files in one
  folder, and would make every result's place depend on which other inputs were given.) Names
  are compared as a case-insensitive file system (macOS, Windows) would, so a batch behaves the
  same on every machine.
- **Ownership**: every result carries a PNG text chunk (:data:`colorcourse.imageio.OUTPUT_TAG`)
  saying what made it. ``--force`` replaces only a file that carries it: an earlier result of
  this tool. A file without it (the user's photo, a drawing, anything) is never replaced, with
  or without ``--force``; neither is a file that is one of this run's inputs (photos, hint files,
  reference photos), tagged or not.
- **Re-runs**: an input that carries the tag is an earlier result, not a photo: it is skipped
  and counted, so running ``colorize FOLDER`` twice does not colorize the first run's results.
  The tag decides, not the name: ``beach_gray.png`` may well be the user's own photo, and a
  result renamed by the user is still recognised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .cli_types import printable
from .imageio import output_tag


def output_path(source: Path, out_dir: Path | None, method: str) -> Path:
    """``photo.jpg`` -> ``OUT/photo_<method>.png`` (beside the photo when no ``-o``)."""
    folder = out_dir if out_dir is not None else source.parent
    return folder / f"{source.stem}_{method}.png"


def _key(path: Path) -> str:
    """A path as a case-insensitive file system compares it."""
    return os.path.normcase(str(Path(os.path.abspath(path)))).casefold()


@dataclass
class Job:
    source: Path
    target: Path
    replace: bool = False  # the target is an earlier result of this tool and --force was given


@dataclass
class Plan:
    """What a run will do: the jobs, the inputs refused (one line each), the earlier results skipped."""

    jobs: list[Job] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def is_own_output(path: Path) -> bool:
    """True for a file this tool wrote (it carries the output tag)."""
    return output_tag(path) is not None


def plan_outputs(files: list[Path], out_dir: Path | None, method: str, force: bool,
                 protected: list[Path] = ()) -> Plan:
    """Apply the module's rules to ``files`` (the expanded inputs); ``protected``: other input
    files of the run (hint files, reference photos), never written over."""
    plan = Plan()
    photos = []
    for source in files:
        (plan.skipped if is_own_output(source) else photos).append(source)
    inputs = {_key(p) for p in photos} | {_key(p) for p in protected}
    by_target: dict[str, list[Path]] = {}
    for source in photos:
        by_target.setdefault(_key(output_path(source, out_dir, method)), []).append(source)
    for source in photos:
        target = output_path(source, out_dir, method)
        others = [p for p in by_target[_key(target)] if p != source]
        if others:
            plan.refused.append(
                f"{source}: its result {target.name} would also be the result of "
                f"{', '.join(map(str, others))}: nothing written for either; colorize them in separate runs "
                f"with different -o folders")
        elif _key(target) in inputs:
            plan.refused.append(f"{source}: its result {target} is one of this run's inputs and is never "
                                f"replaced: write the results elsewhere with -o")
        elif target.is_symlink() or target.exists():
            if not is_own_output(target):
                plan.refused.append(f"{source}: {target} exists and was not written by colorcourse: it is never "
                                    f"replaced, even with --force (move it, or choose another -o)")
            elif not force:
                plan.refused.append(f"{source}: {target} exists (an earlier result: use --force to replace it)")
            else:
                plan.jobs.append(Job(source, target, replace=True))
        else:
            plan.jobs.append(Job(source, target))
    return plan


def describe_skipped(skipped: list[Path]) -> str:
    """The line a run prints about the earlier results it skipped."""
    example = printable(skipped[0].name, 80)
    return (f"skipped {len(skipped)} earlier result(s) of colorcourse among the inputs (e.g. {example}): "
            f"results are never colorized again")

"""Which hint file belongs to which photo, for ``colorcourse colorize --hints`` (issue 21).

``--hints FILE`` (a ``.png`` drawn on a transparent layer, or a ``.json`` of points; see
:mod:`colorcourse.hints`) belongs to the one photo of the run. ``--hints FOLDER`` holds
``<photo stem>.png`` or ``<photo stem>.json`` for any of the photos (``grandma.jpg`` ->
``FOLDER/grandma.png``); a photo without one is colorized automatically, or fails with
``--method levin``, which has nothing to spread without hints.

Hint files are inputs, never photos and never outputs:

- the hints folder (everything under it) and a single hint file are taken out of the photos
  to colorize, so ``colorize photos/ --hints photos/hints/`` does not colorize the drawings
  (a hints folder that *is* the input folder leaves no photo: the run says to keep the hint
  files in a folder of their own, since a ``photo.png`` there could be either);
- every hint file is protected like an input (:func:`colorcourse.outputs.plan_outputs`): no
  result is ever written over one, with or without ``--force``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HINT_SUFFIXES = (".png", ".json")


class HintArgumentError(ValueError):
    """``--hints`` cannot be used as given (a whole-run problem: exit code 2)."""


@dataclass
class HintMatch:
    """The hint file of each photo that has one, the photos whose hints are ambiguous, and every
    hint file of the run (protected as inputs)."""

    by_photo: dict[Path, Path] = field(default_factory=dict)
    problems: dict[Path, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    where: str = ""  # for messages: the hints folder, or the one file


def _inside(path: Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def without_hint_files(photos: list[Path], hints: Path) -> tuple[list[Path], int]:
    """``photos`` less the hint file or everything under the hints folder; and how many left out."""
    if hints.is_dir():
        kept = [p for p in photos if not _inside(p, hints)]
    else:
        target = hints.resolve()
        kept = [p for p in photos if Path(p).resolve() != target]
    return kept, len(photos) - len(kept)


def match_hints(photos: list[Path], hints: Path) -> HintMatch:
    """Pair ``photos`` with their hint files (module docstring); raises :class:`HintArgumentError`."""
    match = HintMatch(where=str(hints))
    if hints.is_file():
        if hints.suffix.lower() not in HINT_SUFFIXES:
            raise HintArgumentError(f"--hints {hints}: a hint file is a .png with transparency or a .json of points")
        if len(photos) != 1:
            raise HintArgumentError(
                f"--hints {hints} is one photo's hint file, but {len(photos)} photos were given: for several "
                f"photos give --hints FOLDER holding <photo name>.png or <photo name>.json")
        match.files = [hints]
        match.by_photo[photos[0]] = hints
        return match
    if not hints.is_dir():
        raise HintArgumentError(f"--hints {hints}: no such file or folder")
    by_stem: dict[str, list[Path]] = {}
    for entry in sorted(hints.iterdir()):
        if entry.is_file() and entry.suffix.lower() in HINT_SUFFIXES:
            by_stem.setdefault(entry.stem, []).append(entry)
    for photo in photos:
        found = by_stem.get(photo.stem, [])
        if len(found) > 1:
            match.problems[photo] = (f"{' and '.join(str(p) for p in found)} both claim to be its hints: "
                                     f"keep one of them")
        elif found:
            match.by_photo[photo] = found[0]
    match.files = [p for group in by_stem.values() for p in group]
    return match

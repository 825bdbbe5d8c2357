"""What the lessons' cells use to show the package: its source, and photos that represent the pack.

- :func:`show_source`: a function's or class's code, read from the installed package and
  syntax-highlighted, so a lesson shows the tested code itself and can never drift from it.
- :func:`one_per_label`: photos for a gallery, one per scene label in a seeded order, so a
  gallery represents the pack instead of its first names alphabetically (those are all fish).
"""

from __future__ import annotations

import inspect
import random
from collections import defaultdict
from pathlib import Path
from typing import Sequence


class SourceView:
    """Highlighted source of one package object; Jupyter shows it as HTML, print() as text."""

    def __init__(self, obj):
        self.obj = obj
        self.source = inspect.getsource(obj)
        lines, self.first_line = inspect.getsourcelines(obj)
        self.last_line = self.first_line + len(lines) - 1
        # where the student finds it: colorcourse/..., wherever the package is installed
        package_parent = Path(__file__).resolve().parent.parent
        self.path = Path(inspect.getsourcefile(obj)).resolve().relative_to(package_parent).as_posix()
        self.name = f"{obj.__module__}.{obj.__qualname__}"

    @property
    def header(self) -> str:
        return f"{self.name}  ({self.path}, lines {self.first_line}-{self.last_line})"

    def _repr_html_(self) -> str:
        import html

        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        # inline styles: the colors survive nbconvert's HTML and any Jupyter front end
        body = highlight(self.source, PythonLexer(), HtmlFormatter(noclasses=True, style="default"))
        return (f'<details open><summary><code>{html.escape(self.header)}</code></summary>'
                f'<div style="font-size: 85%; max-height: 32em; overflow: auto">{body}</div></details>')

    def __repr__(self) -> str:
        return f"# {self.header}\n{self.source}"


def show_source(obj) -> SourceView:
    """The source of a package function, class or method, highlighted (the cell's last line)."""
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("colorcourse"):
        raise ValueError(f"show_source shows the course's own code; {obj!r} comes from {module or 'nowhere'}")
    return SourceView(obj)


def one_per_label(photos: Sequence, n: int | None = None, seed: int = 0) -> list:
    """Up to ``n`` photos (all labels when ``None``): one per label, labels in a seeded order.

    Each label's photo is drawn at random (seeded); when ``n`` exceeds the number of labels the
    round goes on with a second photo per label, and so on. Photos need ``.label`` and ``.name``.
    """
    rng = random.Random(seed)
    by_label: dict[str, list] = defaultdict(list)
    for photo in sorted(photos, key=lambda p: p.name):
        by_label[photo.label].append(photo)
    labels = sorted(by_label)
    rng.shuffle(labels)
    for label in labels:
        rng.shuffle(by_label[label])
    n = len(labels) if n is None else n
    chosen = []
    for round_ in range(max((len(v) for v in by_label.values()), default=0)):
        for label in labels:
            if len(chosen) == n:
                return chosen
            if round_ < len(by_label[label]):
                chosen.append(by_label[label][round_])
    return chosen

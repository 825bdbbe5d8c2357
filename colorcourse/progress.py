"""Progress bars that suit where the output goes.

On a terminal: a tqdm bar (redrawn in place); in a notebook: tqdm's widget. Anywhere else (``make course > log``, CI, a pipe)
tqdm would write one carriage-return update per refresh, hundreds of them per step in a log
file; there :func:`progress_bar` writes plain lines instead: one when the step starts and one
when it ends, with the count and the seconds it took.
"""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TextIO


def on_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default: ``sys.stderr``, where tqdm writes) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where tqdm.auto draws a widget, not text)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell"


class LineProgress:
    """The part of tqdm's interface the course uses, writing one line at the start and one at the
    end of the step (``desc: N items`` / ``desc: done, N items in S s``), nothing in between."""

    def __init__(self, iterable: Iterable | None = None, desc: str = "", total: int | None = None,
                 disable: bool = False, file: TextIO | None = None, unit: str = "it", **_ignored):
        self.iterable = iterable
        self.desc = desc or "progress"
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.disable = disable
        self.file = file
        self.unit = unit
        self.n = 0
        self.postfix = ""
        self._start = time.perf_counter()
        self._closed = False
        of = f" of {self.total}" if self.total is not None else ""
        self._write(f"{self.desc}: started ({self.unit}s: 0{of})")

    def _write(self, line: str) -> None:
        if not self.disable:
            print(line, file=self.file if self.file is not None else sys.stderr, flush=True)

    def __iter__(self) -> Iterator:
        try:
            for item in self.iterable:
                yield item
                self.n += 1
        finally:
            self.close()

    def __len__(self) -> int:
        return self.total or 0

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, ordered_dict=None, refresh: bool = True, **kwargs) -> None:
        values = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or self.desc

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        seconds = time.perf_counter() - self._start
        extra = f" ({self.postfix})" if self.postfix else ""
        self._write(f"{self.desc}: done, {self.n} {self.unit}s in {seconds:.1f} s{extra}")


def progress_bar(iterable: Iterable | None = None, desc: str = "", total: int | None = None,
                 disable: bool = False, **tqdm_kwargs):
    """``tqdm(iterable, desc=..., ...)`` on a terminal or in a notebook, else a :class:`LineProgress` (two lines
    per step). ``disable=True`` prints nothing either way. Any other tqdm keyword is passed on
    (and ignored by the line form)."""
    if on_terminal(tqdm_kwargs.get("file")) or in_notebook():
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=desc, total=total, disable=disable, **tqdm_kwargs)
    return LineProgress(iterable, desc=desc, total=total, disable=disable, **tqdm_kwargs)

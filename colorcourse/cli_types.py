"""What every command line of the course shares: checked option types, safe printing, one-line errors.

Argument types (for ``argparse``'s ``type=``): a value is checked where it is parsed, so a bad
one ends in argparse's own one-line message naming the option (``argument --steps: must be a
whole number >= 1, got '0'``) and exit code 2, before any work starts or any file is written.
Booleans are ``true`` or ``false`` only (also ``yes``/``no``, ``1``/``0``): ``ture`` is a typo,
not "false".

:func:`printable` is the one place that makes a file name or a value safe to print: control
characters (escape codes that clear a terminal, a newline that fakes a line of output),
invisible formatting characters and undecodable bytes are shown escaped, and long values are
shortened. :func:`run_command` turns any error into one such line and a non-zero exit, unless
``--debug`` asks for the traceback.

Light on purpose (no numpy, torch or pandas): ``--help`` and argument errors stay fast.
"""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from typing import Callable

TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")
# Unicode categories never printed as they are: controls (Cc: ESC, newline, ...), format
# characters (Cf: right-to-left overrides that reverse what a line seems to say), surrogates
# (Cs: the undecodable bytes of a file name), private use (Co), line and paragraph separators.
_UNPRINTED = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
MAX_SHOWN = 200  # characters of a value shown in a message; the rest is counted, not printed


def printable(value, limit: int | None = MAX_SHOWN) -> str:
    """``str(value)`` safe for a terminal: control, format and surrogate characters escaped
    (``\\x1b``, ``\\n``, ``\\u202e``, ``\\udcff``) and, past ``limit`` characters, shortened
    to its start plus ``... (N characters)``."""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}... ({len(text):,} characters)"
    if text.isprintable():  # the common case: nothing to escape (a space is printable)
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in _UNPRINTED:
            code = ord(ch)
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or
                       (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"))
        else:
            out.append(ch)
    return "".join(out)


def unprintable_characters(text: str) -> str | None:
    """What makes ``text`` unfit to print as a name: ``"control characters"``, ``"a lone
    surrogate"``, ... (the first kind found), or None."""
    names = {"Cc": "control characters", "Cf": "invisible formatting characters", "Cs": "a lone surrogate",
             "Co": "private-use characters", "Zl": "a line separator", "Zp": "a paragraph separator"}
    if text.isprintable():
        return None
    for ch in text:
        category = unicodedata.category(ch)
        if category in _UNPRINTED:
            return names[category]
    return None


def shown(value, limit: int = 80) -> str:
    """A value as a message quotes it: ``repr`` for strings, shortened and escaped."""
    return printable(repr(value) if isinstance(value, str) else value, limit)


def boolean(text: str) -> bool:
    """``true``/``false`` (or ``yes``/``no``, ``1``/``0``, any case); anything else is refused."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"must be true or false, got {shown(text)}")


def int_at_least(minimum: int, what: str = "") -> Callable[[str], int]:
    """A type for whole numbers ``>= minimum``; ``what`` says why in the message."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {shown(text)}") from None
        if value < minimum:
            why = f" ({what})" if what else ""
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}{why}, got {shown(text)}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def float_in(low: float | None = None, high: float | None = None, low_open: bool = False) -> Callable[[str], float]:
    """A type for finite numbers in ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {shown(text)}") from None
        bad_low = low is not None and (value <= low if low_open else value < low)
        bad_high = high is not None and value > high
        if not math.isfinite(value) or bad_low or bad_high:
            lower = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
            upper = "" if high is None else f"<= {high:g}"
            rule = " and ".join(part for part in (lower, upper) if part) or "finite"
            raise argparse.ArgumentTypeError(f"must be a finite number {rule}, got {shown(text)}")
        return value

    parse.__name__ = "number"
    return parse


positive_float = float_in(0.0, low_open=True)
non_negative_float = float_in(0.0)
finite_float = float_in()
fraction = float_in(0.0, 1.0)


def add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error instead of one line")


def error_line(e: BaseException) -> str:
    """One line for an error: its message (or its type when it has none), printable.

    A file error or a bad value (``OSError``, ``ValueError``) speaks for itself; any other
    exception is named by its type, which says more than its message alone ("maximum recursion
    depth exceeded" is a ``RecursionError``)."""
    text = str(e) or ("out of memory" if isinstance(e, MemoryError) else type(e).__name__)
    if not isinstance(e, (OSError, ValueError)) or isinstance(e, UnicodeError):
        text = text if text == type(e).__name__ else f"{type(e).__name__}: {text}"
    return f"error: {printable(' '.join(text.split()), 400)}"


def run_command(func: Callable[[], int | None], debug: bool) -> int:
    """Run a command's body: an exception becomes one ``error: ...`` line on stderr and exit code
    1 (the traceback is shown with ``debug``); Ctrl-C is one line and 130."""
    try:
        code = func()
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 (the point: no traceback, one line per error)
        if debug:
            raise
        print(error_line(e), file=sys.stderr)
        return 1
    return 0 if code is None else int(code)

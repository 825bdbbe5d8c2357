"""Every trained colorizer of the course behind one name.

A *colorizer* is any callable ``gray (H x W, [0, 1]) -> rgb (H x W x 3, [0, 1])``. The command
line, the comparison lesson and the widgets pick them by name from :func:`available`.

:func:`colorize_full_resolution` (from :mod:`colorcourse.full_resolution`, re-exported here)
runs any colorizer on a photo of any size, keeping the photo's own full-resolution luminance.

Importing this module is cheap (no torch, pandas or scikit-image): ``colorcourse --help`` reads
the method names from it. The heavy packages are imported when a method is loaded or run.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Colorizer = Callable[[np.ndarray], np.ndarray]


def _gray(**_) -> Colorizer:
    from .color import gray_baseline  # not via metrics: pandas and SciPy would slow the start

    return gray_baseline


def _cheng(**_) -> Colorizer:
    from .cheng.pipeline import ChengColorizer

    return ChengColorizer()  # all features + joint bilateral refinement: the best row of the ablation


def _fusion(style_image=None, **_) -> Colorizer:
    from .fusion.infer import FusionColorizer, load_model

    return FusionColorizer(load_model(), style_image=style_image)


def _pretrained(**_) -> Colorizer:
    from .fusion.pretrained import PretrainedColorizer, load_model

    return PretrainedColorizer(load_model())


def _hinted(**_) -> Colorizer:
    from .fusion.hinted import HintedColorizer, load_model

    return HintedColorizer(load_model())  # without hints: the default's colors (its decoder, frozen)


def _levin(**_) -> Colorizer:
    from .levin import LevinColorizer

    return LevinColorizer()  # without hints: the gray photo (there is no color to spread)


METHODS: dict[str, Callable[..., Colorizer]] = {
    "pretrained": _pretrained, "fusion": _fusion, "cheng": _cheng, "gray": _gray, "levin": _levin,
    "hinted": _hinted,
}
# What each method is, for --help and the README.
DESCRIPTIONS = {
    "pretrained": "the default: Iizuka et al.'s fusion design on a frozen ImageNet encoder "
                  "(EfficientNet-Lite0), only the decoder trained (MSE on a*b*, the loss shift_val preferred)",
    "fusion": "Iizuka et al. 2016, the paper's fusion network trained from scratch on the course pack",
    "cheng": "Cheng et al. 2015, per-pixel network on patch + DAISY + semantic features, bilateral refinement",
    "gray": "the baseline every method must beat: no chroma at all",
    "levin": "Levin et al. 2004: the colors of your hints (--hints) spread to neighbours of similar gray level; "
             "needs hints",
    "hinted": "Zhang et al. 2017's idea on the default: your hints (--hints) as extra decoder inputs; no hints: the default",
}
DEFAULT = "pretrained"  # the best method on the out-of-domain validation split (models/results.md)
# Longer side (pixels) each method works at; the chroma is upsampled from there. The fusion
# network handles any size itself (tiled), so it gets the photo at full resolution. The
# pretrained encoder saw 224 px crops of photos 256 px high: it recognises objects at about that
# scale, so it works at 512 px and the chroma (which our eyes see at low resolution) is upsampled.
WORK_SIZE = {"gray": None, "cheng": 512, "fusion": None, "pretrained": 512, "levin": 512, "hinted": 512}
# Methods that take user hints (``colorize --hints``): True when they need them. The default
# takes them through the hint network (colorcourse.fusion.hinted), the others take none.
HINTS = {"levin": True, "pretrained": False, "hinted": False}
# Methods that take a reference photo (``colorize --reference``): its colors warped by deep
# correspondence onto the photo, through the hint network (colorcourse.exemplar).
REFERENCE = ("pretrained",)


def available() -> list[str]:
    return list(METHODS)


def automatic() -> list[str]:
    """The methods that colorize without hints (what ``evaluate`` scores)."""
    return [name for name in METHODS if not HINTS.get(name, False)]


class ModelUnavailableError(RuntimeError):
    """A method's model cannot be loaded (package missing, file changed); the message names the fix."""


def load(method: str, style_image: np.ndarray | None = None) -> Colorizer:
    """The colorizer called ``method``, with its default trained model loaded.

    Raises :class:`ModelUnavailableError` (one line that names the fix) when the model's file
    is missing, modified or damaged, or a package it needs is not installed.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if style_image is not None and method != "fusion":
        raise ValueError("a style image needs --method fusion (style comes from its global features)")
    try:
        return METHODS[method](style_image=style_image)
    except (ImportError, ValueError, RuntimeError) as e:
        from .checkpoint import CheckpointError
        from .encoder import EncoderChecksumError

        if isinstance(e, (ImportError, CheckpointError, EncoderChecksumError)):
            raise ModelUnavailableError(f"--method {method}: {e}") from e
        raise


HintedColorizer = Callable[..., np.ndarray]  # (gray H x W, hints: colorcourse.hints.Hints | None) -> rgb


def load_hinted(method: str, work_size: int | None = None) -> HintedColorizer:
    """The colorizer of ``method`` that takes hints: ``colorizer(gray, hints) -> rgb`` at the
    photo's full size (hints in the photo's pixel coordinates, ``None`` for none), working at
    ``work_size`` pixels on the longer side (``None``: the method's :data:`WORK_SIZE`).

    ``levin``: Levin et al.'s optimization; ``pretrained``: the hint network of
    :mod:`colorcourse.fusion.hinted` (the default's decoder with the hints as extra inputs).
    Raises ValueError for a method that takes no hints and :class:`ModelUnavailableError` when
    the hint network or its packages are missing.
    """
    if method not in HINTS:
        takes = " or ".join(f"--method {name}" for name in HINTS)
        raise ValueError(f"--method {method} takes no hints: use {takes} with --hints")
    size = WORK_SIZE[method] if work_size is None else work_size
    try:
        if method == "levin":
            from .levin import LevinColorizer

            return LevinColorizer(work_size=size)
        from .fusion.hinted import HintedColorizer as Hinted, load_model

        return Hinted(load_model(), work_size=size)
    except (ImportError, ValueError, RuntimeError) as e:
        from .checkpoint import CheckpointError
        from .encoder import EncoderChecksumError

        if isinstance(e, (ImportError, CheckpointError, EncoderChecksumError)):
            raise ModelUnavailableError(f"--method {method} --hints: {e}") from e
        raise


def load_exemplar(method: str, reference_rgb: np.ndarray, work_size: int | None = None) -> Colorizer:
    """``colorizer(gray) -> rgb`` at the photo's full size, colored after ``reference_rgb`` (one
    reference, encoded once, for every photo): :class:`colorcourse.exemplar.ExemplarColorizer`.

    Raises ValueError for a method that takes no reference, ``exemplar.GrayReferenceError`` (a
    ValueError) for a reference without colors, and :class:`ModelUnavailableError` when the hint
    network or its packages are missing.
    """
    if method not in REFERENCE:
        raise ValueError(f"--method {method} takes no reference photo: use --method {' or '.join(REFERENCE)} with --reference")
    size = WORK_SIZE[method] if work_size is None else work_size
    try:
        from .exemplar import ExemplarColorizer
        from .fusion.hinted import load_model

        model = load_model()
    except (ImportError, ValueError, RuntimeError) as e:  # CheckpointError is a ValueError
        from .checkpoint import CheckpointError
        from .encoder import EncoderChecksumError

        if isinstance(e, (ImportError, CheckpointError, EncoderChecksumError)):
            raise ModelUnavailableError(f"--method {method} --reference: {e}") from e
        raise
    return ExemplarColorizer(reference_rgb, model=model, work_size=size)


# Full-resolution colorization lives in its own module; re-exported here, where the command
# line, the lessons and the assignments have always found it.
from .full_resolution import colorize_full_resolution  # noqa: E402,F401

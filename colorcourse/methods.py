"""Every trained colorizer of the course behind one name, and full-resolution colorization.

A *colorizer* is any callable ``gray (H x W, [0, 1]) -> rgb (H x W x 3, [0, 1])``. The command
line, the comparison lesson and the widgets pick them by name from :func:`available`.

:func:`colorize_full_resolution` runs any colorizer on a photo of any size: the colorizer works
on a copy scaled down to ``work_size`` pixels on its longer side, its chroma is upsampled to the
original size and joined with the original, full-resolution luminance. Our eyes judge detail by
luminance, so a 20-megapixel scan keeps all of its sharpness.

Importing this module is cheap (no torch, pandas or scikit-image): ``colorcourse --help`` reads
the method names from it. The heavy packages are imported when a method is loaded or run.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Colorizer = Callable[[np.ndarray], np.ndarray]


def _gray(**_) -> Colorizer:
    from .metrics import gray_baseline

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


METHODS: dict[str, Callable[..., Colorizer]] = {
    "pretrained": _pretrained, "fusion": _fusion, "cheng": _cheng, "gray": _gray,
}
# What each method is, for --help and the README.
DESCRIPTIONS = {
    "pretrained": "the default: Iizuka et al.'s fusion design on a frozen ImageNet encoder "
                  "(EfficientNet-Lite0), decoder trained with Zhang et al.'s rebalanced classification loss",
    "fusion": "Iizuka et al. 2016, the paper's fusion network trained from scratch on the course pack",
    "cheng": "Cheng et al. 2015, per-pixel network on patch + DAISY + semantic features, bilateral refinement",
    "gray": "the baseline every method must beat: no chroma at all",
}
DEFAULT = "pretrained"  # the best method on the out-of-domain validation split (models/results.md)
# Longer side (pixels) each method works at; the chroma is upsampled from there. The fusion
# network handles any size itself (tiled), so it gets the photo at full resolution. The
# pretrained encoder saw 224 px crops of photos 256 px high: it recognises objects at about that
# scale, so it works at 512 px and the chroma (which our eyes see at low resolution) is upsampled.
WORK_SIZE = {"gray": None, "cheng": 512, "fusion": None, "pretrained": 512}


def available() -> list[str]:
    return list(METHODS)


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


def colorize_full_resolution(colorizer: Colorizer, gray: np.ndarray, work_size: int | None) -> np.ndarray:
    """Colorize ``gray`` of any size; the result keeps the input's own luminance exactly.

    ``work_size``: the longer side the colorizer runs at (``None``: the full image).
    """
    from skimage.transform import resize

    from .color import merge_y_uv, rgb_to_yuv

    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2:
        raise ValueError(f"expected an H x W gray image, got shape {gray.shape}")
    h, w = gray.shape
    scale = 1.0 if work_size is None else min(1.0, work_size / max(h, w))
    if scale < 1.0:
        small_shape = (max(8, round(h * scale)), max(8, round(w * scale)))
        small = resize(gray, small_shape, anti_aliasing=True, preserve_range=True)
        uv = rgb_to_yuv(np.asarray(colorizer(small), dtype=np.float64))[..., 1:]  # h' x w' x 2
        uv = resize(uv, (h, w, 2), order=1, preserve_range=True)  # bilinear chroma upsampling
    else:
        uv = rgb_to_yuv(np.asarray(colorizer(gray), dtype=np.float64))[..., 1:]
    return merge_y_uv(gray, uv)

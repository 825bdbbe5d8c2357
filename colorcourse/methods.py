"""Every trained colorizer of the course behind one name, and full-resolution colorization.

A *colorizer* is any callable ``gray (H x W, [0, 1]) -> rgb (H x W x 3, [0, 1])``. The command
line, the comparison lesson and the widgets pick them by name from :func:`available`.

:func:`colorize_full_resolution` runs any colorizer on a photo of any size: the colorizer works
on a copy scaled down to ``work_size`` pixels on its longer side, its chroma is upsampled to the
original size and joined with the original, full-resolution luminance. Our eyes judge detail by
luminance, so a 20-megapixel scan keeps all of its sharpness.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from skimage.transform import resize

from .color import merge_y_uv, rgb_to_yuv
from .metrics import gray_baseline

Colorizer = Callable[[np.ndarray], np.ndarray]


def _gray(**_) -> Colorizer:
    return gray_baseline


def _cheng(**_) -> Colorizer:
    from .cheng.pipeline import ChengColorizer

    return ChengColorizer()  # all features + joint bilateral refinement: the best row of the ablation


def _fusion(style_image=None, **_) -> Colorizer:
    from .fusion.infer import FusionColorizer, load_model

    return FusionColorizer(load_model(), style_image=style_image)


METHODS: dict[str, Callable[..., Colorizer]] = {"gray": _gray, "cheng": _cheng, "fusion": _fusion}
# Longer side (pixels) each method works at; the chroma is upsampled from there. The fusion
# network handles any size itself (tiled), so it gets the photo at full resolution.
WORK_SIZE = {"gray": None, "cheng": 512, "fusion": None}


def available() -> list[str]:
    return list(METHODS)


def load(method: str, style_image: np.ndarray | None = None) -> Colorizer:
    """The colorizer called ``method``, with its default trained model loaded."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if style_image is not None and method != "fusion":
        raise ValueError("a style image needs --method fusion (style comes from its global features)")
    colorizer = METHODS[method](style_image=style_image)
    return colorizer


def colorize_full_resolution(colorizer: Colorizer, gray: np.ndarray, work_size: int | None) -> np.ndarray:
    """Colorize ``gray`` of any size; the result keeps the input's own luminance exactly.

    ``work_size``: the longer side the colorizer runs at (``None``: the full image).
    """
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

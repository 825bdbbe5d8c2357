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

import sys
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


def _levin(**_) -> Colorizer:
    from .levin import LevinColorizer

    return LevinColorizer()  # without hints: the gray photo (there is no color to spread)


METHODS: dict[str, Callable[..., Colorizer]] = {
    "pretrained": _pretrained, "fusion": _fusion, "cheng": _cheng, "gray": _gray, "levin": _levin,
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
}
DEFAULT = "pretrained"  # the best method on the out-of-domain validation split (models/results.md)
# Longer side (pixels) each method works at; the chroma is upsampled from there. The fusion
# network handles any size itself (tiled), so it gets the photo at full resolution. The
# pretrained encoder saw 224 px crops of photos 256 px high: it recognises objects at about that
# scale, so it works at 512 px and the chroma (which our eyes see at low resolution) is upsampled.
WORK_SIZE = {"gray": None, "cheng": 512, "fusion": None, "pretrained": 512, "levin": 512}
# Methods that take user hints (``colorize --hints``): True when they need them. The default
# takes them through the hint network (colorcourse.fusion.hinted), the others take none.
HINTS = {"levin": True, "pretrained": False}
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


def _is_fusion(colorizer) -> bool:
    # A FusionColorizer exists only once its module was imported: no import needed to ask.
    infer = sys.modules.get("colorcourse.fusion.infer")
    return infer is not None and type(colorizer) is infer.FusionColorizer


BAND_ROWS = 512  # rows converted at a time: a 12,000-pixel-wide band of 512 rows is ~150 MB in float64


def _mirror(index: np.ndarray, n: int) -> np.ndarray:
    """Indices reflected about the first and last sample (``... 2 1 | 0 1 2 ... n-1 | n-2 ...``)."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    index = np.abs(index) % period
    return np.where(index > n - 1, period - index, index)


def _bilinear_taps(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source rows/columns and weights of bilinear resizing ``n_in -> n_out`` (pixel centres
    aligned, mirrored edges: the numbers of ``skimage.transform.resize(order=1)``)."""
    x = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    lo = np.floor(x)
    weight = (x - lo).astype(np.float32)
    lo = lo.astype(np.int64)
    return _mirror(lo, n_in), _mirror(lo + 1, n_in), weight


class _ChromaUpsampler:
    """Bilinear upsampling of a small ``h' x w' x 2`` chroma to ``H x W x 2``, a band of rows at a
    time (float32), so the full-size chroma never exists as a whole."""

    def __init__(self, uv_small: np.ndarray, h: int, w: int):
        uv_small = np.asarray(uv_small, dtype=np.float32)
        x0, x1, wx = _bilinear_taps(w, uv_small.shape[1])
        wx = wx[None, :, None]
        self.wide = uv_small[:, x0] * (1 - wx) + uv_small[:, x1] * wx  # h' x W x 2: columns done once
        self.y0, self.y1, self.wy = _bilinear_taps(h, uv_small.shape[0])

    def rows(self, top: int, bottom: int) -> np.ndarray:
        wy = self.wy[top:bottom, None, None]
        return self.wide[self.y0[top:bottom]] * (1 - wy) + self.wide[self.y1[top:bottom]] * wy


FUSION_BAND_ROWS = 1024  # rows of a big photo the fusion network colorizes at a time (multiple of 8)


def _fusion_in_bands(colorizer, gray: np.ndarray, progress: bool = False):
    """Yield ``(top, bottom, rgb)`` bands of what ``colorizer(gray)`` returns (a
    :class:`~colorcourse.fusion.infer.FusionColorizer`), computed a band of rows at a time.

    The same numbers as the whole photo at once (up to float rounding of different tile shapes):
    the global vector comes from the whole photo, and each band's local path sees
    ``TILE_MARGIN`` rows of context above and below, more than its receptive field, exactly
    as :func:`~colorcourse.fusion.infer.predict_ab_unit` tiles. What this saves: the whole photo's
    a*b*, L*a*b* and RGB arrays (about 40 bytes a pixel) never exist at once.
    """
    import torch
    from tqdm.auto import tqdm

    from .color import AB_SCALE
    from .fusion import infer

    model = colorizer.model
    h, w = gray.shape
    rows = FUSION_BAND_ROWS
    chroma_gain = colorizer.chroma_gain if colorizer.chroma_gain is not None else infer.model_chroma_gain(model)
    gray = infer._check_gray(gray)
    model.eval()
    L_unit = np.empty((h, w), dtype=np.float32)
    for top in range(0, h, BAND_ROWS):  # elementwise, so banding changes no number
        L_unit[top:top + BAND_ROWS] = infer.gray_to_lightness_unit(gray[top:top + BAND_ROWS])
    L = torch.from_numpy(L_unit)
    if colorizer.style_image is not None:
        vec = infer.global_vector(model, infer._style_to_gray(colorizer.style_image))
    elif model.global_net is None:
        vec = None
    else:  # infer.global_vector, from the L computed above
        with torch.inference_mode():
            vec = model.global_features(infer.resize_global(L[None, None]))[0]
    tile_size = infer.auto_tile_size(h, w)
    margin = infer.TILE_MARGIN
    bands = range(0, h, rows)
    for top in tqdm(bands, desc="rows", unit="band", leave=False, disable=not progress or len(bands) < 2):
        bottom = min(top + rows, h)
        context_top, context_bottom = max(0, top - margin), min(h, bottom + margin)
        if len(bands) == 1:
            context_top, context_bottom = 0, h
        if context_bottom - context_top < infer.MIN_SIDE:  # a sliver of a last band: widen its context
            context_top = max(0, context_bottom - infer.MIN_SIDE)
        ab = infer.predict_ab_unit(model, L[context_top:context_bottom], vec, tile_size=tile_size)
        ab = ab[:, top - context_top:bottom - context_top].permute(1, 2, 0).numpy()
        for sub in range(top, bottom, 128):  # infer.lab_to_rgb_chunked's rows
            end = min(sub + 128, bottom)
            lab = np.empty((end - sub, w, 3), dtype=np.float32)
            lab[..., 0] = L_unit[sub:end] * 100.0
            lab[..., 1:] = (ab[sub - top:end - top] - 0.5) * (2 * AB_SCALE * chroma_gain)
            yield sub, end, infer._lab_to_rgb_band(lab, "chroma").astype(np.float32)


def colorize_full_resolution(
    colorizer: Colorizer, gray: np.ndarray, work_size: int | None, out: np.ndarray | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Colorize ``gray`` of any size; the result keeps the input's own luminance exactly.

    ``work_size``: the longer side the colorizer runs at (``None``: the full image).
    Returns ``H x W x 3`` float32 RGB in [0, 1]. Memory stays close to the result's own size: the
    chroma is upsampled and joined with the luminance a band of rows at a time, and the gray
    baseline (no chroma by definition) is not run at all at full size.

    ``out``: an ``H x W x 3`` array to fill and return instead: float, or uint8 to get the values
    rounded as a file stores them (:func:`colorcourse.imageio.to_uint8`), a quarter of float32's
    memory (what the command line does with a 100-megapixel scan).

    The fusion network at full size runs a band of :data:`FUSION_BAND_ROWS` rows at a time (same
    numbers, far less memory); ``progress`` shows a bar over those bands.
    """
    from .color import merge_y_uv, rgb_to_yuv

    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"expected an H x W gray image, got shape {gray.shape}")
    if gray.dtype not in (np.float32, np.float64):
        gray = gray.astype(np.float64)
    h, w = gray.shape
    if out is None:
        out = np.empty((h, w, 3), dtype=np.float32)
    elif out.shape != (h, w, 3) or not (out.dtype == np.uint8 or np.issubdtype(out.dtype, np.floating)):
        raise ValueError(f"out must be a {h} x {w} x 3 float or uint8 array, got {out.dtype} {out.shape}")
    if out.dtype == np.uint8:
        from .imageio import to_uint8 as store
    else:
        def store(rgb):
            return rgb
    bands = range(0, h, BAND_ROWS)
    metrics = sys.modules.get("colorcourse.metrics")  # gray_baseline exists only once it is imported
    if metrics is not None and colorizer is metrics.gray_baseline:  # U = V = 0: R = G = B = Y, the same numbers without the detour
        for top in bands:
            out[top:top + BAND_ROWS] = store(np.clip(gray[top:top + BAND_ROWS], 0.0, 1.0)[..., None])
        return out
    scale = 1.0 if work_size is None else min(1.0, work_size / max(h, w))
    if scale < 1.0:
        small_shape = (max(8, round(h * scale)), max(8, round(w * scale)))
        from skimage.transform import resize

        small = resize(gray, small_shape, anti_aliasing=True, preserve_range=True)  # float32 stays float32
        uv_small = rgb_to_yuv(np.asarray(colorizer(small), dtype=np.float64))[..., 1:]  # h' x w' x 2
        upsampler = _ChromaUpsampler(uv_small, h, w)  # bilinear chroma upsampling
        for top in bands:
            bottom = min(top + BAND_ROWS, h)
            out[top:bottom] = store(merge_y_uv(gray[top:bottom], upsampler.rows(top, bottom)))
    elif _is_fusion(colorizer) and h > FUSION_BAND_ROWS:
        for top, bottom, rgb in _fusion_in_bands(colorizer, gray, progress=progress):
            uv = rgb_to_yuv(np.asarray(rgb, dtype=np.float64))[..., 1:]
            out[top:bottom] = store(merge_y_uv(gray[top:bottom], uv))
    else:
        rgb = colorizer(gray)
        if np.shape(rgb) != (h, w, 3):
            raise ValueError(f"the colorizer returned shape {np.shape(rgb)} for a {h} x {w} photo")
        for top in bands:
            bottom = min(top + BAND_ROWS, h)
            uv = rgb_to_yuv(np.asarray(rgb[top:bottom], dtype=np.float64))[..., 1:]
            out[top:bottom] = store(merge_y_uv(gray[top:bottom], uv))
    return out

"""Any colorizer on a photo of any size: work small, keep the full-resolution luminance.

:func:`colorize_full_resolution` runs a colorizer on a copy scaled down to ``work_size`` pixels
on its longer side, upsamples its chroma to the original size and joins it with the original,
full-resolution luminance. Our eyes judge detail by luminance, so a 20-megapixel scan keeps all
of its sharpness. Big photos are converted a band of rows at a time, so memory stays bounded.

A module of its own so that colorizers (e.g. :mod:`colorcourse.levin`) can use it without
importing the method registry (:mod:`colorcourse.methods`) that lists them.
"""

from __future__ import annotations

import sys
from typing import Callable

import numpy as np

Colorizer = Callable[[np.ndarray], np.ndarray]  # gray (H x W, [0, 1]) -> rgb (H x W x 3, [0, 1])


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

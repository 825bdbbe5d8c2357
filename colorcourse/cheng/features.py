"""The per-pixel feature of Cheng et al.: 7x7 gray patch + DAISY + semantic probabilities.

Taught in notebooks/02_cheng_features.ipynb.

Every pixel of the image gets a descriptor, border pixels included: the image is padded by
reflection before the patch and DAISY descriptors are taken. Nothing here loops over pixels;
the patch feature is a strided view and DAISY is scikit-image's dense descriptor, computed by
:func:`colorcourse.cheng.fast.dense_daisy` (the same numbers, about 3x sooner; tested).

Dimensions (the paper's, Sec. IV): 49 (patch) + 32 (DAISY: 1 centre + 3 histograms on one
ring, 8 orientations each) + K (semantic; K = 33 SIFT Flow classes) = 114.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .fast import dense_daisy

PATCH_SIZE = 7  # the paper's low-level feature: a 7 x 7 gray patch (49 values)
DAISY_RADIUS = 15  # pixels from the centre to the ring of histograms (the paper does not say)
DAISY_DIMS = 32  # (rings * histograms + 1) * orientations = (1 * 3 + 1) * 8
FEATURE_GROUPS = ("patch", "daisy", "semantic")

# The ablation of the paper's Sec. III-B, as feature-group tuples.
ABLATIONS = {
    "patch": ("patch",),
    "patch+daisy": ("patch", "daisy"),
    "patch+daisy+semantic": ("patch", "daisy", "semantic"),
}


class GrayImageError(ValueError):
    """The input is not a usable gray image (wrong shape, color, too small, not finite)."""


def check_gray(gray, min_size: int = PATCH_SIZE) -> np.ndarray:
    """Validate a gray image ``H x W`` in [0, 1] and return it as float32.

    A color image (``H x W x 3``) is refused with a hint: the colorizer must not see color.
    """
    gray = np.asarray(gray)
    if gray.ndim == 3 and gray.shape[-1] in (3, 4):
        raise GrayImageError(
            f"expected a gray image H x W, got a color image of shape {gray.shape}; "
            "convert it first with colorcourse.color.rgb_to_gray(rgb)"
        )
    if gray.ndim == 3 and gray.shape[-1] == 1:
        gray = gray[..., 0]
    if gray.ndim != 2:
        raise GrayImageError(f"expected a gray image H x W, got shape {gray.shape}")
    if min(gray.shape) < min_size:
        raise GrayImageError(
            f"the image is {gray.shape[0]} x {gray.shape[1]} pixels, smaller than the "
            f"{min_size} x {min_size} patch the features need"
        )
    if not np.issubdtype(gray.dtype, np.number) or gray.dtype == bool:
        raise GrayImageError(f"expected a numeric gray image, got dtype {gray.dtype}")
    gray = gray.astype(np.float32)
    if not np.all(np.isfinite(gray)):
        raise GrayImageError("the gray image contains NaN or infinite values")
    if gray.min() < -1e-3 or gray.max() > 1 + 1e-3:
        raise GrayImageError(
            f"gray values must lie in [0, 1], got [{gray.min():.3g}, {gray.max():.3g}] "
            "(divide 8-bit images by 255)"
        )
    return np.clip(gray, 0.0, 1.0)


def patch_features(gray: np.ndarray, size: int = PATCH_SIZE) -> np.ndarray:
    """``H x W`` -> ``H x W x size**2``: the gray values of the ``size x size`` patch at each pixel.

    Row-major order within the patch: feature ``k`` is the pixel at offset
    ``(k // size - size // 2, k % size - size // 2)``.
    """
    gray = check_gray(gray, min_size=size)
    r = size // 2
    padded = np.pad(gray, r, mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size))  # H x W x s x s
    return windows.reshape(gray.shape + (size * size,))


def daisy_features(gray: np.ndarray, radius: int = DAISY_RADIUS) -> np.ndarray:
    """``H x W`` -> ``H x W x 32``: a dense DAISY descriptor at every pixel.

    It is ``skimage.feature.daisy(padded, step=1, radius=radius, rings=1, histograms=3,
    orientations=8, normalization="l1")``, which drops a border of ``radius`` pixels, so the
    image is padded by ``radius`` (reflect) first; the result then has exactly one descriptor
    per input pixel.
    """
    gray = check_gray(gray)
    padded = np.pad(gray, radius, mode="reflect")
    return dense_daisy(padded, radius, histograms=3, orientations=8)


def feature_dims(groups: Sequence[str], n_classes: int = 33) -> int:
    """Length of the feature for ``groups`` (114 for all three with 33 classes)."""
    groups = check_groups(groups)
    sizes = {"patch": PATCH_SIZE**2, "daisy": DAISY_DIMS, "semantic": n_classes}
    return sum(sizes[g] for g in groups)


def check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    """Validate a choice of feature groups and put it in the canonical order."""
    if isinstance(groups, str):
        groups = (groups,)
    unknown = [g for g in groups if g not in FEATURE_GROUPS]
    if unknown:
        raise ValueError(f"unknown feature group(s) {unknown}; choose from {FEATURE_GROUPS}")
    if not groups:
        raise ValueError("choose at least one feature group")
    return tuple(g for g in FEATURE_GROUPS if g in groups)


def pixel_features(
    gray: np.ndarray,
    groups: Sequence[str] = FEATURE_GROUPS,
    semantic: np.ndarray | None = None,
    daisy_radius: int = DAISY_RADIUS,
) -> np.ndarray:
    """``H x W`` -> ``H x W x D`` float32: the concatenated feature of the chosen groups.

    ``semantic`` (``H x W x K`` class probabilities, already smoothed; see
    :func:`colorcourse.cheng.semantic.semantic_features`) is required when ``"semantic"`` is
    one of the groups.
    """
    gray = check_gray(gray)
    # one band of all the rows: the bands' buffer is then the whole feature array
    _, features = next(feature_bands(gray, groups, semantic, daisy_radius, band_rows=gray.shape[0]))
    return features


def feature_bands(
    gray: np.ndarray,
    groups: Sequence[str] = FEATURE_GROUPS,
    semantic: np.ndarray | None = None,
    daisy_radius: int = DAISY_RADIUS,
    band_rows: int = 64,
):
    """Yield ``(rows, features)``: :func:`pixel_features`, ``band_rows`` image rows at a time.

    The same numbers, without ever holding the whole ``H x W x D`` array: at a megapixel that
    array is about 0.5 GB, and merely allocating it costs more than the network's first layer.
    The features of each band are written into one buffer that is reused for the next band, so
    consume (or copy) each before asking for the next. ``rows`` is the band's ``slice`` of rows.
    """
    groups = check_groups(groups)
    gray = check_gray(gray)
    if band_rows < 1:
        raise ValueError(f"band_rows must be >= 1, got {band_rows}")
    if "semantic" in groups:
        if semantic is None:
            raise ValueError("the 'semantic' group needs the parser's probability maps")
        semantic = np.asarray(semantic, dtype=np.float32)
        if semantic.ndim != 3 or semantic.shape[:2] != gray.shape:
            raise ValueError(f"semantic maps must be {gray.shape} x K, got shape {semantic.shape}")
    r = PATCH_SIZE // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(gray, r, mode="reflect"), (PATCH_SIZE, PATCH_SIZE))
    daisy = daisy_features(gray, radius=daisy_radius) if "daisy" in groups else None
    sizes = {"patch": PATCH_SIZE**2, "daisy": DAISY_DIMS, "semantic": 0 if semantic is None else semantic.shape[-1]}
    h, w = gray.shape
    buffer = np.empty((min(band_rows, h), w, sum(sizes[g] for g in groups)), np.float32)
    for top in range(0, h, band_rows):
        rows = slice(top, min(top + band_rows, h))
        band = buffer[: rows.stop - rows.start]
        start = 0
        for g in groups:
            part = band[..., start : start + sizes[g]]
            if g == "patch":
                part[...] = windows[rows].reshape(band.shape[:2] + (PATCH_SIZE**2,))
            elif g == "daisy":
                part[...] = daisy[rows]
            else:
                part[...] = semantic[rows]
            start += sizes[g]
        yield rows, band

"""Joint bilateral refinement of the predicted chroma, guided by the gray input.

Taught in notebooks/05_cheng_bilateral_refinement.ipynb.

The network's chroma is noisy in flat regions (sky, sea) where DAISY says little
(Sec. III-B.4 of the paper). A joint (cross) bilateral filter averages each pixel's chroma
with its neighbours', weighting a neighbour by its distance (``sigma_spatial``, pixels) and
by how similar its *gray value* is (``sigma_range``, gray units in [0, 1]); chroma is
therefore smoothed within regions and not across the edges of the gray image.

The guide is always the gray input. Guiding with the ground-truth color (as one public
reimplementation does) hands the filter the answer and inflates every score.

Vectorised over pixels: the loop runs over the ``(2r + 1)^2`` window offsets, each step a
whole-image array operation.
"""

from __future__ import annotations

import numpy as np


def _window_radius(sigma_spatial: float, radius: int | None) -> int:
    if radius is None:
        radius = int(np.ceil(2.0 * sigma_spatial))
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    return int(radius)


def guided_inputs(src, guide) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(src as float32 H x W x C, guide as float32 H x W, whether src was H x W)``, checked.

    The guided filters (this one and the semantic smoothing) accept one or several channels.
    """
    guide = np.asarray(guide, dtype=np.float32)
    src = np.asarray(src, dtype=np.float32)
    if guide.ndim != 2:
        raise ValueError(f"the guide must be a gray image H x W, got shape {guide.shape}")
    squeeze = src.ndim == 2
    if squeeze:
        src = src[..., None]
    if src.ndim != 3 or src.shape[:2] != guide.shape:
        raise ValueError(f"src must be {guide.shape} or {guide.shape} x C, got {src.shape}")
    return src, guide, squeeze


def joint_bilateral_filter(
    src: np.ndarray,
    guide: np.ndarray,
    sigma_spatial: float = 3.0,
    sigma_range: float = 0.1,
    radius: int | None = None,
) -> np.ndarray:
    """Filter ``src`` (``H x W`` or ``H x W x C``) with weights from the gray ``guide`` (``H x W``).

    ``out(p) = sum_q w(p, q) src(q) / sum_q w(p, q)`` over the disc ``|p - q| <= radius``, with
    ``w = exp(-|p - q|^2 / (2 sigma_spatial^2)) * exp(-(guide(p) - guide(q))^2 / (2 sigma_range^2))``.
    Borders are mirrored (reflect-101, as OpenCV). ``radius`` defaults to ``ceil(2 sigma_spatial)``.
    """
    src, guide, squeeze = guided_inputs(src, guide)
    if sigma_spatial <= 0 or sigma_range <= 0:
        raise ValueError("sigma_spatial and sigma_range must be positive")
    r = _window_radius(sigma_spatial, radius)
    h, w = guide.shape
    if r >= min(h, w):
        raise ValueError(f"window radius {r} is too large for an image of {h} x {w}")
    pad_src = np.pad(src, ((r, r), (r, r), (0, 0)), mode="reflect")
    pad_guide = np.pad(guide, r, mode="reflect")
    inv_s = -0.5 / sigma_spatial**2
    # scale the guide once so that the range term is just -(difference)^2
    scaled_guide = pad_guide * np.float32(np.sqrt(0.5) / sigma_range)
    centre = scaled_guide[r : r + h, r : r + w]
    channels = src.shape[-1]
    num = np.zeros((channels, h, w), np.float32)  # channels first: contiguous planes
    pad_planes = np.ascontiguousarray(np.moveaxis(pad_src, -1, 0))
    den = np.zeros(guide.shape, np.float32)
    weight = np.empty(guide.shape, np.float32)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            d2 = dy * dy + dx * dx
            if d2 > r * r:
                continue  # a disc, not a square: isotropic, like OpenCV's window
            # weight = exp(-(g(q) - g(p))^2 / (2 sr^2) - |p - q|^2 / (2 ss^2)), in place
            np.subtract(scaled_guide[r + dy : r + dy + h, r + dx : r + dx + w], centre, out=weight)
            np.square(weight, out=weight)
            np.subtract(np.float32(inv_s * d2), weight, out=weight)
            np.exp(weight, out=weight)
            den += weight
            for c in range(channels):
                num[c] += weight * pad_planes[c, r + dy : r + dy + h, r + dx : r + dx + w]
    out = np.moveaxis(num / den, 0, -1)
    return out[..., 0] if squeeze else out


def refine_uv(
    uv: np.ndarray, gray: np.ndarray, sigma_spatial: float = 3.0, sigma_range: float = 0.1
) -> np.ndarray:
    """The paper's refinement step: ``H x W x 2`` chroma smoothed with the gray image as guide."""
    uv = np.asarray(uv)
    if uv.ndim != 3 or uv.shape[-1] != 2:
        raise ValueError(f"uv must be H x W x 2, got shape {uv.shape}")
    return joint_bilateral_filter(uv, gray, sigma_spatial, sigma_range)

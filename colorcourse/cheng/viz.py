"""Pictures for the Cheng lessons; the widget callbacks live here so that pytest can run them.

Taught in notebooks/02 to 05 (cheng_*): each function returns a matplotlib figure (and the
numbers it shows), so a lesson cell is one call.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from ..color import merge_y_uv, rgb_to_yuv
from ..metrics import psnr
from .bilateral import joint_bilateral_filter
from .semantic import domain_transform_filter


def pca_image(features: np.ndarray) -> np.ndarray:
    """``H x W x D`` -> ``H x W x 3`` in [0, 1]: the first three principal components as RGB."""
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    flat = flat - flat.mean(0)
    _, _, vt = np.linalg.svd(flat[:: max(1, len(flat) // 5000)], full_matrices=False)
    proj = flat @ vt[:3].T
    lo, hi = np.percentile(proj, 1, axis=0), np.percentile(proj, 99, axis=0)
    return np.clip((proj - lo) / (hi - lo + 1e-12), 0, 1).reshape(features.shape[:2] + (3,))


def semantic_smoothing_panel(gray, probs, sigma_spatial=10.0, sigma_range=0.2):
    """Most likely pseudo-class before and after domain-transform smoothing (the slider of 02).

    Returns ``(figure, fraction of pixels whose class changed)``.
    """
    smooth = domain_transform_filter(probs, gray, sigma_spatial, sigma_range)
    before, after = probs.argmax(-1), smooth.argmax(-1)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    axes[0].imshow(gray, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("gray input")
    axes[1].imshow(before, cmap="tab20", interpolation="nearest")
    axes[1].set_title("parser: most likely class")
    axes[2].imshow(after, cmap="tab20", interpolation="nearest")
    axes[2].set_title(f"after domain transform (s={sigma_spatial:g}, r={sigma_range:g})")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig, float((before != after).mean())


def refinement_panel(gray, uv, true_rgb, sigma_spatial=3.0, sigma_range=0.08):
    """Before/after joint bilateral refinement (the slider of 05). Returns ``(fig, psnr_before, psnr_after)``."""
    before = merge_y_uv(gray, uv)
    after = merge_y_uv(gray, joint_bilateral_filter(uv, gray, sigma_spatial, sigma_range))
    p0, p1 = psnr(before, true_rgb), psnr(after, true_rgb)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, img, title in zip(
        axes, (before, after, true_rgb),
        (f"network output: {p0:.2f} dB", f"refined (s={sigma_spatial:g}, r={sigma_range:g}): {p1:.2f} dB", "ground truth"),
    ):
        ax.imshow(np.clip(img, 0, 1))
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    return fig, p0, p1


def chroma_maps(uv: np.ndarray, true_rgb: np.ndarray | None = None):
    """U and V as images (predicted, and the truth's when given)."""
    rows = [("predicted", uv)]
    if true_rgb is not None:
        rows.append(("ground truth", rgb_to_yuv(true_rgb)[..., 1:]))
    fig, axes = plt.subplots(len(rows), 2, figsize=(8, 3.3 * len(rows)), squeeze=False)
    for r, (name, maps) in enumerate(rows):
        for c, (label, lim) in enumerate((("U", 0.3), ("V", 0.3))):
            axes[r, c].imshow(maps[..., c], cmap="coolwarm", vmin=-lim, vmax=lim)
            axes[r, c].set_title(f"{name} {label}")
            axes[r, c].axis("off")
    fig.tight_layout()
    return fig


def psnr_histograms(psnr_by_method: dict, bins: int = 12):
    """The paper's Figure 8: PSNR distributions over the test photos, one outline per method."""
    values = np.concatenate([np.asarray(v, float) for v in psnr_by_method.values()])
    edges = np.linspace(np.floor(values.min()), np.ceil(values.max()), bins + 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, v in psnr_by_method.items():
        ax.hist(v, bins=edges, histtype="step", linewidth=2, label=f"{name} (mean {np.mean(v):.2f} dB)")
    ax.set_xlabel("PSNR (dB)")
    ax.set_ylabel("test photos")
    ax.legend()
    fig.tight_layout()
    return fig

"""How good is a colorization? PSNR, SSIM, colorfulness, and the gray baseline to beat.

Conventions (see ../shared/REFERENCE.md, "Evaluation conventions"):
- PSNR and SSIM are computed on RGB quantised to uint8, against the ground-truth photo: the
  number the colorization papers report.
- PSNR rewards washed-out output: predicting no chroma at all (the gray baseline) is a strong
  score that several published methods do not beat. Colorfulness (Hasler & Suesstrunk 2003)
  exposes desaturation. Always report both, beside the gray baseline.

Taught in notebooks/01_color_spaces_and_gray_baseline.ipynb.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from skimage.metrics import structural_similarity
from tqdm.auto import tqdm

from .color import gray_to_rgb, rgb_to_gray
from .imageio import to_uint8

Colorizer = Callable[[np.ndarray], np.ndarray]  # gray: H x W in [0, 1] -> rgb: H x W x 3


def _pair(pred_rgb, true_rgb) -> tuple[np.ndarray, np.ndarray]:
    pred, true = to_uint8(pred_rgb), to_uint8(true_rgb)
    if pred.shape != true.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {true.shape} differ in shape")
    if pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"expected H x W x 3 RGB images, got {pred.shape}")
    return pred, true


def psnr(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB on uint8 RGB (peak 255); ``inf`` for identical images."""
    pred, true = _pair(pred_rgb, true_rgb)
    mse = np.mean((pred.astype(np.float64) - true.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))


def ssim(pred_rgb: np.ndarray, true_rgb: np.ndarray) -> float:
    """Structural similarity on uint8 RGB, averaged over the three channels (1 = identical)."""
    pred, true = _pair(pred_rgb, true_rgb)
    return float(structural_similarity(pred, true, channel_axis=-1, data_range=255))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colorfulness of an RGB image, on the 0..255 scale.

    ``rg = R - G``, ``yb = (R + G) / 2 - B``;
    ``CF = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)``.
    0 for any gray image; about 15 is "slightly colorful", above 100 "extremely colorful".
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected an H x W x 3 RGB image, got {rgb.shape}")
    r, g, b = np.moveaxis(np.clip(rgb, 0.0, 1.0) * 255.0, -1, 0)
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def gray_baseline(gray: np.ndarray) -> np.ndarray:
    """The colorizer that predicts no chroma: ``U = V = 0``, so R = G = B = Y."""
    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"gray_baseline takes an H x W gray image, got shape {gray.shape}")
    return gray_to_rgb(gray)


def evaluate(
    colorizer: Colorizer,
    photos: Iterable,
    name: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Score ``colorizer`` on ``photos`` (objects with ``.name`` and ``.rgb``).

    The colorizer sees only the gray image (``rgb_to_gray`` of the photo), never the color.
    Returns one row per photo: method, photo, psnr, ssim, colorfulness, true_colorfulness,
    seconds (the colorizer's own time).
    """
    method = name or getattr(colorizer, "__name__", type(colorizer).__name__)
    photos = list(photos)
    rows = []
    for photo in tqdm(photos, desc=f"evaluate {method}", disable=not progress, leave=False):
        true_rgb = np.asarray(photo.rgb, dtype=np.float64)
        gray = rgb_to_gray(true_rgb)
        start = time.perf_counter()
        pred = np.asarray(colorizer(gray))
        seconds = time.perf_counter() - start
        if pred.shape != true_rgb.shape:
            raise ValueError(
                f"{method} returned shape {pred.shape} for photo {photo.name} of shape "
                f"{true_rgb.shape}: a colorizer must keep the input size"
            )
        rows.append(
            {
                "method": method,
                "photo": photo.name,
                "psnr": psnr(pred, true_rgb),
                "ssim": ssim(pred, true_rgb),
                "colorfulness": colorfulness(pred),
                "true_colorfulness": colorfulness(true_rgb),
                "seconds": seconds,
            }
        )
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per method, with ``colorfulness_ratio`` = colorfulness / ground truth's.

    ``results`` is one or more :func:`evaluate` tables concatenated.
    """
    table = results.groupby("method", sort=False).agg(
        photos=("photo", "count"),
        psnr=("psnr", "mean"),
        ssim=("ssim", "mean"),
        colorfulness=("colorfulness", "mean"),
        true_colorfulness=("true_colorfulness", "mean"),
        seconds=("seconds", "mean"),
    )
    table["colorfulness_ratio"] = table["colorfulness"] / table["true_colorfulness"]
    return table


def markdown_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A results table as GitHub Markdown (index as the first column), floats rounded to ``digits``.

    Written here rather than with ``DataFrame.to_markdown`` so the course needs no extra package.
    """

    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            return "" if np.isnan(value) else f"{value:.{digits}f}"
        return str(value)

    header = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for index, *values in table.itertuples(name=None):  # itertuples keeps each column's type
        lines.append("| " + " | ".join([cell(index)] + [cell(v) for v in values]) + " |")
    return "\n".join(lines)

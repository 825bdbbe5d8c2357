"""Choosing a colorizer's inference settings (chroma gain, temperature) on a validation split.

Taught in notebooks/10_transfer_learning.ipynb. A colorizer trained with a squared error
predicts washed-out chroma; multiplying it by a gain above 1 buys colorfulness at the price of
PSNR when the colors are wrong. Which gain is right is a question for held-out photos, and for
photos the model must generalize to: the course chooses on ``shift_val`` (sources never used in
training) and reports on ``shift_test`` (never used for any choice).

The rule, the same for every method: among the settings that keep at least
:data:`MIN_COLOR_RATIO` of the true colorfulness, the one with the best mean PSNR; if none
does, the most colorful one. PSNR alone would choose gain 0, the gray image, every time.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd

from colorcourse.metrics import evaluate

MIN_COLOR_RATIO = 0.5
GAINS = (0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.5)


def summarize_setting(per_photo: pd.DataFrame) -> dict:
    """Mean PSNR, SSIM and colorfulness ratio of one setting's per-photo rows."""
    return {
        "psnr": float(per_photo["psnr"].mean()),
        "ssim": float(per_photo["ssim"].mean()) if "ssim" in per_photo else np.nan,
        "colorfulness_ratio": float(per_photo["colorfulness"].mean() / per_photo["true_colorfulness"].mean()),
    }


def sweep(make_colorizer: Callable[..., Callable], photos: Iterable, settings: list[dict],
          progress: bool = True) -> pd.DataFrame:
    """Score ``make_colorizer(**setting)`` on ``photos`` for every setting; one row per setting."""
    photos = list(photos)
    rows = []
    for setting in settings:
        name = ", ".join(f"{k}={v}" for k, v in setting.items())
        per_photo = evaluate(make_colorizer(**setting), photos, name=name, progress=progress)
        rows.append(dict(setting) | summarize_setting(per_photo))
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame, min_ratio: float = MIN_COLOR_RATIO) -> pd.Series:
    """The row of ``table`` (columns ``psnr``, ``colorfulness_ratio``) the rule above picks."""
    if table.empty:
        raise ValueError("nothing to choose from: the sweep table is empty")
    colorful = table[table["colorfulness_ratio"] >= min_ratio]
    if colorful.empty:
        return table.loc[table["colorfulness_ratio"].idxmax()]
    return colorful.loc[colorful["psnr"].idxmax()]

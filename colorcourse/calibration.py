"""Choosing a colorizer's inference settings (chroma gain, temperature) on a validation split.

Taught in notebooks/10_transfer_learning.ipynb. A colorizer trained with a squared error
predicts washed-out chroma; multiplying it by a gain above 1 buys colorfulness at the price of
PSNR when the colors are wrong. Which gain is right is a question for held-out photos, and for
photos the model must generalize to: the course chooses on ``shift_val`` (sources never used in
training) and reports on ``shift_test`` (never used for any choice).

The rule, the same for every method: among the settings that keep at least
:data:`MIN_COLOR_RATIO` of the true colorfulness, the one with the best mean PSNR; if none
does, the most colorful one. PSNR alone would choose gain 0, the gray image, every time.

"Keeps at least half" is judged with a margin: a setting qualifies when the lower end of a
one-sided 95 % bootstrap interval of its colorfulness ratio (photos resampled) clears the bar,
not its point estimate. The validation split is a sample of 40 photos; a setting chosen because
its ratio is 0.53 on that sample is about as likely to fall under 0.5 on the next sample as
to stay above it (the course saw exactly that: 0.53 on ``shift_val``, 0.47 on ``shift_test``).
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd

from colorcourse.metrics import evaluate

MIN_COLOR_RATIO = 0.5
MARGIN_QUANTILE = 0.05  # the one-sided 95 % lower bound of the ratio must clear MIN_COLOR_RATIO
BOOTSTRAP_SAMPLES = 2000
GAINS = (0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.5)


def ratio_lower_bound(colorfulness: np.ndarray, true_colorfulness: np.ndarray,
                      quantile: float = MARGIN_QUANTILE, samples: int = BOOTSTRAP_SAMPLES,
                      seed: int = 0) -> float:
    """Lower ``quantile`` of the bootstrap distribution of ``mean(colorfulness) / mean(true)``.

    Photos are resampled with their pairs kept together; the seed is fixed, so the same scores
    give the same bound (the choice of a gain must reproduce)."""
    made = np.asarray(colorfulness, dtype=np.float64)
    true = np.asarray(true_colorfulness, dtype=np.float64)
    if made.shape != true.shape or made.ndim != 1 or len(made) == 0:
        raise ValueError("need two equal-length, non-empty 1-D arrays of per-photo colorfulness")
    index = np.random.default_rng(seed).integers(0, len(made), size=(samples, len(made)))
    ratios = made[index].mean(axis=1) / np.maximum(true[index].mean(axis=1), 1e-12)
    return float(np.quantile(ratios, quantile))


def summarize_setting(per_photo: pd.DataFrame) -> dict:
    """Mean PSNR, SSIM, colorfulness ratio and its margin-checked lower bound of one setting's
    per-photo rows."""
    return {
        "psnr": float(per_photo["psnr"].mean()),
        "ssim": float(per_photo["ssim"].mean()) if "ssim" in per_photo else np.nan,
        "colorfulness_ratio": float(per_photo["colorfulness"].mean() / per_photo["true_colorfulness"].mean()),
        "colorfulness_ratio_low": ratio_lower_bound(per_photo["colorfulness"].to_numpy(),
                                                    per_photo["true_colorfulness"].to_numpy()),
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
    """The row of ``table`` the rule above picks.

    Settings qualify on ``colorfulness_ratio_low`` (the margin) where the table has it, else on
    the point estimate ``colorfulness_ratio``."""
    if table.empty:
        raise ValueError("nothing to choose from: the sweep table is empty")
    judged = "colorfulness_ratio_low" if "colorfulness_ratio_low" in table else "colorfulness_ratio"
    colorful = table[table[judged] >= min_ratio]
    if colorful.empty:
        return table.loc[table["colorfulness_ratio"].idxmax()]
    return colorful.loc[colorful["psnr"].idxmax()]

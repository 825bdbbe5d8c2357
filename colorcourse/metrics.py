"""How good is a colorization? PSNR, SSIM, colorfulness, and the gray baseline to beat.

Conventions (those of the colorization literature, e.g. Zhang et al. 2016):
- PSNR and SSIM are computed on RGB quantised to uint8, against the ground-truth photo: the
  number the colorization papers report.
- PSNR rewards washed-out output: predicting no chroma at all (the gray baseline) is a strong
  score that several published methods do not beat. Colorfulness (Hasler & Suesstrunk 2003)
  exposes desaturation. Always report both, beside the gray baseline.

- A difference between two methods is a *paired* difference over the same photos, reported with
  a 95 % bootstrap interval over photos (:func:`paired_difference`): a difference whose interval
  contains 0 is noise at this number of photos, and the tables say so.

Taught in notebooks/01_color_spaces_and_gray_baseline.ipynb; the paired intervals in
notebooks/10_transfer_learning.ipynb.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from skimage.metrics import structural_similarity
from tqdm.auto import tqdm

# gray_baseline lives beside gray_to_rgb (no pandas, no SciPy: the gray command starts at once)
from .color import gray_baseline, rgb_to_gray  # noqa: F401  (gray_baseline is part of this API)
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


def paired_difference(
    results: pd.DataFrame,
    method: str,
    baseline: str = "gray",
    metric: str = "psnr",
    confidence: float = 0.95,
    n_boot: int = 10_000,
    seed: int = 0,
) -> dict:
    """Mean per-photo difference ``metric(method) - metric(baseline)`` with a bootstrap interval.

    The two methods must have been scored on the same photos (rows matched by ``photo``): pairing
    removes the photo-to-photo spread that both share (an easy photo is easy for every method),
    which is most of it. The interval is the percentile bootstrap over photos, seeded, so a rerun
    prints the same numbers. Returns ``{"mean", "low", "high", "n", "verdict"}`` where the verdict
    is ``"better"`` / ``"worse"`` when the whole interval is above / below 0, else ``"noise"``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    a = results[results["method"] == method].set_index("photo")[metric]
    b = results[results["method"] == baseline].set_index("photo")[metric]
    if a.empty or b.empty:
        missing = method if a.empty else baseline
        raise ValueError(f"no rows for method {missing!r} in the results")
    if set(a.index) != set(b.index):
        raise ValueError(f"{method!r} and {baseline!r} were scored on different photos: cannot pair them")
    diff = (a - b.loc[a.index]).to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(diff)):
        raise ValueError(f"{metric} differences are not finite (an identical image gives PSNR inf)")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(n_boot, diff.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    verdict = "better" if low > 0 else "worse" if high < 0 else "noise"
    return {"mean": float(diff.mean()), "low": float(low), "high": float(high), "n": int(diff.size), "verdict": verdict}


def compare(results: pd.DataFrame, baseline: str = "gray", **interval) -> pd.DataFrame:
    """:func:`summarize` plus each method's paired PSNR difference to ``baseline`` and its interval.

    Columns added: ``dpsnr`` (mean paired difference, dB), ``dpsnr_low`` / ``dpsnr_high`` (95 %
    bootstrap interval) and ``verdict`` (``better`` / ``worse`` / ``noise`` against the baseline).
    """
    table = summarize(results)
    rows = {m: paired_difference(results, m, baseline, **interval) if m != baseline else None for m in table.index}
    table["dpsnr"] = [r["mean"] if r else 0.0 for r in rows.values()]
    table["dpsnr_low"] = [r["low"] if r else np.nan for r in rows.values()]
    table["dpsnr_high"] = [r["high"] if r else np.nan for r in rows.values()]
    table["verdict"] = [r["verdict"] if r else "baseline" for r in rows.values()]
    return table


def side_by_side(results_by_split: dict[str, pd.DataFrame], baseline: str = "gray") -> pd.DataFrame:
    """One row per method, one group of columns per split: PSNR, paired dPSNR to ``baseline``
    with its interval, SSIM and colorfulness ratio, e.g. ``{"test": ..., "shift_test": ...}``.

    The in-domain test split and the out-of-domain split next to each other: a model that fits
    its training sources shows a gap between them.
    """
    parts = []
    for split, results in results_by_split.items():
        t = compare(results, baseline)
        interval = [
            "" if m == baseline else f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}] {v}"
            for m, d, lo, hi, v in zip(t.index, t["dpsnr"], t["dpsnr_low"], t["dpsnr_high"], t["verdict"])
        ]
        part = pd.DataFrame(
            {
                f"{split} PSNR": t["psnr"].round(2),
                f"{split} dPSNR vs {baseline} [95% CI]": interval,
                f"{split} SSIM": t["ssim"].round(3),
                f"{split} color ratio": t["colorfulness_ratio"].round(2),
            },
            index=t.index,
        )
        parts.append(part)
    table = pd.concat(parts, axis=1)
    table.index.name = "method"
    return table

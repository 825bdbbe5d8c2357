"""Training on damaged photos, measured: does degradation augmentation make a colorizer robust?

Taught in the capstone assignment (assignments/source/a6_old_photographs), which asks how old-photo
damage (:mod:`colorcourse.degrade`) hurts each colorizer and proposes the usual fix: train on
damaged inputs with the clean colors as targets. This module runs that fix, small, and measures
it. Two of Cheng et al.'s per-pixel networks (patch + DAISY features, :mod:`colorcourse.cheng`)
are trained by the same recipe on the same photos, the same sampled pixels and the same seed;
they differ in one thing, the gray image the features are computed from:

- ``clean``: the photo's own gray image (the course's usual training);
- ``augmented``: that gray image damaged by one degradation drawn at random (a random strength
  between none and the capstone's strong setting, a fresh seed), or left clean with probability
  ``p_clean``. The targets stay the clean photo's chroma: the network learns to see through the
  damage, not to paint it.

Both are scored on out-of-domain photos (``shift_test``: never trained on, never used for a
choice) damaged by every degradation at its strong setting, and clean, by the color PSNR (the
prediction's chroma joined with the true luma, so the damage to the luma itself is not blamed on
the colorizer), at gain 1 (the raw least-squares output of each). The difference ``augmented -
clean`` is paired by photo, with the course's percentile bootstrap interval
(:func:`colorcourse.metrics.paired_difference`).

    python -m colorcourse.degrade_training --out models/degrade_augmentation.csv
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import degrade
from .cheng.features import pixel_features
from .cheng.mlp import PixelColorizer, sample_pixels, train_pixel_colorizer
from .color import merge_y_uv, rgb_to_gray, rgb_to_yuv
from .metrics import colorfulness, paired_difference, psnr
from .paths import models_dir

GROUPS = ("patch", "daisy")
RESULTS_FILE = "degrade_augmentation.csv"
# (no damage, strong damage) per degradation: the capstone's strong settings. For jpeg_scan the
# strength is the JPEG quality, so "no damage" is 100 and the strong setting the low one.
TRAIN_RANGES = {
    "film_grain": (0.0, 0.15),
    "blur": (0.0, 3.0),
    "fade": (0.0, 0.7),
    "sepia": (0.0, 1.0),
    "selenium": (0.0, 1.0),
    "scratches_and_dust": (0.0, 1.0),
    "jpeg_scan": (100, 10),
}
TEST_DAMAGE = {name: strong for name, (_, strong) in TRAIN_RANGES.items()}
METHODS = ("clean", "augmented")

PairMaker = Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def damaged_training_pair(rgb, rng: np.random.Generator, ranges=TRAIN_RANGES, p_clean: float = 0.25):
    """``(gray input H x W, clean chroma target H x W x 2)`` of one training photo.

    With probability ``p_clean`` the input is the clean gray image; otherwise one degradation of
    ``ranges`` chosen uniformly, at a strength drawn uniformly between its two values, with a
    seed drawn from ``rng`` (so every draw is a new grain field or scratch pattern).
    """
    if not 0.0 <= p_clean <= 1.0:
        raise ValueError(f"p_clean must be in [0, 1], got {p_clean}")
    if not ranges:
        raise ValueError("ranges names no degradation")
    rgb = np.asarray(rgb, dtype=np.float64)
    gray = rgb_to_gray(rgb)
    target = rgb_to_yuv(rgb)[..., 1:]
    if rng.random() < p_clean:
        return gray, target
    names = sorted(ranges)
    name = names[rng.integers(len(names))]
    low, high = ranges[name]
    strength = rng.uniform(min(low, high), max(low, high))
    if name == "jpeg_scan":
        strength = int(round(strength))
    return degrade.degrade(gray, name, strength, seed=int(rng.integers(2**31))), target


def _clean_pair(rgb, rng):
    rgb = np.asarray(rgb, dtype=np.float64)
    return rgb_to_gray(rgb), rgb_to_yuv(rgb)[..., 1:]


def train(photos_rgb, make_pair: PairMaker | None = None, per_image: int = 1000, epochs: int = 10,
          seed: int = 0, progress: bool = True) -> PixelColorizer:
    """A patch + DAISY network trained on pixels of ``photos_rgb``; ``make_pair(rgb, rng)`` gives
    each photo's ``(gray input, chroma target)`` (``None``: the clean gray and its chroma).

    The sampled pixels depend only on ``seed`` and the photo sizes, never on ``make_pair``, so two
    networks trained with the same seed see the same pixels of the same photos.
    """
    make_pair = make_pair or _clean_pair
    pixel_rng = np.random.default_rng([seed, 1])
    damage_rng = np.random.default_rng([seed, 2])
    xs, ys = [], []
    for rgb in tqdm(list(photos_rgb), desc="training features", disable=not progress, leave=False):
        gray, target = make_pair(rgb, damage_rng)
        gray = np.asarray(gray, dtype=np.float32)
        feats = pixel_features(gray, GROUPS)
        idx = sample_pixels(*gray.shape, per_image, pixel_rng)
        xs.append(feats.reshape(-1, feats.shape[-1])[idx])
        ys.append(np.asarray(target, dtype=np.float32).reshape(-1, 2)[idx])
    if not xs:
        raise ValueError("no training photos given")
    return train_pixel_colorizer(np.concatenate(xs), np.concatenate(ys), GROUPS, epochs=epochs, seed=seed,
                                 progress=progress)


def evaluate(networks: dict[str, PixelColorizer], photos, damage=TEST_DAMAGE, seed: int = 0,
             progress: bool = True) -> pd.DataFrame:
    """One row per photo, degradation (``"none"`` included) and network: ``color_psnr``, ``colorfulness``.

    ``photos``: ``(name, rgb)`` pairs. The features of each damaged version are computed once
    and shared by the networks.
    """
    rows = []
    for name, rgb in tqdm(list(photos), desc="scoring", disable=not progress, leave=False):
        rgb = np.asarray(rgb, dtype=np.float64)
        clean = rgb_to_gray(rgb)
        versions = {"none": clean} | {d: degrade.degrade(clean, d, s, seed=seed) for d, s in damage.items()}
        for degradation, gray in versions.items():
            feats = pixel_features(np.asarray(gray, dtype=np.float32), GROUPS)
            for method, network in networks.items():
                uv = network.predict(feats)
                rows.append({"photo": name, "degradation": degradation, "method": method,
                             "color_psnr": psnr(merge_y_uv(clean, uv), rgb),
                             "colorfulness": colorfulness(merge_y_uv(gray, uv))})
    return pd.DataFrame(rows)


def compare(results: pd.DataFrame, method: str = "augmented", baseline: str = "clean") -> pd.DataFrame:
    """Per degradation, and over all damaged versions together: the paired difference in color PSNR
    ``method - baseline`` with its 95 % bootstrap interval, and each network's mean."""
    parts = {d: part for d, part in results.groupby("degradation", sort=False)}
    damaged = results[results["degradation"] != "none"]
    parts["all damaged (mean per photo)"] = (
        damaged.groupby(["method", "photo"], as_index=False)[["color_psnr", "colorfulness"]].mean())
    rows = []
    for degradation, part in parts.items():
        diff = paired_difference(part, method, baseline, metric="color_psnr")
        means = part.groupby("method")[["color_psnr", "colorfulness"]].mean()
        rows.append({"degradation": degradation, "photos": diff["n"],
                     f"{baseline}_color_psnr": means.loc[baseline, "color_psnr"],
                     f"{method}_color_psnr": means.loc[method, "color_psnr"],
                     "dpsnr": diff["mean"], "dpsnr_low": diff["low"], "dpsnr_high": diff["high"],
                     "verdict": diff["verdict"],
                     f"{baseline}_colorfulness": means.loc[baseline, "colorfulness"],
                     f"{method}_colorfulness": means.loc[method, "colorfulness"]})
    return pd.DataFrame(rows)


def run(train_photos, test_photos, make_pair: PairMaker | None = None, per_image: int = 1000, epochs: int = 10,
        seed: int = 0, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Train both networks and score them: ``(comparison, per-photo results, timings in seconds)``."""
    train_rgb = [np.asarray(rgb) for _, rgb in train_photos]
    augment = make_pair or damaged_training_pair
    start = time.perf_counter()
    networks = {"clean": train(train_rgb, None, per_image, epochs, seed, progress),
                "augmented": train(train_rgb, augment, per_image, epochs, seed, progress)}
    trained = time.perf_counter()
    results = evaluate(networks, test_photos, seed=seed, progress=progress)
    timings = {"train_seconds": trained - start, "score_seconds": time.perf_counter() - trained}
    return compare(results), results, timings


def load_results(path: str | Path | None = None) -> pd.DataFrame:
    """The stored comparison (``models/degrade_augmentation.csv``)."""
    path = Path(path) if path is not None else models_dir() / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run  python -m colorcourse.degrade_training --out {path}")
    return pd.read_csv(path)


def main(argv: list[str] | None = None) -> int:
    from . import coursepack

    parser = argparse.ArgumentParser(prog="python -m colorcourse.degrade_training", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="CSV of the comparison (the per-photo scores go beside it)")
    parser.add_argument("--train-photos", type=int, default=80, help="training photos (first of the train split)")
    parser.add_argument("--test-photos", type=int, default=None, help="shift_test photos (default: all)")
    parser.add_argument("--size", type=int, default=128, help="shorter side of every photo, px")
    parser.add_argument("--per-image", type=int, default=1000, help="pixels sampled per training photo")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace existing result files")
    args = parser.parse_args(argv)
    out = Path(args.out)
    per_photo = out.with_suffix(".per_photo.csv")
    existing = [str(p) for p in (out, per_photo) if p.exists()]
    if existing and not args.force:
        print(f"error: {', '.join(existing)} exist(s); pass --force to replace", file=sys.stderr)
        return 1
    for name, value in [("--train-photos", args.train_photos), ("--size", args.size), ("--per-image", args.per_image),
                        ("--epochs", args.epochs)]:
        if value < 1:
            print(f"error: {name} must be at least 1, got {value}", file=sys.stderr)
            return 1
    train_photos = [(p.name, p.rgb) for p in coursepack.load_split("train", limit=args.train_photos, size=args.size)]
    test_photos = [(p.name, p.rgb) for p in coursepack.load_split("shift_test", limit=args.test_photos, size=args.size)]
    cpu = time.process_time()
    table, results, timings = run(train_photos, test_photos, per_image=args.per_image, epochs=args.epochs,
                                  seed=args.seed)
    table["train_photos"] = len(train_photos)
    table["per_image"] = args.per_image
    table["epochs"] = args.epochs
    table["size"] = args.size
    table["train_seconds"] = round(timings["train_seconds"], 1)
    table["score_seconds"] = round(timings["score_seconds"], 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    results.to_csv(per_photo, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
    print(f"training {timings['train_seconds']:.0f} s, scoring {timings['score_seconds']:.0f} s, "
          f"{time.process_time() - cpu:.0f} CPU s; wrote {out} and {per_photo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

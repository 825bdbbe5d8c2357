"""Cheng et al.'s whole pipeline per photo, in a batch of 8, beside the paper's Table II.

Usage: ``python benchmarks/cheng_timing.py [--repeats 3] [--sizes 256 512 1024] [--batch 8]``
(part of ``make benchmark``).

The full pipeline: parser + domain-transform smoothing, cluster choice (gist + semantic
histogram), features (patch + DAISY), the network, joint bilateral refinement. The models are
loaded once; each repeat colorizes ``--batch`` different photos (scikit-image's sample photos at
the size) with ``ChengColorizer.predict_many`` and reports the time per photo. Printed per size:
the median and range over the repeats, the speed-up over the paper's seconds per image, and a
reference timed in the same run on the same photos: scikit-image's dense DAISY alone (one of the
pipeline's ingredients, as the library computes it). The ratio to the reference holds on a slower
or busier machine where the seconds do not.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from skimage import data
from skimage.feature import daisy
from skimage.transform import resize

from colorcourse.cheng.features import DAISY_RADIUS
from colorcourse.cheng.pipeline import ChengColorizer
from colorcourse.color import rgb_to_gray

PAPER_SECONDS = {256: 6.780, 512: 17.413, 1024: 63.142}  # Matlab, Xeon 2.3 GHz (Table II)
SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field",
           "retina", "cat")


def sample_grays(size: int, count: int) -> list[np.ndarray]:
    photos = []
    for i in range(count):
        rgb = getattr(data, SAMPLES[i % len(SAMPLES)])()[..., :3] / 255.0
        photos.append(rgb_to_gray(resize(rgb, (size, size), anti_aliasing=True)).astype(np.float32))
    return photos


def skimage_daisy(gray: np.ndarray) -> np.ndarray:
    """The reference: the paper's DAISY layout as scikit-image computes it, on the padded photo."""
    padded = np.pad(gray, DAISY_RADIUS, mode="reflect")
    return daisy(padded, step=1, radius=DAISY_RADIUS, rings=1, histograms=3, orientations=8, normalization="l1")


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--repeats", type=int, default=3, help="batches per size (median and range)")
    ap.add_argument("--batch", type=int, default=8, help="photos per batch")
    ap.add_argument("--workers", type=int, default=None, help="photos at a time (default: one per core)")
    args = ap.parse_args(argv)
    colorizer = ChengColorizer(refine=True, clustering=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; pipeline: {colorizer.describe()}; "
          f"batch of {args.batch}, {args.repeats} repeats")
    rows = []
    for size in args.sizes:
        grays = sample_grays(size, args.batch)
        colorizer.predict(grays[0])  # warm-up: first-call allocations, OpenCV's thread pool
        per_photo, reference, stages = [], [], {}
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _uv, _ in colorizer.predict_many(grays, workers=args.workers):
                pass
            per_photo.append((time.perf_counter() - start) / len(grays))
            start = time.perf_counter()
            skimage_daisy(grays[0])
            reference.append(time.perf_counter() - start)
        _, stages = colorizer.predict(grays[0])  # where one photo alone spends its time
        rows.append((size, per_photo, reference, stages))
    print()
    print("| size | per photo in a batch (s), median (range) | paper (s) | speed-up, median (worst) "
          "| scikit-image DAISY alone (s) | pipeline / DAISY | one photo alone: "
          + ", ".join(rows[0][3]) + " (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size, per_photo, reference, stages in rows:
        paper = PAPER_SECONDS.get(size)
        speed = (f"{paper / statistics.median(per_photo):.1f}x ({paper / max(per_photo):.1f}x)" if paper else "-")
        ratio = statistics.median(p / r for p, r in zip(per_photo, reference))
        print(f"| {size} | {summary(per_photo)} | {paper if paper else '-'} | {speed} | {summary(reference)} "
              f"| {ratio:.2f} | " + ", ".join(f"{v:.3f}" for v in stages.values()) + " |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

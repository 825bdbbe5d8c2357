"""Time the Cheng et al. pipeline at 256, 512 and 1024 px beside the paper's Table II.

Usage: ``python benchmarks/cheng_timing.py [--repeats 2] [--sizes 256 512 1024]``.
The full pipeline: parser + domain-transform smoothing, cluster choice (gist + semantic
histogram), features (patch + DAISY), the network, joint bilateral refinement. Taught in
notebooks/05 (refinement timing) and 03 (the pipeline).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from skimage import data
from skimage.transform import resize

from colorcourse.cheng.pipeline import ChengColorizer
from colorcourse.color import rgb_to_gray

PAPER_SECONDS = {256: 6.780, 512: 17.413, 1024: 63.142}  # Matlab, Xeon 2.3 GHz (Table II)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--repeats", type=int, default=2, help="best of N runs")
    ap.add_argument("--no-clustering", action="store_true")
    args = ap.parse_args(argv)
    colorizer = ChengColorizer(refine=True, clustering=not args.no_clustering)
    photo = data.astronaut() / 255.0
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"pipeline: {colorizer.describe()}")
    rows = []
    for size in args.sizes:
        gray = rgb_to_gray(resize(photo, (size, size), anti_aliasing=True)).astype(np.float32)
        best, stages = np.inf, {}
        for _ in range(args.repeats):
            start = time.perf_counter()
            _, times = colorizer.predict(gray)
            total = time.perf_counter() - start
            if total < best:
                best, stages = total, times
        rows.append((size, best, stages))
    print()
    print("| size | ours (s) | paper (s) | speed-up | " + " | ".join(rows[0][2]) + " |")
    print("| --- | --- | --- | --- | " + " | ".join("---" for _ in rows[0][2]) + " |")
    for size, total, stages in rows:
        paper = PAPER_SECONDS.get(size)
        speed = f"{paper / total:.1f}x" if paper else "-"
        print(f"| {size} | {total:.3f} | {paper if paper else '-'} | {speed} | "
              + " | ".join(f"{v:.3f}" for v in stages.values()) + " |")
    if len(rows) > 1:
        (s0, t0, _), (s1, t1, _) = rows[0], rows[-1]
        print(f"\ngrowth {s0} -> {s1} px: time x{t1 / t0:.1f} for pixels x{(s1 / s0) ** 2:.0f} "
              f"(paper: x{PAPER_SECONDS[1024] / PAPER_SECONDS[256]:.1f})")


if __name__ == "__main__":
    main()

"""The default colorizer as a user runs it: the whole command, start-up included, beside --method fusion.

    .venv/bin/python benchmarks/default_timing.py [--repeats 3] [--sizes 2048 4096]

For each size it writes one gray photo (scikit-image's astronaut, scaled up), then runs
``colorcourse colorize PHOTO --method M`` in a fresh process for every method in turn, ``--repeats``
times, interleaved so that a busy machine slows every method alike. It prints the median and the
range of the wall time and of the peak memory (the child's maximum resident set), and the ratio
of the default to ``--method fusion`` measured in the same run, beside the paper's CPU figure
(Iizuka et al.: 20.116 s at 2048 x 2048 on an 8-core i7-5960X).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data
from skimage.transform import resize

PAPER_CPU_2048 = 20.116
METHODS = ("pretrained", "fusion")


def measure(size: int, method: str, repeats: int, folder: Path) -> dict:
    cli = Path(sys.executable).with_name("colorcourse")
    photo = folder / f"gray_{size}.png"
    times, peaks = [], []
    for _ in range(repeats):
        # a fresh interpreter per run, so each peak is that run's own
        code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
                f"subprocess.run([{str(cli)!r}, 'colorize', {str(photo)!r}, '-o', {str(folder / 'out')!r}, "
                f"'--method', {method!r}, '--force', '--quiet'], check=True, stdout=subprocess.DEVNULL); "
                "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
        times.append(float(out[0]))
        peaks.append(int(out[1]) / 2**20)  # KiB -> GiB
    return {"times": times, "peaks": peaks}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        gray = resize(data.astronaut().mean(axis=2) / 255.0, (max(args.sizes),) * 2, anti_aliasing=False)
        for size in args.sizes:
            img = gray if size == max(args.sizes) else resize(gray, (size, size), anti_aliasing=True)
            Image.fromarray((np.clip(img, 0, 1) * 255).round().astype(np.uint8)).save(folder / f"gray_{size}.png")
        for size in args.sizes:
            results = {m: {"times": [], "peaks": []} for m in METHODS}
            for _ in range(args.repeats):  # interleaved: noise hits both methods alike
                for method in METHODS:
                    r = measure(size, method, 1, folder)
                    results[method]["times"] += r["times"]
                    results[method]["peaks"] += r["peaks"]
            print(f"\n{size} x {size}, whole command (start-up, decode, colorize, encode), {args.repeats} runs:")
            for method in METHODS:
                t, p = results[method]["times"], results[method]["peaks"]
                print(f"  --method {method:10s} median {statistics.median(t):6.2f} s (range {min(t):.2f}-{max(t):.2f}), "
                      f"peak memory median {statistics.median(p):.2f} GiB (max {max(p):.2f})")
            ratio = [a / b for a, b in zip(results["pretrained"]["times"], results["fusion"]["times"])]
            print(f"  pretrained / fusion, run by run: median {statistics.median(ratio):.2f} "
                  f"(range {min(ratio):.2f}-{max(ratio):.2f}); target <= 1.5")
            if size == 2048:
                print(f"  paper's CPU figure at 2048: {PAPER_CPU_2048} s; default is "
                      f"{PAPER_CPU_2048 / statistics.median(results['pretrained']['times']):.1f}x faster")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())

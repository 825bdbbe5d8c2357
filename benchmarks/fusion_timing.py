"""Speed and memory of the full-width fusion network (Iizuka et al.) on this machine's CPU.

Times inference of the paper's network (width 1.0; random weights: the time does not depend on
them) at 224, 512, 1024 and 2048 px beside the paper's CPU column (8-core i7-5960X), and
measures the peak memory of colorizing a 4096 x 4096 photo with tiling, in a fresh subprocess
(``ru_maxrss``: the whole process, Python and torch included).

    python benchmarks/fusion_timing.py [--sizes 224 512 1024 2048] [--repeats 3] [--no-memory]

"network" is what the paper times (L in, a*b* out, chroma upsampled); "with RGB" adds the
conversion back to RGB with gamut mapping.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

PAPER_CPU_SECONDS = {224: 0.399, 512: 1.676, 1024: 5.629, 2048: 20.116}

MEMORY_CHILD = """
import resource, sys, time, numpy as np, torch
from colorcourse.fusion.infer import colorize
from colorcourse.fusion.model import FusionNet
size, tile = int(sys.argv[1]), sys.argv[2]
torch.manual_seed(0)
model = FusionNet(width=1.0, n_classes=205).eval()
yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
gray = 0.5 + 0.25 * np.sin(12 * xx) * np.cos(9 * yy)  # a smooth test image, float32
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
rgb = colorize(model, gray, tile_size={"none": None, "auto": "auto"}.get(tile) or int(tile))
seconds = time.perf_counter() - t
assert rgb.shape == (size, size, 3)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"RESULT {peak / 1024**2:.3f} {base / 1024**2:.3f} {seconds:.2f}")
"""


def time_network(model, size: int, repeats: int) -> tuple[list[float], float]:
    from colorcourse.fusion.infer import colorize, colorize_lab

    rng = np.random.default_rng(0)
    gray = rng.random((size, size)).astype(np.float32)
    colorize_lab(model, gray)  # warm-up (allocator, oneDNN kernels)
    net = []
    for _ in range(repeats):
        t = time.perf_counter()
        colorize_lab(model, gray)
        net.append(time.perf_counter() - t)
    t = time.perf_counter()
    colorize(model, gray)
    return net, time.perf_counter() - t


def peak_memory_gib(size: int, tile: str = "auto") -> tuple[float, float, float]:
    """(peak RSS GiB, RSS before colorizing GiB, seconds) of colorizing a size x size photo."""
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(size), tile],
                         capture_output=True, text=True, check=True, env=dict(os.environ))
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT")][-1]
    peak, base, seconds = map(float, line.split()[1:])
    return peak, base, seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 512, 1024, 2048])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the 4096 px memory run")
    parser.add_argument("--memory-size", type=int, default=4096)
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from colorcourse.fusion.model import FusionNet, count_parameters

    torch.manual_seed(0)
    model = FusionNet(width=1.0, n_classes=205).eval()
    print(f"full-width fusion network: {count_parameters(model):,} parameters; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} (other jobs slow every number down)")
    rows = []
    print("| size | network (s), median (range) | runs | with RGB conversion (s) | paper CPU (s) | paper / ours |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        reps = min(2, args.repeats) if size >= 2048 else args.repeats
        times, full = time_network(model, size, reps)
        net = float(np.median(times))
        paper = PAPER_CPU_SECONDS.get(size)
        rows.append({"size": size, "network_s": round(net, 3), "network_min_s": round(min(times), 3),
                     "network_max_s": round(max(times), 3), "with_rgb_s": round(full, 3), "paper_cpu_s": paper})
        print(f"| {size} | {net:.3f} ({min(times):.3f}-{max(times):.3f}) | {len(times)} | {full:.3f} | "
              f"{paper if paper else '-'} | {f'{paper / net:.2f}x' if paper else '-'} |")
    result = {"timing": rows}
    if not args.no_memory:
        peak, base, seconds = peak_memory_gib(args.memory_size)
        result["memory"] = {"size": args.memory_size, "peak_rss_gib": peak, "rss_before_gib": base,
                            "seconds": seconds, "target_gib": 4.0}
        print(f"{args.memory_size} px with tiling: peak RSS {peak:.2f} GiB (before colorizing {base:.2f} GiB; "
              f"target < 4 GiB), {seconds:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

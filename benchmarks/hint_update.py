"""The hint network in the widget: the cost of one click, and of opening a photo.

    .venv/bin/python benchmarks/hint_update.py [--clicks 10] [--repeats 3]

A photo is opened once (:class:`colorcourse.fusion.hinted.HintSession`: the encoder runs on it);
each click then re-runs only the decoder, upsamples its a*b* and joins it with the photo's own
lightness: the whole ``session.colorize(hints)`` the widget calls, timed here at work sizes 256
and 512 px (scikit-image's astronaut, square). Prints the median and range of ``--clicks`` clicks
(one hint more each time) over ``--repeats`` sessions, and of the one-time encoder cost.
The last line reads ``update_ms_256=<median ms>``; the target is under 150 ms.

Last runs (2-core Intel Xeon, 2026-12-05 19:10 UTC, load average 0.7-0.9, three runs of this
script, the second round's default): a click at 256 px 31.1, 33.8 and 33.6 ms median (single
clicks 26-40 ms), at 512 px 97.0, 98.9 and 98.4 ms (78-131 ms); opening a photo 41-52 ms at
256 px, 135-147 ms at 512 px. Before the hints' attention ran on one BLAS thread (OpenBLAS's
spinning workers starved torch's threads in the next decoder run) a 512 px click took 126-143 ms
and a 256 px one 53-72 ms, on the same machine the same day.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from skimage import data
from skimage.transform import resize

TARGET_MS = 150.0


def hints_after(clicks: int, shape: tuple[int, int], rng: np.random.Generator):
    from colorcourse.hints import hints_from_points

    h, w = shape
    points = [{"x": float(rng.uniform(0, w - 1)), "y": float(rng.uniform(0, h - 1)),
               "color": "#%02x%02x%02x" % tuple(rng.integers(0, 256, 3)), "radius": 3.0} for _ in range(clicks)]
    return hints_from_points(points, shape)


def measure(model, gray: np.ndarray, clicks: int, repeats: int, seed: int = 0) -> tuple[list[float], list[float]]:
    """(encoder seconds per session, seconds per click) over ``repeats`` sessions."""
    from colorcourse.fusion.hinted import HintSession

    rng = np.random.default_rng(seed)
    opens, updates = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        session = HintSession(model, gray, work_size=max(gray.shape))
        opens.append(time.perf_counter() - start)
        for k in range(1, clicks + 1):
            hints = hints_after(k, gray.shape, rng)
            start = time.perf_counter()
            rgb = session.colorize(hints)
            updates.append(time.perf_counter() - start)
            assert rgb.shape == gray.shape + (3,)
    return opens, updates


def describe(seconds: list[float]) -> str:
    ms = [1000 * s for s in seconds]
    return f"median {statistics.median(ms):7.1f} ms (range {min(ms):.1f}-{max(ms):.1f}, {len(ms)} runs)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clicks", type=int, default=10, help="clicks per session")
    ap.add_argument("--repeats", type=int, default=3, help="sessions per size")
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    args = ap.parse_args(argv)
    if args.clicks < 1 or args.repeats < 1 or min(args.sizes) < 16:
        print("error: --clicks and --repeats must be positive, --sizes at least 16", file=sys.stderr)
        return 2
    import torch

    from colorcourse.fusion.hinted import load_model

    print(f"machine: {os.cpu_count()} cores, torch {torch.get_num_threads()} threads; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    model = load_model()
    astronaut = data.astronaut().mean(axis=2) / 255.0
    medians = {}
    for size in args.sizes:
        gray = resize(astronaut, (size, size), anti_aliasing=True).astype(np.float32)
        measure(model, gray, 1, 1)  # warm-up: first calls allocate
        opens, updates = measure(model, gray, args.clicks, args.repeats)
        medians[size] = statistics.median(updates) * 1000
        print(f"{size} px: open a photo (encoder, once)  {describe(opens)}")
        print(f"{size} px: one click (decoder + color)   {describe(updates)}; target < {TARGET_MS:.0f} ms")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    if 256 in medians:
        print(f"update_ms_256={medians[256]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

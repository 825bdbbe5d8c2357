"""Colorization by example on a big photo: a 2048 px photo with a 1024 px reference, beside the default.

    .venv/bin/python benchmarks/exemplar_timing.py [--repeats 3] [--size 2048] [--reference-size 1024]

Each run is a fresh interpreter (so its peak resident memory, ``ru_maxrss``, is its own) that loads
the models, then times one colorization of the photo at full size, as ``colorcourse colorize``
does it: the default (``--method pretrained``) or the default with ``--reference`` (the reference
encoded, matched and warped, through the hint network; :mod:`colorcourse.exemplar`). The methods
alternate run by run, so a busy machine slows both alike. Prints median and range of the time and
of the peak memory, and the ratio of the two times run by run. Targets (issue 24): under 4 GiB peak
and within 3x the default's time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

METHODS = ("default", "reference")
TARGET_GB, TARGET_RATIO = 4.0, 3.0


def child(method: str, photo: str, reference: str) -> None:
    """One timed colorization in this process; prints a JSON line."""
    import resource
    import time

    import torch

    from colorcourse import methods
    from colorcourse.imageio import load_gray, load_rgb

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    gray = load_gray(photo)
    if method == "default":
        colorizer, size = methods.load("pretrained"), methods.WORK_SIZE["pretrained"]
    else:
        from colorcourse.exemplar import ExemplarColorizer
        from colorcourse.exemplar_eval import load_hint_model

        model, _ = load_hint_model()  # the trained hint network, or the default's decoder until it lands
        colorizer, size = None, methods.WORK_SIZE["pretrained"]  # as the command: chroma upsampled from there
    start = time.perf_counter()
    if method == "reference":  # the reference is read and encoded per run, as the command does once per batch
        colorizer = ExemplarColorizer(load_rgb(reference), model=model)
    out = np.empty(gray.shape + (3,), dtype=np.uint8)
    methods.colorize_full_resolution(colorizer, gray, size, out=out)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(json.dumps({"seconds": seconds, "peak_gb": peak_gb}))


def make_inputs(folder: Path, size: int, reference_size: int) -> tuple[Path, Path]:
    from skimage import data
    from skimage.transform import resize

    rgb = data.astronaut() / 255.0
    gray = resize(rgb.mean(axis=2), (size, size), anti_aliasing=False)
    photo, reference = folder / f"gray_{size}.png", folder / f"reference_{reference_size}.png"
    Image.fromarray((np.clip(gray, 0, 1) * 255).round().astype(np.uint8)).save(photo)
    ref = resize(rgb[:, ::-1], (reference_size, reference_size, 3), anti_aliasing=True)  # the same scene, mirrored
    Image.fromarray((np.clip(ref, 0, 1) * 255).round().astype(np.uint8)).save(reference)
    return photo, reference


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--reference-size", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "PHOTO", "REFERENCE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    results = {m: {"seconds": [], "peak_gb": []} for m in METHODS}
    with tempfile.TemporaryDirectory() as tmp:
        photo, reference = make_inputs(Path(tmp), args.size, args.reference_size)
        for _ in range(args.repeats):
            for method in METHODS:
                line = subprocess.run([sys.executable, __file__, "--child", method, str(photo), str(reference)],
                                      check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
                for key, value in json.loads(line).items():
                    results[method][key].append(value)
    print(f"{args.size} x {args.size} photo, {args.reference_size} x {args.reference_size} reference, "
          f"{args.repeats} runs each (colorization only; models loaded before the clock starts):")
    for method in METHODS:
        t, p = results[method]["seconds"], results[method]["peak_gb"]
        print(f"  {method:10s} time median {statistics.median(t):6.2f} s (range {min(t):.2f}-{max(t):.2f}), "
              f"peak memory median {statistics.median(p):.2f} GiB (range {min(p):.2f}-{max(p):.2f})")
    ratio = [a / b for a, b in zip(results["reference"]["seconds"], results["default"]["seconds"])]
    peak = max(results["reference"]["peak_gb"])
    print(f"  reference / default time, run by run: median {statistics.median(ratio):.2f} "
          f"(range {min(ratio):.2f}-{max(ratio):.2f}); target <= {TARGET_RATIO:.0f}")
    print(f"  reference peak memory at most {peak:.2f} GiB; target < {TARGET_GB:.0f} GiB")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long the ``colorcourse`` command takes to start, beside ``python -c "import torch"``.

Usage: ``python benchmarks/startup.py [--repeats 7]``.

Three commands, each a fresh process, run in turn (round-robin, so a change in the machine's load
falls on all three alike): ``python -c "import torch"``; ``colorcourse --help``;
``colorcourse colorize TINY.png --method gray -o TMP`` on a 64 x 48 photo this script writes
itself. Prints the median and range of each, and the two targets: the gray command within
1.5 x the torch import (it needs torch for the color conversions, nothing else heavy), and
``--help`` under 1 s (it imports neither torch nor pandas). Wall-clock times: run it on an
otherwise idle machine; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELP_TARGET_S = 1.0
GRAY_OVER_TORCH_TARGET = 1.5


def colorcourse_command() -> list[str]:
    """The installed ``colorcourse`` script beside this Python, else ``python -m colorcourse.cli``."""
    script = Path(sys.executable).parent / "colorcourse"
    if script.is_file():
        return [str(script)]
    found = shutil.which("colorcourse")
    return [found] if found else [sys.executable, "-m", "colorcourse.cli"]


def run_once(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return elapsed


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s (range {min(times):.2f}-{max(times):.2f} s, n={len(times)})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="runs of each command (default 7)")
    args = ap.parse_args(argv)

    import numpy as np
    from PIL import Image

    cli = colorcourse_command()
    with tempfile.TemporaryDirectory(prefix="colorcourse-startup-") as tmp:
        tiny = Path(tmp) / "tiny.png"
        ramp = np.linspace(0, 255, 64 * 48).reshape(48, 64).astype(np.uint8)
        Image.fromarray(ramp).save(tiny)
        out = Path(tmp) / "out"
        commands = {
            'python -c "import torch"': [sys.executable, "-c", "import torch"],
            "colorcourse --help": cli + ["--help"],
            "colorcourse colorize TINY.png --method gray": cli + [
                "colorize", str(tiny), "--method", "gray", "-o", str(out), "--quiet", "--force"],
        }
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores",
              flush=True)
        for command in commands.values():  # warm the file cache once, not timed
            run_once(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                times[name].append(run_once(command))
        if not (out / "tiny_gray.png").is_file():
            raise SystemExit("the gray command wrote no photo")
    for name, values in times.items():
        print(f"{name:45s} {describe(values)}")
    torch_s = statistics.median(times['python -c "import torch"'])
    gray_s = statistics.median(times["colorcourse colorize TINY.png --method gray"])
    help_s = statistics.median(times["colorcourse --help"])
    ratio = gray_s / torch_s
    print(f"gray command / torch import: {ratio:.2f} (target <= {GRAY_OVER_TORCH_TARGET}) "
          f"{'ok' if ratio <= GRAY_OVER_TORCH_TARGET else 'MISSED'}")
    print(f"--help: {help_s:.2f} s (target < {HELP_TARGET_S:.0f} s) {'ok' if help_s < HELP_TARGET_S else 'MISSED'}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ratio <= GRAY_OVER_TORCH_TARGET and help_s < HELP_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

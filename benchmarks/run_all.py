"""Run every benchmark, one fresh process each (so peak-memory figures are the benchmark's own).

Usage: ``python benchmarks/run_all.py`` (what ``make benchmark`` runs). Prints the figures the
README's timing tables come from; run it on an otherwise idle machine, since every number here
is wall-clock time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["startup.py", "default_timing.py", "cheng_timing.py", "fusion_timing.py", "train_throughput.py",
              "levin_solvers.py", "hint_update.py"]


def main() -> int:
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores", flush=True)
    failed = []
    for script in BENCHMARKS:
        print(f"\n== {script}", flush=True)
        if subprocess.run([sys.executable, str(HERE / script)]).returncode:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Which solver for Levin et al.'s colorization system: measured, not guessed.

Usage: ``python benchmarks/levin_solvers.py [--repeats 5] [--sizes 256 512]``.

For each size (the longer side, in pixels), a course-pack photo (the first of ``shift_test``,
else the first of ``test``) is resized to it, and 10 hints of the course's evaluation protocol
(9 x 9 patches of the true mean color, seed 0) are moved onto it. Each solver of
:data:`colorcourse.levin.SOLVERS` then runs :func:`colorcourse.levin.solve_chroma` on it: the
affinity, the system, and both chroma channels (U and V), the whole cost a user waits for. The
solvers take turns (round-robin, so a change in the machine's load falls on all of them alike).

Prints, per size and solver, the median and range of the wall-clock seconds and the median CPU
seconds of this process (less sensitive to other programs on a shared machine), and the largest
difference from the direct solver's (exact) chroma. Beside them, in the same rounds, runs
``minimum-degree``: the direct solver as it was before it ordered the pixels by nested
dissection (SuperLU's own minimum-degree ordering of the whole system), so the gain is measured
under the same load. The chosen solver is the one with the lowest
median at the largest size among those within 1e-4 of the exact chroma (a gray level of U is
4e-3). The last line is ``levin_s_512=<median seconds of the chosen solver at 512 px>``; the
target is under 2 s. Run it on an otherwise idle machine: the load average is printed before
and after.

Last run (2 cores, load average 6.0 before, 4.9 after; wall median [range], CPU median) at
512 x 384: direct 0.81 s [0.78, 3.29], CPU 0.79 s; minimum-degree (the solver before) 1.48 s
[1.42, 6.59], CPU 1.46 s; ilu-gmres 2.48 s, amg 3.61 s; ``levin_s_512=0.806``. The full table
is in :mod:`colorcourse.levin`'s docstring.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

TARGET_S_512 = 2.0
MAX_ERROR = 1e-4


def test_case(side: int):
    """(luminance, hint U V, mask) of a course photo resized to ``side`` px on its longer side."""
    from skimage.transform import resize

    from colorcourse import levin
    from colorcourse.color import rgb_to_gray, rgb_to_lab
    from colorcourse.coursepack import load_split
    from colorcourse.hints import evaluation_hints

    try:
        photo = load_split("shift_test", limit=1)[0]
    except Exception:  # a pack built without the out-of-domain split
        photo = load_split("test", limit=1)[0]
    h, w = photo.rgb.shape[:2]
    scale = side / max(h, w)
    rgb = np.clip(resize(photo.rgb, (round(h * scale), round(w * scale)), anti_aliasing=True), 0, 1)
    y = rgb_to_gray(rgb)
    ab, mask = evaluation_hints(rgb_to_lab(rgb)[..., 1:], n_points=10, patch=9, seed=0).dense()
    return photo.name, y, levin.hint_uv(y, ab, mask), mask


def minimum_degree(y, uv, mask):
    """The direct solve before nested dissection: SuperLU orders the system itself."""
    from scipy.sparse.linalg import splu
    from threadpoolctl import threadpool_limits

    from colorcourse import levin

    A = levin.levin_system(y, mask)
    with threadpool_limits(limits=1, user_api="blas"):
        lu = splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
        out = np.stack([lu.solve(levin.levin_rhs(uv[..., c], mask)) for c in range(2)], axis=-1)
    out = out.reshape(uv.shape)
    out[mask > 0] = uv[mask > 0]
    return out


def describe(times: list[float]) -> str:
    return f"{statistics.median(times):6.2f} s  [{min(times):.2f}, {max(times):.2f}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs of each solver at each size (default 5)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="longer sides in px (default 256 512)")
    args = ap.parse_args(argv)

    from colorcourse import levin

    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores", flush=True)
    wall: dict[tuple[int, str], list[float]] = {}
    cpu: dict[tuple[int, str], list[float]] = {}
    error: dict[tuple[int, str], float] = {}
    for side in args.sizes:
        name, y, uv, mask = test_case(side)
        print(f"\n{side} px: {name} at {y.shape[1]} x {y.shape[0]}, {int(mask.sum())} hinted pixels, "
              f"{args.repeats} runs each", flush=True)
        exact = levin.solve_chroma(y, uv, mask, solver="direct")
        runs = {s: (lambda s=s: levin.solve_chroma(y, uv, mask, solver=s)) for s in levin.SOLVERS}
        runs["minimum-degree"] = lambda: minimum_degree(y, uv, mask)
        for _ in range(args.repeats):
            for solver, run in runs.items():
                start_wall, start_cpu = time.perf_counter(), time.process_time()
                out = run()
                wall.setdefault((side, solver), []).append(time.perf_counter() - start_wall)
                cpu.setdefault((side, solver), []).append(time.process_time() - start_cpu)
                error[side, solver] = float(np.abs(out - exact).max())
        for solver in runs:
            print(f"  {solver:14s} wall {describe(wall[side, solver])}   cpu {statistics.median(cpu[side, solver]):6.2f} s"
                  f"   max |chroma - exact| {error[side, solver]:.1e}", flush=True)
    largest = max(args.sizes)
    accurate = [s for s in levin.SOLVERS if error[largest, s] <= MAX_ERROR]
    chosen = min(accurate, key=lambda s: statistics.median(wall[largest, s]))
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"chosen: {chosen} (lowest median at {largest} px among solvers within {MAX_ERROR:g} of the exact "
          f"chroma); the module's default is {levin.DEFAULT_SOLVER}")
    if 512 in args.sizes:
        median = statistics.median(wall[512, chosen])
        print(f"target: under {TARGET_S_512:g} s at 512 px: {'met' if median < TARGET_S_512 else 'NOT met'}")
        print(f"levin_s_512={median:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

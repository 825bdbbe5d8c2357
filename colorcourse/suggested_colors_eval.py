"""How often the suggested colors hold the true color: top-5 hit rates at random points, with intervals.

    python -m colorcourse.suggested_colors_eval [--split shift_val] [--points 1000] [--seed 0] [--out FILE]

Measures :mod:`colorcourse.suggested_colors` (the classification decoder's palette at a clicked
point) on a course-pack split, ``shift_val`` by default (sources never trained on). The protocol:

- **Points**: ``--points N`` in all, the same number on every photo (``N`` must be a multiple of
  the number of photos, so every photo weighs the same). Photo ``i`` (manifest order) draws its
  points with ``numpy.random.default_rng(seed * 100_000 + i)``: integer pixels ``(x, y)``
  uniform over the pixels whose 5 x 5 window lies inside the photo.
- **The truth**: the mean true a*b* (:func:`colorcourse.color.rgb_to_lab`) of the 5 x 5 pixels
  centred on the point; its *true bin* is the decoder's a*b* bin nearest to it (Euclidean).
- **A hit**: one of the top 5 suggestions' bins is the true bin or one of its 8 neighbouring bins
  on the 10-unit a*b* grid, i.e. ``max(|da|, |db|) <= 10`` between the two bin centres. (Merged
  suggestions are near-duplicates spread over a few adjacent bins, and the network's soft targets
  spread each pixel over its nearest bins: one bin off is the same color on screen.)
- **Variants** (all with :data:`TOP_K` suggestions): the point's cell alone, the mean over the 3 x 3
  cells (the shipped default), over 5 x 5 cells, 3 x 3 without merging near-duplicates (the 5 most
  likely bins as they are), and the photo's mean distribution over all its cells, merged at the
  point's lightness (a palette that ignores where the click is: the baseline to beat).
- **Intervals**: the hit rate is the mean over photos of each photo's share of hits, with the
  course's 95 % percentile bootstrap over photos (:func:`colorcourse.metrics.paired_difference`,
  seeded); each variant's difference to the default is paired over the same points.

Prints a Markdown table; ``--out FILE`` also writes it (an existing file needs ``--force``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from colorcourse import cli_types

SPLIT = "shift_val"
N_POINTS = 1000
SEED = 0
TOP_K = 5
TRUTH_WINDOW = 5  # pixels a side of the square whose mean a*b* is the truth
DEFAULT_VARIANT = "3 x 3 cells"
# name -> (neighbourhood in cells, or None for the photo's mean distribution; merge near-duplicates)
VARIANTS = {
    "cell alone": (0, True),
    DEFAULT_VARIANT: (1, True),
    "5 x 5 cells": (2, True),
    "3 x 3 cells, no merging": (1, False),
    "photo's mean distribution": (None, True),
}
_ZERO = "(zero)"  # a reference scoring 0 everywhere: a mean's interval is its paired difference to 0


def point_seed(seed: int, index: int) -> int:
    """The seed of photo ``index``'s points (documented in the module docstring)."""
    return seed * 100_000 + index


def draw_points(shape, count: int, seed: int) -> np.ndarray:
    """``count x 2`` integer pixels ``(x, y)`` whose truth window lies inside an ``H x W`` photo."""
    h, w = int(shape[0]), int(shape[1])
    r = TRUTH_WINDOW // 2
    if min(h, w) < TRUTH_WINDOW:
        raise ValueError(f"a {w} x {h} photo is smaller than the {TRUTH_WINDOW} x {TRUTH_WINDOW} truth window")
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(r, w - r, size=count), rng.integers(r, h - r, size=count)], axis=1)


def true_ab(lab: np.ndarray, x: int, y: int) -> np.ndarray:
    """The mean a*b* of the ``TRUTH_WINDOW`` square of ``lab`` (``H x W x 3``) centred on ``(x, y)``."""
    r = TRUTH_WINDOW // 2
    return lab[y - r:y + r + 1, x - r:x + r + 1, 1:].reshape(-1, 2).mean(axis=0)


def nearest_bin(ab, centres: np.ndarray) -> np.ndarray:
    """The centre (a*b*) of the bin of ``centres`` (``Q x 2``) nearest to ``ab``."""
    return centres[int(np.argmin(np.linalg.norm(centres - np.asarray(ab, np.float64), axis=1)))]


def is_hit(suggested_ab, truth_ab, centres: np.ndarray) -> bool:
    """Whether a suggested bin (``k x 2`` a*b* centres) is the truth's nearest bin or one of its 8
    neighbours on the grid: ``max(|da|, |db|) <= GRID``."""
    from colorcourse.abbins import GRID

    suggested = np.asarray(suggested_ab, np.float64).reshape(-1, 2)
    gap = np.abs(suggested - nearest_bin(truth_ab, centres)).max(axis=1)
    return bool(len(gap) and gap.min() <= GRID + 1e-6)  # centres are on the grid; the slack is rounding


def suggested_bins(probabilities: np.ndarray, centres: np.ndarray, shown_lab: np.ndarray, merge: bool,
                   k: int = TOP_K) -> np.ndarray:
    """The ``k`` suggested bins' a*b* centres for a distribution, as
    :meth:`colorcourse.suggested_colors.SuggestionSession.suggest` picks them (``merge=False``: the
    ``k`` most likely bins). ``shown_lab``: the bins as shown at the point (``shown_colors``)."""
    from colorcourse.suggested_colors import DEFAULT_MIN_DISTANCE, merge_near_duplicates

    bins, _ = merge_near_duplicates(probabilities, shown_lab, DEFAULT_MIN_DISTANCE if merge else 0.0)
    return centres[bins[:k]]


def score_photo(session, lab: np.ndarray, points: np.ndarray) -> dict[str, np.ndarray]:
    """Each variant's hits (a bool per point) on one photo: ``session`` a
    :class:`~colorcourse.suggested_colors.SuggestionSession` of its gray, ``lab`` its true Lab."""
    from colorcourse.suggested_colors import shown_colors

    photo_mean = session.probabilities.reshape(len(session.probabilities), -1).mean(axis=1)
    hits = {name: np.zeros(len(points), bool) for name in VARIANTS}
    for i, (x, y) in enumerate(points):
        truth = true_ab(lab, int(x), int(y))
        _, shown_lab = shown_colors(session.bin_centres, session.lightness_at(x, y))  # shared by the variants
        for name, (neighbourhood, merge) in VARIANTS.items():
            p = photo_mean if neighbourhood is None else session.distribution_at(x, y, neighbourhood)
            hits[name][i] = is_hit(suggested_bins(p, session.bin_centres, shown_lab, merge), truth, session.bin_centres)
    return hits


def evaluate(photos, model, points_per_photo: int, seed: int = SEED, progress: bool = True):
    """One row per photo and variant: ``photo``, ``method`` (the variant), ``points``, ``hits``,
    ``hit_rate``. ``photos``: course-pack photos (``.name``, ``.rgb``), in their split's order."""
    import pandas as pd

    from colorcourse.color import rgb_to_gray, rgb_to_lab
    from colorcourse.progress import progress_bar
    from colorcourse.suggested_colors import SuggestionSession

    rows = []
    for index, photo in enumerate(progress_bar(list(photos), desc="suggested colors", unit="photo", disable=not progress)):
        rgb = np.asarray(photo.rgb, np.float64)
        session = SuggestionSession(model, rgb_to_gray(rgb).astype(np.float32))
        points = draw_points(rgb.shape, points_per_photo, point_seed(seed, index))
        for name, hit in score_photo(session, rgb_to_lab(rgb), points).items():
            rows.append({"photo": photo.name, "method": name, "points": len(hit), "hits": int(hit.sum()),
                         "hit_rate": float(hit.mean())})
    return pd.DataFrame(rows)


def summary(results):
    """One row per variant: ``hit_rate`` with its 95 % bootstrap interval over photos
    (``low``/``high``), and the paired difference to the default (``diff``, ``diff_low``,
    ``diff_high``, ``verdict``)."""
    import pandas as pd

    from colorcourse.metrics import paired_difference

    if results["points"].nunique() != 1:
        raise ValueError("every photo must have the same number of points (the mean over photos is the share of points)")
    zero = results[results["method"] == DEFAULT_VARIANT].assign(method=_ZERO, hit_rate=0.0)
    both = pd.concat([results, zero], ignore_index=True)
    rows = []
    for name in results["method"].unique():
        rate = paired_difference(both, name, _ZERO, metric="hit_rate")
        diff = paired_difference(results, name, DEFAULT_VARIANT, metric="hit_rate") if name != DEFAULT_VARIANT else None
        rows.append({"variant": name, "hit_rate": rate["mean"], "low": rate["low"], "high": rate["high"],
                     "diff": diff["mean"] if diff else np.nan, "diff_low": diff["low"] if diff else np.nan,
                     "diff_high": diff["high"] if diff else np.nan, "verdict": diff["verdict"] if diff else "default"})
    return pd.DataFrame(rows).set_index("variant")


def markdown(table, split: str, photos: int, points: int, seed: int, command: str) -> str:
    """The summary as Markdown: a line saying what was measured and how, then the table."""
    import pandas as pd

    from colorcourse.metrics import markdown_table

    def interval(mean, low, high, sign="", unit=" %"):
        return f"{mean * 100:{sign}.1f}{unit} [{low * 100:{sign}.1f}, {high * 100:{sign}.1f}]"

    shown = pd.DataFrame({
        f"true bin or a neighbour in the top {TOP_K} [95 % CI]": [interval(r.hit_rate, r.low, r.high) for r in table.itertuples()],
        f"minus {DEFAULT_VARIANT}, percentage points (paired) [95 % CI]": [
            "" if r.verdict == "default" else f"{interval(r.diff, r.diff_low, r.diff_high, '+', '')} {r.verdict}"
            for r in table.itertuples()],
    }, index=table.index)
    return (f"Suggested colors on `{split}`: {points} random points on {photos} photos ({points // photos} a photo, "
            f"seed {seed}), `{command}`. A hit: the bin nearest the mean true a*b* of the {TRUTH_WINDOW} x "
            f"{TRUTH_WINDOW} pixels at the point is a top-{TOP_K} suggestion's bin or one of its 8 neighbours. "
            "Intervals: 95 % percentile bootstrap over photos.\n\n" + markdown_table(shown) + "\n")


# ------------------------------------------------------------------ command line


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m colorcourse.suggested_colors_eval", description=__doc__.split("\n")[0])
    ap.add_argument("--split", default=SPLIT, help=f"course-pack split (default {SPLIT})")
    ap.add_argument("--points", type=cli_types.positive_int, default=N_POINTS,
                    help=f"random points in all, a multiple of the number of photos (default {N_POINTS})")
    ap.add_argument("--seed", type=cli_types.non_negative_int, default=SEED, help=f"seed of the points (default {SEED})")
    ap.add_argument("--limit", type=cli_types.positive_int, help="first N photos of the split (a quick look, not a result)")
    ap.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    ap.add_argument("--force", action="store_true", help="replace --out if it exists")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    cli_types.add_debug(ap)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return cli_types.run_command(lambda: _run(args, argv), debug=args.debug)  # any error: one line


def _run(args, argv) -> int:
    from colorcourse import coursepack
    from colorcourse.atomic import write_atomically
    from colorcourse.suggested_colors import load_model

    if args.out is not None and args.out.exists() and not args.force:  # before minutes of work
        raise FileExistsError(f"--out {cli_types.printable(args.out)} exists; pass --force to replace it")
    if args.split not in coursepack.SPLITS:
        raise ValueError(f"--split must be one of {', '.join(coursepack.SPLITS)}, got {cli_types.shown(args.split)}")
    photos = coursepack.load_split(args.split, limit=args.limit)
    if not photos or args.points % len(photos):
        raise ValueError(f"--points {args.points} must be a multiple of the {len(photos)} photos of {args.split} "
                         "(every photo gets the same number of points)")
    model = load_model()
    start = time.perf_counter()
    results = evaluate(photos, model, args.points // len(photos), args.seed, progress=not args.quiet)
    command = " ".join(["python -m colorcourse.suggested_colors_eval",
                        *(argv if argv is not None else sys.argv[1:])]).strip()
    text = markdown(summary(results), args.split, len(photos), args.points, args.seed, cli_types.printable(command))
    print(text)
    print(f"({time.perf_counter() - start:.0f} s)")
    if args.out is not None:
        write_atomically(args.out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), overwrite=args.force)
        print(f"wrote {cli_types.printable(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

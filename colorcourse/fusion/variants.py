"""The default's second round: variants of the pretrained decoder, each trained and judged alike.

    python -m colorcourse.fusion.variants            # trains what build/variants lacks, writes models/variants*.csv

Each variant is one seeded ``colorcourse.fusion.train_pretrained`` command (:data:`VARIANTS`),
with its gain chosen on ``shift_val`` by the calibration rule, as the shipped default's was.
Every variant is then scored on three splits of photos it never trained on:

- ``shift_val``, the out-of-domain split the default is **chosen** on;
- ``shift_test``, reported and never used for any choice;
- ``objects_test``, the composites of object cut-outs of categories held out of
  ``objects_train`` (food, bovines, insects, trees, instruments): does a variant color objects?

with its paired difference to gray, the colorfulness ratio, the seconds its training took and the
seconds one 2048 x 2048 photo takes (the colorizer at the command line's working size, 512 px,
chroma upsampled; median of 3 in this process). ``models/variants.csv`` holds one row a variant,
``models/variants_per_photo.csv`` every photo's scores, and :mod:`colorcourse.report` puts the
table into ``models/results.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from colorcourse import cli_types

SPLITS = ("shift_val", "shift_test", "objects_test")
CHOICE_SPLIT = "shift_val"
VARIANTS_CSV = "variants.csv"
PER_PHOTO_CSV = "variants_per_photo.csv"
TIMING_SIDE = 2048
# name -> (what changes, the train_pretrained arguments). "lite0" is the first round's default.
VARIANTS: dict[str, tuple[str, str]] = {
    "lite0": ("first round's default: 206 training photos, 8 views each, MSE", "--loss mse"),
    "lite0 + objects": ("+ the 412 object composites (objects_train)", "--loss mse --extra-splits objects_train"),
    "lite0 + objects, scales": ("+ objects, each view rescaled by 0.875-1.5",
                                "--loss mse --extra-splits objects_train --scale-range 0.875,1.5"),
    "lite0 + objects, 1000 steps": ("+ objects, 1000 decoder steps instead of 400 (3x the crops to see)",
                                    "--loss mse --extra-splits objects_train --steps 1000"),
    "lite0 + objects, refined": ("+ objects, chroma refined by a guided filter (radius 8; colorcourse.chroma_refine)",
                                 "--loss mse --extra-splits objects_train --refine-radius 8"),
    "lite0 + objects, smooth-L1": ("+ objects, smooth-L1 loss", "--loss smoothl1 --extra-splits objects_train"),
    "lite0 + objects, classification": ("+ objects, rebalanced classification, annealed mean",
                                        "--loss classification --extra-splits objects_train"),
    "lite0 + objects, smooth-L1, refined": ("+ objects, smooth-L1 loss, guided-filter refinement",
                                            "--loss smoothl1 --extra-splits objects_train --refine-radius 8"),
    "lite0 + objects, 16 views": ("+ objects, 16 random crops per photo", "--loss mse --extra-splits objects_train --views 16"),
    "lite1 + objects": ("+ objects, EfficientNet-Lite1 as the encoder (deeper, same widths)",
                        "--encoder efficientnet-lite1 --loss mse --extra-splits objects_train"),
    "lite2 + objects": ("+ objects, EfficientNet-Lite2 as the encoder (deeper, 10 % wider)",
                        "--encoder efficientnet-lite2 --loss mse --extra-splits objects_train"),
    # the winners on shift_val put together: the best loss and the refinement on the best encoder
    "lite1 + objects, smooth-L1, refined": ("+ objects, Lite1, smooth-L1 loss, guided-filter refinement",
                                            "--encoder efficientnet-lite1 --loss smoothl1 --extra-splits objects_train "
                                            "--refine-radius 8"),
    "lite0 + objects, smooth-L1, refined, tuned last stage": (
        "+ objects, smooth-L1, refined, the encoder's stride-32 stage and head fine-tuned at lr/10",
        "--loss smoothl1 --extra-splits objects_train --refine-radius 8 --tune-last-stage"),
}


def file_name(variant: str) -> str:
    """``"lite0 + objects, 16 views"`` -> ``"lite0-objects-16-views"``."""
    words = "".join(c if c.isalnum() else " " for c in variant).split()
    return "-".join(words)


def train_variant(variant: str, folder: Path, quiet: bool = False) -> Path:
    """Train ``variant`` into ``folder`` unless its file is there already; returns the file."""
    from colorcourse.fusion import train_pretrained

    path = folder / f"{file_name(variant)}.safetensors"
    if path.is_file():
        return path
    args = shlex.split(VARIANTS[variant][1]) + ["--out", str(path)] + (["--quiet"] if quiet else [])
    print(f"== {variant}: python -m colorcourse.fusion.train_pretrained {shlex.join(args)}", flush=True)
    code = train_pretrained.main(args)
    if code:
        raise RuntimeError(f"training {variant!r} failed (exit {code})")
    return path


def seconds_per_photo(colorizer, side: int = TIMING_SIDE, runs: int = 3) -> float:
    """Median seconds to colorize a ``side`` x ``side`` gray photo as the command line does."""
    from skimage import data
    from skimage.transform import resize

    from colorcourse.color import rgb_to_gray
    from colorcourse.full_resolution import colorize_full_resolution
    from colorcourse.methods import WORK_SIZE

    gray = resize(rgb_to_gray(data.astronaut() / 255.0), (side, side), anti_aliasing=False).astype(np.float32)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        colorize_full_resolution(colorizer, gray, WORK_SIZE["pretrained"])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def score(paths: dict[str, Path], splits=SPLITS, limit: int | None = None,
          progress: bool = True) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-photo scores of gray and every variant on ``splits``; each variant's 2048 px seconds."""
    from colorcourse import coursepack
    from colorcourse.fusion.pretrained import PretrainedColorizer, load_model
    from colorcourse.metrics import evaluate, gray_baseline

    frames, seconds = [], {}
    photos = {split: coursepack.load_split(split, limit=limit) for split in splits}
    for split in splits:
        frames.append(evaluate(gray_baseline, photos[split], name="gray", progress=progress).assign(split=split))
    for variant, path in paths.items():
        # a variant's scores are kept beside its file, valid while the file and the photos are the same
        stored = path.with_suffix(".scores.csv")
        key = f"{path.stat().st_mtime_ns}-{path.stat().st_size}-{limit}-{','.join(splits)}"
        if stored.is_file() and stored.with_suffix(".key").is_file() and stored.with_suffix(".key").read_text() == key:
            table = pd.read_csv(stored)
            frames.append(table.drop(columns="seconds_2048").assign(method=variant))
            seconds[variant] = float(table["seconds_2048"].iloc[0])
            continue
        colorizer = PretrainedColorizer(load_model(path))
        mine = pd.concat([evaluate(colorizer, photos[split], name=variant, progress=progress).assign(split=split)
                          for split in splits], ignore_index=True)
        seconds[variant] = seconds_per_photo(colorizer)
        mine.assign(seconds_2048=seconds[variant]).to_csv(stored, index=False)
        stored.with_suffix(".key").write_text(key)
        frames.append(mine)
    return pd.concat(frames, ignore_index=True), seconds


def summary(per_photo: pd.DataFrame, paths: dict[str, Path], seconds_2048: dict[str, float]) -> pd.DataFrame:
    """One row per variant: its paired dPSNR to gray [interval] and colorfulness ratio on each
    split, its gain, training seconds and 2048 px seconds."""
    from colorcourse.checkpoint import read_header
    from colorcourse.metrics import paired_difference

    rows = []
    for variant, path in paths.items():
        config = json.loads(read_header(path)["config"])
        row = {"variant": variant, "change": VARIANTS[variant][0] if variant in VARIANTS else "",
               "command": f"python -m colorcourse.fusion.train_pretrained {VARIANTS.get(variant, ('', ''))[1]}".strip(),
               "gain": config.get("chroma_gain")}
        for split in per_photo["split"].unique():
            part = per_photo[per_photo["split"] == split]
            diff = paired_difference(part, variant, "gray")
            mine = part[part["method"] == variant]
            row |= {f"{split}_dpsnr": diff["mean"], f"{split}_low": diff["low"], f"{split}_high": diff["high"],
                    f"{split}_color_ratio": mine["colorfulness"].mean() / mine["true_colorfulness"].mean()}
        row |= {"train_seconds": config.get("training_seconds"), "seconds_2048": seconds_2048.get(variant)}
        rows.append(row)
    return pd.DataFrame(rows)


def against_first(per_photo: pd.DataFrame, first: str, split: str = CHOICE_SPLIT) -> pd.DataFrame:
    """Each variant's paired PSNR difference to ``first`` on ``split``: which wins beyond the noise."""
    from colorcourse.metrics import paired_difference

    part = per_photo[per_photo["split"] == split]
    rows = []
    for variant in part["method"].unique():
        if variant in ("gray", first):
            continue
        d = paired_difference(part, variant, first)
        rows.append({"variant": variant, "mean": d["mean"], "low": d["low"], "high": d["high"],
                     "verdict": d["verdict"]})
    return pd.DataFrame(rows)


def best(table: pd.DataFrame, split: str = CHOICE_SPLIT) -> str:
    """The variant with the highest mean dPSNR on ``split`` (shift_val: the choice is made there only)."""
    return str(table.loc[table[f"{split}_dpsnr"].idxmax(), "variant"])


def markdown(table: pd.DataFrame, versus: pd.DataFrame | None = None) -> str:
    """The variant table (and the paired differences to the first round's default) as Markdown."""

    def interval(row, split):
        return f"{row[f'{split}_dpsnr']:+.2f} [{row[f'{split}_low']:+.2f}, {row[f'{split}_high']:+.2f}]"

    splits = [s for s in SPLITS if f"{s}_dpsnr" in table]
    head = ["variant", "change"] + [f"{s} dPSNR vs gray [95% CI]" for s in splits] + \
           [f"{s} color ratio" for s in splits] + ["gain", "s to train", "s per 2048 px photo"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for _, row in table.iterrows():
        change = row["change"] if isinstance(row["change"], str) else ""  # an empty cell reads back as NaN
        cells = [row["variant"], change] + [interval(row, s) for s in splits] + \
                [f"{row[f'{s}_color_ratio']:.2f}" for s in splits] + \
                [f"{row['gain']:g}", f"{row['train_seconds']:.0f}", f"{row['seconds_2048']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    if versus is not None and len(versus):
        text += "\n\nEach variant against the first round's default on shift_val (paired, 95 % interval):\n\n"
        text += "| variant | mean | low | high | verdict |\n| --- | --- | --- | --- | --- |\n"
        text += "\n".join(f"| {r.variant} | {r.mean:+.3f} | {r.low:+.3f} | {r.high:+.3f} | {r.verdict} |"
                          for r in versus.itertuples())
    return text


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", type=Path, default=Path("build/variants"), help="where the variants are trained")
    ap.add_argument("--out", type=Path, default=None, help="folder of variants.csv (default: the models folder)")
    ap.add_argument("--only", nargs="+", choices=list(VARIANTS), metavar="VARIANT", help="these variants only")
    ap.add_argument("--extra", nargs="+", default=[], metavar="NAME=FILE",
                    help="also score these trained checkpoints (e.g. an encoder variant)")
    ap.add_argument("--limit", type=cli_types.positive_int, help="first N photos of each split (quick runs)")
    ap.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS), metavar="SPLIT",
                    help=f"splits to score (default: {' '.join(SPLITS)}); {CHOICE_SPLIT} is always among them")
    ap.add_argument("--force", action="store_true", help="replace variants.csv if it exists")
    ap.add_argument("--quiet", action="store_true")
    cli_types.add_debug(ap)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return cli_types.run_command(lambda: _main(args), debug=args.debug)


def _main(args) -> int:
    from colorcourse.atomic import write_atomically
    from colorcourse.paths import models_dir

    out = args.out or models_dir()
    target = out / VARIANTS_CSV
    if target.exists() and not args.force:
        print(f"error: {target} exists (use --force to replace it)", file=sys.stderr)
        return 2
    args.folder.mkdir(parents=True, exist_ok=True)
    paths = {v: train_variant(v, args.folder, args.quiet) for v in (args.only or VARIANTS)}
    for item in args.extra:
        name, _, file = item.partition("=")
        if not Path(file).is_file():
            print(f"error: --extra {cli_types.printable(item)}: no such checkpoint", file=sys.stderr)
            return 2
        paths[name] = Path(file)
    splits = tuple(dict.fromkeys([CHOICE_SPLIT, *args.splits]))
    per_photo, seconds = score(paths, splits=splits, limit=args.limit, progress=not args.quiet)
    table = summary(per_photo, paths, seconds)
    first = next(iter(paths))
    versus = against_first(per_photo, first)
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(target, lambda tmp: table.round(4).to_csv(tmp, index=False), overwrite=True)
    write_atomically(out / PER_PHOTO_CSV, lambda tmp: per_photo.round(5).to_csv(tmp, index=False), overwrite=True)
    print(markdown(table, versus))
    print(f"\nbest on {CHOICE_SPLIT}: {best(table)}; wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

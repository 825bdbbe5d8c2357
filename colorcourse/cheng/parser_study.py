"""Which scene parser should feed Cheng's semantic feature? Score model folders side by side.

``python -m colorcourse.cheng.parser_study pseudo=build/cheng_pseudo encoder=build/cheng_encoder``

Each ``name=folder`` holds the models of one ``python -m colorcourse.cheng.train --parser ...``
run. Every folder's full single-network pipeline (114 features, joint bilateral refinement:
``ChengColorizer(folder, refine=True)``) is scored on each split, next to the gray baseline;
then the paired per-photo PSNR difference of each folder against the first one, with its seeded
95 % bootstrap interval and verdict (``colorcourse.metrics.paired_difference``). The decision
belongs to the out-of-domain ``shift_val`` split; ``test`` is reported beside it.

Writes ``per_photo.csv`` and ``summary.md`` into ``--out`` (default ``build/parser_study``).
Reported in notebooks/02_cheng_features.ipynb.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from ..metrics import evaluate, gray_baseline, markdown_table, paired_difference, side_by_side
from .pipeline import ChengColorizer

GRAY = "gray"


def score(folders: dict[str, Path], splits, limit=None, progress=True) -> dict[str, pd.DataFrame]:
    """``{split: per-photo table}`` with one method per folder (named by its key) and ``gray``."""
    from ..coursepack import load_split

    colorizers = {name: ChengColorizer(folder, refine=True) for name, folder in folders.items()}
    out = {}
    for split in splits:
        photos = load_split(split, limit=limit)
        frames = [evaluate(gray_baseline, photos, name=GRAY, progress=progress)]
        frames += [evaluate(c, photos, name=name, progress=progress) for name, c in colorizers.items()]
        table = pd.concat(frames, ignore_index=True)
        table.insert(0, "split", split)
        out[split] = table
    return out


def differences(results: dict[str, pd.DataFrame], reference: str) -> pd.DataFrame:
    """Each method minus ``reference`` (paired per photo, PSNR), per split."""
    rows = []
    for split, table in results.items():
        for method in table["method"].unique():
            if method in (GRAY, reference):
                continue
            d = paired_difference(table, method, reference)
            rows.append({"split": split, "comparison": f"{method} - {reference}", "dPSNR (dB)": d["mean"],
                         "95% low": d["low"], "95% high": d["high"], "photos": d["n"], "verdict": d["verdict"]})
    return pd.DataFrame(rows).set_index("split")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("folders", nargs="+", metavar="NAME=FOLDER",
                    help="model folders to compare; differences are taken against the first")
    ap.add_argument("--splits", nargs="+", default=["shift_val", "test"], help="course-pack splits to score")
    ap.add_argument("--limit", type=int, default=None, help="score only the first N photos of each split")
    ap.add_argument("--out", type=Path, default=Path("build/parser_study"), help="folder for the tables")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    folders = {}
    for item in args.folders:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            ap.error(f"expected NAME=FOLDER, got {item!r}")
        folders[name] = Path(folder)
    start = time.perf_counter()
    results = score(folders, args.splits, args.limit, progress=not args.quiet)
    reference = next(iter(folders))
    table = side_by_side(results, baseline=GRAY)
    diffs = differences(results, reference)
    args.out.mkdir(parents=True, exist_ok=True)
    pd.concat(results.values(), ignore_index=True).to_csv(args.out / "per_photo.csv", index=False)
    text = "\n".join([
        "# Cheng's semantic feature: which parser", "",
        "Single network, 114 features, with refinement (`ChengColorizer(folder, refine=True)`); "
        + ", ".join(f"{n}: `{f}`" for n, f in folders.items()) + ".", "",
        markdown_table(table, digits=2), "",
        f"Paired PSNR difference against {reference} (95 % bootstrap interval over photos):", "",
        markdown_table(diffs, digits=2), "",
        f"Scored in {time.perf_counter() - start:.0f} s.", "",
    ])
    (args.out / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

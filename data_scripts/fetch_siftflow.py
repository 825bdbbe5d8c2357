"""Fetch SIFT Flow (Cheng et al.'s training set) into DATA/siftflow (needs internet).

    python data_scripts/fetch_siftflow.py [--data data]

The archive has no published checksum, so the script checks
the layout after unpacking: 2,688 JPEGs, each with its SemanticLabels .mat file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from colorcourse.datasets.download import download, extract, move_into  # noqa: E402
from colorcourse.datasets.siftflow import (SIFTFLOW_N_IMAGES, SIFTFLOW_URL, SUBFOLDER,  # noqa: E402
                                           find_dataset_dir)
from colorcourse.paths import DatasetMissingError  # noqa: E402


def check_layout(base: Path, expected: int = SIFTFLOW_N_IMAGES) -> list[str]:
    """Problems with an extracted SIFT Flow (empty list when complete)."""
    images = sorted((base / "Images" / SUBFOLDER).glob("*.jpg"))
    labels = {p.stem for p in (base / "SemanticLabels" / SUBFOLDER).glob("*.mat")}
    problems = []
    if len(images) != expected:
        problems.append(f"{len(images)} images, expected {expected}")
    missing = [p.name for p in images if p.stem not in labels]
    if missing:
        problems.append(f"{len(missing)} images without a label map, e.g. {missing[:3]}")
    return problems


def fetch(data: Path, url: str = SIFTFLOW_URL, expected: int = SIFTFLOW_N_IMAGES) -> Path:
    target = data / "siftflow"
    try:
        base = find_dataset_dir(target)
        if not check_layout(base, expected):
            print(f"SIFT Flow already complete in {base}")
            return base
    except DatasetMissingError:
        pass
    archive = download(url, data / "cache" / "SiftFlowDataset.zip")
    partial = data / "siftflow.partial"  # unpack beside, then rename: never a half data set
    if partial.exists():  # left by an interrupted run
        shutil.rmtree(partial)
    move_into(extract(archive, partial), target)
    base = find_dataset_dir(target)
    problems = check_layout(base, expected)
    if problems:
        raise SystemExit(f"SIFT Flow in {base} is incomplete: {'; '.join(problems)}")
    print(f"SIFT Flow ready: {expected} images in {base}")
    return base


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--url", default=SIFTFLOW_URL)
    args = parser.parse_args(argv)
    fetch(args.data, args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())

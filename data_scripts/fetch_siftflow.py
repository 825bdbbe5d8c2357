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
from colorcourse.datasets.siftflow import (SIFTFLOW_MIRROR, SIFTFLOW_N_IMAGES,  # noqa: E402
                                           SIFTFLOW_URL, SUBFOLDER, find_dataset_dir)
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


def fetch(data: Path, url: str | tuple[str, ...] = (SIFTFLOW_URL, SIFTFLOW_MIRROR),
          expected: int = SIFTFLOW_N_IMAGES) -> Path:
    """Download (first URL that works), unpack beside the target, check the layout, rename."""
    target = data / "siftflow"
    try:
        base = find_dataset_dir(target)
        if not check_layout(base, expected):
            print(f"SIFT Flow already complete in {base}")
            return base
    except DatasetMissingError:
        pass
    urls = (url,) if isinstance(url, str) else url
    archive, errors = None, []
    for candidate in urls:
        try:
            archive = download(candidate, data / "cache" / "SiftFlowDataset.zip")
            break
        except OSError as error:  # URLError is an OSError: try the mirror
            errors.append(f"{candidate}: {error}")
    if archive is None:
        raise SystemExit("Could not download SIFT Flow:\n  " + "\n  ".join(errors))
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
    parser.add_argument("--url", default=None, help="another copy of SiftFlowDataset.zip")
    args = parser.parse_args(argv)
    fetch(args.data, args.url or (SIFTFLOW_URL, SIFTFLOW_MIRROR))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fetch Places365 (small 256 x 256 images) into DATA/places365 through torchvision (needs
internet; torchvision's own URLs and md5 checksums).

    python data_scripts/fetch_places365.py [--data data] [--split val]

The validation split is 36,500 images (~0.5 GB); train-standard is 1.8 M images (~24 GB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from colorcourse.datasets.places365 import places365_dataset  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--split", default="val", choices=["train-standard", "val"])
    args = parser.parse_args(argv)
    dataset = places365_dataset(args.data / "places365", split=args.split, download=True)
    print(f"Places365 {args.split}: {len(dataset)} images, {len(dataset.classes)} classes in {args.data / 'places365'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

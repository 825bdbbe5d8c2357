"""Places365 (Zhou et al.): the scene-labelled photos Iizuka et al.'s classification branch learns
from (the paper used Places205). A thin wrapper over ``torchvision.datasets.Places365`` with the
small 256 x 256 images.

Taught in notebooks/00_setup.ipynb. Fetch with ``python data_scripts/fetch_places365.py``
(torchvision's own URLs and md5 checksums).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorcourse.paths import DatasetMissingError, data_dir

FETCH_COMMAND = "python data_scripts/fetch_places365.py"


def default_root() -> Path:
    return data_dir() / "places365"


def places365_dataset(root: str | Path | None = None, split: str = "val", download: bool = False,
                      verify_checksums: bool = True):
    """``torchvision.datasets.Places365(root, split, small=True)``; missing files raise
    DatasetMissingError naming the fetch command. ``verify_checksums=False`` only checks that the
    metadata files exist (torchvision otherwise md5-checks them on every load)."""
    from torchvision.datasets import Places365

    root = Path(root) if root is not None else default_root()

    class _Places365(Places365):
        def _check_integrity(self, file, md5, download):  # noqa: D401 (torchvision's hook)
            if verify_checksums:
                return super()._check_integrity(file, md5, download)
            if not Path(file).is_file() and not download:
                raise RuntimeError(f"The file {file} does not exist")
            return Path(file).is_file()

    try:
        dataset = _Places365(str(root), split=split, small=True, download=download)
    except RuntimeError as error:
        raise DatasetMissingError("Places365 data set", FETCH_COMMAND, where=root) from error
    if not download and not Path(dataset.images_dir).is_dir():
        raise DatasetMissingError(f"Places365 images ({Path(dataset.images_dir).name})", FETCH_COMMAND, where=root)
    return dataset


def load_places365(root: str | Path | None = None, split: str = "val", limit: int | None = None,
                   verify_checksums: bool = True) -> list[tuple[str, np.ndarray, int | None]]:
    """``[(name, rgb H x W x 3 float32 in [0,1], class index or None for the test split)]``."""
    from colorcourse.imageio import load_rgb

    dataset = places365_dataset(root, split, download=False, verify_checksums=verify_checksums)
    items = dataset.imgs[:limit] if limit is not None else dataset.imgs
    return [(Path(file).stem, load_rgb(file), target) for file, target in items]


def class_names(root: str | Path | None = None, verify_checksums: bool = True, split: str = "val") -> list[str]:
    """The 365 scene names in index order (e.g. '/a/airfield')."""
    dataset = places365_dataset(root, split, download=False, verify_checksums=verify_checksums)
    return [name for name, _ in sorted(dataset.class_to_idx.items(), key=lambda kv: kv[1])]


def read_file_list(root: str | Path | None = None, split: str = "train-standard"
                   ) -> tuple[Path, np.ndarray, np.ndarray, list[str]]:
    """The file list of one split without decoding or listing a single image, for streaming:
    ``(images folder, relative paths as a bytes array, class indices int32 (-1: unlabelled),
    class names in index order)``.

    Compact on purpose: a list of 1.8 M entries like train-standard's takes ~70 MB as numpy
    arrays (read in ~1 s, peak ~135 MB while parsing, measured on a synthetic list of that size),
    and the arrays are shared, not copied, by forked DataLoader workers (reading a Python list
    touches its reference counts, which copies its pages into every worker). Layout and file
    names as torchvision's ``Places365(root, split, small=True)``.
    """
    root = Path(root) if root is not None else default_root()
    lists = {"train-standard": "places365_train_standard.txt", "train-challenge": "places365_train_challenge.txt",
             "val": "places365_val.txt"}
    if split not in lists:
        raise ValueError(f"split must be one of {sorted(lists)}, got {split!r}")
    images = root / (f"data_256_{split.split('-')[1]}" if split.startswith("train") else f"{split}_256")
    list_file, categories = root / lists[split], root / "categories_places365.txt"
    for needed in (categories, list_file, images):
        if not needed.exists():
            raise DatasetMissingError(f"Places365 {split} split ({needed.name})",
                                      f"{FETCH_COMMAND} --split {split}", where=root)
    classes = [line.split()[0] for line in categories.read_text().splitlines() if line.strip()]
    with open(list_file, "rb") as f:  # the longest line sizes the array: no Python list of 1.8 M strings
        width = max((len(line) for line in f), default=1)
    table = np.loadtxt(list_file, dtype=[("name", f"S{width}"), ("label", "i4")], comments=None, ndmin=1)
    return images, np.char.lstrip(table["name"], b"/"), table["label"].astype(np.int32), classes

"""The offline course pack: ~380 openly licensed real photos with scene labels and a fixed split.

Taught in notebooks/00_setup.ipynb (what the pack holds, where each photo comes from). Built by
``make data`` (data_scripts/build_course_pack.py) into ``<data>/coursepack/``: ``manifest.csv``
(id, split, domain, file, label, source, package, version, path_in_package, license,
attribution, width, height, sha256, background, mask) and the JPEGs, shorter side 256 px.

Two domains, five splits:

* in-domain (``IN_DOMAIN_SPLITS``): ``train`` (the course's models are trained on it), ``val``
  and ``test``, all from the same sources (GCompris, Scratch, OpenCV's samples, the sample photos
  of scikit-image, scikit-learn and matplotlib);
* out-of-domain (``SHIFT_SPLITS``): ``shift_val`` and ``shift_test``, photos from sources never
  used for training (wallpapers of lomiri and MATE, palapeli's puzzles, KPhotoAlbum's demo album,
  the mvtb-data images). Choose settings (gains, temperatures, losses) on ``shift_val``; report
  on ``shift_test`` only. No photo of them is a near-duplicate of an in-domain photo, and no
  near-duplicate or scene spans the two.

And two composite splits (``COMPOSITE_SPLITS``, domain ``composite``): photographic object
cut-outs (Debian tuxpaint-stamps-default, GPL-2) pasted with their own alpha onto in-domain
photos. ``objects_train`` (on train photos) is extra training data a trainer loads beside
``train``; ``objects_test`` (whole cut-out categories held out of it, on test photos) tests
object colors never seen. Their manifest rows name the background photo and a coverage mask
(``mask``: 255 where only the cut-outs show). ``train`` itself stays real photos only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from colorcourse.imageio import load_rgb
from colorcourse.paths import DatasetMissingError, data_dir as default_data_dir

IN_DOMAIN_SPLITS = ("train", "val", "test")
SHIFT_SPLITS = ("shift_val", "shift_test")
COMPOSITE_SPLITS = ("objects_train", "objects_test")
SPLITS = IN_DOMAIN_SPLITS + SHIFT_SPLITS + COMPOSITE_SPLITS
# How to get the pack: build it in a checkout, or (a wheel install, a classroom hub) point
# COLORCOURSE_DATA at the folder that holds a built one (read-only is fine).
BUILD_HINT = "make data (in the course's folder), or set COLORCOURSE_DATA to the folder that holds coursepack/"


@dataclass
class Photo:
    """One color photograph: its id, scene label, pixels and file."""

    name: str
    label: str
    rgb: np.ndarray  # H x W x 3 float32 in [0, 1]
    path: Path


def pack_dir(data_dir: str | Path | None = None) -> Path:
    """The course pack folder (``<data>/coursepack``)."""
    return Path(data_dir if data_dir is not None else default_data_dir()) / "coursepack"


def load_manifest(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The manifest, one row per photo; raises DatasetMissingError if the pack is not built."""
    manifest = pack_dir(data_dir) / "manifest.csv"
    if not manifest.is_file():
        raise DatasetMissingError("course pack", BUILD_HINT, where=manifest.parent)
    return pd.read_csv(manifest, dtype={"version": str, "sha256": str})


def labels(data_dir: str | Path | None = None) -> list[str]:
    """The pack's scene labels, sorted."""
    return sorted(load_manifest(data_dir)["label"].unique())


def _resize_short_side(rgb: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    h, w = rgb.shape[:2]
    scale = size / min(h, w)
    image = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.float32) / 255.0


def load_split(split: str, limit: int | None = None, size: int | None = None,
               data_dir: str | Path | None = None) -> list[Photo]:
    """The photos of one split in manifest order (sorted by id): "train", "val" or "test"
    (in-domain), "shift_val" or "shift_test" (out-of-domain photos, never used for training), or
    "objects_train" or "objects_test" (composites of object cut-outs on in-domain photos).

    ``limit`` keeps the first ``limit`` photos; ``size`` resizes each so its shorter side is
    ``size`` px (``None`` keeps the stored 256 px). A shift split that is missing or empty (a pack
    built before it existed, or with the out-of-domain sources unreachable) raises
    DatasetMissingError naming the command that builds it (``make data``).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if size is not None and size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}")
    folder = pack_dir(data_dir)
    rows = load_manifest(data_dir)
    rows = rows[rows["split"] == split].sort_values("id")
    if split in SHIFT_SPLITS + COMPOSITE_SPLITS and rows.empty:
        kind = "out-of-domain" if split in SHIFT_SPLITS else "composite"
        raise DatasetMissingError(
            f"course pack's {kind} split {split!r} (empty or missing: the pack was built "
            "before it existed, or its sources could not be fetched)", BUILD_HINT, where=folder)
    if limit is not None:
        rows = rows.head(limit)
    photos = []
    for row in rows.itertuples():
        path = folder / row.file
        if not path.is_file():
            raise DatasetMissingError(f"course pack (file {row.file})", BUILD_HINT, where=folder)
        rgb = load_rgb(path)
        if size is not None:
            rgb = _resize_short_side(rgb, size)
        photos.append(Photo(name=row.id, label=row.label, rgb=rgb, path=path))
    return photos

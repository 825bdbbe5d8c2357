"""SIFT Flow (Liu, Yuen & Torralba): 2,688 outdoor images, 256 x 256, per-pixel labels over 33
classes; the training set of Cheng et al.'s scene parser.

Taught in notebooks/00_setup.ipynb; used by colorcourse.cheng (semantic features). Fetch with
``python data_scripts/fetch_siftflow.py``. Layout of the published zip, once extracted::

    SiftFlow/Images/spatial_envelope_256x256_static_8outdoorcategories/<name>.jpg
    SiftFlow/SemanticLabels/spatial_envelope_256x256_static_8outdoorcategories/<name>.mat

(Some copies unpack without the top ``SiftFlow/`` folder; both layouts are read.)
Each .mat holds ``S`` (256 x 256, 0 = unlabelled, 1..33 = class) and ``names`` (the 33 class
names). :func:`load_siftflow` returns labels shifted to 0..32 with -1 for unlabelled pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorcourse.paths import DatasetMissingError, data_dir

SIFTFLOW_URL = "http://people.csail.mit.edu/celiu/LabelTransfer/SiftFlowDataset.zip"
# The same archive as used by Tighe & Lazebnik (ECCV 2010) and public download scripts.
SIFTFLOW_MIRROR = "http://www.cs.unc.edu/~jtighe/Papers/ECCV10/siftflow/SiftFlowDataset.zip"
# No checksum is published for this archive (none on the project page, none found in public
# code); the fetch script verifies the layout instead: 2,688 images, each with a label map.
SIFTFLOW_N_IMAGES = 2688
SUBFOLDER = "spatial_envelope_256x256_static_8outdoorcategories"
SIFTFLOW_CLASSES = (
    "awning", "balcony", "bird", "boat", "bridge", "building", "bus", "car", "cow", "crosswalk",
    "desert", "door", "fence", "field", "grass", "moon", "mountain", "person", "plant", "pole",
    "river", "road", "rock", "sand", "sea", "sidewalk", "sign", "sky", "staircase", "streetlight",
    "sun", "tree", "window",
)
UNLABELLED = -1
FETCH_COMMAND = "python data_scripts/fetch_siftflow.py"


def default_root() -> Path:
    return data_dir() / "siftflow"


def find_dataset_dir(root: str | Path | None = None) -> Path:
    """The folder holding ``Images/`` and ``SemanticLabels/`` (``root`` or ``root/SiftFlow``)."""
    root = Path(root) if root is not None else default_root()
    for candidate in (root, root / "SiftFlow"):
        if (candidate / "Images" / SUBFOLDER).is_dir() and (candidate / "SemanticLabels" / SUBFOLDER).is_dir():
            return candidate
    raise DatasetMissingError("SIFT Flow data set", FETCH_COMMAND, where=root)


def read_label_map(path: str | Path) -> np.ndarray:
    """One SIFT Flow label map: H x W int64, 0..32, -1 where unlabelled."""
    from scipy.io import loadmat

    mat = loadmat(path)
    if "S" not in mat:
        raise ValueError(f"{path}: no label map 'S' in this .mat file")
    return mat["S"].astype(np.int64) - 1


def load_siftflow(root: str | Path | None = None, limit: int | None = None
                  ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(name, rgb H x W x 3 float32 in [0,1], labels H x W int, -1 = unlabelled)]`` sorted by name."""
    from colorcourse.imageio import load_rgb

    base = find_dataset_dir(root)
    images = sorted((base / "Images" / SUBFOLDER).glob("*.jpg"))
    if limit is not None:
        images = images[:limit]
    items = []
    for image in images:
        label_file = base / "SemanticLabels" / SUBFOLDER / f"{image.stem}.mat"
        if not label_file.is_file():
            raise DatasetMissingError(f"SIFT Flow label map {label_file.name}", FETCH_COMMAND, where=base)
        rgb = load_rgb(image)
        labels = read_label_map(label_file)
        if labels.shape != rgb.shape[:2]:
            raise ValueError(f"{label_file}: label map {labels.shape} does not match image {rgb.shape[:2]}")
        items.append((image.stem, rgb, labels))
    return items


def image_files(root: str | Path | None = None) -> list[Path]:
    """SIFT Flow's image files, sorted, without decoding them (for streaming training)."""
    files = sorted((find_dataset_dir(root) / "Images" / SUBFOLDER).glob("*.jpg"))
    if not files:
        raise DatasetMissingError("SIFT Flow images", FETCH_COMMAND, where=root)
    return files


def scene_of(name: str) -> str:
    """The scene category of a SIFT Flow image, from its name: ``coast_arnat59`` -> ``coast``
    (the 8 outdoor categories of Oliva & Torralba's spatial-envelope set it is built on)."""
    return name.split("_", 1)[0]

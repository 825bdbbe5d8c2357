"""Training data streamed from disk: each photo is decoded and cropped when a batch needs it.

Taught in notebooks/11_training_at_scale.ipynb. :mod:`colorcourse.fusion.data` keeps every
photo in memory, which is right for the course pack's few hundred photos and impossible for
Places (1.8 M photos would need about a terabyte as arrays). Here a data set is a
:class:`FileList` (paths and labels in numpy arrays: ~40 bytes a photo), and
:class:`StreamingCrops` is a ``torch.utils.data.Dataset`` whose items are decoded, resized and
cropped by ``DataLoader`` worker processes, so memory does not grow with the number of photos.

- Augmentation as :class:`colorcourse.fusion.data.CropSampler`: the photo's shorter side
  resized to 256, a random square window between the crop size and 256 (a random zoom) resized
  to the crop, a random horizontal flip. Validation items are center crops.
- Reproducible: item ``i`` of epoch ``e`` is drawn from a generator seeded by ``(seed, e, i)``,
  whichever worker decodes it, so a resumed run sees exactly the crops the uninterrupted one
  would have. :class:`EpochSampler` wraps ``DistributedSampler`` (the same shuffle for every
  replica, each replica its own share, reshuffled every epoch) and can start mid-epoch.
- Bad files never stop a long run: a file that does not decode, or a photo that is gray (it has
  no color to learn), is replaced by the next photo of the list; the batch reports what it
  skipped, and the training log counts it.

Data sets: ``places365`` (torchvision's layout, scene labels), ``siftflow`` (the 8 scene
categories of its file names), ``folder`` (subfolders are the labels) and ``coursepack``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, DistributedSampler, Sampler

from colorcourse.color import YUV_FROM_RGB, ab_to_unit, rgb_to_lab_torch

DATASETS = ("places365", "siftflow", "folder", "coursepack")
SKIP_REASONS = ("unreadable", "gray")  # why a file was skipped, by code (0, 1)
MAX_SUBSTITUTES = 16  # a run of this many bad files in a row is a broken data set, not bad luck


class SkippedFile(Exception):
    """A photo that cannot teach color: ``reason`` is an index into :data:`SKIP_REASONS`."""

    def __init__(self, reason: int, detail: str):
        super().__init__(detail)
        self.reason = reason


@dataclass
class FileList:
    """A data set's photos as compact arrays: paths relative to ``root``, class indices."""

    root: Path
    files: np.ndarray  # bytes, one relative path a photo
    labels: np.ndarray  # int32 class index, -1: no label (ignored by the classification loss)
    classes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.files = np.asarray(self.files, dtype=np.bytes_)
        self.labels = np.asarray(self.labels, dtype=np.int32)
        if len(self.files) != len(self.labels):
            raise ValueError(f"{len(self.files)} files but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.files)

    def path(self, index: int) -> Path:
        return self.root / self.files[index].decode()

    def subset(self, keep: np.ndarray) -> "FileList":
        return FileList(self.root, self.files[keep], self.labels[keep], self.classes)

    def head(self, limit: int | None) -> "FileList":
        return self if limit is None else self.subset(np.arange(min(limit, len(self))))


def _held_out(names, fraction: float = 0.1) -> np.ndarray:
    """A fixed ``fraction`` of ``names`` by a hash of each name (adding photos never moves old ones)."""
    buckets = np.array([int(hashlib.sha256(n).hexdigest()[:8], 16) / 0xFFFFFFFF for n in names])
    return buckets < fraction


def _labelled(root: Path, files: list[Path], label_of) -> FileList:
    names = [label_of(f) for f in files]
    classes = sorted({n for n in names if n})
    classes = classes if len(classes) >= 2 else []  # one label teaches nothing: no classifier
    index = {c: i for i, c in enumerate(classes)}
    return FileList(root, [str(f.relative_to(root)).encode() for f in files],
                    [index.get(n, -1) for n in names], classes)


def _split_held_out(files: FileList) -> tuple[FileList, FileList]:
    val = _held_out(files.files)
    if val.all() or not val.any():  # tiny data sets: keep at least one photo on each side
        val = np.zeros(len(files), dtype=bool)
        val[0] = True
    return files.subset(~val), files.subset(val)


def folder_files(root: str | Path) -> FileList:
    """Every image file under ``root`` (sorted; by suffix, nothing decoded); label = subfolder."""
    from colorcourse.datasets.folder import IMAGE_SUFFIXES

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"no image files under {root}")
    return _labelled(root, files, lambda f: f.parent.name if f.parent != root else "")


def training_files(data: str, root: str | Path | None = None) -> tuple[FileList, FileList]:
    """``(train, val)`` file lists of one of :data:`DATASETS`.

    places365: train-standard and val, with the 365 scene labels (Iizuka et al. trained on
    Places205's 2.3 M photos and 205 labels; Places365 is its successor, the one torchvision
    fetches). siftflow: its 2,688 photos, the 8 scene categories of their names as labels, a
    fixed 10 % held out. folder: subfolders are labels, a fixed 10 % held out. coursepack: the
    pack's train and val splits with its scene labels.
    """
    if data == "places365":
        from colorcourse.datasets import places365

        def split(name: str) -> FileList:
            images, names, targets, classes = places365.read_file_list(root, name)
            return FileList(images, names, targets, classes)

        return split("train-standard"), split("val")
    if data == "siftflow":
        from colorcourse.datasets import siftflow

        files = siftflow.image_files(root)
        return _split_held_out(_labelled(files[0].parent, files, lambda f: siftflow.scene_of(f.stem)))
    if data == "folder":
        if root is None:
            raise ValueError("--data folder needs --data-root: the folder of photos")
        return _split_held_out(folder_files(root))
    if data == "coursepack":
        from colorcourse import coursepack

        manifest = coursepack.load_manifest(root)
        classes = sorted(manifest["label"].unique())
        index = {c: i for i, c in enumerate(classes)}
        folder = coursepack.pack_dir(root)

        def split(name: str) -> FileList:
            rows = manifest[manifest["split"] == name].sort_values("id")
            return FileList(folder, [f.encode() for f in rows["file"]], [index[c] for c in rows["label"]], classes)

        return split("train"), split("val")
    raise ValueError(f"data must be one of {DATASETS}, got {data!r}")


# ----------------------------------------------------------------- one item


def decode_crop(path: Path, rng: np.random.Generator | None, crop: int, short_side: int = 256,
                flip: bool = True) -> np.ndarray:
    """One training crop (``crop x crop x 3`` uint8) of the photo at ``path``.

    The photo's shorter side is taken as ``short_side`` pixels; a random square window between
    ``crop`` and ``short_side`` (the zoom) at a random place is resized to ``crop`` in one
    antialiased resampling from the original pixels, then flipped at random. ``rng=None``: the
    center crop (validation). Raises :class:`SkippedFile` for an unreadable or gray photo.
    """
    from PIL import Image

    short_side = max(short_side, crop)
    try:
        with Image.open(path) as img:
            if img.mode in ("1", "L", "LA", "I", "I;16", "F"):
                raise SkippedFile(1, f"{path}: grayscale file")
            # JPEG: let the decoder scale down by 2, 4 or 8 when the photo is that much larger
            img.draft("RGB", (short_side * img.width // min(img.size), short_side * img.height // min(img.size)))
            img = img.convert("RGB")
    except SkippedFile:
        raise
    except Exception as error:  # any decoding failure: a truncated file, not an image, ...
        raise SkippedFile(0, f"{path}: {type(error).__name__}: {error}") from None
    w, h = img.size
    scale = min(w, h) / short_side  # original pixels per pixel of the short_side-sized photo
    sw, sh = round(w / scale), round(h / scale)  # the photo's size at short_side
    if rng is None:
        side, x, y, mirror = crop, (sw - crop) / 2, (sh - crop) / 2, False
    else:
        side = int(rng.integers(crop, short_side + 1))
        x, y = float(rng.integers(0, sw - side + 1)), float(rng.integers(0, sh - side + 1))
        mirror = flip and rng.random() < 0.5
    box = (x * scale, y * scale, (x + side) * scale, (y + side) * scale)
    out = np.asarray(img.resize((crop, crop), Image.Resampling.BILINEAR, box=box))
    if mirror:
        out = out[:, ::-1]
    channels = out.astype(np.int16)
    if max(np.abs(channels[..., 0] - channels[..., 1]).max(), np.abs(channels[..., 1] - channels[..., 2]).max()) <= 2:
        raise SkippedFile(1, f"{path}: a gray photo stored as RGB")
    return np.array(out)  # a writable copy (PIL's array is read-only)


class StreamingCrops(Dataset):
    """``dataset[(index, epoch)]`` -> ``{"rgb": 3 x crop x crop uint8, "label", "skipped"}``.

    ``epoch < 0`` gives the deterministic center crop (validation). A photo that cannot be used
    is replaced by the next one in the list; ``skipped`` lists ``(index, reason)`` of each.
    """

    def __init__(self, files: FileList, crop: int = 224, seed: int = 0, short_side: int = 256, flip: bool = True):
        if len(files) == 0:
            raise ValueError(f"no photos to train on in {files.root}")
        self.files, self.crop, self.seed, self.short_side, self.flip = files, crop, seed, short_side, flip

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key) -> dict:
        index, epoch = key if isinstance(key, tuple) else (key, -1)
        skipped = []
        for attempt in range(MAX_SUBSTITUTES):
            i = (int(index) + attempt) % len(self.files)
            rng = np.random.default_rng([self.seed, epoch, i]) if epoch >= 0 else None
            try:
                rgb = decode_crop(self.files.path(i), rng, self.crop, self.short_side, self.flip)
            except SkippedFile as error:
                skipped.append((i, error.reason))
                continue
            return {"rgb": torch.from_numpy(rgb).permute(2, 0, 1).contiguous(),
                    "label": int(self.files.labels[i]), "skipped": skipped}
        raise RuntimeError(f"{MAX_SUBSTITUTES} photos in a row could not be used, from "
                           f"{self.files.path(int(index))}: is {self.files.root} the data set?")


def collate(items: list[dict]) -> dict:
    """Stack a batch; keep every item's skipped files (the training loop counts them)."""
    return {"rgb": torch.stack([it["rgb"] for it in items]),
            "label": torch.tensor([it["label"] for it in items], dtype=torch.long),
            "skipped": [s for it in items for s in it["skipped"]]}


class EpochSampler(Sampler):
    """An endless stream of ``(index, epoch)``: ``DistributedSampler``'s shard of each epoch in
    turn (``set_epoch`` reshuffles it; the same permutation on every replica, each replica its
    own share, ``drop_last``), starting ``consumed`` samples into the stream (resume)."""

    def __init__(self, dataset: Dataset, world: int = 1, rank: int = 0, seed: int = 0,
                 consumed: int = 0, shuffle: bool = True):
        self.inner = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=shuffle,
                                        seed=seed, drop_last=True)
        if self.inner.num_samples == 0:
            raise ValueError(f"{len(dataset)} photos cannot be shared by {world} replicas")
        self.consumed = consumed

    @property
    def per_epoch(self) -> int:
        """Samples of one epoch on this replica."""
        return self.inner.num_samples

    def position(self, consumed: int) -> tuple[int, int]:
        """``(epoch, sample within the epoch)`` after ``consumed`` samples on this replica."""
        return divmod(consumed, self.per_epoch)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch, skip = self.position(self.consumed)
        while True:
            self.inner.set_epoch(epoch)
            for k, index in enumerate(self.inner):
                if k >= skip:
                    yield int(index), epoch
            epoch, skip = epoch + 1, 0


# ----------------------------------------------------------------- on the device


def luma_torch(rgb: torch.Tensor) -> torch.Tensor:
    """``N x 3 x H x W`` RGB in [0, 1] -> BT.601 luma ``N x 1 x H x W`` (the gray input)."""
    weights = torch.as_tensor(YUV_FROM_RGB[0], dtype=rgb.dtype, device=rgb.device)
    return torch.einsum("c,nchw->nhw", weights, rgb)[:, None]


def lightness_unit_torch(gray: torch.Tensor) -> torch.Tensor:
    """Gray ``Y`` -> ``L / 100`` of the neutral color, in torch (on any device); the same formula
    as :func:`colorcourse.fusion.infer.gray_to_lightness_unit`."""
    g = gray.clamp(0.0, 1.0)
    lin = torch.where(g > 0.04045, ((g.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, g / 12.92)
    f = torch.where(lin > 0.008856, lin.clamp(min=0.008856) ** (1 / 3), 7.787 * lin + 16.0 / 116.0)
    return (116.0 * f - 16.0) / 100.0


def batch_on_device(batch: dict, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """A collated batch -> (RGB ``N x 3 x H x W`` float in [0, 1], labels) on ``device``
    (non-blocking copies: from pinned memory the copy overlaps the previous step's compute)."""
    rgb = batch["rgb"].to(device, non_blocking=True).float().div_(255.0)
    return rgb, batch["label"].to(device, non_blocking=True)


def fusion_targets(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's network: (input ``L / 100`` of the gray photo, target ``ab_to_unit(ab)`` at half
    resolution), as :func:`colorcourse.fusion.data.rgb_batch_to_targets`, on ``rgb``'s device."""
    lab = rgb_to_lab_torch(rgb)
    return lightness_unit_torch(luma_torch(rgb)), F.avg_pool2d(ab_to_unit(lab[:, 1:]), 2)

"""Training batches for the fusion network: random crops, augmentation, Lab targets.

Taught in notebooks/06_fusion_cnn.ipynb ("train a tiny one live").

Photos are kept in memory as uint8 (a few hundred course-pack photos take ~80 MB). Every step
draws its batch from a generator seeded by ``(seed, step, rank)``, so a run is reproducible, a
resumed run draws exactly the batches the uninterrupted one would have, and each DDP replica
draws its own share.

Augmentation: a random square window (between the crop size and the photo's shorter side:
a random zoom) resized to the crop size, and a random horizontal flip. No color jitter: the
colors are the targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from colorcourse.color import ab_to_unit, rgb_to_lab_torch


@dataclass
class SamplePhoto:
    """Stand-in for a course-pack photo (same attributes: name, label, rgb)."""

    name: str
    label: str
    rgb: np.ndarray  # H x W x 3 float in [0, 1]


def sample_photos() -> list[SamplePhoto]:
    """The few real photos that ship with scikit-image and scikit-learn (for tests and demos)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        photos.append(SamplePhoto(name, "skimage", getattr(skimage.data, name)() / 255.0))
    for name, img in zip(("china", "flower"), load_sample_images().images):
        photos.append(SamplePhoto(name, "sklearn", img / 255.0))
    return photos


def synthetic_photos(n: int, size: int = 64, seed: int = 0, n_labels: int = 2) -> list[SamplePhoto]:
    """Smooth random color images (for fast tests of the training machinery)."""
    rng = np.random.default_rng(seed)
    photos = []
    for i in range(n):
        coarse = rng.random((4, 4, 3))
        rgb = np.kron(coarse, np.ones((size // 4, size // 4, 1)))
        photos.append(SamplePhoto(f"synthetic{i}", f"class{i % n_labels}", rgb))
    return photos


def _to_uint8(rgb: np.ndarray, short_side: int | None) -> np.ndarray:
    t = torch.from_numpy(np.asarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
    if short_side is not None and min(t.shape[-2:]) != short_side:
        h, w = t.shape[-2:]
        s = short_side / min(h, w)
        t = F.interpolate(t, size=(max(1, round(h * s)), max(1, round(w * s))), mode="bilinear", antialias=True)
    return (t[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


class CropSampler:
    """Random augmented crops from a list of photos (see the module docstring).

    ``labels``: scene label names per photo (or None); ``classes``: the label vocabulary that
    maps names to indices (photos whose label is not in it get -1, ignored by the loss).
    """

    def __init__(self, photos, crop: int = 224, classes: list[str] | None = None,
                 short_side: int | None = 256, zoom: bool = True, flip: bool = True):
        if not photos:
            raise ValueError("no photos to train on")
        self.crop, self.zoom, self.flip = crop, zoom, flip
        self.images = [_to_uint8(p.rgb, max(short_side or 0, crop) if short_side else None) for p in photos]
        small = [p.name for p, im in zip(photos, self.images) if min(im.shape[:2]) < crop]
        if small:
            raise ValueError(f"photos smaller than the {crop} px crop: {small[:5]}")
        self.classes = list(classes) if classes else []
        index = {c: i for i, c in enumerate(self.classes)}
        self.labels = np.array([index.get(getattr(p, "label", None), -1) for p in photos])

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, rng: np.random.Generator, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch_size`` crops: (rgb ``N x 3 x crop x crop`` in [0, 1], labels ``N``)."""
        idx = rng.integers(0, len(self.images), size=batch_size)
        crops = []
        for i in idx:
            im = self.images[i]
            h, w = im.shape[:2]
            side = int(rng.integers(self.crop, min(h, w) + 1)) if self.zoom else self.crop
            y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
            t = torch.from_numpy(im[y : y + side, x : x + side]).permute(2, 0, 1).float() / 255.0
            if side != self.crop:
                t = F.interpolate(t[None], size=(self.crop, self.crop), mode="bilinear", antialias=True)[0]
            if self.flip and rng.random() < 0.5:
                t = t.flip(-1)
            crops.append(t)
        return torch.stack(crops), torch.from_numpy(self.labels[idx]).long()

    def center_batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Deterministic center crops (for validation)."""
        crops = []
        for i in indices:
            im = self.images[i]
            h, w = im.shape[:2]
            y, x = (h - self.crop) // 2, (w - self.crop) // 2
            crops.append(torch.from_numpy(im[y : y + self.crop, x : x + self.crop]).permute(2, 0, 1).float() / 255.0)
        return torch.stack(crops), torch.from_numpy(self.labels[list(indices)]).long()


def rgb_batch_to_targets(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``N x 3 x H x W`` RGB -> (input ``L / 100``: ``N x 1 x H x W``,
    target ``ab_to_unit(ab)`` at the network's half resolution: ``N x 2 x H/2 x W/2``)."""
    lab = rgb_to_lab_torch(rgb)
    # The network sees only the lightness of the gray photo: L of the neutral color of its luma
    # equals L of the color photo only approximately, so compute it from the gray image itself.
    from colorcourse.color import YUV_FROM_RGB
    from colorcourse.fusion.infer import gray_to_lightness_unit

    luma = torch.einsum("c,nchw->nhw", torch.as_tensor(YUV_FROM_RGB[0], dtype=rgb.dtype), rgb)
    L_unit = torch.from_numpy(gray_to_lightness_unit(luma.numpy()))[:, None]
    ab_unit = F.avg_pool2d(ab_to_unit(lab[:, 1:]), 2)
    return L_unit, ab_unit

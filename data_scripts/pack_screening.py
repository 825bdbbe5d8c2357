"""Screening candidates: the measurable photo rules (size, saturation, flat colors, no alpha) and
the near-duplicate tests (difference hashes of the whole photo and of its centre crops).

Part of data_scripts/build_course_pack.py (see its docstring for the order the rules run in).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from pack_sources import Candidate

SHORT_SIDE = 256  # the pack's photos are stored at this shorter side (the rules look at it too)
MIN_SIDE = 200  # px, on the original photo
MIN_SATURATION = 0.08  # mean HSV saturation: below it an image is near-gray
# Share of pixels in the 32 most common colors (32 levels per channel): above it, a flat-color
# drawing. Measured on the candidates: synthetic flat drawings ~1.0, Scratch's drawn room 0.92,
# but photos of objects on a white table reach 0.91 while other Scratch drawings sit at 0.6-0.75
# among photos, so this rule only catches the flattest drawings; the hand-kept lists do the rest.
MAX_FLAT_FRACTION = 0.92
DHASH_MAX_DISTANCE = 6  # bits out of 64: at or below it two images are near-duplicates
# Out-of-domain photos are also compared with centre crops of every other photo (a wallpaper
# shipped at another aspect ratio or zoom is the same photo): crops zoomed to these fractions of
# each side, and crops to these aspect ratios (either way round). The comparison uses a 16 x 16
# difference hash (256 bits); at or below CROP_MAX_DISTANCE bits a photo counts as a crop.
# Measured on the real candidates: unrelated photos stay at 50 bits and more, the same photo
# centre-cropped, resized and recompressed at 0-23 (a crop off these fractions by a few percent
# scores higher and is not caught: same-scene photos are grouped by hand in sources.py instead).
CROP_ZOOMS = (0.9, 0.8, 0.7, 0.6, 0.5)
CROP_ASPECTS = (1.0, 5 / 4, 4 / 3, 3 / 2, 16 / 10, 16 / 9, 2.0)
CROP_MAX_DISTANCE = 32


def saturation_mean(rgb: np.ndarray) -> float:
    """Mean HSV saturation of a uint8 H x W x 3 image, in [0, 1]."""
    rgb = rgb.astype(np.float32)
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    return float(np.mean(np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0)))


def flat_color_fraction(rgb: np.ndarray, levels: int = 32, top: int = 32) -> float:
    """Share of pixels in the ``top`` most common colors after quantising each channel to
    ``levels`` steps: high for flat-color drawings, low for photographs (noise, shading)."""
    q = (rgb.astype(np.int32) * levels) // 256  # H x W x 3 in [0, levels)
    codes = (q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]
    counts = np.bincount(codes.ravel(), minlength=levels ** 3)
    return float(np.sort(counts)[::-1][:top].sum() / codes.size)


def has_transparency(image: Image.Image) -> bool:
    """True for cut-outs: an alpha channel (or palette transparency) with any see-through pixel."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
        return bool((alpha < 250).any())
    return False


def reject_reason(image: Image.Image) -> tuple[str | None, np.ndarray | None]:
    """Why an image is not a usable color photograph (None if it is), and its uint8 RGB."""
    if has_transparency(image):
        return "alpha cut-out", None
    if min(image.size) < MIN_SIDE:
        return f"smaller than {MIN_SIDE} px", None
    rgb = np.asarray(image.convert("RGB"))
    small = np.asarray(resize_short_side(Image.fromarray(rgb), SHORT_SIDE))
    if saturation_mean(small) < MIN_SATURATION:
        return f"near-gray (saturation < {MIN_SATURATION})", rgb
    if flat_color_fraction(small) > MAX_FLAT_FRACTION:
        return f"flat colors, a drawing (> {MAX_FLAT_FRACTION:.0%} in 32 colors)", rgb
    return None, rgb


def dhash(rgb: np.ndarray, size: int = 8) -> int:
    """64-bit difference hash: gray, resized to (size+1) x size, sign of horizontal differences."""
    gray = Image.fromarray(rgb).convert("L").resize((size + 1, size), Image.Resampling.LANCZOS)
    g = np.asarray(gray, dtype=np.int16)
    bits = (g[:, 1:] > g[:, :-1]).ravel()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def deduplicate(hashes: dict[str, int], max_distance: int = DHASH_MAX_DISTANCE,
                priority: dict[str, float] | None = None) -> dict[str, str]:
    """Near-duplicate ids to drop, mapped to the id they duplicate. Of a group, the id with the
    highest ``priority`` stays (the builder passes pixel counts: the sharpest copy), ties by id."""
    kept: list[tuple[str, int]] = []
    dropped: dict[str, str] = {}
    priority = priority or {}
    for image_id in sorted(hashes, key=lambda i: (-priority.get(i, 0), i)):
        match = next((k for k, h in kept if hamming(h, hashes[image_id]) <= max_distance), None)
        if match is None:
            kept.append((image_id, hashes[image_id]))
        else:
            dropped[image_id] = match
    return dropped


Signature = tuple[int, int, tuple[int, ...]]  # (dhash, 16 x 16 dhash, 16 x 16 dhashes of centre crops)


def signature(rgb: np.ndarray) -> Signature:
    """What the out-of-domain deduplication compares: the 64-bit dhash of the whole photo, its
    256-bit dhash, and the 256-bit dhashes of its centre crops (CROP_ZOOMS, CROP_ASPECTS)."""
    h, w = rgb.shape[:2]
    boxes = [(round(h * zoom), round(w * zoom)) for zoom in CROP_ZOOMS]
    for aspect in CROP_ASPECTS:
        for a in {aspect, 1 / aspect}:
            if w / h > a * 1.02:  # wider than a: keep the height, crop the width
                boxes.append((h, round(h * a)))
            elif w / h < a / 1.02:  # taller than a: keep the width, crop the height
                boxes.append((round(w / a), w))
    crops = []
    for ch, cw in boxes:
        ch, cw = max(17, ch), max(17, cw)
        top, left = max(0, (h - ch) // 2), max(0, (w - cw) // 2)
        crops.append(dhash(rgb[top:top + ch, left:left + cw], size=16))
    return dhash(rgb), dhash(rgb, size=16), tuple(crops)


def related(a: Signature, b: Signature) -> str | None:
    """How photo ``b`` duplicates photo ``a``: "near-duplicate" (whole-frame dhashes within
    DHASH_MAX_DISTANCE), "crop" (b is a centre crop of a), "contains" (a is a centre crop of b),
    or None if unrelated."""
    if hamming(a[0], b[0]) <= DHASH_MAX_DISTANCE:
        return "near-duplicate"
    if any(hamming(c, b[1]) <= CROP_MAX_DISTANCE for c in a[2]):
        return "crop"
    if any(hamming(a[1], c) <= CROP_MAX_DISTANCE for c in b[2]):
        return "contains"
    return None


def deduplicate_shift(shift: dict[str, Signature], in_domain: dict[str, Signature],
                      priority: dict[str, float] | None = None) -> dict[str, str]:
    """Shift photos to drop, mapped to why: a near-duplicate or crop of ANY in-domain photo, or of
    a shift photo kept before it (the largest photo of a group stays, ties by id), so no two kept
    shift photos are near-duplicates and none can span shift_val / shift_test."""
    priority = priority or {}
    dropped: dict[str, str] = {}
    kept: list[str] = []
    for image_id in sorted(shift, key=lambda i: (-priority.get(i, 0), i)):
        why = next((f"{how} of in-domain {other}" for other, h in sorted(in_domain.items())
                    if (how := related(h, shift[image_id]))), None)
        if why is None:
            why = next((f"{how} of {other}" for other in kept
                        if (how := related(shift[other], shift[image_id]))), None)
        if why is None:
            kept.append(image_id)
        else:
            dropped[image_id] = why
    return dropped


def resize_short_side(image: Image.Image, short: int) -> Image.Image:
    """Resize so the shorter side is ``short`` px (Lanczos, antialiased)."""
    w, h = image.size
    scale = short / min(w, h)
    return image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)


@dataclass
class Accepted:
    candidate: Candidate
    rgb: np.ndarray  # H x W x 3 uint8, the original (out-of-domain: shorter side at most SHIFT_WORK_SIDE)
    hash: int
    pixels: int = 0  # of the original


# Out-of-domain wallpapers reach 6000 x 4000 px: they are screened at this shorter side (the
# rules look at 256 px anyway), so memory stays small. In-domain photos are screened as before.
SHIFT_WORK_SIDE = 1024


def decode(cand: Candidate) -> Image.Image:
    image = Image.open(io.BytesIO(cand.read()))
    if cand.domain == "shift" and image.format == "JPEG" and min(image.size) > 2 * SHIFT_WORK_SIDE:
        w, h = image.size
        scale = SHIFT_WORK_SIDE / min(w, h)
        image.draft("RGB", (round(w * scale), round(h * scale)))  # fast DCT downscale, >= that size
    image.load()
    return image


def screen(candidates: list[Candidate], progress: bool = True) -> tuple[list[Accepted], list[tuple[str, str]]]:
    """Decode and apply the photo rules to every candidate: (accepted, [(id, why rejected)])."""
    from colorcourse.progress import progress_bar  # a bar on a terminal, two lines in a log

    accepted, rejected = [], []
    for cand in progress_bar(candidates, desc="screening candidates", disable=not progress, unit="photo"):
        try:
            image = decode(cand)
        except Exception as error:  # a corrupt file in a package: report it, keep going
            rejected.append((cand.id, f"cannot decode ({type(error).__name__})"))
            continue
        reason, rgb = reject_reason(image)
        if reason:
            rejected.append((cand.id, reason))
            continue
        pixels = rgb.shape[0] * rgb.shape[1]
        if cand.domain == "shift" and min(rgb.shape[:2]) > SHIFT_WORK_SIDE:
            rgb = np.asarray(resize_short_side(Image.fromarray(rgb), SHIFT_WORK_SIDE))
        accepted.append(Accepted(cand, rgb, dhash(rgb), pixels))
    return accepted, rejected

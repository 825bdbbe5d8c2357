"""Object-rich composites: photographic cut-outs (Debian tuxpaint-stamps-default, each with its own
alpha mask) pasted onto the pack's in-domain photos.

Part of data_scripts/build_course_pack.py. Why: the course's photos are mostly scenes (fish,
monuments, nature), so a colorizer trained on them leaves everyday objects gray or brown. Pasting
real photographs of objects, animals and plants onto the training photos shows it those colors in
context, and the cut-out's mask says exactly which pixels are the object.

Two splits, both with domain "composite", never mixed into train / val / test / shift_*:

* ``objects_train``: cut-outs of the kept categories on the in-domain **train** photos (extra
  training photos; a trainer opts in by loading this split beside ``train``);
* ``objects_test``: cut-outs of the held-out categories (``sources.TUXPAINT_HELD_OUT``, whole
  folders never seen in objects_train) on the in-domain **test** photos (a test of object colors
  the network has not seen, on backgrounds it has not seen).

Each composite gets ``PER_BACKGROUND`` variants per background photo, one to three cut-outs of
one label each (the composite's label), at a random scale, position and left-right flip, from a
generator seeded by the background's id and the variant number: the same pack on every machine,
and adding a photo changes no other composite. The manifest row records the cut-outs' paths in
the package, both licenses, the background photo's id and the coverage mask's file (a PNG,
255 where only the cut-outs are seen, 0 where only the background is).
"""

from __future__ import annotations

import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pack_fetch as fetch  # noqa: E402  (called as fetch.x so tests can replace them)
import sources  # noqa: E402
from pack_screening import flat_color_fraction  # noqa: E402

COMPOSITE_SPLITS = ("objects_train", "objects_test")
BACKGROUND_SPLIT = {"objects_train": "train", "objects_test": "test"}  # where each takes its backgrounds
PER_BACKGROUND = 2  # composites made on each background photo
MAX_CUTOUTS = 3  # per composite (one to three)
SEED = 23  # the composites' seed (with each background's id and the variant number)
# The cut-out's longer side, as a fraction of the background's shorter side (the pack's photos
# are 256 px on that side: 77 to 166 px), at most MAX_UPSCALE times its own size (small stamps
# upscaled further would be blurry).
SIZE_RANGE = (0.3, 0.65)
MAX_UPSCALE = 1.5
# A usable cut-out: a photograph, not a drawing. Measured on the package's PNGs (opaque pixels
# only): drawings use under ~500 distinct colors or put over 90 % of their pixels in 32 colors,
# photos use thousands; under 1,500 opaque pixels (~40 x 40) a stamp is too small to paste.
MIN_OPAQUE_PIXELS = 1500
MIN_COLORS = 500
MAX_CUTOUT_FLAT = 0.90
OPAQUE = 200  # alpha at or above it counts as the object for the rules above


@dataclass
class Cutout:
    """One photographic cut-out: RGBA pixels cropped to its mask, and where it comes from."""

    id: str
    category: str  # its folder under the stamps folder, e.g. "animals/birds"
    label: str  # the pack label it counts as (sources.TUXPAINT_LABELS)
    path_in_package: str
    version: str
    license: str
    rgba: np.ndarray  # h x w x 4 uint8, cropped to the pixels with alpha > 0
    held_out: bool = False  # its category is held out for objects_test


def category_label(category: str) -> str | None:
    """The pack label of a stamp folder (first matching prefix), None if the folder is not used."""
    parts = category.split("/")
    if any(p in sources.TUXPAINT_SKIP_FOLDERS for p in parts):
        return None
    for prefix, label in sources.TUXPAINT_LABELS.items():
        if category == prefix or category.startswith(prefix + "/"):
            return label
    return None


def is_held_out(category: str) -> bool:
    return any(category == h or category.startswith(h + "/") for h in sources.TUXPAINT_HELD_OUT)


def cutout_reject_reason(rgba: np.ndarray) -> str | None:
    """Why a stamp is not a usable photographic cut-out (None if it is)."""
    alpha = rgba[..., 3]
    if not (alpha < 250).any():
        return "no transparent pixel (not a cut-out)"
    opaque = rgba[..., :3][alpha >= OPAQUE]
    if len(opaque) < MIN_OPAQUE_PIXELS:
        return f"under {MIN_OPAQUE_PIXELS} opaque pixels"
    colors = len(np.unique(opaque.astype(np.int32) @ np.array([65536, 256, 1])))
    if colors < MIN_COLORS:
        return f"under {MIN_COLORS} colors (a drawing)"
    if flat_color_fraction(opaque[None]) > MAX_CUTOUT_FLAT:
        return f"flat colors, a drawing (> {MAX_CUTOUT_FLAT:.0%} in 32 colors)"
    return None


def crop_to_alpha(rgba: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(rgba[..., 3])
    return rgba[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def cutout_candidates(root: Path, version: str) -> tuple[list[Cutout], list[tuple[str, str]]]:
    """The usable cut-outs of an unpacked tuxpaint-stamps-default, sorted by id, and the stamps of
    the used folders that the rule rejected, with why."""
    base = root / sources.TUXPAINT_DIR
    copyright_file = root / sources.TUXPAINT_COPYRIGHT
    stanzas = fetch.parse_dep5(copyright_file.read_text(encoding="utf-8")) if copyright_file.is_file() else []
    found, rejected = [], []
    for path in sorted(base.rglob("*.png")):
        rel = path.relative_to(base).as_posix()
        category = path.parent.relative_to(base).as_posix()
        label = category_label(category)
        if label is None or rel in sources.TUXPAINT_EXCLUDE:
            continue
        try:
            with Image.open(path) as image:
                rgba = np.asarray(image.convert("RGBA"))
        except Exception as error:  # a corrupt file in a package: report it, keep going
            rejected.append((rel, f"cannot decode ({type(error).__name__})"))
            continue
        why = cutout_reject_reason(rgba)
        if why:
            rejected.append((rel, why))
            continue
        license_name = fetch.license_for(f"{sources.TUXPAINT_DIR}/{rel}", stanzas)[0] or "GPL-2+"
        found.append(Cutout(
            id=rel.rsplit(".", 1)[0].replace("/", "-").lower(), category=category, label=label,
            path_in_package=f"/{sources.TUXPAINT_DIR}/{rel}", version=version, license=license_name,
            rgba=crop_to_alpha(rgba), held_out=is_held_out(category)))
    return sorted(found, key=lambda c: c.id), rejected


def fetch_cutouts(data: Path) -> tuple[list[Cutout], list[str]]:
    """The cut-outs from Debian (``apt-get download`` once, kept in ``data/cache``), and warnings.
    Never raises: without the package the pack simply has no composite splits."""
    package = sources.TUXPAINT_PACKAGE
    if not fetch.have_apt():
        return [], [f"apt-get / dpkg-deb not found: no composites ({package} is a Debian package)."]
    try:
        debs, failed = fetch.fetch_debs((package,), data / "cache" / "debs")
        if package not in debs:
            return [], [f"Debian package {package} unavailable ({failed.get(package, 'not fetched')}); "
                        "the pack has no composite splits (objects_train, objects_test)."]
        root, version = fetch.unpack_deb(debs[package], data / "cache" / "unpacked" / package,
                                         (sources.TUXPAINT_DIR + "/", sources.TUXPAINT_COPYRIGHT))
        cutouts, _ = cutout_candidates(root, version)
    except Exception as error:
        return [], [f"Debian package {package} unreadable ({type(error).__name__}: {error}); no composites."]
    return cutouts, []


# ------------------------------------------------------------------ pasting


@dataclass
class Placement:
    rgba: np.ndarray  # the cut-out at its pasted size (and flip), uint8
    top: int
    left: int


def resized(rgba: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize with premultiplied alpha (Lanczos), so the transparent pixels' colors never bleed
    into the edge as a dark or colored halo."""
    image = Image.fromarray(rgba, "RGBA").convert("RGBa").resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(image.convert("RGBA"))


def place(cutout: np.ndarray, background_shape: tuple[int, int], draws: np.ndarray) -> Placement:
    """Size, flip and position from four uniform draws in [0, 1): a size in SIZE_RANGE of the
    background's shorter side (at most MAX_UPSCALE), a left-right flip half the time, and a
    position with the whole cut-out inside the photo."""
    H, W = background_shape
    h, w = cutout.shape[:2]
    fraction = SIZE_RANGE[0] + draws[0] * (SIZE_RANGE[1] - SIZE_RANGE[0])
    scale = min(fraction * min(H, W) / max(h, w), MAX_UPSCALE)
    nh, nw = min(H, max(1, round(h * scale))), min(W, max(1, round(w * scale)))
    rgba = resized(cutout, nw, nh)
    if draws[1] < 0.5:
        rgba = rgba[:, ::-1]
    top, left = int(draws[2] * (H - nh + 1)), int(draws[3] * (W - nw + 1))
    return Placement(np.ascontiguousarray(rgba), top, left)


def compose(background: np.ndarray, placements: list[Placement]) -> tuple[np.ndarray, np.ndarray]:
    """Paste the cut-outs in order, each over what is there (``a * cut-out + (1 - a) * below``
    with its own alpha ``a``); returns the uint8 RGB composite and the coverage mask (uint8, 0:
    only background, 255: only cut-outs). Where every alpha is 0 the background is unchanged,
    bit for bit; where the top cut-out's alpha is 255 the pixel is the cut-out's."""
    out = background.astype(np.float64)
    seen = np.ones(background.shape[:2])  # the background's share of each pixel
    for p in placements:
        h, w = p.rgba.shape[:2]
        a = p.rgba[..., 3:4].astype(np.float64) / 255
        region = out[p.top:p.top + h, p.left:p.left + w]
        region[:] = a * p.rgba[..., :3] + (1 - a) * region
        seen[p.top:p.top + h, p.left:p.left + w] *= 1 - a[..., 0]
    return np.clip(np.round(out), 0, 255).astype(np.uint8), np.round((1 - seen) * 255).astype(np.uint8)


def composite_rng(background_id: str, variant: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{SEED}:{background_id}:{variant}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def choose_cutouts(pool: list[Cutout], rng: np.random.Generator) -> list[Cutout]:
    """One to three cut-outs of one label: the first uniformly from the pool, the others from
    the first one's label (so the composite's label is that label)."""
    first = pool[int(rng.integers(len(pool)))]
    same = [c for c in pool if c.label == first.label and c.id != first.id]
    extra = int(rng.integers(0, MAX_CUTOUTS))  # 0, 1 or 2 more
    picks = rng.choice(len(same), size=min(extra, len(same)), replace=False) if same else []
    return [first] + [same[int(i)] for i in picks]


@dataclass
class Composite:
    id: str
    split: str
    background: dict  # the background photo's manifest row
    cutouts: list[Cutout]
    draws: np.ndarray  # len(cutouts) x 4 uniform draws: size, flip, top, left (see place)


def plan(background_rows: list[dict], cutouts: list[Cutout]) -> list[Composite]:
    """Which cut-outs go on which background: PER_BACKGROUND composites on each in-domain train
    photo (kept categories) and each in-domain test photo (held-out categories)."""
    planned = []
    for split, background_split in BACKGROUND_SPLIT.items():
        pool = [c for c in cutouts if c.held_out == (split == "objects_test")]
        if not pool:
            continue
        for row in sorted((r for r in background_rows if r["split"] == background_split and r["domain"] == "in"),
                          key=lambda r: r["id"]):
            for variant in range(PER_BACKGROUND):
                rng = composite_rng(row["id"], variant)
                chosen = choose_cutouts(pool, rng)
                planned.append(Composite(f"objects-{row['id']}-{variant}", split, row, chosen,
                                         rng.random((len(chosen), 4))))
    return planned


def render(item: Composite, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The composite's pixels and coverage mask on its background photo (uint8 RGB)."""
    return compose(background, [place(c.rgba, background.shape[:2], d) for c, d in zip(item.cutouts, item.draws)])


def png_bytes(gray: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def manifest_fields(item: Composite) -> dict:
    """What a composite's manifest row says beyond its file: source, version, the cut-outs' paths,
    both licenses and attributions, the label and the background photo."""
    bg = item.background
    first = item.cutouts[0]
    licenses = sorted({c.license for c in item.cutouts})
    return {"id": item.id, "split": item.split, "domain": "composite", "label": first.label,
            "source": "debian", "package": sources.TUXPAINT_PACKAGE, "version": first.version,
            "path_in_package": "; ".join(c.path_in_package for c in item.cutouts),
            "license": f"{' + '.join(licenses)} (cut-outs); {bg['license']} (background)",
            "attribution": f"cut-outs: {sources.TUXPAINT_ATTRIBUTION}; background {bg['id']} "
                           f"({bg['package']}): {bg['attribution']}",
            "background": bg["id"]}

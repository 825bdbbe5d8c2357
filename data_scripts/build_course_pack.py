"""Build the offline course pack: ~380 openly licensed real photographs, shorter side 256 px.

    .venv/bin/python data_scripts/build_course_pack.py --data data      (what `make data` runs)

Sources (see data_scripts/sources.py), in two domains:

* in-domain ("in", splits train / val / test): Debian packages fetched with ``apt-get download``
  (gcompris-qt-data, scratch, opencv-doc) plus the sample photos that ship with scikit-image,
  scikit-learn and matplotlib. The course's models are trained on its train split.
* out-of-domain ("shift", splits shift_val / shift_test): sources never used for training, the
  Debian packages lomiri-wallpapers-16.04/-20.04, mate-backgrounds, palapeli-data and kphotoalbum
  and the PyPI wheel mvtb-data (``pip download``). shift_val is for choosing settings (gains,
  temperatures, losses), shift_test only for reporting. A shift source that cannot be fetched is
  left out with a warning; the build never fails because of one.

Every candidate passes the hand-kept lists, then a measurable rule (size, saturation,
flat-color fraction, no alpha), then a perceptual-hash deduplication, and only then gets its fixed
split (by a hash of its id) so no near-duplicate spans train and test. The in-domain photos are
deduplicated and split exactly as if the shift sources did not exist; a shift photo that is a
near-duplicate (or a crop) of any in-domain photo is dropped, shift photos are deduplicated among
themselves, and the shift splits (by a hash of each photo's scene group, half and half, stratified
by source) never put near-duplicates or one scene on both sides.
Output: ``DATA/coursepack/manifest.csv`` and ``DATA/coursepack/images/<label>/*.jpg``.

Idempotent: a rerun over a complete pack only verifies checksums and prints the summary. Files are
written to a temporary name in the same folder and renamed, so an interrupted run never leaves a
half-written file, and the next run resumes from the images already written.
The pack is read back by colorcourse.coursepack (taught in notebooks/00_setup.ipynb).
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import io
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import sources  # noqa: E402  (the hand-kept lists beside this script)

PACK_FORMAT = 5  # bump when the rules change: a pack built with other rules is rebuilt
SHORT_SIDE = 256
MIN_SIDE = 200  # px, on the original photo
MIN_SATURATION = 0.08  # mean HSV saturation: below it an image is near-gray
# Share of pixels in the 32 most common colors (32 levels per channel): above it, a flat-color
# drawing. Measured on the candidates: synthetic flat drawings ~1.0, Scratch's drawn room 0.92,
# but photos of objects on a white table reach 0.91 while other Scratch drawings sit at 0.6-0.75
# among photos, so this rule only catches the flattest drawings; the hand-kept lists do the rest.
MAX_FLAT_FRACTION = 0.92
DHASH_MAX_DISTANCE = 6  # bits out of 64: at or below it two images are near-duplicates
SPLITS = (("train", 0.70), ("val", 0.15), ("test", 0.15))
SHIFT_SPLITS = ("shift_val", "shift_test")  # out-of-domain photos only, half and half
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
MANIFEST_COLUMNS = ["id", "split", "domain", "file", "label", "source", "package", "version",
                    "path_in_package", "license", "attribution", "width", "height", "sha256"]


# ------------------------------------------------------------------ measurable photo rules
@dataclass
class Candidate:
    """One image a source offers, with everything the manifest records about its origin."""

    id: str
    label: str
    source: str  # "debian" or "pypi"
    package: str
    version: str
    path_in_package: str
    license: str
    attribution: str
    read: Callable[[], bytes] = field(repr=False)
    domain: str = "in"  # "in": train / val / test; "shift": shift_val / shift_test only
    group: str = ""  # photos of one scene share a group and a shift split (default: the id)


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


def id_hash(image_id: str) -> float:
    """A stable pseudo-random number in [0, 1) from an image id (the same on every machine)."""
    return int.from_bytes(hashlib.sha256(image_id.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64


def assign_splits(labels: dict[str, str]) -> dict[str, str]:
    """{id: split}, stratified by label: within a label, ids ordered by their stable hash take
    train / val / test by position (70 / 15 / 15), so every label of 4+ photos is in every split
    and the split never changes between runs or machines for the same set of photos. Labels with
    fewer than 4 photos are pooled into one group, so even a tiny pack has all three splits."""
    sizes = Counter(labels.values())
    by_label: dict[str, list[str]] = {}
    for image_id, label in labels.items():
        by_label.setdefault(label if sizes[label] >= 4 else "\0pooled", []).append(image_id)
    splits = {}
    for ids in by_label.values():
        ids.sort(key=lambda i: (id_hash(i), i))
        for position, image_id in enumerate(ids):
            quantile, edge = (position + 0.5) / len(ids), 0.0
            for name, share in SPLITS:
                edge += share
                if quantile < edge:
                    break
            splits[image_id] = name
    return splits


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


def assign_shift_splits(groups: dict[str, str], strata: dict[str, str]) -> dict[str, str]:
    """{id: "shift_val" | "shift_test"} for out-of-domain photos, computed apart from the in-domain
    split. ``groups`` maps each id to its scene group (a group goes to one split), ``strata`` each
    id to its source. Within a source, groups ordered by their stable hash go one by one to the
    half with fewer photos so far (a tie by the group's hash), so each source is split about 50/50
    and, with 2+ groups, appears in both halves. Sources of one group are pooled."""
    members: dict[str, list[str]] = {}
    for image_id, group in groups.items():
        members.setdefault(group or image_id, []).append(image_id)
    group_stratum = {g: strata[ids[0]] for g, ids in members.items()}
    n_groups = Counter(group_stratum.values())
    by_stratum: dict[str, list[str]] = {}
    for g, stratum in group_stratum.items():
        by_stratum.setdefault(stratum if n_groups[stratum] >= 2 else "\0pooled", []).append(g)
    splits = {}
    for stratum_groups in by_stratum.values():
        stratum_groups.sort(key=lambda g: (id_hash(g), g))
        count = {name: 0 for name in SHIFT_SPLITS}
        for g in stratum_groups:
            if count["shift_val"] != count["shift_test"]:
                name = min(SHIFT_SPLITS, key=lambda s: count[s])
            else:
                name = SHIFT_SPLITS[0] if id_hash("tie:" + g) < 0.5 else SHIFT_SPLITS[1]
            count[name] += len(members[g])
            for image_id in members[g]:
                splits[image_id] = name
    return splits


def resize_short_side(image: Image.Image, short: int) -> Image.Image:
    """Resize so the shorter side is ``short`` px (Lanczos, antialiased)."""
    w, h = image.size
    scale = short / min(w, h)
    return image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def encode_jpeg(rgb: np.ndarray) -> bytes:
    """JPEG quality 95 with no chroma subsampling: the color detail the course is about survives."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95, subsampling=0)
    return buffer.getvalue()


# ------------------------------------------------------------------ Debian packages
def have_apt() -> bool:
    return shutil.which("apt-get") is not None and shutil.which("dpkg-deb") is not None


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def fetch_debs(packages: tuple[str, ...], cache: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """``apt-get download`` the packages not yet in ``cache`` (kept for reruns); returns
    ({package: .deb path}, {package: why it could not be fetched}). Downloads land in a
    temporary folder first, so a half-downloaded .deb never sits in the cache under its name.
    If apt has no package lists (a fresh machine) and we are root, ``apt-get update`` runs once."""
    cache.mkdir(parents=True, exist_ok=True)

    def present() -> dict[str, Path]:
        found = {}
        for pkg in packages:
            debs = sorted(cache.glob(f"{pkg}_*.deb"))
            if debs:
                found[pkg] = debs[-1]
        return found

    def apt_download(names: list[str]) -> subprocess.CompletedProcess:
        partial = cache / ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        result = subprocess.run(["apt-get", "download", *names], cwd=partial, capture_output=True, text=True)
        if result.returncode == 0:
            for deb in partial.glob("*.deb"):
                os.replace(deb, cache / deb.name)
        shutil.rmtree(partial, ignore_errors=True)
        return result

    missing = [p for p in packages if p not in present()]
    failed: dict[str, str] = {}
    if missing:
        print(f"apt-get download {' '.join(missing)}  (into {cache})")
        result = apt_download(missing)
        if result.returncode != 0 and is_root():
            print("apt-get download failed; running apt-get update once (as root) and retrying")
            subprocess.run(["apt-get", "update"], capture_output=True, text=True)
            result = apt_download(missing)
        if result.returncode != 0:  # one by one, to keep the packages that do download
            for pkg in missing:
                single = apt_download([pkg])
                if single.returncode != 0:
                    failed[pkg] = single.stderr.strip().splitlines()[-1] if single.stderr.strip() else "failed"
    found = present()
    for pkg in packages:
        if pkg not in found and pkg not in failed:
            failed[pkg] = "apt-get download produced no .deb"
    return found, failed


# What the builder reads from each package (the rest is never written to disk).
KEEP = {
    "gcompris-qt-data": (sources.GCOMPRIS_RCC_DIR + "/", sources.GCOMPRIS_COPYRIGHT),
    "scratch": (sources.SCRATCH_DIR + "/",),
    "opencv-doc": (sources.OPENCV_DIR + "/",),
    # out-of-domain sources: the photos' folders and the copyright file
    **{pkg: (f"{sources.LOMIRI_DIR}/", f"usr/share/doc/{pkg}/copyright") for pkg in sources.LOMIRI},
    "mate-backgrounds": (f"{sources.MATE_DIR}/nature/", "usr/share/doc/mate-backgrounds/copyright"),
    "palapeli-data": (f"{sources.PALAPELI_DIR}/", "usr/share/doc/palapeli-data/copyright"),
    "kphotoalbum": (f"{sources.KPHOTOALBUM_DIR}/", "usr/share/doc/kphotoalbum/copyright"),
}


def unpack_deb(deb: Path, dest: Path, keep: tuple[str, ...] = ()) -> tuple[Path, str]:
    """Unpack a .deb once (``dpkg-deb --fsys-tarfile``, only regular files under the ``keep``
    prefixes, all of it if empty), then a stamp file; returns (folder, package version)."""
    import tarfile

    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True,
                             capture_output=True, text=True).stdout.strip()
    stamp = dest / ".unpacked"
    wanted = f"{deb.name} {' '.join(keep)}"
    if stamp.is_file() and stamp.read_text() == wanted:
        return dest, version
    if dest.exists():
        shutil.rmtree(dest)
    tmp = dest.with_name(dest.name + ".partial")  # a half unpack never looks complete
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    process = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=process.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.isfile() and ".." not in Path(name).parts and (
                    not keep or any(name.startswith(k) for k in keep)):
                target = tmp / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    if process.wait() != 0:
        raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} failed")
    (tmp / ".unpacked").write_text(wanted)
    os.replace(tmp, dest)
    return dest, version


def parse_dep5(text: str) -> list[tuple[list[str], str, str]]:
    """Debian machine-readable copyright -> [(file patterns, license, attribution)] in file order."""
    stanzas, current, key = [], {}, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if "Files" in current:
                stanzas.append(current)
            current, key = {}, None
        elif line[0] in " \t" and key:
            current[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            current[key] = value.strip()
    result = []
    for s in stanzas:
        patterns = s["Files"].split()
        license_name = s.get("License", "").splitlines()[0].strip() if s.get("License") else ""
        who = " ".join(s.get("Copyright", "").split())
        where = s.get("Comment", "").strip().splitlines()[0] if s.get("Comment") else ""
        result.append((patterns, license_name, "; ".join(x for x in (who, where) if x)))
    return result


RASTER = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")


def license_for(path: str, stanzas: list[tuple[list[str], str, str]]) -> tuple[str, str]:
    """License and attribution of a source path; the last matching stanza wins (DEP-5). GCompris
    converts its sources to .webp when packaging, so raster extensions are compared without."""
    stem = os.path.splitext(path)[0]
    found = ("", "")
    for patterns, license_name, attribution in stanzas:
        for pattern in patterns:
            base, ext = os.path.splitext(pattern)
            hit = fnmatch.fnmatchcase(stem, base) if ext.lower() in RASTER else fnmatch.fnmatchcase(path, pattern)
            if hit:
                found = (license_name, CATCH_ALL if patterns == ["*"] else attribution)
    return found


CATCH_ALL = "no per-file entry: the package copyright's catch-all stanza (Files: *)"


def gcompris_candidates(root: Path, version: str) -> Iterator[Candidate]:
    from colorcourse.rcc import read_rcc

    stanzas = parse_dep5((root / sources.GCOMPRIS_COPYRIGHT).read_text(encoding="utf-8"))
    for rcc_name, folders in sources.GCOMPRIS.items():
        rcc_path = f"{sources.GCOMPRIS_RCC_DIR}/{rcc_name}.rcc"
        files = read_rcc(root / rcc_path)
        for inner, blob in sorted(files.items()):
            if not inner.lower().endswith(RASTER) or inner in sources.GCOMPRIS_EXCLUDE:
                continue
            label = next((lab for folder, lab in folders.items() if inner.startswith(folder)), None)
            if label is None:
                continue
            source_path = inner.removeprefix("gcompris/")
            source_path = sources.GCOMPRIS_COPYRIGHT_ALIASES.get(source_path, source_path)
            license_name, attribution = license_for(source_path, stanzas)
            stem = Path(inner).stem
            yield Candidate(
                id=f"gcompris-{rcc_name}-{Path(inner).parent.name}-{stem}".lower(),
                label=label, source="debian", package="gcompris-qt-data", version=version,
                path_in_package=f"/{rcc_path}:{inner}", license=license_name or "GPL-3.0+",
                attribution=attribution, read=lambda blob=blob: blob)


def scratch_candidates(root: Path, version: str) -> Iterator[Candidate]:
    base = root / sources.SCRATCH_DIR
    for folder, label in sources.SCRATCH_FOLDERS.items():
        for path in sorted((base / folder).glob("*.jpg")):
            rel = f"{folder}/{path.name}"
            if rel in sources.SCRATCH_EXCLUDE:
                continue
            yield Candidate(
                id=f"scratch-{folder}-{path.stem}".lower(), label=label, source="debian",
                package="scratch", version=version, path_in_package=f"/{sources.SCRATCH_DIR}/{rel}",
                license=sources.SCRATCH_LICENSE, attribution=sources.SCRATCH_ATTRIBUTION,
                read=path.read_bytes)


def opencv_candidates(root: Path, version: str) -> Iterator[Candidate]:
    base = root / sources.OPENCV_DIR
    for name, label in sorted(sources.OPENCV.items()):
        path = base / name
        if not path.is_file():  # Debian's dfsg repack leaves some samples out
            continue
        yield Candidate(
            id=f"opencv-{Path(name).stem}".lower(), label=label, source="debian", package="opencv-doc",
            version=version, path_in_package=f"/{sources.OPENCV_DIR}/{name}",
            license=sources.OPENCV_LICENSE, attribution=sources.OPENCV_ATTRIBUTION, read=path.read_bytes)


def pypi_candidates() -> Iterator[Candidate]:
    from importlib import metadata, util

    for image_id, dist, inner, label, license_name, attribution in sources.PYPI:
        top = inner.split("/")[0]
        spec = util.find_spec(top)
        if spec is None or spec.origin is None:
            continue
        path = Path(spec.origin).parent.parent / inner
        if not path.is_file():
            continue
        yield Candidate(
            id=f"pypi-{image_id}", label=label, source="pypi", package=dist,
            version=metadata.version(dist), path_in_package=inner, license=license_name,
            attribution=attribution, read=path.read_bytes)


# ------------------------------------------------------------------ out-of-domain sources
def lomiri_candidates(package: str) -> Callable[[Path, str], Iterator[Candidate]]:
    """A reader for one lomiri-wallpapers package (the copyright file names files by folder)."""
    folder, photos = sources.LOMIRI[package]

    def read(root: Path, version: str) -> Iterator[Candidate]:
        stanzas = parse_dep5((root / f"usr/share/doc/{package}/copyright").read_text(encoding="utf-8"))
        for name, label in sorted(photos.items()):
            path = root / sources.LOMIRI_DIR / name
            if not path.is_file():
                continue
            license_name, attribution = license_for(f"{folder}/{name}", stanzas)
            yield Candidate(
                id=f"lomiri-{Path(name).stem}".lower(), label=label, source="debian", package=package,
                version=version, path_in_package=f"/{sources.LOMIRI_DIR}/{name}",
                license=license_name or "unknown", attribution=attribution, read=path.read_bytes,
                domain="shift")
    return read


def mate_candidates(root: Path, version: str) -> Iterator[Candidate]:
    stanzas = parse_dep5((root / "usr/share/doc/mate-backgrounds/copyright").read_text(encoding="utf-8"))
    for rel, label in sorted(sources.MATE.items()):
        path = root / sources.MATE_DIR / rel
        if not path.is_file():
            continue
        license_name, attribution = license_for(rel, stanzas)
        yield Candidate(
            id=f"mate-{rel.replace('/', '-').rsplit('.', 1)[0]}".lower(), label=label, source="debian",
            package="mate-backgrounds", version=version, path_in_package=f"/{sources.MATE_DIR}/{rel}",
            license=license_name or "unknown", attribution=attribution, read=path.read_bytes,
            domain="shift")


def read_desktop_entry(path: Path) -> dict[str, str]:
    """key=value lines of a freedesktop .desktop file (localized keys and sections ignored)."""
    entry = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and "[" not in key:
            entry.setdefault(key.strip(), value.strip())
    return entry


PALAPELI_LICENSES = {"public domain": "public-domain", "fdl": "GFDL", "gnu-fdl": "GFDL"}


def palapeli_candidates(root: Path, version: str) -> Iterator[Candidate]:
    """The puzzle photos; each puzzle's .desktop file names the photo's author, page and license."""
    base = root / sources.PALAPELI_DIR
    entries = {}
    for desktop in sorted(base.glob("*.desktop")):
        entry = read_desktop_entry(desktop)
        entries[entry.get("Image", desktop.stem + ".jpg")] = entry
    for name, label in sorted(sources.PALAPELI.items()):
        path = base / name
        if not path.is_file():
            continue
        entry = entries.get(name, {})
        license_raw = entry.get("X-KDE-PluginInfo-License", "")
        license_name = PALAPELI_LICENSES.get(license_raw.lower(), license_raw) or "GPL-2+"
        attribution = "; ".join(x for x in (entry.get("X-KDE-PluginInfo-Author", ""),
                                            entry.get("X-KDE-PluginInfo-Website", "")) if x)
        attribution = f"{attribution} (per the puzzle's .desktop file)" if license_raw else CATCH_ALL
        yield Candidate(
            id=f"palapeli-{Path(name).stem}".lower(), label=label, source="debian",
            package="palapeli-data", version=version, path_in_package=f"/{sources.PALAPELI_DIR}/{name}",
            license=license_name, attribution=attribution,
            read=path.read_bytes, domain="shift")


def kphotoalbum_angles(index_xml: Path) -> dict[str, int]:
    """{file: clockwise rotation in degrees} from the demo album's index.xml."""
    import xml.etree.ElementTree as ET

    if not index_xml.is_file():
        return {}
    return {im.get("file"): int(im.get("angle") or 0) for im in ET.parse(index_xml).getroot().iter("image")}


def rotated_png(path: Path, clockwise: int) -> bytes:
    """The photo turned ``clockwise`` degrees, losslessly as PNG."""
    with Image.open(path) as image:
        turned = image.convert("RGB").rotate(-clockwise, expand=True)
    buffer = io.BytesIO()
    turned.save(buffer, format="PNG")
    return buffer.getvalue()


def kphotoalbum_candidates(root: Path, version: str) -> Iterator[Candidate]:
    base = root / sources.KPHOTOALBUM_DIR
    angles = kphotoalbum_angles(base / "index.xml")
    for name, (label, group) in sorted(sources.KPHOTOALBUM.items()):
        path = base / name
        if not path.is_file():
            continue
        angle = angles.get(name, 0) % 360
        read = path.read_bytes if angle == 0 else (lambda p=path, a=angle: rotated_png(p, a))
        yield Candidate(
            id=f"kphotoalbum-{Path(name).stem}".lower(), label=label, source="debian",
            package="kphotoalbum", version=version, path_in_package=f"/{sources.KPHOTOALBUM_DIR}/{name}",
            license=sources.KPHOTOALBUM_LICENSE,
            attribution=sources.KPHOTOALBUM_ATTRIBUTION + (f"; turned {angle} degrees as the album's "
                                                           "index.xml says" if angle else ""),
            read=read, domain="shift", group=group)


def fetch_wheel(dist: str, version: str, cache: Path) -> Path:
    """``pip download --no-deps dist==version`` into ``cache`` once (kept for reruns); the wheel's
    path. The download lands in a temporary folder first, so a half-downloaded wheel never sits
    in the cache under its name. Raises RuntimeError when pip cannot get it."""
    cache.mkdir(parents=True, exist_ok=True)
    pattern = f"{dist.replace('-', '_')}-{version}-*.whl"
    found = sorted(cache.glob(pattern))
    if found:
        return found[-1]
    partial = cache / ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    print(f"pip download --no-deps {dist}=={version}  (into {cache})")
    try:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                                 "--disable-pip-version-check", "--timeout", "30", "--retries", "1",
                                 f"{dist}=={version}", "-d", str(partial)],
                                capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        shutil.rmtree(partial, ignore_errors=True)
        raise RuntimeError("pip download timed out") from None
    wheels = sorted(partial.glob(pattern))
    if result.returncode != 0 or not wheels:
        shutil.rmtree(partial, ignore_errors=True)
        lines = [x for x in (result.stderr or result.stdout).strip().splitlines() if x.startswith("ERROR")]
        raise RuntimeError(lines[-1] if lines else "pip download produced no wheel")
    os.replace(wheels[0], cache / wheels[0].name)
    shutil.rmtree(partial, ignore_errors=True)
    return cache / wheels[0].name


def mvtb_candidates(wheel: Path) -> Iterator[Candidate]:
    """The hand-listed photos of the mvtb-data wheel, read from the wheel (a zip) itself."""
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        version = next((line.split(":", 1)[1].strip() for line in archive.read(metadata).decode(
            "utf-8", "replace").splitlines() if line.startswith("Version:")), "") if metadata else ""
    version = version or wheel.name.split("-")[1]

    def reader(inner: str) -> Callable[[], bytes]:
        def read() -> bytes:
            with zipfile.ZipFile(wheel) as archive:
                return archive.read(inner)
        return read

    for rel, (label, group) in sorted(sources.MVTB.items()):
        inner = f"{sources.MVTB_DIR}/{rel}"
        if inner not in names:
            continue
        yield Candidate(
            id=f"mvtb-{rel.replace('/', '-').rsplit('.', 1)[0]}".lower(), label=label, source="pypi",
            package=sources.MVTB_DIST, version=version, path_in_package=inner,
            license=sources.MVTB_LICENSE, attribution=sources.MVTB_ATTRIBUTION, read=reader(inner),
            domain="shift", group=group)


SHIFT_READERS: dict[str, Callable[[Path, str], Iterator[Candidate]]] = {
    **{pkg: lomiri_candidates(pkg) for pkg in sources.LOMIRI},
    "mate-backgrounds": mate_candidates,
    "palapeli-data": palapeli_candidates,
    "kphotoalbum": kphotoalbum_candidates,
}


def shift_candidates(data: Path, use_debian: bool = True) -> tuple[list[Candidate], list[str]]:
    """The out-of-domain candidates, and warnings. Never raises: a source that cannot be fetched,
    unpacked or read is left out with a warning (the in-domain pack does not depend on it)."""
    found: list[Candidate] = []
    warnings: list[str] = []
    try:
        wheel = fetch_wheel(sources.MVTB_DIST, sources.MVTB_VERSION, data / "cache" / "pypi")
        found.extend(mvtb_candidates(wheel))
    except Exception as error:  # no network, no pip, a broken wheel: only this source is lost
        warnings.append(f"out-of-domain source {sources.MVTB_DIST}=={sources.MVTB_VERSION} unavailable "
                        f"({type(error).__name__}: {error}); its photos are left out of shift_val/shift_test.")
    if not use_debian:
        return found, warnings
    if not have_apt():
        warnings.append("apt-get / dpkg-deb not found: the out-of-domain Debian sources "
                        f"({', '.join(sources.SHIFT_DEBIAN_PACKAGES)}) are left out.")
        return found, warnings
    try:
        debs, failed = fetch_debs(sources.SHIFT_DEBIAN_PACKAGES, data / "cache" / "debs")
    except Exception as error:
        debs, failed = {}, {pkg: f"{type(error).__name__}: {error}" for pkg in sources.SHIFT_DEBIAN_PACKAGES}
    for pkg, why in failed.items():
        warnings.append(f"out-of-domain Debian package {pkg} unavailable ({why}); its photos are left out.")
    for pkg, deb in debs.items():
        try:
            root, version = unpack_deb(deb, data / "cache" / "unpacked" / pkg, KEEP[pkg])
            found.extend(SHIFT_READERS[pkg](root, version))
        except Exception as error:
            warnings.append(f"out-of-domain Debian package {pkg} unreadable ({type(error).__name__}: "
                            f"{error}); its photos are left out.")
    return found, warnings


def all_candidates(data: Path, use_debian: bool = True, use_shift: bool = True
                   ) -> tuple[list[Candidate], list[str]]:
    """Every candidate photo, in-domain then out-of-domain, and warnings (sources unavailable)."""
    found, warnings = in_domain_candidates(data, use_debian)
    if use_shift:
        shift, shift_warnings = shift_candidates(data, use_debian)
        found += shift
        warnings += shift_warnings
    return found, warnings


def in_domain_candidates(data: Path, use_debian: bool = True) -> tuple[list[Candidate], list[str]]:
    """Every in-domain candidate photo, and warnings (e.g. Debian sources unavailable)."""
    warnings: list[str] = []
    found: list[Candidate] = list(pypi_candidates())
    if not use_debian:
        return found, warnings
    if not have_apt():
        warnings.append("apt-get / dpkg-deb not found (not a Debian-like system): the pack holds only "
                        "the few sample photos of scikit-image, scikit-learn and matplotlib.")
        return found, warnings
    try:
        debs, failed = fetch_debs(sources.DEBIAN_PACKAGES, data / "cache" / "debs")
    except OSError as error:
        debs, failed = {}, {pkg: str(error) for pkg in sources.DEBIAN_PACKAGES}
    for pkg, why in failed.items():
        warnings.append(f"Debian package {pkg} unavailable ({why}); its photos are left out.")
    if not debs:
        warnings.append("No Debian package could be fetched: the pack holds only the few PyPI "
                        "sample photos (about 8), too few for the lessons' full runs.")
    readers = {"gcompris-qt-data": gcompris_candidates, "scratch": scratch_candidates,
               "opencv-doc": opencv_candidates}
    for pkg, deb in debs.items():
        root, version = unpack_deb(deb, data / "cache" / "unpacked" / pkg, KEEP[pkg])
        found.extend(readers[pkg](root, version))
    return found, warnings


# ------------------------------------------------------------------ the build
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
    from tqdm.auto import tqdm

    accepted, rejected = [], []
    for cand in tqdm(candidates, desc="screening candidates", disable=not progress):
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


def manifest_row(cand: Candidate, split: str, file: str, width: int, height: int, digest: str) -> dict:
    return {"id": cand.id, "split": split, "domain": cand.domain, "file": file, "label": cand.label, "source": cand.source,
            "package": cand.package, "version": cand.version, "path_in_package": cand.path_in_package,
            "license": cand.license, "attribution": cand.attribution, "width": width,
            "height": height, "sha256": digest}


def write_manifest(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: r["id"]))
    write_atomic(path, buffer.getvalue().encode("utf-8"))


def read_manifest(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def verify_pack(pack: Path) -> list[str]:
    """Problems with a written pack (missing or changed files, wrong format); empty when complete."""
    manifest = pack / "manifest.csv"
    stamp = pack / "FORMAT"
    if not manifest.is_file():
        return ["no manifest.csv"]
    if not stamp.is_file() or stamp.read_text().strip() != str(PACK_FORMAT):
        return [f"built with other rules (FORMAT is not {PACK_FORMAT})"]
    problems = []
    for row in read_manifest(manifest):
        path = pack / row["file"]
        if not path.is_file():
            problems.append(f"missing {row['file']}")
        elif sha256_file(path) != row["sha256"]:
            problems.append(f"checksum differs: {row['file']}")
    return problems


def summarize(rows: list[dict], rejected: list[tuple[str, str]] | None = None,
              duplicates: dict[str, str] | None = None,
              shift_dropped: dict[str, str] | None = None) -> str:
    """Counts per split, source, package and label, and what was filtered out and why."""
    lines = [f"course pack: {len(rows)} photos"]
    for key in ("split", "domain", "source", "package", "label"):
        counts = Counter(r.get(key, "in") for r in rows)
        lines.append(f"  per {key}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    table = Counter((r["label"], r["split"]) for r in rows)
    lines.append("  label x split (train/val/test): " + ", ".join(
        f"{lab} {table[lab, 'train']}/{table[lab, 'val']}/{table[lab, 'test']}"
        for lab in sorted({r['label'] for r in rows if r['split'] not in SHIFT_SPLITS})))
    shift_rows = [r for r in rows if r["split"] in SHIFT_SPLITS]
    if shift_rows:
        by_package = Counter((r["package"], r["split"]) for r in shift_rows)
        lines.append("  out-of-domain package x split (shift_val/shift_test): " + ", ".join(
            f"{pkg} {by_package[pkg, 'shift_val']}/{by_package[pkg, 'shift_test']}"
            for pkg in sorted({r['package'] for r in shift_rows})))
        by_label = Counter((r["label"], r["split"]) for r in shift_rows)
        lines.append("  out-of-domain label x split (shift_val/shift_test): " + ", ".join(
            f"{lab} {by_label[lab, 'shift_val']}/{by_label[lab, 'shift_test']}"
            for lab in sorted({r['label'] for r in shift_rows})))
    if rejected is not None:
        reasons = Counter(why for _, why in rejected)
        lines.append(f"  filtered out: {len(rejected)} (" + "; ".join(f"{why}: {n}" for why, n in reasons.most_common()) + ")")
    if duplicates is not None:
        lines.append(f"  near-duplicates dropped: {len(duplicates)} (" + ", ".join(
            f"{a} ~ {b}" for a, b in sorted(duplicates.items())) + ")")
    if shift_dropped is not None:
        lines.append(f"  out-of-domain photos dropped as duplicates: {len(shift_dropped)}" + "".join(
            f"\n    {a}: {why}" for a, why in sorted(shift_dropped.items())))
    return "\n".join(lines)


def build(data: Path, candidates: list[Candidate] | None = None, force: bool = False,
          progress: bool = True, warnings: list[str] | None = None) -> list[dict]:
    """Build (or verify) ``data/coursepack``; returns the manifest rows. ``candidates`` replaces
    the real sources (tests use a fake source of a few images)."""
    pack = data / "coursepack"
    if not force and not verify_pack(pack):
        rows = read_manifest(pack / "manifest.csv")
        print("course pack complete and verified (sha256 of every file); nothing to do.")
        print(summarize(rows))
        return rows
    warnings = list(warnings or [])
    if candidates is None:
        candidates, found_warnings = all_candidates(data)
        warnings += found_warnings
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    ids = Counter(c.id for c in candidates)
    clashes = [i for i, n in ids.items() if n > 1]
    if clashes:
        raise ValueError(f"candidate ids are not unique: {clashes[:5]}")

    unknown = {c.domain for c in candidates} - {"in", "shift"}
    if unknown:
        raise ValueError(f"candidate domain must be 'in' or 'shift', got {sorted(unknown)}")

    accepted, rejected = screen(candidates, progress=progress)
    # In-domain: deduplicated and split exactly as if the shift sources did not exist.
    in_domain = [a for a in accepted if a.candidate.domain == "in"]
    duplicates = deduplicate({a.candidate.id: a.hash for a in in_domain},
                             priority={a.candidate.id: a.rgb.shape[0] * a.rgb.shape[1] for a in in_domain})
    kept = [a for a in in_domain if a.candidate.id not in duplicates]
    splits = assign_splits({a.candidate.id: a.candidate.label for a in kept})

    # Out-of-domain: never near any in-domain photo (kept or not), no near-duplicates among
    # themselves, then half and half by scene group, stratified by source.
    shift = [a for a in accepted if a.candidate.domain == "shift"]
    shift_dropped = deduplicate_shift(
        {a.candidate.id: signature(a.rgb) for a in shift},
        {a.candidate.id: signature(a.rgb) for a in in_domain},
        priority={a.candidate.id: a.pixels for a in shift}) if shift else {}
    shift_kept = [a for a in shift if a.candidate.id not in shift_dropped]
    splits.update(assign_shift_splits(
        {a.candidate.id: a.candidate.group or a.candidate.id for a in shift_kept},
        {a.candidate.id: sources.SHIFT_SOURCE.get(a.candidate.package, a.candidate.package)
         for a in shift_kept}))
    kept += shift_kept

    from tqdm.auto import tqdm

    rows = []
    for item in tqdm(kept, desc="writing photos", disable=not progress):
        cand = item.candidate
        file = f"images/{cand.label}/{cand.id}.jpg"
        path = pack / file
        if not path.is_file() or force:  # resume: files already there were written whole
            small = resize_short_side(Image.fromarray(item.rgb), SHORT_SIDE)
            write_atomic(path, encode_jpeg(np.asarray(small)))
        with Image.open(path) as written:
            width, height = written.size
        rows.append(manifest_row(cand, splits[cand.id], file, width, height, sha256_file(path)))
    # photos from an earlier build that no longer qualify
    wanted = {pack / r["file"] for r in rows}
    for old in (pack / "images").rglob("*.jpg") if (pack / "images").is_dir() else []:
        if old not in wanted:
            old.unlink()
    write_manifest(pack / "manifest.csv", rows)
    write_atomic(pack / "FORMAT", f"{PACK_FORMAT}\n".encode())
    print(summarize(rows, rejected, duplicates, shift_dropped if shift else None))
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    return rows


def contact_sheet(pack: Path, out: Path, columns: int = 20, thumb: int = 96,
                  splits: tuple[str, ...] | None = None) -> Path:
    """A PNG grid of every photo in the pack (or of the given splits), by label, to check by eye
    that no drawing got in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted((r for r in read_manifest(pack / "manifest.csv") if not splits or r["split"] in splits),
                  key=lambda r: (r["label"], r["id"]))
    if not rows:
        raise ValueError(f"no photos in the pack's splits {splits}")
    n_rows = -(-len(rows) // columns)
    fig, axes = plt.subplots(n_rows, columns, figsize=(columns * 1.2, n_rows * 1.0), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, row in zip(axes.ravel(), rows):
        with Image.open(pack / row["file"]) as image:
            image.thumbnail((thumb, thumb))
            ax.imshow(np.asarray(image))
        ax.set_title(f"{row['label']} {row['split']}\n{row['id'][-22:]}", fontsize=4)
    fig.tight_layout(pad=0.2)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = Path(os.environ.get("COLORCOURSE_DATA", "data"))
    parser.add_argument("--data", type=Path, default=default_data,
                        help="data folder (default: $COLORCOURSE_DATA or data)")
    parser.add_argument("--force", action="store_true", help="rebuild every photo")
    parser.add_argument("--no-debian", action="store_true",
                        help="no Debian packages: only the PyPI photos (and mvtb-data's, unless --no-shift)")
    parser.add_argument("--no-shift", action="store_true",
                        help="leave the out-of-domain sources out (no shift_val / shift_test splits)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--contact-sheet", type=Path, metavar="PNG",
                        help="also draw every photo of the pack into this PNG grid")
    parser.add_argument("--contact-sheet-splits", metavar="SPLIT,...",
                        help="only these splits on the contact sheet (e.g. shift_val,shift_test)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    candidates = warnings = None
    if args.no_debian or args.no_shift:
        candidates, warnings = all_candidates(args.data, use_debian=not args.no_debian,
                                              use_shift=not args.no_shift)
        if args.no_debian:
            warnings.append("--no-debian: the pack holds only the few PyPI sample photos.")
        if args.no_shift:
            warnings.append("--no-shift: the pack has no out-of-domain photos (shift_val, shift_test).")
    build(args.data, candidates=candidates, force=args.force, progress=not args.quiet, warnings=warnings)
    print(f"done in {time.perf_counter() - start:.1f} s -> {args.data / 'coursepack'}")
    if args.contact_sheet:
        splits = tuple(s for s in (args.contact_sheet_splits or "").split(",") if s) or None
        print(f"contact sheet: {contact_sheet(args.data / 'coursepack', args.contact_sheet, splits=splits)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

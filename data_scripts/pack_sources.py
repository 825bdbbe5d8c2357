"""Reading the candidate photos out of each source (what the manifest records about each one's
origin: package, version, path inside the package, license, attribution, label).

Part of data_scripts/build_course_pack.py. The hand-kept lists (which folders, which files, which
label) are in sources.py; the fetching in pack_fetch.py. A source that cannot be had is left out
with a warning (``in_domain_candidates``, ``shift_candidates``), never an error.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import pack_fetch as fetch  # noqa: E402  (beside this script; called as fetch.x so tests can replace them)
import sources  # noqa: E402  (the hand-kept lists beside this script)
from pack_fetch import CATCH_ALL, RASTER, license_for, parse_dep5  # noqa: E402


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
        wheel = fetch.fetch_wheel(sources.MVTB_DIST, sources.MVTB_VERSION, data / "cache" / "pypi")
        found.extend(mvtb_candidates(wheel))
    except Exception as error:  # no network, no pip, a broken wheel: only this source is lost
        warnings.append(f"out-of-domain source {sources.MVTB_DIST}=={sources.MVTB_VERSION} unavailable "
                        f"({type(error).__name__}: {error}); its photos are left out of shift_val/shift_test.")
    if not use_debian:
        return found, warnings
    if not fetch.have_apt():
        warnings.append("apt-get / dpkg-deb not found: the out-of-domain Debian sources "
                        f"({', '.join(sources.SHIFT_DEBIAN_PACKAGES)}) are left out.")
        return found, warnings
    try:
        debs, failed = fetch.fetch_debs(sources.SHIFT_DEBIAN_PACKAGES, data / "cache" / "debs")
    except Exception as error:
        debs, failed = {}, {pkg: f"{type(error).__name__}: {error}" for pkg in sources.SHIFT_DEBIAN_PACKAGES}
    for pkg, why in failed.items():
        warnings.append(f"out-of-domain Debian package {pkg} unavailable ({why}); its photos are left out.")
    for pkg, deb in debs.items():
        try:
            root, version = fetch.unpack_deb(deb, data / "cache" / "unpacked" / pkg, KEEP[pkg])
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
    if not fetch.have_apt():
        warnings.append("apt-get / dpkg-deb not found (not a Debian-like system): the pack holds only "
                        "the few sample photos of scikit-image, scikit-learn and matplotlib.")
        return found, warnings
    try:
        debs, failed = fetch.fetch_debs(sources.DEBIAN_PACKAGES, data / "cache" / "debs")
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
        root, version = fetch.unpack_deb(deb, data / "cache" / "unpacked" / pkg, KEEP[pkg])
        found.extend(readers[pkg](root, version))
    return found, warnings

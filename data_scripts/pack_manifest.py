"""The pack on disk: the manifest (one row per photo, with its origin and checksum), atomic
writes, verification of a written pack and the printed summary.

Part of data_scripts/build_course_pack.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from pack_sources import Candidate
from pack_splits import SHIFT_SPLITS

PACK_FORMAT = 6  # bump when the rules change: a pack built with other rules is rebuilt
# background, mask: composites only (pack_composites.py): the background photo's id and the
# coverage mask's file; empty for real photos.
MANIFEST_COLUMNS = ["id", "split", "domain", "file", "label", "source", "package", "version",
                    "path_in_package", "license", "attribution", "width", "height", "sha256",
                    "background", "mask"]


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


def manifest_row(cand: Candidate, split: str, file: str, width: int, height: int, digest: str) -> dict:
    return {"id": cand.id, "split": split, "domain": cand.domain, "file": file, "label": cand.label, "source": cand.source,
            "package": cand.package, "version": cand.version, "path_in_package": cand.path_in_package,
            "license": cand.license, "attribution": cand.attribution, "width": width,
            "height": height, "sha256": digest, "background": "", "mask": ""}


def reuse_or_write(path: Path, earlier: Path | None, make: Callable[[], bytes]) -> None:
    """Give ``path`` its content: kept if already there (an interrupted build's file, written
    whole), else a hard link to ``earlier`` (the same file in the pack being replaced: no copy,
    no rewrite), else ``make()`` written atomically."""
    if path.is_file():
        return
    if earlier is not None and earlier.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(earlier, path)
            return
        except OSError:  # another file system, or no hard links: write it again
            pass
    write_atomic(path, make())


def publish(staging: Path, pack: Path) -> None:
    """Put the finished ``staging`` folder in ``pack``'s place in one step, so a reader sees the
    old pack or the new one, never a mix: an atomic exchange of the two names (Linux
    renameat2), else two renames a moment apart (the old pack stays whole until then)."""
    if pack.exists() and _exchange(staging, pack):
        shutil.rmtree(staging)  # now the old pack
        return
    old = pack.with_name(f".{pack.name}.old.{os.getpid()}")
    if pack.exists():
        os.replace(pack, old)
    os.replace(staging, pack)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (renameat2 with RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


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
        if row.get("mask") and not (pack / row["mask"]).is_file():
            problems.append(f"missing {row['mask']}")
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
        for lab in sorted({r['label'] for r in rows if r.get('domain', 'in') == 'in'})))
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
    composite_rows = [r for r in rows if r.get("domain") == "composite"]
    if composite_rows:
        by_label = Counter((r["label"], r["split"]) for r in composite_rows)
        lines.append("  composites label x split (objects_train/objects_test): " + ", ".join(
            f"{lab} {by_label[lab, 'objects_train']}/{by_label[lab, 'objects_test']}"
            for lab in sorted({r['label'] for r in composite_rows})))
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

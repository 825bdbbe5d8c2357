"""The pack on disk: the manifest (one row per photo, with its origin and checksum), atomic
writes, verification of a written pack and the printed summary.

Part of data_scripts/build_course_pack.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from pack_sources import Candidate
from pack_splits import SHIFT_SPLITS

PACK_FORMAT = 5  # bump when the rules change: a pack built with other rules is rebuilt
MANIFEST_COLUMNS = ["id", "split", "domain", "file", "label", "source", "package", "version",
                    "path_in_package", "license", "attribution", "width", "height", "sha256"]


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

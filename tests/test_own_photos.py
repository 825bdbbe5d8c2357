"""Training on one's own folder of photos (`--photos`): a fixed split, both training commands."""

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorcourse.checkpoint import read_header
from colorcourse.coursepack import Photo
from colorcourse.datasets.folder import split_own_photos


def _photos(n):
    rng = np.random.default_rng(0)
    return [Photo(f"p{i}", "", rng.random((20, 30, 3)).astype(np.float32), None) for i in range(n)]


def test_split_is_fixed_by_name_and_adding_photos_moves_none():
    train, val = split_own_photos(_photos(30), short_side=None)
    assert len(val) == 3 and len(train) == 27
    assert {p.name for p in train}.isdisjoint({p.name for p in val})
    train2, val2 = split_own_photos(_photos(40), short_side=None)
    moved = {p.name for p in train} & {p.name for p in val2}
    # a photo already in training stays there unless the 10 % quota grew past it
    assert len(moved) <= len(val2) - len(val)
    assert split_own_photos(_photos(30), short_side=None)[1][0].name == val[0].name  # deterministic


def test_split_resizes_and_needs_two_photos():
    train, val = split_own_photos(_photos(2), short_side=64)
    assert len(train) == len(val) == 1 and min(val[0].rgb.shape[:2]) == 64
    with pytest.raises(ValueError, match="at least 2 photos"):
        split_own_photos(_photos(1))


@pytest.fixture(scope="module")
def own_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    (folder / "cats").mkdir(), (folder / "space").mkdir()
    for sub, name, image in [("cats", "chelsea.jpg", data.chelsea()), ("cats", "cat.png", data.cat()),
                             ("space", "astronaut.jpg", data.astronaut()), ("space", "rocket.jpg", data.rocket()),
                             (".", "coffee.jpg", data.coffee())]:
        Image.fromarray(image).save(folder / sub / name)
    return folder


def test_fusion_trains_on_own_folder_with_its_subfolders_as_classes(own_folder, tmp_path):
    from colorcourse.fusion import train

    out = tmp_path / "mine.safetensors"
    train.main(["--photos", str(own_folder), "--steps", "2", "--width", "0.125", "--crop", "64",
                "--batch-size", "2", "--val-every", "1", "--threads", "1", "--out", str(out)])
    config = json.loads(read_header(out)["config"])
    assert config["classes"] == "cats,space" and config["n_classes"] == 2


def test_cheng_trains_on_own_folder_and_scores_the_held_out_photos(own_folder, tmp_path):
    from colorcourse.cheng import train

    out = tmp_path / "cheng"
    assert train.main(["--photos", str(own_folder), "--out", str(out), "--epochs", "1",
                       "--per-image", "200", "--n-top", "1", "--quiet"]) == 0
    info = json.loads((out / "cheng_results.json").read_text())
    assert info["train_photos"] == 4 and info["photos_folder"] == str(own_folder)
    assert info["summary"][0]["photos"] == 1  # the one held-out photo
    assert "Held-out photos of" in (out / "cheng_results.md").read_text()

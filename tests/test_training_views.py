"""The training crops of the pretrained decoder: seeded, and rescaled only when asked."""

from types import SimpleNamespace

import numpy as np
import torch
from skimage import data

from colorcourse.color import rgb_to_gray
from colorcourse.fusion.train_pretrained import random_views, training_splits


def _photo(rgb, name="p"):
    return SimpleNamespace(name=name, rgb=rgb)


def test_views_without_rescaling_are_crops_of_the_photo_itself():
    rgb = (data.astronaut()[::2, ::2] / 255.0).astype(np.float32)  # 256 x 256
    gray, ab = random_views([_photo(rgb)], views=3, crop=224, seed=0)
    whole = rgb_to_gray(rgb).astype(np.float32)
    for view in gray[:, 0].numpy():
        found = False
        for flip in (view, view[:, ::-1]):
            for y in range(0, 256 - 224 + 1):
                for x in range(0, 256 - 224 + 1):
                    if np.abs(whole[y, x] - flip[0, 0]) < 1e-6 and np.allclose(whole[y:y + 224, x:x + 224], flip, atol=1e-5):
                        found = True
                        break
                if found:
                    break
        assert found, "a view is not a crop of the photo"
    assert ab.shape == (3, 2, 56, 56)


def test_the_same_seed_gives_the_same_views_and_scale_changes_them():
    rgb = (data.chelsea()[:256, :256] / 255.0).astype(np.float32)
    a, _ = random_views([_photo(rgb)], views=4, crop=128, seed=3)
    b, _ = random_views([_photo(rgb)], views=4, crop=128, seed=3)
    assert torch.equal(a, b)
    c, _ = random_views([_photo(rgb)], views=4, crop=128, seed=3, scale_range=(2.0, 2.0))
    assert not torch.allclose(a, c)


def test_doubling_the_scale_shows_a_quarter_of_the_area_at_twice_the_size():
    # a photo of one vertical step edge: after x2 rescaling the edge's ramp is twice as wide
    rgb = np.zeros((128, 128, 3), np.float32)
    rgb[:, 64:] = 1.0
    rgb[:, 63] = 0.5
    views, _ = random_views([_photo(rgb)], views=8, crop=64, seed=1, scale_range=(2.0, 2.0))
    for view in views[:, 0].numpy():
        row = view[32]
        ramp = np.count_nonzero((row > 0.05) & (row < 0.95))
        assert ramp in (0, 2, 3, 4), ramp  # a 1-px ramp scaled by 2 (or the edge outside the crop)


def test_only_training_splits_can_be_added():
    assert training_splits("objects_train") == ("objects_train",)
    assert training_splits("objects_train, ") == ("objects_train",)

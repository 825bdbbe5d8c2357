"""The README gallery: varied, reproducible photo choice; one panel per method and photo."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
from skimage import data

from colorcourse.coursepack import Photo
from colorcourse.gallery import gallery_figure, pick_photos
from colorcourse.metrics import gray_baseline


def _photo(name, label, rgb=None):
    return Photo(name=name, label=label, rgb=rgb if rgb is not None else np.zeros((4, 4, 3), np.float32), path=None)


def test_pick_photos_takes_one_per_label_before_repeating_a_label():
    photos = [_photo("a1", "a"), _photo("a2", "a"), _photo("a3", "a"), _photo("b1", "b"), _photo("c1", "c")]
    assert [p.name for p in pick_photos(photos, 4)] == ["a1", "b1", "c1", "a2"]
    assert [p.name for p in pick_photos(photos, 10)] == ["a1", "b1", "c1", "a2", "a3"]


def test_gallery_has_gray_each_method_and_truth():
    rgb = (data.astronaut()[::8, ::8] / 255.0).astype(np.float32)
    photos = [_photo("astronaut", "people", rgb), _photo("astronaut2", "people", rgb[::-1])]
    fig = gallery_figure(photos, {"gray": gray_baseline, "also gray": gray_baseline})
    assert len(fig.axes) == 2 * 4
    assert [ax.get_title() for ax in fig.axes[:4]] == ["gray input", "gray", "also gray", "ground truth"]
    assert "dB" in fig.axes[1].get_xlabel()
    np.testing.assert_allclose(fig.axes[3].get_images()[0].get_array(), rgb)

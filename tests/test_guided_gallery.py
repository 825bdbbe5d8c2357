"""The README's guided gallery: gray | automatic | clicks | truth, the clicks from the evaluation protocol."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from skimage import color as skcolor, data

from colorcourse.color import rgb_to_gray
from colorcourse.coursepack import Photo
from colorcourse.guided_gallery import gallery_hints, guided_gallery_figure, main
from colorcourse.hints import Hints
from colorcourse.metrics import gray_baseline, psnr


def _photo(name, rgb):
    return Photo(name=name, label="people", rgb=rgb, path=None)


@pytest.fixture
def astronaut():
    return (data.astronaut()[::8, ::8] / 255.0).astype(np.float32)  # 64 x 64 x 3


def test_gallery_hints_are_squares_of_the_true_mean_color(astronaut):
    hints = gallery_hints(_photo("a", astronaut), n_points=3, patch=5, seed=7)
    ab, mask = hints.dense()
    true_ab = skcolor.rgb2lab(astronaut.astype(np.float64))[..., 1:]  # scikit-image as the reference
    # each hinted square (connected, 5 x 5 unless overlapped) holds its mean true a*b*
    from scipy import ndimage

    labels, n = ndimage.label(mask > 0)
    assert 1 <= n <= 3 and 25 <= mask.sum() <= 75
    checked = 0
    for k in range(1, n + 1):
        region = labels == k
        rows, cols = np.nonzero(region)
        if region.sum() == 25:  # a square no other square overlapped
            window = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
            assert np.ptp(rows) == np.ptp(cols) == 4
            np.testing.assert_allclose(ab[region], np.broadcast_to(true_ab[window].mean((0, 1)), (25, 2)), atol=0.05)
            checked += 1
    assert checked, "seed 7 should leave at least one square whole"
    assert gallery_hints(_photo("a", astronaut), 3, 5, seed=8) != hints  # the seed moves them


def test_guided_gallery_columns_and_what_each_colorizer_got(astronaut):
    photos = [_photo("a", astronaut), _photo("b", astronaut[::-1].copy())]
    seen = []

    def tinted(gray):  # an "automatic" colorizer that is not gray, so its panel can be recognised
        return np.clip(np.stack([gray * 0.9 + 0.1, gray, gray * 0.8], -1), 0, 1)

    def guided(gray, hints):
        seen.append(hints)
        return gray_baseline(gray)

    fig = guided_gallery_figure(photos, tinted, guided, n_points=2, patch=5, seed=3)
    assert len(fig.axes) == 2 * 4
    assert [ax.get_title() for ax in fig.axes[:4]] == ["gray input", "automatic", "2 clicks", "ground truth"]
    # the guided colorizer got each photo's own protocol hints, seeds 3 and 4
    assert [len(h) > 0 for h in seen] == [True, True] and all(isinstance(h, Hints) for h in seen)
    assert seen[0] == gallery_hints(photos[0], 2, 5, seed=3) and seen[1] == gallery_hints(photos[1], 2, 5, seed=4)
    gray = rgb_to_gray(astronaut.astype(np.float64))
    np.testing.assert_allclose(fig.axes[1].get_images()[0].get_array(), tinted(gray))
    np.testing.assert_allclose(fig.axes[3].get_images()[0].get_array(), astronaut)
    # captions: the PSNR of that panel against the truth
    assert fig.axes[1].get_xlabel().startswith(f"{psnr(tinted(gray), astronaut):.1f} dB")
    assert fig.axes[2].collections, "the clicked squares are outlined on the guided result"


def test_main_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "gallery_guided.jpg"
    out.write_bytes(b"mine")
    assert main(["--out", str(out)]) == 2
    assert out.read_bytes() == b"mine" and "refusing to overwrite" in capsys.readouterr().err

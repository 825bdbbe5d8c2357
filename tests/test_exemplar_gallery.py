"""The README's by-example gallery: same-label references, the columns and what each colorizer got."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
from skimage import data

from colorcourse.color import rgb_to_gray
from colorcourse.coursepack import Photo
from colorcourse.exemplar_gallery import exemplar_gallery_figure, main, reference_pairs
from colorcourse.metrics import gray_baseline, psnr


def _photo(name, label, rgb=None):
    return Photo(name=name, label=label, rgb=rgb if rgb is not None else np.zeros((4, 4, 3), np.float32), path=None)


def test_reference_pairs_take_the_next_photo_of_the_same_label():
    split = [_photo("a1", "sea"), _photo("b1", "city"), _photo("a2", "sea"), _photo("c1", "dog"), _photo("a3", "sea")]
    pairs = reference_pairs([split[0], split[4], split[1], split[3]], split)
    # a1 -> a2, a3 -> a1 (cyclic); b1 and c1 are alone with their label: left out
    assert [(p.name, r.name) for p, r in pairs] == [("a1", "a2"), ("a3", "a1")]


def test_the_gallery_shows_the_reference_and_the_result_after_it():
    rgb = (data.astronaut()[::8, ::8] / 255.0).astype(np.float32)  # 64 x 64
    coffee = (data.coffee()[::8, ::8] / 255.0).astype(np.float32)
    pairs = [(_photo("astronaut", "people", rgb), _photo("coffee", "people", coffee)),
             (_photo("flipped", "people", rgb[::-1].copy()), _photo("astronaut", "people", rgb))]
    got = []

    def tinted(gray):
        return np.clip(np.stack([gray * 0.9 + 0.1, gray, gray * 0.8], -1), 0, 1)

    def by_example(gray, reference_rgb):  # a fake: the gray photo, recording which reference it got
        got.append(reference_rgb)
        return gray_baseline(gray)

    fig = exemplar_gallery_figure(pairs, tinted, by_example)
    assert len(fig.axes) == 2 * 5
    assert [ax.get_title() for ax in fig.axes[:5]] == ["gray input", "reference", "automatic", "by example", "ground truth"]
    assert got[0] is coffee and got[1] is rgb  # each photo colored after its own reference
    np.testing.assert_allclose(fig.axes[1].get_images()[0].get_array(), coffee)  # the reference shown
    np.testing.assert_allclose(fig.axes[4].get_images()[0].get_array(), rgb)
    gray = rgb_to_gray(rgb.astype(np.float64))
    np.testing.assert_allclose(fig.axes[2].get_images()[0].get_array(), tinted(gray))
    assert fig.axes[3].get_xlabel().startswith(f"{psnr(gray_baseline(gray), rgb):.1f} dB")
    assert fig.axes[1].get_xlabel().startswith("people: coffee")


def test_main_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "gallery_exemplar.jpg"
    out.write_bytes(b"mine")
    assert main(["--out", str(out)]) == 2
    assert out.read_bytes() == b"mine" and "refusing to overwrite" in capsys.readouterr().err

"""The whole Cheng colorizer on tiny models trained here: shapes, luma kept, errors, options."""

import numpy as np
import pytest
from skimage import data

from colorcourse.checkpoint import CheckpointError
from colorcourse.cheng.clustering import adaptive_clustering
from colorcourse.cheng.features import ABLATIONS, FEATURE_GROUPS, GrayImageError
from colorcourse.cheng.mlp import train_pixel_colorizer
from colorcourse.cheng.pipeline import (
    CLUSTERS_FILE,
    PARSER_FILE,
    ChengColorizer,
    build_training_set,
    feature_columns,
    network_file,
)
from colorcourse.cheng.semantic import fit_pseudo_class_parser
from colorcourse.color import rgb_to_gray


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cheng_models")
    rgbs = [img[::4, ::4] / 255.0 for img in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())]
    parser = fit_pseudo_class_parser([rgb_to_gray(r) for r in rgbs], n_classes=5, per_image=500, progress=False)
    parser.save(folder / PARSER_FILE)
    ts = build_training_set(rgbs, parser, per_image=600, progress=False)
    assert ts.features.shape == (2400, 49 + 32 + 5)
    for groups in ABLATIONS.values():
        cols = feature_columns(groups, n_classes=5)
        train_pixel_colorizer(ts.features[:, cols], ts.uv, groups, 5, epochs=2, progress=False).save(
            folder / network_file(groups)
        )
    adaptive_clustering(ts, FEATURE_GROUPS, n_top=2, mu=100, train_kwargs={"epochs": 2}, progress=False).save(
        folder / CLUSTERS_FILE
    )
    return folder


def test_colorizer_keeps_luma_and_size(models):
    rgb = data.coffee()[::5, ::5] / 255.0
    gray = rgb_to_gray(rgb)
    for kwargs in ({}, {"refine": False}, {"clustering": True}, {"groups": ("patch",)}):
        colorizer = ChengColorizer(models, **kwargs)
        out = colorizer(gray)
        assert out.shape == rgb.shape and out.min() >= 0 and out.max() <= 1
        # only chroma is predicted: Y of the result is the input (up to gamut clipping)
        assert np.median(np.abs(rgb_to_gray(out) - gray)) < 1e-3
        assert colorizer.describe().startswith("cheng")


def test_refinement_smooths_the_chroma(models):
    gray = rgb_to_gray(data.astronaut()[::4, ::4] / 255.0)
    raw, _ = ChengColorizer(models, refine=False).predict(gray)
    refined, times = ChengColorizer(models, refine=True).predict(gray)
    tv = lambda uv: np.abs(np.diff(uv, axis=0)).mean() + np.abs(np.diff(uv, axis=1)).mean()  # noqa: E731
    assert tv(refined) < tv(raw)
    assert set(times) == {"parser", "clustering", "features", "network", "refine"}


def test_clear_errors(models, tmp_path):
    colorizer = ChengColorizer(models)
    with pytest.raises(GrayImageError, match="color image"):
        colorizer(data.coffee() / 255.0)
    with pytest.raises(GrayImageError, match="smaller than"):
        colorizer(np.zeros((4, 30)))
    # a network file where the parser should be
    (tmp_path / PARSER_FILE).write_bytes((models / network_file(("patch",))).read_bytes())
    (tmp_path / network_file(FEATURE_GROUPS)).write_bytes((models / network_file(FEATURE_GROUPS)).read_bytes())
    with pytest.raises(CheckpointError, match="not a Cheng scene parser"):
        ChengColorizer(tmp_path)
    with pytest.raises(CheckpointError, match="no such model file"):
        ChengColorizer(tmp_path / "nowhere")


def test_gain_is_chosen_on_held_out_pixels_and_saved(tmp_path):
    from colorcourse.cheng.clustering import TrainingSet
    from colorcourse.cheng.mlp import PixelColorizer
    from colorcourse.cheng.pipeline import best_gain
    from colorcourse.color import yuv_to_rgb

    rng = np.random.default_rng(0)
    pred = rng.normal(0, 0.1, (900, 2))
    true_uv = 0.5 * pred  # the network is twice too confident
    gray = rng.uniform(0.3, 0.7, 900)
    rgb = np.clip(yuv_to_rgb(np.concatenate([gray[:, None], true_uv], 1)), 0, 1)
    held = TrainingSet(np.zeros((900, 1)), true_uv, gray, rgb, np.repeat(np.arange(3), 300), np.zeros((3, 2)), np.zeros((3, 2)))
    gain, scores = best_gain(pred, held)
    assert gain == 0.5 and scores[0.5] == max(scores.values())
    x = rng.normal(0, 1, (500, 49)).astype(np.float32)
    net = train_pixel_colorizer(x, rng.normal(0, 0.1, (500, 2)).astype(np.float32), ("patch",), epochs=1, progress=False)
    raw = net.predict(x[:10])
    net.gain = 0.7
    np.testing.assert_allclose(net.predict(x[:10]), 0.7 * raw, rtol=1e-6)
    again = PixelColorizer.load(net.save(tmp_path / "g.safetensors"))
    assert again.gain == pytest.approx(0.7)

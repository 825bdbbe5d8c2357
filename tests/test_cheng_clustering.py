"""Adaptive clustering (Algorithm 3), the gist descriptor and the test-time cluster choice."""

import numpy as np
import pytest

from colorcourse.cheng.clustering import (
    ClusteredColorizer,
    Cluster,
    EmptyClusterError,
    TrainingSet,
    adaptive_clustering,
    cosine_similarity,
    minimal_images,
    pixel_psnr,
)
from colorcourse.cheng.gist import GRID, N_ORIENTATIONS, N_SCALES, gist
from colorcourse.cheng.mlp import ChengMLP
from colorcourse.color import yuv_to_rgb
from colorcourse.metrics import psnr


def test_gist_finds_the_orientation_of_stripes():
    y, x = np.mgrid[:160, :200]
    winners = []
    for o in range(0, N_ORIENTATIONS, 2):
        t = np.pi * o / N_ORIENTATIONS
        img = 0.5 + 0.4 * np.sin(2 * np.pi * 0.12 * (x * np.cos(t) + y * np.sin(t)))
        g = gist(img)
        assert g.shape == (N_SCALES * N_ORIENTATIONS * GRID * GRID,)
        energy = g.reshape(N_SCALES, N_ORIENTATIONS, GRID * GRID).sum(axis=(0, 2))
        winners.append(int(energy.argmax()))
    assert winners == list(range(0, N_ORIENTATIONS, 2))


def test_mu_follows_equation_3():
    n_w = ChengMLP(114).n_weights()
    assert n_w == 13283
    assert minimal_images(n_w, 2000, 8.0) == 54  # ceil(8 * 13283 / 2000)
    with pytest.raises(ValueError):
        minimal_images(n_w, 0, 8.0)


def test_pixel_psnr_equals_image_psnr():
    rng = np.random.default_rng(0)
    rgb = rng.random((10, 12, 3))
    gray = rgb @ np.array([0.299, 0.587, 0.114])
    uv = rng.normal(0, 0.05, (10, 12, 2))
    pred = yuv_to_rgb(np.concatenate([gray[..., None], uv], -1))
    assert pixel_psnr(gray.ravel(), uv.reshape(-1, 2), rgb.reshape(-1, 3)) == pytest.approx(psnr(pred, rgb), abs=1e-9)


def _net():
    from colorcourse.cheng.mlp import PixelColorizer

    return PixelColorizer(ChengMLP(4), np.zeros(4), np.ones(4), ("patch",), 33)


def test_choice_uses_gist_then_semantic_histogram():
    # cluster 0 is nearest by gist but semantically different; cluster 1 is second nearest and
    # semantically the same; cluster 2 matches the histogram but is far away in gist
    hist = np.array([0.7, 0.3, 0.0])
    clusters = [
        Cluster(0, np.array([0.0, 0.0]), np.array([0.0, 0.1, 0.9]), [], _net()),
        Cluster(0, np.array([1.0, 0.0]), np.array([0.6, 0.4, 0.0]), [], _net()),
        Cluster(1, np.array([9.0, 9.0]), hist, [], _net()),
    ]
    model = ClusteredColorizer(clusters, top_k=2)
    assert model.choose(np.array([0.1, 0.0]), hist) == 1
    assert ClusteredColorizer(clusters, top_k=1).choose(np.array([0.1, 0.0]), hist) == 0
    assert ClusteredColorizer(clusters, top_k=3).choose(np.array([0.1, 0.0]), hist) == 2
    assert cosine_similarity(np.eye(2), np.array([1.0, 0.0])).tolist() == pytest.approx([1.0, 0.0])


def _synthetic_set(seed=0):
    """12 photos in two gist groups; in group A chroma is a function of the feature, in
    group B the opposite function; photos 0-2 have no chroma at all (easy: high PSNR)."""
    rng = np.random.default_rng(seed)
    feats, uvs, grays, rgbs, ids, gists = [], [], [], [], [], []
    for i in range(12):
        group = i % 2
        x = rng.normal(0, 1, (300, 8)).astype(np.float32)
        sign = 1.0 if group == 0 else -1.0
        uv = np.stack([0.15 * np.tanh(sign * x[:, 0]), 0.1 * np.tanh(sign * x[:, 1])], 1)
        if i < 3:
            uv[:] = 0.0
            x[:, 3] += 4.0  # a feature that tells the network "no chroma here"
        g = rng.uniform(0.3, 0.7, 300)
        rgb = np.clip(yuv_to_rgb(np.concatenate([g[:, None], uv], 1)), 0, 1)
        feats.append(x), uvs.append(uv.astype(np.float32)), grays.append(g), rgbs.append(rgb)
        ids.append(np.full(300, i))
        gists.append(np.array([5.0 * group, 0.0]) + rng.normal(0, 0.1, 2))
    hists = np.tile([0.5, 0.5], (12, 1))
    return TrainingSet(np.concatenate(feats), np.concatenate(uvs), np.concatenate(grays),
                       np.concatenate(rgbs), np.concatenate(ids), np.stack(gists), hists)


def test_algorithm_3_on_a_synthetic_set(tmp_path):
    data = _synthetic_set()
    model = adaptive_clustering(data, ("patch",), n_top=2, mu=4, threshold_db=28.0, max_layers=2,
                                train_kwargs={"epochs": 15, "batch_size": 64, "lr": 5e-3}, progress=False)
    top = [c for c in model.clusters if c.layer == 0]
    assert len(top) == 2
    # k-means on gist recovers the two groups
    assert sorted(sorted(c.members) for c in top) == [list(range(0, 12, 2)), list(range(1, 12, 2))]
    scores = {m: p for c in top for m, p in c.train_psnr.items()}
    # the chroma-free photos are the easiest ones
    assert np.mean([scores[m] for m in (0, 1, 2)]) > np.mean([scores[m] for m in range(3, 12)]) + 3
    # photos above the threshold are removed; the rest (>= mu of them) are clustered again
    lower = [c for c in model.clusters if c.layer == 1]
    remaining = sorted(m for c in lower for m in c.members)
    assert remaining == sorted(m for m, p in scores.items() if p < 28.0)
    assert 4 <= len(remaining) < 12, "some photos removed, enough left for a second layer"
    assert len(lower) == len(remaining) // 4
    # save / load keeps every network and the choice
    path = model.save(tmp_path / "c.safetensors")
    again = ClusteredColorizer.load(path)
    assert len(again.clusters) == len(model.clusters)
    x = data.features[:50]
    for a, b in zip(model.clusters, again.clusters):
        np.testing.assert_array_equal(a.network.predict(x), b.network.predict(x))
        assert a.layer == b.layer
        np.testing.assert_allclose(a.center, b.center, rtol=1e-6)
        np.testing.assert_allclose(a.histogram, b.histogram, rtol=1e-6)


def test_empty_clusters_are_refused():
    data = _synthetic_set()
    with pytest.raises(EmptyClusterError, match="at least 20 photos"):
        adaptive_clustering(data, ("patch",), n_top=20, progress=False)
    with pytest.raises(EmptyClusterError):
        ClusteredColorizer([]).choose(np.zeros(2), np.zeros(2))

"""Hints spread by encoder features: the formula against a direct loop, and its properties."""

import numpy as np
import pytest
import torch

from colorcourse.hint_propagation import blend, grid_features, propagate


def _unit(rng, n, c):
    f = rng.normal(size=(n, c))
    return f / np.linalg.norm(f, axis=1, keepdims=True)


def test_propagation_equals_the_formula_computed_pixel_by_pixel():
    rng = np.random.default_rng(0)
    f, L = _unit(rng, 30, 5), rng.uniform(0, 100, 30)
    idx, ab = np.array([3, 17, 25]), rng.uniform(-60, 60, (3, 2))
    tau, sigma, s = 0.3, 12.0, 50.0
    out, conf = propagate(f, L, idx, ab, tau, sigma, s)
    for p in range(30):
        w = np.array([np.exp((f[p] @ f[k] - 1) / tau - ((L[p] - L[k]) / sigma) ** 2) for k in idx])
        np.testing.assert_allclose(out[p], (w[:, None] * ab).sum(0) / w.sum(), rtol=1e-4, atol=1e-3)
        assert conf[p] == pytest.approx(min(1.0, s * w.max()), rel=1e-4)


def test_a_location_like_a_hint_takes_its_color_and_an_unlike_one_falls_back():
    f = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    L = np.array([50.0, 50.0, 50.0, 50.0])
    out, conf = propagate(f, L, np.array([0]), np.array([[40.0, -20.0]]), temperature=0.1, confidence_scale=100)
    np.testing.assert_allclose(out[1], [40.0, -20.0], atol=1e-4)  # same features: the hint's color
    assert conf[1] == 1.0
    assert conf[2] < 1.0 and conf[3] < conf[2]  # orthogonal, then opposite: less and less alike
    network = np.full((4, 2), 7.0, dtype=np.float32)
    mixed = blend(out, conf, network)
    np.testing.assert_allclose(mixed[3], network[3], atol=0.01)  # the network's own color shows through


def test_two_regions_keep_their_own_hints_and_lightness_separates_alike_features():
    f = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3)
    L = np.array([30.0, 30, 30, 30, 30, 30])
    out, _ = propagate(f, L, np.array([0, 3]), np.array([[50.0, 0.0], [0.0, 50.0]]))
    leak = 50 * np.exp(-10.0)  # orthogonal features at tau 0.1: a weight of e^-10 relative to the own hint
    np.testing.assert_allclose(out[:3], [[50.0, 0.0]] * 3, atol=leak)
    np.testing.assert_allclose(out[3:], [[0.0, 50.0]] * 3, atol=leak)
    same = np.ones((4, 1))  # features all alike: only lightness tells the two hints apart
    out, _ = propagate(same, np.array([20.0, 22.0, 80.0, 78.0]), np.array([0, 2]),
                       np.array([[60.0, 0.0], [-60.0, 0.0]]), lightness_sigma=10.0)
    assert out[1, 0] > 59 and out[3, 0] < -59


def test_far_locations_do_not_underflow_and_no_hint_gives_no_confidence():
    f = np.array([[1.0, 0.0], [-1.0, 0.0]])
    out, conf = propagate(f, np.array([0.0, 100.0]), np.array([0]), np.array([[10.0, 10.0]]), temperature=1e-3)
    assert np.all(np.isfinite(out)) and conf[1] == 0.0
    out, conf = propagate(f, np.array([0.0, 1.0]), np.array([], dtype=int), np.zeros((0, 2)))
    assert not conf.any() and not out.any()
    with pytest.raises(ValueError, match="positive"):
        propagate(f, np.zeros(2), np.array([0]), np.zeros((1, 2)), temperature=0)


def test_grid_features_are_unit_vectors_on_the_finest_grid():
    maps = [torch.randn(1, 4, 8, 6), torch.randn(1, 5, 4, 3), torch.randn(1, 3, 2, 2)]
    f = grid_features(maps)
    assert f.shape == (48, 12)
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="one photo"):
        grid_features([torch.randn(2, 4, 8, 6)])

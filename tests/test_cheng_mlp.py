"""The per-pixel network: architecture, least-squares training, save/load with clear errors."""

import numpy as np
import pytest
import torch

from colorcourse.checkpoint import CheckpointError, save_checkpoint
from colorcourse.cheng.mlp import ChengMLP, PixelColorizer, train_pixel_colorizer


def test_paper_architecture():
    net = ChengMLP(114)
    linears = [m for m in net.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(114, 57), (57, 57), (57, 57), (57, 2)]
    assert sum(isinstance(m, torch.nn.ReLU) for m in net.net) == 3
    assert net.n_weights() == 114 * 57 + 57 + 2 * (57 * 57 + 57) + 57 * 2 + 2


def _toy_problem(n=6000, d=10, seed=0):
    # a smooth nonlinear map from features (on an odd scale) to chroma
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0, 3.0, (n, d)).astype(np.float32)
    z = (x - 5.0) / 3.0
    uv = np.stack([0.2 * np.tanh(z[:, 0] + z[:, 1]), 0.1 * np.abs(z[:, 2]) - 0.05], 1)
    return x, uv.astype(np.float32)


def test_training_fits_a_learnable_map_and_is_seeded():
    x, uv = _toy_problem()
    model = train_pixel_colorizer(x[:5000], uv[:5000], ("patch",), epochs=10, batch_size=128, seed=0, progress=False)
    pred = model.predict(x[5000:])
    mse = ((pred - uv[5000:]) ** 2).sum(1).mean()
    baseline = ((uv[5000:] - uv[:5000].mean(0)) ** 2).sum(1).mean()
    assert mse < 0.25 * baseline  # far better than predicting the mean chroma
    assert model.history[-1] < model.history[0]
    again = train_pixel_colorizer(x[:5000], uv[:5000], ("patch",), epochs=10, batch_size=128, seed=0, progress=False)
    np.testing.assert_array_equal(again.predict(x[5000:]), pred)
    # an image-shaped input is one batched pass with the same answers
    np.testing.assert_allclose(model.predict(x[:600].reshape(20, 30, 10)).reshape(-1, 2), model.predict(x[:600]), atol=1e-6)


def test_save_load_roundtrip_and_errors(tmp_path):
    x, uv = _toy_problem(n=2000)
    model = train_pixel_colorizer(x, uv, ("patch",), epochs=1, seed=0, progress=False)
    path = model.save(tmp_path / "m.safetensors")
    loaded = PixelColorizer.load(path)
    np.testing.assert_array_equal(loaded.predict(x[:50]), model.predict(x[:50]))
    np.testing.assert_array_equal(loaded.mean, model.mean)
    assert loaded.groups == ("patch",)
    with pytest.raises(FileExistsError):
        model.save(path)
    with pytest.raises(ValueError, match="10-dim"):
        model.predict(np.zeros((3, 11)))
    # another architecture's file
    other = tmp_path / "other.safetensors"
    save_checkpoint(other, {"w": torch.zeros(3)}, {"width": 1}, kind="fusion")
    with pytest.raises(CheckpointError, match="fusion"):
        PixelColorizer.load(other)
    # a corrupted file
    bad = tmp_path / "bad.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-20:] = bytes(20)
    bad.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        PixelColorizer.load(bad)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(CheckpointError, match="safetensors"):
        PixelColorizer.load(garbage)
    # a config that differs from the expected one names the key
    with pytest.raises(CheckpointError, match="in_dim"):
        PixelColorizer.load(path, expected_config={"in_dim": 114})

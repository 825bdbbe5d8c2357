"""Semantic feature: domain transform vs OpenCV, the pseudo-class, encoder and FCN parsers."""

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from colorcourse.checkpoint import CheckpointError, save_checkpoint
from colorcourse.cheng.semantic import (
    EncoderSemanticParser,
    FCNParser,
    PseudoClassParser,
    domain_transform_filter,
    encoder_descriptors,
    fit_encoder_semantic_parser,
    fit_pseudo_class_parser,
    load_parser,
    semantic_features,
    semantic_histogram,
    train_fcn_parser,
)
from colorcourse.color import rgb_to_gray
from colorcourse.encoder import encoder_available


@pytest.mark.parametrize("sigma_s, sigma_r, iters", [(5.0, 0.1, 3), (12.0, 0.5, 2), (3.0, 2.0, 1)])
def test_domain_transform_matches_opencv(sigma_s, sigma_r, iters):
    rng = np.random.default_rng(0)
    guide = cv2.GaussianBlur(rng.random((33, 41)).astype(np.float32), (0, 0), 2) * 2
    src = rng.random((33, 41, 3)).astype(np.float32)
    ours = domain_transform_filter(src, guide, sigma_s, sigma_r, iterations=iters)
    for c in range(3):
        ref = cv2.ximgproc.dtFilter(guide, np.ascontiguousarray(src[..., c]), sigma_s, sigma_r,
                                    mode=cv2.ximgproc.DTF_RF, numIters=iters)
        np.testing.assert_allclose(ours[..., c], ref, atol=1e-5)


def test_domain_transform_preserves_edges_and_probabilities():
    guide = np.zeros((24, 24), np.float32)
    guide[:, 12:] = 1.0
    probs = np.random.default_rng(1).dirichlet(np.ones(4), size=(24, 24)).astype(np.float32)
    probs[:, 12:] = [1, 0, 0, 0]
    out = domain_transform_filter(probs, guide, 10.0, 0.1)
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)  # a convex combination
    assert out[:, 12:, 0].min() > 0.99  # nothing leaks over the edge
    assert out[:, :12].std(axis=(0, 1)).max() < probs[:, :12].std(axis=(0, 1)).max() / 3


@pytest.fixture(scope="module")
def grays():
    return [rgb_to_gray(img / 255.0).astype(np.float32)[::4, ::4] for img in (data.astronaut(), data.coffee(), data.chelsea())]


def test_pseudo_class_parser(grays, tmp_path):
    parser = fit_pseudo_class_parser(grays, n_classes=6, per_image=800, seed=0, progress=False)
    probs = parser.predict_proba(grays[0])
    assert probs.shape == grays[0].shape + (6,)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert len(np.unique(probs.argmax(-1))) >= 3  # it really splits the image into regions
    hist = semantic_histogram(probs)
    assert hist.shape == (6,) and abs(hist.sum() - 1) < 1e-9
    path = parser.save(tmp_path / "p.safetensors")
    again = load_parser(path)
    assert isinstance(again, PseudoClassParser)
    np.testing.assert_array_equal(again.predict_proba(grays[1]), parser.predict_proba(grays[1]))
    smooth = semantic_features(grays[1], parser)
    assert smooth.shape == grays[1].shape + (6,)
    save_checkpoint(tmp_path / "x.safetensors", {"w": torch.zeros(1)}, {}, kind="cheng-mlp")
    with pytest.raises(CheckpointError, match="not a Cheng scene parser"):
        load_parser(tmp_path / "x.safetensors")


needs_encoder = pytest.mark.skipif(not encoder_available(), reason="the pretrained encoder's packages are not installed")


@pytest.fixture(scope="module")
def encoder_parser(grays):
    return fit_encoder_semantic_parser(grays, n_classes=6, n_components=8, per_image=800, seed=0, progress=False)


@needs_encoder
def test_encoder_parser_probabilities_on_an_odd_sized_image(grays, encoder_parser):
    gray = grays[0][:97, :61]  # odd sizes, neither a multiple of the encoder's stride 32
    probs = encoder_parser.predict_proba(gray)
    assert probs.shape == (97, 61, 6) and probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert len(np.unique(probs.argmax(-1))) >= 3  # it splits the image into regions
    hist = semantic_histogram(semantic_features(gray, encoder_parser))
    assert hist.shape == (6,) and abs(hist.sum() - 1) < 1e-9


@needs_encoder
def test_encoder_parser_projects_like_the_full_descriptor(grays, encoder_parser):
    gray = grays[2][:50, :77]
    desc = encoder_descriptors(gray)
    assert desc.shape == (50, 77, 40 + 112)
    full = ((desc - encoder_parser.mean) / encoder_parser.std) @ encoder_parser.components.T
    np.testing.assert_allclose(encoder_parser.project(gray), full, atol=1e-4)


@needs_encoder
def test_encoder_parser_pca_is_orthonormal(encoder_parser):
    c = encoder_parser.components
    assert c.shape == (8, 152) and encoder_parser.centers.shape == (6, 8)
    np.testing.assert_allclose(c @ c.T, np.eye(8), atol=1e-5)


@needs_encoder
def test_encoder_parser_round_trip(grays, encoder_parser, tmp_path):
    path = encoder_parser.save(tmp_path / "enc.safetensors")
    again = load_parser(path)
    assert isinstance(again, EncoderSemanticParser)
    assert again.config() == encoder_parser.config()
    np.testing.assert_array_equal(again.predict_proba(grays[1]), encoder_parser.predict_proba(grays[1]))
    with pytest.raises(FileExistsError):
        encoder_parser.save(path)
    encoder_parser.save(path, overwrite=True)
    bad = dict(encoder_parser.config(), encoder_sha256="0" * 64)
    save_checkpoint(tmp_path / "other.safetensors", {k: torch.from_numpy(getattr(encoder_parser, k))
                                                     for k in ("mean", "std", "components", "centers")},
                    bad, kind=EncoderSemanticParser.kind)
    with pytest.raises(CheckpointError, match="another encoder"):
        load_parser(tmp_path / "other.safetensors")


def _miniature_siftflow(n=6, size=48, seed=0):
    """Fabricated stand-in for SIFT Flow: 3 classes, each with its own intensity and texture."""
    rng = np.random.default_rng(seed)
    grays, labels = [], []
    for _ in range(n):
        lab = np.zeros((size, size), np.int64)
        lab[: rng.integers(10, 24)] = 1  # a "sky" band on top
        y, x = rng.integers(20, 36, size=2)
        lab[y : y + 12, x - 10 : x + 2] = 2  # an "object"
        lab[0, 0] = -1  # an unlabelled pixel
        base = np.array([0.3, 0.8, 0.5])[np.clip(lab, 0, None)]
        texture = np.where(lab == 2, 0.15 * np.sign(np.sin(np.arange(size) * 1.5))[None, :], 0.0)
        g = np.clip(base + texture + rng.normal(0, 0.03, lab.shape), 0, 1)
        grays.append(g.astype(np.float32))
        labels.append(lab)
    return grays, labels


def test_fcn_parser_learns_a_miniature_siftflow(tmp_path):
    grays, labels = _miniature_siftflow()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: one thread is ~6x faster on a busy 2-core box
    try:
        model, history = train_fcn_parser(grays, labels, n_classes=3, steps=60, batch_size=4, crop=32,
                                          lr=1e-2, width=8, seed=0, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert np.mean(history[-10:]) < 0.5 * np.mean(history[:5])
    test_g, test_l = _miniature_siftflow(n=2, seed=1)
    probs = model.predict_proba(test_g[0])
    assert probs.shape == (48, 48, 3)
    valid = test_l[0] >= 0
    acc = (probs.argmax(-1) == test_l[0])[valid].mean()
    assert acc > 0.8  # chance is about 0.45 (the largest class)
    path = model.save(tmp_path / "fcn.safetensors")
    again = load_parser(path)
    assert isinstance(again, FCNParser)
    np.testing.assert_allclose(again.predict_proba(test_g[1]), model.predict_proba(test_g[1]), atol=1e-6)
    with pytest.raises(ValueError, match="label map"):
        train_fcn_parser(grays[:1], [labels[0][:10]], n_classes=3, steps=1, progress=False)

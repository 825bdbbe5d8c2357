"""Deep correspondence (colorcourse.exemplar): the reference's colors warped by the frozen
encoder's features, a confidence that tells a good match from a poor one, bounded memory."""

import numpy as np
import pytest
import torch
from skimage import data

from colorcourse import encoder as enc
from colorcourse import exemplar as ex
from colorcourse.color import gray_to_lightness, rgb_to_gray, rgb_to_lab

pytestmark = pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")


@pytest.fixture(scope="module")
def model():
    from colorcourse.fusion import hinted

    return hinted.from_pretrained()  # the shipped default's decoder: what the warping needs is the encoder


@pytest.fixture(scope="module")
def photo():
    rgb = (data.astronaut()[::2, ::2] / 255.0).astype(np.float32)  # 256 x 256
    return rgb, rgb_to_gray(rgb).astype(np.float32)


def cell_ab(rgb, grid):
    ab = torch.from_numpy(rgb_to_lab(rgb.astype(np.float64))[..., 1:].astype(np.float32)).permute(2, 0, 1)[None]
    return torch.nn.functional.interpolate(ab, size=grid, mode="area")[0]


def test_a_reference_equal_to_the_target_warps_its_own_colors_back(model, photo):
    rgb, gray = photo
    session = ex.ExemplarSession(model, gray, rgb)
    corr = session.correspondence
    assert float(corr.confidence.min()) > 0.99  # every location finds itself (cosine 1)
    error = (corr.ab - cell_ab(rgb, corr.ab.shape[-2:])).norm(dim=0)
    chroma = cell_ab(rgb, corr.ab.shape[-2:]).norm(dim=0)
    assert float(error.median()) < 3.0 and float(error.mean()) < 0.25 * float(chroma.mean())
    out = session.colorize(blend="confidence")  # full confidence: the warped colors themselves
    true_ab = rgb_to_lab(rgb.astype(np.float64))[..., 1:]
    got_ab = rgb_to_lab(out.astype(np.float64))[..., 1:]
    assert np.median(np.linalg.norm(got_ab - true_ab, axis=-1)) < 6.0


def test_a_flat_color_reference_gives_that_color(model, photo):
    _, gray = photo
    color = np.array([0.2, 0.5, 0.8], np.float32)
    reference = np.broadcast_to(color, (120, 160, 3)).copy()
    corr = ex.ExemplarSession(model, gray, reference).correspondence
    want = torch.tensor(rgb_to_lab(color.astype(np.float64))[1:], dtype=torch.float32)
    assert torch.allclose(corr.ab, want[:, None, None].expand_as(corr.ab), atol=1e-3)


def test_confidence_is_lower_for_an_unrelated_reference(model, photo):
    rgb, gray = photo
    noise = np.random.default_rng(0).random((200, 240, 3)).astype(np.float32)
    mirrored = rgb[:, ::-1][20:-20, 20:-20]  # the same scene, no pixel in its place
    same = ex.ExemplarSession(model, gray, mirrored).correspondence.confidence
    unrelated = ex.ExemplarSession(model, gray, noise).correspondence.confidence
    assert float(same.mean()) > 0.5
    assert float(unrelated.mean()) < 0.5 * float(same.mean())


def test_attention_matches_a_dense_softmax_over_the_top_k():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(37, 6)); q /= np.linalg.norm(q, axis=1, keepdims=True)
    k = rng.normal(size=(50, 6)); k /= np.linalg.norm(k, axis=1, keepdims=True)
    ab = rng.normal(0, 30, size=(50, 2))
    sim = q @ k.T
    want = np.empty((37, 2))
    for i in range(37):  # independent: sort, keep 5, softmax by hand
        top = np.argsort(-sim[i])[:5]
        w = np.exp((sim[i, top] - sim[i, top].max()) / 0.05)
        want[i] = (w[:, None] * ab[top]).sum(0) / w.sum()
    got, best = ex.attend(*(torch.tensor(a, dtype=torch.float32) for a in (q, k, ab)), temperature=0.05, top_k=5)
    assert np.allclose(got.numpy(), want, atol=1e-3)
    assert np.allclose(best.numpy(), sim.max(axis=1), atol=1e-5)


def test_the_similarity_matrix_is_never_whole_and_chunking_changes_nothing(monkeypatch):
    rng = np.random.default_rng(2)
    q = torch.nn.functional.normalize(torch.tensor(rng.normal(size=(100, 8)), dtype=torch.float32), dim=1)
    k = torch.nn.functional.normalize(torch.tensor(rng.normal(size=(64, 8)), dtype=torch.float32), dim=1)
    ab = torch.tensor(rng.normal(0, 30, size=(64, 2)), dtype=torch.float32)
    whole, whole_best = ex.attend(q, k, ab, chunk=1000)
    blocks = []
    real = ex.similarity_block
    monkeypatch.setattr(ex, "similarity_block", lambda a, b: blocks.append(tuple(a.shape[:1]) + tuple(b.shape[:1])) or real(a, b))
    chunked, chunked_best = ex.attend(q, k, ab, chunk=16)
    assert max(rows for rows, _ in blocks) <= 16 and sum(rows for rows, _ in blocks) == 100
    assert all(cols == 64 for _, cols in blocks)
    assert torch.allclose(whole, chunked, atol=1e-5) and torch.equal(whole_best, chunked_best)
    with pytest.raises(ValueError, match="chunk"):
        ex.attend(q, k, ab, chunk=0)


def test_a_big_photo_and_reference_are_matched_at_the_working_size(model):
    rng = np.random.default_rng(3)
    big = np.kron(rng.random((30, 45)), np.ones((32, 32))).astype(np.float32)  # 960 x 1440 blocks
    reference = np.kron(rng.random((20, 20, 3)), np.ones((40, 40, 1))).astype(np.float32)  # 800 x 800
    session = ex.ExemplarSession(model, big, reference)
    grid = session.correspondence.confidence.shape
    assert max(grid) <= ex.MATCH_SIZE // ex.FEATURE_STRIDE
    assert session.reference.features.shape[0] <= (ex.MATCH_SIZE // ex.FEATURE_STRIDE) ** 2
    out = session.colorize("confidence")
    assert out.shape == big.shape + (3,)


def test_the_lightness_is_the_inputs_own(model, photo):
    rgb, gray = photo
    out = ex.ExemplarColorizer(rgb[::-1], model=model, blend="confidence")(gray)
    L = rgb_to_lab(out.astype(np.float64))[..., 0]
    assert np.max(np.abs(L - gray_to_lightness(gray))) < 1.0  # chroma only shrunk into the gamut


def test_a_gray_reference_is_refused_clearly(model, photo):
    rgb, _ = photo
    gray_rgb = np.repeat(rgb_to_gray(rgb)[..., None], 3, axis=-1)
    with pytest.raises(ex.GrayReferenceError, match="no colors to lend"):
        ex.ExemplarColorizer(gray_rgb, model=model)
    with pytest.raises(ValueError, match="RGB"):
        ex.check_reference(rgb[..., 0])
    with pytest.raises(ValueError, match="blend"):
        ex.ExemplarColorizer(rgb, model=model, blend="average")

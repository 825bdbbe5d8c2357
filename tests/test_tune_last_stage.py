"""``train_pretrained --tune-last-stage``: the encoder's stride-32 stage fine-tuned from the cached
stride-16 maps. Checked against the frozen MultiScaleEncoder itself (the stage starts as exactly
it), by what training changes and what it must leave alone, by the file round trip, and on the
checkpoints already written (no tuned stage: the frozen encoder, the same output as before)."""

import argparse
import glob
import json

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from colorcourse import encoder as enc
from colorcourse.checkpoint import CheckpointError, read_header
from colorcourse.color import rgb_to_gray, rgb_to_lab
from colorcourse.fusion import hinted, pretrained, train_pretrained
from colorcourse.fusion.tuned_stage import (
    PREFIX, TunedEncoder, TunedLastStage, restaged, stride16_tap, stride32_and_pooled, tuned_stage_of,
)

pytestmark = pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")


@pytest.fixture(scope="module")
def encoder():
    return enc.MultiScaleEncoder()


def _gray(image, shape):
    return torch.from_numpy(rgb_to_gray(image[: shape[0], : shape[1]] / 255.0).astype(np.float32))[None, None]


def _tuned_model(encoder, seed=0):
    torch.manual_seed(seed)
    stage = TunedLastStage(encoder.net)
    model = pretrained.PretrainedFusionNet(pretrained.PretrainedConfig(loss="mse", width=8),
                                           encoder=TunedEncoder(encoder, stage))
    with torch.no_grad():  # weights unlike ImageNet's, as after training
        for p in stage.parameters():
            p.mul_(1.0 + 0.05 * torch.randn_like(p))
    model.chroma_gain = 0.9
    return model


def test_the_stage_starts_as_the_frozen_encoders_stride32_stage(encoder):
    # the blocks copied are exactly those after the stride-16 tap, up to the last (stride-32) one
    stage = TunedLastStage(encoder.net)
    assert len(stage.blocks) == len(encoder.net._blocks) - stride16_tap(encoder.net) - 1 > 0
    assert stage.blocks[-1]._project_conv.out_channels == enc.CHANNELS[3]
    # from the stride-16 map alone: the stride-32 map and pooled vector, bit for bit
    gray = _gray(data.astronaut(), (64, 96)).expand(2, -1, -1, -1).clone()
    gray[1] = gray[1].flip(-1)
    maps, pooled = encoder(gray)
    with torch.no_grad():
        s32, tuned_pooled = stride32_and_pooled(stage, maps[2])
    assert torch.equal(s32, maps[3]) and torch.equal(tuned_pooled, pooled)
    # the whole encoder with the stage in place, at a size the encoder pads: every output identical
    odd = _gray(data.coffee(), (50, 77))
    (frozen_maps, frozen_pooled), (tuned_maps, tuned_pooled) = encoder(odd), TunedEncoder(encoder, stage)(odd)
    assert all(torch.equal(a, b) for a, b in zip(frozen_maps, tuned_maps))
    assert torch.equal(frozen_pooled, tuned_pooled)


def _training_data(encoder, n=4, side=64):
    grays, abs_ = [], []
    for image in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())[:n]:
        rgb = image[:side, :side] / 255.0
        grays.append(rgb_to_gray(rgb).astype(np.float32)[None])
        ab = torch.from_numpy(rgb_to_lab(rgb)[..., 1:].astype(np.float32)).permute(2, 0, 1)
        abs_.append(torch.nn.functional.avg_pool2d(ab[None], pretrained.OUTPUT_STRIDE)[0])
    maps, pooled = encoder(torch.from_numpy(np.stack(grays)))
    return [m.half() for m in maps], pooled.half(), torch.stack(abs_)


def test_training_changes_only_the_last_stage_and_the_decoder_at_their_rates(encoder):
    frozen_before = {k: v.clone() for k, v in encoder.net.state_dict().items()}
    stage = TunedLastStage(encoder.net)
    model = pretrained.PretrainedFusionNet(pretrained.PretrainedConfig(loss="mse", width=8),
                                           encoder=TunedEncoder(encoder, stage))
    stage_before = {k: v.clone() for k, v in stage.state_dict().items()}
    decoder_before = {k: v.detach().clone() for k, v in model.decoder.named_parameters()}
    cached = _training_data(encoder)
    lr, steps = 1e-2, 3
    args = argparse.Namespace(steps=steps, batch=2, lr=lr, seed=0, log_every=steps, loss="mse", quiet=True,
                              stage_lr_ratio=0.1)
    log = train_pretrained.fit(model, cached, cached, None, args)
    assert len(log) == 1 and np.isfinite(log[0]["val_loss"])
    # the shared frozen encoder, all of it (its own last stage included), is untouched
    assert all(torch.equal(v, frozen_before[k]) for k, v in encoder.net.state_dict().items())
    # every weight of the stage and of the decoder learned
    for name, p in stage.named_parameters():
        assert not torch.equal(p, stage_before[name]), name
    for name, p in model.decoder.named_parameters():
        assert not torch.equal(p, decoder_before[name]), name
    # the stage's batch norms kept their ImageNet statistics (eval mode while training)
    for name, v in stage.state_dict().items():
        if "running_" in name or "num_batches" in name:
            assert torch.equal(v, stage_before[name]), name
    # Adam moves a weight by at most about the learning rate per step: the stage's is a tenth
    stage_moved = max(float((p.detach() - stage_before[n]).abs().max()) for n, p in stage.named_parameters())
    decoder_moved = max(float((p.detach() - decoder_before[n]).abs().max()) for n, p in model.decoder.named_parameters())
    assert stage_moved <= 1.05 * steps * lr * 0.1 < decoder_moved


def test_restaged_recomputes_only_the_stride32_map_and_the_pooled_vector(encoder):
    maps, pooled, _ = _training_data(encoder, n=2)
    maps, pooled = [m.float() for m in maps], pooled.float()
    assert restaged(None, maps, pooled) == (maps, pooled)
    model = _tuned_model(encoder)
    new_maps, new_pooled = restaged(tuned_stage_of(model.encoder), maps, pooled)
    assert all(a is b for a, b in zip(new_maps[:3], maps[:3]))
    assert new_maps[3].shape == maps[3].shape and not torch.equal(new_maps[3], maps[3])
    assert new_pooled.shape == pooled.shape and not torch.equal(new_pooled, pooled)


def test_a_tuned_model_round_trips_through_its_file(encoder, tmp_path):
    model = _tuned_model(encoder)
    path = pretrained.save_model(tmp_path / "tuned.safetensors", model)
    assert json.loads(read_header(path)["config"])["tuned_last_stage"] is True
    loaded = pretrained.load_model(path, encoder=encoder)  # the frozen encoder given: the file's stage on it
    stage = tuned_stage_of(loaded.encoder)
    assert stage is not None and loaded.encoder.base is encoder
    for (k, a), b in zip(stage.state_dict().items(), tuned_stage_of(model.encoder).state_dict().values()):
        assert torch.equal(a, b), k
    gray = rgb_to_gray(data.astronaut()[::5, ::5] / 255.0)
    expected = pretrained.colorize(model, gray)
    np.testing.assert_array_equal(pretrained.colorize(loaded, gray), expected)
    np.testing.assert_array_equal(pretrained.PretrainedColorizer(loaded)(gray), expected)
    # the tuned stage really is used: the frozen encoder under the same decoder colors otherwise
    frozen = pretrained.PretrainedFusionNet(model.config, encoder=encoder)
    frozen.decoder.load_state_dict(model.decoder.state_dict())
    frozen.chroma_gain = model.chroma_gain
    assert not np.array_equal(pretrained.colorize(frozen, gray), expected)
    # another model's tuned encoder given: the file's own stage replaces it
    other = _tuned_model(encoder, seed=1)
    again = pretrained.load_model(path, encoder=other.encoder)
    np.testing.assert_array_equal(pretrained.colorize(again, gray), expected)


def test_a_file_without_a_tuned_stage_is_the_frozen_encoder_as_before(encoder, tmp_path):
    model = pretrained.PretrainedFusionNet(pretrained.PretrainedConfig(loss="mse", width=8), encoder=encoder)
    path = pretrained.save_model(tmp_path / "frozen.safetensors", model)
    assert "tuned_last_stage" not in json.loads(read_header(path)["config"])
    assert pretrained.load_model(path, encoder=encoder).encoder is encoder
    # a tuned encoder given to a file without a stage: its frozen base is used, not its stage
    assert pretrained.load_model(path, encoder=_tuned_model(encoder).encoder).encoder is encoder


def _written_checkpoints():
    files = sorted(glob.glob(str(pretrained.default_model_path().parent / "*.safetensors")))
    files += sorted(glob.glob("build/variants/*.safetensors"))
    return [f for f in files if read_header(f).get("kind") == pretrained.KIND
            and "tuned_last_stage" not in json.loads(read_header(f)["config"])]


def test_every_checkpoint_already_written_loads_on_the_frozen_encoder(encoder):
    files = _written_checkpoints()
    if not files:
        pytest.skip("no trained pretrained-decoder checkpoints (make models)")
    encoders = {enc.DEFAULT_ENCODER: encoder}
    gray = _gray(data.chelsea(), (72, 100))
    for path in files:
        name = pretrained.encoder_named_in(path)
        if name not in encoders:
            encoders[name] = enc.MultiScaleEncoder(name)
        model = pretrained.load_model(path, encoder=encoders[name])
        assert model.encoder is encoders[name], path  # no stage put in: the shared frozen encoder
        with torch.inference_mode():
            assert torch.equal(model(gray), model.decoder(*encoders[name](gray))), path
    # and without an encoder given, a plain frozen MultiScaleEncoder, as enc.MultiScaleEncoder() still is
    assert type(pretrained.load_model(files[0]).encoder) is enc.MultiScaleEncoder
    assert type(enc.MultiScaleEncoder()) is enc.MultiScaleEncoder and enc.MultiScaleEncoder().name == "efficientnet-lite0"


def test_the_hint_network_refuses_a_default_with_a_tuned_stage(encoder, tmp_path, capsys):
    path = pretrained.save_model(tmp_path / "tuned.safetensors", _tuned_model(encoder))
    with pytest.raises(CheckpointError, match="fine-tuned"):
        hinted.from_pretrained(path, encoder=encoder)
    with pytest.raises(CheckpointError, match="fine-tuned"):
        hinted.from_pretrained(path)
    frozen = pretrained.PretrainedFusionNet(pretrained.PretrainedConfig(loss="mse", width=8), encoder=encoder)
    assert hinted.from_pretrained(pretrained.save_model(tmp_path / "frozen.safetensors", frozen), encoder=encoder)


@pytest.mark.slow
def test_the_hint_training_command_refuses_it_in_one_line(encoder, tmp_path, capsys):
    from colorcourse import coursepack
    from colorcourse.fusion import train_hinted

    try:
        coursepack.load_split("val", limit=1)
    except FileNotFoundError:
        pytest.skip("course pack not built (make data)")
    path = pretrained.save_model(tmp_path / "tuned.safetensors", _tuned_model(encoder))
    code = train_hinted.main(["--init", str(path), "--limit", "1", "--out", str(tmp_path / "h.safetensors"),
                              "--no-cache", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and "fine-tuned" in err
    assert not (tmp_path / "h.safetensors").exists()


@pytest.mark.slow
def test_the_training_command_writes_and_recalibrates_a_tuned_model(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, image in [("astronaut", data.astronaut()), ("chelsea", data.chelsea()), ("coffee", data.coffee()),
                        ("rocket", data.rocket()), ("motorcycle", data.stereo_motorcycle()[0])]:
        Image.fromarray(image).save(folder / f"{name}.png")
    out = tmp_path / "tuned.safetensors"
    assert train_pretrained.main(["--photos", str(folder), "--loss", "smoothl1", "--steps", "3", "--views", "1",
                                  "--batch", "2", "--width", "8", "--log-every", "3", "--tune-last-stage",
                                  "--out", str(out), "--no-cache", "--quiet"]) == 0
    config = json.loads(read_header(out)["config"])
    assert config["tuned_last_stage"] is True and config["stage_lr"] == pytest.approx(config["lr"] * 0.1)
    model = pretrained.load_model(out)
    assert tuned_stage_of(model.encoder) is not None
    # the stage learned: it is no longer the ImageNet one
    imagenet = TunedLastStage(enc.MultiScaleEncoder().net).state_dict()
    assert any(not torch.equal(v, imagenet[k]) for k, v in tuned_stage_of(model.encoder).state_dict().items())
    # recalibrating (load_model, then save_model) keeps the tuned stage: it is part of the model
    from colorcourse import coursepack
    from colorcourse.checkpoint import load_checkpoint

    try:
        coursepack.load_split("val", limit=1)
    except FileNotFoundError:
        return  # no course pack to recalibrate on (make data); the rest was checked
    again = tmp_path / "again.safetensors"
    assert train_pretrained.main(["--recalibrate", str(out), "--calibrate-on", "val", "--limit", "2",
                                  "--out", str(again), "--quiet"]) == 0
    (a, _), (b, _) = load_checkpoint(out, pretrained.KIND), load_checkpoint(again, pretrained.KIND)
    stage_keys = [k for k in a if k.startswith(PREFIX)]
    assert stage_keys and all(torch.equal(a[k], b[k]) for k in stage_keys)

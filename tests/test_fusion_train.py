"""Training the fusion network: reproducibility, resume, checkpoints, distributed replicas."""

import os
import subprocess
import sys
import textwrap
from dataclasses import fields

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from colorcourse.checkpoint import CheckpointError
from colorcourse.fusion.data import CropSampler, synthetic_photos
from colorcourse.fusion.infer import colorize, load_model
from colorcourse.fusion.model import FusionConfig, FusionNet
from colorcourse.fusion.train import TrainConfig, chroma_loss, init_weights, lr_factor, main, read_log, train

CLASSES = ["class0", "class1"]


def tiny_config(**kw):
    base = dict(width=0.0625, n_classes=2, classes=",".join(CLASSES), steps=3, batch_size=4,
                crop=64, val_every=2, optimizer="adadelta", lr=1.0, seed=7)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def samplers():
    photos = synthetic_photos(6, size=64)
    return (CropSampler(photos, crop=64, classes=CLASSES, short_side=None),
            CropSampler(synthetic_photos(2, size=64, seed=1), crop=64, classes=CLASSES, short_side=None))


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_same_seed_same_weights_other_seed_differs(samplers):
    tr, _ = samplers
    a = weights(train(tiny_config(), tr, progress=False))
    b = weights(train(tiny_config(), tr, progress=False))
    assert_same(a, b)
    c = weights(train(tiny_config(seed=8), tr, progress=False))
    assert any(not torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("optimizer,lr", [("adadelta", 1.0), ("adam", 1e-3)])
def test_resume_equals_uninterrupted(samplers, tmp_path, optimizer, lr):
    tr, va = samplers
    full = weights(train(tiny_config(steps=4, optimizer=optimizer, lr=lr), tr, progress=False))
    first = tmp_path / "half.safetensors"
    train(tiny_config(steps=2, optimizer=optimizer, lr=lr), tr, va, out=first, progress=False)
    resumed = train(tiny_config(steps=4, optimizer=optimizer, lr=lr), tr, va,
                    out=tmp_path / "resumed.safetensors", resume=first, progress=False)
    assert_same(full, weights(resumed))
    # the checkpoint holds the optimizer state needed for that, and a log of validation scores
    keys = load_file(first).keys()
    assert any(k.startswith("optim.") for k in keys) and any(k.startswith("model.") for k in keys)
    log = read_log(tmp_path / "resumed.safetensors")
    assert [row["step"] for row in log] == [2.0, 4.0]
    assert all(row["val_psnr"] > 5 and 0 <= row["val_accuracy"] <= 1 for row in log)


def test_checkpoint_errors(samplers, tmp_path):
    tr, _ = samplers
    path = tmp_path / "m.safetensors"
    model = train(tiny_config(steps=1), tr, out=path, progress=False)
    loaded = load_model(path)
    gray = np.random.default_rng(0).random((24, 40))
    np.testing.assert_array_equal(colorize(model, gray), colorize(loaded, gray))
    with pytest.raises(CheckpointError, match="width"):
        load_model(path, expected_config={"width": 0.25})
    with pytest.raises(FileExistsError, match="force"):
        train(tiny_config(steps=1), tr, out=path, progress=False)
    with pytest.raises(CheckpointError, match="width"):  # resuming with another architecture
        train(tiny_config(steps=2, width=0.125), tr, resume=path, progress=False)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # flip bits in the last weight
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="modified or damaged"):
        load_model(path)


def test_rarity_weighting_is_plain_mse_at_zero():
    pred, target = torch.rand(2, 2, 8, 8), torch.rand(2, 2, 8, 8)
    mse = ((pred - target) ** 2).mean()  # the mean over both channels = sum over channels / 2
    torch.testing.assert_close(chroma_loss(pred, target, None, 0.0), mse)
    w = torch.ones(16 * 16)  # uniform weights: also plain MSE
    torch.testing.assert_close(chroma_loss(pred, target, w, 1.0), mse)


def test_kaiming_init_keeps_the_signal_and_cosine_schedule(samplers, tmp_path):
    torch.manual_seed(0)
    model = FusionNet(FusionConfig(width=0.125, n_classes=2))
    L = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        before = model.low(L).std()
        init_weights(model, "default")  # a no-op: the default runs are unchanged
        assert model.low(L).std() == before
        init_weights(model, "kaiming")
        assert model.low(L).std() > 5 * before  # PyTorch's default init shrinks it layer by layer
        assert all(float(m.bias.abs().max()) == 0 for m in model.low if isinstance(m, torch.nn.Conv2d))
    with pytest.raises(ValueError, match="init"):
        init_weights(model, "xavier")
    assert [lr_factor("constant", s, 100) for s in (0, 50, 99)] == [1.0, 1.0, 1.0]
    factors = [lr_factor("cosine", s, 100) for s in range(100)]
    assert factors[0] == pytest.approx(0.2) and factors[4] == pytest.approx(1.0)  # 5-step warm-up
    assert all(a >= b for a, b in zip(factors[4:], factors[5:])) and factors[-1] < 0.01
    with pytest.raises(ValueError, match="lr_schedule"):
        lr_factor("step", 0, 10)
    # both options train (seeded: the same weights twice), and they change the result
    tr, _ = samplers
    kw = dict(optimizer="adam", lr=1e-3, init="kaiming", lr_schedule="cosine")
    a = weights(train(tiny_config(**kw), tr, progress=False))
    assert_same(a, weights(train(tiny_config(**kw), tr, progress=False)))
    b = weights(train(tiny_config(optimizer="adam", lr=1e-3), tr, progress=False))
    assert all(torch.isfinite(v).all() for v in a.values()) and any(not torch.equal(a[k], b[k]) for k in a)


def test_chroma_gain_is_stored_and_is_the_loaded_models_default(samplers, tmp_path):
    from colorcourse.fusion.infer import FusionColorizer, colorize_lab

    tr, _ = samplers
    plain = train(tiny_config(), tr, out=tmp_path / "plain.safetensors", progress=False)
    gained = train(tiny_config(chroma_gain=1.5), tr, out=tmp_path / "gain.safetensors", progress=False)
    assert_same(weights(plain), weights(gained))  # training ignores it
    gray = np.random.default_rng(0).random((40, 48))
    a, b = load_model(tmp_path / "plain.safetensors"), load_model(tmp_path / "gain.safetensors")
    assert a.chroma_gain == 1.0 and b.chroma_gain == 1.5
    np.testing.assert_array_equal(colorize_lab(b, gray), colorize_lab(b, gray, chroma_gain=1.5))
    np.testing.assert_array_equal(colorize_lab(b, gray, chroma_gain=1.0), colorize_lab(a, gray))
    np.testing.assert_array_equal(FusionColorizer(b)(gray), colorize(b, gray, chroma_gain=1.5))


def test_cli_refuses_to_overwrite(tmp_path):
    out = tmp_path / "x.safetensors"
    out.write_bytes(b"keep me")
    r = subprocess.run([sys.executable, "-m", "colorcourse.fusion.train", "--out", str(out), "--synthetic", "2"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "--force" in r.stderr
    assert out.read_bytes() == b"keep me"


def test_cli_explains_every_option_and_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit) as ok:
        main(["--help"])
    assert ok.value.code == 0
    shown = capsys.readouterr().out.split("options:", 1)[1]  # the option list, past the usage lines
    options = [f.name for f in fields(TrainConfig) if f.name not in ("n_classes", "classes")]
    for name in options:
        # every option is on the help page with its own text, not just its name and default
        entry = shown.split(f"--{name.replace('_', '-')} ", 1)[1].split("\n  --", 1)[0]
        assert len(entry.split("(default:")[0].split()) > 3, (name, entry)
    with pytest.raises(SystemExit) as bad:
        main(["--optimizer", "sgd", "--out", "unused.safetensors"])
    assert bad.value.code == 2 and "invalid choice: 'sgd'" in capsys.readouterr().err


DDP_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from safetensors.torch import save_file
    from colorcourse.fusion.data import CropSampler, synthetic_photos
    from colorcourse.fusion.train import TrainConfig, init_distributed, train
    torch.set_num_threads(1)
    rank, world = init_distributed()
    assert world == 2, world
    cfg = TrainConfig(width=0.0625, n_classes=2, classes="class0,class1", steps=3, batch_size=4,
                      crop=64, val_every=100, seed=3)
    sampler = CropSampler(synthetic_photos(6, size=64), crop=64, classes=["class0", "class1"], short_side=None)
    model = train(cfg, sampler, progress=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{sys.argv[1]}/rank{rank}.safetensors")
    """
)


@pytest.mark.slow
def test_torchrun_ddp_replicas_stay_identical(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    # torchrun itself (torch.distributed.run), on a free port
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                "--rdzv-backend=c10d", "--rdzv-endpoint=localhost:0"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(torchrun + [str(script), str(tmp_path)], capture_output=True, text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert_same(a, b)
    # and training moved the weights away from their (seeded) initial values
    torch.manual_seed(3)
    from colorcourse.fusion.model import FusionNet

    init = FusionNet(width=0.0625, n_classes=2).state_dict()
    assert any(not torch.equal(init[k], a[k]) for k in a)

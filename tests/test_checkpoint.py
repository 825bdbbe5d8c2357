"""Model files: round trip, and every way a file can be wrong gets a clear error."""

import pytest
import torch

from colorcourse.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_module,
    read_header,
    save_checkpoint,
    save_module,
)


def make_net(hidden=8):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))


def test_module_round_trip(tmp_path):
    net = make_net()
    path = save_module(tmp_path / "net.safetensors", net, {"hidden": 8}, kind="toy")
    fresh = make_net()
    for p in fresh.parameters():
        torch.nn.init.zeros_(p)
    config = load_module(fresh, path, kind="toy", expected_config={"hidden": 8})
    assert config == {"hidden": 8}
    x = torch.randn(5, 4)
    assert torch.equal(fresh(x), net(x))
    assert read_header(path)["kind"] == "toy"


def test_refuses_to_overwrite(tmp_path):
    path = save_module(tmp_path / "net.safetensors", make_net(), {"hidden": 8}, kind="toy")
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_module(path, make_net(16), {"hidden": 16}, kind="toy")
    assert path.read_bytes() == before
    save_module(path, make_net(16), {"hidden": 16}, kind="toy", overwrite=True)
    assert load_checkpoint(path, "toy")[1] == {"hidden": 16}


def test_other_kind_is_refused(tmp_path):
    path = save_module(tmp_path / "net.safetensors", make_net(), {"hidden": 8}, kind="cheng-mlp")
    with pytest.raises(CheckpointError, match="holds a 'cheng-mlp' model, but a 'fusion' model"):
        load_checkpoint(path, "fusion")


def test_other_config_names_the_differing_keys(tmp_path):
    path = save_module(tmp_path / "net.safetensors", make_net(), {"hidden": 8, "act": "relu"}, "toy")
    with pytest.raises(CheckpointError, match="hidden: file has 8, expected 16"):
        load_checkpoint(path, "toy", expected_config={"hidden": 16, "act": "relu"})


def test_architecture_mismatch_without_config(tmp_path):
    path = save_module(tmp_path / "net.safetensors", make_net(8), {}, kind="toy")
    with pytest.raises(CheckpointError, match="does not fit this model's architecture"):
        load_module(make_net(16), path, kind="toy")


def test_tampered_truncated_and_foreign_files(tmp_path):
    path = save_module(tmp_path / "net.safetensors", make_net(), {"hidden": 8}, kind="toy")
    raw = bytearray(path.read_bytes())

    tampered = tmp_path / "tampered.safetensors"
    flipped = raw.copy()
    flipped[-3] ^= 0xFF  # one byte of the last weight
    tampered.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="modified or damaged"):
        load_checkpoint(tampered, "toy")

    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(bytes(raw[: len(raw) - 20]))
    with pytest.raises(CheckpointError, match="corrupted or truncated"):
        load_checkpoint(truncated, "toy")

    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"PK\x03\x04 this is a zip, not weights" * 3)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(junk, "toy")

    plain = tmp_path / "plain.safetensors"
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, plain)
    with pytest.raises(CheckpointError, match="not one written by colorcourse"):
        load_checkpoint(plain, "toy")

    with pytest.raises(CheckpointError, match="no such model file"):
        load_checkpoint(tmp_path / "absent.safetensors", "toy")


def test_save_checkpoint_of_plain_tensors(tmp_path):
    tensors = {"mean": torch.arange(3.0), "empty": torch.zeros(0)}
    path = save_checkpoint(tmp_path / "stats.safetensors", tensors, {"n": 3}, kind="stats")
    loaded, config = load_checkpoint(path, "stats")
    assert torch.equal(loaded["mean"], tensors["mean"]) and config == {"n": 3}


def test_zero_dim_tensors_round_trip_and_are_covered_by_the_digest(tmp_path):
    # a step counter or a BatchNorm's num_batches_tracked is a 0-dim tensor
    tensors = {"step": torch.tensor(7), "scale": torch.tensor(0.5)}
    path = save_checkpoint(tmp_path / "scalars.safetensors", tensors, {}, kind="stats")
    loaded, _ = load_checkpoint(path, "stats")
    assert loaded["step"].shape == () and int(loaded["step"]) == 7
    # changing the scalar changes the digest: a tampered counter is caught
    from colorcourse.checkpoint import _digest

    assert _digest(tensors) != _digest({"step": torch.tensor(8), "scale": torch.tensor(0.5)})

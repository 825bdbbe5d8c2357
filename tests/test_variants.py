"""The default's variant study: its bookkeeping, on scores whose answers are known."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from colorcourse.fusion import variants
from colorcourse.fusion.pretrained import PretrainedConfig, PretrainedFusionNet, save_model


def _scores(offsets: dict[str, dict[str, float]], n=12, seed=0) -> pd.DataFrame:
    """Per-photo rows: gray's PSNR random per photo, each variant gray + a constant per split."""
    rng = np.random.default_rng(seed)
    rows = []
    for split in ("shift_val", "shift_test"):
        gray = rng.uniform(18, 26, n)
        for method, by_split in {"gray": {"shift_val": 0.0, "shift_test": 0.0}, **offsets}.items():
            for i in range(n):
                rows.append({"method": method, "photo": f"{split}-{i}", "split": split,
                             "psnr": gray[i] + by_split[split], "colorfulness": 10.0 if method != "gray" else 0.0,
                             "true_colorfulness": 20.0})
    return pd.DataFrame(rows)


@pytest.fixture
def checkpoints(tmp_path):
    paths = {}
    for name, gain in (("a", 0.85), ("b", 1.0)):
        model = PretrainedFusionNet(PretrainedConfig(loss="mse", width=4), encoder=None)
        model.chroma_gain = gain
        paths[name] = save_model(tmp_path / f"{name}.safetensors", model, {"training_seconds": 12.5})
    return paths


def test_the_table_reads_each_variants_offset_and_its_checkpoint(checkpoints):
    per_photo = _scores({"a": {"shift_val": 0.5, "shift_test": 2.0}, "b": {"shift_val": 1.0, "shift_test": -1.0}})
    table = variants.summary(per_photo, checkpoints, {"a": 3.0, "b": 4.0}).set_index("variant")
    assert table.loc["a", "shift_val_dpsnr"] == pytest.approx(0.5)
    assert table.loc["b", "shift_test_dpsnr"] == pytest.approx(-1.0)
    assert table.loc["b", "shift_val_low"] == pytest.approx(1.0) and table.loc["b", "shift_val_high"] == pytest.approx(1.0)
    assert table.loc["a", "shift_val_color_ratio"] == pytest.approx(0.5)
    assert table.loc["a", "gain"] == 0.85 and table.loc["b", "train_seconds"] == 12.5
    assert table.loc["b", "seconds_2048"] == 4.0


def test_the_choice_is_made_on_shift_val_never_on_shift_test(checkpoints):
    # "a" is far better on shift_test, "b" on shift_val: shift_val decides
    per_photo = _scores({"a": {"shift_val": 0.5, "shift_test": 2.0}, "b": {"shift_val": 1.0, "shift_test": -1.0}})
    table = variants.summary(per_photo, checkpoints, {"a": 3.0, "b": 4.0})
    assert variants.best(table) == "b"


def test_a_difference_inside_the_noise_is_called_noise():
    rng = np.random.default_rng(1)
    per_photo = _scores({"a": {"shift_val": 0.5, "shift_test": 0.0}, "b": {"shift_val": 0.5, "shift_test": 0.0}})
    noisy = per_photo["method"] == "b"
    per_photo.loc[noisy, "psnr"] += rng.normal(0, 1.0, noisy.sum())  # b = a + zero-mean noise
    versus = variants.against_first(per_photo, "a").set_index("variant")
    assert versus.loc["b", "low"] < 0 < versus.loc["b", "high"] and versus.loc["b", "verdict"] == "noise"
    clear = _scores({"a": {"shift_val": 0.0, "shift_test": 0.0}, "b": {"shift_val": 0.7, "shift_test": 0.0}})
    assert variants.against_first(clear, "a").set_index("variant").loc["b", "verdict"] != "noise"


def test_markdown_has_a_row_per_variant_with_its_interval(checkpoints):
    per_photo = _scores({"a": {"shift_val": 0.5, "shift_test": 2.0}, "b": {"shift_val": 1.0, "shift_test": -1.0}})
    text = variants.markdown(variants.summary(per_photo, checkpoints, {"a": 3.0, "b": 4.0}))
    rows = [line for line in text.splitlines() if line.startswith("| a ") or line.startswith("| b ")]
    assert len(rows) == 2 and "+0.50 [+0.50, +0.50]" in rows[0] and "-1.00" in rows[1]


def test_variant_file_names_are_plain():
    assert variants.file_name("lite0 + objects, 16 views") == "lite0-objects-16-views"
    assert len({variants.file_name(v) for v in variants.VARIANTS}) == len(variants.VARIANTS)


def test_every_variant_is_a_command_train_pretrained_accepts():
    from colorcourse.fusion.train_pretrained import build_parser
    import shlex

    for variant, (_, args) in variants.VARIANTS.items():
        build_parser().parse_args(shlex.split(args) + ["--out", "x.safetensors"])  # exits on a bad option

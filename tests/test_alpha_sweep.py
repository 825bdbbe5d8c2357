"""The alpha sweep of lesson 07: a tiny live run, and the stored table against its per-photo scores."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colorcourse.fusion import alpha_sweep
from colorcourse.fusion.data import synthetic_photos
from colorcourse.metrics import paired_difference
from colorcourse.paths import models_dir


def test_alpha_label_writes_the_papers_fractions():
    assert alpha_sweep.alpha_label(0.0) == "0"
    assert alpha_sweep.alpha_label(1 / 300) == "1/300"
    assert alpha_sweep.alpha_label(0.0033333) == "1/300"
    assert alpha_sweep.alpha_label(1.0) == "1"
    assert alpha_sweep.alpha_label(1 / 3000) == "1/3000"  # not rounded to 0
    assert alpha_sweep.alpha_label(1 / 30) == "1/30" and alpha_sweep.alpha_label(1 / 3) == "1/3"


def test_tiny_sweep_pairs_every_run_with_gray_and_with_the_papers_alpha():
    train = synthetic_photos(6, size=64)
    val = synthetic_photos(3, size=64, seed=1)
    config = replace(alpha_sweep.SWEEP_DEFAULTS, steps=3, batch_size=2, crop=64, val_every=1)
    table, per_photo = alpha_sweep.sweep(train, val, ["class0", "class1"], alphas=(0.0, 1 / 300), seeds=(0,),
                                         config=config, progress=False)
    assert list(table["alpha"]) == ["0", "1/300"]
    assert set(per_photo["method"]) == {"gray", "alpha=0 seed=0", "alpha=1/300 seed=0"}
    for row in table.itertuples():
        ref = paired_difference(per_photo, row.method)
        assert row.dpsnr == pytest.approx(ref["mean"]) and row.dpsnr_low == pytest.approx(ref["low"])
        assert row.psnr - row.gray_psnr == pytest.approx(row.dpsnr)
    zero, paper = table.iloc[0], table.iloc[1]
    assert zero.train_alpha_ce == 0.0 and paper.train_alpha_ce == pytest.approx(paper.train_ce / 300)
    assert zero.dpsnr_vs_paper == pytest.approx(zero.dpsnr - paper.dpsnr)
    assert np.isnan(paper.dpsnr_vs_paper)
    assert 0.0 <= zero.class_accuracy <= 1.0


def test_sweep_refuses_bad_settings():
    photos = synthetic_photos(2, size=64)
    with pytest.raises(ValueError, match=">= 0"):
        alpha_sweep.sweep(photos, photos, ["class0", "class1"], alphas=(-1.0,), progress=False)
    with pytest.raises(ValueError, match="each alpha"):
        alpha_sweep.sweep(photos, photos, ["class0", "class1"], alphas=(1 / 300, 0.0033333), progress=False)  # one alpha twice
    with pytest.raises(ValueError, match="2 scene classes"):
        alpha_sweep.sweep(photos, photos, ["class0"], progress=False)


def test_command_refuses_to_overwrite_and_load_names_the_command(tmp_path):
    out = tmp_path / "sweep.csv"
    out.write_text("mine")
    with pytest.raises(SystemExit):
        alpha_sweep.main(["--out", str(out)])
    assert out.read_text() == "mine"
    with pytest.raises(FileNotFoundError, match="python -m colorcourse.fusion.alpha_sweep"):
        alpha_sweep.load_sweep(tmp_path / "missing.csv")


STORED = Path(models_dir()) / alpha_sweep.SWEEP_FILE


@pytest.mark.skipif(not STORED.is_file(), reason="no stored sweep (python -m colorcourse.fusion.alpha_sweep)")
def test_stored_table_agrees_with_its_per_photo_scores():
    table = alpha_sweep.load_sweep()
    per_photo = pd.read_csv(alpha_sweep.per_photo_path(STORED))
    assert set(table["alpha"]) >= {"0", "1/300"}
    for row in table.itertuples():
        scores = per_photo[per_photo["method"] == row.method]
        assert row.psnr == pytest.approx(scores["psnr"].mean(), abs=1e-4)
        ref = paired_difference(per_photo, row.method)
        assert row.dpsnr == pytest.approx(ref["mean"], abs=1e-4)
        assert (row.dpsnr_low, row.dpsnr_high) == pytest.approx((ref["low"], ref["high"]), abs=1e-3)

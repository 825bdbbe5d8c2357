"""Per-label scores: each label's paired difference to gray, checked against plain numpy."""

import numpy as np
import pandas as pd
import pytest

from colorcourse.metrics import paired_difference
from colorcourse.per_label import per_label


def results_table(seed=0):
    """Two methods on 30 photos of three labels: 'model' beats gray on nature by ~2 dB, loses
    on objects by exactly 1 dB everywhere, and is mixed on animals."""
    rng = np.random.default_rng(seed)
    labels = {f"p{i:02d}": ("nature", "objects", "animals")[i % 3] for i in range(30)}
    rows = []
    for photo, label in labels.items():
        gray = rng.uniform(20, 30)
        delta = {"nature": 2 + rng.normal(0, 0.3), "objects": -1.0, "animals": rng.normal(0, 1)}[label]
        true_c = rng.uniform(20, 40)
        rows.append({"method": "gray", "photo": photo, "psnr": gray, "colorfulness": 0.0, "true_colorfulness": true_c})
        rows.append({"method": "model", "photo": photo, "psnr": gray + delta,
                     "colorfulness": true_c * (0.5 if label == "objects" else 0.8), "true_colorfulness": true_c})
    return pd.DataFrame(rows), labels


def test_per_label_matches_numpy_and_the_overall_paired_difference():
    results, labels = results_table()
    table = per_label(results, labels, "model")
    assert list(table.index) == ["animals", "nature", "objects", "all"]
    pivot = results.pivot(index="photo", columns="method", values="psnr")
    for label in ("animals", "nature", "objects"):
        ids = [p for p, lab in labels.items() if lab == label]
        diff = pivot.loc[ids, "model"] - pivot.loc[ids, "gray"]
        assert table.loc[label, "photos"] == len(ids) == 10
        assert table.loc[label, "dpsnr"] == pytest.approx(diff.mean())
        assert table.loc[label, "psnr"] == pytest.approx(pivot.loc[ids, "model"].mean())
        assert table.loc[label, "gray_psnr"] == pytest.approx(pivot.loc[ids, "gray"].mean())
        assert table.loc[label, "dpsnr_low"] <= diff.mean() <= table.loc[label, "dpsnr_high"]
    assert table.loc["nature", "verdict"] == "better" and table.loc["objects", "verdict"] == "worse"
    # a constant difference: every resample has the same mean, the interval is that number
    assert table.loc["objects", ["dpsnr_low", "dpsnr_high"]].tolist() == pytest.approx([-1.0, -1.0])
    assert table.loc["objects", "colorfulness_ratio"] == pytest.approx(0.5)
    overall = paired_difference(results, "model")
    assert table.loc["all", ["dpsnr", "dpsnr_low", "dpsnr_high"]].tolist() == pytest.approx(
        [overall["mean"], overall["low"], overall["high"]])


def test_a_photo_without_a_label_is_named():
    results, labels = results_table()
    del labels["p07"]
    with pytest.raises(ValueError, match="p07"):
        per_label(results, labels, "model")

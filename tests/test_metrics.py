"""Metrics against scikit-image and hand-computed values; evaluate() on known colorizers."""

from dataclasses import dataclass

import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from colorcourse import metrics
from colorcourse.color import rgb_to_gray


@dataclass
class Photo:
    name: str
    rgb: np.ndarray


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()[::4, ::4] / 255.0  # 128 x 128 x 3


def test_psnr_matches_skimage_on_uint8(astronaut):
    noisy = np.clip(astronaut + np.random.default_rng(1).normal(0, 0.05, astronaut.shape), 0, 1)
    expected = peak_signal_noise_ratio(
        (astronaut * 255).round().astype(np.uint8), (noisy * 255).round().astype(np.uint8)
    )
    assert metrics.psnr(noisy, astronaut) == pytest.approx(expected, abs=1e-9)


def test_psnr_known_value_and_identity():
    a = np.zeros((4, 4, 3))
    b = np.full((4, 4, 3), 1 / 255)  # every value off by one level: MSE = 1
    assert metrics.psnr(a, b) == pytest.approx(20 * np.log10(255), abs=1e-9)
    assert metrics.psnr(a, a) == float("inf")
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.psnr(a, np.zeros((4, 5, 3)))


def test_ssim_matches_skimage_and_is_one_for_identity(astronaut):
    shifted = np.clip(astronaut * 0.9 + 0.05, 0, 1)
    expected = structural_similarity(
        (shifted * 255).round().astype(np.uint8),
        (astronaut * 255).round().astype(np.uint8),
        channel_axis=-1,
        data_range=255,
    )
    assert metrics.ssim(shifted, astronaut) == pytest.approx(expected)
    assert metrics.ssim(astronaut, astronaut) == pytest.approx(1.0)


def test_colorfulness_by_hand():
    # Two pixels: pure red and pure blue. rg = [255, 0], yb = [127.5, -255]
    rgb = np.array([[[1.0, 0, 0], [0, 0, 1.0]]])
    rg, yb = np.array([255.0, 0.0]), np.array([127.5, -255.0])
    expected = np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    assert metrics.colorfulness(rgb) == pytest.approx(expected)


def test_colorfulness_is_zero_for_gray_and_grows_with_saturation(astronaut):
    assert metrics.colorfulness(metrics.gray_baseline(rgb_to_gray(astronaut))) == pytest.approx(
        0, abs=1e-9
    )
    gray = rgb_to_gray(astronaut)[..., None]
    half = gray + 0.5 * (astronaut - gray)
    assert 0 < metrics.colorfulness(half) < metrics.colorfulness(astronaut)
    # the measure is linear in chroma for a fixed luma
    assert metrics.colorfulness(half) == pytest.approx(0.5 * metrics.colorfulness(astronaut), rel=0.02)


def test_evaluate_scores_oracle_and_gray_baseline(astronaut):
    photos = [Photo("astronaut", astronaut), Photo("flipped", astronaut[:, ::-1].copy())]
    seen = []

    def gray_only(gray):
        seen.append(gray.ndim)
        return metrics.gray_baseline(gray)

    table = metrics.evaluate(gray_only, photos, name="gray", progress=False)
    assert seen == [2, 2]  # the colorizer received gray images, not the color photo
    assert list(table["photo"]) == ["astronaut", "flipped"]
    expected = metrics.psnr(metrics.gray_baseline(rgb_to_gray(astronaut)), astronaut)
    assert table["psnr"].iloc[0] == pytest.approx(expected)
    assert (table["colorfulness"] < 1e-9).all()

    def wrong_size(gray):
        return np.zeros(gray.shape[:1] + (3, 3))

    with pytest.raises(ValueError, match="keep the input size"):
        metrics.evaluate(wrong_size, photos, progress=False)

    summary = metrics.summarize(table)
    assert summary.loc["gray", "photos"] == 2
    assert summary.loc["gray", "colorfulness_ratio"] == pytest.approx(0, abs=1e-9)
    assert summary.loc["gray", "psnr"] == pytest.approx(table["psnr"].mean())


def test_gray_baseline_rejects_color_input(astronaut):
    with pytest.raises(ValueError, match="H x W gray"):
        metrics.gray_baseline(astronaut)


def test_markdown_table_has_one_row_per_method_and_rounds():
    import pandas as pd

    from colorcourse.metrics import markdown_table

    table = pd.DataFrame({"psnr": [22.02849, 22.5], "photos": [45, 45], "acc": [float("nan"), 0.75]},
                         index=pd.Index(["gray", "fusion"], name="method"))
    lines = markdown_table(table, digits=2).splitlines()
    assert lines[0] == "| method | psnr | photos | acc |"
    assert lines[1] == "| --- | --- | --- | --- |"
    assert lines[2] == "| gray | 22.03 | 45 |  |"  # NaN (no classifier) is an empty cell
    assert lines[3] == "| fusion | 22.50 | 45 | 0.75 |"


def _two_methods(diffs, base=20.0):
    rows = []
    for i, d in enumerate(diffs):
        rows.append({"method": "gray", "photo": f"p{i}", "psnr": base + i, "ssim": 0.9,
                     "colorfulness": 0.0, "true_colorfulness": 10.0, "seconds": 0.0})
        rows.append({"method": "model", "photo": f"p{i}", "psnr": base + i + d, "ssim": 0.9,
                     "colorfulness": 5.0, "true_colorfulness": 10.0, "seconds": 0.0})
    import pandas as pd

    return pd.DataFrame(rows)


def test_paired_difference_recovers_a_constant_shift_exactly():
    # every photo gains exactly 0.5 dB: the paired difference has no spread at all, even though
    # the photos' own PSNRs spread over 30 dB (what an unpaired interval would drown in)
    result = metrics.paired_difference(_two_methods([0.5] * 30), "model")
    assert result["mean"] == pytest.approx(0.5)
    assert result["low"] == pytest.approx(0.5) and result["high"] == pytest.approx(0.5)
    assert result["verdict"] == "better" and result["n"] == 30


def test_paired_difference_interval_matches_the_normal_theory_for_many_photos():
    rng = np.random.default_rng(3)
    diffs = rng.normal(0.0, 1.0, 400)
    result = metrics.paired_difference(_two_methods(diffs), "model")
    se = diffs.std(ddof=1) / np.sqrt(diffs.size)
    assert result["mean"] == pytest.approx(diffs.mean())
    assert result["low"] == pytest.approx(diffs.mean() - 1.96 * se, abs=0.25 * se)
    assert result["high"] == pytest.approx(diffs.mean() + 1.96 * se, abs=0.25 * se)


def test_paired_difference_calls_a_zero_straddling_interval_noise_and_a_negative_one_worse():
    assert metrics.paired_difference(_two_methods([1.0, -1.0] * 10), "model")["verdict"] == "noise"
    assert metrics.paired_difference(_two_methods([-0.3, -0.5] * 10), "model")["verdict"] == "worse"


def test_paired_difference_refuses_unpaired_results():
    table = _two_methods([0.1, 0.2, 0.3])
    table = table.drop(index=table.index[(table["method"] == "model") & (table["photo"] == "p0")])
    with pytest.raises(ValueError, match="different photos"):
        metrics.paired_difference(table, "model")
    with pytest.raises(ValueError, match="no rows"):
        metrics.paired_difference(table, "missing")


def test_side_by_side_puts_each_split_in_its_own_columns():
    table = metrics.side_by_side({"test": _two_methods([0.5] * 5), "shift_test": _two_methods([-0.5] * 5)})
    assert list(table.index) == ["gray", "model"]
    assert table.loc["model", "test dPSNR vs gray [95% CI]"].endswith("better")
    assert table.loc["model", "shift_test dPSNR vs gray [95% CI]"].endswith("worse")
    assert table.loc["model", "shift_test color ratio"] == pytest.approx(0.5)

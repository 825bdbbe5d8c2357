"""The rule that chooses a colorizer's gain: best PSNR among the colorful-enough settings."""

import pandas as pd
import pytest

from colorcourse import calibration
from colorcourse.metrics import colorfulness, gray_baseline


def test_choose_takes_the_best_psnr_among_settings_colorful_enough():
    table = pd.DataFrame({"gain": [0.5, 1.0, 1.5], "psnr": [24.0, 23.0, 22.0], "colorfulness_ratio": [0.3, 0.6, 0.9]})
    assert calibration.choose(table)["gain"] == 1.0  # 0.5 has the best PSNR but too little color
    assert calibration.choose(table, min_ratio=0.2)["gain"] == 0.5
    assert calibration.choose(table, min_ratio=0.95)["gain"] == 1.5  # none qualifies: the most colorful
    with pytest.raises(ValueError, match="empty"):
        calibration.choose(table.iloc[:0])


def test_sweep_scores_each_setting_on_the_photos():
    from dataclasses import dataclass

    import numpy as np
    from skimage import data

    from colorcourse.color import merge_y_uv, rgb_to_yuv

    @dataclass
    class Photo:
        name: str
        rgb: np.ndarray

    rgb = data.astronaut()[::8, ::8] / 255.0
    photos = [Photo("a", rgb), Photo("b", rgb[::-1].copy())]

    def scaled_truth(gain):  # an oracle that knows the true chroma, times a gain
        def colorize(gray):
            truth = next(p.rgb for p in photos if np.allclose(rgb_to_yuv(p.rgb)[..., 0], gray))
            return merge_y_uv(gray, gain * rgb_to_yuv(truth)[..., 1:])
        return colorize

    table = calibration.sweep(scaled_truth, photos, [{"gain": 0.0}, {"gain": 0.5}, {"gain": 1.0}], progress=False)
    assert list(table["gain"]) == [0.0, 0.5, 1.0]
    assert table["colorfulness_ratio"].iloc[0] == pytest.approx(colorfulness(gray_baseline(rgb_to_yuv(rgb)[..., 0])) / colorfulness(rgb), abs=1e-6)
    assert table["colorfulness_ratio"].iloc[2] == pytest.approx(1.0, abs=0.02)
    assert table["psnr"].is_monotonic_increasing  # the oracle gets better as its chroma approaches the truth


def test_the_margin_rejects_a_setting_whose_ratio_clears_the_bar_only_on_average():
    # Two settings with a ratio just over 0.5: one steady photo to photo, one erratic (half the
    # photos far above the truth, half far below). Only the steady one clears the bar with a margin.
    import numpy as np

    true = np.full(40, 10.0)
    steady = np.full(40, 5.3)
    erratic = np.where(np.arange(40) % 2 == 0, 9.6, 1.0)
    assert calibration.ratio_lower_bound(steady, true) == pytest.approx(0.53)
    assert erratic.mean() / true.mean() == pytest.approx(0.53)
    assert calibration.ratio_lower_bound(erratic, true) < 0.5
    # the same scores give the same bound (a chosen gain must reproduce)
    assert calibration.ratio_lower_bound(erratic, true) == calibration.ratio_lower_bound(erratic, true)
    with pytest.raises(ValueError, match="equal-length"):
        calibration.ratio_lower_bound(steady, true[:3])


def test_choose_judges_colorfulness_by_the_lower_bound_where_the_table_has_it():
    table = pd.DataFrame({"gain": [0.85, 1.0], "psnr": [21.8, 21.6], "colorfulness_ratio": [0.53, 0.62],
                          "colorfulness_ratio_low": [0.48, 0.56]})
    assert calibration.choose(table)["gain"] == 1.0
    assert calibration.choose(table.drop(columns="colorfulness_ratio_low"))["gain"] == 0.85

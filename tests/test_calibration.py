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

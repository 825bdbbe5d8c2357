"""The results report: the gain sweep's shortcut against the real pipeline, tables per split."""

import numpy as np
import pandas as pd
import pytest
from skimage import data

from colorcourse import report
from colorcourse.color import rgb_to_gray
from colorcourse.paths import models_dir


@pytest.mark.skipif(not (models_dir() / "cheng_parser.safetensors").is_file(), reason="Cheng models not shipped")
def test_cheng_at_gain_equals_running_the_pipeline_at_that_gain():
    # the shortcut relies on the bilateral refinement being linear in the chroma it filters
    colorizer = report.cheng_colorizer()
    gray = rgb_to_gray(data.coffee()[::4, ::4] / 255.0)
    shipped = colorizer.network.gain
    fast = report.ChengAtGain(colorizer, {}, 1.4)(gray)
    colorizer.network.gain = 1.4
    try:
        slow = colorizer(gray)
    finally:
        colorizer.network.gain = shipped
    np.testing.assert_allclose(fast, slow, atol=1e-6)


def _rows(split, method, psnrs):
    return [{"split": split, "method": method, "photo": f"p{i}", "psnr": v, "ssim": 0.9, "colorfulness": 1.0,
             "true_colorfulness": 2.0, "seconds": 0.0} for i, v in enumerate(psnrs)]


def test_tables_put_each_split_beside_the_other_in_the_asked_order():
    per_photo = pd.DataFrame(_rows("test", "gray", [20, 21, 22]) + _rows("test", "m", [21, 22, 23])
                             + _rows("shift_test", "gray", [20, 21, 22]) + _rows("shift_test", "m", [19, 20, 21]))
    table = report.tables(per_photo, ["m", "gray"])
    assert list(table.index) == ["m", "gray"]
    assert table.loc["m", "test dPSNR vs gray [95% CI]"] == "+1.00 [+1.00, +1.00] better"
    assert table.loc["m", "shift_test dPSNR vs gray [95% CI]"] == "-1.00 [-1.00, -1.00] worse"


def test_missing_results_name_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m colorcourse.report"):
        report.load_results(tmp_path)

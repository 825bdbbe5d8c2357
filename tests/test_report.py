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


def test_the_per_label_section_gives_each_label_its_own_difference(monkeypatch):
    # shift_test photos of two labels: the default +2 dB on one, -1 dB on the other
    labels = {f"n{i}": "nature" for i in range(4)} | {f"o{i}": "objects" for i in range(3)}
    monkeypatch.setattr("colorcourse.per_label.photo_labels", lambda split, data_dir=None: labels)
    rows = []
    for photo, label in labels.items():
        gray = 20.0 + len(rows) % 3
        for method, psnr in (("gray", gray), ("pretrained", gray + (2.0 if label == "nature" else -1.0))):
            rows.append({"split": "shift_test", "method": method, "photo": photo, "psnr": psnr, "ssim": 0.9,
                         "colorfulness": 1.0, "true_colorfulness": 2.0, "seconds": 0.0})
    text = "\n".join(report.per_label_section(pd.DataFrame(rows)))
    nature = next(line for line in text.splitlines() if line.startswith("| nature"))
    objects = next(line for line in text.splitlines() if line.startswith("| objects"))
    overall = next(line for line in text.splitlines() if line.startswith("| all"))
    assert "+2.00 [+2.00, +2.00] better" in nature and "| 4 |" in nature
    assert "-1.00 [-1.00, -1.00] worse" in objects
    assert f"{(4 * 2 - 3) / 7:+.2f}" in overall
    assert "`objects_test`:" not in text  # no scores on that split: no table for it


def test_the_variant_section_appears_only_once_the_study_has_run(tmp_path):
    from colorcourse.fusion import variants

    assert report.variants_section(tmp_path) == []
    per_photo = pd.DataFrame(_rows("shift_val", "gray", [20, 21, 22]) + _rows("shift_val", "a", [21, 22, 23])
                             + _rows("shift_val", "b", [22, 23, 24]))
    per_photo.to_csv(tmp_path / variants.PER_PHOTO_CSV, index=False)
    table = pd.DataFrame([{"variant": v, "change": "", "command": "", "gain": 1.0, "shift_val_dpsnr": d,
                           "shift_val_low": d, "shift_val_high": d, "shift_val_color_ratio": 0.5,
                           "train_seconds": 1.0, "seconds_2048": 1.0} for v, d in (("a", 1.0), ("b", 2.0))])
    table.to_csv(tmp_path / variants.VARIANTS_CSV, index=False)
    text = "\n".join(report.variants_section(tmp_path))
    assert "(**b**)" in text and "| b | +1.000 | +1.000 | +1.000 | better |" in text

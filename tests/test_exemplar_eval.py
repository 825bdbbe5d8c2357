"""colorcourse.exemplar_eval: the references it builds and the paired table it reports."""

import numpy as np
import pandas as pd

from colorcourse.exemplar_eval import mirrored_crop, report, same_label_partners, summary
from colorcourse.metrics import paired_difference


def test_the_mirrored_crop_keeps_the_colors_but_no_pixel_in_place():
    rgb = np.random.default_rng(0).random((50, 80, 3))
    ref = mirrored_crop(rgb, 0.1)
    assert ref.shape == (40, 64, 3)
    assert np.array_equal(ref, rgb[5:45, ::-1][:, 8:72])  # row y, column x comes from column W-1-x
    assert np.array_equal(ref[0, 0], rgb[5, 80 - 1 - 8])


def test_same_label_partners_are_the_next_of_the_label_and_never_the_photo_itself():
    names = ["a", "b", "c", "d", "e"]
    labels = ["sea", "city", "sea", "sea", "lone"]
    partners = same_label_partners(names, labels)
    assert partners == {"a": "c", "c": "d", "d": "a", "b": None, "e": None}


def test_summary_pairs_each_method_with_gray_and_the_default_per_condition():
    rng = np.random.default_rng(1)
    rows = []
    for condition in ("own mirrored", "same label"):
        for i in range(12):
            base = rng.normal(25, 2)
            for method, gain in (("gray", 0.0), ("pretrained", 0.5), ("exemplar", 5.0)):
                rows.append({"condition": condition, "method": method, "photo": f"p{i}", "psnr": base + gain + rng.normal(0, 0.3),
                             "colorfulness": 0.0 if method == "gray" else 20.0, "true_colorfulness": 25.0})
    results = pd.DataFrame(rows)
    table = summary(results)
    row = table[(table.condition == "same label") & (table.method == "exemplar")].iloc[0]
    part = results[results.condition == "same label"]
    want = paired_difference(part, "exemplar", "pretrained")
    assert np.isclose(row["d_pretrained"], want["mean"]) and row["vs_pretrained"] == "better"
    direct = (part[part.method == "exemplar"].psnr.to_numpy() - part[part.method == "gray"].psnr.to_numpy()).mean()
    assert np.isclose(row["d_gray"], direct)
    assert np.isclose(row["colorfulness_ratio"], 0.8)
    text = report(table, "test weights", 12, 1.0)
    assert "Upper bound, exemplar: +" in text and ": met." in text

"""Training on damaged photos (colorcourse.degrade_training): the pair, the pairing, the comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skimage.data

from colorcourse import degrade, degrade_training
from colorcourse.color import merge_y_uv, rgb_to_gray, rgb_to_yuv
from colorcourse.metrics import psnr

PHOTOS = [skimage.data.astronaut()[::8, ::8] / 255.0, skimage.data.coffee()[::10, ::10] / 255.0,
          skimage.data.chelsea()[::8, ::8] / 255.0]


def test_the_pair_damages_the_input_and_keeps_the_true_colors_as_target():
    rgb = PHOTOS[0]
    gray, target = degrade_training.damaged_training_pair(rgb, np.random.default_rng(0), {"fade": (0.5, 0.5)}, 0.0)
    np.testing.assert_allclose(gray, degrade.fade(rgb_to_gray(rgb), 0.5), atol=1e-12)
    np.testing.assert_allclose(target, rgb_to_yuv(rgb)[..., 1:], atol=1e-12)
    clean, _ = degrade_training.damaged_training_pair(rgb, np.random.default_rng(0), {"fade": (0.5, 0.5)}, 1.0)
    np.testing.assert_allclose(clean, rgb_to_gray(rgb), atol=1e-12)
    # a new grain field each call; the same ones from the same seed
    r = np.random.default_rng(1)
    a, b = (degrade_training.damaged_training_pair(rgb, r, {"film_grain": (0.1, 0.1)}, 0.0)[0] for _ in range(2))
    assert np.abs(a - b).max() > 1e-3
    again = degrade_training.damaged_training_pair(rgb, np.random.default_rng(1), {"film_grain": (0.1, 0.1)}, 0.0)[0]
    np.testing.assert_array_equal(a, again)
    # JPEG quality is drawn as an integer between 10 and 100
    degrade_training.damaged_training_pair(rgb, np.random.default_rng(2), {"jpeg_scan": (100, 10)}, 0.0)
    with pytest.raises(ValueError, match="p_clean"):
        degrade_training.damaged_training_pair(rgb, np.random.default_rng(0), p_clean=1.5)


def test_the_clean_share_is_about_p_clean():
    r = np.random.default_rng(3)
    small = PHOTOS[1][:12, :12]
    clean = rgb_to_gray(small)
    same = [np.array_equal(degrade_training.damaged_training_pair(small, r, {"fade": (0.5, 0.6)}, 0.3)[0], clean)
            for _ in range(400)]
    assert 0.24 <= np.mean(same) <= 0.36  # binomial(400, 0.3): sd 0.023


def test_the_two_networks_differ_only_by_their_inputs():
    # with the same (clean) pairs and seed, the "augmented" recipe is the clean one: same weights
    a = degrade_training.train(PHOTOS, None, per_image=200, epochs=2, progress=False)
    b = degrade_training.train(PHOTOS, lambda rgb, rng: (rgb_to_gray(rgb), rgb_to_yuv(rgb)[..., 1:]),
                               per_image=200, epochs=2, progress=False)
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    c = degrade_training.train(PHOTOS, degrade_training.damaged_training_pair, per_image=200, epochs=2, progress=False)
    assert not np.array_equal(a.model.net[0].weight.detach().numpy(), c.model.net[0].weight.detach().numpy())


def test_evaluate_scores_the_chroma_with_the_true_luma_and_compare_pairs_by_photo():
    net = degrade_training.train(PHOTOS, None, per_image=200, epochs=2, progress=False)
    photos = [("a", PHOTOS[0]), ("b", PHOTOS[1])]
    results = degrade_training.evaluate({"clean": net, "augmented": net}, photos, {"blur": 2.0}, progress=False)
    assert len(results) == 2 * 2 * 2
    row = results[(results.photo == "b") & (results.degradation == "blur") & (results.method == "clean")]
    gray = degrade.blur(rgb_to_gray(PHOTOS[1]), 2.0)
    from colorcourse.cheng.features import pixel_features
    uv = net.predict(pixel_features(gray.astype(np.float32), degrade_training.GROUPS))
    assert abs(float(row.color_psnr.iloc[0]) - psnr(merge_y_uv(rgb_to_gray(PHOTOS[1]), uv), PHOTOS[1])) < 1e-9
    # a hand-made table: augmented is 1 dB better on every photo under blur, equal when clean
    rows = []
    for i in range(6):
        for method, gain in [("clean", 0.0), ("augmented", 1.0)]:
            rows.append({"photo": f"p{i}", "degradation": "none", "method": method, "color_psnr": 20.0 + i, "colorfulness": 1.0})
            rows.append({"photo": f"p{i}", "degradation": "blur", "method": method, "color_psnr": 18.0 + i + gain,
                         "colorfulness": 1.0})
    table = degrade_training.compare(pd.DataFrame(rows)).set_index("degradation")
    assert table.loc["blur", "dpsnr"] == pytest.approx(1.0) and table.loc["blur", "verdict"] == "better"
    assert table.loc["none", "dpsnr"] == pytest.approx(0.0) and table.loc["none", "verdict"] == "noise"
    assert table.loc["all damaged (mean per photo)", "dpsnr"] == pytest.approx(1.0)
    assert table.loc["blur", "photos"] == 6


def test_the_stored_run_is_complete():
    stored = degrade_training.load_results()
    assert set(stored.degradation) == {"none", "all damaged (mean per photo)"} | set(degrade_training.TEST_DAMAGE)
    assert (stored.dpsnr_low <= stored.dpsnr).all() and (stored.dpsnr <= stored.dpsnr_high).all()
    per_photo = pd.read_csv(degrade_training.models_dir() / degrade_training.RESULTS_FILE.replace(".csv", ".per_photo.csv"))
    diff = (per_photo.pivot_table(index=["photo", "degradation"], columns="method", values="color_psnr")
            .eval("augmented - clean").groupby("degradation").mean())
    for name, value in diff.items():
        assert stored.set_index("degradation").loc[name, "dpsnr"] == pytest.approx(value)


def test_the_command_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "r.csv"
    out.write_text("mine")
    assert degrade_training.main(["--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err and out.read_text() == "mine"
    assert degrade_training.main(["--out", str(tmp_path / "s.csv"), "--epochs", "0"]) == 1

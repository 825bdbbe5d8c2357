"""The scorecard of the papers' claims: verdicts from paired intervals, built from the stored results."""

import numpy as np
import pandas as pd
import pytest

from colorcourse import scorecard
from colorcourse.report import load_results


def _results(shift: float, split: str = "test", noise: float = 0.0, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    base = 20 + 3 * rng.random(n)  # photos of very different difficulty: pairing must remove that
    rows = []
    for claim in scorecard.CLAIMS:
        for method, psnr in ((claim.baseline, base), (claim.method, base + shift + noise * rng.standard_normal(n))):
            rows += [{"method": method, "photo": f"p{i}", "psnr": v, "split": split} for i, v in enumerate(psnr)]
    return pd.DataFrame(rows).drop_duplicates(["method", "photo", "split"])


def test_verdicts_follow_the_interval():
    assert scorecard.verdict(0.1, 0.5) == scorecard.REPRODUCED
    assert scorecard.verdict(-0.5, -0.1) == scorecard.CONTRADICTED
    assert scorecard.verdict(-0.1, 0.5) == scorecard.NOISE


def test_a_setting_better_on_every_photo_reproduces_and_worse_contradicts():
    better = scorecard.scorecard(_results(+0.5), sweep_per_photo=pd.DataFrame())
    # the first claim's pair is a clean +0.5 dB on every photo (later claims reuse methods as baselines)
    first = better.iloc[0]
    assert first["verdict"] == scorecard.REPRODUCED and first["dPSNR (dB)"] == pytest.approx(0.5)
    assert first["95% interval"] == "[+0.50, +0.50]" and first["photos"] == 30
    worse = scorecard.scorecard(_results(-0.5), sweep_per_photo=pd.DataFrame())
    assert worse.iloc[0]["verdict"] == scorecard.CONTRADICTED
    noisy = scorecard.scorecard(_results(0.0, noise=2.0), sweep_per_photo=pd.DataFrame())
    assert noisy.iloc[0]["verdict"] == scorecard.NOISE


def test_the_stored_scorecard_matches_an_independent_paired_mean():
    card = scorecard.scorecard()
    stored = load_results()
    assert set(card["here"]) >= {"test", "shift_test"}
    assert len(card[card["here"].isin(scorecard.SPLITS)]) == 2 * len(scorecard.CLAIMS)
    for claim in scorecard.CLAIMS:
        for split in scorecard.SPLITS:
            part = stored[stored["split"] == split].pivot(index="photo", columns="method", values="psnr")
            expected = (part[claim.method] - part[claim.baseline]).mean()
            row = card[(card["claim"] == claim.claim) & (card["here"] == split)].iloc[0]
            assert row["dPSNR (dB)"] == pytest.approx(expected, abs=0.006)
            low, high = (float(x) for x in row["95% interval"].strip("[]").split(", "))
            assert low <= expected <= high and row["verdict"] == scorecard.verdict(low, high)
    alpha = card[card["claim"].str.startswith("alpha")]
    from colorcourse.fusion.alpha_sweep import SWEEP_FILE, per_photo_path
    from colorcourse.paths import models_dir

    sweep = pd.read_csv(per_photo_path(models_dir() / SWEEP_FILE))
    assert len(alpha) == 2 and set(alpha["photos"]) == {(sweep["method"] == "gray").sum()}  # two seeds, every photo
    assert sum(scorecard.tally(card).values()) == len(card)

"""One scorecard of the papers' claims: what the course reproduces and what it does not.

Taught in notebooks/09_comparison.ipynb. Each row is one claim of Cheng et al. (2015) or
Iizuka et al. (2016) that the course can test, the figure of the paper that makes it, and what
the course's stored results say: the mean paired PSNR difference (the claimed better setting
minus the one it improves on, per photo) with its 95 % bootstrap interval, on the in-domain
``test`` split and on ``shift_test`` (sources never used in training). Nothing is retrained: the
numbers come from ``models/results_per_photo.csv`` (``python -m colorcourse.report``) and
``models/fusion_alpha_sweep.csv`` (``python -m colorcourse.fusion.alpha_sweep``).

Verdicts: **reproduced** when the whole interval is above 0, **contradicted** when it is below,
**not shown (noise)** when it contains 0: these photos cannot tell the two settings apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .metrics import paired_difference

REPRODUCED, CONTRADICTED, NOISE = "reproduced", "contradicted", "not shown (noise)"
SPLITS = ("test", "shift_test")


@dataclass(frozen=True)
class Claim:
    paper: str
    claim: str
    figure: str  # where the paper makes it
    method: str  # the setting the paper says is better (a method name of the per-photo results)
    baseline: str  # the setting it improves on
    lesson: str


CLAIMS = (
    Claim("Cheng et al. 2015", "DAISY improves on the patch feature alone", "Fig. 3 (b) vs (c)",
          "cheng: + DAISY", "cheng: patch", "03"),
    Claim("Cheng et al. 2015", "the semantic feature improves on patch + DAISY", "Fig. 4 (b) vs (c)",
          "cheng: + semantic", "cheng: + DAISY", "03"),
    Claim("Cheng et al. 2015", "the chrominance refinement (joint bilateral filter) improves the result",
          "Fig. 5 (b) vs (c)", "cheng", "cheng: + semantic", "05"),
    Claim("Cheng et al. 2015", "adaptive image clustering improves the PSNR", "Fig. 8",
          "cheng: + clustering", "cheng", "04"),
    Claim("Iizuka et al. 2016", "the global features improve the colorization", "'Effectiveness of Global Features': w/o vs w/",
          "fusion", "fusion: noglobal", "07"),
    Claim("Iizuka et al. 2016", "joint training with classification improves the colorization",
          "joint training with the classification loss", "fusion", "fusion: alpha0", "07"),
)


def verdict(low: float, high: float) -> str:
    """The verdict of a difference whose 95 % interval is ``[low, high]`` (better minus worse)."""
    if low > 0:
        return REPRODUCED
    if high < 0:
        return CONTRADICTED
    return NOISE


def _row(claim: str, paper: str, figure: str, where: str, mean: float, low: float, high: float, n: int,
         lesson: str) -> dict:
    return {"paper": paper, "claim": claim, "paper's figure": figure, "here": where,
            "dPSNR (dB)": round(float(mean), 2), "95% interval": f"[{low:+.2f}, {high:+.2f}]",
            "verdict": verdict(low, high), "photos": int(n), "lesson": lesson}


def alpha_rows(sweep_per_photo: pd.DataFrame, split: str = "val") -> list[dict]:
    """The alpha sweep's test of the paper's weight: alpha = 1/300 against alpha = 0, per seed,
    paired over the sweep's per-photo scores (methods named ``alpha=<a> seed=<s>``)."""
    rows = []
    seeds = sorted({m.split("seed=")[1] for m in sweep_per_photo["method"].unique() if "seed=" in m})
    for seed in seeds:
        paper, without = f"alpha=1/300 seed={seed}", f"alpha=0 seed={seed}"
        if not {paper, without} <= set(sweep_per_photo["method"]):
            continue
        d = paired_difference(sweep_per_photo, paper, baseline=without)
        rows.append(_row("alpha = 1/300 (classification weighted in) beats alpha = 0", "Iizuka et al. 2016",
                         "the loss weight alpha = 1/300", f"{split}, alpha sweep seed {seed}", d["mean"], d["low"],
                         d["high"], d["n"], "07"))
    return rows


def scorecard(results: pd.DataFrame | None = None, sweep_per_photo: pd.DataFrame | None = None) -> pd.DataFrame:
    """The scorecard: one row per claim and split (and per seed of the alpha sweep).

    ``results``: per-photo scores with ``method, photo, psnr, split`` columns (default: the stored
    ``models/results_per_photo.csv``); ``sweep_per_photo``: the alpha sweep's per-photo scores on
    its validation split (default: the stored ``models/fusion_alpha_sweep.per_photo.csv``; pass an
    empty frame to leave them out)."""
    if results is None:
        from .report import load_results

        results = load_results()
    if sweep_per_photo is None:
        from .fusion.alpha_sweep import SWEEP_FILE, per_photo_path
        from .paths import models_dir

        sweep_per_photo = pd.read_csv(per_photo_path(models_dir() / SWEEP_FILE))
    rows = []
    for claim in CLAIMS:
        for split in SPLITS:
            part = results[results["split"] == split]
            if not {claim.method, claim.baseline} <= set(part["method"]):
                continue
            d = paired_difference(part, claim.method, baseline=claim.baseline)
            rows.append(_row(claim.claim, claim.paper, claim.figure, split, d["mean"], d["low"], d["high"],
                             d["n"], claim.lesson))
    if len(sweep_per_photo):
        rows += alpha_rows(sweep_per_photo)
    if not rows:
        raise ValueError("none of the claims' methods are in the results: run python -m colorcourse.report")
    return pd.DataFrame(rows)


def tally(card: pd.DataFrame) -> dict[str, int]:
    """How many rows of each verdict (for the lesson's sentence)."""
    counts = card["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in (REPRODUCED, NOISE, CONTRADICTED)}


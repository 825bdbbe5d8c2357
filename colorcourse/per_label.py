"""Scores per scene label: one method against a baseline (gray), label by label.

A split's mean can hide a label the method gets wrong: a colorizer trained on scenes may beat
gray on sky and grass and lose on objects. :func:`per_label` splits a results table (the one
:func:`colorcourse.metrics.evaluate` returns) by the photos' labels and gives each label its
paired PSNR difference with the course's bootstrap interval (:func:`metrics.paired_difference`)
and its colorfulness ratio, plus the whole split as a last row ("all").
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from colorcourse.metrics import paired_difference

ALL = "all"


def photo_labels(split: str, data_dir=None) -> dict[str, str]:
    """{photo id: label} of a course-pack split (the ids :func:`metrics.evaluate` records)."""
    from colorcourse import coursepack

    manifest = coursepack.load_manifest(data_dir)
    rows = manifest[manifest["split"] == split]
    return dict(zip(rows["id"], rows["label"]))


def per_label(results: pd.DataFrame, labels: Mapping[str, str], method: str, baseline: str = "gray",
              **interval) -> pd.DataFrame:
    """One row per label (sorted, then "all"): ``photos``, the method's and the baseline's mean
    PSNR, ``dpsnr`` with ``dpsnr_low`` / ``dpsnr_high`` (paired, 95 % bootstrap over that label's
    photos), ``verdict`` and the method's ``colorfulness_ratio``. ``labels`` maps each photo of
    ``results`` to its label (e.g. :func:`photo_labels`); ``interval`` goes to paired_difference."""
    photos = set(results.loc[results["method"] == method, "photo"])
    missing = sorted(p for p in photos if p not in labels)
    if missing:
        raise ValueError(f"no label for photo {missing[0]!r} ({len(missing)} photo(s) unlabelled)")
    groups = {label: {p for p in photos if labels[p] == label} for label in sorted({labels[p] for p in photos})}
    groups[ALL] = photos
    rows = {}
    for label, members in groups.items():
        part = results[results["photo"].isin(members) & results["method"].isin([method, baseline])]
        mine = part[part["method"] == method]
        diff = paired_difference(part, method, baseline, **interval)
        rows[label] = {
            "photos": diff["n"],
            "psnr": mine["psnr"].mean(),
            f"{baseline}_psnr": part.loc[part["method"] == baseline, "psnr"].mean(),
            "dpsnr": diff["mean"], "dpsnr_low": diff["low"], "dpsnr_high": diff["high"],
            "verdict": diff["verdict"],
            "colorfulness_ratio": mine["colorfulness"].mean() / mine["true_colorfulness"].mean(),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "label"
    return table

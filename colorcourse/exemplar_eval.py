"""How much a reference photo helps, measured on shift_test (issue 24; lesson 13 shows the numbers).

    python -m colorcourse.exemplar_eval --out models/exemplar_results.csv [--limit N] [--force]

Two kinds of reference for every shift_test photo:

- ``own mirrored``: the photo's own colors, mirrored left-right and cropped by a tenth on every
  side. The right colors are all there, but no pixel is where it was: an upper bound for any
  correspondence, and a test that the matching finds things rather than positions.
- ``same label``: the next photo of the split with the same scene label in the manifest (in id
  order, cyclic): a reference a user could plausibly pick.

Methods scored on the same photos: ``gray`` (no chroma), ``pretrained`` (the automatic default,
no reference), ``welsh`` (:mod:`colorcourse.exemplar_welsh`) and the deep correspondence of
:mod:`colorcourse.exemplar` with both ways of using it: ``exemplar`` (the confidence blend) and
``exemplar-network`` (dense hints into the hint network; its weights are named in the report).
Each method gets the paired PSNR difference to gray and to the default with the course's
bootstrap interval (:func:`colorcourse.metrics.paired_difference`). Writes the per-photo CSV
(``--out``) and a Markdown report beside it (``.md``); existing files need ``--force``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import cli_types
from .color import gray_baseline, rgb_to_gray
from .metrics import colorfulness, markdown_table, paired_difference, psnr, ssim

CONDITIONS = ("own mirrored", "same label")
METHODS = ("gray", "pretrained", "welsh", "exemplar", "exemplar-network")
CROP = 0.1  # fraction cut from every side of the mirrored reference
TARGET_DB, TARGET_RATIO = 4.0, 0.7  # issue 24's targets for the upper bound


def mirrored_crop(rgb: np.ndarray, crop: float = CROP) -> np.ndarray:
    """The photo mirrored left-right with ``crop`` of its height and width cut from every side."""
    h, w = rgb.shape[:2]
    dy, dx = int(h * crop), int(w * crop)
    return np.ascontiguousarray(rgb[dy:h - dy, ::-1][:, dx:w - dx])


def same_label_partners(names: list[str], labels: list[str]) -> dict[str, str | None]:
    """Each photo's partner: the next photo (in the given order, cyclic) with the same label;
    ``None`` for a photo alone with its label."""
    partners: dict[str, str | None] = {}
    for label in dict.fromkeys(labels):
        group = [n for n, lab in zip(names, labels) if lab == label]
        for i, name in enumerate(group):
            partners[name] = group[(i + 1) % len(group)] if len(group) > 1 else None
    return partners


def _row(condition, method, photo, reference, pred, true_rgb, seconds) -> dict:
    return {"condition": condition, "method": method, "photo": photo, "reference": reference,
            "psnr": psnr(pred, true_rgb), "ssim": ssim(pred, true_rgb), "colorfulness": colorfulness(pred),
            "true_colorfulness": colorfulness(true_rgb), "seconds": seconds}


def score(photos, hint_model, default_colorizer, conditions=CONDITIONS, progress: bool = True) -> pd.DataFrame:
    """Per-photo scores of every method under every condition (``photos``: objects with
    ``.name``, ``.label``, ``.rgb``)."""
    from tqdm.auto import tqdm

    from .exemplar import ExemplarSession
    from .exemplar_welsh import colorize_welsh

    by_name = {p.name: p for p in photos}
    partners = same_label_partners([p.name for p in photos], [p.label for p in photos])
    rows = []
    for photo in tqdm(photos, desc="exemplar eval", unit="photo", disable=not progress):
        true_rgb = np.asarray(photo.rgb, dtype=np.float64)
        gray = rgb_to_gray(true_rgb).astype(np.float32)
        start = time.perf_counter()
        auto = default_colorizer(gray)
        auto_seconds = time.perf_counter() - start
        for condition in conditions:
            if condition == "own mirrored":
                reference_name, reference = "own mirrored", mirrored_crop(photo.rgb)
            else:
                reference_name = partners[photo.name]
                if reference_name is None:
                    continue
                reference = by_name[reference_name].rgb
            rows.append(_row(condition, "gray", photo.name, reference_name, gray_baseline(gray), true_rgb, 0.0))
            rows.append(_row(condition, "pretrained", photo.name, reference_name, auto, true_rgb, auto_seconds))
            start = time.perf_counter()
            welsh = colorize_welsh(gray, reference)
            rows.append(_row(condition, "welsh", photo.name, reference_name, welsh, true_rgb,
                             time.perf_counter() - start))
            start = time.perf_counter()
            session = ExemplarSession(hint_model, gray, reference)
            blended = session.colorize("confidence")
            seconds = time.perf_counter() - start
            rows.append(_row(condition, "exemplar", photo.name, reference_name, blended, true_rgb, seconds))
            start = time.perf_counter()
            network = session.colorize("network")
            rows.append(_row(condition, "exemplar-network", photo.name, reference_name, network, true_rgb,
                             time.perf_counter() - start))
    return pd.DataFrame(rows)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """One row per condition and method: mean PSNR, colorfulness ratio, paired dPSNR to gray and to
    the default with 95 % bootstrap intervals."""
    rows = []
    for condition, part in results.groupby("condition", sort=False):
        for method, scores in part.groupby("method", sort=False):
            row = {"condition": condition, "method": method, "photos": len(scores), "psnr": scores["psnr"].mean(),
                   "colorfulness_ratio": scores["colorfulness"].mean() / scores["true_colorfulness"].mean()}
            for baseline in ("gray", "pretrained"):
                if method == baseline:
                    continue
                d = paired_difference(part, method, baseline)
                row |= {f"d_{baseline}": d["mean"], f"d_{baseline}_low": d["low"], f"d_{baseline}_high": d["high"],
                        f"vs_{baseline}": d["verdict"]}
            rows.append(row)
    return pd.DataFrame(rows)


def report(table: pd.DataFrame, weights: str, n_photos: int, seconds: float) -> str:
    """The Markdown report: the table, the weights used and the upper-bound targets checked."""
    shown = table.set_index("method").copy()
    for baseline in ("gray", "pretrained"):
        shown[f"dPSNR vs {baseline} [95% CI]"] = [
            "" if pd.isna(m) else f"{m:+.2f} [{lo:+.2f}, {hi:+.2f}] {v}"
            for m, lo, hi, v in zip(shown[f"d_{baseline}"], shown[f"d_{baseline}_low"], shown[f"d_{baseline}_high"],
                                    shown[f"vs_{baseline}"])]
    shown = shown[["condition", "photos", "psnr", "colorfulness_ratio", "dPSNR vs gray [95% CI]",
                   "dPSNR vs pretrained [95% CI]"]]
    lines = [
        "# Colorization by example on shift_test",
        "",
        f"Written by `python -m colorcourse.exemplar_eval` ({n_photos} shift_test photos at the pack's 256 px, "
        f"{seconds:.0f} s). References: *own mirrored* = the photo's own colors mirrored and cropped by "
        f"{CROP:.0%} a side (an upper bound no pixel lines up with); *same label* = the next shift_test photo with "
        "the same manifest label. dPSNR: mean paired difference in dB with the 95 % percentile bootstrap "
        "interval over photos (`metrics.paired_difference`).",
        "",
        f"Hint network used by exemplar-network: {weights}.",
        "",
        markdown_table(shown, digits=2),
        "",
    ]
    upper = table[(table["condition"] == "own mirrored")].set_index("method")
    for method in ("welsh", "exemplar", "exemplar-network"):
        if method in upper.index:
            gain, ratio = upper.loc[method, "d_gray"], upper.loc[method, "colorfulness_ratio"]
            ok = gain >= TARGET_DB and ratio >= TARGET_RATIO
            lines.append(f"- Upper bound, {method}: {gain:+.2f} dB over gray, colorfulness ratio {ratio:.2f} "
                         f"(targets >= +{TARGET_DB:.0f} dB and >= {TARGET_RATIO}): {'met' if ok else 'not met'}.")
    return "\n".join(lines) + "\n"


def load_hint_model():
    """The trained hint network if its file is there, else the shipped default's decoder (whose
    zero hint weights ignore hints): ``(model, description)``."""
    from .fusion import hinted

    path = hinted.default_model_path()
    if path.is_file():
        model = hinted.load_model(path)
        return model, f"{path.name} (trained hint weights, hint_gain {model.hint_gain:.2f})"
    return hinted.from_pretrained(), ("not trained yet (models/hinted_fusion.safetensors missing): the shipped "
                                      "default's decoder with zero hint weights, so exemplar-network equals pretrained")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorcourse.exemplar_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="per-photo CSV (the Markdown report goes beside it, .md)")
    parser.add_argument("--limit", type=int, default=None, help="first N shift_test photos (default: all)")
    parser.add_argument("--force", action="store_true", help="replace existing result files")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    args = parser.parse_args(argv)
    return cli_types.run_command(lambda: _run(args), debug=args.debug)  # any error: one line


def _run(args) -> int:
    out = Path(args.out)
    md = out.with_suffix(".md")
    existing = [str(p) for p in (out, md) if p.exists()]
    if existing and not args.force:
        print(f"error: {', '.join(existing)} exist(s); pass --force to replace", file=sys.stderr)
        return 1
    if args.limit is not None and args.limit < 2:
        print(f"error: --limit must be at least 2 (pairs are needed), got {args.limit}", file=sys.stderr)
        return 1
    import torch

    from . import coursepack, methods

    torch.set_num_threads(1)  # a shared 2-core machine; the numbers do not depend on it
    photos = coursepack.load_split("shift_test", limit=args.limit)
    model, weights = load_hint_model()
    start = time.perf_counter()
    results = score(photos, model, methods.load("pretrained"))
    seconds = time.perf_counter() - start
    table = summary(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    md.write_text(report(table, weights, len(photos), seconds))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(2).to_string(index=False))
    print(f"wrote {out} and {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

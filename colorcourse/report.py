"""Every shipped model, in domain and out of domain, with paired intervals: the course's results.

    python -m colorcourse.report            # rewrites models/results.md and models/results_per_photo.csv

Taught in notebooks/10_transfer_learning.ipynb; the lessons 03, 04, 06, 07 and 09 show its
tables. Two splits side by side:

- ``test``: the course pack's in-domain test split, from the same sources (GCompris, Scratch,
  OpenCV samples) as the 206 training photos. It measures how well a model fits those sources.
- ``shift_test``: photos from sources never used in training (other packages, other
  photographers). It measures colorization in general, which is what a user gets.

Each method's PSNR is compared with the gray baseline's *on the same photos*: the mean paired
difference and its 95 % bootstrap interval (:func:`colorcourse.metrics.paired_difference`). A
difference whose interval contains 0 is noise at this number of photos, and the tables say so.

The chroma gains of the papers' methods are reported twice: as shipped (chosen on the in-domain
``val`` split) and chosen on ``shift_val`` by the rule of :mod:`colorcourse.calibration`.
``shift_test`` is never used for any choice.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from colorcourse import calibration, coursepack
from colorcourse.color import merge_y_uv
from colorcourse.metrics import evaluate, gray_baseline, markdown_table, paired_difference, side_by_side
from colorcourse.paths import models_dir

SPLITS = ("test", "shift_test")
OBJECTS_SPLIT = "objects_test"  # composites of cut-outs of categories never trained on: the default only
RESULTS_MD = "results.md"
PER_PHOTO_CSV = "results_per_photo.csv"


class ChengAtGain:
    """Cheng's pipeline with another chroma gain, without running it again per gain.

    The joint bilateral filter is linear in the chroma it filters (its weights depend on the gray
    guide only), so ``refine(g * uv) = g * refine(uv)``: the refined chroma of each photo is
    computed once and rescaled for every gain of a sweep.
    """

    def __init__(self, colorizer, cache: dict, gain: float):
        self.colorizer, self.cache, self.gain = colorizer, cache, gain
        self.base_gain = colorizer.network.gain if colorizer.network is not None else 1.0

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        key = hashlib.sha1(np.ascontiguousarray(gray).tobytes()).hexdigest() + str(gray.shape)
        if key not in self.cache:
            self.cache[key] = self.colorizer.predict(gray)[0]
        return merge_y_uv(gray, self.cache[key] * (self.gain / self.base_gain))


def cheng_colorizer(**kwargs):
    from colorcourse.cheng.pipeline import ChengColorizer

    return ChengColorizer(**kwargs)


def fusion_colorizer(name: str = "fusion_full", chroma_gain: float | None = None):
    from colorcourse.fusion.infer import FusionColorizer, default_model_path, load_model

    return FusionColorizer(load_model(default_model_path(name)), chroma_gain=chroma_gain)


def pretrained_colorizer(file: str = "pretrained_fusion", chroma_gain=None, temperature=None):
    from colorcourse.fusion.pretrained import PretrainedColorizer, load_model

    return PretrainedColorizer(load_model(models_dir() / f"{file}.safetensors"), chroma_gain, temperature)


def pretrained_files() -> list[str]:
    return [f for f in ("pretrained_fusion", "pretrained_fusion_classification", "pretrained_fusion_smoothl1")
            if (models_dir() / f"{f}.safetensors").is_file()]


def calibrate_papers(photos, progress: bool = True) -> tuple[dict, pd.DataFrame]:
    """Chroma gains of Cheng's pipeline and the paper's fusion network chosen on ``photos``
    (``shift_val``) by :func:`colorcourse.calibration.choose`; returns ({method: gain}, sweep table)."""
    cheng = cheng_colorizer()
    cache: dict = {}
    gains = tuple(sorted({0.3, 0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.5, 1.7}))
    tables = []
    t = calibration.sweep(lambda gain: ChengAtGain(cheng, cache, gain), photos,
                          [{"gain": g} for g in gains], progress=progress)
    tables.append(t.assign(method="cheng"))
    t = calibration.sweep(lambda gain: fusion_colorizer(chroma_gain=gain), photos,
                          [{"gain": g} for g in gains], progress=progress)
    tables.append(t.assign(method="fusion"))
    sweep_table = pd.concat(tables, ignore_index=True)
    chosen = {m: float(calibration.choose(sweep_table[sweep_table["method"] == m])["gain"]) for m in ("cheng", "fusion")}
    return chosen, sweep_table


def colorizers(shift_gains: dict | None = None) -> dict:
    """Name -> colorizer for the main table (the shipped defaults and their shift_val gains)."""
    from colorcourse.cheng.features import ABLATIONS

    out = {"gray": gray_baseline}
    for f in pretrained_files():
        loss = f.removeprefix("pretrained_fusion").removeprefix("_") or "default"
        out["pretrained" if loss == "default" else f"pretrained ({loss})"] = pretrained_colorizer(f)
    fusion = fusion_colorizer()
    out["fusion"] = fusion
    cheng = cheng_colorizer()
    out["cheng"] = cheng
    if shift_gains:
        out[f"fusion @ gain {shift_gains['fusion']:g} (shift_val)"] = fusion_colorizer(chroma_gain=shift_gains["fusion"])
        out[f"cheng @ gain {shift_gains['cheng']:g} (shift_val)"] = ChengAtGain(cheng, {}, shift_gains["cheng"])
    # the papers' ablations
    out["cheng: patch"] = cheng_colorizer(refine=False, groups=ABLATIONS["patch"])
    out["cheng: + DAISY"] = cheng_colorizer(refine=False, groups=ABLATIONS["patch+daisy"])
    out["cheng: + semantic"] = cheng_colorizer(refine=False)
    out["cheng: + clustering"] = cheng_colorizer(refine=True, clustering=True)
    from colorcourse.fusion.report import available_models

    for name in available_models():
        if name != "fusion_full":
            out[f"fusion: {name.removeprefix('fusion_')}"] = fusion_colorizer(name)
    return out


def run(limit: int | None = None, progress: bool = True) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Per-photo scores of every colorizer on both splits (and of the pretrained decoders and the
    papers' methods on ``shift_val``, where the loss and the gains are chosen); the shift_val
    gains and their sweep."""
    shift_val = coursepack.load_split("shift_val", limit=limit)
    gains, sweep_table = calibrate_papers(shift_val, progress=progress)
    frames = []
    named = colorizers(gains)
    for name in ["gray", "fusion", "cheng"] + [n for n in named if n.startswith("pretrained")]:
        frames.append(evaluate(named[name], shift_val, name=name, progress=progress).assign(split="shift_val"))
    for split in SPLITS:
        photos = coursepack.load_split(split, limit=limit)
        for name, colorizer in named.items():
            frames.append(evaluate(colorizer, photos, name=name, progress=progress).assign(split=split))
    objects = coursepack.load_split(OBJECTS_SPLIT, limit=limit)  # held-out object categories, per label
    for name in ("gray", "pretrained"):
        frames.append(evaluate(named[name], objects, name=name, progress=progress).assign(split=OBJECTS_SPLIT))
    return pd.concat(frames, ignore_index=True), gains, sweep_table


def tables(per_photo: pd.DataFrame, rows: list[str] | None = None, splits=SPLITS) -> pd.DataFrame:
    """The side-by-side table (test | shift_test) of the methods in ``rows`` (default: all)."""
    per_photo = per_photo if rows is None else per_photo[per_photo["method"].isin(rows)]
    result = side_by_side({s: per_photo[per_photo["split"] == s].drop(columns="split") for s in splits
                           if (per_photo["split"] == s).any()})
    if rows is not None:
        result = result.loc[[r for r in rows if r in result.index]]
    return result


def load_results(folder: str | Path | None = None) -> pd.DataFrame:
    """The stored per-photo scores (``models/results_per_photo.csv``), for the lessons."""
    path = Path(folder or models_dir()) / PER_PHOTO_CSV
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; make it with: python -m colorcourse.report")
    return pd.read_csv(path)


MAIN_ROWS = ["gray", "pretrained", "pretrained (classification)", "pretrained (smoothl1)", "fusion", "cheng"]


def write_markdown(per_photo: pd.DataFrame, gains: dict, sweep_table: pd.DataFrame, path: Path) -> None:
    decoders = [m for m in MAIN_ROWS if m.startswith("pretrained") and m in set(per_photo["method"])]
    on_val = per_photo[per_photo["split"] == "shift_val"]
    best_on_shift_val = on_val[on_val["method"].isin(decoders)].groupby("method")["psnr"].mean().idxmax()
    decoder_differences = pd.DataFrame([
        {"decoder": f"{m} - pretrained"} | paired_difference(on_val, m, "pretrained")
        for m in decoders if m != "pretrained"]).set_index("decoder") if "pretrained" in decoders and len(decoders) > 1 else pd.DataFrame()
    counts = per_photo.groupby("split")["photo"].nunique()
    main = [r for r in MAIN_ROWS if r in set(per_photo["method"])] + sorted(
        m for m in per_photo["method"].unique() if "(shift_val)" in m)
    cheng_rows = ["gray", "cheng: patch", "cheng: + DAISY", "cheng: + semantic", "cheng", "cheng: + clustering"]
    fusion_rows = ["gray"] + ["fusion"] + sorted(m for m in per_photo["method"].unique() if m.startswith("fusion: "))
    lines = [
        "# Results: in domain and out of domain",
        "",
        "Made by `python -m colorcourse.report` (it rewrites this file and `results_per_photo.csv`).",
        f"`test`: the course pack's in-domain test split ({counts.get('test', 0)} photos, the training photos' sources); "
        f"`shift_test`: photos from sources never used in training ({counts.get('shift_test', 0)} photos). "
        "dPSNR: mean paired difference to the gray baseline over the same photos, with its 95 % bootstrap "
        "interval; **noise** means the interval contains 0, so this many photos cannot tell the method from gray. "
        "Color ratio: mean colorfulness of the result over the ground truth's.",
        "",
        "## Every method",
        "",
        markdown_table(tables(per_photo, main)),
        "",
        "## The decoders' losses on shift_val",
        "",
        "The three shipped decoders on the frozen encoder: the default (`pretrained`, chosen by the second "
        "round's study below) and the first round's classification and smooth-L1 decoders (the training photos "
        "only), each with its own gain (and temperature) chosen on shift_val; shift_test is not consulted.",
        "",
        markdown_table(tables(per_photo, ["gray"] + decoders, splits=("shift_val",))),
        "",
        f"Best on shift_val: **{best_on_shift_val}**"
        + ("" if best_on_shift_val == "pretrained" else " (not the shipped default: retrain or change the default)")
        + ". Every other decoder's paired difference to the default on shift_val:",
        "",
        markdown_table(decoder_differences),
        "",
        *per_label_section(per_photo),
        *variants_section(path.parent),
        "## Cheng et al.: the ablation (each row adds one step; `cheng` is the shipped pipeline)",
        "",
        markdown_table(tables(per_photo, cheng_rows)),
        "",
        "## Iizuka et al.: the ablations (`fusion` is the paper's model, fusion_full)",
        "",
        markdown_table(tables(per_photo, fusion_rows)),
        "",
        "## The papers' chroma gains chosen out of domain",
        "",
        "Shipped: Cheng's gain chosen on the in-domain val split per network, fusion's 1.3 on val. "
        f"Chosen on `shift_val` by the rule in `colorcourse.calibration` (best PSNR among gains keeping at "
        f"least {calibration.MIN_COLOR_RATIO:.0%} of the true colorfulness by the one-sided 95 % bootstrap lower "
        f"bound of the ratio, else the most colorful): "
        + ", ".join(f"{m} {g:g}" for m, g in gains.items()) + ". The sweep on shift_val:",
        "",
        markdown_table(sweep_table.pivot(index="gain", columns="method", values=["psnr", "colorfulness_ratio"]).round(3)
                       .set_axis([f"{a} {b}" for a, b in sweep_table.pivot(index="gain", columns="method",
                                  values=["psnr", "colorfulness_ratio"]).columns], axis=1)),
        "",
    ]
    path.write_text("\n".join(lines))


def per_label_section(per_photo: pd.DataFrame, method: str = "pretrained") -> list[str]:
    """The default against gray label by label on shift_test and on the object composites."""
    from colorcourse.per_label import per_label, photo_labels

    lines = ["## The default, label by label", "",
             "A split's mean can hide a kind of photo the default gets wrong. Its paired difference to gray "
             "per label (95 % bootstrap interval over that label's photos; few photos give wide intervals) "
             f"on `shift_test` and on `{OBJECTS_SPLIT}` (object cut-outs of categories held out of training "
             "pasted on in-domain photos):", ""]
    for split in ("shift_test", OBJECTS_SPLIT):
        part = per_photo[per_photo["split"] == split]
        if method not in set(part["method"]):
            continue
        table = per_label(part, photo_labels(split), method)
        table["dPSNR vs gray [95% CI]"] = [f"{r.dpsnr:+.2f} [{r.dpsnr_low:+.2f}, {r.dpsnr_high:+.2f}] {r.verdict}"
                                           for r in table.itertuples()]
        shown = table[["photos", "psnr", "gray_psnr", "dPSNR vs gray [95% CI]", "colorfulness_ratio"]]
        lines += [f"`{split}`:", "", markdown_table(shown.rename(columns={"psnr": f"{method} PSNR",
                                                                           "gray_psnr": "gray PSNR"})), ""]
    return lines


def variants_section(folder: Path) -> list[str]:
    """The second round's variant table, when ``python -m colorcourse.fusion.variants`` has run."""
    from colorcourse.fusion import variants

    table_path, per_photo_path = folder / variants.VARIANTS_CSV, folder / variants.PER_PHOTO_CSV
    if not table_path.is_file() or not per_photo_path.is_file():
        return []
    table = pd.read_csv(table_path)
    per_photo = pd.read_csv(per_photo_path)
    versus = variants.against_first(per_photo, str(table["variant"].iloc[0]))
    return ["## The default, second round: what else was tried", "",
            "Made by `python -m colorcourse.fusion.variants`: each variant is one seeded `train_pretrained` "
            "command with its gain chosen on shift_val; the default is the best on shift_val "
            f"(**{variants.best(table)}**); shift_test and the held-out object composites are reported, never "
            "used for a choice. Seconds per 2048 px photo: the colorizer as the command line runs it (512 px "
            "working size, chroma upsampled), median of 3, on the machine that ran the study.", "",
            variants.markdown(table, versus), ""]


SECTION = "\n\n## In domain and out of domain (python -m colorcourse.report)\n"


def update_family_results(per_photo: pd.DataFrame, folder: Path) -> None:
    """Append (or replace) the side-by-side table in ``cheng_results.md`` and ``fusion_results.md``,
    so every results file shows both splits; their own tables come from the training commands."""
    families = {
        "cheng_results.md": ["gray", "cheng: patch", "cheng: + DAISY", "cheng: + semantic", "cheng", "cheng: + clustering"],
        "fusion_results.md": ["gray", "fusion"] + sorted(m for m in per_photo["method"].unique() if m.startswith("fusion: ")),
    }
    for name, rows in families.items():
        path = folder / name
        if not path.is_file():
            continue
        text = path.read_text()
        text = text[: text.index(SECTION)] if SECTION in text else text.rstrip()
        text += (SECTION + "\nThe same models on the in-domain test split and on `shift_test` (photos from sources "
                 "never used in training), with the paired difference to gray and its 95 % bootstrap interval "
                 "(\"noise\": the interval contains 0). Written by `python -m colorcourse.report`.\n\n"
                 + markdown_table(tables(per_photo, rows)) + "\n")
        path.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="folder for results.md and the CSV (default: models/)")
    ap.add_argument("--limit", type=int, help="first N photos of each split (a quick look, not a result)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    out = args.out or models_dir()
    per_photo, gains, sweep_table = run(args.limit, progress=not args.quiet)
    out.mkdir(parents=True, exist_ok=True)
    per_photo.round(5).to_csv(out / PER_PHOTO_CSV, index=False)
    write_markdown(per_photo, gains, sweep_table, out / RESULTS_MD)
    update_family_results(per_photo, out)
    print((out / RESULTS_MD).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

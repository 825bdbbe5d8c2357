"""The weight alpha of the classification loss: a small, seeded sweep (taught in lesson 07).

Iizuka et al. train ``MSE(chroma) + alpha * CE(scene class)`` with ``alpha = 1/300`` and say the
classification helps the colorization. This module measures that claim on the course pack at a
size a 2-core CPU can afford: one network per (alpha, seed), trained with the shipped recipe
(Adam, He init, cosine schedule; :mod:`colorcourse.fusion.train`) but **smaller** (narrow, short,
smaller crops; see :data:`SWEEP_DEFAULTS`), then scored on whole photos of one split (``val`` by
default: the test splits are never consulted) against the gray baseline, photo by photo:

- ``dpsnr`` and its 95 % bootstrap interval over photos (:func:`colorcourse.metrics.paired_difference`)
  against gray, and against the paper's ``alpha = 1/300`` trained with the same seed;
- the colorfulness ratio and the scene-class accuracy on the same photos;
- the training loss terms at the end (mean of the last logged rows): ``mse``, ``ce`` and
  ``alpha * ce``, to show which term the optimiser mostly sees.

Every number comes from one command (the stored table is made this way)::

    python -m colorcourse.fusion.alpha_sweep --out models/fusion_alpha_sweep.csv

It writes the table (one row per alpha and seed) and ``fusion_alpha_sweep.per_photo.csv`` (every
photo's scores, so the intervals can be recomputed), and refuses to overwrite them without ``--force``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from colorcourse import cli_types
from colorcourse.fusion.data import CropSampler
from colorcourse.fusion.infer import FusionColorizer, predict_logits
from colorcourse.fusion.train import TrainConfig, read_log, train
from colorcourse.metrics import evaluate, gray_baseline, paired_difference
from colorcourse.color import rgb_to_gray

PAPER_ALPHA = 1 / 300
ALPHAS = (0.0, 1 / 3000, 1 / 300, 1 / 30, 1 / 3)
# Small on purpose: the stored sweep (5 alphas x 2 seeds) took 693 s of training on one CPU thread,
# 25 minutes of wall time on the shared 2-core machine. The shipped fusion_full is width 0.125,
# 224 px crops, 500 steps: these networks are weaker than it, and the sweep says how alpha moves
# a network of this size, not the shipped one.
SWEEP_DEFAULTS = TrainConfig(width=0.125, optimizer="adam", lr=1e-3, steps=200, batch_size=16, crop=128,
                             seed=0, init="kaiming", lr_schedule="cosine", val_every=20)
SWEEP_FILE = "fusion_alpha_sweep.csv"
LAST_ROWS = 3  # the loss terms are single batches: average the last few logged values


def alpha_label(alpha: float) -> str:
    """``0``, ``1/300``, ``1/3``...: the sweep's alphas written as the paper writes them."""
    if alpha == 0:
        return "0"
    # the simplest fraction within 0.1 % of alpha (1/3000 stays 1/3000; 0.0033333 reads 1/300)
    for max_denominator in (10, 100, 1000, 10_000, 100_000, 1_000_000):
        f = Fraction(alpha).limit_denominator(max_denominator)
        if f and abs(float(f) - alpha) <= 1e-3 * abs(alpha):
            break
    else:
        return f"{alpha:g}"
    return f"{f.numerator}/{f.denominator}" if f.denominator != 1 else str(f.numerator)


def class_accuracy(model, photos, classes: list[str]) -> float:
    """Share of ``photos`` whose scene label the model's classifier names (from the gray photo)."""
    known = [p for p in photos if getattr(p, "label", None) in classes]
    if model.classifier is None or not known:
        return float("nan")
    hits = [int(predict_logits(model, rgb_to_gray(p.rgb)).argmax()) == classes.index(p.label) for p in known]
    return float(np.mean(hits))


def train_one(cfg: TrainConfig, train_photos, classes: list[str], progress: bool = False):
    """Train one network of the sweep; returns (model, the log rows, {wall and CPU seconds}).

    The CPU seconds say what the run costs on an idle machine; the wall seconds grow with the load."""
    sampler = CropSampler(train_photos, crop=cfg.crop, classes=classes)
    with tempfile.TemporaryDirectory() as tmp:  # train() logs only beside a checkpoint
        out = Path(tmp) / "sweep.safetensors"
        start, cpu_start = time.perf_counter(), time.process_time()
        model = train(cfg, sampler, None, out=out, progress=progress, save_optimizer=False)
        seconds = {"train_seconds": round(time.perf_counter() - start, 1),
                   "train_cpu_seconds": round(time.process_time() - cpu_start, 1)}
        rows = read_log(out)
    return model, rows, seconds


def sweep(
    train_photos,
    eval_photos,
    classes: list[str],
    alphas=ALPHAS,
    seeds=(0,),
    config: TrainConfig = SWEEP_DEFAULTS,
    chroma_gain: float = 1.0,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train one network per (alpha, seed) and score it on ``eval_photos``.

    Returns ``(table, per_photo)``: the table has one row per (alpha, seed) with the training
    loss terms, the evaluation's PSNR, paired ``dpsnr`` vs gray with its interval, paired
    ``dpsnr_vs_paper`` vs ``alpha = 1/300`` of the same seed (when the sweep has it), colorfulness
    ratio and class accuracy. ``per_photo`` holds :func:`colorcourse.metrics.evaluate`'s rows
    (method ``gray`` or ``alpha=A seed=S``) for recomputing any interval.
    """
    alphas, seeds = list(alphas), list(seeds)
    if not alphas or not seeds:
        raise ValueError("the sweep needs at least one alpha and one seed")
    if any(a < 0 for a in alphas):
        raise ValueError(f"alpha must be >= 0, got {alphas}")
    if len({alpha_label(a) for a in alphas}) != len(alphas) or len(set(seeds)) != len(seeds):
        raise ValueError(f"each alpha and each seed once, got alphas {alphas} and seeds {seeds}")
    if len(classes) < 2:
        raise ValueError("the sweep needs at least 2 scene classes (the loss it varies is their cross-entropy)")
    eval_photos = list(eval_photos)
    per_photo = [evaluate(gray_baseline, eval_photos, name="gray", progress=False)]
    rows = []
    runs = [(a, s) for s in seeds for a in alphas]
    for alpha, seed in tqdm(runs, desc="alpha sweep", disable=not progress):
        cfg = replace(config, alpha=alpha, seed=seed, n_classes=len(classes), classes=",".join(classes))
        model, log, seconds = train_one(cfg, train_photos, classes)
        name = f"alpha={alpha_label(alpha)} seed={seed}"
        scores = evaluate(FusionColorizer(model, name=name, chroma_gain=chroma_gain), eval_photos, name=name,
                          progress=False)
        per_photo.append(scores)
        last = pd.DataFrame(log[-LAST_ROWS:])
        rows.append({
            "alpha": alpha_label(alpha), "alpha_value": alpha, "seed": seed,
            "train_mse": float(last["mse"].mean()), "train_ce": float(last["ce"].mean()),
            "train_alpha_ce": float(alpha * last["ce"].mean()),
            "psnr": float(scores["psnr"].mean()),
            "colorfulness_ratio": float(scores["colorfulness"].mean() / scores["true_colorfulness"].mean()),
            "class_accuracy": class_accuracy(model, eval_photos, classes),
            **seconds, "method": name,
        })
    per_photo = pd.concat(per_photo, ignore_index=True)
    return add_intervals(pd.DataFrame(rows), per_photo), per_photo


def add_intervals(table: pd.DataFrame, per_photo: pd.DataFrame) -> pd.DataFrame:
    """The sweep's paired columns, from the per-photo scores: ``dpsnr`` (and ``_low`` / ``_high``,
    the 95 % bootstrap interval) against gray, and ``dpsnr_vs_paper`` against alpha = 1/300 of
    the same seed (empty for that run itself, or when the sweep lacks it)."""
    if table["method"].duplicated().any():
        raise ValueError(f"two runs share a name: {table['method'][table['method'].duplicated()].tolist()}")
    table = table.copy()
    gray = per_photo[per_photo["method"] == "gray"]
    intervals = [paired_difference(pd.concat([gray, per_photo[per_photo["method"] == m]]), m) for m in table["method"]]
    table["dpsnr"] = [d["mean"] for d in intervals]
    table["dpsnr_low"] = [d["low"] for d in intervals]
    table["dpsnr_high"] = [d["high"] for d in intervals]
    table["gray_psnr"] = float(gray["psnr"].mean())
    vs_paper = []
    for method, seed in zip(table["method"], table["seed"]):
        paper = f"alpha={alpha_label(PAPER_ALPHA)} seed={seed}"
        if paper not in set(table["method"]) or paper == method:
            vs_paper.append({"mean": np.nan, "low": np.nan, "high": np.nan})
        else:
            both = per_photo[per_photo["method"].isin([method, paper])]
            vs_paper.append(paired_difference(both, method, baseline=paper))
    table["dpsnr_vs_paper"] = [d["mean"] for d in vs_paper]
    table["dpsnr_vs_paper_low"] = [d["low"] for d in vs_paper]
    table["dpsnr_vs_paper_high"] = [d["high"] for d in vs_paper]
    return table


def per_photo_path(table_path: str | Path) -> Path:
    table_path = Path(table_path)
    return table_path.with_name(table_path.stem + ".per_photo.csv")


def load_sweep(path: str | Path | None = None) -> pd.DataFrame:
    """The stored sweep table (``models/fusion_alpha_sweep.csv``), for lesson 07."""
    from colorcourse.paths import models_dir

    path = Path(path) if path is not None else Path(models_dir()) / SWEEP_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; make it with: python -m colorcourse.fusion.alpha_sweep "
                                f"--out {path}")
    return pd.read_csv(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", required=True, help="the table to write (.csv); the per-photo scores go beside it")
    parser.add_argument("--alphas", type=cli_types.non_negative_float, nargs="+", default=list(ALPHAS))
    parser.add_argument("--seeds", type=cli_types.non_negative_int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=cli_types.positive_int, default=SWEEP_DEFAULTS.steps)
    parser.add_argument("--width", type=cli_types.positive_float, default=SWEEP_DEFAULTS.width)
    parser.add_argument("--crop", type=cli_types.int_at_least(16, "the network downsamples by 8"), default=SWEEP_DEFAULTS.crop)
    parser.add_argument("--split", default="val", help="where to score (never a test split when choosing)")
    parser.add_argument("--limit", type=cli_types.positive_int, help="use only the first N training photos")
    parser.add_argument("--threads", type=cli_types.positive_int, default=1, help="torch threads")
    parser.add_argument("--force", action="store_true", help="overwrite --out and its per-photo file")
    cli_types.add_debug(parser)
    args = parser.parse_args(argv)
    return cli_types.run_command(lambda: _main(parser, args), debug=args.debug)  # any error: one line


def _main(parser: argparse.ArgumentParser, args) -> int:
    out = Path(args.out)
    for path in (out, per_photo_path(out)):
        if path.exists() and not args.force:
            parser.error(f"{path} exists; pass --force to overwrite it")
    torch.set_num_threads(args.threads)
    from colorcourse import coursepack

    config = replace(SWEEP_DEFAULTS, steps=args.steps, width=args.width, crop=args.crop,
                     val_every=max(1, args.steps // 10))
    start = time.perf_counter()
    table, per_photo = sweep(coursepack.load_split("train", limit=args.limit), coursepack.load_split(args.split),
                             coursepack.labels(), alphas=args.alphas, seeds=args.seeds, config=config)
    table["split"] = args.split
    table["steps"], table["width"], table["crop"] = config.steps, config.width, config.crop
    out.parent.mkdir(parents=True, exist_ok=True)
    table.round({c: 5 for c in table.columns if c != "alpha_value"}).to_csv(out, index=False)  # alpha exact
    per_photo.round(5).to_csv(per_photo_path(out), index=False)
    print(table[["alpha", "seed", "train_mse", "train_alpha_ce", "psnr", "dpsnr", "dpsnr_low", "dpsnr_high",
                 "dpsnr_vs_paper", "colorfulness_ratio", "class_accuracy", "train_cpu_seconds"]].round(4).to_string())
    print(f"wrote {out} and {per_photo_path(out)} in {time.perf_counter() - start:.0f} s "
          f"({table['train_cpu_seconds'].sum():.0f} CPU seconds of training)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

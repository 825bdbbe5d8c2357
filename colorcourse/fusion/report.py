"""Scoring the shipped fusion models on the course pack, beside the gray baseline.

Taught in notebooks/06_fusion_cnn.ipynb (results) and notebooks/07_joint_classification.ipynb
(ablations). ``python -m colorcourse.fusion.report`` rewrites ``models/fusion_results.md``.

The shipped models (``models/fusion_*.safetensors``), each made by ``python -m
colorcourse.fusion.train`` with the command recorded in :data:`TRAINING_COMMANDS`:

- ``fusion_full``: the paper's model (global features + classification, alpha = 1/300), trained
  with He initialisation and a cosine learning-rate schedule, colorized with the a*b* gain 1.3
  chosen on the validation split (stored in its checkpoint);
- ``fusion_noglobal``: without global features (no global path, no classifier);
- ``fusion_alpha0``: global features but alpha = 0 (the classifier is not trained);
- ``fusion_backbone``: global features from a frozen EfficientNet-Lite0 (beyond the paper).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from colorcourse.checkpoint import read_header
from colorcourse.metrics import markdown_table
from colorcourse.fusion.infer import FusionColorizer, default_model_path, load_model, predict_logits

MODEL_NAMES = ("fusion_full", "fusion_noglobal", "fusion_alpha0", "fusion_backbone")
_COMMON = "python -m colorcourse.fusion.train --width 0.125 --optimizer adam --lr 0.001 --val-every 100 --threads 1 --weights-only"
# He init + cosine schedule (see train.init_weights); --chroma-gain 1.3 is the inference default
# stored in the checkpoint, chosen on the validation split for fusion_full (notes in
# models/fusion_results.md). Every variant shares the recipe, so the ablations compare like with like.
_RECIPE = "--init kaiming --lr-schedule cosine --chroma-gain 1.3"
TRAINING_COMMANDS = {
    "fusion_full": f"{_COMMON} {_RECIPE} --steps 500 --out models/fusion_full.safetensors",
    "fusion_noglobal": f"{_COMMON} {_RECIPE} --steps 500 --use-global false --out models/fusion_noglobal.safetensors",
    "fusion_alpha0": f"{_COMMON} {_RECIPE} --steps 500 --alpha 0 --out models/fusion_alpha0.safetensors",
    "fusion_backbone": f"{_COMMON} {_RECIPE} --steps 200 --global-source backbone --out models/fusion_backbone.safetensors",
}


def available_models() -> list[str]:
    """The shipped models present in ``models/`` (the backbone one needs its PyPI packages)."""
    from colorcourse.fusion.backbone import backbone_available

    names = [n for n in MODEL_NAMES if default_model_path(n).is_file()]
    return [n for n in names if n != "fusion_backbone" or backbone_available()]


def classification_accuracy(model, photos, classes: list[str]) -> float | None:
    """Top-1 scene accuracy of the model's classifier on labelled photos (None: no classifier)."""
    from colorcourse.color import rgb_to_gray

    if model.classifier is None:
        return None
    hits = [classes[int(predict_logits(model, rgb_to_gray(p.rgb)).argmax())] == p.label for p in photos]
    return float(np.mean(hits))


def evaluate_models(photos, names=None, progress: bool = True, extra: dict | None = None) -> pd.DataFrame:
    """PSNR / SSIM / colorfulness of the gray baseline and each model (``metrics.summarize``),
    plus the classification accuracy and training steps of each model. ``extra``: more
    colorizers by name (e.g. the Cheng pipeline)."""
    from colorcourse.metrics import evaluate, gray_baseline, summarize

    names = list(names) if names is not None else available_models()
    tables = [evaluate(gray_baseline, photos, name="gray baseline", progress=progress)]
    for name, colorizer in (extra or {}).items():
        tables.append(evaluate(colorizer, photos, name=name, progress=progress))
    accuracy, steps = {}, {}
    for name in names:
        model = load_model(default_model_path(name))
        tables.append(evaluate(FusionColorizer(model), photos, name=name, progress=progress))
        classes = [c for c in _config(name).get("classes", "").split(",") if c]
        accuracy[name] = classification_accuracy(model, photos, classes) if classes else None
        steps[name] = _config(name).get("step")
    table = summarize(pd.concat(tables, ignore_index=True))
    table["class_accuracy"] = pd.Series(accuracy, dtype=float)
    table["train_steps"] = pd.Series(steps, dtype=float)
    return table


def chroma_gain_sweep(model, photos, gains=(1.0, 1.5, 2.0, 2.5), progress: bool = False) -> pd.DataFrame:
    """PSNR and colorfulness of one model at several chroma gains, beside the gray baseline
    (choose a gain on the validation split, report it on the test split)."""
    from colorcourse.metrics import evaluate, gray_baseline, summarize

    tables = [evaluate(gray_baseline, photos, name="gray baseline", progress=progress)]
    for g in gains:
        tables.append(evaluate(FusionColorizer(model, chroma_gain=g), photos, name=f"gain {g:g}", progress=progress))
    return summarize(pd.concat(tables, ignore_index=True))


def _config(name: str) -> dict:
    import json

    return json.loads(read_header(default_model_path(name))["config"])


def write_results(path: str | Path, table: pd.DataFrame, split: str, n_photos: int) -> Path:
    """``models/fusion_results.md``: the table, how it was made, and how to remake it."""
    path = Path(path)
    lines = [
        "# Fusion network (Iizuka et al.): shipped models on the course pack",
        "",
        f"Scored on the course pack's **{split}** split ({n_photos} photos) by "
        "`python -m colorcourse.fusion.report` (2-core CPU). PSNR on uint8 RGB; "
        "colorfulness_ratio = colorfulness / ground truth's (Hasler & Suesstrunk).",
        "",
        markdown_table(table),
        "",
        "Training commands (seeded; course pack train split; every run a few minutes on 2 cores):",
        "",
    ]
    lines += [f"- `{name}`: `{cmd}`" for name, cmd in TRAINING_COMMANDS.items()]
    # hand-written notes below the marker (other experiments) survive a rewrite of the table
    notes = path.read_text().split(NOTES_MARKER, 1)[1] if path.exists() and NOTES_MARKER in path.read_text() else "\n"
    path.write_text("\n".join(lines) + "\n\n" + NOTES_MARKER + notes)
    return path


NOTES_MARKER = "<!-- notes: kept when the table above is regenerated -->"


def main(argv=None) -> None:
    from colorcourse import coursepack
    from colorcourse.paths import models_dir

    parser = argparse.ArgumentParser(description="Score the shipped fusion models; write models/fusion_results.md")
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", default=str(models_dir() / "fusion_results.md"))
    args = parser.parse_args(argv)
    photos = coursepack.load_split(args.split)
    table = evaluate_models(photos)
    print(table.round(3).to_string())
    write_results(args.out, table, args.split, len(photos))


if __name__ == "__main__":
    main()

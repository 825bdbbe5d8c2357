"""Train the default Cheng et al. models from the course pack: ``python -m colorcourse.cheng.train --out models``.

Taught in notebooks/03_cheng_per_pixel_dnn.ipynb (the commands) and 04 (the clustering).

Seeded and reproducible; on a 2-core CPU it takes a few minutes. It writes into ``--out``:

- ``cheng_parser.safetensors``: the scene parser (offline default: pseudo-classes; with
  ``--parser encoder`` soft classes of the pretrained ImageNet encoder's features; with
  ``--parser siftflow --siftflow-root DIR`` the paper's FCN on gray SIFT Flow images);
- ``cheng_mlp_patch.safetensors``, ``cheng_mlp_patch_daisy.safetensors``,
  ``cheng_mlp_patch_daisy_semantic.safetensors``: the ablation's single networks
  (the last one is *the* single network of the paper);
- ``cheng_clusters.safetensors``: the networks of the adaptive clustering (Algorithm 3);
- ``cheng_results.json`` / ``cheng_results.md``: the test-split numbers.

Existing files are never replaced unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import cli_types
from ..color import rgb_to_gray
from ..metrics import evaluate, gray_baseline, summarize
from .clustering import adaptive_clustering, minimal_images
from .features import ABLATIONS, FEATURE_GROUPS
from .mlp import ChengMLP, train_pixel_colorizer
from .pipeline import (
    CLUSTERS_FILE,
    PARSER_FILE,
    ChengColorizer,
    build_training_set,
    calibrate_cluster_gain,
    calibrate_gain,
    feature_columns,
    network_file,
)
from .semantic import N_SIFTFLOW_CLASSES, fit_encoder_semantic_parser, fit_pseudo_class_parser, train_fcn_parser

RESULTS_JSON = "cheng_results.json"
RESULTS_MD = "cheng_results.md"
PARSER_CHOICES = ("pseudo", "encoder", "siftflow")
PARSER_NAMES = {
    "pseudo": "pseudo-classes (offline default)",
    "encoder": "soft classes of the pretrained encoder's features (PCA to 33)",
    "siftflow": "FCN on gray SIFT Flow",
}


def output_files(out: Path) -> list[Path]:
    names = [PARSER_FILE, CLUSTERS_FILE, RESULTS_JSON, RESULTS_MD]
    names += [network_file(g) for g in ABLATIONS.values()]
    return [out / n for n in names]


def train_parser(kind: str, train_grays, siftflow_root=None, seed=0, progress=True):
    """The offline pseudo-class parser, the pretrained encoder's soft classes, or the paper's
    FCN trained on gray SIFT Flow."""
    if kind == "pseudo":
        return fit_pseudo_class_parser(train_grays, N_SIFTFLOW_CLASSES, per_image=1500, seed=seed, progress=progress)
    if kind == "encoder":
        return fit_encoder_semantic_parser(train_grays, N_SIFTFLOW_CLASSES, N_SIFTFLOW_CLASSES, per_image=1500,
                                           seed=seed, progress=progress)
    if kind == "siftflow":
        from ..datasets.siftflow import load_siftflow  # raises DatasetMissingError if not fetched

        items = list(load_siftflow(siftflow_root))
        grays = [rgb_to_gray(np.asarray(rgb, np.float32)).astype(np.float32) for _, rgb, _ in items]
        labels = [np.asarray(lab) for _, _, lab in items]
        model, _ = train_fcn_parser(grays, labels, N_SIFTFLOW_CLASSES, seed=seed, progress=progress)
        return model
    raise ValueError(f"unknown parser {kind!r}: one of {', '.join(PARSER_CHOICES)}")


def evaluate_models(folder: Path, photos, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ablation on ``photos``: per-photo table and summary (PSNR, SSIM, colorfulness)."""
    variants = [
        ("gray baseline", gray_baseline),
        ("patch", ChengColorizer(folder, refine=False, groups=ABLATIONS["patch"])),
        ("+ DAISY", ChengColorizer(folder, refine=False, groups=ABLATIONS["patch+daisy"])),
        ("+ semantic", ChengColorizer(folder, refine=False)),
        ("+ refinement", ChengColorizer(folder, refine=True)),
        ("+ clustering", ChengColorizer(folder, refine=True, clustering=True)),
    ]
    frames = [evaluate(c, photos, name=name, progress=progress) for name, c in variants]
    per_photo = pd.concat(frames, ignore_index=True)
    return per_photo, summarize(per_photo)


def results_markdown(summary: pd.DataFrame, info: dict) -> str:
    cols = ["photos", "psnr", "ssim", "colorfulness", "colorfulness_ratio", "seconds"]
    table = summary[cols].reset_index()
    lines = [
        "# Cheng et al. on " + ("your photos" if info.get("photos_folder") else "the course pack") + ": the ablation",
        "",
        (f"Held-out photos of {info['photos_folder']} ({int(table['photos'].iloc[0])} photos, shorter side 256 px); "
         if info.get("photos_folder") else
         f"Test split of the course pack ({int(table['photos'].iloc[0])} photos, shorter side 256 px); ") +
        "PSNR and SSIM on uint8 RGB against the photo; colorfulness (Hasler & Suesstrunk) and its "
        "ratio to the ground truth's. Each row adds one step to the row above. "
        "Made by `python -m colorcourse.cheng.train "
        + (f"--photos {info['photos_folder']} " if info.get("photos_folder") else "")
        + f"--out models` (seed {info['seed']}, "
        f"{info['train_photos']} training photos, {info['per_image']} pixels per photo, parser: "
        f"{info['parser']}), training took {info['train_seconds']:.0f} s on {info['machine']}.",
        "",
        "| method | PSNR (dB) | SSIM | colorfulness | colorfulness / truth | s per photo |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['method']} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['colorfulness']:.1f} | "
            f"{r['colorfulness_ratio']:.2f} | {r['seconds']:.2f} |"
        )
    c = info["clustering"]
    lines += [
        "",
        f"Adaptive clustering: N0 = {c['n_top']}, mu = {c['mu']} (alpha = {c['alpha']}, "
        f"N_w = {c['n_weights']}, N_s = {info['per_image']}), threshold {c['threshold_db']} dB, "
        f"{len(c['clusters'])} networks: "
        + ", ".join(f"layer {x['layer']}: {x['members']} photos" for x in c["clusters"])
        + ".",
        "",
        "Chroma gain chosen on the validation split (uv = gain x network output; 1 = raw): "
        + (", ".join(f"{k}: {v:.1f}" for k, v in info["chroma_gain_from_val"].items()) or "none (--no-calibrate)")
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("models"), help="folder for the model files and results")
    ap.add_argument("--force", action="store_true", help="replace existing model files")
    ap.add_argument("--seed", type=cli_types.non_negative_int, default=0, help="seeds the pixel sampling, k-means and the networks")
    ap.add_argument("--per-image", type=cli_types.positive_int, default=2000, help="pixels sampled per photo (N_s)")
    ap.add_argument("--epochs", type=cli_types.positive_int, default=4, help="passes over the sampled pixels (more overfit the ~200 training photos: measured on val)")
    ap.add_argument("--limit", type=cli_types.positive_int, default=None, help="use only the first N training photos")
    ap.add_argument("--test-limit", type=cli_types.positive_int, default=None, help="score only the first N test photos")
    ap.add_argument("--parser", choices=PARSER_CHOICES, default="pseudo",
                    help="scene parser for the semantic feature: the offline pseudo-classes, soft classes of the "
                         "pretrained ImageNet encoder's features (needs its packages: colorcourse.encoder), or the "
                         "paper's FCN on SIFT Flow (fetch it with data_scripts/fetch_siftflow.py)")
    ap.add_argument("--siftflow-root", type=Path, default=None, help="the fetched SIFT Flow folder (--parser siftflow)")
    ap.add_argument("--n-top", type=cli_types.positive_int, default=3, help="N0, clusters on the top layer")
    ap.add_argument("--alpha", type=cli_types.positive_float, default=8.0, help="mu = alpha * N_w / N_s (Eq. 3)")
    ap.add_argument("--threshold-db", type=cli_types.finite_float, default=26.0,
                    help="Algorithm 3: photos its cluster's network already colorizes above this PSNR are removed "
                         "before the next layer")
    ap.add_argument("--no-eval", action="store_true", help="skip scoring on the test split")
    ap.add_argument("--no-calibrate", action="store_true", help="keep the raw chroma (gain 1)")
    ap.add_argument("--photos", type=Path, default=None,
                    help="train on your own folder of color photos instead of the course pack "
                         "(a fixed 10%% is held out: it chooses the chroma gain and is scored)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    cli_types.add_debug(ap)
    args = ap.parse_args(argv)
    return cli_types.run_command(lambda: _main(args), debug=args.debug)  # any error: one line


def _main(args) -> int:
    progress = not args.quiet

    from ..coursepack import load_split

    existing = [p for p in output_files(args.out) if p.exists()]
    if existing and not args.force:
        print(f"refusing to overwrite {', '.join(str(p) for p in existing)} (use --force)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.photos is not None:
        from ..datasets.folder import load_folder, split_own_photos

        photos, own_val = split_own_photos(load_folder(args.photos))
        photos = photos[: args.limit]
    else:
        photos, own_val = load_split("train", limit=args.limit), None
    rgbs = [p.rgb for p in photos]
    grays = [rgb_to_gray(r).astype(np.float32) for r in rgbs]
    parser = train_parser(args.parser, grays, args.siftflow_root, args.seed, progress)
    data = build_training_set(rgbs, parser, args.per_image, args.seed, [p.name for p in photos], progress)
    train_kwargs = {"epochs": args.epochs}
    networks = {}
    for name, groups in ABLATIONS.items():
        cols = feature_columns(groups, parser.n_classes)
        networks[name] = train_pixel_colorizer(
            data.features[:, cols], data.uv, groups, parser.n_classes, seed=args.seed, progress=progress, **train_kwargs
        )
    n_weights = ChengMLP(data.features.shape[1]).n_weights()
    mu = minimal_images(n_weights, args.per_image, args.alpha)
    clusters = adaptive_clustering(
        data, FEATURE_GROUPS, n_top=args.n_top, mu=mu, threshold_db=args.threshold_db,
        seed=args.seed, train_kwargs=train_kwargs, progress=progress,
    )
    gains = {}
    if not args.no_calibrate:
        val = own_val if own_val is not None else load_split("val")
        held_out = build_training_set([p.rgb for p in val], parser, 1000, args.seed + 1, progress=progress)
        for name, net in networks.items():
            calibrate_gain(net, held_out, parser.n_classes)
            gains[name] = net.gain
        calibrate_cluster_gain(clusters, held_out)
        gains["clustering"] = clusters.clusters[0].network.gain
    train_seconds = time.perf_counter() - start
    parser.save(args.out / PARSER_FILE, overwrite=args.force)
    for name, groups in ABLATIONS.items():
        networks[name].save(args.out / network_file(groups), overwrite=args.force)
    clusters.save(args.out / CLUSTERS_FILE, overwrite=args.force)
    info = {
        "seed": args.seed,
        "photos_folder": str(args.photos) if args.photos is not None else None,
        "train_photos": len(photos),
        "per_image": args.per_image,
        "epochs": args.epochs,
        "parser": PARSER_NAMES[args.parser],
        "train_seconds": train_seconds,
        "machine": "a 2-core CPU",
        "train_loss": {k: v.history for k, v in networks.items()},
        "chroma_gain_from_val": gains,
        "clustering": {
            "n_top": args.n_top, "alpha": args.alpha, "mu": mu, "n_weights": n_weights,
            "threshold_db": args.threshold_db,
            "clusters": [
                {"layer": c.layer, "members": len(c.members),
                 "photos": [data.names[m] for m in c.members],
                 "train_psnr_mean": float(np.mean(list(c.train_psnr.values())))}
                for c in clusters.clusters
            ],
        },
    }
    if not args.no_eval:
        # own photos: scored on the held-out ones (the gain was chosen there too: optimistic)
        test = own_val if own_val is not None else load_split("test", limit=args.test_limit)
        per_photo, summary = evaluate_models(args.out, test, progress)
        info["summary"] = json.loads(summary.reset_index().to_json(orient="records"))
        info["per_photo"] = json.loads(per_photo[["method", "photo", "psnr", "colorfulness"]].to_json(orient="records"))
        (args.out / RESULTS_MD).write_text(results_markdown(summary, info))
        print(results_markdown(summary, info))
    (args.out / RESULTS_JSON).write_text(json.dumps(info, indent=1))
    print(f"wrote models to {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the pretrained-encoder colorizer's decoder, then choose its gain on held-out photos.

    python -m colorcourse.fusion.train_pretrained --loss classification --out build/models/pretrained_fusion.safetensors

Taught in notebooks/10_transfer_learning.ipynb. Three steps:

1. **Encode once.** The encoder is frozen, so its features of a training crop never change:
   each training photo is cut into ``--views`` random 224 px crops (flipped at random), encoded
   once, and the features kept in memory (about 0.3 MB a crop in float16) and cached on disk.
   Training then runs only the small decoder: minutes instead of an hour on 2 cores.
2. **Train the decoder** with the chosen loss (``mse``, ``smoothl1`` or Zhang et al.'s
   rebalanced ``classification``), Adam with a cosine-decayed learning rate, seeded. The
   in-domain validation loss is logged beside the training loss.
3. **Calibrate** the chroma gain (and, for classification, the annealed-mean temperature) on the
   out-of-domain ``shift_val`` split with :func:`colorcourse.calibration.choose`, and store them
   in the checkpoint. ``shift_test`` is never looked at.

With ``--tune-last-stage`` the encoder's stride-32 stage and head are trained too, at a tenth of
the decoder's learning rate (:mod:`colorcourse.fusion.tuned_stage`): they are recomputed at each
step from the cached stride-16 maps, so nothing is encoded again.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from colorcourse import abbins, calibration, cli_types, encoder as enc
from colorcourse.color import rgb_to_gray, rgb_to_lab
from colorcourse.fusion.pretrained import (
    LOSSES, OUTPUT_STRIDE, PretrainedConfig, PretrainedFusionNet, regression_loss, save_model,
)
from colorcourse.fusion.tuned_stage import TunedEncoder, TunedLastStage, restaged, tuned_stage_of
from colorcourse.metrics import colorfulness, psnr, ssim

CROP = 224
# The shipped decoders, each made by one of these seeded commands (``make models`` reruns them).
# The default (pretrained_fusion) is the second round's best variant on shift_val
# (colorcourse.fusion.variants, models/results.md): smooth-L1 on the training photos and the
# object composites, its chroma refined by a guided filter, at the gain the calibration rule chose.
# The classification and smooth-L1 decoders are the first round's (training photos only), kept
# for lesson 10's comparison of losses and for the palette of suggested colors.
TRAINING_COMMANDS = {
    "pretrained_fusion": "python -m colorcourse.fusion.train_pretrained --loss smoothl1 --extra-splits objects_train "
                         "--refine-radius 8 --out models/pretrained_fusion.safetensors",
    "pretrained_fusion_classification": "python -m colorcourse.fusion.train_pretrained --loss classification "
                                        "--out models/pretrained_fusion_classification.safetensors",
    "pretrained_fusion_smoothl1": "python -m colorcourse.fusion.train_pretrained --loss smoothl1 "
                                  "--out models/pretrained_fusion_smoothl1.safetensors",
}
TEMPERATURES = (0.2, 0.3, 0.38, 0.5, 0.7, 1.0)
REFINE_EPS = 1e-2  # the guided filter's eps with --refine-radius (colorcourse.chroma_refine.EPS)


def random_views(photos, views: int, crop: int, seed: int, scale_range: tuple[float, float] = (1.0, 1.0)):
    """``views`` random crops (side ``crop``, or the photo's shorter side rounded down to 32) of
    each photo, flipped at random: (gray N x 1 x c x c, ab N x 2 x c/4 x c/4) per crop size.

    ``scale_range`` (low, high): each view first rescales its photo by a factor drawn
    log-uniformly from it, so the decoder sees things at more sizes than the photos hold them
    ((1, 1), the default, keeps every photo at its own size and draws nothing more)."""
    from skimage.transform import rescale, resize

    rng = np.random.default_rng(seed)
    low, high = scale_range
    grays, abs_ = [], []
    for photo in photos:
        original = np.asarray(photo.rgb, dtype=np.float32)
        for _ in range(views):
            rgb = original
            if (low, high) != (1.0, 1.0):
                factor = float(np.exp(rng.uniform(np.log(low), np.log(high))))
                rgb = np.clip(rescale(original, factor, channel_axis=-1, anti_aliasing=factor < 1), 0, 1)
                rgb = rgb.astype(np.float32)
            h, w = rgb.shape[:2]
            c = min(crop, (min(h, w) // 32) * 32)
            if c < 32:
                continue
            y, x = rng.integers(0, h - c + 1), rng.integers(0, w - c + 1)
            patch = rgb[y : y + c, x : x + c]
            if rng.random() < 0.5:
                patch = patch[:, ::-1]
            if c != crop:  # rare: a photo smaller than the crop is resized up to it
                patch = resize(patch, (crop, crop, 3), anti_aliasing=False).astype(np.float32)
            grays.append(rgb_to_gray(patch).astype(np.float32)[None])
            ab = torch.from_numpy(rgb_to_lab(patch)[..., 1:].astype(np.float32)).permute(2, 0, 1)
            abs_.append(torch.nn.functional.avg_pool2d(ab[None], OUTPUT_STRIDE)[0])
    return torch.from_numpy(np.stack(grays)), torch.stack(abs_)


def encode_views(encoder, gray: torch.Tensor, batch: int = 16, progress: bool = True):
    """Encoder features of every view, float16: (four map tensors, pooled tensor)."""
    maps_parts: list[list[torch.Tensor]] = [[] for _ in enc.STRIDES]
    pooled_parts = []
    for start in tqdm(range(0, len(gray), batch), desc="encoding crops (frozen encoder, once)",
                      disable=not progress, unit="batch"):
        maps, pooled = encoder(gray[start : start + batch])
        for i, m in enumerate(maps):
            maps_parts[i].append(m.half())
        pooled_parts.append(pooled.half())
    return [torch.cat(p) for p in maps_parts], torch.cat(pooled_parts)


def cached_features(encoder, photos, views, crop, seed, cache_dir: Path | None, progress=True,
                    scale_range: tuple[float, float] = (1.0, 1.0)):
    """:func:`random_views` + :func:`encode_views`, cached under ``cache_dir`` by a key of the
    photos' names and pixels, the views, crop, seed, scale range and the encoder file's digest
    (an encoder without a name, as in tests, counts as the default's)."""
    key = hashlib.sha256()
    for p in photos:
        key.update(p.name.encode())
        key.update(np.ascontiguousarray(p.rgb[::16, ::16]).tobytes())
    scales = "" if tuple(scale_range) == (1.0, 1.0) else f"-scale{scale_range[0]:g}-{scale_range[1]:g}"
    encoder_sha256 = enc.spec(getattr(encoder, "name", enc.DEFAULT_ENCODER)).weights_sha256
    key.update(f"{views}-{crop}-{seed}-{encoder_sha256}{scales}".encode())
    path = cache_dir / f"encoded-{key.hexdigest()[:16]}.pt" if cache_dir else None
    if path is not None and path.is_file():
        data = torch.load(path, weights_only=True)
        return data["maps"], data["pooled"], data["ab"]
    gray, ab = random_views(photos, views, crop, seed, scale_range)
    maps, pooled = encode_views(encoder, gray, progress=progress)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"maps": maps, "pooled": pooled, "ab": ab}, tmp)
        tmp.replace(path)
    return maps, pooled, ab


def loss_fn(model: PretrainedFusionNet, out, ab, weights):
    if model.config.loss == "classification":
        target = abbins.soft_encode(ab, model.bin_centres)
        return abbins.rebalanced_cross_entropy(out, target, weights)
    return regression_loss(out, ab, model.config.loss)


def batch_of(maps, pooled, ab, index):
    return [m[index].float() for m in maps], pooled[index].float(), ab[index]


def fit(model: PretrainedFusionNet, data, val, weights, args) -> list[dict]:
    """Train the decoder (and the encoder's tuned last stage, if the model has one) on cached
    features ``data`` = (maps, pooled, ab), logging the loss on ``val`` alike; the log's rows.

    ``args``: steps, batch, lr, seed, log_every, loss, quiet and stage_lr_ratio (the tuned stage
    learns at lr x that ratio: its ImageNet weights are a good start that a large step would undo).
    """
    stage = tuned_stage_of(model.encoder)
    groups = [{"params": list(model.decoder.parameters()), "lr": args.lr}]
    if stage is not None:
        groups.append({"params": list(stage.parameters()), "lr": args.lr * args.stage_lr_ratio})
    optimizer = torch.optim.Adam(groups, lr=args.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    generator = torch.Generator().manual_seed(args.seed)
    (maps, pooled, ab), (vmaps, vpooled, vab) = data, val
    log_rows, running, start = [], [], time.perf_counter()
    what = "decoder" if stage is None else "decoder and last encoder stage"
    bar = tqdm(range(1, args.steps + 1), desc=f"training {what} ({args.loss})", disable=args.quiet)
    for step in bar:
        model.decoder.train()
        if stage is not None:
            stage.train()  # its batch norms stay in eval mode: TunedLastStage.train says why
        index = torch.randint(0, len(ab), (args.batch,), generator=generator)
        m, p, a = batch_of(maps, pooled, ab, index)
        loss = loss_fn(model, model.decoder(*restaged(stage, m, p)), a, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        running.append(loss.item())
        if step % args.log_every == 0 or step == args.steps:
            model.decoder.eval()
            with torch.no_grad():
                vm, vp, va = batch_of(vmaps, vpooled, vab, torch.arange(len(vab)))
                val_loss = loss_fn(model, model.decoder(*restaged(stage, vm, vp)), va, weights).item()
            row = {"step": step, "train_loss": float(np.mean(running)), "val_loss": val_loss,
                   "seconds": round(time.perf_counter() - start, 1)}
            log_rows.append(row)
            running = []
            bar.set_postfix(train=f"{row['train_loss']:.4f}", val=f"{val_loss:.4f}")
    model.decoder.eval()
    return log_rows


def calibrate(model: PretrainedFusionNet, photos, progress: bool = True) -> tuple[pd.DataFrame, pd.Series]:
    """Sweep gain (and temperature) on ``photos``; the chosen row. Each photo is encoded once."""
    from colorcourse.chroma_refine import refine_for
    from colorcourse.fusion.pretrained import ab_to_rgb, upsample_ab

    temperatures = TEMPERATURES if model.config.loss == "classification" else (1.0,)
    outputs = []
    model.eval()
    for photo in tqdm(photos, desc="calibrating on held-out photos", disable=not progress):
        gray = rgb_to_gray(np.asarray(photo.rgb, dtype=np.float64))
        with torch.inference_mode():
            out = model(torch.from_numpy(gray.astype(np.float32))[None, None])
        outputs.append((photo, gray, out, colorfulness(photo.rgb)))
    rows = []
    for t in temperatures:
        per_gain = {g: [] for g in calibration.GAINS}
        for photo, gray, out, true_colorfulness in outputs:
            with torch.inference_mode():
                ab = refine_for(model, gray, upsample_ab(model.to_ab(out, t), gray.shape))
            for g in calibration.GAINS:
                rgb = ab_to_rgb(gray, ab, g)
                per_gain[g].append({"psnr": psnr(rgb, photo.rgb), "ssim": ssim(rgb, photo.rgb),
                                    "colorfulness": colorfulness(rgb), "true_colorfulness": true_colorfulness})
        for g, scores in per_gain.items():
            rows.append({"temperature": t, "gain": g} | calibration.summarize_setting(pd.DataFrame(scores)))
    table = pd.DataFrame(rows)
    return table, calibration.choose(table)


def train(args) -> Path:
    from colorcourse import coursepack

    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.photos:
        from colorcourse.datasets.folder import load_folder, split_own_photos

        train_photos, val_photos = split_own_photos(load_folder(args.photos))
        calib_photos = val_photos
        calibrated_on = f"{args.photos} (held-out 10 %)"
    else:
        train_photos = [photo for split in ("train", *args.extra_splits)
                        for photo in coursepack.load_split(split, limit=args.limit)]
        val_photos = coursepack.load_split("val", limit=args.limit)
        try:
            calib_photos = coursepack.load_split(args.calibrate_on, limit=args.limit)
            calibrated_on = args.calibrate_on
        except Exception as e:  # no shift split in a pack built without Debian's packages
            print(f"warning: {e}; calibrating on the in-domain val split instead", file=sys.stderr)
            calib_photos, calibrated_on = val_photos, "val"
    encoder = enc.MultiScaleEncoder(args.encoder)
    cache = None if args.no_cache else args.cache
    maps, pooled, ab = cached_features(encoder, train_photos, args.views, CROP, args.seed, cache, not args.quiet,
                                       args.scale_range)
    vmaps, vpooled, vab = cached_features(encoder, val_photos, 1, CROP, args.seed + 1, cache, not args.quiet)
    centres = weights = None
    n_bins = 0
    if args.loss == "classification":
        centres = torch.from_numpy(abbins.in_gamut_bins())
        n_bins = len(centres)
        counts = abbins.bin_counts(ab, centres)
        weights = torch.from_numpy(abbins.rebalancing_weights(counts, centres.numpy()))
    config = PretrainedConfig(loss=args.loss, width=args.width, n_bins=n_bins, encoder=args.encoder)
    if args.tune_last_stage:  # the cached stride-16 maps are that stage's input: nothing is encoded again
        encoder = TunedEncoder(encoder, TunedLastStage(encoder.net))
    model = PretrainedFusionNet(config, encoder=encoder, bin_centres=centres)
    start = time.perf_counter()
    log_rows = fit(model, (maps, pooled, ab), (vmaps, vpooled, vab), weights, args)
    model.refine_radius, model.refine_eps = args.refine_radius, (REFINE_EPS if args.refine_radius else 0.0)
    table, chosen = calibrate(model, calib_photos, progress=not args.quiet)  # the gain of the refined chroma
    model.chroma_gain, model.temperature = float(chosen["gain"]), float(chosen["temperature"])
    extra = {"steps": args.steps, "batch": args.batch, "lr": args.lr, "views": args.views, "seed": args.seed,
             **({"stage_lr": args.lr * args.stage_lr_ratio} if args.tune_last_stage else {}),
             "extra_splits": ",".join(args.extra_splits), "scale_range": list(args.scale_range),
             "calibrated_on": calibrated_on, "train_photos": len(train_photos),
             "training_seconds": round(time.perf_counter() - start, 1)}
    out = save_model(args.out, model, extra, overwrite=args.force)
    with open(out.with_suffix(".log.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(log_rows[0]))
        writer.writeheader()
        writer.writerows(log_rows)
    table.round(4).to_csv(out.with_suffix(".calibration.csv"), index=False)
    print(f"chosen on {calibrated_on}: temperature {model.temperature}, gain {model.chroma_gain} "
          f"(PSNR {chosen['psnr']:.2f} dB, colorfulness ratio {chosen['colorfulness_ratio']:.2f}, "
          f"one-sided 95 % lower bound {chosen['colorfulness_ratio_low']:.2f})")
    print(f"wrote {out}")
    return out


def recalibrate(model_path: Path, split: str, out: Path, force: bool = False, progress: bool = True,
                limit: int | None = None) -> Path:
    """Choose the gain (and temperature) of a trained decoder again, on another course-pack split."""
    import json

    from colorcourse import coursepack
    from colorcourse.checkpoint import read_header
    from colorcourse.fusion.pretrained import load_model

    model = load_model(model_path)
    table, chosen = calibrate(model, coursepack.load_split(split, limit=limit), progress=progress)
    model.chroma_gain, model.temperature = float(chosen["gain"]), float(chosen["temperature"])
    config = json.loads(read_header(model_path)["config"])
    keep = {k: v for k, v in config.items() if k not in ("loss", "width", "global_dim", "n_bins", "chroma_gain",
                                                         "temperature", "encoder", "encoder_sha256")}
    written = save_model(out, model, keep | {"calibrated_on": split}, overwrite=force)
    table.round(4).to_csv(written.with_suffix(".calibration.csv"), index=False)
    log = model_path.with_suffix(".log.csv")
    if log.is_file() and log.resolve() != written.with_suffix(".log.csv").resolve():
        written.with_suffix(".log.csv").write_text(log.read_text())
    print(f"chosen on {split}: temperature {model.temperature}, gain {model.chroma_gain} "
          f"(PSNR {chosen['psnr']:.2f} dB, colorfulness ratio {chosen['colorfulness_ratio']:.2f}, "
          f"one-sided 95 % lower bound {chosen['colorfulness_ratio_low']:.2f}); wrote {written}")
    return written


def training_splits(text: str) -> tuple[str, ...]:
    """``--extra-splits``: comma-separated course-pack training splits; an evaluation split is
    refused (the val, test and shift splits judge the model and must stay unseen)."""
    from colorcourse.coursepack import SPLITS

    names = tuple(name.strip() for name in text.split(",") if name.strip())
    trainable = tuple(s for s in SPLITS if s.endswith("_train"))  # beside "train", which is always used
    for name in names:
        if name not in trainable:
            raise argparse.ArgumentTypeError(
                f"{cli_types.printable(name)} is not a training split (choose from {', '.join(trainable)})")
    return names


def scale_range(text: str) -> tuple[float, float]:
    """``--scale-range LOW,HIGH``: two factors, 0 < LOW <= HIGH <= 4."""
    parts = text.split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (two numbers), got {cli_types.printable(text)}") from None
    if not (0 < low <= high <= 4):
        raise argparse.ArgumentTypeError(f"need 0 < LOW <= HIGH <= 4, got {low:g},{high:g}")
    return low, high


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", choices=LOSSES, default="mse",
                    help="mse, smoothl1 (regression on a*b*) or classification (Zhang et al.'s rebalanced bins)")
    ap.add_argument("--out", type=Path, default=Path("build/models/pretrained_fusion.safetensors"))
    ap.add_argument("--steps", type=cli_types.positive_int, default=400, help="decoder optimisation steps")
    ap.add_argument("--batch", type=cli_types.positive_int, default=16, help="crops per step")
    ap.add_argument("--lr", type=cli_types.positive_float, default=1e-3, help="Adam's learning rate (cosine-decayed to 0)")
    ap.add_argument("--views", type=cli_types.positive_int, default=8, help="random crops encoded per training photo")
    ap.add_argument("--encoder", choices=list(enc.ENCODERS), default=enc.DEFAULT_ENCODER,
                    help="the frozen ImageNet encoder the decoder reads (Lite1 and Lite2: deeper, slower; "
                         "with --recalibrate the model's own encoder is used)")
    ap.add_argument("--width", type=cli_types.positive_int, default=48, help="decoder channels at stride 4")
    ap.add_argument("--seed", type=cli_types.non_negative_int, default=0)
    ap.add_argument("--limit", type=cli_types.positive_int, help="use only the first N photos of each split (quick runs)")
    ap.add_argument("--photos", type=Path, help="train on this folder of color photos instead of the course pack")
    ap.add_argument("--extra-splits", type=training_splits, default=(), metavar="SPLIT[,SPLIT]",
                    help="course-pack splits trained on beside 'train', e.g. objects_train (the object composites)")
    ap.add_argument("--refine-radius", type=cli_types.non_negative_int, default=0, metavar="PIXELS",
                    help="refine the chroma along the gray's edges with a guided filter of this radius "
                         "(colorcourse.chroma_refine; 0: bilinear upsampling only)")
    ap.add_argument("--scale-range", type=scale_range, default=(1.0, 1.0), metavar="LOW,HIGH",
                    help="rescale each view's photo by a factor drawn from LOW..HIGH (default 1,1: no rescaling)")
    ap.add_argument("--tune-last-stage", action="store_true",
                    help="also fine-tune the encoder's stride-32 stage and head (from the cached stride-16 maps; "
                         "colorcourse.fusion.tuned_stage), stored in the checkpoint")
    ap.add_argument("--stage-lr-ratio", type=cli_types.positive_float, default=0.1, metavar="RATIO",
                    help="with --tune-last-stage: the stage's learning rate is --lr x RATIO (default 0.1)")
    ap.add_argument("--calibrate-on", default="shift_val", help="course-pack split the gain is chosen on")
    ap.add_argument("--cache", type=Path, default=Path("build/cache"), help="where encoded crops are kept")
    ap.add_argument("--no-cache", action="store_true", help="encode the crops again, keep nothing on disk")
    ap.add_argument("--log-every", type=cli_types.positive_int, default=100)
    ap.add_argument("--recalibrate", type=Path, metavar="MODEL",
                    help="train nothing: choose MODEL's gain again on --calibrate-on and write it to --out")
    ap.add_argument("--force", action="store_true", help="replace --out if it exists")
    ap.add_argument("--quiet", action="store_true")
    cli_types.add_debug(ap)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return cli_types.run_command(lambda: _main(args), debug=args.debug)  # any error: one line


def _main(args) -> int:
    if args.out.exists() and not args.force:
        print(f"error: {args.out} exists (use --force to replace it)", file=sys.stderr)
        return 2
    from colorcourse.fusion.pretrained import encoder_named_in

    try:  # the encoder trained on, or the one the model to recalibrate names
        enc.weights_path(encoder_named_in(args.recalibrate) if args.recalibrate else args.encoder)
    except enc.EncoderUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.recalibrate:
        recalibrate(args.recalibrate, args.calibrate_on, args.out, force=args.force, progress=not args.quiet,
                    limit=args.limit)
    else:
        train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

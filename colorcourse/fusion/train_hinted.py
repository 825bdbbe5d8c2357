"""Train the hint network's decoder on simulated hints, then choose its two gains on held-out photos.

    python -m colorcourse.fusion.train_hinted --out build/models/hinted_fusion.safetensors

Taught in notebooks/12_guided_colorization.ipynb. Zhang et al. 2017 train on hints simulated
from the training photos' own colors, so no user is needed. Four steps:

1. **Encode once**, exactly as :mod:`colorcourse.fusion.train_pretrained` does (the same crops,
   the same cache): the encoder never sees a hint, so its features never change.
2. **Start from the shipped default** (``models/pretrained_fusion.safetensors``) with the hint
   weights at zero: before the first step the network *is* today's default colorizer.
3. **Train** the hint weights on simulated hints drawn afresh for every crop of every batch by
   Zhang et al.'s sampler (:func:`colorcourse.hints.zhang_training_hints`: a geometric number of
   patches, none in one crop of 8, each filled with its mean true a*b*), seeded. The hints are
   drawn on the decoder's output grid (stride 4), from the crop's true a*b* pooled to that grid,
   which is also the loss's target: a user's hints land on that same grid at inference
   (``Hints.dense(grid)``), so training sees hints as the network will. Patch sides count grid
   cells: 1 to ``--max-side`` 3 cells is 4 to 12 px of the crop, around the evaluation's 9 px
   patches (Zhang et al. draw 1 to 9 px at 256 px and evaluate 6 px patches). Loss: MSE on
   a*b* / 110, the default's loss.

   Two choices, from trial runs (300 to 400 steps):

   - the default decoder's own weights stay frozen (``--base-lr 0``): fine-tuning them at 2e-4
     lowered PSNR without hints on a third of ``shift_val`` (gain 1) from 21.51 to 21.04 dB (it
     learns the training crops further), while frozen they keep the output without hints
     exactly the default's;
   - the default has all but memorised its training crops (training loss 0.006 against 0.022 on
     ``val``), so on them a hint says nothing it does not already predict: without ``--recolor``
     the ``val`` loss with hints was 0.7 % below the loss without (0.02153 against 0.02169, the
     first form of the hint inputs, learning rate 1e-3). ``--recolor`` turns the hues of half the
     hinted crops, target and hints alike, so that only the hints know the colors; with it (and
     the learning rate 5e-3) the loss with hints is 46 % below (0.0117, the inputs of
     :mod:`colorcourse.fusion.hinted` as they are now).
4. **Calibrate** on ``shift_val`` by :func:`colorcourse.calibration.choose`: the gain without
   hints (the automatic colorizer) and the gain with hints (the evaluation protocol's 10 points).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from colorcourse import calibration, cli_types, encoder as enc
from colorcourse.color import rgb_to_gray, rgb_to_lab
from colorcourse.fusion import hinted
from colorcourse.fusion.pretrained import ab_to_rgb, regression_loss, upsample_ab
from colorcourse.fusion.train_pretrained import CROP, batch_of, cached_features, random_views, training_splits
from colorcourse.metrics import colorfulness, psnr

TRAINING_COMMAND = "python -m colorcourse.fusion.train_hinted --out models/hinted_fusion.safetensors"
CALIBRATION_POINTS = (0, 10)  # no hints (the automatic colorizer) and the evaluation protocol's 10 points
CALIBRATION_SEED = 1000  # hints drawn on shift_val; shift_test is evaluated with other draws


def simulated_hints(ab: torch.Tensor, rng: np.random.Generator, p: float, max_side: int):
    """Zhang et al.'s hints for every crop of a batch: ``ab`` ``N x 2 x h x w`` -> (hint a*b*
    ``N x 2 x h x w``, mask ``N x 1 x h x w``)."""
    from colorcourse.hints import zhang_training_hints

    hint_ab, mask = [], []
    for crop in ab.permute(0, 2, 3, 1).numpy():
        h, m = zhang_training_hints(crop, rng, p=p, max_side=max_side)
        hint_ab.append(h)
        mask.append(m)
    return torch.from_numpy(np.stack(hint_ab)).permute(0, 3, 1, 2), torch.from_numpy(np.stack(mask))[:, None]


def recolor(ab: torch.Tensor, hint_ab: torch.Tensor, mask: torch.Tensor, rng: np.random.Generator, q: float):
    """Turn the hues (rotate a*b* about gray) of a random share ``q`` of the crops that have hints,
    target and hints alike. The default decoder has all but memorised its training crops, so
    their hints tell it nothing it does not already predict; with the hue turned, only the hints
    know the colors, and the decoder must learn to follow and spread them."""
    chosen = (rng.random(len(ab)) < q) & mask.flatten(1).any(dim=1).numpy()
    if not chosen.any():
        return ab, hint_ab
    angle = torch.from_numpy(np.where(chosen, rng.uniform(0, 2 * np.pi, len(ab)), 0.0).astype(np.float32))
    c, s = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]

    def turn(x):
        return torch.stack([c * x[:, 0] - s * x[:, 1], s * x[:, 0] + c * x[:, 1]], dim=1)

    return turn(ab), turn(hint_ab)


def cached_crops(encoder, photos, views: int, seed: int, cache, progress: bool):
    """:func:`~colorcourse.fusion.train_pretrained.cached_features` of the crops, plus each crop's
    gray on the decoder's grid (the guide along whose edges hints spread): ``(maps, pooled, ab, guide)``.

    The gray crops are cut again by :func:`~colorcourse.fusion.train_pretrained.random_views`
    with the same seed; their a*b* must equal the cached one (else the cache is of other crops)."""
    maps, pooled, ab = cached_features(encoder, photos, views, CROP, seed, cache, progress)
    gray, ab_again = random_views(photos, views, CROP, seed)
    if ab_again.shape != ab.shape or not torch.allclose(ab_again, ab.float(), atol=1e-3):
        raise RuntimeError(f"the encoded crops in {cache} are not the crops of these photos; delete the cache")
    return maps, pooled, ab, hinted.grid_guide(gray, tuple(ab.shape[-2:]))


def batch_with_guide(data, index):
    maps, pooled, ab, guide = data
    return (*batch_of(maps, pooled, ab, index), guide[index].float())


def validation_losses(model, data, p, max_side, seed) -> tuple[float, float]:
    """In-domain validation loss without hints and with simulated hints (the same draws every time)."""
    model.decoder.eval()
    m, pl, a, g = batch_with_guide(data, torch.arange(len(data[2])))
    hint_ab, mask = simulated_hints(a, np.random.default_rng(seed), p, max_side)
    with torch.no_grad():
        plain = regression_loss(model.decode(m, pl), a, model.config.loss).item()
        hinted_loss = regression_loss(model.decode(m, pl, hint_ab, mask, g), a, model.config.loss).item()
    return plain, hinted_loss


def calibrate(model: hinted.HintedFusionNet, photos, points=CALIBRATION_POINTS, seed: int = CALIBRATION_SEED,
              progress: bool = True) -> tuple[pd.DataFrame, dict[int, pd.Series]]:
    """Sweep the gain on ``photos`` (whole photos) at each number of evaluation hints in ``points``
    (PSNR and colorfulness: what the rule reads); returns (table with a ``points`` column, {points: the row :func:`calibration.choose` picks})."""
    from colorcourse.hints import evaluation_hints

    scores = {(n, g): [] for n in points for g in calibration.GAINS}
    for index, photo in enumerate(tqdm(photos, desc="calibrating on held-out photos", disable=not progress)):
        rgb = np.asarray(photo.rgb, dtype=np.float64)
        gray = rgb_to_gray(rgb)
        session = hinted.HintSession(model, gray, work_size=None)
        true_ab = rgb_to_lab(rgb)[..., 1:]
        true_colorfulness = colorfulness(rgb)
        for n in points:
            hints = evaluation_hints(true_ab, n, seed=seed + index) if n else None
            ab = session.full_size_ab(hints)
            for g in calibration.GAINS:
                out = ab_to_rgb(gray, ab, g)
                scores[n, g].append({"psnr": psnr(out, rgb), "colorfulness": colorfulness(out),
                                     "true_colorfulness": true_colorfulness})
    table = pd.DataFrame([{"points": n, "gain": g} | calibration.summarize_setting(pd.DataFrame(rows))
                          for (n, g), rows in scores.items()])
    return table, {n: calibration.choose(table[table["points"] == n]) for n in points}


def load_photos(args):
    from colorcourse import coursepack

    train_photos = [photo for split in ("train", *args.extra_splits)
                    for photo in coursepack.load_split(split, limit=args.limit)]
    val_photos = coursepack.load_split("val", limit=args.limit)
    try:
        calib_photos, calibrated_on = coursepack.load_split(args.calibrate_on, limit=args.limit), args.calibrate_on
    except Exception as e:  # no shift split in a pack built without Debian's packages
        print(f"warning: {e}; calibrating on the in-domain val split instead", file=sys.stderr)
        calib_photos, calibrated_on = val_photos, "val"
    return train_photos, val_photos, calib_photos, calibrated_on


def train_decoder(model: hinted.HintedFusionNet, data, val, args, progress: bool = True) -> list[dict]:
    """Fine-tune ``model``'s decoder on cached crops ``data`` = (maps, pooled, ab, guide) (as
    :func:`cached_crops` returns them; ``val`` alike); returns the log."""
    ab = data[2]
    hint_params = model.decoder.hint_parameters()
    base_params = list(model.decoder.base.parameters())
    for p in base_params:
        p.requires_grad_(args.base_lr > 0)
    groups = [{"params": hint_params, "lr": args.lr}]
    if args.base_lr > 0:
        groups.append({"params": base_params, "lr": args.base_lr})
    optimizer = torch.optim.Adam(groups)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    generator = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    log_rows, running, start = [], [], time.perf_counter()
    bar = tqdm(range(1, args.steps + 1), desc="training the hint decoder", disable=not progress)
    for step in bar:
        model.decoder.train()
        if args.base_lr == 0:
            model.decoder.base.eval()  # frozen: its batch-norm statistics stay the default's too
        index = torch.randint(0, len(ab), (args.batch,), generator=generator)
        m, p, a, g = batch_with_guide(data, index)
        hint_ab, mask = simulated_hints(a, rng, args.p, args.max_side)
        if args.recolor > 0:
            a, hint_ab = recolor(a, hint_ab, mask, rng, args.recolor)
        loss = regression_loss(model.decode(m, p, hint_ab, mask, g), a, model.config.loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        running.append(loss.item())
        if step % args.log_every == 0 or step == args.steps:
            plain, with_hints = validation_losses(model, val, args.p, args.max_side, args.seed + 1)
            log_rows.append({"step": step, "train_loss": float(np.mean(running)), "val_loss_no_hints": plain,
                             "val_loss_hints": with_hints, "seconds": round(time.perf_counter() - start, 1)})
            running = []
            bar.set_postfix(train=f"{log_rows[-1]['train_loss']:.4f}", val0=f"{plain:.4f}", val=f"{with_hints:.4f}")
    model.decoder.eval()
    return log_rows


def train(args) -> Path:
    torch.manual_seed(args.seed)
    progress = not args.quiet
    train_photos, val_photos, calib_photos, calibrated_on = load_photos(args)
    encoder = enc.MultiScaleEncoder()
    model = hinted.from_pretrained(args.init, encoder=encoder)
    cache = None if args.no_cache else args.cache
    data = cached_crops(encoder, train_photos, args.views, args.seed, cache, progress)
    val = cached_crops(encoder, val_photos, 1, args.seed + 1, cache, progress)
    start = time.perf_counter()
    log_rows = train_decoder(model, data, val, args, progress)
    training_seconds = time.perf_counter() - start
    table, chosen = calibrate(model, calib_photos, progress=progress)
    model.chroma_gain = float(chosen[0]["gain"])
    model.hint_gain = float(chosen[max(CALIBRATION_POINTS)]["gain"])
    extra = {"steps": args.steps, "batch": args.batch, "lr": args.lr, "base_lr": args.base_lr, "views": args.views,
             "seed": args.seed, "p": args.p, "recolor": args.recolor, "max_side": args.max_side, "calibrated_on": calibrated_on,
             "init": Path(args.init).name if args.init else "pretrained_fusion.safetensors",
             "train_photos": len(train_photos), "extra_splits": ",".join(args.extra_splits), "training_seconds": round(training_seconds, 1)}
    out = hinted.save_model(args.out, model, extra, overwrite=args.force)
    with open(out.with_suffix(".log.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(log_rows[0]))
        writer.writeheader()
        writer.writerows(log_rows)
    table.round(4).to_csv(out.with_suffix(".calibration.csv"), index=False)
    for n, row in chosen.items():
        print(f"chosen on {calibrated_on} with {n} hints: gain {row['gain']} (PSNR {row['psnr']:.2f} dB, "
              f"colorfulness ratio {row['colorfulness_ratio']:.2f}, one-sided 95 % lower bound "
              f"{row['colorfulness_ratio_low']:.2f})")
    print(f"trained in {training_seconds:.0f} s; wrote {out}")
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("build/models/hinted_fusion.safetensors"))
    ap.add_argument("--init", type=Path, help="the default decoder to start from (default: the shipped "
                                              "models/pretrained_fusion.safetensors)")
    ap.add_argument("--steps", type=int, default=400, help="decoder optimisation steps")
    ap.add_argument("--batch", type=int, default=16, help="crops per step")
    ap.add_argument("--lr", type=float, default=5e-3, help="Adam's learning rate of the hint weights (cosine-decayed)")
    ap.add_argument("--base-lr", type=float, default=0.0,
                    help="learning rate of the default decoder's own weights (0, the default: keep them exactly)")
    ap.add_argument("--p", type=float, default=1 / 8, help="Zhang et al.'s geometric parameter: P(no hint) = p")
    ap.add_argument("--max-side", type=int, default=3, help="largest hint patch side, in cells of the stride-4 grid")
    ap.add_argument("--recolor", type=float, default=0.5,
                    help="share of the crops with hints whose hues (target and hints) are turned at random")
    ap.add_argument("--views", type=int, default=8, help="random crops encoded per training photo")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, help="use only the first N photos of each split (quick runs)")
    ap.add_argument("--extra-splits", type=training_splits, default=(), metavar="SPLIT[,SPLIT]",
                    help="course-pack splits trained on beside 'train', e.g. objects_train (the object composites)")
    ap.add_argument("--calibrate-on", default="shift_val", help="course-pack split the gains are chosen on")
    ap.add_argument("--cache", type=Path, default=Path("build/cache"), help="where encoded crops are kept")
    ap.add_argument("--no-cache", action="store_true", help="encode the crops again, keep nothing on disk")
    ap.add_argument("--log-every", type=int, default=100, help="steps between validation losses")
    ap.add_argument("--force", action="store_true", help="replace --out if it exists")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    return ap


def check_arguments(args) -> str | None:
    """The first problem with ``args`` as one line, or ``None``."""
    for name in ("steps", "batch", "views", "log_every", "max_side"):
        if getattr(args, name) < 1:
            return f"--{name.replace('_', '-')} must be a positive whole number, got {getattr(args, name)}"
    if args.limit is not None and args.limit < 1:
        return f"--limit must be a positive whole number, got {args.limit}"
    if not args.lr > 0:
        return f"--lr must be positive, got {args.lr}"
    if not args.base_lr >= 0:
        return f"--base-lr must be 0 or positive, got {args.base_lr}"
    if not 0 <= args.recolor <= 1:
        return f"--recolor must be in [0, 1], got {args.recolor}"
    if not 0 < args.p <= 1:
        return f"--p must be in (0, 1], got {args.p}"
    if args.out.exists() and not args.force:
        return f"{args.out} exists (use --force to replace it)"
    if args.out.suffix != ".safetensors":
        return f"--out must end in .safetensors, got {args.out}"
    if args.init is not None and not args.init.is_file():
        return f"--init {args.init}: no such file"
    return None


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return cli_types.run_command(lambda: _run(args), debug=args.debug)  # any error: one line


def _run(args) -> int:
    problem = check_arguments(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        enc.weights_path()
    except enc.EncoderUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

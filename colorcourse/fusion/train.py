"""Training the fusion network: MSE on chroma + alpha x cross-entropy on the scene class.

Taught in notebooks/06_fusion_cnn.ipynb (a tiny run live) and
notebooks/07_joint_classification.ipynb (the ablations).

- Loss: ``MSE(sigmoid output, ab_to_unit(ab))`` at half resolution + ``alpha * CE(logits, class)``
  with ``alpha = 1/300`` (the paper). ``rarity > 0`` weights each pixel's squared error by how
  rare its a*b* color is in the training photos (an option that trades PSNR for colorfulness).
- Optimiser: ADADELTA (the paper) or Adam.
- ``init="kaiming"``: He initialisation (the network has no normalisation layers; with PyTorch's
  default init it starts, and can stay, at one constant color); ``lr_schedule="cosine"``: warm-up
  then cosine decay over ``steps`` (a resumed run must keep ``steps`` to follow the same schedule).
- Reproducible: seeded weights, one batch generator per step (see :mod:`colorcourse.fusion.data`),
  so two runs with the same seed give identical weights and a resumed run continues exactly.
- Checkpoints: safetensors via :mod:`colorcourse.checkpoint` with ``model.*`` and ``optim.*``
  tensors and the whole configuration (plus the step) in the header; a CSV log of the
  validation PSNR and classification accuracy is written beside the checkpoint.
- Distributed: under ``torchrun`` (``WORLD_SIZE > 1``) it runs DistributedDataParallel (gloo:
  this loop trains on the CPU); each replica draws its share of every batch; only rank 0 writes.

Command line (the shipped models are made this way: the course pack in memory, on the CPU)::

    python -m colorcourse.fusion.train --out models/fusion_full.safetensors --steps 400

With ``--data places365|siftflow|folder|coursepack`` the same command streams the photos from
disk through ``DataLoader`` workers, on a GPU when there is one, under torchrun on several, with
periodic checkpoints and exact resume (:mod:`colorcourse.fusion.train_at_scale`; lesson 11)::

    python -m colorcourse.fusion.train --data places365 --data-root data/places365 --width 1 \
        --batch-size 128 --workers 8 --save-every 1000 --out build/places.safetensors
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm.auto import tqdm

from colorcourse import cli_types
from colorcourse.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from colorcourse.color import lab_to_rgb_torch, unit_to_ab
from colorcourse.fusion.data import CropSampler, rgb_batch_to_targets
from colorcourse.fusion.model import KIND, FusionNet
from colorcourse.fusion.training import (  # noqa: F401  (also imported from here by lessons, tests, assignments)
    RESUME_KEYS, TrainConfig, chroma_loss, init_weights, load_optimizer_tensors, log_path, lr_factor,
    make_optimizer, optimizer_tensors, read_log,
)

# ----------------------------------------------------------------- distributed helpers


def _world() -> tuple[int, int]:
    from colorcourse.runtime import world

    return world()


def init_distributed(device: torch.device | str | None = None) -> tuple[int, int]:
    """Start the process group when launched by torchrun; returns (rank, world size). NCCL only
    for a CUDA ``device``; gloo for the CPU (this in-memory loop always trains on the CPU)."""
    from colorcourse.runtime import init_distributed as init

    return init(device)


# ----------------------------------------------------------------- loss


def ab_rarity_weights(sampler: CropSampler, bins: int = 16, mix: float = 0.5, samples: int = 64) -> torch.Tensor:
    """Per-bin weights on a ``bins x bins`` grid of ab_unit: ~1 / (smoothed frequency), mean 1.

    ``mix`` blends the empirical distribution with a uniform one (Zhang et al. 2016 use 0.5),
    so rare colors count more without letting a handful of pixels dominate.
    """
    rng = np.random.default_rng(12345)
    rgb, _ = sampler.batch(rng, samples)
    _, ab = rgb_batch_to_targets(rgb)
    idx = (ab.clamp(0, 1 - 1e-6) * bins).long()
    hist = torch.bincount((idx[:, 0] * bins + idx[:, 1]).flatten(), minlength=bins * bins).float()
    p = hist / hist.sum()
    w = 1.0 / ((1 - mix) * p + mix / (bins * bins))
    w = w / (p * w).sum()  # expected weight 1 under the data distribution
    return w


# ----------------------------------------------------------------- validation


def validate(model: FusionNet, sampler: CropSampler | None, batch: int = 16) -> dict:
    """Mean PSNR (uint8 RGB, center crops), the gray baseline's, and classification accuracy."""
    if sampler is None or len(sampler) == 0:
        return {}
    model.eval()
    psnrs, gray_psnrs, correct, labelled = [], [], 0, 0
    with torch.no_grad():
        for start in range(0, len(sampler), batch):
            rgb, labels = sampler.center_batch(range(start, min(start + batch, len(sampler))))
            L_unit, _ = rgb_batch_to_targets(rgb)
            ab_half, logits = model(L_unit)
            ab = unit_to_ab(F.interpolate(ab_half, scale_factor=2, mode="bilinear", align_corners=False))
            for pred_ab, zero in ((ab, False), (torch.zeros_like(ab), True)):
                pred = lab_to_rgb_torch(torch.cat([L_unit * 100, pred_ab], dim=1))
                q = lambda x: (x * 255).round()  # noqa: E731  (PSNR on uint8 values, as metrics.psnr)
                mse = (q(pred) - q(rgb)).pow(2).mean(dim=(1, 2, 3)).clamp(min=1e-10)
                (gray_psnrs if zero else psnrs).extend((10 * torch.log10(255**2 / mse)).tolist())
            if logits is not None:
                known = labels >= 0
                correct += int((logits.argmax(1)[known] == labels[known]).sum())
                labelled += int(known.sum())
    model.train()
    out = {"val_psnr": float(np.mean(psnrs)), "val_gray_psnr": float(np.mean(gray_psnrs))}
    if labelled:
        out["val_accuracy"] = correct / labelled
    return out


# ----------------------------------------------------------------- the loop


def train(
    cfg: TrainConfig,
    train_sampler: CropSampler,
    val_sampler: CropSampler | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    backbone=None,
    save_optimizer: bool = True,
) -> FusionNet:
    """Train (or resume) a fusion model; returns it. Writes ``out`` and ``out``'s log if given.

    ``backbone``: the frozen feature extractor for ``global_source="backbone"``
    (default: :func:`colorcourse.fusion.backbone.load_backbone`). ``save_optimizer=False``
    writes the weights only (a third of the size; such a file can be used but not resumed).
    """
    rank, world = _world()
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} is not divisible by {world} replicas")
    out = Path(out) if out is not None else None
    if out is not None and out.exists() and not force and rank == 0 and (resume is None or Path(resume) != out):
        raise FileExistsError(f"{out} exists; pass --force to overwrite it")
    torch.manual_seed(cfg.seed)
    model = FusionNet(cfg.model_config())
    init_weights(model, cfg.init)  # a resumed run loads its weights below
    if cfg.global_source == "backbone" and cfg.use_global:
        if backbone is None:
            from colorcourse.fusion.backbone import load_backbone

            backbone = load_backbone()
        model.attach_backbone(backbone)
    opt = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg)
    start = 0
    if resume is not None:
        expected = {k: asdict(cfg)[k] for k in RESUME_KEYS}
        tensors, saved = load_checkpoint(resume, KIND, expected_config=expected)
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        if not any(k.startswith("optim.") for k in tensors):
            raise CheckpointError(f"{resume} holds weights only (saved with --weights-only): it cannot be resumed")
        load_optimizer_tensors(model, opt, tensors)
        start = int(saved["step"])
    weights = ab_rarity_weights(train_sampler) if cfg.rarity > 0 else None
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    model.train()
    # a resumed run's log continues the log of the run it resumes
    log_rows = [r for r in read_log(resume) if r["step"] <= start] if resume and log_path(resume).exists() else []
    t0 = time.perf_counter()
    bar = tqdm(range(start, cfg.steps), desc="train fusion", disable=not progress or rank > 0, initial=start, total=cfg.steps)
    for step in bar:
        rng = np.random.default_rng([cfg.seed, step, rank])
        rgb, labels = train_sampler.batch(rng, cfg.batch_size // world)
        L_unit, target = rgb_batch_to_targets(rgb)
        pred, logits = net(L_unit)
        mse = chroma_loss(pred, target, weights, cfg.rarity)
        loss = mse
        ce = torch.zeros(())
        if logits is not None and (labels >= 0).any():
            ce = F.cross_entropy(logits, labels, ignore_index=-1)
            loss = loss + cfg.alpha * ce
        elif logits is not None:
            loss = loss + 0.0 * logits.sum()  # keep every parameter in the graph (DDP)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(cfg.lr_schedule, step, cfg.steps)
        opt.step()
        bar.set_postfix(mse=f"{mse.item():.4f}", ce=f"{ce.item():.3f}")
        done = step + 1
        if rank == 0 and (done % cfg.val_every == 0 or done == cfg.steps):
            row = {"step": done, "loss": loss.item(), "mse": mse.item(), "ce": ce.item(),
                   "seconds": round(time.perf_counter() - t0, 2)}
            row.update(validate(model, val_sampler))
            log_rows.append(row)
            if out is not None:
                write_log(out, log_rows)  # written as it goes: a long run can be watched
    model.eval()
    if out is not None and rank == 0:
        save_training_checkpoint(out, model, opt if save_optimizer else None, cfg, cfg.steps, overwrite=True)
        write_log(out, log_rows)
    return model


def save_training_checkpoint(path, model, opt, cfg: TrainConfig, step: int, overwrite: bool = False):
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    if opt is not None:
        tensors.update(optimizer_tensors(model, opt))
    config = asdict(cfg) | {"step": step}
    return save_checkpoint(path, tensors, config, KIND, overwrite=overwrite)


def export_weights(src: str | Path, dst: str | Path, overwrite: bool = False) -> Path:
    """Copy a training checkpoint without its optimizer state (what ``--weights-only`` writes),
    with its configuration and log: the shipped models are exported this way."""
    import shutil

    tensors, config = load_checkpoint(src, KIND)
    weights = {k: v for k, v in tensors.items() if k.startswith("model.")}
    path = save_checkpoint(dst, weights, config, KIND, overwrite=overwrite)
    if log_path(src).exists():
        shutil.copyfile(log_path(src), log_path(dst))
    return path


def write_log(checkpoint, rows: list[dict]) -> Path:
    path = log_path(checkpoint)
    keys = ["step", "loss", "mse", "ce", "val_psnr", "val_gray_psnr", "val_accuracy", "seconds"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


# ----------------------------------------------------------------- command line


def load_photos(split: str, limit: int | None = None):
    from colorcourse import coursepack

    return coursepack.load_split(split, limit=limit)


# How each TrainConfig option is checked on the command line (cli_types): a bad value is one
# argparse line naming the option, before any photo is loaded. A string option is checked by its
# choices; every other option must be listed here (a test checks it).
OPTION_TYPES = {
    "width": cli_types.positive_float,
    "use_global": cli_types.boolean,
    "alpha": cli_types.non_negative_float,
    "lr": cli_types.positive_float,
    "steps": cli_types.positive_int,
    "batch_size": cli_types.positive_int,
    "crop": cli_types.int_at_least(16, "the network downsamples by 8"),
    "seed": cli_types.non_negative_int,
    "rarity": cli_types.fraction,
    "val_every": cli_types.positive_int,
    "chroma_gain": cli_types.positive_float,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        if f.name in ("n_classes", "classes"):
            continue
        value = getattr(defaults, f.name)
        checked = OPTION_TYPES.get(f.name, str)
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=checked, default=value, help=f.metadata["help"],
                            choices=f.metadata["choices"], metavar="BOOL" if isinstance(value, bool) else None)
    parser.add_argument("--no-classes", action="store_true", help="train without the classification head")
    parser.add_argument("--out", required=True, help="checkpoint to write (.safetensors)")
    parser.add_argument("--resume", help="checkpoint to continue from")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    parser.add_argument("--limit", type=cli_types.positive_int, help="use only the first N training photos")
    parser.add_argument("--photos", help="train on your own folder of color photos instead of the course pack "
                        "(subfolder names become scene labels; a fixed 10%% is held out for validation)")
    parser.add_argument("--synthetic", type=cli_types.positive_int,
                        help="train on N synthetic images (no course pack needed)")
    parser.add_argument("--weights-only", action="store_true", help="save without optimizer state (smaller, not resumable)")
    parser.add_argument("--threads", type=cli_types.positive_int, help="torch threads (default: torch's choice)")
    scale = parser.add_argument_group("streamed training (--data; lesson 11)")
    scale.add_argument("--data", choices=("places365", "siftflow", "folder", "coursepack"),
                       help="stream this data set from disk through DataLoader workers (memory does not grow "
                            "with it; bad files are skipped and counted); without --data the course pack is "
                            "held in memory (how the shipped models were trained)")
    scale.add_argument("--data-root", help="the data set's folder (places365, siftflow: default data/<name>; "
                                           "folder: required, its subfolders are the labels)")
    scale.add_argument("--network", choices=("paper", "pretrained"), default="paper",
                       help="'paper': Iizuka et al.'s network; 'pretrained': the default colorizer's decoder on "
                            "the frozen EfficientNet-Lite0 encoder (choose its gain afterwards with "
                            "python -m colorcourse.fusion.train_pretrained --recalibrate)")
    scale.add_argument("--decoder-loss", choices=("mse", "smoothl1"), default="mse",
                       help="--network pretrained: the decoder's regression loss on a*b*")
    scale.add_argument("--decoder-width", type=cli_types.positive_int, default=48, help="--network pretrained: decoder channels")
    scale.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                       help="auto: CUDA when a GPU is visible (under torchrun the one LOCAL_RANK names), else CPU")
    scale.add_argument("--workers", type=cli_types.non_negative_int, default=2, help="DataLoader worker processes per replica")
    scale.add_argument("--save-every", type=cli_types.non_negative_int, default=0,
                       help="write a resumable checkpoint every N steps (0: only at the end)")
    scale.add_argument("--val-limit", type=cli_types.positive_int, default=256, help="validation photos scored at each log row")
    scale.add_argument("--stop-after", type=cli_types.positive_int, help="end this session after N steps with a checkpoint "
                                                      "(jobs with a time limit; --resume continues)")
    cli_types.add_debug(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return cli_types.run_command(lambda: _main(parser, args), debug=args.debug)


def _main(parser: argparse.ArgumentParser, args) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.data and (args.photos or args.synthetic):
        parser.error("--data replaces --photos and --synthetic (use --data folder --data-root DIR)")
    if args.data and args.weights_only:
        parser.error("--data runs write resumable checkpoints; export the weights afterwards with "
                     "colorcourse.fusion.train.export_weights")
    if not args.data and args.device == "cuda":
        parser.error("--device cuda trains on streamed photos: add --data coursepack (or another data set)")
    out = Path(args.out)
    if out.exists() and not args.force and not args.resume:
        parser.error(f"{out} exists; pass --force to overwrite it")
    cfg_values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name not in ("n_classes", "classes")}
    if args.data:
        return _main_streaming(args, cfg_values)
    rank, world = init_distributed()
    if rank == 0 and torch.cuda.is_available():
        print("note: without --data the photos are held in memory and the network trains on the CPU; "
              "add --data coursepack to train on the GPU", file=sys.stderr)
    if args.synthetic:
        from colorcourse.fusion.data import synthetic_photos

        train_photos = synthetic_photos(args.synthetic, size=max(64, args.crop))
        val_photos = synthetic_photos(4, size=max(64, args.crop), seed=1)
    elif args.photos:
        from colorcourse.datasets.folder import load_folder, split_own_photos

        train_photos, val_photos = split_own_photos(load_folder(args.photos))
        train_photos = train_photos[: args.limit]
    else:
        train_photos = load_photos("train", args.limit)
        val_photos = load_photos("val")
    if args.no_classes or not cfg_values["use_global"]:
        classes = []
    elif args.synthetic or args.photos:
        # a folder of one's own photos: its subfolders are the scene labels (none: no classifier)
        classes = sorted({p.label for p in train_photos + val_photos if p.label})
        classes = classes if len(classes) >= 2 else []
    else:
        from colorcourse import coursepack

        classes = coursepack.labels()  # the pack's folder categories, in a fixed order
    cfg = TrainConfig(**cfg_values, n_classes=len(classes), classes=",".join(classes))
    train_sampler = CropSampler(train_photos, crop=cfg.crop, classes=classes)
    val_sampler = CropSampler(val_photos, crop=cfg.crop, classes=classes)
    train(cfg, train_sampler, val_sampler, out=out, resume=args.resume, force=args.force,
          save_optimizer=not args.weights_only)
    if rank == 0:
        rows = read_log(out)
        print(json.dumps(rows[-1] if rows else {}, indent=1))
    if world > 1:
        dist.destroy_process_group()


def _main_streaming(args, cfg_values: dict) -> None:
    from colorcourse import runtime
    from colorcourse.fusion import streaming
    from colorcourse.fusion.train_at_scale import ScaleConfig, train_streaming

    scale = ScaleConfig(data=args.data, data_root=args.data_root, network=args.network,
                        decoder_loss=args.decoder_loss, decoder_width=args.decoder_width, device=args.device,
                        workers=args.workers, save_every=args.save_every, val_limit=args.val_limit)
    device = runtime.resolve_device(scale.device)
    rank, world = runtime.init_distributed(device)
    train_files, val_files = streaming.training_files(args.data, args.data_root)
    train_files = train_files.head(args.limit)
    use_classes = args.network == "paper" and cfg_values["use_global"] and not args.no_classes
    classes = train_files.classes if use_classes else []
    cfg = TrainConfig(**cfg_values, n_classes=len(classes), classes=",".join(classes))
    if rank == 0:
        print(f"{args.data}: {len(train_files):,} training photos, {len(val_files):,} validation photos, "
              f"{len(classes)} scene classes; {world} replica(s) on {device}", flush=True)
    train_streaming(cfg, scale, train_files, val_files, out=args.out, resume=args.resume, force=args.force,
                    stop_after=args.stop_after)
    if rank == 0:
        rows = read_log(args.out)
        print(json.dumps(rows[-1] if rows else {}, indent=1))
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())

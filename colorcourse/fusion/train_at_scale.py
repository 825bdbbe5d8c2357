"""Training at the paper's scale: streamed photos, a GPU (or several under torchrun), long runs.

Taught in notebooks/11_training_at_scale.ipynb. What ``python -m colorcourse.fusion.train
--data places365|siftflow|folder|coursepack`` runs (see :mod:`colorcourse.fusion.train` for the
options); without ``--data`` that command keeps its in-memory course-pack loop, which made the
shipped models.

- Data: :mod:`colorcourse.fusion.streaming` (a ``Dataset`` decoded by ``DataLoader`` workers,
  memory independent of the number of photos; bad files skipped and counted in the log).
- Networks: ``paper`` (Iizuka et al.'s fusion network, MSE + alpha x cross-entropy on the scene
  labels, as :func:`colorcourse.fusion.train.train`) or ``pretrained`` (the course's default:
  the decoder of :mod:`colorcourse.fusion.pretrained` on the frozen EfficientNet-Lite0 encoder,
  which here encodes every batch on the device instead of caching encoded crops in memory).
- Device (:mod:`colorcourse.runtime`): on CUDA, autocast (bfloat16 where supported), channels-last
  tensors, pinned host memory and non-blocking copies; on the CPU the same command in float32.
- torchrun: DistributedDataParallel, each replica its share of every batch (``--batch-size`` is
  the global batch), ``DistributedSampler`` reshuffled every epoch; only rank 0 writes files.
- Long runs: a checkpoint every ``--save-every`` steps (written beside the target and renamed:
  a crash never leaves half a file); ``--resume`` restores the weights, the optimizer, the
  gradient scaler, the random generators and the sampler position (from the step: item ``i`` of
  epoch ``e`` is always the same crop), so the resumed run ends with the weights the
  uninterrupted one would have. The progress bar and the CSV log show images/s and the ETA.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from colorcourse import runtime
from colorcourse.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from colorcourse.color import AB_SCALE, lab_to_rgb_torch, rgb_to_lab_torch, unit_to_ab
from colorcourse.fusion import streaming
from colorcourse.fusion.training import (
    RESUME_KEYS, TrainConfig, chroma_loss, init_weights, load_optimizer_tensors, log_path,
    lr_factor, make_optimizer, optimizer_tensors, read_log,
)

NETWORKS = ("paper", "pretrained")
# "mse": the chroma term (the pretrained network: its regression loss, MSE or smooth-L1); "epoch": passes so far
LOG_KEYS = ["step", "epoch", "loss", "mse", "ce", "val_psnr", "val_gray_psnr", "val_accuracy",
            "images_per_s", "eta_s", "skipped_unreadable", "skipped_gray", "seconds"]


@dataclass
class ScaleConfig:
    """The options of a streamed run (beside :class:`colorcourse.fusion.training.TrainConfig`)."""

    data: str = "coursepack"  # one of streaming.DATASETS
    data_root: str | None = None  # the data set's folder (default: where its fetch script puts it)
    network: str = "paper"  # "paper" or "pretrained"
    decoder_loss: str = "mse"  # pretrained network only: "mse" or "smoothl1"
    decoder_width: int = 48  # pretrained network only: decoder channels at stride 4
    device: str = "auto"
    workers: int = 2  # DataLoader worker processes per replica (0: decode in the training process)
    save_every: int = 0  # steps between checkpoints (0: only at the end)
    val_limit: int = 256  # validation photos scored at each log row (rank 0, center crops)
    short_side: int = 256  # photos are taken at this shorter side before cropping (Places: 256)

    def __post_init__(self):
        if self.data not in streaming.DATASETS:
            raise ValueError(f"data must be one of {streaming.DATASETS}, got {self.data!r}")
        if self.network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {self.network!r}")
        if self.decoder_loss not in ("mse", "smoothl1"):
            raise ValueError(f"decoder_loss must be 'mse' or 'smoothl1', got {self.decoder_loss!r}")
        if self.workers < 0 or self.save_every < 0 or self.val_limit < 0:
            raise ValueError("workers, save_every and val_limit must be >= 0")


def psnr_uint8(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR of RGB in [0, 1] on uint8 values (as :func:`colorcourse.metrics.psnr`)."""
    q = lambda x: (x.float() * 255).round()  # noqa: E731
    mse = (q(pred) - q(truth)).pow(2).mean(dim=(1, 2, 3)).clamp(min=1e-10)
    return 10 * torch.log10(255**2 / mse)


# ----------------------------------------------------------------- the two networks


class PaperNetwork:
    """Iizuka et al.'s fusion network: L in, a*b* at half resolution and scene logits out."""

    kind = "fusion"
    prefix = "model."

    def __init__(self, cfg: TrainConfig, device: torch.device, backbone=None):
        from colorcourse.fusion.model import FusionNet

        self.cfg = cfg
        self.model = FusionNet(cfg.model_config())
        init_weights(self.model, cfg.init)
        if cfg.global_source == "backbone" and cfg.use_global:
            if backbone is None:
                from colorcourse.fusion.backbone import load_backbone

                backbone = load_backbone()
            self.model.attach_backbone(backbone.to(device))
        self.trained = self.model  # the module the optimizer, DDP and the checkpoint see

    def loss(self, net, rgb: torch.Tensor, labels: torch.Tensor, device) -> tuple[torch.Tensor, dict]:
        L_unit, target = streaming.fusion_targets(rgb)
        if device.type == "cuda":
            L_unit = L_unit.contiguous(memory_format=torch.channels_last)
        with runtime.autocast(device):
            pred, logits = net(L_unit)
        mse = chroma_loss(pred.float(), target, None, 0.0)
        loss, ce = mse, torch.zeros((), device=rgb.device)
        if logits is not None and (labels >= 0).any():
            ce = F.cross_entropy(logits.float(), labels, ignore_index=-1)
            loss = loss + self.cfg.alpha * ce
        elif logits is not None:
            loss = loss + 0.0 * logits.float().sum()  # keep every parameter in the graph (DDP)
        return loss, {"mse": mse.detach(), "ce": ce.detach()}

    @torch.no_grad()
    def colorize(self, rgb: torch.Tensor, device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(predicted RGB, logits) for a batch of true RGB photos (validation)."""
        L_unit, _ = streaming.fusion_targets(rgb)
        with runtime.autocast(device):
            ab_half, logits = self.model(L_unit)
        ab = unit_to_ab(F.interpolate(ab_half.float(), scale_factor=2, mode="bilinear", align_corners=False))
        return lab_to_rgb_torch(torch.cat([L_unit * 100, ab], dim=1)), logits

    def header(self) -> dict:
        return {}


class PretrainedNetwork:
    """The course's default colorizer: a trained decoder on the frozen EfficientNet-Lite0 encoder
    (:mod:`colorcourse.fusion.pretrained`), with a regression loss on a*b* at stride 4."""

    kind = "fusion-pretrained"
    prefix = "decoder."

    def __init__(self, cfg: TrainConfig, scale: ScaleConfig, device: torch.device):
        from colorcourse import encoder as enc
        from colorcourse.fusion.pretrained import PretrainedConfig, PretrainedFusionNet

        self.loss_name = scale.decoder_loss
        self.model = PretrainedFusionNet(PretrainedConfig(loss=scale.decoder_loss, width=scale.decoder_width),
                                         encoder=enc.MultiScaleEncoder().to(device))
        if device.type == "cuda":
            self.model.encoder.to(memory_format=torch.channels_last)
        self.trained = self.model.decoder

    def _features(self, rgb, device):
        gray = streaming.luma_torch(rgb)
        if device.type == "cuda":
            gray = gray.contiguous(memory_format=torch.channels_last)
        with runtime.autocast(device):
            return self.model.encoder(gray)  # frozen: no gradients

    def loss(self, net, rgb, labels, device):
        from colorcourse.fusion.pretrained import OUTPUT_STRIDE, regression_loss

        maps, pooled = self._features(rgb, device)
        with runtime.autocast(device):
            out = net(maps, pooled)
        ab = F.avg_pool2d(rgb_to_lab_torch(rgb)[:, 1:], OUTPUT_STRIDE)
        loss = regression_loss(out.float(), ab, self.loss_name)
        return loss, {"mse": loss.detach(), "ce": torch.zeros((), device=rgb.device)}

    @torch.no_grad()
    def colorize(self, rgb, device):
        maps, pooled = self._features(rgb, device)
        with runtime.autocast(device):
            out = self.model.decoder(maps, pooled)
        ab = F.interpolate(out.float() * AB_SCALE, size=rgb.shape[-2:], mode="bilinear", align_corners=False)
        L = streaming.lightness_unit_torch(streaming.luma_torch(rgb)) * 100
        return lab_to_rgb_torch(torch.cat([L, ab], dim=1)), None

    def header(self) -> dict:
        from colorcourse import encoder as enc

        # what colorcourse.fusion.pretrained.load_model reads; the gain is chosen afterwards with
        # python -m colorcourse.fusion.train_pretrained --recalibrate (1.0: no gain yet)
        return asdict(self.model.config) | {"chroma_gain": 1.0, "temperature": 1.0, "encoder": "efficientnet-lite0",
                                            "encoder_sha256": enc.WEIGHTS_SHA256}


# ----------------------------------------------------------------- checkpoints


def save_state(path: Path, network, opt, scaler, cfg: TrainConfig, scale: ScaleConfig, step: int,
               n_train: int, overwrite: bool = True) -> Path:
    """Weights, optimizer, scaler and random state, atomically (see :func:`save_checkpoint`)."""
    tensors = {f"{network.prefix}{k}": v for k, v in network.trained.state_dict().items()}
    tensors.update(optimizer_tensors(network.trained, opt))
    tensors.update(runtime.rng_state_tensors())
    config = network.header() | asdict(cfg) | {f"scale_{k}": v for k, v in asdict(scale).items()} | {
        "step": step, "n_train": n_train, "scaler": json.dumps(scaler.state_dict())}
    if network.kind == "fusion-pretrained":  # its header's own keys win (loss, width)
        config |= network.header()
    return save_checkpoint(path, tensors, config, network.kind, overwrite=overwrite)


def load_state(path: Path, network, opt, scaler, cfg: TrainConfig, scale: ScaleConfig, n_train: int) -> int:
    """Restore what :func:`save_state` wrote; returns the step to continue from."""
    expected = {k: asdict(cfg)[k] for k in RESUME_KEYS if network.kind == "fusion" or k not in ("width",)}
    expected |= {"scale_network": scale.network, "scale_decoder_loss": scale.decoder_loss, "n_train": n_train}
    try:
        tensors, saved = load_checkpoint(path, network.kind, expected_config=expected)
    except CheckpointError as e:
        if "n_train" not in str(e):
            raise
        raise CheckpointError(f"{e} (n_train is the number of training photos: the sampler's order "
                              "depends on it)") from None
    if not any(k.startswith("optim.") for k in tensors):
        raise CheckpointError(f"{path} holds weights only: it cannot be resumed")
    n = len(network.prefix)
    network.trained.load_state_dict({k[n:]: v for k, v in tensors.items() if k.startswith(network.prefix)})
    load_optimizer_tensors(network.trained, opt, tensors)
    scaler_state = json.loads(saved.get("scaler") or "{}")
    if scaler_state and scaler.is_enabled():  # float16 on CUDA; empty on the CPU and in bfloat16
        scaler.load_state_dict(scaler_state)
    runtime.restore_rng_state(tensors)
    return int(saved["step"])


def write_log(path: Path, rows: list[dict]) -> Path:
    import csv

    with open(log_path(path), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LOG_KEYS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return log_path(path)


# ----------------------------------------------------------------- the loop


def make_loader(files, cfg: TrainConfig, scale: ScaleConfig, batch: int, sampler=None, workers: int | None = None,
                pin: bool = False) -> DataLoader:
    dataset = streaming.StreamingCrops(files, crop=cfg.crop, seed=cfg.seed, short_side=scale.short_side)
    workers = scale.workers if workers is None else workers
    if sampler is None:  # validation: center crops in list order
        sampler = [(i, -1) for i in range(len(files))]
    return DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers, collate_fn=streaming.collate,
                      pin_memory=pin, persistent_workers=False, prefetch_factor=4 if workers else None)


def validate(network, loader, device) -> dict:
    """Mean PSNR of the predictions and of the gray input, and scene accuracy (paper network)."""
    network.model.eval()
    psnrs, gray_psnrs, correct, labelled = [], [], 0, 0
    for batch in loader:
        rgb, labels = streaming.batch_on_device(batch, device)
        pred, logits = network.colorize(rgb, device)
        gray = streaming.luma_torch(rgb).expand(-1, 3, -1, -1)
        psnrs += psnr_uint8(pred, rgb).tolist()
        gray_psnrs += psnr_uint8(gray, rgb).tolist()
        if logits is not None:
            known = labels >= 0
            correct += int((logits.argmax(1)[known] == labels[known]).sum())
            labelled += int(known.sum())
    network.trained.train()
    if not psnrs:
        return {}
    out = {"val_psnr": float(np.mean(psnrs)), "val_gray_psnr": float(np.mean(gray_psnrs))}
    if labelled:
        out["val_accuracy"] = correct / labelled
    return out


def _gather_skipped(skipped: dict[int, int]) -> dict[int, int]:
    """Every replica's skipped files (index -> reason), merged (a file counts once)."""
    if not (dist.is_available() and dist.is_initialized()):
        return skipped
    parts = [None] * dist.get_world_size()
    dist.all_gather_object(parts, skipped)
    return {k: v for part in parts for k, v in part.items()}


def train_streaming(cfg: TrainConfig, scale: ScaleConfig, train_files: streaming.FileList,
                    val_files: streaming.FileList | None = None, out: str | Path | None = None,
                    resume: str | Path | None = None, force: bool = False, progress: bool = True,
                    stop_after: int | None = None, backbone=None) -> torch.nn.Module:
    """Train (or resume) the ``scale.network`` on streamed photos; returns the trained module
    (the fusion network, or the pretrained network's decoder). ``stop_after``: end this session
    after that many steps with a checkpoint (a job with a time limit; ``resume`` continues)."""
    device = runtime.resolve_device(scale.device)
    rank, world = runtime.world()
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} is not divisible by {world} replicas")
    if cfg.rarity:
        raise ValueError("rarity weighting needs the photos in memory: train without --data for it")
    out = Path(out) if out is not None else None
    if out is not None and out.exists() and not force and rank == 0 and (resume is None or Path(resume) != out):
        raise FileExistsError(f"{out} exists; pass --force to overwrite it")
    per_rank = cfg.batch_size // world
    torch.manual_seed(cfg.seed)
    network = PaperNetwork(cfg, device, backbone) if scale.network == "paper" else PretrainedNetwork(cfg, scale, device)
    network.trained.to(device)
    if device.type == "cuda":
        network.trained.to(memory_format=torch.channels_last)
    opt = make_optimizer([p for p in network.trained.parameters() if p.requires_grad], cfg)
    scaler = runtime.grad_scaler(device)
    start = load_state(Path(resume), network, opt, scaler, cfg, scale, len(train_files)) if resume else 0
    net = network.trained
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    network.trained.train()

    cuda = device.type == "cuda"
    dataset = streaming.StreamingCrops(train_files, crop=cfg.crop, seed=cfg.seed, short_side=scale.short_side)
    sampler = streaming.EpochSampler(dataset, world, rank, seed=cfg.seed, consumed=start * per_rank)
    loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler, num_workers=scale.workers,
                        collate_fn=streaming.collate, pin_memory=cuda,
                        persistent_workers=scale.workers > 0, prefetch_factor=4 if scale.workers else None)
    val_loader = None
    if rank == 0 and val_files is not None and scale.val_limit:
        val_loader = make_loader(val_files.head(scale.val_limit), cfg, scale, per_rank, workers=min(scale.workers, 2),
                                 pin=cuda)
    log_rows = []
    if resume and log_path(resume).exists():
        log_rows = [r for r in read_log(resume) if r["step"] <= start]
    end = cfg.steps if stop_after is None else min(cfg.steps, start + stop_after)
    skipped: dict[int, int] = {}
    speed = runtime.Throughput(cfg.batch_size, cfg.steps - start)
    t0 = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=start, desc=f"train {scale.network} network ({scale.data}, {device.type})",
               disable=not progress or rank > 0, unit="step")
    batches = iter(loader)
    for step in range(start, end):
        batch = next(batches)
        for index, reason in batch["skipped"]:
            skipped[index] = reason
        rgb, labels = streaming.batch_on_device(batch, device)
        loss, parts = network.loss(net, rgb, labels, device)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(cfg.lr_schedule, step, cfg.steps)
        scaler.step(opt)
        scaler.update()
        speed.step(device)
        done = step + 1
        bar.update(1)
        rate = speed.images_per_s
        bar.set_postfix({"img/s": f"{rate:.1f}" if rate == rate else "-", "loss": f"{loss.item():.4f}"}, refresh=False)
        if done % cfg.val_every == 0 or done == cfg.steps or done == end:
            merged = _gather_skipped(skipped)
            if rank == 0:
                row = {"step": done, "epoch": round(done * per_rank / sampler.per_epoch, 4),  # passes so far
                       "loss": loss.item(), "mse": parts["mse"].item(),
                       "ce": parts["ce"].item(), "images_per_s": round(speed.images_per_s, 2),
                       "eta_s": round(speed.eta_s, 1), "seconds": round(time.perf_counter() - t0, 2),
                       "skipped_unreadable": sum(1 for r in merged.values() if r == 0),
                       "skipped_gray": sum(1 for r in merged.values() if r == 1)}
                if val_loader is not None:
                    row.update(validate(network, val_loader, device))
                log_rows.append(row)
                if out is not None:
                    write_log(out, log_rows)  # written as it goes: a long run can be watched
        if rank == 0 and out is not None and (done == end or (scale.save_every and done % scale.save_every == 0)):
            save_state(out, network, opt, scaler, cfg, scale, done, len(train_files), overwrite=True)
    bar.close()
    merged = _gather_skipped(skipped)  # every replica takes part in the gather
    if rank == 0 and merged:
        names = ", ".join(str(train_files.path(i)) for i in sorted(merged)[:3])
        print(f"skipped {len(merged)} file(s) this session (unreadable or gray), e.g. {names}; counts in the log")
    if world > 1:
        dist.barrier()  # rank 0's checkpoint is on disk before any replica goes on (to resume from it)
    network.trained.eval()
    return network.trained


def measure_throughput(files: streaming.FileList, network: str = "paper", width: float = 0.125, batch: int = 16,
                       device: str = "cpu", steps: int = 4, repeats: int = 3, workers: int = 2, crop: int = 224,
                       warmup: int = 2) -> list[float]:
    """Training images/s of ``repeats`` timed windows of ``steps`` whole steps (streamed batch,
    forward, backward, optimizer), after ``warmup`` steps; what the lesson and
    ``benchmarks/train_throughput.py`` report. ``network="pretrained"`` ignores ``width``."""
    device = runtime.resolve_device(device)
    cfg = TrainConfig(width=width, n_classes=len(files.classes), batch_size=batch, crop=crop, optimizer="adam", lr=1e-4)
    scale = ScaleConfig(network=network, device=device.type, workers=workers)
    torch.manual_seed(0)
    net = PaperNetwork(cfg, device) if network == "paper" else PretrainedNetwork(cfg, scale, device)
    net.trained.to(device)
    if device.type == "cuda":
        net.trained.to(memory_format=torch.channels_last)
    opt = make_optimizer([p for p in net.trained.parameters() if p.requires_grad], cfg)
    scaler = runtime.grad_scaler(device)
    sampler = streaming.EpochSampler(range(len(files)), seed=cfg.seed)
    batches = iter(make_loader(files, cfg, scale, batch, sampler=sampler, pin=device.type == "cuda"))

    def step():
        rgb, labels = streaming.batch_on_device(next(batches), device)
        loss, _ = net.loss(net.trained, rgb, labels, device)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # time finished work, not queued kernels

    for _ in range(warmup):
        step()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps * batch / (time.perf_counter() - start))
    return rates


def measure_data_rate(files: streaming.FileList, batch: int = 16, workers: int = 2, batches: int = 20,
                      crop: int = 224) -> float:
    """images/s of the data pipeline alone (decode, crop, collate in the workers; nothing trained):
    the ceiling for any device."""
    cfg = TrainConfig(batch_size=batch, crop=crop)
    sampler = streaming.EpochSampler(range(len(files)), seed=cfg.seed)
    it = iter(make_loader(files, cfg, ScaleConfig(workers=workers), batch, sampler=sampler))
    next(it)  # the workers have started
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch / (time.perf_counter() - start)


def expected_hours(images: int, epochs: float, images_per_s: float) -> float:
    """Hours for ``epochs`` passes over ``images`` photos at ``images_per_s`` (the lesson's estimate)."""
    return images * epochs / images_per_s / 3600 if images_per_s > 0 else math.inf

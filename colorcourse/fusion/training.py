"""What the two fusion training loops share: the options, the loss, the initialisation, the
learning-rate schedule, the optimizer state as checkpoint tensors and the CSV log's reader.

:mod:`colorcourse.fusion.train` (the in-memory loop, the command line) and
:mod:`colorcourse.fusion.train_at_scale` (streamed photos, GPUs) both import from here, and this
module imports neither: the command line dispatches to the streamed loop one way only. The names
stay importable from :mod:`colorcourse.fusion.train`, where the lessons import them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from colorcourse.fusion.infer import MODEL_CONFIG_KEYS
from colorcourse.fusion.model import FusionConfig, FusionNet

# What must match for a checkpoint to be resumed (the rest, e.g. steps, may change).
RESUME_KEYS = MODEL_CONFIG_KEYS + ("alpha", "optimizer", "lr", "batch_size", "crop", "seed", "rarity", "classes")


def _option(default, help: str, choices: tuple[str, ...] | None = None):
    """A training option: its default, the ``--help`` text and (for names) the allowed values
    the command line shows for it."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class TrainConfig:
    width: float = _option(0.25, "channel multiplier of the published network (1.0: the paper's; 0.125 is CPU-sized)")
    n_classes: int = 0  # 0: no classification head; set from the photos' labels by the CLI
    use_global: bool = _option(True, "use the global features network (false: the local path only, an ablation)")
    global_source: str = _option("scratch", "global features: 'scratch' (the paper's network) or 'backbone' "
                                            "(a frozen pretrained EfficientNet-Lite0)", ("scratch", "backbone"))
    alpha: float = _option(1 / 300, "weight of the classification loss (the paper: 1/300; 0: classifier not trained)")
    optimizer: str = _option("adadelta", "'adadelta' (the paper) or 'adam'", ("adadelta", "adam"))
    lr: float = _option(1.0, "learning rate (ADADELTA's multiplier, 1.0 as in Zeiler 2012; Adam: ~1e-3)")
    steps: int = _option(200, "optimisation steps (batches)")
    batch_size: int = _option(16, "photos per batch (split across replicas under torchrun)")
    crop: int = _option(224, "side of the random training crops, in pixels")
    seed: int = _option(0, "seeds the weights and every batch: the same seed gives the same model")
    rarity: float = _option(0.0, "0: plain MSE (the paper); 1: fully rarity-weighted MSE (more color, less PSNR)")
    val_every: int = _option(50, "steps between validation PSNR / accuracy rows in the CSV log")
    classes: str = ""  # the class names, comma-separated (stored so a model names its classes)
    init: str = _option("default", "'default' (PyTorch's layer init) or 'kaiming' (He et al. 2015; "
                                   "see init_weights: the shipped models use it)", ("default", "kaiming"))
    lr_schedule: str = _option("constant", "'constant' or 'cosine' (linear warm-up over the first 5 percent "
                                           "of the steps, then cosine decay to 0)", ("constant", "cosine"))
    # Not used in training: the a*b* gain that colorize() applies by default to this model's output
    # (stored in the checkpoint, read by infer.load_model); chosen on the validation split with
    # report.chroma_gain_sweep after training, never on the test split.
    chroma_gain: float = _option(1.0, "a*b* gain stored in the checkpoint as the model's inference default "
                                      "(choose it on the validation split, not used in training)")

    def model_config(self) -> FusionConfig:
        return FusionConfig(width=self.width, n_classes=self.n_classes,
                            use_global=self.use_global, global_source=self.global_source)


# ----------------------------------------------------------------- loss


def chroma_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None, rarity: float) -> torch.Tensor:
    se = (pred - target).pow(2).sum(dim=1)  # N x h x w
    if weights is None or rarity == 0:
        return se.mean() / 2
    bins = int(math.isqrt(weights.numel()))
    idx = (target.clamp(0, 1 - 1e-6) * bins).long()
    w = weights[idx[:, 0] * bins + idx[:, 1]]
    return (((1 - rarity) + rarity * w) * se).mean() / 2


# ----------------------------------------------------------------- initialisation and schedule


def init_weights(model: FusionNet, init: str = "default") -> None:
    """``"kaiming"``: He-normal weights (fan-in, ReLU gain) and zero biases for every convolution
    and fully connected layer followed by a ReLU; the two output layers keep PyTorch's init.

    Why: the network has no normalisation layers, and PyTorch's default init shrinks the
    activations' variance at every ReLU layer (by ~6x), so after the ~14 layers of the local
    path the output hardly depends on the input: the network starts (and with Adam can stay)
    at one constant, washed-out color. He init keeps the variance constant through the layers.
    """
    if init == "default":
        return
    if init != "kaiming":
        raise ValueError(f"init must be 'default' or 'kaiming', got {init!r}")
    last = {id(model.colorize[-2])}
    if model.classifier is not None:
        last.add(id(model.classifier[-1]))
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and id(m) not in last:
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)


def lr_factor(schedule: str, step: int, steps: int) -> float:
    """Learning-rate multiplier at ``step`` (0-based) of ``steps``: 1 (constant), or a linear
    warm-up over the first 5 % of the steps followed by a cosine decay to 0 (cosine)."""
    if schedule == "constant":
        return 1.0
    if schedule != "cosine":
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {schedule!r}")
    warmup = max(1, steps // 20)
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


# ----------------------------------------------------------------- optimizer state <-> tensors


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=cfg.lr)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr)
    raise ValueError(f"optimizer must be 'adadelta' or 'adam', got {cfg.optimizer!r}")


def optimizer_tensors(model: FusionNet, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    names = {id(p): n for n, p in model.named_parameters()}
    out = {}
    for p, state in opt.state.items():
        for key, value in state.items():
            out[f"optim.{names[id(p)]}.{key}"] = torch.as_tensor(value).clone().reshape(-1)
    return out


def load_optimizer_tensors(model: FusionNet, opt: torch.optim.Optimizer, tensors: dict) -> None:
    params = dict(model.named_parameters())
    for full, value in tensors.items():
        if not full.startswith("optim."):
            continue
        name, key = full[len("optim.") :].rsplit(".", 1)
        p = params[name]
        if key == "step":  # kept on the CPU, as torch's optimizers keep it
            opt.state[p][key] = value.clone().reshape(())
        else:
            opt.state[p][key] = value.clone().reshape(p.shape).to(p.device)


# ----------------------------------------------------------------- the log


def log_path(checkpoint: str | Path) -> Path:
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + ".log.csv")


def read_log(checkpoint) -> list[dict]:
    with open(log_path(checkpoint)) as f:
        return [{k: float(v) if v else None for k, v in row.items()} for row in csv.DictReader(f)]

"""The per-pixel network of Cheng et al. and its training.

Taught in notebooks/03_cheng_per_pixel_dnn.ipynb.

A plain fully connected network maps one pixel's feature (114 values) to its chroma (U, V):
114 -> 57 -> 57 -> 57 -> 2 with ReLU, hidden width = half the input (Sec. III-A.2),
trained by least squares on pixels sampled from the training photos (Eq. 1).
The feature mean/std used to normalise the inputs are part of the model: a saved model
colorizes with exactly the normalisation it was trained with.

Colorizing a whole image is one batched pass over its ``H * W`` features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..color import rgb_to_yuv
from .features import check_groups

KIND = "cheng-mlp"


class ChengMLP(nn.Module):
    """``in_dim -> hidden x n_hidden -> 2``, ReLU; ``hidden`` defaults to ``in_dim // 2``."""

    def __init__(self, in_dim: int, hidden: int | None = None, n_hidden: int = 3):
        super().__init__()
        if in_dim < 1:
            raise ValueError(f"in_dim must be positive, got {in_dim}")
        hidden = hidden or max(in_dim // 2, 2)
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(n_hidden):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, 2))  # U, V: a linear output (Eq. 2 without f)
        self.net = nn.Sequential(*layers)
        self.in_dim, self.hidden, self.n_hidden = in_dim, hidden, n_hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # N x in_dim -> N x 2
        return self.net(x)

    def n_weights(self) -> int:
        """N_w of Eq. 3: every weight and bias."""
        return sum(p.numel() for p in self.parameters())


@dataclass
class PixelColorizer:
    """A trained network together with the feature normalisation and feature groups it expects."""

    model: ChengMLP
    mean: np.ndarray  # D
    std: np.ndarray  # D
    groups: tuple[str, ...]
    n_classes: int = 33
    history: list[float] = field(default_factory=list)  # training loss per epoch
    # chroma gain chosen on held-out photos (1 = the raw least-squares output); see
    # colorcourse.cheng.pipeline.calibrate_gain
    gain: float = 1.0

    @property
    def in_dim(self) -> int:
        return self.model.in_dim

    def config(self) -> dict:
        return {
            "in_dim": self.model.in_dim,
            "hidden": self.model.hidden,
            "n_hidden": self.model.n_hidden,
            "groups": list(self.groups),
            "n_classes": self.n_classes,
            "output": "yuv-uv",
            "gain": float(self.gain),
        }

    @torch.no_grad()
    def predict(self, features: np.ndarray, batch: int = 1 << 18) -> np.ndarray:
        """``... x D`` features -> ``... x 2`` chroma (U, V), in batches of ``batch`` pixels."""
        features = np.asarray(features, dtype=np.float32)
        if features.shape[-1] != self.in_dim:
            raise ValueError(
                f"this network takes {self.in_dim}-dim features (groups {self.groups}), "
                f"got {features.shape[-1]}"
            )
        flat = features.reshape(-1, self.in_dim)
        mean = torch.from_numpy(self.mean.astype(np.float32))
        std = torch.from_numpy(self.std.astype(np.float32))
        self.model.eval()
        # Fold the normalisation into the first layer: W (x - m) / s + b = (W / s) x + (b - (W / s) m),
        # which saves two passes over the H*W x D features.
        first, rest = self.model.net[0], self.model.net[1:]
        weight = first.weight / std
        bias = first.bias - weight @ mean
        out = np.empty((flat.shape[0], 2), np.float32)
        for start in range(0, flat.shape[0], batch):
            x = torch.from_numpy(flat[start : start + batch])
            out[start : start + batch] = rest(torch.addmm(bias, x, weight.T)).numpy()
        if self.gain != 1.0:
            out *= np.float32(self.gain)
        return out.reshape(features.shape[:-1] + (2,))

    def save(self, path: str | Path, overwrite: bool = False, extra: dict | None = None) -> Path:
        tensors = dict(self.model.state_dict())
        tensors["norm.mean"] = torch.from_numpy(self.mean.astype(np.float32))
        tensors["norm.std"] = torch.from_numpy(self.std.astype(np.float32))
        config = self.config() | (extra or {})
        return save_checkpoint(path, tensors, config, KIND, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path, expected_config: dict | None = None) -> "PixelColorizer":
        tensors, config = load_checkpoint(path, KIND, expected_config)
        try:
            model = ChengMLP(config["in_dim"], config["hidden"], config["n_hidden"])
            mean = tensors.pop("norm.mean").numpy()
            std = tensors.pop("norm.std").numpy()
            model.load_state_dict(tensors, strict=True)
        except (KeyError, RuntimeError) as e:
            raise CheckpointError(f"{path} does not fit the Cheng network: {e}") from None
        return cls(model, mean, std, tuple(config["groups"]), config.get("n_classes", 33),
                   gain=float(config.get("gain", 1.0)))


def sample_pixels(
    height: int, width: int, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` distinct flat pixel indices (all of them if the image is smaller)."""
    total = height * width
    if n >= total:
        return np.arange(total)
    return rng.choice(total, size=n, replace=False)


def training_pixels(
    photos_rgb: Iterable[np.ndarray],
    featurize: Callable[[np.ndarray], np.ndarray],
    per_image: int = 2000,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample ``per_image`` pixels from each photo: features ``N x D``, chroma ``N x 2``, image id ``N``.

    ``featurize(gray) -> H x W x D`` sees only the gray image; the chroma targets are the
    photo's U, V at the same pixels.
    """
    from ..color import rgb_to_gray

    rng = np.random.default_rng(seed)
    xs, ys, ids = [], [], []
    photos_rgb = list(photos_rgb)
    for i, rgb in enumerate(tqdm(photos_rgb, desc="features", disable=not progress, leave=False)):
        rgb = np.asarray(rgb, dtype=np.float32)
        gray = rgb_to_gray(rgb).astype(np.float32)
        feats = featurize(gray)
        idx = sample_pixels(*gray.shape, per_image, rng)
        xs.append(feats.reshape(-1, feats.shape[-1])[idx])
        ys.append(rgb_to_yuv(rgb.reshape(-1, 3)[idx])[:, 1:].astype(np.float32))
        ids.append(np.full(len(idx), i, np.int32))
    if not xs:
        raise ValueError("no training photos given")
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ids)


def train_pixel_colorizer(
    features: np.ndarray,
    uv: np.ndarray,
    groups: Sequence[str],
    n_classes: int = 33,
    epochs: int = 15,
    batch_size: int = 1024,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    hidden: int | None = None,
    seed: int = 0,
    progress: bool = True,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> PixelColorizer:
    """Least-squares training (Eq. 1) of a :class:`ChengMLP` on sampled pixels.

    ``features``: ``N x D``; ``uv``: ``N x 2``. Adam replaces the paper's plain
    back-propagation (same loss; it converges in a few epochs on 2 CPU cores).
    Deterministic for a given ``seed``. With ``validation = (features, uv)`` of held-out pixels,
    their loss after every epoch is kept in the network's ``val_history`` (the weights are the
    same as without).
    """
    groups = check_groups(groups)
    features = np.asarray(features, dtype=np.float32)
    uv = np.asarray(uv, dtype=np.float32)
    if features.ndim != 2 or uv.shape != (features.shape[0], 2):
        raise ValueError(f"need features N x D and uv N x 2, got {features.shape}, {uv.shape}")
    if features.shape[0] == 0:
        raise ValueError("no training pixels (an empty cluster or an empty photo list?)")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    # A 13k-weight network on batches of 1024: each matmul is tiny, and extra threads cost
    # more in synchronisation than they win (3-10x slower on a busy 2-core machine).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(features, uv, groups, n_classes, epochs, batch_size, lr, weight_decay, hidden, gen, progress,
                      validation)
    finally:
        torch.set_num_threads(threads)


def _train(features, uv, groups, n_classes, epochs, batch_size, lr, weight_decay, hidden, gen, progress,
           validation=None):
    mean = features.mean(axis=0)
    std = features.std(axis=0) + 1e-6  # constant features (e.g. an unused class) stay finite
    x = torch.from_numpy((features - mean) / std)
    y = torch.from_numpy(uv)
    if validation is not None:
        xv = torch.from_numpy((np.asarray(validation[0], dtype=np.float32) - mean) / std)
        yv = torch.from_numpy(np.asarray(validation[1], dtype=np.float32))
    val_history = []
    model = ChengMLP(features.shape[1], hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    history = []
    bar = tqdm(range(epochs), desc=f"train {'+'.join(groups)}", disable=not progress, leave=False)
    for _ in bar:
        order = torch.randperm(x.shape[0], generator=gen)
        total = 0.0
        model.train()
        for start in range(0, x.shape[0], batch_size):
            batch = order[start : start + batch_size]
            loss = ((model(x[batch]) - y[batch]) ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        sched.step()
        history.append(total / x.shape[0])
        if validation is not None:
            model.eval()
            with torch.no_grad():
                val_history.append(float(((model(xv) - yv) ** 2).sum(dim=1).mean()))
        bar.set_postfix(loss=f"{history[-1]:.5f}")
    network = PixelColorizer(model, mean, std, groups, n_classes, history)
    network.val_history = val_history
    return network

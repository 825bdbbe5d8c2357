"""The fusion network of Iizuka, Simo-Serra & Ishikawa, "Let there be Color!" (SIGGRAPH 2016).

Taught in notebooks/06_fusion_cnn.ipynb (architecture, shapes) and
notebooks/07_joint_classification.ipynb (the classification head and its ablations).

Four networks, as published (all convolutions 3x3 with padding 1 and ReLU, except the output):

- low-level features: shared by the local path (full image) and the global path (224 x 224);
- mid-level features: the local path only, still at H/8 x W/8;
- global features: four more convolutions and three fully connected layers -> a 256-d vector;
  the classification head (FC 256 -> n_classes) hangs off its 512-d layer;
- fusion: the global vector is copied to every position of the mid-level map and a 1x1
  convolution mixes the two (the "fusion layer"); the colorization network then upsamples by
  nearest neighbour twice and ends in 2 sigmoid channels: a*b* in [0, 1] at H/2 x W/2.

``width`` multiplies every channel count and fully connected size (not the 1-channel input, the
2-channel output or the number of classes), so that CPU-sized variants train in minutes;
``width=1.0`` is the paper's network (see :data:`LAYER_TABLE` and the test that checks it).

Inputs are lightness ``L / 100`` (``N x 1 x H x W`` in [0, 1]); outputs are
``ab_to_unit(ab)`` (``N x 2 x H/2 x W/2``) and class logits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from colorcourse.fusion.width import scaled  # also imported from here by the diagram and lessons

# The published layer table: (stride, output channels) per 3x3 convolution; FC sizes.
LAYER_TABLE = {
    "low": [(2, 64), (1, 128), (2, 128), (1, 256), (2, 256), (1, 512)],
    "mid": [(1, 512), (1, 256)],
    "global_conv": [(2, 512), (1, 512), (2, 512), (1, 512)],
    "global_fc": [1024, 512, 256],
    "fusion": 256,  # 1x1 convolution over [global 256 ; mid 256]
    # colorization: ("conv", channels) or ("up", 2)
    "color": [("conv", 128), ("up", 2), ("conv", 64), ("conv", 64), ("up", 2), ("conv", 32)],
    "color_out": 2,
    "class_hidden": 256,
}
GLOBAL_SIZE = 224  # the global path always sees a 224 x 224 resize
DOWNSAMPLE = 8  # the low-level network's total stride: sizes are padded to a multiple of it
KIND = "fusion"  # the checkpoint kind of these models


@dataclass(frozen=True)
class FusionConfig:
    """Architecture hyper-parameters (stored in every checkpoint's header)."""

    width: float = 1.0  # channel multiplier; 1.0 is the paper
    n_classes: int = 205  # Places has 205 scene classes; the course pack has a handful
    use_global: bool = True  # False: the "without global features" ablation
    global_source: str = "scratch"  # "scratch" (paper) or "backbone" (frozen EfficientNet-Lite0)

    def __post_init__(self):
        if not (0 < self.width <= 4):
            raise ValueError(f"width must be in (0, 4], got {self.width}")
        if self.n_classes < 0:
            raise ValueError(f"n_classes must be >= 0, got {self.n_classes}")
        if self.global_source not in ("scratch", "backbone"):
            raise ValueError(f"global_source must be 'scratch' or 'backbone', got {self.global_source!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1)


def _conv_stack(cin: int, layers, width: float) -> tuple[nn.Sequential, int]:
    modules = []
    for stride, cout in layers:
        cout = scaled(cout, width)
        modules += [_conv(cin, cout, stride), nn.ReLU(inplace=True)]
        cin = cout
    return nn.Sequential(*modules), cin


class GlobalFeatures(nn.Module):
    """28 x 28 low-level map -> 4 convolutions -> FC 1024 -> FC 512 -> FC 256 (paper)."""

    def __init__(self, cin: int, width: float):
        super().__init__()
        self.conv, c = _conv_stack(cin, LAYER_TABLE["global_conv"], width)
        fc1, fc2, fc3 = (scaled(n, width) for n in LAYER_TABLE["global_fc"])
        side = GLOBAL_SIZE // DOWNSAMPLE // 4  # 224 -> 28 -> 7 after the two stride-2 convs
        self.fc1 = nn.Linear(c * side * side, fc1)
        self.fc2 = nn.Linear(fc1, fc2)
        self.fc3 = nn.Linear(fc2, fc3)
        self.hidden_features = fc2  # the classification head's input (512 in the paper)

    def forward(self, low: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv(low).flatten(1)
        x = F.relu(self.fc1(x))
        hidden = F.relu(self.fc2(x))  # N x 512: also feeds the classifier
        return F.relu(self.fc3(hidden)), hidden


class FusionNet(nn.Module):
    """Iizuka et al.'s colorization network with simultaneous classification.

    ``forward(L, L_global=None)``: ``L`` is ``N x 1 x H x W`` lightness / 100 with H, W multiples
    of 8; ``L_global`` is the ``N x 1 x 224 x 224`` input of the global path (by default ``L``
    itself when it is already 224 x 224, sharing the low-level features as the paper does).
    Returns ``(ab_unit, logits)``: ``N x 2 x H/2 x W/2`` in [0, 1] and ``N x n_classes`` (or None).
    For ``global_source="backbone"`` the global path is a frozen pretrained backbone attached with
    :meth:`attach_backbone` (see :mod:`colorcourse.fusion.backbone`).
    """

    def __init__(self, config: FusionConfig | None = None, **kwargs):
        super().__init__()
        self.config = config if config is not None else FusionConfig(**kwargs)
        w = self.config.width
        self.low, c_low = _conv_stack(1, LAYER_TABLE["low"], w)
        self.mid, c_mid = _conv_stack(c_low, LAYER_TABLE["mid"], w)
        self.global_dim = scaled(LAYER_TABLE["global_fc"][-1], w)
        self.backbone = None  # set by attach_backbone; not part of the state dict
        if self.config.use_global:
            if self.config.global_source == "scratch":
                self.global_net = GlobalFeatures(c_low, w)
                hidden = self.global_net.hidden_features
            else:
                from colorcourse.fusion.backbone import BackboneProjection

                self.global_net = BackboneProjection(self.global_dim, w)
                hidden = self.global_net.hidden_features
            c_fuse_in = self.global_dim + c_mid
            if self.config.n_classes > 0:
                ch = scaled(LAYER_TABLE["class_hidden"], w)
                self.classifier = nn.Sequential(
                    nn.Linear(hidden, ch), nn.ReLU(inplace=True), nn.Linear(ch, self.config.n_classes)
                )
            else:
                self.classifier = None
        else:
            self.global_net = None
            self.classifier = None
            c_fuse_in = c_mid
        c_fused = scaled(LAYER_TABLE["fusion"], w)
        self.fusion = nn.Conv2d(c_fuse_in, c_fused, kernel_size=1)
        layers, c = [], c_fused
        for op, n in LAYER_TABLE["color"]:
            if op == "conv":
                layers += [_conv(c, scaled(n, w)), nn.ReLU(inplace=True)]
                c = scaled(n, w)
            else:
                layers.append(nn.Upsample(scale_factor=n, mode="nearest"))
        layers += [_conv(c, LAYER_TABLE["color_out"]), nn.Sigmoid()]
        self.colorize = nn.Sequential(*layers)

    # ------------------------------------------------------------ the two paths

    def attach_backbone(self, backbone: nn.Module) -> None:
        """Give a ``global_source="backbone"`` model its frozen feature extractor."""
        if self.config.global_source != "backbone":
            raise ValueError("attach_backbone is only for models with global_source='backbone'")
        for p in backbone.parameters():
            p.requires_grad_(False)
        backbone.eval()
        object.__setattr__(self, "backbone", backbone)  # not a submodule: never saved or trained

    def global_features(self, L_global: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``N x 1 x 224 x 224`` -> (global vector ``N x 256``, class logits ``N x n_classes``)."""
        if self.global_net is None:
            raise ValueError("this model was built without global features (use_global=False)")
        if L_global.shape[-2:] != (GLOBAL_SIZE, GLOBAL_SIZE):
            raise ValueError(f"the global path takes 224 x 224 input, got {tuple(L_global.shape[-2:])}")
        if self.config.global_source == "scratch":
            vec, hidden = self.global_net(self.low(L_global))
        else:
            if self.backbone is None:
                raise ValueError("backbone model: call attach_backbone(load_backbone()) first")
            with torch.no_grad():
                feats = self.backbone(L_global)
            vec, hidden = self.global_net(feats)
        logits = self.classifier(hidden) if self.classifier is not None else None
        return vec, logits

    def local(self, L: torch.Tensor, global_vec: torch.Tensor | None) -> torch.Tensor:
        """Local path: ``N x 1 x H x W`` (+ global vector) -> ``N x 2 x H/2 x W/2`` in [0, 1]."""
        return self.local_from_low(self.low(L), global_vec)

    def local_from_low(self, low: torch.Tensor, global_vec: torch.Tensor | None) -> torch.Tensor:
        mid = self.mid(low)  # N x 256 x H/8 x W/8
        if self.global_net is not None:
            if global_vec is None:
                raise ValueError("this model needs the global vector")
            # the fusion layer: the same global vector at every position, then a 1x1 conv
            tiled = global_vec[:, :, None, None].expand(-1, -1, mid.shape[2], mid.shape[3])
            mid = torch.cat([tiled, mid], dim=1)
        fused = F.relu(self.fusion(mid))
        return self.colorize(fused)

    def forward(self, L: torch.Tensor, L_global: torch.Tensor | None = None):
        h, w = L.shape[-2:]
        if h % DOWNSAMPLE or w % DOWNSAMPLE:
            raise ValueError(f"H and W must be multiples of {DOWNSAMPLE}, got {h} x {w} (infer.py pads)")
        low = self.low(L)
        if self.global_net is None:
            return self.local_from_low(low, None), None
        if L_global is None and (h, w) == (GLOBAL_SIZE, GLOBAL_SIZE) and self.config.global_source == "scratch":
            vec, hidden = self.global_net(low)  # share the low-level features, as the paper does
            logits = self.classifier(hidden) if self.classifier is not None else None
        else:
            if L_global is None:
                L_global = resize_global(L)
            vec, logits = self.global_features(L_global)
        return self.local_from_low(low, vec), logits


def resize_global(L: torch.Tensor) -> torch.Tensor:
    """Any ``N x 1 x H x W`` -> the global path's ``N x 1 x 224 x 224`` (bilinear, antialiased)."""
    if L.shape[-2:] == (GLOBAL_SIZE, GLOBAL_SIZE):
        return L
    return F.interpolate(L, size=(GLOBAL_SIZE, GLOBAL_SIZE), mode="bilinear", antialias=True, align_corners=False)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)

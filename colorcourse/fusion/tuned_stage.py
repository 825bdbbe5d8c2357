"""The encoder's last stage, fine-tuned with the decoder (``train_pretrained --tune-last-stage``).

The default colorizer keeps its whole ImageNet encoder frozen (:mod:`colorcourse.encoder`). The
stage that works at stride 32 (every MBConv block after the stride-16 tap, then the 1x1 head
convolution and its batch norm) is the most ImageNet-specific one: it turns mid-level parts into
what the classifier needs to name 1000 classes. Fine-tuning only that stage lets the stride-32
map and the pooled vector (the decoder's global features) adapt to colors, while the earlier
stages, whose maps the decoder's skip connections and the hint network read, stay the shared
frozen ones.

Its input is the encoder's stride-16 map, which ``train_pretrained`` already caches for every
crop: training recomputes the stride-32 map and the pooled vector from it at each step, and
nothing is encoded again. :class:`TunedLastStage` starts as a copy of the ImageNet weights (the
frozen encoder itself is never changed); :class:`TunedEncoder` is the frozen encoder with this
stage in place of its own, with the same ``forward(gray) -> (maps, pooled)``. A checkpoint
carries the stage's weights under :data:`PREFIX`; a checkpoint without them is the frozen
encoder's, exactly as before.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from colorcourse import encoder as enc

PREFIX = "tuned_stage."  # the stage's tensors in a checkpoint
_TAP16 = enc.STRIDES.index(16)


def stride16_tap(net: nn.Module) -> int:
    """The index of the last MBConv block at stride 16 (where the tuned stage begins after)."""
    return next(index for index, position in enc.stage_taps(net).items() if position == _TAP16)


class TunedLastStage(nn.Module):
    """The blocks after the stride-16 tap + head conv + batch norm, copied from ``net`` and trainable.

    ``forward(s16) -> (s32, head)``: the stride-32 map and the head's ``N x 1280 x h x w`` features
    of an (uncropped) stride-16 map, as the encoder computes them.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        first = stride16_tap(net) + 1
        # copies: training these must never change the shared frozen encoder
        self.blocks = nn.ModuleList(copy.deepcopy(block) for block in list(net._blocks)[first:])
        self.conv_head = copy.deepcopy(net._conv_head)
        self.bn_head = copy.deepcopy(net._bn1)
        self.swish = copy.deepcopy(net._swish)
        for p in self.parameters():
            p.requires_grad_(True)
        self.eval()

    def train(self, mode: bool = True):
        # Batch norm stays in eval mode: it keeps normalising with its ImageNet statistics and only
        # the weights learn. Statistics of 16 crops at 7 x 7 are noisy and unlike ImageNet's, so in
        # training mode the stage would stop being the pretrained encoder from the first step, and
        # its running statistics would drift to the few hundred training photos, which is the
        # in-domain bias the frozen encoder is there to avoid (the photos it colors are out of domain).
        return super().train(False)

    def forward(self, s16: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = s16
        for block in self.blocks:
            x = block(x)  # no drop-connect, as in the frozen encoder
        return x, self.swish(self.bn_head(self.conv_head(x)))


def stride32_and_pooled(stage: TunedLastStage, s16: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The stride-32 map and the pooled head vector of a stride-16 map with no padding in it (the
    training crops', whose side is a multiple of 32, as cached by ``train_pretrained``)."""
    s32, head = stage(s16)
    return s32, head.mean(dim=(2, 3))


def restaged(stage: TunedLastStage | None, maps: list[torch.Tensor], pooled: torch.Tensor):
    """Cached features with the stride-32 map and pooled vector recomputed by ``stage`` (``None``:
    unchanged)."""
    if stage is None:
        return maps, pooled
    s32, pooled = stride32_and_pooled(stage, maps[_TAP16])
    return [*maps[:3], s32], pooled


class TunedEncoder(nn.Module):
    """A frozen :class:`~colorcourse.encoder.MultiScaleEncoder` (``base``) whose stride-32 stage
    and head are ``stage``'s: same ``forward(gray) -> (maps, pooled)``, same name and channels.
    The maps at strides 4, 8 and 16 are the base encoder's own.
    """

    def __init__(self, base: nn.Module, stage: TunedLastStage):
        super().__init__()
        if isinstance(base, TunedEncoder):
            raise ValueError("the encoder given already has a tuned last stage")
        object.__setattr__(self, "base", base)  # shared and frozen: not a submodule, never saved
        self.stage = stage
        self.tap16 = stride16_tap(base.net)
        self.eval()

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def spec(self):
        return self.base.spec

    @property
    def channels(self):
        return self.base.channels

    @property
    def head_channels(self):
        return self.base.head_channels

    def train(self, mode: bool = True):  # as the frozen encoder's: batch norm on ImageNet statistics
        return super().train(False)

    def forward(self, gray: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        # MultiScaleEncoder.forward up to the stride-16 tap, operation for operation (so those maps
        # are bit-identical to the frozen encoder's), then the tuned stage on the UNCROPPED map:
        # the stride-2 block needs the padding the frozen encoder gives it
        h, w = gray.shape[-2:]
        ph, pw = (-h) % enc.PAD_MULTIPLE, (-w) % enc.PAD_MULTIPLE
        with torch.no_grad():
            x = enc.gray_to_input(gray)
            if ph or pw:
                mode = "reflect" if ph < h and pw < w else "replicate"
                x = F.pad(x, (0, pw, 0, ph), mode=mode)
            net, taps = self.base.net, self.base.taps
            x = net._swish(net._bn0(net._conv_stem(x)))
            maps: list[torch.Tensor] = [None] * len(enc.STRIDES)  # type: ignore[list-item]
            for index, block in enumerate(list(net._blocks)[: self.tap16 + 1]):
                x = block(x)
                if index in taps:
                    maps[taps[index]] = x
        maps[-1], head = self.stage(x)
        maps = [m[..., : -(-h // s), : -(-w // s)] for m, s in zip(maps, enc.STRIDES)]
        pooled = head[..., : -(-h // 32), : -(-w // 32)].mean(dim=(2, 3))
        return maps, pooled


def tuned_stage_of(encoder: nn.Module | None) -> TunedLastStage | None:
    """The tuned stage of ``encoder`` (``None`` for the frozen encoder or none)."""
    return encoder.stage if isinstance(encoder, TunedEncoder) else None


def stage_tensors(encoder: nn.Module | None) -> dict[str, torch.Tensor]:
    """What a checkpoint keeps of ``encoder``: its tuned stage's tensors under :data:`PREFIX` (none
    for the frozen encoder)."""
    stage = tuned_stage_of(encoder)
    if stage is None:
        return {}
    return {PREFIX + k: v.detach().contiguous() for k, v in stage.state_dict().items()}


def with_stage_from(encoder: nn.Module, tensors: dict[str, torch.Tensor]) -> nn.Module:
    """``encoder`` with the checkpoint's tuned stage in place of its own; if ``tensors`` hold none,
    the frozen encoder (``encoder`` itself, or its base if it is a :class:`TunedEncoder`).
    ``RuntimeError`` if they do not fit the encoder's stage."""
    base = encoder.base if isinstance(encoder, TunedEncoder) else encoder
    stage_state = {k[len(PREFIX):]: v for k, v in tensors.items() if k.startswith(PREFIX)}
    if not stage_state:
        return base
    stage = TunedLastStage(base.net)
    stage.load_state_dict(stage_state, strict=True)
    return TunedEncoder(base, stage)

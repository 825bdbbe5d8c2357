"""The course's default colorizer taking a user's color hints: Zhang et al. 2017 on a frozen encoder.

Taught in notebooks/12_guided_colorization.ipynb. Zhang et al.'s network sees the lightness,
the sparse a*b* hints (zero where there is none) and a binary mask of where there are hints.
It is trained on hints simulated from the training photos' own colors, often none, so the same
network is also the automatic colorizer.

Here the network is the course's default (:mod:`colorcourse.fusion.pretrained`: a frozen
EfficientNet-Lite0 encoder and a trained fusion decoder) with the hints as extra *decoder*
inputs. The encoder never sees a hint, so

- its features of the training crops stay cached: training runs only the decoder (minutes on
  2 cores, :mod:`colorcourse.fusion.train_hinted`);
- at inference the encoder runs once per photo and each click re-runs only the decoder
  (:class:`HintSession`).

Where the hints enter: the hints live on the decoder's output grid (stride 4; a cell holds the
mean a*b* of the hinted pixels that fall in it, and a mask of 1). That grid is pooled to every
scale the decoder works at (strides 8, 16, 32): per block, over its hinted cells, the mean hint
a*b* / 110, the mean *correction* (the hint minus the decoder's own output without hints, which a
session computes once per photo), and the fraction of the block hinted: five channels. The
correction is what a hint says that the network did not already guess; at a hinted cell the
output layer only has to add it to be right there, and the up-blocks learn how far to spread it.
Each scale's channels pass through a 3x3 convolution whose output is added where the decoder's
own convolution of that scale's input is (the fusion layer at stride 32, the first convolution
of each up-block, the output layer): the same as concatenating them to that input. A global
summary (the same five numbers over the whole photo) is added to the global vector. All these
hint weights start at zero, so a fresh model is exactly the shipped default decoder
(:func:`from_pretrained`); a missing hint is a zero input, so without hints the hint weights
never change the output.

How far a hint reaches: by default a session also spreads the hints by attention over the
frozen encoder's features (:mod:`colorcourse.hint_propagation`): every cell takes the colors of
the hinted cells it looks like, and keeps the decoder's colors where none is alike. On the 40
``shift_val`` photos at 10 hints this gave +5.03 dB over gray against +3.84 for the decoder's
hint inputs alone (``HintSession(..., spread="network")``).

Two chroma gains are stored, both chosen on ``shift_val`` by :mod:`colorcourse.calibration`:
``chroma_gain`` for a photo without hints (the automatic colorizer) and ``hint_gain`` with hints.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits
from torch import nn

from colorcourse import encoder as enc
from colorcourse.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from colorcourse.color import AB_SCALE
from colorcourse.fusion.tuned_stage import tuned_stage_of
from colorcourse.hint_propagation import blend, grid_features, propagate
from colorcourse.fusion.pretrained import (
    PretrainedConfig, PretrainedFusionDecoder, ab_to_rgb, photo_lightness, upsample_ab,
)

KIND = "fusion-hinted"
# Per block of each scale: the hinted cells' mean a*b* / 110, their mean correction (hint minus
# the network's own guess without hints, / 110), the fraction of cells hinted (5 channels), then
# for each of two reaches the hints and the corrections spread along the photo's edges, and the
# confidence of the spread (5 channels each).
SUMMARY_CHANNELS = 5
HINT_CHANNELS = SUMMARY_CHANNELS + 10
# Domain transform (Gastal & Oliveira 2011) that spreads the hints, in cells of the stride-4 grid
# and gray units: a near reach (about an object part) and a far one (most of a photo); a gray
# step of SPREAD_RANGE already stops most spreading. Chosen on shift_val photos with 10 and 100
# hints by the spread alone (no network): 0.1 beat 0.03 and 0.3, 100 cells matched 24.
SPREAD_REACHES = (8.0, 64.0)
SPREAD_RANGE = 0.1
_CONFIDENCE_FLOOR = 1e-12  # spread weight below which a cell counts as unreached
DEFAULT_WORK_SIZE = 512  # as methods.WORK_SIZE["pretrained"]: the scale the encoder recognises objects at
MIN_SIDE = 8
# How a session spreads the hints over the photo: "attention" (the encoder's features decide which
# cells share a hint's color, colorcourse.hint_propagation; the network's colors where no hint is
# alike) or "network" (the decoder's hint inputs alone).
SPREADS = ("attention", "network")
DEFAULT_SPREAD = "attention"
_POOL = (1, 2, 4, 8)  # from the stride-4 grid to strides 4, 8, 16, 32


def _zero_conv(cin: int, cout: int) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    nn.init.zeros_(conv.weight)
    return conv


class HintedFusionDecoder(nn.Module):
    """:class:`~colorcourse.fusion.pretrained.PretrainedFusionDecoder` (``base``) plus the hint
    inputs, zero-initialised. ``forward(maps, pooled, hints=None)``; ``hints`` is what
    :func:`hint_pyramid` returns (or ``None``: the base decoder's computation, operation for operation)."""

    def __init__(self, config: PretrainedConfig):
        super().__init__()
        if config.loss == "classification":
            raise ValueError("the hint network regresses a*b*: use loss 'mse' or 'smoothl1'")
        self.config = config
        self.base = PretrainedFusionDecoder(config)
        w = config.width
        self.hint32 = _zero_conv(HINT_CHANNELS, 4 * w)  # into the fusion layer
        self.hint16 = _zero_conv(HINT_CHANNELS, 2 * w)  # into each up-block's first convolution
        self.hint8 = _zero_conv(HINT_CHANNELS, w)
        self.hint4 = _zero_conv(HINT_CHANNELS, w)
        self.hint_out = _zero_conv(HINT_CHANNELS, config.out_channels)  # into the output layer
        self.hint_global = nn.Linear(SUMMARY_CHANNELS, config.global_dim, bias=False)
        nn.init.zeros_(self.hint_global.weight)

    def hint_parameters(self) -> list[nn.Parameter]:
        """The weights that read the hints (the rest is the shipped default decoder's)."""
        return [p for name, p in self.named_parameters() if not name.startswith("base.")]

    def forward(self, maps: list[torch.Tensor], pooled: torch.Tensor,
                hints: tuple[list[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        b = self.base
        s4, s8, s16, s32 = maps
        x = b.reduce32(s32)
        g = b.global_fc(pooled)
        if hints is not None:
            g = g + self.hint_global(hints[1])
        g = F.relu(g)
        tiled = g[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        x = b.fusion(torch.cat([x, tiled], dim=1))
        if hints is not None:
            x = x + self.hint32(hints[0][3])
        x = F.relu(x)
        steps = ((b.up16, s16, self.hint16, 2), (b.up8, s8, self.hint8, 1), (b.up4, s4, self.hint4, 0))
        for block, skip, hint_conv, level in steps:
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block[0](torch.cat([x, skip], dim=1))
            if hints is not None:
                x = x + hint_conv(hints[0][level])
            for layer in block[1:]:
                x = layer(x)
        out = b.out(x)
        if hints is not None:
            out = out + self.hint_out(hints[0][0])
        return out


def _recursion_weights(guide: torch.Tensor, sigma_spatial: float, sigma_range: float, iterations: int):
    """Per iteration, the recursive filter's feedback ``a ** d`` between columns (``N x 1 x H x W-1``)
    and between rows (``N x 1 x H-1 x W``)."""
    ratio = sigma_spatial / sigma_range
    dh = 1.0 + ratio * (guide[..., :, 1:] - guide[..., :, :-1]).abs()  # between columns j-1 and j
    dv = 1.0 + ratio * (guide[..., 1:, :] - guide[..., :-1, :]).abs()
    weights = []
    for i in range(iterations):
        sigma_i = sigma_spatial * math.sqrt(3.0) * 2 ** (iterations - (i + 1)) / math.sqrt(4.0**iterations - 1)
        a = math.exp(-math.sqrt(2.0) / sigma_i)
        weights.append((a**dh, a**dv))
    return weights


def domain_transforms(src: torch.Tensor, guide: torch.Tensor, sigmas_spatial: tuple[float, ...], sigma_range: float,
                      iterations: int = 3) -> list[torch.Tensor]:
    """:func:`domain_transform` of one ``src`` at several ``sigma_spatial``, the same numbers, at once.

    The recursion runs along one axis a column (or row) at a time, so its cost is the number of
    steps, not their size: all reaches share each step here, and on the CPU the steps run in
    NumPy on a copy whose scanned axis comes first (each step one contiguous block, and NumPy's
    small operations cost less than torch's). The arithmetic is the same, element for element
    (a subtraction, a product and a sum in ``src``'s dtype), so the results are bit for bit
    those of the torch loop, which still serves gradients and GPUs.
    """
    weights = [_recursion_weights(guide, sigma, sigma_range, iterations) for sigma in sigmas_spatial]
    if (src.device.type != "cpu" or src.dtype != guide.dtype or src.dtype not in (torch.float32, torch.float64)
            or (torch.is_grad_enabled() and (src.requires_grad or guide.requires_grad))):
        return [_recursive_filter_torch(src, w) for w in weights]
    k, n = len(sigmas_spatial), src.shape[0]
    f = src.detach().repeat(k, 1, 1, 1).numpy()  # the reaches side by side in the batch: K*N x C x H x W
    for i in range(iterations):
        for axis, order in ((0, (3, 0, 1, 2)), (1, (2, 0, 1, 3))):  # columns, then rows
            v = np.ascontiguousarray(torch.cat([w[i][axis] for w in weights]).detach().numpy().transpose(order))
            steps = np.ascontiguousarray(f.transpose(order))  # the scanned axis first
            for j in range(1, len(steps)):  # causal
                step = steps[j]
                step += v[j - 1] * (steps[j - 1] - step)
            for j in range(len(steps) - 2, -1, -1):  # anti-causal
                step = steps[j]
                step += v[j] * (steps[j + 1] - step)
            f = steps.transpose(np.argsort(order))
    return [torch.from_numpy(np.ascontiguousarray(f[r * n:(r + 1) * n])) for r in range(k)]


def _recursive_filter_torch(src: torch.Tensor, weights) -> torch.Tensor:
    f = src.clone()
    for vh, vv in weights:
        for axis, v in ((3, vh), (2, vv)):
            n = f.shape[axis]
            for j in range(1, n):  # causal
                f.select(axis, j).add_(v.select(axis, j - 1) * (f.select(axis, j - 1) - f.select(axis, j)))
            for j in range(n - 2, -1, -1):  # anti-causal
                f.select(axis, j).add_(v.select(axis, j) * (f.select(axis, j + 1) - f.select(axis, j)))
    return f


def domain_transform(src: torch.Tensor, guide: torch.Tensor, sigma_spatial: float, sigma_range: float,
                     iterations: int = 3) -> torch.Tensor:
    """Edge-preserving smoothing of ``src`` (``N x C x H x W``) guided by gray ``guide`` (``N x 1 x H x W``).

    The recursive-filter domain transform of Gastal & Oliveira (2011), batched (the same numbers
    as :func:`colorcourse.cheng.semantic.domain_transform_filter` on each photo): distances along
    rows and columns are stretched by ``1 + sigma_spatial / sigma_range * |d guide|``, so the
    smoothing stops at gray edges; horizontal then vertical passes, ``iterations`` times.
    """
    return domain_transforms(src, guide, (sigma_spatial,), sigma_range, iterations)[0]


def hint_pyramid(hint_ab: torch.Tensor, mask: torch.Tensor, automatic: torch.Tensor, guide: torch.Tensor,
                 sizes: list[tuple[int, int]]):
    """Hints on the stride-4 grid -> the decoder's hint inputs at strides 4, 8, 16, 32.

    ``hint_ab``: ``N x 2 x h x w`` a*b* (CIE units, zero where no hint); ``mask``: ``N x 1 x h x w``
    in {0, 1}; ``automatic``: ``N x 2 x h x w``, the decoder's own output without hints (a*b* / 110);
    ``guide``: ``N x 1 x h x w`` the gray photo on the grid; ``sizes``: the encoder maps' ``(h, w)``
    at the four strides (``sizes[0] == (h, w)``).

    Returns ``(levels, summary)``. ``levels[i]`` is ``N x 15 x sizes[i]``: over the hinted cells of
    each block, the mean hint a*b* / 110, the mean correction (hint minus ``automatic``) and the
    fraction of the block hinted; then, for each reach of :data:`SPREAD_REACHES`, the hints
    spread along the gray edges by :func:`domain_transform` (normalised convolution: divided by
    the spread mask) minus ``automatic``, the corrections spread alike, and the confidence (the spread mask on a log scale,
    0 where no hint reaches, 1 on a hint), as block means.
    ``summary``: the first five numbers over the whole grid, ``N x 5``.
    """
    if tuple(hint_ab.shape[-2:]) != tuple(sizes[0]) or tuple(mask.shape[-2:]) != tuple(sizes[0]):
        raise ValueError(f"hints on a {tuple(mask.shape[-2:])} grid, but the decoder's grid is {tuple(sizes[0])}")
    mask = mask.float()
    hint = hint_ab.float() / AB_SCALE
    correction = (hint - automatic) * mask
    weighted = torch.cat([hint * mask, correction], dim=1)  # zero wherever there is no hint
    spread = []
    smoothed = domain_transforms(torch.cat([hint * mask, correction, mask], dim=1), guide.float(), SPREAD_REACHES,
                                 SPREAD_RANGE)
    for smooth in smoothed:
        weight = smooth[:, 4:]
        reached = weight > _CONFIDENCE_FLOOR
        # the spread hints as a change from the network's own guess, so that "take the spread
        # color" is one linear weight of the output layer; and the spread corrections
        moved = torch.cat([smooth[:, :2] / weight.clamp(min=_CONFIDENCE_FLOOR) - automatic,
                           smooth[:, 2:4] / weight.clamp(min=_CONFIDENCE_FLOOR)], dim=1)
        spread.append(torch.where(reached, moved, 0.0))
        confidence = (torch.log10(weight.clamp(min=_CONFIDENCE_FLOOR)) - math.log10(_CONFIDENCE_FLOOR))
        spread.append(confidence / -math.log10(_CONFIDENCE_FLOOR))
    spread = torch.cat(spread, dim=1)
    levels = []
    for k, size in zip(_POOL, sizes):
        if k == 1:
            frac, total, dense = mask, weighted, spread
        else:
            frac, total, dense = (F.avg_pool2d(t, k, ceil_mode=True) for t in (mask, weighted, spread))
            if tuple(frac.shape[-2:]) != tuple(size):  # an odd size: match the encoder map exactly
                frac, total, dense = (F.interpolate(t, size=size, mode="area") for t in (frac, total, dense))
        levels.append(torch.cat([total / frac.clamp(min=1e-6), frac, dense], dim=1))
    frac = mask.mean(dim=(2, 3))
    summary = torch.cat([weighted.mean(dim=(2, 3)) / frac.clamp(min=1e-6), frac], dim=1)
    return levels, summary


def grid_guide(gray: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Gray ``N x 1 x H x W`` -> its area means on the decoder's ``grid`` (the spreading's guide)."""
    return F.interpolate(gray, size=grid, mode="area")


class HintedFusionNet(nn.Module):
    """Frozen encoder + hint-conditioned decoder.

    ``features(gray)`` runs the encoder (once per photo); ``decode(maps, pooled, hint_ab, mask)``
    runs the decoder with hints on the stride-4 grid (``None``: no hints) and returns ``N x 2 x
    h x w`` a*b* / 110. ``chroma_gain`` / ``hint_gain``: the gains without / with hints.
    """

    def __init__(self, config: PretrainedConfig, encoder: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.decoder = HintedFusionDecoder(config)
        object.__setattr__(self, "encoder", encoder)  # not a submodule: never trained or saved
        self.chroma_gain = 1.0
        self.hint_gain = 1.0
        self.refine_radius, self.refine_eps = 0, 0.0  # the default's chroma refinement (chroma_refine)

    def features(self, gray: torch.Tensor):
        if self.encoder is None:
            raise ValueError("no encoder attached: use load_model(), or pass encoder=MultiScaleEncoder()")
        return self.encoder(gray)

    def decode(self, maps, pooled, hint_ab: torch.Tensor | None = None, mask: torch.Tensor | None = None,
               guide: torch.Tensor | None = None, automatic: torch.Tensor | None = None):
        """The decoder's output, ``N x 2 x h x w`` a*b* / 110. Hints: ``hint_ab`` and ``mask`` (in
        [0, 1]: a weight per cell) on the stride-4 grid; ``guide``, the gray photo on that grid
        (:func:`grid_guide`), whose edges the hints' spread follows (``None``: a flat gray).
        ``automatic``: this decoder's output without hints, if already known (a session keeps
        it); else it is computed here first, without gradient."""
        if hint_ab is None or mask is None or not bool(mask.any()):
            return self.decoder(maps, pooled)
        if guide is None:  # no photo to follow: the hints spread as over a flat gray (no edges)
            guide = torch.zeros_like(mask[:, :1], dtype=torch.float32)
        if automatic is None:
            with torch.no_grad():
                automatic = self.decoder(maps, pooled)
        sizes = [tuple(m.shape[-2:]) for m in maps]
        return self.decoder(maps, pooled, hint_pyramid(hint_ab, mask, automatic.detach(), guide, sizes))

    def forward(self, gray: torch.Tensor, hint_ab: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        maps, pooled = self.features(gray)
        return self.decode(maps, pooled, hint_ab, mask, grid_guide(gray, tuple(maps[0].shape[-2:])))


# ------------------------------------------------------------------ one photo, many clicks


def _check_gray(gray) -> np.ndarray:
    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"expected an H x W gray image, got shape {gray.shape}")
    if min(gray.shape) < MIN_SIDE:
        raise ValueError(f"the photo is {gray.shape[0]} x {gray.shape[1]}: at least {MIN_SIDE} pixels a side are needed")
    if not np.all(np.isfinite(gray)):
        raise ValueError("the gray image contains NaN or infinite values")
    return gray


def work_image(gray: np.ndarray, work_size: int | None) -> np.ndarray:
    """``gray`` scaled down (anti-aliased) so its longer side is ``work_size`` (never up), float32."""
    h, w = gray.shape
    scale = 1.0 if work_size is None else min(1.0, work_size / max(h, w))
    if scale < 1.0:
        from skimage.transform import resize

        shape = (max(MIN_SIDE, round(h * scale)), max(MIN_SIDE, round(w * scale)))
        gray = resize(gray.astype(np.float32), shape, anti_aliasing=True, preserve_range=True)
    return np.clip(gray, 0.0, 1.0).astype(np.float32)


class HintSession:
    """One photo, encoded once; each call re-runs only the decoder.

    ``gray``: ``H x W`` in [0, 1] at full size. The encoder and decoder run on a copy whose longer
    side is ``work_size`` (``None``: the full size); the a*b* is upsampled to ``H x W`` and joined
    with the photo's own lightness. Hints must belong to a photo of this ``H x W``; they are put on
    the decoder's grid by ``hints.dense(grid)`` (a pixel lands in the cell its centre falls in),
    the same pixel-centre geometry with which :func:`~colorcourse.fusion.pretrained.upsample_ab`
    stretches the grid back over the photo.
    """

    def __init__(self, model: HintedFusionNet, gray: np.ndarray, work_size: int | None = DEFAULT_WORK_SIZE,
                 spread: str = DEFAULT_SPREAD):
        if spread not in SPREADS:
            raise ValueError(f"spread must be one of {SPREADS}, got {spread!r}")
        self.model = model.eval()
        self.gray = _check_gray(gray)
        self.shape = tuple(self.gray.shape)
        self.lightness_full = None  # L* at full size, from the first colorize on
        small = work_image(self.gray, work_size)
        self.small = small  # the refinement's guide
        self.work_shape = small.shape
        with torch.inference_mode():
            self.maps, self.pooled = model.features(torch.from_numpy(small)[None, None])
            self.automatic = model.decode(self.maps, self.pooled)  # the output without hints, kept
        self.grid = tuple(self.maps[0].shape[-2:])
        self.guide = grid_guide(torch.from_numpy(small)[None, None], self.grid)
        self.spread = spread
        if spread == "attention":  # what the hints are compared with, once per photo
            from colorcourse.color import gray_to_lightness

            self.features = grid_features(self.maps)  # P x C unit vectors
            lightness = torch.from_numpy(np.asarray(gray_to_lightness(small), dtype=np.float32))[None, None]
            self.lightness = F.interpolate(lightness, size=self.grid, mode="area")[0, 0].numpy().ravel()

    def _hint_tensors(self, hints):
        if hints is None or len(hints) == 0:
            return None, None
        if tuple(hints.shape) != self.shape:
            raise ValueError(f"the hints belong to a {hints.shape[0]} x {hints.shape[1]} photo, but this photo is "
                             f"{self.shape[0]} x {self.shape[1]} (rescale them: hints.rescaled(shape))")
        ab, mask = hints.dense(self.grid)  # a cell: the mean a*b* of the hinted pixels whose centre is in it
        return torch.from_numpy(ab).permute(2, 0, 1)[None], torch.from_numpy(mask)[None, None]

    def predict_ab_grid(self, hints=None) -> torch.Tensor:
        """``1 x 2 x gh x gw`` a*b* (CIE units) on the decoder's grid, before any gain."""
        hint_ab, mask = self._hint_tensors(hints)
        if hint_ab is None:
            return self.automatic * AB_SCALE
        with torch.inference_mode():
            network = self.model.decode(self.maps, self.pooled, hint_ab, mask, self.guide, self.automatic) * AB_SCALE
        if self.spread == "network":
            return network
        # Attention (colorcourse.hint_propagation): each cell takes the colors of the hinted cells
        # it looks like; where none is alike, the network's own colors stay.
        index = np.flatnonzero(mask[0, 0].numpy().ravel() > 0)
        colors = hint_ab[0].reshape(2, -1)[:, index].T.numpy()
        # One BLAS thread: OpenBLAS's workers keep spinning after the product and starve torch's
        # threads in the next click's decoder (at 512 px the decoder took 116 ms after them, 27 ms
        # alone; a click's median 126-143 ms before, 97-99 after: benchmarks/hint_update.py).
        with threadpool_limits(limits=1, user_api="blas"):
            spread_ab, confidence = propagate(self.features, self.lightness, index, colors)
        mixed = blend(spread_ab, confidence, network[0].reshape(2, -1).T.numpy())
        return torch.from_numpy(mixed.T.reshape(1, 2, *self.grid).copy())

    def gain_for(self, hints) -> float:
        return self.model.chroma_gain if hints is None or len(hints) == 0 else self.model.hint_gain

    def full_size_ab(self, hints=None) -> np.ndarray:
        """``H x W x 2`` float32 a*b* before any gain: upsampled to the working size, refined along
        the gray's edges as the model asks (:func:`colorcourse.chroma_refine.refine_for`), then
        upsampled to the photo's size if that is larger."""
        from colorcourse.chroma_refine import refine_for

        if not getattr(self.model, "refine_radius", 0):  # no refinement: straight to the photo's size
            return upsample_ab(self.predict_ab_grid(hints), self.shape)
        ab = refine_for(self.model, self.small, upsample_ab(self.predict_ab_grid(hints), self.work_shape))
        if self.work_shape != self.shape:
            ab = upsample_ab(torch.from_numpy(ab).permute(2, 0, 1)[None], self.shape)
        return ab

    def predict_ab(self, hints=None, gain: float | None = None) -> np.ndarray:
        """``H x W x 2`` float32 a*b* at full size, times the stored gain (or ``gain``)."""
        gain = self.gain_for(hints) if gain is None else gain
        return self.full_size_ab(hints) * np.float32(gain)

    def colorize(self, hints=None, gain: float | None = None) -> np.ndarray:
        """RGB ``H x W x 3`` float32 in [0, 1]; its lightness is the input's own. Without hints,
        the same numbers as :func:`colorcourse.fusion.pretrained.colorize` (same operations)."""
        gain = self.gain_for(hints) if gain is None else gain
        if self.lightness_full is None:  # the photo's L*, once per session (not per click)
            self.lightness_full = photo_lightness(self.gray)
        return ab_to_rgb(self.gray, self.full_size_ab(hints), gain, self.lightness_full)


class HintedColorizer:
    """``colorizer(gray, hints=None) -> rgb`` (the CLI's and the evaluation's entry point)."""

    name = "hinted"
    takes_hints = True

    def __init__(self, model: HintedFusionNet | None = None, work_size: int | None = DEFAULT_WORK_SIZE):
        self.model = model if model is not None else load_model()
        self.work_size = work_size
        self.chroma_gain = None  # as PretrainedColorizer's: None = the model's stored gains (without / with hints)

    def __call__(self, gray: np.ndarray, hints=None) -> np.ndarray:
        return HintSession(self.model, gray, self.work_size).colorize(hints)


# ------------------------------------------------------------------ files


def default_model_path() -> Path:
    from colorcourse.paths import models_dir

    return models_dir() / "hinted_fusion.safetensors"


def from_pretrained(path: str | Path | None = None, encoder: nn.Module | None = None) -> HintedFusionNet:
    """A hint network whose decoder is the shipped default's (``models/pretrained_fusion``) and
    whose hint weights are zero: it colorizes exactly as the default does, hints or not."""
    from colorcourse.fusion import pretrained

    default = pretrained.load_model(path, encoder=encoder)
    if tuned_stage_of(default.encoder) is not None:  # the hint network reads the shared frozen encoder
        raise CheckpointError(f"{path}: its encoder's last stage was fine-tuned (--tune-last-stage); the hint "
                              "network needs a default trained on the frozen encoder")
    model = HintedFusionNet(default.config, encoder=default.encoder)
    model.decoder.base.load_state_dict(default.decoder.state_dict(), strict=True)
    model.chroma_gain = model.hint_gain = default.chroma_gain
    model.refine_radius, model.refine_eps = default.refine_radius, default.refine_eps
    return model.eval()


def save_model(path: str | Path, model: HintedFusionNet, extra: dict | None = None, overwrite: bool = False) -> Path:
    """The decoder's weights (base and hint weights) with the configuration and both gains."""
    config = asdict(model.config) | {
        "chroma_gain": float(model.chroma_gain), "hint_gain": float(model.hint_gain),
        "refine_radius": int(model.refine_radius), "refine_eps": float(model.refine_eps),
        "encoder": "efficientnet-lite0", "encoder_sha256": enc.WEIGHTS_SHA256,
    } | dict(extra or {})
    tensors = {f"decoder.{k}": v for k, v in model.decoder.state_dict().items()}
    return save_checkpoint(path, tensors, config, KIND, overwrite=overwrite)


def load_model(path: str | Path | None = None, encoder: nn.Module | None = None) -> HintedFusionNet:
    """The shipped (or given) hint network on the frozen encoder; one-line errors naming the fix."""
    path = Path(path) if path is not None else default_model_path()
    if encoder is None:
        encoder = enc.MultiScaleEncoder()
    try:
        tensors, config = load_checkpoint(path, KIND)
    except CheckpointError as e:
        raise CheckpointError(f"{e}; restore the file (git checkout models/) or retrain it (make models)") from None
    if config.get("encoder_sha256", enc.WEIGHTS_SHA256) != enc.WEIGHTS_SHA256:
        raise CheckpointError(f"{path} was trained on another encoder file ({config['encoder_sha256'][:12]}...)")
    model = HintedFusionNet(PretrainedConfig(**{k: config[k] for k in ("loss", "width", "global_dim", "n_bins")}),
                            encoder=encoder)
    decoder = {k[len("decoder."):]: v for k, v in tensors.items() if k.startswith("decoder.")}
    try:
        model.decoder.load_state_dict(decoder, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path} does not fit the decoder it describes: {e}") from None
    model.chroma_gain = float(config.get("chroma_gain", 1.0))
    model.hint_gain = float(config.get("hint_gain", model.chroma_gain))
    model.refine_radius = int(config.get("refine_radius", 0))  # files from before the refinement: none
    model.refine_eps = float(config.get("refine_eps", 0.0))
    return model.eval()


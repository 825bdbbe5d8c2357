"""Colorize a gray photo of any size with the fusion network; load the shipped models.

Taught in notebooks/06_fusion_cnn.ipynb ("any resolution") and notebooks/08_style_transfer.ipynb.

Why any size works: the local path is fully convolutional and the global path always sees a
224 x 224 resize, so the global vector has the same shape for every photo. Three details:

- sizes that are not multiples of 8 (the low-level stride) are padded by reflection and the
  result is cropped back, so a 37 x 53 photo gives a 37 x 53 colorization;
- the network predicts a*b* at half resolution; only the chroma is upsampled (bilinear) and it is
  joined with the photo's own full-resolution L, so detail is never blurred: the output's L *is*
  the input's L;
- big photos are colorized tile by tile: the local path runs on overlapping tiles whose margin
  covers its receptive field, so the result equals the untiled one, while peak memory stays
  bounded (a 4096 x 4096 photo fits in well under 4 GB). The global vector is computed once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorcourse.checkpoint import CheckpointError, load_checkpoint
from colorcourse.color import AB_SCALE, lab_to_rgb, rgb_to_gray
from colorcourse.fusion.model import DOWNSAMPLE, KIND, FusionConfig, FusionNet, resize_global
from colorcourse.gamut_fast import lab_to_rgb_chroma

MIN_SIDE = DOWNSAMPLE  # smaller images have no H/8 feature map at all
# Receptive-field radius of the local path in input pixels, summed over its 3x3 convolutions
# (each adds one step of the current stride): 1+2+2+4+4+8 (low) + 8+8 (mid) + 8 (color 128)
# + 4+4 (after the first x2) + 2+2 (after the second) = 57; one stride-8 cell more for safety.
RECEPTIVE_RADIUS = 57
TILE_MARGIN = 64


class ImageTooSmallError(ValueError):
    """The photo is smaller than the network's 8-pixel stride."""


def gray_to_lightness_unit(gray: np.ndarray) -> np.ndarray:
    """Gray ``Y`` (H x W, [0, 1]) -> ``L / 100`` of the neutral color, float32 (memory-lean).

    Same numbers as :func:`colorcourse.color.gray_to_lightness` / 100, without the 3-channel copy.
    """
    g = np.clip(np.asarray(gray, dtype=np.float32), 0.0, 1.0)
    lin = np.where(g > 0.04045, ((g + 0.055) / 1.055) ** 2.4, g / 12.92)
    f = np.where(lin > 0.008856, np.cbrt(lin), 7.787 * lin + 16.0 / 116.0)
    return ((116.0 * f - 16.0) / 100.0).astype(np.float32)


def _check_gray(gray, name: str = "gray") -> np.ndarray:
    gray = np.asarray(gray)
    if gray.ndim == 3 and gray.shape[-1] == 3:
        raise ValueError(f"{name} must be a gray H x W image; got RGB (use color.rgb_to_gray first)")
    if gray.ndim != 2:
        raise ValueError(f"{name} must be a gray H x W image, got shape {gray.shape}")
    if min(gray.shape) < MIN_SIDE:
        raise ImageTooSmallError(
            f"{name} is {gray.shape[0]} x {gray.shape[1]}: the fusion network needs at least "
            f"{MIN_SIDE} pixels a side (its low-level features are 1/8 of the input)"
        )
    if not np.all(np.isfinite(gray)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return gray


def _style_to_gray(style_image) -> np.ndarray:
    # Only luminance ever reaches the network: an RGB style image is reduced to its gray version,
    # and a gray style image is used as it is (its colors never mattered).
    style_image = np.asarray(style_image)
    if style_image.ndim == 3 and style_image.shape[-1] == 3:
        style_image = rgb_to_gray(style_image)
    return _check_gray(style_image, "style_image")


def _pad_to_multiple(L: torch.Tensor, multiple: int = DOWNSAMPLE) -> torch.Tensor:
    h, w = L.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        L = F.pad(L, (0, pw, 0, ph), mode="reflect")  # ph, pw < 8 <= h, w: reflect is valid
    return L


def global_vector(model: FusionNet, gray: np.ndarray) -> torch.Tensor | None:
    """The 256-d global vector of a gray image (from its 224 x 224 resize); None without one."""
    if model.global_net is None:
        return None
    L = torch.from_numpy(gray_to_lightness_unit(_check_gray(gray)))[None, None]
    with torch.inference_mode():
        return model.global_features(resize_global(L))[0]


def predict_logits(model: FusionNet, gray: np.ndarray) -> torch.Tensor | None:
    """Scene-class logits (``n_classes``) of a gray image, from the global path."""
    if model.classifier is None:
        return None
    L = torch.from_numpy(gray_to_lightness_unit(_check_gray(gray)))[None, None]
    with torch.inference_mode():
        return model.global_features(resize_global(L))[1][0]


def predict_ab_unit(
    model: FusionNet,
    L_unit: torch.Tensor,
    global_vec: torch.Tensor | None,
    tile_size: int | None = None,
    margin: int = TILE_MARGIN,
) -> torch.Tensor:
    """``H x W`` lightness / 100 -> ``2 x H x W`` a*b* in [0, 1] at full size (chroma upsampled).

    ``tile_size`` (a multiple of 8): run the local path tile by tile with ``margin`` pixels of
    context on every side; ``None`` runs it on the whole image at once.
    """
    h, w = L_unit.shape
    Lp = _pad_to_multiple(L_unit[None, None])  # 1 x 1 x Hp x Wp
    hp, wp = Lp.shape[-2:]
    with torch.inference_mode():
        if tile_size is None or (hp <= tile_size and wp <= tile_size):
            half = model.local(Lp, global_vec)  # 1 x 2 x Hp/2 x Wp/2
        else:
            if tile_size % DOWNSAMPLE or margin % DOWNSAMPLE:
                raise ValueError(f"tile_size and margin must be multiples of {DOWNSAMPLE}")
            if margin < RECEPTIVE_RADIUS:
                raise ValueError(f"margin {margin} is smaller than the receptive radius {RECEPTIVE_RADIUS}")
            half = torch.empty(1, 2, hp // 2, wp // 2)
            for y0 in range(0, hp, tile_size):
                for x0 in range(0, wp, tile_size):
                    y1, x1 = min(y0 + tile_size, hp), min(x0 + tile_size, wp)
                    ry0, rx0 = max(0, y0 - margin), max(0, x0 - margin)
                    ry1, rx1 = min(hp, y1 + margin), min(wp, x1 + margin)
                    out = model.local(Lp[..., ry0:ry1, rx0:rx1], global_vec)
                    half[..., y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = out[
                        ..., (y0 - ry0) // 2 : (y1 - ry0) // 2, (x0 - rx0) // 2 : (x1 - rx0) // 2
                    ]
        full = F.interpolate(half, size=(hp, wp), mode="bilinear", align_corners=False)
    return full[0, :, :h, :w]


def auto_tile_size(h: int, w: int, tile_size: int = 2048) -> int | None:
    """Tile only photos bigger than ``tile_size`` a side (smaller ones gain nothing from it).

    A 2048 x 2048 tile of the full-width network needs about 1.5 GB; every tile costs its margin
    again (``(2048 + 128)^2 / 2048^2``: 13 % more work), so tiles are as big as memory allows."""
    return tile_size if max(h, w) > tile_size else None


def colorize_lab(
    model: FusionNet,
    gray: np.ndarray,
    style_image: np.ndarray | None = None,
    tile_size: int | None | str = "auto",
    chroma_gain: float | None = None,
) -> np.ndarray:
    """Gray ``H x W`` -> L*a*b* ``H x W x 3`` (float32); ``lab[..., 0]`` is the input's own L.

    ``chroma_gain`` scales the predicted a*b* (1.0: the network's output). An MSE-trained network
    predicts the *mean* of the plausible colors, which is washed out; a gain above 1 trades PSNR
    for colorfulness (measured in notebooks/06_fusion_cnn.ipynb). ``None`` (the default): the
    model's own default, ``model.chroma_gain``, which :func:`load_model` reads from the
    checkpoint's configuration (chosen on the validation split when the model was made; 1.0 for
    checkpoints that store none).
    """
    if chroma_gain is None:
        chroma_gain = model_chroma_gain(model)
    gray = _check_gray(gray)
    model.eval()
    L_unit = torch.from_numpy(gray_to_lightness_unit(gray))
    vec = global_vector(model, gray if style_image is None else _style_to_gray(style_image))
    if tile_size == "auto":
        tile_size = auto_tile_size(*gray.shape)
    ab_unit = predict_ab_unit(model, L_unit, vec, tile_size=tile_size)  # 2 x H x W
    lab = np.empty(gray.shape + (3,), dtype=np.float32)
    lab[..., 0] = L_unit.numpy() * 100.0
    lab[..., 1:] = (ab_unit.permute(1, 2, 0).numpy() - 0.5) * (2 * AB_SCALE * chroma_gain)
    return lab


def _lab_to_rgb_band(lab: np.ndarray, gamut: str) -> np.ndarray:
    # lab_to_rgb(lab, gamut), with the chroma mapping's bisection run only on the pixels outside
    # the gamut and arranged to cost less (colorcourse.gamut_fast): the same numbers, bit for bit.
    if gamut != "chroma":
        return lab_to_rgb(lab, gamut=gamut)
    return lab_to_rgb_chroma(lab)


MAX_CONVERSION_THREADS = 4  # bands converted at once: each holds ~10 float64 copies of its pixels


def lab_to_rgb_chunked(lab: np.ndarray, gamut: str = "chroma", rows: int = 128) -> np.ndarray:
    """:func:`colorcourse.color.lab_to_rgb` a band of rows at a time (big photos, bounded memory).

    Bands are independent, and NumPy lets go of the GIL inside its array operations, so up to
    ``min(torch.get_num_threads(), MAX_CONVERSION_THREADS)`` bands are converted at once (the
    same numbers; ``torch.set_num_threads(1)`` makes it one band at a time)."""
    rgb = np.empty(lab.shape, dtype=np.float32)

    def convert(r: int) -> None:
        rgb[r : r + rows] = _lab_to_rgb_band(lab[r : r + rows], gamut)

    starts = range(0, lab.shape[0], rows)
    workers = min(torch.get_num_threads(), MAX_CONVERSION_THREADS, len(starts))
    if workers < 2:
        for r in starts:
            convert(r)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(convert, starts))  # list(): re-raise a band's error here
    return rgb


def colorize(
    model: FusionNet,
    gray: np.ndarray,
    style_image: np.ndarray | None = None,
    tile_size: int | None | str = "auto",
    gamut: str = "chroma",
    chroma_gain: float | None = None,
) -> np.ndarray:
    """Gray ``H x W`` in [0, 1] -> RGB ``H x W x 3`` float32 in [0, 1], same size as the input.

    ``style_image`` (gray ``H' x W'`` or RGB ``H' x W' x 3``, any size): take the global features
    from this image instead (the paper's style transfer). Only its luminance is used, so a gray
    style image works exactly like its color original: the network never sees the colors of
    the style image, it only recognises what kind of scene it is.
    """
    return lab_to_rgb_chunked(colorize_lab(model, gray, style_image, tile_size, chroma_gain), gamut=gamut)


class FusionColorizer:
    """``colorizer(gray) -> rgb`` for :func:`colorcourse.metrics.evaluate`."""

    def __init__(self, model: FusionNet, style_image=None, name: str = "fusion", chroma_gain: float | None = None):
        self.model, self.style_image, self.name, self.chroma_gain = model, style_image, name, chroma_gain

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        return colorize(self.model, gray, style_image=self.style_image, chroma_gain=self.chroma_gain)


MODEL_CONFIG_KEYS = ("width", "n_classes", "use_global", "global_source")


def model_chroma_gain(model: FusionNet) -> float:
    """The a*b* gain :func:`colorize` applies to ``model`` by default (1.0 unless its checkpoint
    stores another: ``chroma_gain`` in the configuration, see :func:`load_model`)."""
    return float(getattr(model, "chroma_gain", 1.0))


def default_model_path(name: str = "fusion_full") -> Path:
    from colorcourse.paths import models_dir

    return models_dir() / f"{name}.safetensors"


def load_model(path: str | Path | None = None, expected_config: dict | None = None) -> FusionNet:
    """A fusion model from a checkpoint (default: ``models/fusion_full.safetensors``).

    ``expected_config`` (e.g. ``{"width": 0.25}``) is checked against the file's header, so a
    checkpoint of another width fails with a message naming the difference.
    """
    path = Path(path) if path is not None else default_model_path()
    tensors, config = load_checkpoint(path, KIND, expected_config)
    model_cfg = FusionConfig(**{k: config[k] for k in MODEL_CONFIG_KEYS if k in config})
    model = FusionNet(model_cfg)
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path} does not fit the fusion network it describes: {e}") from None
    if model_cfg.global_source == "backbone":
        from colorcourse.fusion.backbone import load_backbone

        model.attach_backbone(load_backbone())
    model.chroma_gain = float(config.get("chroma_gain", 1.0))  # colorize()'s default for this model
    return model.eval()


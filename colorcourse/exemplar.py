"""Colorization by example with deep correspondence: He et al. 2018's idea on the course's network.

Taught in notebooks/13_colorization_by_example.ipynb (the classical baseline is
:mod:`colorcourse.exemplar_welsh`). He, Chen, Liao, Sander & Yuan ("Deep Exemplar-based
Colorization", SIGGRAPH 2018) match deep features of the gray target and of the reference (both
seen as gray, so lightness alone decides), warp the reference's a*b* by that correspondence and
give a colorization network the warped colors with a similarity map; the network keeps the
colors where the match is good and falls back to what it learned where it is poor.

Here every piece is the course's own:

- **Features**: the frozen EfficientNet-Lite0 encoder (:mod:`colorcourse.encoder`). At each
  location of the stride-8 grid the stride-8, -16 and -32 maps (the last two upsampled) are each
  L2-normalised and joined, so the cosine similarity of two locations weighs texture, parts and
  objects equally (He et al. join several VGG layers the same way).
- **Attention**: for target location ``i`` and reference locations ``j`` with similarities
  ``s_ij = f_i . g_j`` (cosines), the warped color is the softmax over the ``k`` most similar,

      ab_warp(i) = sum_{j in topk(i)} exp(s_ij / T) ab_ref(j) / sum_{j in topk(i)} exp(s_ij / T),

  and the confidence ``c(i) = clip((max_j s_ij - s_0) / (s_1 - s_0), 0, 1)``: 0 at or below the
  similarity :data:`CONFIDENCE_FLOOR` (``s_0``) that unrelated content reaches, 1 from
  :data:`CONFIDENCE_FULL` (``s_1``), which the same scene reaches.
- **Network**: the hint network (:mod:`colorcourse.fusion.hinted`) takes ``ab_warp`` as dense
  hints with ``c`` as a fractional mask (its hint inputs are mask-weighted means and fractions,
  so a half-sure cell counts half). ``blend="confidence"`` instead mixes by hand:
  ``c * ab_warp + (1 - c) * ab_auto``, the automatic prediction where the match is poor.

Limits, whatever the photo's size: the target is matched at the hint network's working size
(:data:`MATCH_SIZE` px on the longer side) and the reference at :data:`MATCH_SIZE` too, so each
has at most ``(MATCH_SIZE / 8)^2 = 4,096`` locations; the similarity matrix is computed
:data:`CHUNK` target rows at a time (``CHUNK x 4,096`` float32 = 16 MB), never whole. The
colors come back to full size by bilinear upsampling and are joined with the photo's own
lightness, as every colorizer of the course does.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .color import AB_SCALE, rgb_to_gray, rgb_to_lab

MATCH_SIZE = 512  # longer side (px) target and reference are matched at: the hint network's work size
FEATURE_STRIDE = 8  # the grid matched on (64 x 64 locations at 512 px)
TEMPERATURE = 0.02  # softmax temperature on cosines: a 0.1 lower cosine weighs e^-5 times less
TOP_K = 16  # reference locations averaged per target location
# The confidence ramps from 0 at CONFIDENCE_FLOOR to 1 at CONFIDENCE_FULL (cosines). Measured on 8
# shift_test photos (median of each location's best cosine): its own mirrored, cropped copy 0.68,
# another photo 0.41, noise 0.22. Another photo's typical match thus counts a fifth, a copy's fully.
CONFIDENCE_FLOOR = 0.35
CONFIDENCE_FULL = 0.65
CHUNK = 1024  # target locations per block of the similarity matrix
MIN_CHROMA = 2.0  # a*b* units: a reference whose colors never exceed this has nothing to lend
BLENDS = ("network", "confidence")
# What the CLI uses: the one that measured better on shift_test's upper bound (models/exemplar_results.md:
# +6.37 dB over gray against +0.90 for "network", whose hint weights were not trained yet; re-measure
# with python -m colorcourse.exemplar_eval --force once models/hinted_fusion.safetensors exists).
DEFAULT_BLEND = "confidence"


class GrayReferenceError(ValueError):
    """The reference photo has no colors to lend."""


def check_reference(reference_rgb: np.ndarray, name: str = "the reference") -> np.ndarray:
    """``reference_rgb`` as float32 ``h x w x 3`` in [0, 1]; :class:`GrayReferenceError` when it is gray
    (99 % of its pixels within :data:`MIN_CHROMA` of neutral), ValueError when it is no RGB image."""
    rgb = np.asarray(reference_rgb, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"{name} must be an H x W x 3 RGB image, got shape {rgb.shape}")
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 250_000)))  # a quarter megapixel decides
    chroma = np.hypot(*rgb_to_lab(rgb[::step, ::step].astype(np.float64))[..., 1:].transpose(2, 0, 1))
    if np.percentile(chroma, 99) < MIN_CHROMA:
        raise GrayReferenceError(f"{name} is gray: it has no colors to lend (choose a color photo)")
    return rgb


def match_features(maps: list[torch.Tensor]) -> torch.Tensor:
    """The encoder's maps of one photo -> ``C x h x w`` unit-length features on the stride-8 grid:
    the stride-8, -16 and -32 maps each L2-normalised, upsampled to stride 8 and joined."""
    size = maps[1].shape[-2:]
    parts = []
    for m in maps[1:]:  # strides 8, 16, 32
        m = F.normalize(m[:1].float(), dim=1)
        if m.shape[-2:] != size:
            m = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
        parts.append(F.normalize(m, dim=1))
    return F.normalize(torch.cat(parts, dim=1), dim=1)[0]


def similarity_block(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Cosines of ``n x C`` unit queries with ``m x C`` unit keys: ``n x m`` (one block of the matrix)."""
    return queries @ keys.T


def attend(target: torch.Tensor, reference: torch.Tensor, reference_ab: torch.Tensor,
           temperature: float = TEMPERATURE, top_k: int = TOP_K, chunk: int = CHUNK):
    """Warp ``reference_ab`` (``m x 2``) to the ``n`` target locations.

    ``target`` ``n x C`` and ``reference`` ``m x C`` unit features. Returns ``(ab n x 2, best n)``:
    the softmax-weighted a*b* of each location's ``top_k`` most similar reference locations and its
    highest cosine. At most ``chunk x m`` similarities exist at once.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    k = min(top_k, reference.shape[0])
    ab = torch.empty(target.shape[0], 2)
    best = torch.empty(target.shape[0])
    for start in range(0, target.shape[0], chunk):
        sim = similarity_block(target[start:start + chunk], reference)
        top, index = sim.topk(k, dim=1)
        weight = torch.softmax(top / temperature, dim=1)
        ab[start:start + chunk] = (weight[..., None] * reference_ab[index]).sum(dim=1)
        best[start:start + chunk] = top[:, 0]
    return ab, best


def confidence_of(best: torch.Tensor, floor: float = CONFIDENCE_FLOOR, full: float = CONFIDENCE_FULL) -> torch.Tensor:
    """The highest cosine -> confidence in [0, 1]: 0 at or below ``floor``, 1 from ``full`` on."""
    if not full > floor:
        raise ValueError(f"the full-confidence cosine ({full}) must be above the floor ({floor})")
    return ((best - floor) / (full - floor)).clamp(0.0, 1.0)


def _scaled(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, size / max(h, w))
    if scale >= 1.0:
        return np.asarray(image, dtype=np.float32)
    from skimage.transform import resize

    shape = (max(8, round(h * scale)), max(8, round(w * scale))) + image.shape[2:]
    return resize(np.asarray(image, dtype=np.float32), shape, anti_aliasing=True, preserve_range=True)


class ReferenceFeatures:
    """A reference photo encoded once (its gray through the frozen encoder) for many targets:
    ``features`` ``m x C`` unit vectors and ``ab`` ``m x 2`` (the mean a*b* of each stride-8 cell)."""

    def __init__(self, model, reference_rgb: np.ndarray, match_size: int = MATCH_SIZE):
        rgb = np.clip(_scaled(check_reference(reference_rgb), match_size), 0.0, 1.0)
        gray = rgb_to_gray(rgb.astype(np.float64)).astype(np.float32)
        with torch.inference_mode():
            maps, _ = model.features(torch.from_numpy(gray)[None, None])
            feats = match_features(maps)
        self.grid = tuple(feats.shape[-2:])
        self.features = feats.reshape(feats.shape[0], -1).T.contiguous()
        ab = torch.from_numpy(rgb_to_lab(rgb.astype(np.float64))[..., 1:].astype(np.float32)).permute(2, 0, 1)[None]
        self.ab_grid = F.interpolate(ab, size=self.grid, mode="area")[0]  # 2 x h x w
        self.ab = self.ab_grid.reshape(2, -1).T.contiguous()


class Correspondence:
    """The warped reference colors and their confidence on the target's stride-8 grid
    (``ab`` ``2 x h x w`` CIE units, ``confidence`` ``h x w`` in [0, 1]), and the same on a grid of
    any size (:meth:`on_grid`: bilinear)."""

    def __init__(self, ab: torch.Tensor, confidence: torch.Tensor):
        self.ab, self.confidence = ab, confidence

    def on_grid(self, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(1 x 2 x h x w, 1 x 1 x h x w)`` resized to ``size``."""
        ab = F.interpolate(self.ab[None], size=size, mode="bilinear", align_corners=False)
        conf = F.interpolate(self.confidence[None, None], size=size, mode="bilinear", align_corners=False)
        return ab, conf.clamp(0.0, 1.0)


def correspond(target_maps: list[torch.Tensor], reference: ReferenceFeatures, temperature: float = TEMPERATURE,
               top_k: int = TOP_K, chunk: int = CHUNK, floor: float = CONFIDENCE_FLOOR,
               full: float = CONFIDENCE_FULL) -> Correspondence:
    """The target's encoder maps + an encoded reference -> :class:`Correspondence`."""
    feats = match_features(target_maps)
    c, h, w = feats.shape
    ab, best = attend(feats.reshape(c, -1).T.contiguous(), reference.features, reference.ab, temperature, top_k, chunk)
    return Correspondence(ab.T.reshape(2, h, w), confidence_of(best, floor, full).reshape(h, w))


class ExemplarSession:
    """One photo and one reference: the encoder runs once on each, the correspondence once; the
    hint network's decoder turns the warped colors into the result (:meth:`predict_ab`).

    ``model``: a :class:`~colorcourse.fusion.hinted.HintedFusionNet`. ``reference``: an RGB
    array or a :class:`ReferenceFeatures` (to reuse one reference for many photos).
    """

    def __init__(self, model, gray: np.ndarray, reference, work_size: int | None = MATCH_SIZE, **match):
        from .fusion.hinted import HintSession

        self.session = HintSession(model, gray, work_size)
        if not isinstance(reference, ReferenceFeatures):
            reference = ReferenceFeatures(model, reference, work_size or MATCH_SIZE)
        self.reference = reference
        self.correspondence = correspond(self.session.maps, reference, **match)

    def predict_ab_grid(self, blend: str = DEFAULT_BLEND) -> torch.Tensor:
        """``1 x 2 x gh x gw`` a*b* (CIE units, the gain applied) on the decoder's grid."""
        if blend not in BLENDS:
            raise ValueError(f"blend must be one of {BLENDS}, got {blend!r}")
        s = self.session
        ab, conf = self.correspondence.on_grid(s.grid)
        with torch.inference_mode():
            if blend == "network":  # dense hints, the confidence as their mask
                return s.model.decode(s.maps, s.pooled, ab, conf, s.guide, s.automatic) * AB_SCALE * s.model.hint_gain
            auto = s.model.decode(s.maps, s.pooled) * AB_SCALE * s.model.chroma_gain
            return conf * ab + (1.0 - conf) * auto

    def predict_ab(self, blend: str = DEFAULT_BLEND) -> np.ndarray:
        """``H x W x 2`` float32 a*b* at the photo's full size."""
        from .fusion.pretrained import upsample_ab

        return upsample_ab(self.predict_ab_grid(blend), self.session.shape)

    def colorize(self, blend: str = DEFAULT_BLEND) -> np.ndarray:
        """RGB ``H x W x 3`` float32 in [0, 1]; its lightness is the input's own."""
        from .fusion.pretrained import ab_to_rgb

        return ab_to_rgb(self.session.gray, self.predict_ab(blend), 1.0)


class ExemplarColorizer:
    """``colorizer(gray) -> rgb`` colored after one reference photo (encoded once for every photo)."""

    name = "exemplar"

    def __init__(self, reference_rgb: np.ndarray, model=None, work_size: int | None = MATCH_SIZE,
                 blend: str = DEFAULT_BLEND, **match):
        if model is None:
            from .fusion.hinted import load_model

            model = load_model()
        if blend not in BLENDS:
            raise ValueError(f"blend must be one of {BLENDS}, got {blend!r}")
        self.model, self.work_size, self.blend, self.match = model, work_size, blend, match
        self.reference = ReferenceFeatures(model, reference_rgb, work_size or MATCH_SIZE)

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        return ExemplarSession(self.model, gray, self.reference, self.work_size, **self.match).colorize(self.blend)

"""Suggested colors at a point: the top colors of the classification decoder's distribution there.

Taught in notebooks/12_guided_colorization.ipynb; the guided-colorization canvas
(:mod:`colorcourse.hint_widget`) shows them as a palette after each click. Zhang et al. (2017)
show the user, at a clicked point, the colors their network's classification head finds likely
there. The course ships such a head on the same frozen encoder as the default colorizer:
``models/pretrained_fusion_classification.safetensors`` (:mod:`colorcourse.fusion.pretrained`,
loss ``"classification"``), a softmax over the quantized a*b* bins of :mod:`colorcourse.abbins`
at every cell of its stride-4 output grid.

- **Once per photo** (:class:`SuggestionSession`): the encoder and the classification decoder run
  on the photo at the work size (longer side 512 px, as the hint network's sessions) and the
  softmax of the logits (temperature 1: the network's own distribution, not the sharper one its
  annealed mean colorizes with) is kept, ``Q x gh x gw``. Each click is then a lookup.
- **The cell of a point**: photo pixel ``(x, y)`` lies in the grid cell its centre falls in (as
  :meth:`colorcourse.hints.Hints.dense` puts a hint there).
- **A small neighbourhood** (``neighbourhood=1``: the 3 x 3 cells around it, 12 x 12 work pixels):
  the mean of their distributions. A click is not placed to the pixel, the canvas shows the
  photo smaller or larger than the grid, and the colorized result itself is the grid's colors
  bilinearly stretched, so a pixel's color comes from its neighbouring cells too. The mean of
  distributions is still a distribution and keeps every mode (averaging *logits* instead would
  multiply them and drop a color only one cell holds). Measured by
  ``python -m colorcourse.suggested_colors_eval`` (:mod:`colorcourse.suggested_colors_eval`: 1000
  seeded random points of the 40 ``shift_val`` photos, 25 a photo; the truth: the mean true a*b*
  of the 5 x 5 pixels there; a hit: the bin nearest the truth is a top-5 suggestion's bin or one
  of its 8 neighbours, ``max(|da|, |db|) <= 10``; 95 % bootstrap intervals over photos), a hit at
  81.3 % [74.0, 87.6] of the points with the cell alone, 80.4 % [73.0, 87.0] with 3 x 3 cells and
  80.5 % [73.2, 86.9] with 5 x 5 (paired differences to 3 x 3 of +0.9 [-0.1, +2.2] and +0.1
  [-1.0, +1.1] points: noise, so the choice rests on the reasons above), 73.7 % [66.0, 80.8] with
  3 x 3 cells without the merging below (-6.7 [-9.4, -4.3] points), and 82.1 % [74.0, 89.2] with
  the photo's mean distribution over all its cells, merged at the point's lightness (+1.7 [-1.0,
  +4.3] points over 3 x 3: by this measure a palette read at the point is not measurably better
  than the photo's overall palette).
- **Distinct colors**: the decoder was trained on soft targets (each pixel spread over its 5
  nearest bins), so the top bins are mostly neighbours of one another, near-duplicates. They are
  merged greedily, as they would be *shown*: each bin is first put at the photo's lightness
  there with its chroma shrunk into sRGB (hue and L kept, :func:`colorcourse.color.lab_to_rgb`),
  then, most likely first, a bin within ``min_distance`` (CIE76 Delta E of those shown colors)
  of a color already kept adds its probability to the nearest one; any other bin starts a new
  color. Every suggested color is its group's most likely bin, with the group's probability; any
  two differ by at least ``min_distance`` on screen; the ``k`` with the most probability are
  returned, most likely first. (The authors' demo samples the distribution and runs k-means with
  ``k`` clusters: random, and ``k`` colors even when the mass sits in fewer; this is deterministic.)
- **Hints set chroma only**: a suggestion's sRGB color has the photo's own lightness at the point
  (``L*`` of the gray pixel), so picking it as a hint gives the bin's a*b*, as far as sRGB shows it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from colorcourse.color import gray_to_lightness, lab_to_rgb, rgb_to_lab

DEFAULT_K = 6
DEFAULT_NEIGHBOURHOOD = 1  # cells on each side of the point's cell: a 3 x 3 block
# Shown colors closer than this (CIE76 Delta E) are one suggestion: adjacent bins (10 and 14.1
# a*b* units apart on the grid) merge, bins two steps apart (20) stay distinct.
DEFAULT_MIN_DISTANCE = 15.0
MODEL_NAME = "pretrained_fusion_classification.safetensors"
_CACHED_SESSIONS = 4  # photos whose distributions suggested_colors keeps


class SuggestedColorsError(ValueError):
    """A missing or unsuitable classification model file (the message is one line naming the fix)."""


@dataclass(frozen=True)
class SuggestedColor:
    """One suggestion: an a*b* bin, its probability and how it looks at the point's lightness."""

    ab: tuple[float, float]  # the bin's centre, CIE a*b*
    probability: float  # the merged group's probability (the bin's own when nothing merged)
    bin_probability: float  # the bin's own probability
    rgb: tuple[float, float, float]  # sRGB in [0, 1]: L* of the photo there, the bin's hue, chroma fitted to sRGB
    lightness: float  # that L*

    @property
    def hex(self) -> str:
        return "#" + "".join(f"{int(round(c * 255)):02x}" for c in self.rgb)


# ------------------------------------------------------------------ the model


def default_model_path() -> Path:
    from colorcourse.paths import models_dir

    return models_dir() / MODEL_NAME


def load_model(path: str | Path | None = None, encoder=None):
    """The classification decoder on the frozen encoder (``encoder``: share one already loaded).

    One-line :class:`SuggestedColorsError` for a missing file (naming ``make models``) or a decoder
    that is not a classification one."""
    from colorcourse.checkpoint import CheckpointError
    from colorcourse.fusion import pretrained

    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise SuggestedColorsError(
            f"{path}: no such model file; suggested colors need the classification decoder: `make models` "
            "retrains it into build/models (point COLORCOURSE_MODELS there), or restore it with git checkout models/")
    try:
        model = pretrained.load_model(path, encoder=encoder)
    except CheckpointError as e:
        raise SuggestedColorsError(str(e)) from None
    if model.config.loss != "classification":
        raise SuggestedColorsError(f"{path} holds a {model.config.loss!r} decoder; suggested colors need a "
                                   f"'classification' one ({MODEL_NAME}, made by `make models`)")
    return model


# ------------------------------------------------------------------ one photo


def point_cell(x: float, y: float, photo_shape, grid) -> tuple[int, int]:
    """``(row, col)`` of the ``grid`` cell that photo pixel ``(x, y)`` (column, row) lies in.

    Raises a one-line ValueError for a point outside the photo."""
    h, w = int(photo_shape[0]), int(photo_shape[1])
    if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < w and 0 <= y < h):
        raise ValueError(f"the point (x={x}, y={y}) is outside the {w} x {h} photo (x in [0, {w}), y in [0, {h}))")
    col, row = int(np.floor(x)), int(np.floor(y))  # the pixel; its centre picks the cell
    gh, gw = int(grid[0]), int(grid[1])
    return min(int((row + 0.5) * gh / h), gh - 1), min(int((col + 0.5) * gw / w), gw - 1)


def shown_colors(ab: np.ndarray, lightness: float) -> tuple[np.ndarray, np.ndarray]:
    """``Q x 2`` a*b* at one ``lightness`` -> (sRGB ``Q x 3``, their Lab ``Q x 3``): each color with
    its hue and L* kept and its chroma shrunk just enough for sRGB to show it."""
    lab = np.concatenate([np.full((len(ab), 1), float(lightness)), np.asarray(ab, np.float64)], axis=1)
    rgb = lab_to_rgb(lab, gamut="chroma")
    return rgb, rgb_to_lab(rgb)


def merge_near_duplicates(probabilities: np.ndarray, shown_lab: np.ndarray, min_distance: float):
    """Greedy merging of bins whose shown colors are closer than ``min_distance`` (CIE76).

    Bins are taken most likely first; one within ``min_distance`` of a kept color adds its
    probability to the nearest kept color, any other becomes a kept color. Returns ``(kept bin
    indices, their merged probabilities)``, most probable first (ties: the likelier bin first)."""
    order = np.argsort(-probabilities, kind="stable")
    kept: list[int] = []
    mass: list[float] = []
    for q in order:
        if kept and min_distance > 0:
            d = np.linalg.norm(shown_lab[kept] - shown_lab[q], axis=1)
            nearest = int(np.argmin(d))
            if d[nearest] < min_distance:
                mass[nearest] += float(probabilities[q])
                continue
        kept.append(int(q))
        mass.append(float(probabilities[q]))
    kept_arr, mass_arr = np.asarray(kept), np.asarray(mass)
    rank = np.lexsort((-probabilities[kept_arr], -mass_arr))  # by merged mass, then by the bin's own
    return kept_arr[rank], mass_arr[rank]


class SuggestionSession:
    """One photo: the classification decoder's distribution on its grid, computed once; each
    :meth:`suggest` is a lookup (and a few hundred colors fitted to sRGB).

    ``gray``: ``H x W`` in [0, 1] at full size; points are in its pixels. ``features``: the frozen
    encoder's ``(maps, pooled)`` of this photo at ``work_size`` when already computed (a
    :class:`colorcourse.fusion.hinted.HintSession` of the same gray has them): then only the
    decoder runs.
    """

    def __init__(self, model, gray: np.ndarray, work_size: int | None = None, features=None):
        from colorcourse.fusion.hinted import DEFAULT_WORK_SIZE, MIN_SIDE, work_image

        if model.config.loss != "classification" or getattr(model, "bin_centres", None) is None:
            raise SuggestedColorsError(f"suggested colors need a classification decoder, not a {model.config.loss!r} one")
        self.gray = np.asarray(gray)
        if self.gray.ndim != 2 or min(self.gray.shape) < MIN_SIDE or not np.all(np.isfinite(self.gray)):
            raise ValueError(f"expected an H x W gray photo of finite values, at least {MIN_SIDE} pixels a side; "
                             f"got shape {self.gray.shape}")
        self.shape = tuple(self.gray.shape)
        self.bin_centres = model.bin_centres.detach().cpu().numpy().astype(np.float64)  # Q x 2
        model.eval()
        with torch.inference_mode():
            if features is None:
                small = work_image(self.gray, DEFAULT_WORK_SIZE if work_size is None else work_size)
                features = model.features(torch.from_numpy(small)[None, None])
            logits = model.decoder(*features)  # 1 x Q x gh x gw
            self.probabilities = torch.softmax(logits.double(), dim=1)[0].numpy()  # Q x gh x gw
        self.grid = self.probabilities.shape[1:]

    def distribution_at(self, x: float, y: float, neighbourhood: int = DEFAULT_NEIGHBOURHOOD) -> np.ndarray:
        """``Q`` probabilities at photo pixel ``(x, y)``: the mean over the cells within
        ``neighbourhood`` of its cell (0: that cell alone), clipped at the photo's border."""
        if neighbourhood < 0:
            raise ValueError(f"neighbourhood must be >= 0 cells, got {neighbourhood}")
        row, col = point_cell(x, y, self.shape, self.grid)
        block = self.probabilities[:, max(0, row - neighbourhood):row + neighbourhood + 1,
                                   max(0, col - neighbourhood):col + neighbourhood + 1]
        return block.reshape(len(block), -1).mean(axis=1)

    def lightness_at(self, x: float, y: float) -> float:
        """L* of the photo's own pixel at ``(x, y)``."""
        point_cell(x, y, self.shape, self.grid)  # the same one-line error outside the photo
        return float(gray_to_lightness(np.array([[self.gray[int(y), int(x)]]], np.float64))[0, 0])

    def suggest(self, x: float, y: float, k: int = DEFAULT_K, neighbourhood: int = DEFAULT_NEIGHBOURHOOD,
                min_distance: float = DEFAULT_MIN_DISTANCE) -> list[SuggestedColor]:
        """The ``k`` most likely distinct colors at photo pixel ``(x, y)``, most likely first (fewer
        when the distribution holds fewer distinct colors at this lightness)."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if min_distance < 0:
            raise ValueError(f"min_distance must be >= 0, got {min_distance}")
        p = self.distribution_at(x, y, neighbourhood)
        lightness = self.lightness_at(x, y)
        rgb, lab = shown_colors(self.bin_centres, lightness)
        bins, mass = merge_near_duplicates(p, lab, min_distance)
        return [SuggestedColor(ab=(float(self.bin_centres[q, 0]), float(self.bin_centres[q, 1])),
                               probability=float(m), bin_probability=float(p[q]),
                               rgb=tuple(float(c) for c in rgb[q]), lightness=lightness)
                for q, m in zip(bins[:k], mass[:k])]


# ------------------------------------------------------------------ one call


_sessions: OrderedDict = OrderedDict()  # (model id, photo digest) -> SuggestionSession, newest last
_default_model = None


def _photo_key(model, gray: np.ndarray) -> tuple:
    gray = np.ascontiguousarray(gray, dtype=np.float32)
    return id(model), gray.shape, hashlib.blake2b(gray.tobytes(), digest_size=16).hexdigest()


def suggested_colors(gray: np.ndarray, x: float, y: float, k: int = DEFAULT_K, model=None,
                     neighbourhood: int = DEFAULT_NEIGHBOURHOOD,
                     min_distance: float = DEFAULT_MIN_DISTANCE) -> list[SuggestedColor]:
    """The ``k`` most likely distinct colors at photo pixel ``(x, y)`` (column, row) of ``gray``
    (``H x W`` in [0, 1]), by the shipped classification decoder (or ``model``).

    The network runs once per photo: the last few photos' distributions are kept (keyed by their
    pixels), so asking again at another point of the same photo is a lookup."""
    global _default_model
    if model is None:
        if _default_model is None:
            _default_model = load_model()
        model = _default_model
    key = _photo_key(model, np.asarray(gray))
    session = _sessions.pop(key, None) or SuggestionSession(model, gray)
    _sessions[key] = session
    while len(_sessions) > _CACHED_SESSIONS:
        _sessions.popitem(last=False)
    return session.suggest(x, y, k, neighbourhood, min_distance)

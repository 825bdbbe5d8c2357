"""User hints for guided colorization, as data: which pixels a user colored, and with what chroma.

Guided colorization (Levin et al. 2004, scribbles; Zhang et al. 2017, clicks) answers the
ambiguity of automatic colorization with the user: a few pixels whose color is known. Every
guided method of the course reads them through :class:`Hints`, whatever they came from:

- a **hint image** (:func:`read_hint_image`): a PNG with an alpha channel, drawn on a
  transparent layer in any paint program; every pixel with alpha > 0 is a hint of its color;
- a **JSON file** (:func:`read_hint_json`): points ``{"x", "y", "color": "#rrggbb"}`` with an
  optional ``"radius"``, in the photo's pixel coordinates (what the widget writes,
  :func:`points_to_json`);
- **simulated hints** drawn from a color photo: Zhang et al.'s training sampler
  (:func:`zhang_training_hints`) and the course's evaluation protocol (:func:`evaluation_hints`).

Hints set chroma only: each hinted pixel carries the CIE a*b* of its color
(:func:`colorcourse.color.rgb_to_lab`); its lightness is ignored, because a colorized photo's
luminance is always the input's own.

Coordinates: ``x`` is the column, ``y`` the row; pixel ``(row r, column c)`` is centred on
``(x, y) = (c, r)``, so integer coordinates name pixels and a point belongs to the pixel it
rounds to (inside the photo iff ``-0.5 <= x < W - 0.5`` and likewise ``y``). A canvas click at
offset ``(u, v)`` inside a pixel is the point ``(u - 0.5, v - 0.5)`` or simply ``floor(u)``.

Hints belong to a photo size (``Hints.shape``) and move between sizes without losing any:
:meth:`Hints.rescaled` and :meth:`Hints.dense` put each hinted pixel into the cell of the new
grid that its centre falls in and average the a*b* of the pixels sharing a cell (a 4000 px
photo's scribble lands on a 512 px working grid), and on a finer grid a hinted pixel covers
every cell whose centre it contains.

Taught in lesson 12 (guided colorization) and assignment A7.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .color import rgb_to_lab

# The largest hint image read: the same ceiling as a photo (colorcourse.imageio), checked from
# the file's header before any pixel is decoded, so a decompression bomb costs nothing.
MAX_HINT_IMAGE_PIXELS = 200_000_000
# A hint JSON is a list of clicks: even 100,000 points are a few megabytes.
MAX_HINT_JSON_BYTES = 64 * 2**20

_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


class HintFileError(ValueError):
    """A hint file that cannot be used; the message is ``"<file>: <problem>"``."""

    def __init__(self, path, reason: str):
        self.path = Path(path) if not isinstance(path, Path) else path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _check_shape(shape) -> tuple[int, int]:
    try:
        h, w = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (H, W), got {shape!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"shape must be positive, got {(h, w)}")
    return h, w


def _cells(index: np.ndarray, n_from: int, n_to: int) -> np.ndarray:
    """The cell of an ``n_to`` grid that the centre of pixel ``index`` of an ``n_from`` grid falls in."""
    return np.minimum(((index + 0.5) * (n_to / n_from)).astype(np.int64), n_to - 1)


@dataclass(frozen=True, eq=False)
class Hints:
    """Sparse chroma hints for one photo: ``N`` hinted pixels and their CIE a*b*."""

    shape: tuple[int, int]  # (H, W) of the photo the hints belong to
    ys: np.ndarray  # (N,) int32 rows of hinted pixels
    xs: np.ndarray  # (N,) int32 columns
    ab: np.ndarray  # (N, 2) float32 a*b* of each hinted pixel

    def __post_init__(self):
        h, w = _check_shape(self.shape)
        ys = np.asarray(self.ys).astype(np.int32).ravel()
        xs = np.asarray(self.xs).astype(np.int32).ravel()
        ab = np.asarray(self.ab, dtype=np.float32).reshape(-1, 2)
        if not (len(ys) == len(xs) == len(ab)):
            raise ValueError(f"ys, xs and ab must have one entry per hint, got {len(ys)}, {len(xs)}, {len(ab)}")
        if len(ys) and (ys.min() < 0 or ys.max() >= h or xs.min() < 0 or xs.max() >= w):
            raise ValueError(f"hinted pixels must lie inside the {h} x {w} photo")
        if not np.all(np.isfinite(ab)):
            raise ValueError("hint a*b* must be finite")
        for name, value in (("shape", (h, w)), ("ys", ys), ("xs", xs), ("ab", ab)):
            object.__setattr__(self, name, value)

    # Arrays inside: equality means the same hinted pixels with the same a*b* (in any order).
    __hash__ = None

    def __eq__(self, other):
        if not isinstance(other, Hints):
            return NotImplemented
        if self.shape != other.shape or len(self) != len(other):
            return False
        mine, theirs = self.dense(), other.dense()
        return bool(np.array_equal(mine[1], theirs[1]) and np.allclose(mine[0], theirs[0], atol=1e-4))

    @classmethod
    def empty(cls, shape) -> Hints:
        """No hints at all: what an automatic colorizer gets."""
        return cls(_check_shape(shape), np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros((0, 2), np.float32))

    @classmethod
    def from_dense(cls, ab: np.ndarray, mask: np.ndarray) -> Hints:
        """``ab`` ``H x W x 2`` and ``mask`` ``H x W`` (hinted where > 0) -> :class:`Hints`."""
        mask = np.asarray(mask)
        ab = np.asarray(ab)
        if mask.ndim != 2 or ab.shape != mask.shape + (2,):
            raise ValueError(f"expected ab H x W x 2 and mask H x W, got {ab.shape} and {mask.shape}")
        ys, xs = np.nonzero(mask > 0)
        return cls(mask.shape, ys, xs, ab[ys, xs])

    def __len__(self) -> int:
        return len(self.ys)

    def __repr__(self) -> str:
        return f"Hints({len(self)} pixels on a {self.shape[0]} x {self.shape[1]} photo)"

    def dense(self, shape=None) -> tuple[np.ndarray, np.ndarray]:
        """``(ab H' x W' x 2 float32, zero where no hint; mask H' x W' float32 in {0, 1})`` on a
        grid of ``shape`` (default: ``self.shape``). Hinted pixels are mapped to the cell their
        centre falls in and their a*b* averaged per cell; on a finer grid a hinted pixel fills
        every cell whose centre lies inside it."""
        small = self.rescaled(self.shape if shape is None else shape)
        h, w = small.shape
        ab = np.zeros((h, w, 2), np.float32)
        mask = np.zeros((h, w), np.float32)
        ab[small.ys, small.xs] = small.ab
        mask[small.ys, small.xs] = 1.0
        return ab, mask

    def rescaled(self, shape) -> Hints:
        """The same hints on the photo resized to ``shape`` (one entry per hinted pixel there)."""
        h, w = _check_shape(shape)
        H, W = self.shape
        if len(self) == 0:
            return Hints.empty((h, w))
        # Each hinted pixel lands in the cell its centre falls in; cells shared are averaged.
        cell = _cells(self.ys, H, h) * w + _cells(self.xs, W, w)
        cells, which = np.unique(cell, return_inverse=True)
        total = np.zeros((len(cells), 2), np.float64)
        np.add.at(total, which, self.ab)
        ab = total / np.bincount(which, minlength=len(cells))[:, None]
        # On a finer grid a hinted pixel also covers every cell whose centre lies inside it: the
        # cells of row i whose centres fall in source row y form one run [r0, r1), likewise columns.
        row_of, col_of = _cells(np.arange(h), h, H), _cells(np.arange(w), w, W)  # nondecreasing
        r0, r1 = np.searchsorted(row_of, self.ys, "left"), np.searchsorted(row_of, self.ys, "right")
        c0, c1 = np.searchsorted(col_of, self.xs, "left"), np.searchsorted(col_of, self.xs, "right")
        n_cols = c1 - c0
        n = (r1 - r0) * n_cols  # 1 on the same grid, 0 or 1 on a coarser one
        hint = np.repeat(np.arange(len(self)), n)
        k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)  # position inside each hint's block
        covered = (r0[hint] + k // n_cols[hint]) * w + c0[hint] + k % n_cols[hint]
        covered, first = np.unique(covered, return_index=True)
        extra = ~np.isin(covered, cells)  # on a coarser grid these cells are all averaged already
        cells = np.concatenate([cells, covered[extra]])
        ab = np.concatenate([ab, self.ab[hint[first[extra]]]])
        return Hints((h, w), cells // w, cells % w, ab)


# ---------------------------------------------------------------- points (the widget, JSON)


class _PointError(ValueError):
    """A bad point; the message names the point and the problem (the caller names the source)."""


def _hex_to_ab(color, where: str) -> np.ndarray:
    if not isinstance(color, str) or not _HEX_COLOR.match(color.strip()):
        raise _PointError(f"{where}: {color!r} is not a color; write it as \"#rrggbb\"")
    digits = color.strip()[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    rgb = np.array([int(digits[i:i + 2], 16) for i in (0, 2, 4)], np.float64) / 255.0
    return rgb_to_lab(rgb)[1:].astype(np.float32)


def _number(point: dict, key: str, where: str, default=None) -> float:
    if key not in point:
        if default is not None:
            return default
        raise _PointError(f"{where}: missing field {key!r} (each point needs \"x\", \"y\" and \"color\")")
    value = point[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _PointError(f"{where}: {key!r} must be a number, got {value!r}")
    return float(value)


def _disc(x: float, y: float, radius: float, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels whose centres lie within ``radius`` of ``(x, y)``, always including the point's own."""
    r = int(math.ceil(radius))
    cy, cx = math.floor(y + 0.5), math.floor(x + 0.5)
    rows = np.arange(max(0, cy - r - 1), min(h, cy + r + 2))
    cols = np.arange(max(0, cx - r - 1), min(w, cx + r + 2))
    inside = (rows[:, None] - y) ** 2 + (cols[None, :] - x) ** 2 <= radius**2
    inside[cy - rows[0], cx - cols[0]] = True
    yy, xx = np.nonzero(inside)
    return rows[yy], cols[xx]


def _points_list(points) -> list:
    if isinstance(points, dict):
        if "points" not in points:
            raise _PointError("missing field 'points' (expected {\"points\": [...]} or a list of points)")
        points = points["points"]
    if not isinstance(points, list):
        raise _PointError(f"expected a list of points, got {type(points).__name__}")
    return points


def _parse_points(points, shape) -> Hints:
    h, w = _check_shape(shape)
    points = _points_list(points)
    keys, colors = [], []  # pixel keys y * w + x that each point colors, in drawing order
    for i, point in enumerate(points):
        where = f"point {i + 1}"
        if not isinstance(point, dict):
            raise _PointError(f"{where}: expected an object {{\"x\", \"y\", \"color\"}}, got {point!r}")
        x, y = _number(point, "x", where), _number(point, "y", where)
        if "color" not in point:
            raise _PointError(f"{where}: missing field 'color' (each point needs \"x\", \"y\" and \"color\")")
        colors.append(_hex_to_ab(point["color"], where))
        radius = _number(point, "radius", where, default=0.0)
        if radius < 0:
            raise _PointError(f"{where}: 'radius' must be >= 0, got {radius:g}")
        if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
            raise _PointError(f"{where}: (x={x:g}, y={y:g}) is outside the {w} x {h} photo")
        rows, cols = _disc(x, y, radius, h, w)
        keys.append(rows.astype(np.int64) * w + cols)
    if not keys:
        return Hints.empty((h, w))
    point_of = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
    keys = np.concatenate(keys)
    # Where points overlap the later one wins, as paint on a layer: keep each key's last entry.
    unique, last_reversed = np.unique(keys[::-1], return_index=True)
    owner = point_of[::-1][last_reversed]
    return Hints((h, w), unique // w, unique % w, np.asarray(colors, np.float32)[owner])


def hints_from_points(points: list[dict], shape, source: str = "points") -> Hints:
    """Points ``{"x", "y", "color": "#rrggbb", "radius": px (optional, default 0: one pixel)}``
    in the photo's pixel coordinates -> :class:`Hints` on a photo of ``shape``.

    Each point colors the pixels whose centres lie within its radius (and always its own pixel);
    where points overlap, the later one wins (as paint on a layer). A bad point raises
    ``ValueError`` whose message is ``"<source>: point <i>: <problem>"``.
    """
    try:
        return _parse_points(points, shape)
    except _PointError as e:
        raise ValueError(f"{source}: {e}") from None


def points_to_json(points, shape) -> str:
    """What the widget saves: ``{"width": W, "height": H, "points": [...]}`` (checked first)."""
    h, w = _check_shape(shape)
    hints_from_points(points, (h, w))  # refuse to write what could not be read back
    clean = []
    for point in _points_list(points):
        entry = {"x": float(point["x"]), "y": float(point["y"]), "color": point["color"].strip().lower()}
        if float(point.get("radius", 0)) > 0:
            entry["radius"] = float(point["radius"])
        clean.append(entry)
    lines = ",\n".join(f"  {json.dumps(entry)}" for entry in clean)  # one point a line: diffs stay readable
    return f'{{"width": {w}, "height": {h}, "points": [\n{lines}\n]}}\n'


# ---------------------------------------------------------------- hint files


def _same_aspect(h: int, w: int, H: int, W: int) -> bool:
    """True when an ``h x w`` image is the ``H x W`` photo resized (each side rounded to 1 px)."""
    return abs(w - h * W / H) <= 1.0 and abs(h - w * H / W) <= 1.0


def _aspect_problem(kind: str, h: int, w: int, H: int, W: int) -> str:
    return (f"the {kind} is {w} x {h} but the photo is {W} x {H}: a hint {kind} must be the photo's "
            f"size or the same aspect ratio")


def read_hint_image(path, shape) -> Hints:
    """A PNG with alpha (what a user paints on a transparent layer) -> :class:`Hints` of a photo of
    ``shape``. Every pixel with alpha > 0 is a hint of its RGB color's a*b*. The image is the
    photo's size, or the same aspect ratio (its hints are then rescaled)."""
    from PIL import Image, UnidentifiedImageError

    H, W = _check_shape(shape)
    path = Path(path)
    if not path.is_file():
        raise HintFileError(path, "no such file")
    try:
        with Image.open(path) as img:  # the header only: nothing is decoded yet
            w, h = img.size
            if w * h > MAX_HINT_IMAGE_PIXELS:
                raise HintFileError(path, f"{w} x {h} pixels is too large for a hint image "
                                          f"(the limit is {MAX_HINT_IMAGE_PIXELS // 10**6} megapixels)")
            has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
            if not has_alpha:
                raise HintFileError(path, f"no alpha channel (mode {img.mode}): draw the hints on a "
                                          f"transparent layer and save it as a PNG with transparency")
            if not _same_aspect(h, w, H, W):
                raise HintFileError(path, _aspect_problem("image", h, w, H, W))
            rgba = np.asarray(img.convert("RGBA"))  # decodes; 16-bit channels become 8-bit
    except HintFileError:
        raise
    except UnidentifiedImageError:
        raise HintFileError(path, "not an image file Pillow can read (a hint image is a PNG with alpha)") from None
    except Image.DecompressionBombError:
        raise HintFileError(path, "too large to decode safely") from None
    except MemoryError:
        raise HintFileError(path, "not enough memory to decode it") from None
    except Exception as e:  # a truncated or corrupt file, a codec's own error: this file's problem
        raise HintFileError(path, f"corrupt or truncated image ({type(e).__name__}: {' '.join(str(e).split())})") from None
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    ab = rgb_to_lab(rgba[ys, xs, :3] / 255.0)[:, 1:]
    return Hints((h, w), ys, xs, ab).rescaled((H, W))


def read_hint_json(path, shape) -> Hints:
    """A JSON file of points (a bare list, or ``{"points": [...]}`` as the widget writes it) ->
    :class:`Hints` of a photo of ``shape``. When the file records its photo's ``width`` and
    ``height`` and they differ from ``shape`` with the same aspect, the points are rescaled."""
    H, W = _check_shape(shape)
    path = Path(path)
    if not path.is_file():
        raise HintFileError(path, "no such file")
    size = os.path.getsize(path)
    if size > MAX_HINT_JSON_BYTES:
        raise HintFileError(path, f"{size / 2**20:.0f} MB is too large for a hint file "
                                  f"(the limit is {MAX_HINT_JSON_BYTES // 2**20} MB)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise HintFileError(path, "not JSON (not even text)") from None
    except json.JSONDecodeError as e:
        raise HintFileError(path, f"not JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    h, w = H, W  # the size the points' coordinates refer to
    if isinstance(data, dict) and ("width" in data or "height" in data):
        try:
            w, h = (int(data[k]) for k in ("width", "height"))
            if w < 1 or h < 1 or w != data["width"] or h != data["height"]:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise HintFileError(path, "'width' and 'height' must both be positive whole numbers") from None
        if not _same_aspect(h, w, H, W):
            raise HintFileError(path, _aspect_problem("file's photo", h, w, H, W))
    try:
        hints = _parse_points(data, (h, w))
    except _PointError as e:
        raise HintFileError(path, str(e)) from None
    return hints.rescaled((H, W))


def read_hints(path, shape) -> Hints:
    """A hint file of either kind, by its suffix (``.png`` or ``.json``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        return read_hint_image(path, shape)
    if suffix == ".json":
        return read_hint_json(path, shape)
    raise HintFileError(path, f"not a hint file: expected a .png with transparency or a .json of points, "
                              f"got {path.suffix or 'no suffix'}")


# ---------------------------------------------------------------- simulated hints


def _check_ab(ab: np.ndarray) -> np.ndarray:
    ab = np.asarray(ab, dtype=np.float32)
    if ab.ndim != 3 or ab.shape[-1] != 2:
        raise ValueError(f"ab must be H x W x 2, got shape {ab.shape}")
    return ab


def zhang_training_hints(ab: np.ndarray, rng: np.random.Generator, p: float = 1 / 8,
                         max_side: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Zhang et al.'s simulated hints for one training crop: ``(hint ab H x W x 2, mask H x W)``.

    The number of patches is geometric with success probability ``p``, counted from 0
    (``P(n) = (1 - p)^n p``, mean ``(1 - p) / p``: 7 at ``p = 1/8``, and none in one crop of 8,
    so the same network learns to colorize without hints). Each patch is a square of side
    drawn uniformly from 1 to ``max_side`` px, filled with the mean true a*b* of that patch; its
    corner is drawn from a normal distribution around the centre (mean ``(H - P + 1) / 2``,
    standard deviation ``(H - P + 1) / 4``, clipped to the crop), as in the authors' code.
    A later patch paints over an earlier one.
    """
    ab = _check_ab(ab)
    if not 0 < p <= 1:
        raise ValueError(f"p must be in (0, 1], got {p}")
    h, w = ab.shape[:2]
    hint = np.zeros_like(ab)
    mask = np.zeros((h, w), np.float32)
    for _ in range(int(rng.geometric(p)) - 1):
        side = min(int(rng.integers(1, max_side + 1)), h, w)
        top = int(np.clip(rng.normal((h - side + 1) / 2, (h - side + 1) / 4), 0, h - side))
        left = int(np.clip(rng.normal((w - side + 1) / 2, (w - side + 1) / 4), 0, w - side))
        window = (slice(top, top + side), slice(left, left + side))
        hint[window] = ab[window].mean(axis=(0, 1))
        mask[window] = 1.0
    return hint, mask


def evaluation_hints(ab: np.ndarray, n_points: int, patch: int = 9, seed: int = 0) -> Hints:
    """The course's evaluation protocol: ``n_points`` squares of ``patch x patch`` pixels at
    uniformly random places fully inside the photo, each filled with its mean true a*b*
    (seeded, so every method is scored with the same hints). A later square paints over an
    earlier one where they overlap."""
    ab = _check_ab(ab)
    h, w = ab.shape[:2]
    if patch < 1 or patch > min(h, w):
        raise ValueError(f"patch must be between 1 and the photo's shorter side {min(h, w)}, got {patch}")
    rng = np.random.default_rng(seed)
    hint = np.zeros_like(ab)
    mask = np.zeros((h, w), np.float32)
    for _ in range(int(n_points)):
        top, left = int(rng.integers(0, h - patch + 1)), int(rng.integers(0, w - patch + 1))
        window = (slice(top, top + patch), slice(left, left + patch))
        hint[window] = ab[window].mean(axis=(0, 1))
        mask[window] = 1.0
    return Hints.from_dense(hint, mask)

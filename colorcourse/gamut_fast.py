"""L*a*b* -> sRGB with the chroma shrunk into the gamut: :func:`colorcourse.color.lab_to_rgb`'s
numbers (``gamut="chroma"``), bit for bit, several times faster.

Why a second implementation: ``color.lab_to_rgb`` is the lesson's readable one (notebook 01),
and it is what every colorization's last step costs. In the hint widget it took most of a click
at 512 px (issue 21). Its gamut search is a bisection on each pixel's chroma scale (20 halvings
of [0, 1]), and every step converted the whole ``... x 3`` array again. Here:

- a pixel enters the search only if it is outside the gamut at its own chroma (a cautious
  colorization has few; a vivid hint has many);
- L's part of the conversion (``f_y`` and Y) is computed once: the scale changes only a* and b*;
- the pixels are laid out channel by channel (``3 x N``), so the gamut test is six comparisons
  of contiguous rows; ``np.all`` over an ``N x 3`` array's short axis cost more than the rest;
- the cube of CIE's ``f`` is taken of ``max(f, 0.2068966)``: numpy's power of a negative number
  (dark saturated greens have them) is about 50 times slower than of a positive one, and below
  0.2068966 the cube is not used.

Every number is made by the same floating-point operations as in ``color`` (the same products,
sums, cubes and matrix products, in the same order), which is why the results are equal and not
just close; ``tests/test_gamut_fast.py`` checks that on random, extreme and real colors.
"""

from __future__ import annotations

import numpy as np

from colorcourse.color import _KAPPA, D65_WHITE, RGB_FROM_XYZ, _linear_to_srgb

GAMUT_LOW, GAMUT_HIGH = -1e-6, 1 + 1e-6  # color.lab_to_rgb's tolerance around [0, 1] in linear RGB
BISECTION_STEPS = 20  # color.lab_to_rgb's halvings: the chroma scale to 2^-20
_F_KNEE = 0.2068966  # 6/29: above it CIE's f is a cube root, below it linear


def _f_inverse(f: np.ndarray, white: float, out: np.ndarray) -> None:
    """``where(f > 6/29, f**3, (f - 16/116) / kappa) * white`` into ``out``: one XYZ channel of
    ``color._lab_to_linear_rgb``, bit for bit (the cube of ``max(f, 6/29)`` is ``f**3`` wherever
    it is kept, and never a slow negative power)."""
    np.power(np.maximum(f, _F_KNEE), 3, out=out)
    linear = np.flatnonzero(f <= _F_KNEE)  # NaN falls in neither branch: out stays NaN as in color
    if len(linear):
        out[linear] = (f[linear] - 16.0 / 116.0) / _KAPPA
    np.multiply(out, white, out=out)


def _linear_rgb(fy: np.ndarray, a: np.ndarray, b: np.ndarray, scale: np.ndarray | None,
                xyz: np.ndarray) -> np.ndarray:
    """``3 x M`` linear RGB of ``(L, scale a, scale b)`` (``scale=None``: 1, as ``color`` computes
    an unscaled color). ``fy = (L + 16) / 116``; ``xyz`` (``3 x M``) holds Y already and is reused."""
    if scale is not None:
        a, b = a * scale, b * scale
    _f_inverse(fy + a / 500.0, D65_WHITE[0], xyz[0])
    _f_inverse(np.maximum(fy - b / 200.0, 0.0), D65_WHITE[2], xyz[2])  # z < 0 has no physical meaning
    return RGB_FROM_XYZ @ xyz  # the same products as color's (M x 3) @ M.T, transposed


def _inside(linear: np.ndarray) -> np.ndarray:
    """Per pixel of ``3 x M`` linear RGB: every channel within the tolerance of [0, 1]."""
    inside = (linear[0] >= GAMUT_LOW) & (linear[0] <= GAMUT_HIGH)
    for channel in linear[1:]:
        inside &= channel >= GAMUT_LOW
        inside &= channel <= GAMUT_HIGH
    return inside


def _chroma_scale(fy: np.ndarray, a: np.ndarray, b: np.ndarray, xyz: np.ndarray) -> np.ndarray:
    """The largest chroma scale (a multiple of 2^-20) that ``color.lab_to_rgb``'s bisection
    finds, for pixels outside the gamut at scale 1."""
    low = np.zeros(len(fy))
    step = 1.0
    for _ in range(BISECTION_STEPS):
        # color's mid = (lo + hi) / 2: lo and hi are multiples of 2^-20 and hi - lo = 2 step,
        # so the midpoint is lo + step, exactly
        step /= 2
        middle = low + step
        np.copyto(low, middle, where=_inside(_linear_rgb(fy, a, b, middle, xyz)))
    return low


def lab_to_rgb_chroma(lab: np.ndarray) -> np.ndarray:
    """``... x 3`` L*a*b* -> float64 RGB in [0, 1]: ``color.lab_to_rgb(lab, gamut="chroma")``."""
    lab = np.asarray(lab, dtype=np.float64)
    if lab.ndim < 1 or lab.shape[-1] != 3:
        raise ValueError(f"lab must have 3 channels in its last axis, got shape {lab.shape}")
    flat = lab.reshape(-1, 3)
    L = np.clip(flat[:, 0], 0.0, 100.0)
    a, b = np.ascontiguousarray(flat[:, 1]), np.ascontiguousarray(flat[:, 2])
    fy = (L + 16.0) / 116.0
    xyz = np.empty((3, len(flat)))
    _f_inverse(fy, D65_WHITE[1], xyz[1])
    linear = _linear_rgb(fy, a, b, None, xyz)
    search = np.flatnonzero(~_inside(linear))
    if len(search):
        fy, a, b, xyz = fy[search], a[search], b[search], np.ascontiguousarray(xyz[:, search])
        linear[:, search] = _linear_rgb(fy, a, b, _chroma_scale(fy, a, b, xyz), xyz)
    rgb = np.clip(_linear_to_srgb(linear), 0.0, 1.0)  # 3 x N
    return rgb.T.reshape(lab.shape)

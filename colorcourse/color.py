"""Color spaces: RGB <-> YUV (Cheng et al.) and RGB <-> CIE L*a*b* (Iizuka et al.).

Taught in notebooks/01_color_spaces_and_gray_baseline.ipynb.

Ranges, fixed once for the whole course:
- ``rgb``: float, gamma-encoded sRGB in [0, 1], channels last (``H x W x 3``).
- ``gray``: the course's gray image is the BT.601 luma ``Y`` in [0, 1] (``H x W``):
  what a black-and-white photograph records, and the only thing a colorizer sees.
- ``yuv``: ``Y`` in [0, 1], ``U`` in [-0.436, 0.436], ``V`` in [-0.615, 0.615]
  (the matrix scikit-image uses).
- ``lab``: CIE L*a*b* under D65, ``L`` in [0, 100], ``a``/``b`` about [-128, 127].
  The fusion network works with ``ab`` scaled to [0, 1] by :func:`ab_to_unit`.

NumPy functions take channels-last arrays of any leading shape; the ``*_torch`` twins take
channels-first batches (``N x 3 x H x W``) and are differentiable, so a loss can be written
in any of the spaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

# BT.601 luma and the YUV chroma axes (same numbers as skimage.color.rgb2yuv).
YUV_FROM_RGB = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.14714119, -0.28886916, 0.43601035],
        [0.61497538, -0.51496512, -0.10001026],
    ]
)
RGB_FROM_YUV = np.linalg.inv(YUV_FROM_RGB)
U_MAX, V_MAX = 0.436, 0.615

# Linear sRGB -> CIE XYZ (D65), and the D65 reference white, as in scikit-image.
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
D65_WHITE = np.array([0.95047, 1.0, 1.08883])

# a*, b* of every sRGB color lie within +-110 (measured extremes: a in [-86, 98],
# b in [-108, 95]); this scale maps them into [0, 1] for a sigmoid output.
AB_SCALE = 110.0

_EPSILON = 0.008856  # (6/29)^3: below it CIE uses the linear segment of f(t)
_KAPPA = 7.787  # slope of that linear segment


def _check_channels_last(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"{name} must have 3 channels in its last axis, got shape {x.shape}")
    return x


# ---------------------------------------------------------------- YUV


def rgb_to_yuv(rgb: np.ndarray) -> np.ndarray:
    """``... x 3`` RGB in [0, 1] -> ``... x 3`` YUV."""
    return _check_channels_last(rgb, "rgb") @ YUV_FROM_RGB.T


def yuv_to_rgb(yuv: np.ndarray, clip: bool = True) -> np.ndarray:
    """``... x 3`` YUV -> RGB; ``clip`` keeps the result displayable in [0, 1]."""
    rgb = _check_channels_last(yuv, "yuv") @ RGB_FROM_YUV.T
    return np.clip(rgb, 0.0, 1.0) if clip else rgb


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """The course's gray image: BT.601 luma ``Y`` in [0, 1], shape ``...`` (channel dropped)."""
    return _check_channels_last(rgb, "rgb") @ YUV_FROM_RGB[0]


def gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """A gray image shown as RGB: no chroma at all (``U = V = 0`` gives R = G = B = Y)."""
    gray = np.asarray(gray, dtype=np.float64)
    return np.repeat(np.clip(gray, 0.0, 1.0)[..., None], 3, axis=-1)


def merge_y_uv(y: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Join a luma image ``H x W`` and chroma ``H x W x 2`` into RGB ``H x W x 3``.

    Where the chroma would leave the displayable range, it is shrunk (hue kept) just enough to
    fit, instead of clipping each channel: the result's luma is then exactly ``y``, which is
    the one thing a colorizer must never change.
    """
    y = np.clip(np.asarray(y, dtype=np.float64), 0.0, 1.0)
    uv = np.asarray(uv, dtype=np.float64)
    if uv.shape != y.shape + (2,):
        raise ValueError(f"uv must have shape {y.shape + (2,)}, got {uv.shape}")
    # rgb = y + delta with delta = uv @ RGB_FROM_YUV[:, 1:].T; YUV is linear, so the largest
    # scale s <= 1 with y + s * delta inside [0, 1] has a closed form per pixel.
    delta = uv @ RGB_FROM_YUV[:, 1:].T  # H x W x 3
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(delta > 0, (1.0 - y[..., None]) / delta, np.where(delta < 0, -y[..., None] / delta, np.inf))
    scale = np.clip(room.min(axis=-1), 0.0, 1.0)
    return np.clip(y[..., None] + scale[..., None] * delta, 0.0, 1.0)


# ---------------------------------------------------------------- Lab (NumPy)


def _srgb_to_linear(c):
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


def _linear_to_srgb(c):
    c = np.clip(c, 0.0, None)
    return np.where(c > 0.0031308, 1.055 * c ** (1 / 2.4) - 0.055, 12.92 * c)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """``... x 3`` RGB in [0, 1] -> ``... x 3`` L*a*b* (D65)."""
    rgb = _check_channels_last(rgb, "rgb")
    xyz = (_srgb_to_linear(rgb) @ XYZ_FROM_RGB.T) / D65_WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), _KAPPA * xyz + 16.0 / 116.0)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def _lab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = np.maximum(fy - lab[..., 2] / 200.0, 0.0)  # z < 0 has no physical meaning
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / _KAPPA) * D65_WHITE
    return xyz @ RGB_FROM_XYZ.T


def lab_to_rgb(lab: np.ndarray, gamut: str = "chroma") -> np.ndarray:
    """``... x 3`` L*a*b* -> RGB in [0, 1].

    A predicted a*b* can fall outside what sRGB can show. ``gamut="clip"`` clips each RGB
    channel (what scikit-image does; it shifts the hue of saturated colors).
    ``gamut="chroma"`` (default) keeps L and the hue angle and shrinks the chroma just enough
    to fit, which avoids the overflow artifacts users of colorizers complain about.
    """
    lab = _check_channels_last(lab, "lab")
    if gamut == "clip":
        return np.clip(_linear_to_srgb(_lab_to_linear_rgb(lab)), 0.0, 1.0)
    if gamut != "chroma":
        raise ValueError(f"gamut must be 'chroma' or 'clip', got {gamut!r}")
    lab = lab.copy()
    lab[..., 0] = np.clip(lab[..., 0], 0.0, 100.0)

    def in_gamut(scale):
        scaled = lab.copy()
        scaled[..., 1:] *= scale[..., None]
        lin = _lab_to_linear_rgb(scaled)
        return np.all((lin >= -1e-6) & (lin <= 1 + 1e-6), axis=-1)

    # Bisection on the chroma scale per pixel: 20 steps give 1e-6 of the chroma.
    lo = np.zeros(lab.shape[:-1])
    hi = np.ones(lab.shape[:-1])
    ok = in_gamut(hi)
    lo[ok] = 1.0
    for _ in range(20):
        if np.all(ok | (hi - lo < 1e-6)):
            break
        mid = (lo + hi) / 2
        fits = in_gamut(mid)
        lo = np.where(ok, lo, np.where(fits, mid, lo))
        hi = np.where(ok, hi, np.where(fits, hi, mid))
    lab[..., 1:] *= lo[..., None]
    return np.clip(_linear_to_srgb(_lab_to_linear_rgb(lab)), 0.0, 1.0)


def gray_baseline(gray: np.ndarray) -> np.ndarray:
    """The colorizer that predicts no chroma: ``U = V = 0``, so R = G = B = Y."""
    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"gray_baseline takes an H x W gray image, got shape {gray.shape}")
    return gray_to_rgb(gray)


def gray_to_lightness(gray: np.ndarray) -> np.ndarray:
    """The L* a Lab model sees for a gray image ``Y``: the lightness of the neutral color Y."""
    return rgb_to_lab(gray_to_rgb(gray))[..., 0]


def ab_to_unit(ab):
    """a*b* -> [0, 1] (the fusion network's sigmoid range). NumPy or torch."""
    return ab / (2 * AB_SCALE) + 0.5


def unit_to_ab(unit):
    """Inverse of :func:`ab_to_unit`. NumPy or torch."""
    return (unit - 0.5) * (2 * AB_SCALE)


# ---------------------------------------------------------------- torch (differentiable)


def _as_matrix(m: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    import torch  # here, not at the top: --method gray starts without torch

    return torch.as_tensor(m, dtype=like.dtype, device=like.device)


def _apply_matrix(x: torch.Tensor, m: np.ndarray) -> torch.Tensor:
    # x: N x 3 x H x W (or 3 x H x W); m: 3 x 3 acting on the channel axis
    import torch  # here, not at the top: --method gray starts without torch

    return torch.einsum("ij,...jhw->...ihw", _as_matrix(m, x), x)


def _check_channels_first(x: torch.Tensor, name: str) -> None:
    if x.ndim < 3 or x.shape[-3] != 3:
        raise ValueError(f"{name} must be ... x 3 x H x W, got shape {tuple(x.shape)}")


def rgb_to_yuv_torch(rgb: torch.Tensor) -> torch.Tensor:
    """``N x 3 x H x W`` RGB -> YUV."""
    _check_channels_first(rgb, "rgb")
    return _apply_matrix(rgb, YUV_FROM_RGB)


def yuv_to_rgb_torch(yuv: torch.Tensor) -> torch.Tensor:
    """``N x 3 x H x W`` YUV -> RGB (not clipped, so gradients flow everywhere)."""
    _check_channels_first(yuv, "yuv")
    return _apply_matrix(yuv, RGB_FROM_YUV)


def rgb_to_lab_torch(rgb: torch.Tensor) -> torch.Tensor:
    """``N x 3 x H x W`` RGB in [0, 1] -> L*a*b*; differentiable (no NaN at 0)."""
    import torch  # here, not at the top: --method gray starts without torch

    _check_channels_first(rgb, "rgb")
    rgb = rgb.clamp(0.0, 1.0)
    linear = torch.where(
        rgb > 0.04045, ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92
    )
    white = _as_matrix(D65_WHITE, rgb).view(3, 1, 1)
    xyz = _apply_matrix(linear, XYZ_FROM_RGB) / white
    f = torch.where(
        xyz > _EPSILON, xyz.clamp(min=_EPSILON) ** (1 / 3), _KAPPA * xyz + 16.0 / 116.0
    )
    fx, fy, fz = f.unbind(dim=-3)
    return torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-3)


def lab_to_rgb_torch(lab: torch.Tensor) -> torch.Tensor:
    """``N x 3 x H x W`` L*a*b* -> RGB in [0, 1] (channels clipped; differentiable inside)."""
    import torch  # here, not at the top: --method gray starts without torch

    _check_channels_first(lab, "lab")
    L, a, b = lab.unbind(dim=-3)
    fy = (L + 16.0) / 116.0
    f = torch.stack([fy + a / 500.0, fy, (fy - b / 200.0).clamp(min=0.0)], dim=-3)
    xyz = torch.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / _KAPPA)
    xyz = xyz * _as_matrix(D65_WHITE, lab).view(3, 1, 1)
    linear = _apply_matrix(xyz, RGB_FROM_XYZ).clamp(0.0, 1.0)
    srgb = torch.where(
        linear > 0.0031308,
        1.055 * linear.clamp(min=0.0031308) ** (1 / 2.4) - 0.055,
        12.92 * linear,
    )
    return srgb.clamp(0.0, 1.0)


def scale_chroma(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Multiply the chroma (U, V) of an RGB image by ``factor``, keeping its luma Y.

    ``factor=0`` gives the gray image, ``1`` the photo itself, ``> 1`` a more saturated one
    (clipped to the displayable range). Used to show how PSNR rewards desaturation.
    """
    yuv = rgb_to_yuv(rgb)
    yuv[..., 1:] *= factor
    return yuv_to_rgb(yuv)

"""Old-photo degradations: what a century does to a black-and-white photograph, on purpose.

Taught in the capstone (real old photographs). The course pack's gray images are clean: a
color photo converted with :func:`colorcourse.color.rgb_to_gray`. A scan of a 1920s print is
not. Each function below imitates one thing that happens to an old photograph, with a strength
parameter, so a student can measure how much each one hurts each colorizer (PSNR to the
original colors, colorfulness) as the strength grows, instead of guessing:

- :func:`film_grain` -- the silver grains of the emulsion. Grain is *signal dependent*: the
  noise's standard deviation grows with the square root of the exposure (Poisson-like), so
  light areas are grainier than deep shadows. A colorizer that keys on texture (Cheng et al.'s
  DAISY features, a network's first filters) sees grain as texture that is not there.
- :func:`blur` -- optical softness: an old lens, missed focus, camera shake, a copy of a copy.
  It removes the fine detail (edges, texture) that tells grass from sand.
- :func:`fade` -- a faded print: blacks lifted and whites lowered toward mid-gray, i.e. lower
  contrast. Methods trained on full-contrast images see every region as "hazy", and a
  colorizer's chroma is often tied to luminance (dark = saturated).
- :func:`toning_to_gray` -- a toned print (sepia, selenium) scanned and converted to gray the
  way a scanner does (BT.601 luma, :func:`colorcourse.color.rgb_to_gray`). Toning tints the
  silver, and the luma of the tint is not the luma of the original gray: the tone curve
  changes (sepia lightens the midtones, selenium deepens them), so the gray levels the model
  sees are not the gray levels the scene had. :func:`toned_print` gives the tinted RGB print.
- :func:`scratches_and_dust` -- thin bright or dark lines (an emulsion scratched on the print,
  or on the negative) and specks of dust. Local, high-contrast, and never seen in training.
- :func:`jpeg_scan` -- a scan saved as a low-quality JPEG: 8x8 blocks, ringing around edges,
  flattened texture.

Conventions (one for the whole module): every function takes a gray image ``H x W`` of
floats in [0, 1] and returns a new array of the same shape and float dtype, in [0, 1]
(except :func:`toned_print`, which returns the ``H x W x 3`` print). The identity setting
(strength 0, or quality 100 for JPEG within a JPEG's rounding) returns the input unchanged.
Random degradations take an explicit ``seed``: same seed, same damage. Larger strength, more
damage: for the seeded ones, the damage at a larger strength contains the damage at a smaller
one (same grain field scaled up; the same scratches plus more), so a strength sweep is a
clean experiment, not a different random draw at each step.

:data:`DEGRADATIONS` maps a name to ``(function, default strength)``; :func:`degrade` applies
one by name. For ``jpeg_scan`` the strength *is* the JPEG quality (1-100): lower is worse.
"""

from __future__ import annotations

import io
import math
from typing import Callable

import numpy as np

from .color import rgb_to_gray

# Values a hair outside [0, 1] (float rounding in a color conversion) are accepted and clipped.
_RANGE_TOLERANCE = 1e-6


def _check_gray(gray, function: str) -> np.ndarray:
    """The input as a float array ``H x W`` in [0, 1], or a ValueError naming the problem."""
    arr = np.asarray(gray)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        raise ValueError(f"{function} takes a gray image H x W, got shape {arr.shape} (an RGB image? "
                         "convert it first with colorcourse.color.rgb_to_gray)")
    if arr.ndim != 2:
        raise ValueError(f"{function} takes a gray image H x W, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{function} got an empty image of shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{function} takes floats in [0, 1], got dtype {arr.dtype} "
                         "(for 8-bit pixels divide by 255)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{function}: the image contains NaN or infinite values")
    low, high = float(arr.min()), float(arr.max())
    if low < -_RANGE_TOLERANCE or high > 1 + _RANGE_TOLERANCE:
        raise ValueError(f"{function} takes values in [0, 1], got values in [{low:.4g}, {high:.4g}]")
    return np.clip(arr, 0.0, 1.0)


def _check_strength(value, name: str, function: str, upper: float | None = None) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{function}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{function}: {name} must be >= 0, got {value}")
    if upper is not None and value > upper:
        raise ValueError(f"{function}: {name} must be between 0 and {upper}, got {value}")
    return value


def _seed_sequence(seed, function: str) -> np.random.SeedSequence:
    """An int seed or a Generator (one draw from it) as a SeedSequence for independent streams."""
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{function}: seed must be a non-negative int or a numpy Generator, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def _stream(seq: np.random.SeedSequence, stream: int) -> np.random.Generator:
    """Stream ``stream`` of a seed: streams are independent, each reproducible on its own."""
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=(stream,)))


def _out(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.clip(result, 0.0, 1.0).astype(like.dtype, copy=False)


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian, radius ``int(truncate * sigma + 0.5)`` (scipy's convention)."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur, edges mirrored (``d c b a | a b c d``), in float64."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    out = np.asarray(image, dtype=np.float64)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for k, weight in enumerate(kernel):  # correlation with a symmetric kernel = convolution
            acc += weight * (padded[k:k + n] if axis == 0 else padded[:, k:k + n])
        out = acc
    return out


def film_grain(gray, sigma: float, seed, grain_size: float = 0.0) -> np.ndarray:
    """Signal-dependent film grain: ``gray + sigma * sqrt(gray) * noise``, clipped to [0, 1].

    ``sigma`` is the grain's standard deviation on white (0: no grain; 0.05 is visible, 0.15
    is a fast film pushed hard). ``grain_size`` (pixels, 0 = one pixel) blurs the noise field
    before scaling it back to unit variance: clumps of grain, as on a high-resolution scan.
    The noise field depends only on ``seed`` and the shape, so a larger ``sigma`` is the same
    grain, stronger.
    """
    gray = _check_gray(gray, "film_grain")
    sigma = _check_strength(sigma, "sigma", "film_grain")
    grain_size = _check_strength(grain_size, "grain_size", "film_grain")
    noise = _stream(_seed_sequence(seed, "film_grain"), 0).standard_normal(gray.shape)
    if grain_size > 0:
        noise = _gaussian(noise, grain_size)
        noise /= max(float(noise.std()), 1e-12)
    return _out(gray + sigma * np.sqrt(gray) * noise, gray)


def blur(gray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (0: unchanged); edges mirrored."""
    gray = _check_gray(gray, "blur")
    sigma = _check_strength(sigma, "sigma", "blur")
    if sigma == 0:
        return gray.copy()
    return _out(_gaussian(gray, sigma), gray)


def fade(gray, amount: float, level: float = 0.5) -> np.ndarray:
    """A faded print: every value moves a share ``amount`` of the way to ``level`` (mid-gray).

    ``out = level + (1 - amount) * (gray - level)``: blacks are lifted and whites lowered, the
    standard deviation (contrast) is multiplied by ``1 - amount``. 0: unchanged; 1: flat gray.
    """
    gray = _check_gray(gray, "fade")
    amount = _check_strength(amount, "amount", "fade", upper=1.0)
    level = _check_strength(level, "level", "fade", upper=1.0)
    return _out(level + (1.0 - amount) * (gray - level), gray)


# A toned print as per-channel tone curves: channel c of the print is gray ** GAMMA[c]. Black
# and paper white stay put; the midtones take the tint. Sepia (silver sulfide) is warm brown:
# red raised, blue lowered. Selenium is a cool purple-brown that deepens the shadows: every
# channel darker, green most. A stylised model, chosen to be monotone and to keep [0, 1].
TONES = {
    "sepia": np.array([0.75, 0.95, 1.45]),
    "selenium": np.array([1.15, 1.30, 1.10]),
}


def _check_tone(tone, function: str) -> np.ndarray:
    if tone not in TONES:
        raise ValueError(f"{function}: unknown tone {tone!r}; choose one of {sorted(TONES)}")
    return TONES[tone]


def toned_print(gray, tone: str = "sepia", amount: float = 1.0) -> np.ndarray:
    """The toned print itself, RGB ``H x W x 3``: ``(1 - amount) * gray + amount * gray ** gamma``."""
    gray = _check_gray(gray, "toned_print")
    gammas = _check_tone(tone, "toned_print")
    amount = _check_strength(amount, "amount", "toned_print", upper=1.0)
    g = gray.astype(np.float64)[..., None]
    rgb = (1.0 - amount) * g + amount * g ** gammas
    return np.clip(rgb, 0.0, 1.0).astype(gray.dtype, copy=False)


def toning_to_gray(gray, tone: str = "sepia", amount: float = 1.0) -> np.ndarray:
    """A toned print scanned back to gray (BT.601 luma, as the course's ``rgb_to_gray``).

    ``amount`` 0: an untoned print, the gray comes back unchanged; 1: fully toned. The result
    differs from the input by the tone curve the toning introduced (see :data:`TONES`).
    """
    gray = _check_gray(gray, "toning_to_gray")
    rgb = toned_print(gray, tone, amount).astype(np.float64)
    return _out(rgb_to_gray(rgb), gray)


def sepia_toning(gray, amount: float) -> np.ndarray:
    """:func:`toning_to_gray` with ``tone="sepia"``."""
    return toning_to_gray(gray, "sepia", amount)


def selenium_toning(gray, amount: float) -> np.ndarray:
    """:func:`toning_to_gray` with ``tone="selenium"``."""
    return toning_to_gray(gray, "selenium", amount)


def scratches_and_dust(gray, density: float, seed) -> np.ndarray:
    """Thin scratches and specks of dust, bright or dark, drawn over the image.

    ``density`` 1 is a badly kept print: about 10 scratches per 256 pixels of the longer side
    and 200 specks per 256 x 256 pixels; 0 is a clean one. Scratches are one pixel wide and
    nearly vertical (they run along the film or the drying rack); bright ones (70 %) are
    emulsion scratched off the print, dark ones are scratches on the negative. Specks have a
    radius of 0.5 to 2.5 pixels. Defect ``i`` depends only on ``seed`` and ``i``, so a larger
    density draws the same defects and more.
    """
    gray = _check_gray(gray, "scratches_and_dust")
    density = _check_strength(density, "density", "scratches_and_dust")
    seq = _seed_sequence(seed, "scratches_and_dust")
    height, width = gray.shape
    out = gray.astype(np.float64)  # a copy
    n_scratches = int(round(density * 10 * max(height, width) / 256))
    n_specks = int(round(density * 200 * height * width / 256**2))
    # one row of uniforms per defect: row i is the same whatever the number of defects
    for u in _stream(seq, 1).random((n_scratches, 6)):
        x0, y0 = u[0] * width, u[1] * height
        length = (0.2 + 0.8 * u[2]) * height
        angle = (u[3] - 0.5) * 0.2  # radians from vertical
        value = 1.0 if u[4] < 0.7 else 0.05
        opacity = 0.5 + 0.45 * u[5]
        t = np.arange(0.0, length, 0.5)
        ys = np.round(y0 + t * math.cos(angle)).astype(int)
        xs = np.round(x0 + t * math.sin(angle)).astype(int)
        inside = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
        pixels = np.unique(np.stack([ys[inside], xs[inside]]), axis=1)  # each pixel once
        out[pixels[0], pixels[1]] += opacity * (value - out[pixels[0], pixels[1]])
    for u in _stream(seq, 2).random((n_specks, 5)):
        cy, cx = u[0] * (height - 1), u[1] * (width - 1)
        radius = 0.5 + 2.0 * u[2]
        value = 1.0 if u[3] < 0.5 else 0.0
        opacity = 0.6 + 0.4 * u[4]
        y_lo, y_hi = max(0, int(cy - radius)), min(height, int(cy + radius) + 2)
        x_lo, x_hi = max(0, int(cx - radius)), min(width, int(cx + radius) + 2)
        yy, xx = np.mgrid[y_lo:y_hi, x_lo:x_hi]
        disk = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        if not disk.any():  # a tiny speck between pixel centres still marks the nearest pixel
            disk[min(int(round(cy)) - y_lo, disk.shape[0] - 1), min(int(round(cx)) - x_lo, disk.shape[1] - 1)] = True
        patch = out[y_lo:y_hi, x_lo:x_hi]
        patch[disk] += opacity * (value - patch[disk])
    return _out(out, gray)


def jpeg_scan(gray, quality: int) -> np.ndarray:
    """A JPEG round trip with Pillow at ``quality`` (1-100; 100 differs only by rounding).

    The image is stored as 8-bit gray, as a scanner's JPEG is, so even quality 100 moves each
    value by about half a gray level.
    """
    from PIL import Image

    gray = _check_gray(gray, "jpeg_scan")
    if isinstance(quality, (bool, np.bool_)) or not isinstance(quality, (int, np.integer, float)) \
            or not float(quality).is_integer() or not 1 <= quality <= 100:
        raise ValueError(f"jpeg_scan: quality must be an integer from 1 to 100, got {quality!r}")
    pixels = np.round(gray * 255.0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        back = np.asarray(decoded.convert("L"), dtype=np.float64) / 255.0
    return _out(back, gray)


# name -> (function, default strength). The strength is the function's own parameter: sigma for
# grain and blur, amount for fade and toning, density for scratches, quality for JPEG.
DEGRADATIONS: dict[str, tuple[Callable, float]] = {
    "film_grain": (film_grain, 0.08),
    "blur": (blur, 1.5),
    "fade": (fade, 0.4),
    "sepia": (sepia_toning, 1.0),
    "selenium": (selenium_toning, 1.0),
    "scratches_and_dust": (scratches_and_dust, 0.3),
    "jpeg_scan": (jpeg_scan, 20),
}
SEEDED = frozenset({"film_grain", "scratches_and_dust"})  # the ones that take a seed


def degrade(gray, name: str, strength: float | None = None, seed=0) -> np.ndarray:
    """Apply the degradation ``name`` at ``strength`` (its default when None); ``seed`` if random."""
    if name not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {name!r}; choose one of {sorted(DEGRADATIONS)}")
    function, default = DEGRADATIONS[name]
    strength = default if strength is None else strength
    if name in SEEDED:
        return function(gray, strength, seed)
    return function(gray, strength)

"""Welsh, Ashikhmin & Mueller, "Transferring Color to Greyscale Images" (SIGGRAPH 2002): the
classical way a color photo lends its colors to a gray one. No learning.

Taught in notebooks/13_colorization_by_example.ipynb, beside the deep correspondence of
:mod:`colorcourse.exemplar`. The method, as the paper's global matching:

1. **Luminance remapping.** The reference's lightness is shifted and scaled to the target's mean
   and standard deviation, ``L_ref' = (L_ref - mu_ref) * sigma_t / sigma_ref + mu_t``, so a
   brighter reference is compared on the target's own scale.
2. **Neighbourhood statistics.** Every pixel is described by the mean and the standard deviation
   of the lightness in its 5 x 5 window (the paper's "luminance and neighbourhood statistics").
3. **Jittered samples.** Only about 200 reference pixels are candidates: the reference is cut
   into a grid of about 200 cells and one random pixel is drawn in each (seeded).
4. **Chroma copied.** Each target pixel takes the a*b* of the candidate whose statistics are
   nearest (equal weights); its lightness stays its own.

Everything is CIE L*a*b* (the paper's l-alpha-beta plays the same role); the result's luma ``Y``
is exactly the input's (:func:`colorcourse.color.merge_y_uv`).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

from .color import gray_to_lightness, lab_to_rgb, merge_y_uv, rgb_to_lab, rgb_to_yuv

N_SAMPLES = 200  # the paper's "approximately 200 samples"
WINDOW = 5  # the paper's 5 x 5 neighbourhood
CHUNK = 65_536  # target pixels compared with the samples at a time (65,536 x 200 floats = 52 MB)


def neighbourhood_stats(L: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """``H x W`` lightness -> ``H x W x 2``: mean and standard deviation over the ``window`` square
    around each pixel (edges mirrored)."""
    L = np.asarray(L, dtype=np.float64)
    mean = uniform_filter(L, window, mode="reflect")
    var = uniform_filter(L * L, window, mode="reflect") - mean * mean
    return np.stack([mean, np.sqrt(np.clip(var, 0.0, None))], axis=-1)


def remap_luminance(L_ref: np.ndarray, L_target: np.ndarray) -> np.ndarray:
    """The reference's lightness moved to the target's mean and standard deviation."""
    sd_ref = float(np.std(L_ref))
    scale = float(np.std(L_target)) / sd_ref if sd_ref > 1e-6 else 1.0  # a flat reference keeps its shape
    return (L_ref - np.mean(L_ref)) * scale + np.mean(L_target)


def jittered_samples(shape: tuple[int, int], n: int = N_SAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(ys, xs)`` of about ``n`` pixels: one uniformly random pixel in each cell of a grid whose
    cells are as square as the photo allows."""
    h, w = shape
    rows = max(1, min(h, round(np.sqrt(n * h / w))))
    cols = max(1, min(w, round(n / rows)))
    rng = np.random.default_rng(seed)
    y_edges = np.linspace(0, h, rows + 1).astype(int)
    x_edges = np.linspace(0, w, cols + 1).astype(int)
    ys = np.concatenate([rng.integers(y_edges[i], max(y_edges[i] + 1, y_edges[i + 1]), size=cols) for i in range(rows)])
    xs = np.tile(x_edges[:-1], rows) + (rng.random(rows * cols) * np.tile(np.diff(x_edges), rows)).astype(int)
    return ys.astype(np.int64), np.minimum(xs, w - 1).astype(np.int64)


def transfer_ab(gray: np.ndarray, reference_rgb: np.ndarray, n_samples: int = N_SAMPLES, seed: int = 0,
                window: int = WINDOW) -> np.ndarray:
    """Gray ``H x W`` in [0, 1] and a color reference ``h x w x 3`` -> the ``H x W x 2`` a*b* Welsh
    et al. copy to each target pixel (from the sample whose 5 x 5 statistics are nearest)."""
    gray = np.asarray(gray, dtype=np.float64)
    lab_ref = rgb_to_lab(np.asarray(reference_rgb, dtype=np.float64))
    L_target = gray_to_lightness(gray)
    L_ref = remap_luminance(lab_ref[..., 0], L_target)
    ys, xs = jittered_samples(L_ref.shape, n_samples, seed)
    samples = neighbourhood_stats(L_ref, window)[ys, xs]  # S x 2
    sample_ab = lab_ref[ys, xs, 1:]  # S x 2
    target = neighbourhood_stats(L_target, window).reshape(-1, 2)
    best = np.empty(len(target), dtype=np.int64)
    for start in range(0, len(target), CHUNK):  # bounded memory on big photos
        block = target[start:start + CHUNK]
        distance = ((block[:, None, :] - samples[None, :, :]) ** 2).sum(axis=-1)
        best[start:start + CHUNK] = distance.argmin(axis=1)
    return sample_ab[best].reshape(gray.shape + (2,))


def ab_to_rgb_keep_y(gray: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """The photo's gray joined with chroma ``ab`` (``H x W x 2``): RGB whose luma is exactly ``gray``."""
    lab = np.concatenate([gray_to_lightness(gray)[..., None], np.asarray(ab, dtype=np.float64)], axis=-1)
    uv = rgb_to_yuv(lab_to_rgb(lab))[..., 1:]
    return merge_y_uv(gray, uv).astype(np.float32)


def colorize_welsh(gray: np.ndarray, reference_rgb: np.ndarray, n_samples: int = N_SAMPLES, seed: int = 0) -> np.ndarray:
    """Gray ``H x W`` in [0, 1] -> RGB ``H x W x 3`` float32, colored from ``reference_rgb``."""
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2:
        raise ValueError(f"expected an H x W gray image, got shape {gray.shape}")
    return ab_to_rgb_keep_y(gray, transfer_ab(gray, reference_rgb, n_samples, seed))


class WelshColorizer:
    """``colorizer(gray) -> rgb`` with one reference for every photo (what the evaluation calls)."""

    name = "welsh"

    def __init__(self, reference_rgb: np.ndarray, n_samples: int = N_SAMPLES, seed: int = 0):
        self.reference_rgb = np.asarray(reference_rgb, dtype=np.float32)
        if self.reference_rgb.ndim != 3 or self.reference_rgb.shape[-1] != 3:
            raise ValueError(f"the reference must be an H x W x 3 RGB image, got shape {self.reference_rgb.shape}")
        self.n_samples, self.seed = n_samples, seed

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        return colorize_welsh(gray, self.reference_rgb, self.n_samples, self.seed)


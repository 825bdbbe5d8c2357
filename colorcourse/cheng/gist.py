"""A compact gist descriptor: Gabor energies pooled on a 4 x 4 grid, on the gray image.

Taught in notebooks/04_cheng_clustering.ipynb.

The paper's adaptive clustering (Sec. III-C) groups training photos by a global descriptor,
gist (Oliva & Torralba; Siagian & Itti): how much oriented structure of each scale there is
in each part of the picture. A coast is horizontal and smooth on top; a street has strong
verticals everywhere. This version:

1. resize the gray image to ``size x size`` (128) and normalise local contrast
   (subtract a blurred copy, divide by the local standard deviation), as Oliva's prefilter does;
2. filter with a bank of ``n_scales x n_orientations`` (4 x 8) Gabor filters, built in the
   Fourier domain (Gaussians on log-radial frequency and on angle);
3. take the magnitude of each response and average it over a ``grid x grid`` (4 x 4) grid.

Result: ``n_scales * n_orientations * grid**2`` = 512 numbers per image.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage
from skimage.transform import resize

from .features import check_gray

GIST_SIZE = 128
N_SCALES = 4
N_ORIENTATIONS = 8
GRID = 4


@lru_cache(maxsize=8)
def gabor_bank(size: int = GIST_SIZE, n_scales: int = N_SCALES, n_orientations: int = N_ORIENTATIONS) -> np.ndarray:
    """``S*O x size x size`` transfer functions (Fourier domain, DC at [0, 0])."""
    f = np.fft.fftfreq(size)
    fx, fy = np.meshgrid(f, f)
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1e-6  # no DC response; avoids log(0)
    angle = np.arctan2(fy, fx)
    bank = []
    for s in range(n_scales):
        f0 = 0.25 / 2**s  # centre frequencies 0.25, 0.125, ... cycles per pixel
        radial = np.exp(-(np.log(radius / f0) ** 2) / (2 * np.log(1.6) ** 2))
        for o in range(n_orientations):
            theta = np.pi * o / n_orientations
            # orientation of the *frequency*: stripes along theta + 90 degrees respond here.
            # Angles mod pi: a real filter responds to +-f alike.
            d = np.angle(np.exp(2j * (angle - theta))) / 2
            angular = np.exp(-(d**2) / (2 * (np.pi / n_orientations / 1.2) ** 2))
            bank.append(radial * angular)
    return np.stack(bank).astype(np.float32)


def prefilter(gray: np.ndarray, sigma: float = 4.0) -> np.ndarray:
    """Local contrast normalisation: remove the local mean, divide by the local std."""
    high = gray - ndimage.gaussian_filter(gray, sigma, mode="reflect")
    local_std = np.sqrt(ndimage.gaussian_filter(high * high, sigma, mode="reflect"))
    return high / (local_std + 0.05)


def gist(gray: np.ndarray, size: int = GIST_SIZE, grid: int = GRID) -> np.ndarray:
    """``H x W`` gray -> ``N_SCALES * N_ORIENTATIONS * grid**2`` (512) global descriptor."""
    gray = check_gray(gray)
    small = resize(gray, (size, size), anti_aliasing=True).astype(np.float32)
    spectrum = np.fft.fft2(prefilter(small))
    energy = np.abs(np.fft.ifft2(spectrum[None] * gabor_bank(size)))  # F x size x size
    cell = size // grid
    pooled = energy[:, : cell * grid, : cell * grid].reshape(len(energy), grid, cell, grid, cell)
    return pooled.mean(axis=(2, 4)).reshape(-1).astype(np.float32)  # F * grid * grid

"""Colorization as classification: quantized a*b*, class rebalancing and the annealed mean.

After Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016). Taught in
notebooks/10_transfer_learning.ipynb.

Why: a region that is red in half the photos and green in the other half has, under a squared
error, one best answer, the mean of red and green: brown. Trained with MSE on few photos a
colorizer paints everything that average, the sepia cast. Predicting a *distribution* over
colors keeps both modes. Zhang et al.:

- quantize the a*b* plane into bins of side 10 and keep those in the sRGB gamut (Q = 254 here; 313 in the paper);
- the target of a pixel is a soft encoding: its 5 nearest bin centres, weighted by a Gaussian
  of the distance (sigma 5);
- rare colors get more weight, ``w \\propto ((1 - \\lambda) \\tilde p + \\lambda / Q)^{-1}`` with
  ``\\tilde p`` the smoothed empirical bin frequencies and ``\\lambda = 1/2``, normalized so that
  ``E_{\\tilde p}[w] = 1``: otherwise the desaturated bins, most common in any photo, win;
- the prediction is the *annealed mean* ``\\sum_q f_T(z)_q\\, c_q`` with
  ``f_T(z) = \\exp(\\log z / T) / \\sum_q \\exp(\\log z_q / T)``, i.e. a softmax of the logits
  divided by ``T``: ``T = 1`` is the mean (safe, brownish), ``T -> 0`` the mode (vivid, patchy).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from colorcourse.color import _lab_to_linear_rgb

GRID = 10.0  # side of a bin in a*b* units
AB_RANGE = 110.0  # every sRGB color has |a|, |b| below this
NEIGHBOURS = 5
SIGMA = 5.0
REBALANCE_LAMBDA = 0.5


def in_gamut_bins(grid: float = GRID, samples: int = 8, lightness_steps: int = 101) -> np.ndarray:
    """Centres ``Q x 2`` of the a*b* bins that hold at least one sRGB color (some L in 0..100).

    Each bin is probed at ``samples x samples`` points and ``lightness_steps`` lightness values;
    The exact sRGB gamut gives 254 bins; Zhang et al. count 313, from a looser gamut test.
    """
    edges = np.arange(-AB_RANGE, AB_RANGE + grid / 2, grid)
    centres = np.stack(np.meshgrid(edges, edges, indexing="ij"), axis=-1).reshape(-1, 2)
    offsets = (np.arange(samples) + 0.5) / samples * grid - grid / 2
    probe = centres[:, None, None, :] + np.stack(np.meshgrid(offsets, offsets, indexing="ij"), -1)[None]
    probe = probe.reshape(len(centres), -1, 2)  # Q x samples^2 x 2
    keep = np.zeros(len(centres), dtype=bool)
    for L in np.linspace(0.0, 100.0, lightness_steps):
        lab = np.concatenate([np.full(probe.shape[:-1] + (1,), L), probe], axis=-1)
        rgb = _lab_to_linear_rgb(lab)
        keep |= np.all((rgb >= 0.0) & (rgb <= 1.0), axis=-1).any(axis=-1)
    return centres[keep].astype(np.float32)


def soft_encode(ab: torch.Tensor, centres: torch.Tensor, k: int = NEIGHBOURS, sigma: float = SIGMA) -> torch.Tensor:
    """``N x 2 x H x W`` a*b* -> ``N x Q x H x W`` target distribution (k nearest bins, Gaussian)."""
    n, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)  # P x 2
    d2 = torch.cdist(flat, centres).pow(2)  # P x Q
    near_d2, near = d2.topk(k, dim=1, largest=False)
    weights = torch.softmax(-near_d2 / (2 * sigma**2), dim=1)  # Gaussian, normalized
    target = torch.zeros(flat.shape[0], centres.shape[0], dtype=ab.dtype, device=ab.device)
    target.scatter_(1, near, weights)
    return target.reshape(n, h, w, -1).permute(0, 3, 1, 2)


def rebalancing_weights(counts: np.ndarray, centres: np.ndarray, lam: float = REBALANCE_LAMBDA,
                        sigma: float = SIGMA) -> np.ndarray:
    """Per-bin loss weights from bin ``counts`` over the training pixels (Zhang et al., Eq. 4).

    The empirical distribution is smoothed by a Gaussian of ``sigma`` in a*b* space, mixed with the
    uniform one by ``lam``, inverted, and normalized so its expectation under the distribution is 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.sum() <= 0:
        raise ValueError("rebalancing needs some training pixels (all counts are 0)")
    p = counts / counts.sum()
    d2 = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-d2 / (2 * sigma**2))
    smooth = kernel @ p
    smooth /= smooth.sum()
    w = 1.0 / ((1 - lam) * smooth + lam / len(centres))
    return (w / (smooth * w).sum()).astype(np.float32)


def rebalanced_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Zhang et al.'s loss: ``-\\sum_q z_q \\log \\hat z_q`` per pixel, times the weight of the
    pixel's most likely true bin, averaged over pixels. ``logits`` and ``target``: ``N x Q x H x W``."""
    per_pixel = -(target * F.log_softmax(logits, dim=1)).sum(dim=1)  # N x H x W
    if weights is not None:
        per_pixel = per_pixel * weights[target.argmax(dim=1)]
    return per_pixel.mean()


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float) -> torch.Tensor:
    """``N x Q x H x W`` logits -> ``N x 2 x H x W`` a*b*: the mean of ``softmax(logits / T)``."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    probs = torch.softmax(logits / temperature, dim=1)
    return torch.einsum("nqhw,qc->nchw", probs, centres)


def bin_counts(ab: torch.Tensor, centres: torch.Tensor) -> np.ndarray:
    """How many pixels of ``N x 2 x H x W`` a*b* fall nearest each bin centre."""
    pixels = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    counts = np.zeros(centres.shape[0], dtype=np.int64)
    # a chunk of pixels at a time: all distances at once would be pixels x bins floats (20 GB
    # for 5,000 training crops)
    for start in range(0, len(pixels), 1 << 18):
        nearest = torch.cdist(pixels[start : start + (1 << 18)], centres.float()).argmin(dim=1)
        counts += np.bincount(nearest.numpy(), minlength=centres.shape[0])
    return counts

"""Bin counts of many training crops, computed a chunk at a time, equal the direct count."""

import numpy as np
import torch

from colorcourse import abbins


def test_counts_over_several_chunks_equal_the_nearest_bin_of_every_pixel():
    centres = torch.from_numpy(abbins.in_gamut_bins())
    ab = torch.randn(3, 2, 300, 300, generator=torch.Generator().manual_seed(0)) * 40  # 270,000 pixels: 2 chunks
    pixels = ab.permute(0, 2, 3, 1).reshape(-1, 2).numpy()
    nearest = np.array([np.argmin(((centres.numpy() - p) ** 2).sum(1)) for p in pixels[::97]])
    counts = abbins.bin_counts(ab, centres)
    assert counts.sum() == pixels.shape[0]
    direct = torch.cdist(torch.from_numpy(pixels), centres.float()).argmin(1).numpy()
    np.testing.assert_array_equal(counts, np.bincount(direct, minlength=len(centres)))
    np.testing.assert_array_equal(direct[::97], nearest)  # cdist's argmin is the nearest centre

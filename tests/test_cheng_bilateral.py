"""Joint bilateral refinement: against OpenCV's jointBilateralFilter and a per-pixel loop."""

import cv2
import numpy as np
import pytest

from colorcourse.cheng.bilateral import joint_bilateral_filter, refine_uv


def _smooth_random(shape, seed):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 1.5)


@pytest.mark.parametrize("sigma_s, sigma_r", [(2.0, 0.1), (3.0, 0.03), (1.5, 1.0)])
def test_matches_opencv(sigma_s, sigma_r):
    guide = _smooth_random((37, 45), 0)
    src = np.random.default_rng(1).random((37, 45, 2)).astype(np.float32)
    ours = joint_bilateral_filter(src, guide, sigma_s, sigma_r)
    r = int(np.ceil(2 * sigma_s))
    for c in range(2):
        ref = cv2.ximgproc.jointBilateralFilter(guide, np.ascontiguousarray(src[..., c]), 2 * r + 1, sigma_r, sigma_s)
        np.testing.assert_allclose(ours[..., c], ref, atol=1e-5)


def test_matches_direct_per_pixel_loop():
    guide = _smooth_random((12, 15), 2)
    src = np.random.default_rng(3).random((12, 15)).astype(np.float32)
    s, rr, r = 1.3, 0.2, 2
    ours = joint_bilateral_filter(src, guide, s, rr, radius=r)
    h, w = guide.shape
    ref = np.zeros_like(src, dtype=np.float64)
    reflect = lambda i, n: -i if i < 0 else (2 * (n - 1) - i if i >= n else i)  # noqa: E731
    for y in range(h):
        for x in range(w):
            num = den = 0.0
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    if dy * dy + dx * dx > r * r:
                        continue
                    qy, qx = reflect(y + dy, h), reflect(x + dx, w)
                    wgt = np.exp(-(dy * dy + dx * dx) / (2 * s * s)) * np.exp(
                        -((guide[qy, qx] - guide[y, x]) ** 2) / (2 * rr * rr)
                    )
                    num += wgt * src[qy, qx]
                    den += wgt
            ref[y, x] = num / den
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_edges_of_the_guide_stop_the_smoothing():
    guide = np.zeros((20, 20), np.float32)
    guide[:, 10:] = 1.0  # a sharp edge in the gray image
    uv = np.zeros((20, 20, 2), np.float32)
    uv[:, 10:] = 0.3
    noisy = uv + np.random.default_rng(0).normal(0, 0.05, uv.shape).astype(np.float32)
    out = refine_uv(noisy, guide, sigma_spatial=3.0, sigma_range=0.1)
    # no leak across the edge, and less noise on each side
    assert np.abs(out[:, 9] - 0.0).max() < 0.05 and np.abs(out[:, 10] - 0.3).max() < 0.05
    assert np.abs(out - uv).std() < 0.5 * np.abs(noisy - uv).std()


def test_constant_chroma_is_left_alone_and_bad_shapes_are_refused():
    guide = _smooth_random((16, 16), 4)
    const = np.full((16, 16, 2), 0.2, np.float32)
    np.testing.assert_allclose(refine_uv(const, guide), const, atol=1e-6)
    with pytest.raises(ValueError, match="H x W x 2"):
        refine_uv(np.zeros((16, 16, 3)), guide)
    with pytest.raises(ValueError, match="gray image"):
        joint_bilateral_filter(const, np.zeros((16, 16, 3)))


def test_refinement_panel_reports_the_psnr_it_shows():
    import matplotlib

    matplotlib.use("Agg")
    from colorcourse.cheng.viz import refinement_panel
    from colorcourse.color import merge_y_uv
    from colorcourse.metrics import psnr

    rng = np.random.default_rng(5)
    gray = _smooth_random((24, 30), 6)
    true_uv = np.stack([gray - 0.5, 0.5 - gray], -1) * 0.3
    true_rgb = merge_y_uv(gray, true_uv)
    noisy = (true_uv + rng.normal(0, 0.05, true_uv.shape)).astype(np.float32)
    fig, before, after = refinement_panel(gray, noisy, true_rgb, 2.0, 0.2)
    assert before == psnr(merge_y_uv(gray, noisy), true_rgb)
    assert after == psnr(merge_y_uv(gray, refine_uv(noisy, gray, 2.0, 0.2)), true_rgb)
    assert after > before  # smoothing noise along the guide's structure helps here

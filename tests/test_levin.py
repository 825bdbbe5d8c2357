"""Levin et al.'s colorization: the affinity against a direct loop, the system against a dense
solve, and the properties the paper's energy promises."""

import numpy as np
import pytest

from colorcourse import levin
from colorcourse.color import rgb_to_gray, rgb_to_lab, rgb_to_yuv
from colorcourse.hints import Hints, hints_from_points


def _loop_affinity(y, scale=levin.VARIANCE_SCALE, floor=levin.VARIANCE_FLOOR):
    """The affinity written out pixel by pixel, as the paper states it (dense, small images only)."""
    h, w = y.shape
    W = np.zeros((h * w, h * w))
    for r in range(h):
        for c in range(w):
            window = y[max(0, r - 1):r + 2, max(0, c - 1):c + 2]
            sigma2 = max(scale * np.var(window), floor)
            for rr in range(max(0, r - 1), min(h, r + 2)):
                for cc in range(max(0, c - 1), min(w, c + 2)):
                    if (rr, cc) != (r, c):
                        W[r * w + c, rr * w + cc] = np.exp(-(y[r, c] - y[rr, cc]) ** 2 / (2 * sigma2))
            W[r * w + c] /= W[r * w + c].sum()
    return W


def _dense_solution(y, values, mask):
    """Levin's system built from the loop affinity and solved densely by NumPy."""
    W = _loop_affinity(y)
    hinted = mask.ravel() > 0
    A = np.eye(y.size) - W
    A[hinted] = np.eye(y.size)[hinted]  # identity rows at the hints
    b = np.where(hinted, values.ravel(), 0.0)
    return np.linalg.solve(A, b).reshape(y.shape)


@pytest.fixture
def small_case():
    rng = np.random.default_rng(0)
    y = np.clip(np.linspace(0, 1, 9 * 11).reshape(9, 11) + rng.normal(0, 0.08, (9, 11)), 0, 1)
    y[:, 6:] += 0.3  # an edge, so the weights differ from uniform
    y = np.clip(y, 0, 1)
    mask = np.zeros((9, 11))
    mask[1, 1] = mask[7, 9] = mask[4, 5] = 1
    values = rng.uniform(-0.4, 0.4, (9, 11))
    return y, values, mask


def test_affinity_rows_sum_to_one_and_match_a_direct_loop(small_case):
    y = small_case[0]
    W = levin.levin_affinity(y)
    assert W.shape == (y.size, y.size)
    assert np.allclose(np.asarray(W.sum(axis=1)).ravel(), 1.0)
    assert np.allclose(W.toarray(), _loop_affinity(y), atol=1e-12)
    assert W.diagonal().max() == 0 and np.all(np.diff(W.indptr) <= 8)  # 8 neighbours, never itself
    assert np.diff(W.indptr)[0] == 3  # a corner has 3 neighbours inside the photo
    # flat: every neighbour counts alike (the floor keeps 0 / 0 away)
    flat = levin.levin_affinity(np.full((4, 5), 0.5)).toarray()
    assert np.allclose(flat[6][flat[6] > 0], 1 / 8)


def test_variance_is_the_windows_own(small_case):
    y = small_case[0]
    assert np.isclose(levin.local_variance(y)[4, 5], np.var(y[3:6, 4:7]))
    assert np.isclose(levin.local_variance(y)[0, 0], np.var(y[:2, :2]))  # the part inside the photo
    assert np.allclose(levin.sigma_squared(np.zeros((3, 3))), levin.VARIANCE_FLOOR)


@pytest.mark.parametrize("solver", levin.SOLVERS)
def test_small_case_equals_a_dense_solve(small_case, solver):
    y, values, mask = small_case
    want = _dense_solution(y, values, mask)
    assert np.allclose(levin.solve_channel(y, values, mask, solver=solver), want, atol=1e-5)
    A = levin.levin_system(y, mask).toarray()
    assert np.allclose(np.linalg.solve(A, levin.levin_rhs(values, mask)).reshape(y.shape), want, atol=1e-10)


@pytest.mark.parametrize("solver", levin.SOLVERS)
def test_hinted_pixels_keep_their_values_and_the_rest_stays_in_their_range(solver):
    rng = np.random.default_rng(1)
    y = rng.uniform(0, 1, (40, 50))
    mask = (rng.uniform(size=y.shape) < 0.02).astype(float)
    values = rng.uniform(-0.4, 0.4, y.shape + (2,))
    out = levin.solve_chroma(y, values, mask, solver=solver)
    hinted = mask > 0
    assert np.array_equal(out[hinted], values[hinted])
    for c in range(2):  # a weighted average of the hints: never outside their range
        lo, hi = values[..., c][hinted].min(), values[..., c][hinted].max()
        assert out[..., c].min() >= lo - 1e-6 and out[..., c].max() <= hi + 1e-6


def test_one_hint_fills_a_flat_image():
    y = np.full((30, 40), 0.6)
    mask = np.zeros(y.shape)
    mask[12, 7] = 1
    out = levin.solve_channel(y, np.full(y.shape, 0.25), mask)
    assert np.allclose(out, 0.25, atol=1e-8)


def test_two_flat_regions_split_by_an_edge_keep_their_own_hints():
    y = np.full((32, 48), 0.2)
    y[:, 24:] = 0.8
    mask = np.zeros(y.shape)
    values = np.zeros(y.shape)
    mask[16, 5], values[16, 5] = 1, -0.3
    mask[16, 42], values[16, 42] = 1, 0.3
    out = levin.solve_channel(y, values, mask)
    # within 3% of the jump between the hints, everywhere on each side (with scale 1: 45%)
    assert np.abs(out[:, :24] + 0.3).max() < 0.03 * 0.6
    assert np.abs(out[:, 24:] - 0.3).max() < 0.03 * 0.6
    # and the paper's sigma_r^2 = window variance itself (scale 1) lets the color leak through
    leaky = levin.solve_channel(y, values, mask, scale=1.0)
    assert np.abs(leaky[:, :24] + 0.3).max() > 0.1


def test_no_hint_means_no_color():
    y = np.random.default_rng(2).uniform(size=(10, 12))
    assert np.all(levin.solve_chroma(y, np.zeros((10, 12, 2)), np.zeros((10, 12))) == 0)
    rgb = levin.LevinColorizer()(y)
    assert np.allclose(rgb, y[..., None], atol=1e-6)


def test_colorize_keeps_the_lightness_and_takes_the_hint_colors():
    rng = np.random.default_rng(3)
    h, w = 90, 120
    gray = np.clip(np.linspace(0.1, 0.9, w)[None, :] + rng.normal(0, 0.02, (h, w)), 0, 1).astype(np.float32)
    gray[:, 60:] *= 0.6  # two regions
    hints = hints_from_points([{"x": 20, "y": 40, "color": "#d02020", "radius": 3},
                               {"x": 100, "y": 50, "color": "#2040e0", "radius": 3}], (h, w))
    for work_size in (None, 64):  # at full size, and solved small with the chroma upsampled
        rgb = levin.colorize_levin(gray, hints, work_size=work_size)
        assert rgb.shape == (h, w, 3) and rgb.dtype == np.float32
        assert rgb.min() >= 0 and rgb.max() <= 1
        assert np.allclose(rgb_to_gray(rgb), gray, atol=1e-5)  # the input's own luminance
        # the hint's hue where it was given: a*b* point the same way
        for (yy, xx), color in (((40, 20), [0.8157, 0.1255, 0.1255]), ((50, 100), [0.1255, 0.2510, 0.8784])):
            got, want = rgb_to_lab(rgb[yy, xx])[1:], rgb_to_lab(np.array(color))[1:]
            assert got @ want / (np.linalg.norm(got) * np.linalg.norm(want)) > 0.98
        uv = rgb_to_yuv(rgb)[..., 1:]
        assert uv[:, :50, 1].mean() > 0.02 and uv[:, 70:, 0].mean() > 0.02  # red left, blue right


def test_hint_uv_uses_the_photos_lightness():
    y = np.array([[0.3, 0.7]])
    ab = np.array([[[40.0, 20.0], [40.0, 20.0]]])
    uv = levin.hint_uv(y, ab, np.ones((1, 2)))
    assert np.all(uv[..., 1] > 0)  # a reddish hint: V > 0 at both lightnesses
    assert not np.allclose(uv[0, 0], uv[0, 1])  # the same a*b* on another L is another U, V


def test_bad_arguments_are_refused():
    y = np.zeros((5, 5))
    with pytest.raises(ValueError, match="unknown solver"):
        levin.solve_channel(y, np.zeros((5, 5)), np.eye(5), solver="magic")
    with pytest.raises(ValueError, match="belong to"):
        levin.colorize_levin(y, Hints.empty((4, 4)))


@pytest.mark.parametrize("h, w", [(1, 1), (1, 9), (9, 11), (37, 53), (64, 20)])
def test_nested_dissection_orders_every_pixel_once_and_its_lines_separate_the_halves(h, w):
    order = levin.nested_dissection(h, w)
    assert np.array_equal(np.sort(order), np.arange(h * w))  # a permutation
    if h * w > 16:
        # the last pixels are the first dividing line (the middle row, or column if wider): without
        # it the halves have no 3x3 neighbours across, so the factors' fill stays inside each half
        by_rows = h >= w
        line = order[-(w if by_rows else h):]
        position = np.divmod(line, w)[0 if by_rows else 1]
        assert np.all(position == (h if by_rows else w) // 2)
        W = levin.levin_affinity(np.random.default_rng(4).uniform(size=(h, w))).tocoo()
        pixel = np.divmod(np.arange(h * w), w)[0 if by_rows else 1]
        after, on_line = pixel > position[0], np.isin(np.arange(h * w), line)
        across = (after[W.row] != after[W.col]) & ~on_line[W.row] & ~on_line[W.col]
        assert not across.any()


def test_direct_solve_equals_scipys_general_sparse_solve():
    from scipy.sparse.linalg import spsolve

    rng = np.random.default_rng(5)
    y = rng.uniform(0, 1, (37, 53))
    y[:, 20:] *= 0.5
    mask = (rng.uniform(size=y.shape) < 0.01).astype(float)
    values = rng.uniform(-0.4, 0.4, y.shape)
    want = spsolve(levin.levin_system(y, mask).tocsc(), levin.levin_rhs(values, mask)).reshape(y.shape)
    assert np.allclose(levin.solve_channel(y, values, mask, solver="direct"), want, atol=1e-12)


def test_the_solution_zeroes_every_unhinted_term_of_the_energy(small_case):
    """The course minimises J over the unhinted pixels' terms (minimum 0). Summing J over every
    pixel, hinted ones too, has another minimiser (least squares): a lower total J, but it leaves
    the hints' range, which the weighted average never does (and it scored worse: levin.py)."""
    y, values, mask = small_case
    out = levin.solve_channel(y, values, mask).ravel()
    L = np.eye(y.size) - levin.levin_affinity(y).toarray()
    hinted = mask.ravel() > 0
    assert np.abs((L @ out)[~hinted]).max() < 1e-12
    all_terms = values.ravel().copy()
    all_terms[~hinted] = np.linalg.lstsq(L[:, ~hinted], -L[:, hinted] @ values.ravel()[hinted], rcond=None)[0]
    assert np.sum((L @ all_terms) ** 2) < np.sum((L @ out) ** 2)
    hint_values = values.ravel()[hinted]
    assert all_terms.min() < hint_values.min() - 1e-3 or all_terms.max() > hint_values.max() + 1e-3
    assert hint_values.min() - 1e-9 <= out.min() and out.max() <= hint_values.max() + 1e-9

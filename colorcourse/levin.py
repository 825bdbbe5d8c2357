"""Levin, Lischinski & Weiss, "Colorization using Optimization" (SIGGRAPH 2004): scribbles in,
colors out, no learning.

The idea in one line: *neighbouring pixels of similar intensity should have similar colors.*
The photo is in YUV (the course's :mod:`colorcourse.color`); the luminance ``Y`` is the input's
own and never changes. Each chroma channel ``U`` (and ``V`` alike) minimises

    J(U) = sum_r ( U(r) - sum_{s in N(r)} w_rs U(s) )^2,    U(r) = u_r at the hinted pixels,

with ``N(r)`` the 8 neighbours of ``r`` in its 3x3 window and the *affinity*

    w_rs  proportional to  exp( -(Y(r) - Y(s))^2 / (2 sigma_r^2) ),   sum_s w_rs = 1,

    sigma_r^2 = max( VARIANCE_SCALE * var_r, VARIANCE_FLOOR ),

``var_r`` the variance of ``Y`` over the 3x3 window around ``r`` (the pixels of the window that
lie inside the photo, ``r`` included; divided by their count). Two choices the paper leaves open:

- :data:`VARIANCE_SCALE` = 0.3. With ``sigma_r^2 = var_r`` itself, a pixel beside a sharp step
  of luminance gives its neighbours across the step a weight of 0.1 against 1 on its own side
  (the step is part of its window's variance), so color leaks through every edge: two flat
  regions of Y = 0.2 and 0.8 with hints of U = -0.3 and +0.3 came out between -0.3 and -0.03
  and between +0.03 and +0.3. At 0.3 the weight across is 6e-4 and each region keeps its hint;
  on the first 12 photos of ``shift_val`` at 256 px with 10 hints of the evaluation protocol
  (seed 0) the gain over gray rose from +3.50 to +3.77 dB.
- :data:`VARIANCE_FLOOR` = ``(2/255)^2``, two gray levels of an 8-bit photo, squared. A flat
  window has variance 0 and the weights would be 0/0; the floor also makes luminance steps of a
  gray level or two, which JPEG noise and quantisation put everywhere, count as "similar"
  instead of as edges that stop the color (a floor of 1e-5 scored +3.80 dB in the run above:
  the same within noise).

Every unhinted pixel's term of ``J`` can be made 0 at once, its smallest value; that is one sparse
linear system per chroma channel, ``A u = b``: the row of an unhinted pixel ``r`` says
``u(r) - sum_s w_rs u(s) = 0`` (the pixel is the weighted average of its neighbours), the row of
a hinted pixel is an identity row ``u(r) = u_r``. (The hinted pixels' own terms are left out:
their values are fixed.) ``A = I - W`` outside the hints, so those rows sum to 0 and any constant
solves them: without a hint the system is singular, and with hints the solution is a weighted
average of the hint values, never outside their range. Hints pin values; they need no weight.

Which energy: the paper writes ``J`` as a sum over every pixel ``r``, the hinted ones too. Its
minimiser over the free pixels (least squares, the normal equations ``(I - W)^T (I - W)``
restricted to them) was measured: it is not a weighted average of the hints, overshoots their
range, and on the 12 photos below scored +1.88 dB over gray against +3.77 dB for the system
above, at 3.5 times the CPU time (1.24 s against 0.35 s at 384 x 256, both ordered as below:
its matrix has 25 entries a row, not 9, and needs lines two pixels wide to split the grid). The
course keeps the sum over the unhinted pixels, whose minimum is 0 and is reached by the square
system ``A u = b`` (tests/test_levin.py checks both properties).

The solver, chosen by measurement (``python benchmarks/levin_solvers.py``: a course photo, 10
hints of the evaluation protocol, the affinity, the system and both chroma channels; 5 runs each,
round-robin; Intel Xeon, 2 cores, shared with other jobs, load average 4.9-6.0 during the run;
wall seconds, median [range], and the median CPU seconds of the process):

    ==============  ==============================  ===============================
    solver          256 x 192                       512 x 384
    ==============  ==============================  ===============================
    direct          0.23 [0.23, 0.25], cpu 0.15     0.81 [0.78, 3.29], cpu 0.79
    amg             0.66 [0.59, 1.46], cpu 0.43     3.61 [3.34, 10.38], cpu 3.57
    ilu-gmres       0.55 [0.53, 1.43], cpu 0.37     2.48 [2.42, 7.97], cpu 2.43
    minimum-degree  0.36 [0.34, 1.14], cpu 0.24     1.48 [1.42, 6.59], cpu 1.46
    ==============  ==============================  ===============================

``direct`` is SciPy's SuperLU (one factorisation for U and V) with the pixels in
:func:`nested_dissection` order; ``minimum-degree`` is the same solve with SuperLU's own
minimum-degree ordering, the course's solver before (only in the benchmark). ``amg`` is pyamg's
classical multigrid as a GMRES preconditioner, ``ilu-gmres`` SciPy's GMRES with an incomplete-LU
preconditioner; the iterative ones ended within 2e-5 of the exact chroma. The direct solver is
the fastest at both sizes, in wall and in CPU time, so it is :data:`DEFAULT_SOLVER`; 512 px is
under the target of 2 s. 85% of the old solve's time was SuperLU's factorisation (cProfile), so
the ordering is where the time was. Tried and not kept: the factorisation in float32 with
float64 refinement (the refinement cost what it saved), solving for the unhinted pixels alone
(10 hints of 9 x 9 are 0.4% of the rows at 512 px), and the least-squares form above. The
chroma is the same as before to 1e-15, so the quality is unchanged: +3.77 dB over gray on the
first 12 photos of ``shift_val`` with 10 hints of the evaluation protocol (seed 0), before and
after.

Taught in lesson 12 (guided colorization) and assignment A7, where the student builds
:func:`levin_affinity` and :func:`levin_system`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .hints import Hints

# sigma_r^2 = VARIANCE_SCALE * (variance of Y in the 3x3 window), never below VARIANCE_FLOOR
# (two gray levels of an 8-bit photo, squared; Y in [0, 1]). Why these two: the module docstring.
VARIANCE_SCALE = 0.3
VARIANCE_FLOOR = (2.0 / 255.0) ** 2
SOLVERS = ("direct", "amg", "ilu-gmres")
DEFAULT_SOLVER = "direct"
# The iterative solvers stop when the residual is 1e-5 of b's norm: their chroma is then within
# about 1e-6 of the exact solution (a gray level of U is 4e-3); the benchmark checks it.
RTOL = 1e-5

# The 8 neighbours of a pixel: (row, column) offsets in its 3x3 window.
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def _check_gray(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"expected an H x W luminance image, got shape {y.shape}")
    return y


def _shifted(img: np.ndarray, dy: int, dx: int) -> tuple[np.ndarray, np.ndarray]:
    """``(img[r + dy, c + dx], inside)`` for every pixel ``(r, c)``; 0 where the neighbour is outside."""
    h, w = img.shape
    out = np.zeros_like(img)
    inside = np.zeros((h, w), dtype=bool)
    rows, cols = slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx))
    src_rows, src_cols = slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx))
    out[rows, cols] = img[src_rows, src_cols]
    inside[rows, cols] = True
    return out, inside


def local_variance(y: np.ndarray) -> np.ndarray:
    """``var_r`` of every pixel: the variance of ``Y`` over its 3x3 window (the pixels inside the
    photo, itself included, divided by their count). ``H x W``."""
    y = _check_gray(y)
    count, total, squares = np.ones_like(y), y.copy(), y * y
    for dy, dx in _OFFSETS:
        neighbour, inside = _shifted(y, dy, dx)
        count += inside
        total += neighbour
        squares += neighbour * neighbour
    mean = total / count
    # E[Y^2] - E[Y]^2: cancellation leaves ~1e-16 in float64, far below the floor
    return np.maximum(squares / count - mean * mean, 0.0)


def sigma_squared(y: np.ndarray, scale: float = VARIANCE_SCALE, floor: float = VARIANCE_FLOOR) -> np.ndarray:
    """``sigma_r^2 = max(scale * var_r, floor)`` of every pixel, ``H x W``."""
    return np.maximum(scale * local_variance(y), floor)


def levin_affinity(y: np.ndarray, scale: float = VARIANCE_SCALE, floor: float = VARIANCE_FLOOR) -> sp.csr_matrix:
    """The affinity ``W`` (``HW x HW``, pixels in row-major order): ``W[r, s] = w_rs`` for the
    neighbours ``s`` of ``r`` in its 3x3 window, each row summing to 1."""
    y = _check_gray(y)
    h, w = y.shape
    two_var = 2.0 * sigma_squared(y, scale, floor)
    index = np.arange(h * w).reshape(h, w)
    rows, cols, weights = [], [], []
    for dy, dx in _OFFSETS:
        neighbour, inside = _shifted(y, dy, dx)
        weight = np.exp(-((y - neighbour) ** 2) / two_var)[inside]
        rows.append(index[inside])
        cols.append(index[inside] + dy * w + dx)
        weights.append(weight)
    rows, cols, weights = (np.concatenate(a) for a in (rows, cols, weights))
    row_sum = np.bincount(rows, weights=weights, minlength=h * w)
    return sp.csr_matrix((weights / row_sum[rows], (rows, cols)), shape=(h * w, h * w))


def levin_system(y: np.ndarray, mask: np.ndarray, scale: float = VARIANCE_SCALE,
                 floor: float = VARIANCE_FLOOR) -> sp.csr_matrix:
    """The matrix ``A`` of one chroma channel's system ``A u = b`` (``HW x HW``, CSR): ``I - W``
    in the rows of unhinted pixels, identity rows at the hinted pixels (``mask > 0``).
    ``b`` is the hint values at the hinted pixels and 0 elsewhere (:func:`levin_rhs`)."""
    y = _check_gray(y)
    mask = np.asarray(mask)
    if mask.shape != y.shape:
        raise ValueError(f"mask must have the luminance's shape {y.shape}, got {mask.shape}")
    free = (mask.ravel() <= 0).astype(np.float64)
    # diag(free) @ W zeroes the hinted rows; the identity keeps their 1 on the diagonal
    return (sp.identity(y.size, format="csr") - sp.diags(free) @ levin_affinity(y, scale, floor)).tocsr()


def levin_rhs(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``b``: the hint values at the hinted pixels, 0 elsewhere (flattened, row-major)."""
    return np.where(np.asarray(mask) > 0, values, 0.0).ravel().astype(np.float64)


def nested_dissection(h: int, w: int, leaf: int = 4) -> np.ndarray:
    """An elimination order of the pixels of an ``h x w`` photo (row-major indices) for the
    direct solver: split the grid in two by its middle row (or column, whichever side is longer),
    order each half the same way, recursively, and the dividing line last; blocks of at most
    ``leaf x leaf`` pixels stay in row-major order.

    Why: a 3x3 window never reaches across a whole row or column, so once the halves are
    eliminated they never touch each other, and the fill-in of the factors stays inside each half
    and on the dividing lines (George 1973's nested dissection; Cholesky or LU of a grid of N
    pixels then costs O(N^1.5) operations, the least possible). A general-purpose ordering
    (SuperLU's minimum degree) does not know the grid; this one does. Measured at 512 px:
    factorisation 0.63 s of CPU against 1.7 s (leaf 4; 8: 0.70 s, 16: 0.97 s, 32: 1.8 s).
    """
    index = np.arange(h * w).reshape(h, w)
    parts: list[np.ndarray] = []

    def split(block: np.ndarray) -> None:
        rows, cols = block.shape
        if rows <= leaf and cols <= leaf:
            parts.append(block.ravel())
        elif rows >= cols:
            split(block[: rows // 2])
            split(block[rows // 2 + 1:])
            parts.append(block[rows // 2])
        else:
            split(block[:, : cols // 2])
            split(block[:, cols // 2 + 1:])
            parts.append(block[:, cols // 2])

    split(index)
    return np.concatenate(parts)


def _solve_direct(A: sp.csr_matrix, rhs: list[np.ndarray], shape: tuple[int, int]) -> list[np.ndarray]:
    from scipy.sparse.linalg import splu

    # SuperLU on A with its rows and columns in nested-dissection order (the same permutation on
    # both sides keeps the identity rows and the diagonal where they were), told to keep that
    # order. No pivoting: A is an M-matrix, diagonally dominant by rows (strictly at the hints),
    # so elimination on the diagonal is stable, and pivoting would undo the order.
    order = nested_dissection(*shape)
    lu = splu(A[order][:, order].tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0)
    out = []
    for b in rhs:  # one factorisation for every chroma channel
        x = np.empty_like(b)
        x[order] = lu.solve(b[order])
        out.append(x)
    return out


def _solve_amg(A: sp.csr_matrix, rhs: list[np.ndarray]) -> list[np.ndarray]:
    import pyamg

    # A is an M-matrix (positive diagonal, nonpositive off-diagonals, rows summing to >= 0) but
    # not symmetric: classical (Ruge-Stuben) AMG suits M-matrices (smoothed aggregation measured
    # no faster), GMRES on top absorbs the rest. One Gauss-Seidel sweep each way per level: 12%
    # less time than the default symmetric sweeps for the same accuracy (measured at 512 px).
    ml = pyamg.ruge_stuben_solver(A, presmoother=("gauss_seidel", {"sweep": "forward"}),
                                  postsmoother=("gauss_seidel", {"sweep": "backward"}))
    return [ml.solve(b, tol=RTOL, accel="gmres", maxiter=min(500, A.shape[0])) for b in rhs]


def _solve_ilu_gmres(A: sp.csr_matrix, rhs: list[np.ndarray]) -> list[np.ndarray]:
    from scipy.sparse.linalg import LinearOperator, gmres, spilu

    # An incomplete LU as the preconditioner (looser ones need many more iterations: measured)
    ilu = spilu(A.tocsc(), drop_tol=1e-5, fill_factor=10, permc_spec="MMD_AT_PLUS_A")
    preconditioner = LinearOperator(A.shape, ilu.solve)
    out = []
    for b in rhs:
        x, info = gmres(A, b, rtol=RTOL, atol=0.0, M=preconditioner, restart=30, maxiter=200)
        if info != 0:
            raise RuntimeError(f"GMRES did not converge in {info} iterations")
        out.append(x)
    return out


def _solve(A: sp.csr_matrix, rhs: list[np.ndarray], solver: str, shape: tuple[int, int]) -> list[np.ndarray]:
    """Solve ``A x = b`` for each ``b`` in ``rhs`` with one setup (factorisation, hierarchy);
    ``shape`` is the photo's ``(H, W)``, whose grid the direct solver's ordering follows."""
    from threadpoolctl import threadpool_limits

    solver = DEFAULT_SOLVER if solver == "auto" else solver
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of auto, {', '.join(SOLVERS)}")
    # One BLAS thread: the solvers' vector operations are too small for OpenBLAS's threads, which
    # cost more than they save (6x slower on a busy 2-core machine: benchmarks/levin_solvers.py).
    with threadpool_limits(limits=1, user_api="blas"):
        if solver == "direct":
            return _solve_direct(A, rhs, shape)
        if solver == "ilu-gmres":
            return _solve_ilu_gmres(A, rhs)
        return _solve_amg(A, rhs)


def solve_chroma(y: np.ndarray, values: np.ndarray, mask: np.ndarray, solver: str = "auto",
                 scale: float = VARIANCE_SCALE, floor: float = VARIANCE_FLOOR) -> np.ndarray:
    """Every chroma channel of ``values`` (``H x W x C``, read at ``mask > 0``) spread over the
    photo by Levin et al.'s system: ``H x W x C``. One matrix, set up once for all channels.
    Without any hint there is no color to spread: the result is 0 (gray)."""
    y = _check_gray(y)
    values = np.asarray(values, dtype=np.float64)
    if values.shape[:2] != y.shape or values.ndim != 3:
        raise ValueError(f"values must be H x W x C with H x W = {y.shape}, got {values.shape}")
    mask = np.asarray(mask)
    if not np.any(mask > 0):
        return np.zeros_like(values)
    A = levin_system(y, mask, scale, floor)
    channels = _solve(A, [levin_rhs(values[..., c], mask) for c in range(values.shape[-1])], solver, y.shape)
    out = np.stack([x.reshape(y.shape) for x in channels], axis=-1)
    hinted = mask > 0
    out[hinted] = values[hinted]  # exact at the hints, whatever the solver's tolerance
    return out


def solve_channel(y: np.ndarray, values: np.ndarray, mask: np.ndarray, solver: str = "auto",
                  scale: float = VARIANCE_SCALE, floor: float = VARIANCE_FLOOR) -> np.ndarray:
    """One chroma channel (``H x W``, read at ``mask > 0``) spread over the photo: ``H x W``."""
    return solve_chroma(y, np.asarray(values)[..., None], mask, solver, scale, floor)[..., 0]


def hint_uv(y: np.ndarray, ab: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The U, V of each hint (``H x W x 2``, 0 where no hint): its a*b* with the photo's own
    lightness, converted to RGB (chroma shrunk into the displayable range) and to YUV."""
    from .color import gray_to_lightness, lab_to_rgb, rgb_to_yuv

    hinted = np.asarray(mask) > 0
    uv = np.zeros(np.shape(y) + (2,))
    if np.any(hinted):
        lab = np.concatenate([gray_to_lightness(np.asarray(y)[hinted])[:, None], np.asarray(ab)[hinted]], axis=1)
        uv[hinted] = rgb_to_yuv(lab_to_rgb(lab))[:, 1:]
    return uv


def colorize_levin_at_size(y: np.ndarray, hints: Hints, solver: str = "auto") -> np.ndarray:
    """Levin et al. on ``y`` as it is (no resizing): the hints are moved onto its grid, their
    U, V spread by the system, joined with ``y``. RGB ``H x W x 3`` float32 in [0, 1]."""
    from .color import merge_y_uv

    y = _check_gray(y)
    ab, mask = hints.dense(y.shape)
    uv = solve_chroma(y, hint_uv(y, ab, mask), mask, solver)
    return merge_y_uv(y, uv).astype(np.float32)


def colorize_levin(gray: np.ndarray, hints: Hints, work_size: int | None = 512, solver: str = "auto") -> np.ndarray:
    """``gray`` ``H x W`` in [0, 1] -> RGB ``H x W x 3`` float32 in [0, 1], colored from ``hints``.

    The system is solved at ``work_size`` pixels on the longer side (``None``: full size) and the
    chroma upsampled to the photo's size by :func:`colorcourse.full_resolution.colorize_full_resolution`,
    as every colorizer of the course is run; the luminance is the input's own, exactly.
    """
    from .full_resolution import colorize_full_resolution

    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"expected an H x W gray image, got shape {gray.shape}")
    if hints.shape != gray.shape:
        raise ValueError(f"the hints belong to a {hints.shape} photo, the gray image is {gray.shape}")
    return colorize_full_resolution(lambda small: colorize_levin_at_size(small, hints, solver), gray, work_size)


class LevinColorizer:
    """Levin et al. as a course colorizer: ``colorizer(gray, hints=None) -> rgb``. Without hints
    there is no color to spread, so the result is the gray photo."""

    takes_hints = True

    def __init__(self, work_size: int | None = 512, solver: str = "auto"):
        self.work_size = work_size
        self.solver = solver

    def __call__(self, gray: np.ndarray, hints: Hints | None = None) -> np.ndarray:
        gray = np.asarray(gray)
        return colorize_levin(gray, hints if hints is not None else Hints.empty(gray.shape), self.work_size, self.solver)

"""Why a reference helps or not: the correspondence of :mod:`colorcourse.exemplar` held against the truth.

Taught in notebooks/13_colorization_by_example.ipynb. On a photo whose true colors are known,
:func:`correspondence_maps` gives, at the photo's size, the reference's warped a*b*, the
confidence of each match and the automatic a*b* the confidence blend falls back to;
:func:`match_quality` asks two questions of them: how much of the photo found a sure match, and,
where it did, are the warped colors nearer the truth than the automatic ones? (They are not when
the matched regions' true colors differ between the two photos.) :func:`best_matches` gives the
reference location each of a few target locations attends to most, for drawing the matches.
"""

from __future__ import annotations

import numpy as np

CONFIDENT = 0.5  # a location counts as surely matched from this confidence on (the blend's half-way point)


def correspondence_maps(session) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(warp_ab H x W x 2, auto_ab H x W x 2, confidence H x W)`` of an
    :class:`~colorcourse.exemplar.ExemplarSession` at the photo's size (bilinear, as the colors are
    upsampled): what the confidence blend mixes, ``confidence * warp + (1 - confidence) * auto``."""
    shape = session.session.shape
    warp_ab, confidence = session.correspondence.on_grid(shape)
    auto_ab = session.session.predict_ab(None)  # the automatic a*b*, its chroma gain applied
    return warp_ab[0].permute(1, 2, 0).numpy(), np.asarray(auto_ab, dtype=np.float32), confidence[0, 0].numpy()


def match_quality(true_ab: np.ndarray, warp_ab: np.ndarray, auto_ab: np.ndarray, confidence: np.ndarray,
                  confident: float = CONFIDENT) -> dict:
    """How sure the match is and whether it is right, on one photo (a*b* errors are Euclidean, CIE units).

    ``mean_confidence``, ``confident_share`` (the fraction of pixels with confidence >= ``confident``),
    ``warp_error`` and ``auto_error``: the confidence-weighted mean error of the warped and of the
    automatic colors (where the blend uses the warp, in proportion to how much it uses it),
    ``warp_error_all`` and ``auto_error_all``: their plain means over the photo.
    """
    true_ab, warp_ab, auto_ab = (np.asarray(a, dtype=np.float64) for a in (true_ab, warp_ab, auto_ab))
    confidence = np.asarray(confidence, dtype=np.float64)
    if not (true_ab.shape == warp_ab.shape == auto_ab.shape == confidence.shape + (2,)):
        raise ValueError(f"expected H x W x 2 a*b* maps and an H x W confidence, got {true_ab.shape}, "
                         f"{warp_ab.shape}, {auto_ab.shape}, {confidence.shape}")
    warp_error = np.linalg.norm(warp_ab - true_ab, axis=-1)
    auto_error = np.linalg.norm(auto_ab - true_ab, axis=-1)
    weight = confidence.sum()
    weighted = (lambda e: float((confidence * e).sum() / weight)) if weight > 0 else (lambda e: float("nan"))
    return {"mean_confidence": float(confidence.mean()), "confident_share": float((confidence >= confident).mean()),
            "warp_error": weighted(warp_error), "auto_error": weighted(auto_error),
            "warp_error_all": float(warp_error.mean()), "auto_error_all": float(auto_error.mean())}


def best_matches(session, locations: list[tuple[int, int]]) -> list[dict]:
    """For target grid cells ``(row, col)`` of the correspondence grid: the reference cell each
    attends to most and its cosine, with both cells' centres as fractions of the images' height and
    width (to draw an arrow between the two photos at any size)."""
    from .exemplar import match_features, similarity_block

    feats = match_features(session.session.maps)  # C x h x w, unit length
    _, h, w = feats.shape
    ref_h, ref_w = session.reference.grid
    matches = []
    for row, col in locations:
        if not (0 <= row < h and 0 <= col < w):
            raise ValueError(f"location ({row}, {col}) is outside the {h} x {w} grid")
        cosines = similarity_block(feats[:, row, col][None], session.reference.features)[0]
        best = int(cosines.argmax())
        ref_row, ref_col = divmod(best, ref_w)
        matches.append({"target": (row, col), "reference": (ref_row, ref_col), "cosine": float(cosines[best]),
                        "target_yx": ((row + 0.5) / h, (col + 0.5) / w),
                        "reference_yx": ((ref_row + 0.5) / ref_h, (ref_col + 0.5) / ref_w)})
    return matches

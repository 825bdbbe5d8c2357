"""The whole Cheng et al. colorizer: gray -> features -> network -> refinement -> rgb.

Taught in notebooks/03_cheng_per_pixel_dnn.ipynb (and used by 04 and 05).

Algorithm 2 of the paper:
1. (with clustering) gist + semantic histogram of the image -> choose a cluster's network;
2. the per-pixel feature (patch + DAISY + semantic) at every pixel;
3. one batched pass of the network -> U, V per pixel;
4. joint bilateral refinement of U, V guided by the gray image;
5. join Y (the input, untouched) with U, V -> RGB.

``ChengColorizer()`` loads the default models shipped in ``models/`` (made by
``python -m colorcourse.cheng.train --out models``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from ..color import merge_y_uv, rgb_to_gray, rgb_to_yuv
from ..paths import models_dir
from . import fast
from .clustering import ClusteredColorizer, TrainingSet, pixel_psnr
from .features import FEATURE_GROUPS, check_gray, check_groups, feature_bands, pixel_features
from .gist import gist
from .mlp import PixelColorizer, sample_pixels
from .semantic import load_parser, semantic_features, semantic_histogram

PARSER_FILE = "cheng_parser.safetensors"
CLUSTERS_FILE = "cheng_clusters.safetensors"
REFINE_SIGMA_SPATIAL = 3.0
REFINE_SIGMA_RANGE = 0.08


def network_file(groups: Sequence[str]) -> str:
    """``cheng_mlp_patch.safetensors``, ``..._patch_daisy``, ``..._patch_daisy_semantic``."""
    return "cheng_mlp_" + "_".join(check_groups(groups)) + ".safetensors"


def compute_features(gray: np.ndarray, parser, groups: Sequence[str] = FEATURE_GROUPS):
    """``(features H x W x D, semantic H x W x K or None)`` for the chosen groups."""
    groups = check_groups(groups)
    semantic = semantic_features(gray, parser) if "semantic" in groups else None
    return pixel_features(gray, groups, semantic), semantic


def build_training_set(
    photos_rgb: Sequence[np.ndarray],
    parser,
    per_image: int = 2000,
    seed: int = 0,
    names: Sequence[str] | None = None,
    progress: bool = True,
) -> TrainingSet:
    """Sample ``per_image`` pixels per photo with all three feature groups (114 dims),
    plus each photo's gist and semantic histogram (for Algorithm 3)."""
    rng = np.random.default_rng(seed)
    feats, uvs, grays, rgbs, ids, gists, hists = [], [], [], [], [], [], []
    photos_rgb = list(photos_rgb)
    if not photos_rgb:
        raise ValueError("no training photos given")
    for i, rgb in enumerate(tqdm(photos_rgb, desc="training features", disable=not progress, leave=False)):
        rgb = np.asarray(rgb, np.float32)
        gray = rgb_to_gray(rgb).astype(np.float32)
        f, sem = compute_features(gray, parser, FEATURE_GROUPS)
        idx = sample_pixels(*gray.shape, per_image, rng)
        feats.append(f.reshape(-1, f.shape[-1])[idx])
        flat_rgb = rgb.reshape(-1, 3)[idx]
        uvs.append(rgb_to_yuv(flat_rgb)[:, 1:].astype(np.float32))
        grays.append(gray.reshape(-1)[idx])
        rgbs.append(flat_rgb)
        ids.append(np.full(len(idx), i, np.int32))
        gists.append(gist(gray))
        hists.append(semantic_histogram(sem))
    return TrainingSet(
        np.concatenate(feats), np.concatenate(uvs), np.concatenate(grays), np.concatenate(rgbs),
        np.concatenate(ids), np.stack(gists), np.stack(hists),
        list(names) if names is not None else [str(i) for i in range(len(photos_rgb))],
    )


def feature_columns(groups: Sequence[str], n_classes: int = 33) -> np.ndarray:
    """Column indices of ``groups`` inside the full 114-dim training feature."""
    groups = check_groups(groups)
    spans = {"patch": (0, 49), "daisy": (49, 81), "semantic": (81, 81 + n_classes)}
    return np.concatenate([np.arange(*spans[g]) for g in groups])


class ChengColorizer:
    """``colorizer(gray H x W) -> rgb H x W x 3``, Cheng et al.'s method.

    ``groups``: feature groups of the single network (the ablation); ``clustering``: use the
    adaptive-clustering networks instead (full features); ``refine``: joint bilateral filter.
    Models default to the ones in ``models/``; any of them can be passed in directly.
    """

    def __init__(
        self,
        models: str | Path | None = None,
        refine: bool = True,
        clustering: bool = False,
        groups: Sequence[str] = FEATURE_GROUPS,
        sigma_spatial: float = REFINE_SIGMA_SPATIAL,
        sigma_range: float = REFINE_SIGMA_RANGE,
        parser=None,
        network: PixelColorizer | None = None,
        clusters: ClusteredColorizer | None = None,
    ):
        folder = Path(models) if models is not None else models_dir()
        self.refine, self.clustering = refine, clustering
        self.sigma_spatial, self.sigma_range = sigma_spatial, sigma_range
        self.groups = check_groups(groups)
        if clustering:
            self.clusters = clusters or ClusteredColorizer.load(folder / CLUSTERS_FILE)
            self.groups = self.clusters.clusters[0].network.groups
            self.network = None
        else:
            self.clusters = None
            self.network = network or PixelColorizer.load(folder / network_file(self.groups))
            if self.network.groups != self.groups:
                raise ValueError(f"the network was trained on {self.network.groups}, not {self.groups}")
        needs_parser = "semantic" in self.groups or clustering
        self.parser = parser if parser is not None else (load_parser(folder / PARSER_FILE) if needs_parser else None)
        self.__name__ = self.describe()

    def describe(self) -> str:
        name = "cheng " + "+".join(self.groups)
        if self.clustering:
            name += " +clustering"
        if self.refine:
            name += " +refine"
        return name

    def predict(self, gray: np.ndarray) -> tuple[np.ndarray, dict]:
        """``(uv H x W x 2, seconds per stage)``; ``uv`` is refined when ``self.refine``."""
        gray = check_gray(gray)
        times = {}
        t = time.perf_counter()
        semantic = None
        if "semantic" in self.groups or self.clustering:
            semantic = semantic_features(gray, self.parser)
        times["parser"] = time.perf_counter() - t
        t = time.perf_counter()
        network = self.network
        if self.clustering:
            index = self.clusters.choose(gist(gray), semantic_histogram(semantic))
            network = self.clusters.clusters[index].network
        times["clustering"] = time.perf_counter() - t
        # Features and network a band of rows at a time: the whole H x W x 114 feature array
        # (0.5 GB a megapixel) is never held, and each band is still warm in the cache when the
        # network reads it.
        uv = np.empty(gray.shape + (2,), np.float32)
        times["features"] = times["network"] = 0.0
        t = time.perf_counter()
        for rows, band in feature_bands(gray, self.groups, semantic):
            t_net = time.perf_counter()
            times["features"] += t_net - t
            uv[rows] = network.predict(band)
            t = time.perf_counter()
            times["network"] += t - t_net
        t = time.perf_counter()
        if self.refine:
            # OpenCV's run of the filter lesson 05 builds (colorcourse.cheng.bilateral): same numbers
            uv = fast.joint_bilateral_filter(uv, gray, self.sigma_spatial, self.sigma_range)
        times["refine"] = time.perf_counter() - t
        return uv, times

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        uv, _ = self.predict(gray)
        return merge_y_uv(check_gray(gray), uv)

    def predict_many(self, grays: Sequence[np.ndarray], workers: int | None = None, progress: bool = False):
        """``predict`` on several photos, ``workers`` at a time (default: one per CPU core).

        Yields ``(uv, seconds per stage)`` in the order of ``grays``. The models are shared, not
        copied: every stage only reads them. Most of the pipeline is NumPy, OpenCV and torch
        work on whole images, which releases Python's lock, so two photos in two threads use
        two cores where one photo alone leaves one idle (the domain transform and the feature
        stacking run on one core). Memory: ``workers`` photos' features at once (about 0.5 GB
        per megapixel).
        """
        from concurrent.futures import ThreadPoolExecutor

        grays = list(grays)
        workers = max(1, min(workers or os.cpu_count() or 1, len(grays) or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = pool.map(self.predict, grays)
            yield from tqdm(results, total=len(grays), desc="Cheng et al.", unit="photo", disable=not progress)


GAINS = tuple(np.round(np.arange(0.0, 1.51, 0.1), 2))


def best_gain(uv_pred: np.ndarray, held_out: TrainingSet, gains: Sequence[float] = GAINS) -> tuple[float, dict]:
    """The chroma gain ``g`` (``uv = g * network``) with the best mean per-photo PSNR on held-out pixels.

    Least squares on ~200 photos over-trusts its features: on unseen photos a slightly damped
    chroma scores better. This is chosen on the *validation* split, never on test.
    Returns ``(gain, {gain: mean PSNR})``.
    """
    scores = {}
    photos = np.unique(held_out.image_id)
    for g in gains:
        per_photo = [
            pixel_psnr(held_out.gray[m], g * uv_pred[m], held_out.rgb[m])
            for m in (held_out.image_id == i for i in photos)
        ]
        scores[float(g)] = float(np.mean(per_photo))
    return max(scores, key=scores.get), scores


def calibrate_gain(network: PixelColorizer, held_out: TrainingSet, n_classes: int = 33) -> dict:
    """Set ``network.gain`` from held-out pixels (114-dim features); returns the PSNR per gain."""
    network.gain = 1.0
    cols = feature_columns(network.groups, n_classes)
    gain, scores = best_gain(network.predict(held_out.features[:, cols]), held_out)
    network.gain = gain
    return scores


def calibrate_cluster_gain(clusters: ClusteredColorizer, held_out: TrainingSet) -> dict:
    """One gain for every cluster network, each held-out photo colorized by the network it would get."""
    uv = np.zeros_like(held_out.uv)
    for c in clusters.clusters:
        c.network.gain = 1.0
    for i in np.unique(held_out.image_id):
        chosen = clusters.choose(held_out.gists[i], held_out.histograms[i])
        m = held_out.image_id == i
        uv[m] = clusters.clusters[chosen].network.predict(held_out.features[m])
    gain, scores = best_gain(uv, held_out)
    for c in clusters.clusters:
        c.network.gain = gain
    return scores

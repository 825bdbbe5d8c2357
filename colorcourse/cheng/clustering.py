"""Adaptive image clustering (Algorithm 3 of Cheng et al.): one network per scene cluster.

Taught in notebooks/04_cheng_clustering.ipynb.

A single per-pixel network sees only a local neighbourhood, so the same gray texture that is
green in a park and brown in a desert gets one averaged color. Algorithm 3 splits the training
photos by their global look (the gist descriptor) and trains a network per cluster:

1. k-means of the gist descriptors into ``N^0`` clusters (the top layer, ``l = 0``);
2. train one network per cluster; measure each photo's training PSNR; photos the network
   already colorizes well (PSNR above ``threshold_db``, i.e. ``E = -PSNR <= epsilon``) are removed;
3. the photos that remain are clustered again on the next layer into ``size / mu`` clusters,
   ``mu = alpha * N_w / N_s`` (Eq. 3: enough photos to fit ``N_w`` weights with ``N_s`` sampled
   pixels per photo); repeat while at least ``mu`` photos remain.

At test time (Sec. III-C.1): the ``top_k`` clusters (of every layer) nearest by gist distance,
then among them the one whose semantic histogram has the highest cosine similarity with the
image's.

Scaling to the course pack (the paper: 2,344 photos, ``N^0 = 24``, ``mu = 80``, 26 dB):
about 200 training photos, so ``N^0 = 3`` (~65 photos per top cluster, close to the paper's
~100) and ``alpha`` chosen so that ``mu`` is about 50 photos (``alpha = 8`` with 2,000 pixels
per photo and the 13,283-weight network). The training PSNR of a photo is measured on its
sampled training pixels (an unbiased estimate of its per-pixel squared error) instead of
colorizing the whole photo again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..color import RGB_FROM_YUV
from .mlp import ChengMLP, PixelColorizer, train_pixel_colorizer

KIND = "cheng-clusters"
PAPER = {"n_top": 24, "mu": 80, "threshold_db": 26.0, "n_train": 2344}


class EmptyClusterError(ValueError):
    """A cluster has no training photos (or no pixels), so no network can be trained for it."""


def minimal_images(n_weights: int, samples_per_image: int, alpha: float) -> int:
    """Eq. 3: ``mu = alpha * N_w / N_s``, the fewest photos one network should be trained on."""
    if samples_per_image <= 0 or alpha <= 0:
        raise ValueError("samples_per_image and alpha must be positive")
    return max(1, math.ceil(alpha * n_weights / samples_per_image))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of ``b`` (``K``) with each row of ``a`` (``C x K``)."""
    a = np.atleast_2d(np.asarray(a, np.float64))
    b = np.asarray(b, np.float64)
    return (a @ b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b) + 1e-12)


def pixel_psnr(gray: np.ndarray, uv_pred: np.ndarray, rgb_true: np.ndarray) -> float:
    """PSNR (uint8 RGB, like :func:`colorcourse.metrics.psnr`) over a set of pixels.

    ``gray``: ``N``, ``uv_pred``: ``N x 2``, ``rgb_true``: ``N x 3`` in [0, 1].
    """
    yuv = np.concatenate([np.asarray(gray, np.float64)[:, None], uv_pred], axis=1)
    pred = np.clip(yuv @ RGB_FROM_YUV.T, 0, 1)
    q = lambda x: np.round(np.clip(x, 0, 1) * 255.0)  # noqa: E731 (as imageio.to_uint8)
    mse = np.mean((q(pred) - q(np.asarray(rgb_true, np.float64))) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


@dataclass
class TrainingSet:
    """Pixels sampled from the training photos, with what Algorithm 3 needs per photo."""

    features: np.ndarray  # N x D
    uv: np.ndarray  # N x 2 (targets)
    gray: np.ndarray  # N (Y at the sampled pixels)
    rgb: np.ndarray  # N x 3 (ground truth at the sampled pixels)
    image_id: np.ndarray  # N, index into the photo list
    gists: np.ndarray  # P x G
    histograms: np.ndarray  # P x K semantic histograms
    names: list[str] = field(default_factory=list)

    def subset(self, images: np.ndarray) -> np.ndarray:
        """Boolean mask of the pixels that belong to ``images``."""
        return np.isin(self.image_id, images)


@dataclass
class Cluster:
    layer: int
    center: np.ndarray  # G: gist centroid
    histogram: np.ndarray  # K: the semantic histogram of its photos
    members: list[int]
    network: PixelColorizer
    train_psnr: dict[int, float] = field(default_factory=dict)


@dataclass
class ClusteredColorizer:
    """The network assemble Phi and cluster hierarchy Omega of Algorithm 3."""

    clusters: list[Cluster]
    top_k: int = 2
    settings: dict = field(default_factory=dict)

    def choose(self, gist_vector: np.ndarray, histogram: np.ndarray) -> int:
        """Index of the cluster for an image: ``top_k`` by gist distance, then by histogram cosine."""
        if not self.clusters:
            raise EmptyClusterError("the clustered colorizer holds no clusters")
        centers = np.stack([c.center for c in self.clusters])
        dist = np.linalg.norm(centers - np.asarray(gist_vector)[None], axis=1)
        nearest = np.argsort(dist, kind="stable")[: self.top_k]
        hists = np.stack([self.clusters[i].histogram for i in nearest])
        return int(nearest[np.argmax(cosine_similarity(hists, histogram))])

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        tensors = {}
        layout = []
        for i, c in enumerate(self.clusters):
            net = c.network
            for k, v in net.model.state_dict().items():
                tensors[f"c{i}.{k}"] = v
            tensors[f"c{i}.norm.mean"] = torch.from_numpy(net.mean.astype(np.float32))
            tensors[f"c{i}.norm.std"] = torch.from_numpy(net.std.astype(np.float32))
            tensors[f"c{i}.center"] = torch.from_numpy(np.asarray(c.center, np.float32))
            tensors[f"c{i}.histogram"] = torch.from_numpy(np.asarray(c.histogram, np.float32))
            layout.append({"layer": c.layer, "members": len(c.members), "gain": float(net.gain)})
        first = self.clusters[0].network
        config = first.config() | {
            "clusters": layout,
            "top_k": self.top_k,
            "settings": self.settings,
        }
        return save_checkpoint(path, tensors, config, KIND, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> "ClusteredColorizer":
        tensors, config = load_checkpoint(path, KIND)
        clusters = []
        try:
            for i, info in enumerate(config["clusters"]):
                model = ChengMLP(config["in_dim"], config["hidden"], config["n_hidden"])
                prefix = f"c{i}."
                state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix + "net.")}
                model.load_state_dict(state, strict=True)
                net = PixelColorizer(
                    model,
                    tensors[prefix + "norm.mean"].numpy(),
                    tensors[prefix + "norm.std"].numpy(),
                    tuple(config["groups"]),
                    config.get("n_classes", 33),
                    gain=float(info.get("gain", 1.0)),
                )
                clusters.append(Cluster(info["layer"], tensors[prefix + "center"].numpy(),
                                        tensors[prefix + "histogram"].numpy(), [], net))
        except (KeyError, RuntimeError) as e:
            raise CheckpointError(f"{path} does not fit the clustered Cheng networks: {e}") from None
        return cls(clusters, config.get("top_k", 2), config.get("settings", {}))


def adaptive_clustering(
    data: TrainingSet,
    groups,
    n_top: int = 3,
    mu: int = 50,
    threshold_db: float = 26.0,
    max_layers: int = 3,
    top_k: int = 2,
    seed: int = 0,
    train_kwargs: dict | None = None,
    progress: bool = True,
) -> ClusteredColorizer:
    """Algorithm 3 on a :class:`TrainingSet`; returns the trained cluster hierarchy."""
    from sklearn.cluster import KMeans

    train_kwargs = dict(train_kwargs or {})
    n_images = len(data.gists)
    if n_images == 0:
        raise EmptyClusterError("no training photos to cluster")
    if n_top > n_images:
        raise EmptyClusterError(f"{n_top} top-layer clusters need at least {n_top} photos, got {n_images}")
    remaining = np.arange(n_images)
    clusters: list[Cluster] = []
    layer = 0
    # while size(Lambda) >= mu  (the top layer always runs: it holds every photo)
    while layer < max_layers and (layer == 0 or len(remaining) >= mu):
        n_clusters = n_top if layer == 0 else max(1, len(remaining) // mu)
        km = KMeans(n_clusters=n_clusters, n_init=4, random_state=seed + layer).fit(data.gists[remaining])
        removed = []
        for c in tqdm(range(n_clusters), desc=f"layer {layer}", disable=not progress, leave=False):
            members = remaining[km.labels_ == c]
            mask = data.subset(members)
            if len(members) == 0 or not mask.any():
                raise EmptyClusterError(
                    f"cluster {c} on layer {layer} has no training photos; use fewer clusters "
                    f"(n_top={n_top}, mu={mu}) for {len(remaining)} photos"
                )
            net = train_pixel_colorizer(
                data.features[mask], data.uv[mask], groups, seed=seed + 100 * layer + c,
                progress=False, **train_kwargs,
            )
            pred = net.predict(data.features[mask])
            ids = data.image_id[mask]
            scores = {}
            for m in members:
                sel = ids == m
                scores[int(m)] = pixel_psnr(data.gray[mask][sel], pred[sel], data.rgb[mask][sel])
            hist = data.histograms[members].mean(axis=0)
            clusters.append(Cluster(layer, km.cluster_centers_[c], hist, [int(m) for m in members], net, scores))
            # E(I) = -PSNR <= epsilon = -threshold: well colorized already, remove
            removed += [m for m, p in scores.items() if p >= threshold_db]
        remaining = np.setdiff1d(remaining, removed)
        layer += 1
    settings = {"n_top": n_top, "mu": mu, "threshold_db": threshold_db, "max_layers": max_layers}
    return ClusteredColorizer(clusters, top_k, settings)

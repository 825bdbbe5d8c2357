"""Figures the lessons need to tell the truth about what they show, and the numbers behind them.

Taught in notebooks/02 to 08. Each helper either computes the numbers a figure shows (tested by
pytest against an independent reference or a known input) or draws them and returns the figure:

- :func:`strongest_edge_pixel`: where a local feature has something to see (lesson 02);
- :func:`pca_rgb`, :func:`class_map_panel`: feature and class maps with what their colors mean (02);
- :func:`chroma_maps`: U, V maps on one colour scale with its colorbar (03);
- :func:`pixel_learning_curves`: lesson 03's training with a validation loss after every epoch;
- :func:`busiest_window`, :func:`zoom_panel`: zoomed crops where a change is largest (05);
- :func:`leak_guide`, :func:`leak_study`: the refinement with an honest and a leaking guide (05);
- :func:`interval_plot`: means with their 95 % intervals, one row each (04, 07);
- :func:`global_vectors`, :func:`pairwise_distances`: how far apart global vectors are (08).
"""

from __future__ import annotations

import textwrap
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from scipy import ndimage

from .color import merge_y_uv, rgb_to_gray, rgb_to_yuv
from .metrics import psnr

# ---------------------------------------------------------------- lesson 02: features


def strongest_edge_pixel(gray: np.ndarray, margin: int = 3) -> tuple[int, int]:
    """``(y, x)`` of the pixel with the largest gray gradient magnitude (Sobel), at least
    ``margin`` pixels from the border: a pixel whose 7 x 7 patch holds an edge, not flat sky."""
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2:
        raise ValueError(f"gray must be H x W, got shape {gray.shape}")
    if min(gray.shape) <= 2 * margin:
        raise ValueError(f"a {gray.shape} image has no pixel {margin} px away from every border")
    magnitude = np.hypot(ndimage.sobel(gray, axis=0), ndimage.sobel(gray, axis=1))
    inner = magnitude[margin : gray.shape[0] - margin, margin : gray.shape[1] - margin]
    y, x = np.unravel_index(np.argmax(inner), inner.shape)
    return int(y + margin), int(x + margin)


def pca_rgb(features: np.ndarray, n_components: int = 3, max_samples: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """``H x W x D`` -> (``H x W x 3`` image in [0, 1], explained variance ratio of the 3 components).

    Red, green, blue = the first, second, third principal component of the D channels (fitted on
    at most ``max_samples`` pixels, every k-th), each stretched from its 1st to 99th percentile.
    """
    features = np.asarray(features)
    if features.ndim != 3 or features.shape[-1] < n_components:
        raise ValueError(f"need H x W x D features with D >= {n_components}, got {features.shape}")
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    mean = flat.mean(axis=0)
    sample = flat[:: max(1, len(flat) // max_samples)] - mean
    _, s, vt = np.linalg.svd(sample, full_matrices=False)
    explained = (s**2 / np.sum(s**2))[:n_components]
    proj = (flat - mean) @ vt[:n_components].T
    lo, hi = np.percentile(proj, 1, axis=0), np.percentile(proj, 99, axis=0)
    rgb = np.clip((proj - lo) / (hi - lo + 1e-12), 0, 1).reshape(features.shape[:2] + (n_components,))
    return rgb, explained


def pca_title(name: str, explained: np.ndarray) -> str:
    """``"name: R = PC1 (40 %), G = PC2 (..."``: what the channels of a :func:`pca_rgb` image are."""
    parts = [f"{c} = PC{i + 1} ({100 * v:.0f} %)" for i, (c, v) in enumerate(zip("RGB", explained))]
    return f"{name}\n" + ", ".join(parts) + " of the variance"


def class_colormap(n_classes: int) -> ListedColormap:
    """``n_classes`` distinct colors (tab20 then tab20b; beyond 40 they repeat)."""
    colors = list(plt.get_cmap("tab20").colors) + list(plt.get_cmap("tab20b").colors)
    return ListedColormap([colors[i % len(colors)] for i in range(n_classes)], name=f"classes{n_classes}")


def class_map_panel(gray, probs, sigma_spatial=10.0, sigma_range=0.2):
    """Most likely class before and after the domain-transform smoothing, one color per class
    index with a colorbar. Returns ``(figure, fraction of the pixels whose class changed)``."""
    from .cheng.semantic import domain_transform_filter

    probs = np.asarray(probs)
    smooth = domain_transform_filter(probs, gray, sigma_spatial, sigma_range)
    before, after = probs.argmax(-1), smooth.argmax(-1)
    k = probs.shape[-1]
    cmap = class_colormap(k)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    axes[0].imshow(gray, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("gray input")
    for ax, labels, title in ((axes[1], before, "parser: most likely class"),
                              (axes[2], after, f"after domain transform (s={sigma_spatial:g}, r={sigma_range:g})")):
        image = ax.imshow(labels, cmap=cmap, vmin=-0.5, vmax=k - 0.5, interpolation="nearest")
        ax.set_title(title)
    for ax in axes:
        ax.axis("off")
    bar = fig.colorbar(image, ax=axes[1:], shrink=0.9, ticks=range(0, k, max(1, k // 11)))
    bar.set_label(f"class index (of {k}; pseudo-classes have no names)")
    return fig, float((before != after).mean())


# ---------------------------------------------------------------- lesson 03: chroma and training


def chroma_maps(uv: np.ndarray, true_rgb: np.ndarray | None = None, limit: float = 0.3):
    """U and V as images on one diverging scale [-limit, limit] with a colorbar (predicted, and
    the truth's when given). Returns the figure."""
    rows = [("predicted", np.asarray(uv))]
    if true_rgb is not None:
        rows.append(("ground truth", rgb_to_yuv(np.asarray(true_rgb, dtype=np.float32))[..., 1:]))
    fig, axes = plt.subplots(len(rows), 2, figsize=(9, 3.3 * len(rows)), squeeze=False, layout="constrained")
    for r, (name, maps) in enumerate(rows):
        for c, label in enumerate(("U (blue - luma)", "V (red - luma)")):
            image = axes[r, c].imshow(maps[..., c], cmap="coolwarm", vmin=-limit, vmax=limit)
            axes[r, c].set_title(f"{name} {label}")
            axes[r, c].axis("off")
    fig.colorbar(image, ax=axes, shrink=0.8, label="chroma value (0 = gray)")
    return fig


def pixel_learning_curves(features, uv, val_features, val_uv, groups, n_classes: int = 33, epochs: int = 4,
                          batch_size: int = 1024, lr: float = 2e-3, seed: int = 0):
    """Lesson 03's training (:func:`colorcourse.cheng.mlp.train_pixel_colorizer`, same seed, same
    batches, same weights) that also measures the held-out loss after every epoch.

    Returns ``(network, train_loss, val_loss)``: the losses are the mean squared UV error per
    pixel, the training one averaged over the epoch's batches (as the network's ``history``), the
    validation one of the network at the epoch's end on ``val_features`` / ``val_uv``.
    """
    from .cheng.mlp import train_pixel_colorizer

    network = train_pixel_colorizer(features, uv, groups, n_classes, epochs=epochs, batch_size=batch_size, lr=lr,
                                    seed=seed, progress=False, validation=(val_features, val_uv))
    return network, network.history, network.val_history


def learning_curve_figure(train_loss: Sequence[float], val_loss: Sequence[float], ax=None):
    """Training and validation loss per epoch, epochs on integer ticks (1, 2, ...)."""
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    epochs = np.arange(1, len(train_loss) + 1)
    ax.plot(epochs, train_loss, "o-", label="training pixels (mean over the epoch)")
    ax.plot(epochs, val_loss, "s--", label="validation photos' pixels (end of epoch)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared UV error per pixel")
    ax.legend()
    return ax.figure


# ---------------------------------------------------------------- lesson 05: where a change happens


def uv_change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|a - b|`` per pixel of two ``H x W x 2`` chroma images (Euclidean over U, V)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 3 or a.shape[-1] != 2:
        raise ValueError(f"need two H x W x 2 chroma images of one shape, got {a.shape} and {b.shape}")
    return np.sqrt(((a - b) ** 2).sum(-1))


def busiest_window(weight: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left ``(y, x)`` of the ``size x size`` window with the largest sum of ``weight``
    (first such window in row-major order; by an integral image, O(H W))."""
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != 2:
        raise ValueError(f"weight must be H x W, got shape {weight.shape}")
    if not 1 <= size <= min(weight.shape):
        raise ValueError(f"window size must be in 1..{min(weight.shape)}, got {size}")
    integral = np.pad(weight, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    sums = integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size] + integral[:-size, :-size]
    y, x = np.unravel_index(np.argmax(sums), sums.shape)
    return int(y), int(x)


def zoom_panel(images: Mapping[str, np.ndarray], change: np.ndarray, size: int = 48,
               change_label: str = "|delta uv|"):
    """Top: the first image whole and the ``change`` map (colorbar), both with a box on the
    ``size x size`` window where ``change`` is largest; bottom: every image cropped to that box.

    Returns ``(figure, (y, x))`` (the box's top-left corner).
    """
    names = list(images)
    if not names:
        raise ValueError("no images to show")
    size = min(size, *np.shape(change))
    y, x = busiest_window(change, size)
    fig = plt.figure(figsize=(3.6 * max(3, len(names)), 7.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    whole, changes = top.subplots(1, 2)
    whole.imshow(np.clip(images[names[0]], 0, 1))
    whole.set_title(short_title(f"{names[0]} (whole photo)", 40), fontsize=10)
    shown = changes.imshow(change, cmap="magma", vmin=0)
    changes.set_title(short_title(f"{change_label} (max {np.max(change):.3f})", 40), fontsize=10)
    top.colorbar(shown, ax=changes, shrink=0.9)
    for ax in (whole, changes):
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), size, size, fill=False, edgecolor="cyan", linewidth=2))
    crops = np.atleast_1d(bottom.subplots(1, len(names)))
    for ax, name in zip(crops, names):
        ax.imshow(np.clip(images[name][y : y + size, x : x + size], 0, 1), interpolation="nearest")
        ax.set_title(short_title(name, 30) + f"\n(the box, {size} x {size} px, enlarged)", fontsize=10)
    for ax in (whole, changes, *crops):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, (y, x)


def leak_guide(true_rgb: np.ndarray) -> np.ndarray:
    """The *wrong* guide of lesson 05: the true V channel stretched to [0, 1]. It tells the filter
    where the real color edges are, which a colorizer is never given."""
    v = rgb_to_yuv(np.asarray(true_rgb, dtype=np.float32))[..., 2]
    return ((v - v.min()) / (np.ptp(v) + 1e-9)).astype(np.float32)


def leak_study(photos, predict_uv, sigma_spatial: float, sigma_range: float) -> pd.DataFrame:
    """Per-photo PSNR of a colorizer's raw chroma, refined with the gray guide, and refined with
    the leaking guide (:func:`leak_guide`): rows as :func:`colorcourse.metrics.evaluate`'s
    (``method``, ``photo``, ``psnr``), for :func:`colorcourse.metrics.paired_difference`.

    ``predict_uv(photo) -> H x W x 2``: the unrefined chroma of the photo's gray image (e.g. from
    ``ChengColorizer(refine=False).predict``, or a dict lookup of chroma predicted once).
    """
    from .cheng.bilateral import joint_bilateral_filter

    rows = []
    for photo in photos:
        gray = rgb_to_gray(photo.rgb).astype(np.float32)
        uv = np.asarray(predict_uv(photo), dtype=np.float32)
        versions = {
            "network output": uv,
            "refined, gray guide": joint_bilateral_filter(uv, gray, sigma_spatial, sigma_range),
            "refined, true-V guide (LEAK)": joint_bilateral_filter(uv, leak_guide(photo.rgb), sigma_spatial, sigma_range),
        }
        for method, chroma in versions.items():
            rows.append({"method": method, "photo": photo.name, "psnr": psnr(merge_y_uv(gray, chroma), photo.rgb)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- intervals


def interval_plot(labels: Sequence[str], means, lows, highs, ax=None, xlabel: str = "dPSNR (dB)",
                  reference: float = 0.0):
    """One row per label: the mean as a dot and its interval as a bar, a line at ``reference``."""
    means, lows, highs = (np.asarray(v, dtype=float) for v in (means, lows, highs))
    if not len(labels) == len(means) == len(lows) == len(highs):
        raise ValueError("labels, means, lows and highs must have one entry per row")
    if np.any(lows > means) or np.any(highs < means):
        raise ValueError("each interval must contain its mean")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 * len(labels) + 1.2), layout="constrained")
    rows = np.arange(len(labels))[::-1]
    ax.errorbar(means, rows, xerr=[means - lows, highs - means], fmt="o", capsize=4)
    ax.axvline(reference, color="k", ls="--", lw=1)
    ax.set_yticks(rows, [textwrap.fill(str(label), 40) for label in labels])
    ax.set_xlabel(xlabel)
    return ax.figure


# ---------------------------------------------------------------- lesson 08: global vectors


def global_vectors(model, grays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One row per image: the fusion model's global vector (from the gray image)."""
    from .fusion.infer import global_vector

    rows = {name: np.asarray(global_vector(model, g)).reshape(-1) for name, g in grays.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def pairwise_distances(vectors: pd.DataFrame) -> pd.DataFrame:
    """Euclidean distance between every two rows (a symmetric table with zeros on the diagonal)."""
    v = vectors.to_numpy(dtype=np.float64)
    d = np.sqrt(np.maximum(((v[:, None] - v[None]) ** 2).sum(-1), 0.0))
    return pd.DataFrame(d, index=vectors.index, columns=vectors.index)


def short_title(text: str, width: int = 24) -> str:
    """``text`` wrapped to lines of at most ``width`` characters (gallery titles that do not overlap)."""
    return "\n".join(textwrap.wrap(str(text), width, break_long_words=True, break_on_hyphens=True)) or str(text)


def style_gallery_figure(gallery: Mapping[str, np.ndarray], styles: Mapping[str, np.ndarray], gray: np.ndarray,
                         captions: Mapping[str, str] | None = None, size: float = 3.0):
    """Lesson 08's gallery without overlapping titles: top row the style images, bottom row the
    gray input, the photo's own colorization and one result per style; titles wrapped, an
    optional caption (e.g. the measured change) under each result."""
    names = list(gallery)
    cols = len(names) + 1
    fig, axes = plt.subplots(2, cols, figsize=(size * cols, 2 * size + 1.2), layout="constrained", squeeze=False)
    axes[1, 0].imshow(np.repeat(np.clip(gray, 0, 1)[..., None], 3, axis=-1))
    axes[1, 0].set_title("gray input")
    for i, name in enumerate(names, start=1):
        axes[1, i].imshow(np.clip(gallery[name], 0, 1))
        title = "own global features" if name == "own" else f"with style {i - 1}"
        if captions and name in captions:
            title += "\n" + captions[name]
        axes[1, i].set_title(title, fontsize=9)
        if name in styles:
            axes[0, i].imshow(np.clip(styles[name], 0, 1) if np.ndim(styles[name]) == 3 else styles[name], cmap="gray")
            axes[0, i].set_title(f"style {i - 1}: " + short_title(name), fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    return fig


# ---------------------------------------------------------------- lesson 04: which cluster


def cluster_choice_figure(photo_rgb: np.ndarray, chosen: int, members_rgb: Sequence[np.ndarray],
                          distances: Sequence[float], nearest: Sequence[int], n_show: int = 5, title: str = ""):
    """The test photo, then ``n_show`` training photos of the cluster Algorithm 3 chose for it,
    and a bar per cluster: its gist distance (the ``nearest`` ones, the top-k, in orange; the
    chosen one hatched)."""
    n_show = min(n_show, len(members_rgb))
    fig = plt.figure(figsize=(3.0 * (n_show + 1), 5.8), layout="constrained")
    grid = fig.add_gridspec(2, n_show + 1, height_ratios=[1.2, 1])
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(np.clip(photo_rgb, 0, 1))
    ax.set_title(short_title(title or "test photo", 28), fontsize=9)
    ax.axis("off")
    for k in range(n_show):
        ax = fig.add_subplot(grid[0, k + 1])
        ax.imshow(np.clip(members_rgb[k], 0, 1))
        ax.set_title(f"cluster {chosen}: training photo {k + 1}", fontsize=9)
        ax.axis("off")
    bars = fig.add_subplot(grid[1, :])
    colors = ["tab:orange" if i in set(nearest) else "tab:gray" for i in range(len(distances))]
    drawn = bars.bar(range(len(distances)), distances, color=colors)
    drawn[chosen].set_hatch("//")
    drawn[chosen].set_edgecolor("k")
    bars.set_xticks(range(len(distances)), [f"cluster {i}" for i in range(len(distances))])
    bars.set_ylabel("gist distance to the photo")
    bars.set_title(f"orange: the {len(nearest)} nearest by gist (top-k); hatched: chosen by the semantic histogram "
                   f"(cluster {chosen})", fontsize=10)
    return fig

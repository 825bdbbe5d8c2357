"""Style transfer: colorize one photo with the global features of another.

Taught in notebooks/08_style_transfer.ipynb.

The fusion layer joins a global vector to every position of the local features. Nothing forces
that vector to come from the same photo: computing it from a *style* image makes the network
colorize the content photo "as if it were" the style image's kind of scene (the paper's
example: a daytime landscape colorized with the global features of a sunset).

The style image contributes only its luminance (the network never sees color), so a gray style
image works exactly like its color original. These functions are what the lesson's widget calls.
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from colorcourse.color import gray_to_rgb, rgb_to_gray
from colorcourse.fusion.infer import colorize, global_vector
from colorcourse.fusion.model import FusionNet


def _check_has_global(model: FusionNet) -> None:
    if model.global_net is None:
        raise ValueError("style transfer needs a model with global features (use_global=True)")


def style_gallery(model: FusionNet, gray: np.ndarray, styles: Mapping[str, np.ndarray],
                  include_own: bool = True) -> dict[str, np.ndarray]:
    """``{style name: rgb}``: ``gray`` colorized with each style image's global features.

    ``include_own`` adds ``"own"``: the plain colorization (the photo is its own style).
    """
    _check_has_global(model)
    out = {"own": colorize(model, gray)} if include_own else {}
    for name, style in styles.items():
        out[name] = colorize(model, gray, style_image=style)
    return out


def style_distance(model: FusionNet, a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two images' global vectors (how different their "styles" are)."""
    _check_has_global(model)
    to_gray = lambda x: rgb_to_gray(x) if np.asarray(x).ndim == 3 else x  # noqa: E731
    va, vb = global_vector(model, to_gray(a)), global_vector(model, to_gray(b))
    return float((va - vb).norm())


def show_style_gallery(gallery: Mapping[str, np.ndarray], styles: Mapping[str, np.ndarray] | None = None,
                       gray: np.ndarray | None = None, size: float = 2.6):
    """A figure: the gray input, then each colorization (with its style image above, if given)."""
    names = list(gallery)
    rows = 2 if styles else 1
    cols = len(names) + (gray is not None)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    col = 0
    if gray is not None:
        axes[-1, 0].imshow(gray_to_rgb(gray))
        axes[-1, 0].set_title("gray input")
        col = 1
    for i, name in enumerate(names):
        axes[-1, col + i].imshow(np.clip(gallery[name], 0, 1))
        axes[-1, col + i].set_title(f"style: {name}")
        if styles and name in styles:
            style = np.asarray(styles[name])
            axes[0, col + i].imshow(style if style.ndim == 3 else gray_to_rgb(style))
            axes[0, col + i].set_title(f"style image {name}")
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig


def style_view(model: FusionNet, gray: np.ndarray, styles: Mapping[str, np.ndarray], style_name: str):
    """The widget's view: content, chosen style image, result. ``style_name="own"``: no style."""
    if style_name != "own" and style_name not in styles:
        raise KeyError(f"unknown style {style_name!r}; choose one of {['own', *styles]}")
    result = colorize(model, gray, style_image=None if style_name == "own" else styles[style_name])
    gallery = {style_name: result}
    return show_style_gallery(gallery, {k: v for k, v in styles.items() if k == style_name} or None, gray)

"""A diagram of the fusion network, drawn from :data:`~colorcourse.fusion.model.LAYER_TABLE`.

Taught in notebooks/06_fusion_cnn.ipynb ("the architecture, layer by layer").

Every channel count, fully connected size and output stride in the picture is read from
``LAYER_TABLE`` through :func:`~colorcourse.fusion.model.scaled`, so the drawing cannot drift from
the network that :class:`~colorcourse.fusion.model.FusionNet` builds: change the table (or the
``width``) and the boxes change with it. ``tests/test_fusion_diagram.py`` reads the labels back
from the figure.

Layout: the local path runs along the bottom (gray input -> low-level -> mid-level -> fusion ->
colorization -> output), the global path along the top (a 224 x 224 resize -> the *same*
low-level network -> global convolutions -> fully connected layers -> the global vector), the
classification head hangs off the global network's second fully connected layer, and the fusion
layer tiles the global vector over every position of the mid-level map.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from colorcourse.fusion.model import DOWNSAMPLE, GLOBAL_SIZE, LAYER_TABLE, scaled

# fill colors per kind of block
_COLORS = {
    "io": "#eeeeee",
    "low": "#cfe2f3",
    "mid": "#d9ead3",
    "global": "#fce5cd",
    "fusion": "#f4cccc",
    "color": "#d9d2e9",
    "class": "#fff2cc",
}


def _convs(layers, width: float) -> str:
    """``[(stride, channels), ...]`` -> ``"64/2, 128, 128/2"`` (``/2``: stride 2)."""
    return ", ".join(f"{scaled(c, width)}" + (f"/{s}" if s != 1 else "") for s, c in layers)


def _stride(layers) -> int:
    return math.prod(s for s, _ in layers)


def architecture_labels(width: float = 1.0, n_classes: int | None = None) -> dict[str, str]:
    """The text of every box of the diagram, keyed by block name (what :func:`draw_architecture` draws).

    Channel counts are ``scaled(count, width)`` of the entries of ``LAYER_TABLE``; ``/2`` marks a
    stride-2 convolution; ``n_classes`` (None: the word "classes") is the classifier's output size.
    """
    w = width
    low, mid, gconv = LAYER_TABLE["low"], LAYER_TABLE["mid"], LAYER_TABLE["global_conv"]
    low_stride = _stride(low)
    if low_stride != DOWNSAMPLE:
        raise ValueError(f"LAYER_TABLE's low-level strides multiply to {low_stride}, not {DOWNSAMPLE}")
    c_low, c_mid = scaled(low[-1][1], w), scaled(mid[-1][1], w)
    side_low = GLOBAL_SIZE // low_stride  # 224 -> 28
    side_global = side_low // _stride(gconv)  # 28 -> 7
    fc = [scaled(n, w) for n in LAYER_TABLE["global_fc"]]
    c_global = fc[-1]
    c_fusion = scaled(LAYER_TABLE["fusion"], w)
    color_parts, out_stride = [], low_stride * _stride(mid)
    for op, n in LAYER_TABLE["color"]:
        if op == "conv":
            color_parts.append(f"conv {scaled(n, w)}")
        else:
            color_parts.append(f"up x{n}")
            out_stride //= n
    color_parts.append(f"conv {LAYER_TABLE['color_out']} + sigmoid")
    color_lines = [", ".join(color_parts[i : i + 3]) for i in range(0, len(color_parts), 3)]
    classes = "classes" if n_classes is None else str(n_classes)
    s = f"H/{low_stride} x W/{low_stride}"
    return {
        "input": "gray input\nL / 100\n1 x H x W",
        "resize": f"resize to\n1 x {GLOBAL_SIZE} x {GLOBAL_SIZE}\n(global path only)",
        "low": f"Low-level features\n{len(low)} conv 3x3:\n{_convs(low[:3], w)},\n{_convs(low[3:], w)}\n"
        f"-> {c_low} x {s}",
        "low_global": f"Low-level features\n(the same weights)\n-> {c_low} x {side_low} x {side_low}",
        "mid": f"Mid-level features\nconv {_convs(mid, w)}\n-> {c_mid} x {s}",
        "global_conv": f"Global features: conv\n{_convs(gconv, w)}\n-> {scaled(gconv[-1][1], w)} x "
        f"{side_global} x {side_global}",
        "global_fc": "Global features: FC\n" + ", ".join(map(str, fc)) + f"\n-> {c_global}-d vector",
        "classification": f"Classification\nFC {scaled(LAYER_TABLE['class_hidden'], w)}, FC {classes}\n"
        f"(input: the {fc[1]}-d FC)",
        "fusion": f"Fusion layer\n[global {c_global} ; mid {c_mid}]\n1x1 conv -> {c_fusion} x {s}",
        "color": "Colorization\n" + ",\n".join(color_lines) + f"\n-> {LAYER_TABLE['color_out']} x "
        f"H/{out_stride} x W/{out_stride}",
        "output": f"a*b* upsampled x{out_stride}\n(bilinear), joined\nwith the input's L\n-> 3 x H x W",
    }


# (x, y) centres of the boxes; the local path below, the global path above
_POSITIONS = {
    "input": (0, 0),
    "low": (1, 0),
    "mid": (2, 0),
    "fusion": (3, 0),
    "color": (4, 0),
    "output": (5, 0),
    "resize": (0, 1),
    "low_global": (1, 1),
    "global_conv": (2, 1),
    "global_fc": (3, 1),
    "classification": (4, 1),
}
_KINDS = {
    "input": "io", "output": "io", "resize": "io", "low": "low", "low_global": "low", "mid": "mid",
    "global_conv": "global", "global_fc": "global", "classification": "class", "fusion": "fusion",
    "color": "color",
}
_DX, _DY = 2.3, 2.6  # spacing of the grid
_BW, _BH = 2.0, 1.55  # box size


def draw_architecture(width: float = 1.0, ax=None, n_classes: int | None = None):
    """Draw the fusion network at channel multiplier ``width``; returns the matplotlib Figure.

    ``width=1.0`` is the paper's network; the course's shipped models use ``0.125``. Each box is
    one block (low-level, mid-level, global convolutions and fully connected layers, fusion,
    colorization, classification) labelled with its channel counts (``/2``: stride 2) and its
    output size; the arrows show the data flow: the global path sees a 224 x 224 resize, and the
    fusion layer tiles the global vector over every position of the mid-level map.
    """
    if not (0 < width <= 4):
        raise ValueError(f"width must be in (0, 4], got {width}")
    labels = architecture_labels(width, n_classes)
    if ax is None:
        fig, ax = plt.subplots(figsize=(15, 5.6))
    else:
        fig = ax.figure

    def centre(name):
        x, y = _POSITIONS[name]
        return x * _DX, y * _DY

    for name, text in labels.items():
        x, y = centre(name)
        ax.add_patch(FancyBboxPatch((x - _BW / 2, y - _BH / 2), _BW, _BH, boxstyle="round,pad=0.04",
                                    facecolor=_COLORS[_KINDS[name]], edgecolor="0.3", lw=1))
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5, gid=f"label:{name}")

    def arrow(a, b, text=None, side=(0, 0), rad=0.0):
        (xa, ya), (xb, yb) = centre(a), centre(b)
        if ya == yb:  # horizontal: box edge to box edge
            start, end = (xa + _BW / 2 + 0.04, ya), (xb - _BW / 2 - 0.04, yb)
        else:  # vertical
            sign = 1 if yb > ya else -1
            start, end = (xa, ya + sign * (_BH / 2 + 0.04)), (xb, yb - sign * (_BH / 2 + 0.04))
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="->", lw=1.2, color="0.2", connectionstyle=f"arc3,rad={rad}"))
        if text:
            ax.text((start[0] + end[0]) / 2 + side[0], (start[1] + end[1]) / 2 + side[1], text,
                    ha="left" if side[0] > 0 else "center", va="center", fontsize=7, style="italic",
                    color="0.25", gid="arrow-label")

    for a, b in [("input", "low"), ("low", "mid"), ("mid", "fusion"), ("fusion", "color"), ("color", "output"),
                 ("resize", "low_global"), ("low_global", "global_conv"), ("global_conv", "global_fc"),
                 ("global_fc", "classification")]:
        arrow(a, b)
    arrow("input", "resize", "any H x W in,\n224 x 224 to the\nglobal path", side=(0.08, 0))
    c_global = scaled(LAYER_TABLE["global_fc"][-1], width)
    arrow("global_fc", "fusion", f"tile the {c_global}-d vector\nover every position", side=(0.08, 0))
    # the input's own L reaches the output untouched: a line below the local path
    (x0, y0), (x5, _) = centre("input"), centre("output")
    low_y = y0 - _BH / 2 - 0.45
    ax.plot([x0, x0, x5], [y0 - _BH / 2 - 0.04, low_y, low_y], color="0.2", lw=1.2)
    ax.annotate("", xy=(x5, y0 - _BH / 2 - 0.04), xytext=(x5, low_y),
                arrowprops=dict(arrowstyle="->", lw=1.2, color="0.2"))
    ax.text((x0 + x5) / 2, low_y - 0.2, "the input's L, unchanged, at full resolution",
            ha="center", va="center", fontsize=7, style="italic", color="0.25", gid="arrow-label")

    ax.set_xlim(-_BW / 2 - 0.2, 5 * _DX + _BW / 2 + 0.2)
    ax.set_ylim(-_BH / 2 - 1.0, _DY + _BH / 2 + 0.25)
    ax.set_aspect("equal")
    ax.axis("off")
    paper = " (the paper's network)" if width == 1.0 else ""
    ax.set_title(f"Fusion network of Iizuka et al., width {width}{paper}: channels from LAYER_TABLE, "
                 "'/2' = stride 2", fontsize=10)
    return fig

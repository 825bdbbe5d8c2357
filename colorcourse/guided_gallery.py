"""The README's guided gallery: gray input | automatic | a few clicks | ground truth.

    python -m colorcourse.guided_gallery --out docs/gallery_guided.jpg --force

What a user gets when the automatic colors are wrong and they click a few times. The photos are
the ones of the automatic gallery (:mod:`colorcourse.gallery`: ``shift_test``, one per scene
label), the clicks are the course's evaluation protocol (:func:`colorcourse.hints.evaluation_hints`:
``n_points`` squares of 9 x 9 pixels at seeded random places, each filled with its mean true
a*b*), not placed by hand, so the picture shows the protocol the numbers of lesson 12 are
measured with. The hinted squares are outlined on the guided result.

Taught beside notebooks/12_guided_colorization.ipynb.
"""

from __future__ import annotations

import sys

import numpy as np

from . import coursepack
from .color import rgb_to_gray, rgb_to_lab
from .gallery import (
    draw_row, gallery_parser, gray_panel, pick_photos, refuses_to_overwrite, result_panel, save_figure, truth_panel,
)
from .hints import Hints, evaluation_hints

GALLERY_POINTS = 5
GALLERY_PATCH = 9  # the evaluation protocol's square side, px
GALLERY_SEED = 0  # photo i gets the hints of seed GALLERY_SEED + i


def gallery_hints(photo: coursepack.Photo, n_points: int = GALLERY_POINTS, patch: int = GALLERY_PATCH,
                  seed: int = GALLERY_SEED) -> Hints:
    """The clicks of one photo: the evaluation protocol's ``n_points`` squares of its true colors."""
    true_ab = rgb_to_lab(np.asarray(photo.rgb, dtype=np.float64))[..., 1:]  # H x W x 2
    return evaluation_hints(true_ab, n_points, patch=patch, seed=seed)


def guided_gallery_figure(photos: list[coursepack.Photo], automatic, guided, n_points: int = GALLERY_POINTS,
                          patch: int = GALLERY_PATCH, seed: int = GALLERY_SEED, width_per_panel: float = 2.4):
    """A matplotlib figure: one row per photo; columns gray input, ``automatic(gray)``,
    ``guided(gray, hints)`` with ``n_points`` clicks (outlined), ground truth; PSNR under each."""
    import matplotlib.pyplot as plt

    clicks = f"{n_points} click{'s' if n_points != 1 else ''}"
    columns = ["gray input", "automatic", clicks, "ground truth"]
    fig, axes = plt.subplots(len(photos), len(columns), squeeze=False,
                             figsize=(width_per_panel * len(columns), width_per_panel * 0.8 * len(photos)))
    for row, photo in enumerate(photos):
        gray = rgb_to_gray(np.asarray(photo.rgb, dtype=np.float64))
        hints = gallery_hints(photo, n_points, patch, seed + row)
        auto_rgb = automatic(gray)
        guided_rgb = guided(gray, hints)
        panels = [gray_panel(gray, photo), result_panel(auto_rgb, photo), result_panel(guided_rgb, photo),
                  truth_panel(photo)]
        draw_row(axes[row], panels, columns if row == 0 else None)
        if len(hints):  # where the clicks were: the outline of the hinted squares
            _, mask = hints.dense()
            axes[row, 2].contour(mask, levels=[0.5], colors="white", linewidths=1.2)
            axes[row, 2].contour(mask, levels=[0.5], colors="black", linewidths=0.5)
    fig.tight_layout()
    return fig


def main(argv=None) -> int:
    ap = gallery_parser(__doc__.splitlines()[0], "docs/gallery_guided.jpg")
    ap.add_argument("--points", type=int, default=GALLERY_POINTS, help="clicks per photo (evaluation protocol)")
    ap.add_argument("--seed", type=int, default=GALLERY_SEED, help="photo i gets the hints of seed + i")
    args = ap.parse_args(argv)
    if refuses_to_overwrite(args):
        return 2
    if args.photos < 1 or args.points < 1:
        print("--photos and --points must be positive whole numbers", file=sys.stderr)
        return 2
    from . import methods

    try:
        automatic = methods.load(methods.DEFAULT)
        guided = methods.load_hinted(methods.DEFAULT)
    except methods.ModelUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    photos = pick_photos(coursepack.load_split(args.split), args.photos)
    fig = guided_gallery_figure(photos, automatic, guided, n_points=args.points, seed=args.seed)
    save_figure(fig, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB): {', '.join(p.name for p in photos)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

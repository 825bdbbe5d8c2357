"""The README's by-example gallery: gray input | reference | colored after it | ground truth.

    python -m colorcourse.exemplar_gallery --out docs/gallery_exemplar.jpg --force

What ``colorcourse colorize PHOTO --reference REF`` does, with the model the evaluation
(:mod:`colorcourse.exemplar_eval`) scores, so the picture and models/exemplar_results.md agree.
The photos are the ones of the automatic gallery (:mod:`colorcourse.gallery`: ``shift_test``,
one per scene label); each one's reference is the next ``shift_test`` photo with the same scene
label, the evaluation's "same label" pairing
(:func:`colorcourse.exemplar_eval.same_label_partners`), not picked by eye,
so the picture shows the case lesson 13 measures. The automatic result is shown beside it.

Taught beside notebooks/13_colorization_by_example.ipynb.
"""

from __future__ import annotations

import sys

import numpy as np

from . import coursepack
from .color import rgb_to_gray
from .exemplar_eval import same_label_partners
from .gallery import (
    draw_row, gallery_parser, gray_panel, pick_photos, refuses_to_overwrite, result_panel, save_figure, truth_panel,
)


def reference_pairs(photos: list[coursepack.Photo], split_photos: list[coursepack.Photo]):
    """``[(photo, reference)]``: each of ``photos`` with the next photo of ``split_photos`` that has
    its label (cyclic, in the split's order); photos alone with their label are left out."""
    partners = same_label_partners([p.name for p in split_photos], [p.label for p in split_photos])
    by_name = {p.name: p for p in split_photos}
    return [(p, by_name[partners[p.name]]) for p in photos if partners.get(p.name) is not None]


def exemplar_gallery_figure(pairs, automatic, by_example, width_per_panel: float = 2.4):
    """A matplotlib figure: one row per ``(photo, reference)``; columns gray input, reference,
    ``automatic(gray)``, ``by_example(gray, reference_rgb)``, ground truth; PSNR under each result."""
    import matplotlib.pyplot as plt

    columns = ["gray input", "reference", "automatic", "by example", "ground truth"]
    fig, axes = plt.subplots(len(pairs), len(columns), squeeze=False,
                             figsize=(width_per_panel * len(columns), width_per_panel * 0.8 * len(pairs)))
    for row, (photo, reference) in enumerate(pairs):
        gray = rgb_to_gray(np.asarray(photo.rgb, dtype=np.float64))
        auto_rgb = automatic(gray)
        example_rgb = by_example(gray, reference.rgb)
        panels = [gray_panel(gray, photo), (reference.rgb, f"{reference.label}: {reference.name}"[:34]),
                  result_panel(auto_rgb, photo), result_panel(example_rgb, photo), truth_panel(photo)]
        draw_row(axes[row], panels, columns if row == 0 else None)
    fig.tight_layout()
    return fig


def main(argv=None) -> int:
    args = gallery_parser(__doc__.splitlines()[0], "docs/gallery_exemplar.jpg",
                          "course-pack split the photos and references come from").parse_args(argv)
    if refuses_to_overwrite(args):
        return 2
    if args.photos < 1:
        print("--photos must be a positive whole number", file=sys.stderr)
        return 2
    from . import methods

    from .exemplar import ExemplarColorizer
    from .exemplar_eval import load_hint_model

    split_photos = coursepack.load_split(args.split)
    pairs = reference_pairs(pick_photos(split_photos, args.photos), split_photos)
    try:
        automatic = methods.load(methods.DEFAULT)
        model, weights = load_hint_model()  # the evaluation's model, so the picture matches its numbers
    except methods.ModelUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"hint network: {weights}")
    fig = exemplar_gallery_figure(pairs, automatic, lambda gray, reference: ExemplarColorizer(
        reference, model=model, work_size=methods.WORK_SIZE[methods.DEFAULT])(gray))
    save_figure(fig, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB): "
          + ", ".join(f"{p.name} after {r.name}" for p, r in pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's gallery: out-of-domain photos, gray input | each method | ground truth.

    python -m colorcourse.gallery --out docs/gallery.jpg --force

The photos come from the ``shift_test`` split (sources never used in training), so the figure
shows what a user gets on their own photos, not how well a model fits the course pack.

Photos are picked deterministically (the first test photo of each of several scene labels), so
the figure is reproducible and shows varied scenes; PSNR and colorfulness are printed on each
result so the picture and the numbers can be read together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import coursepack, methods
from .color import gray_to_rgb, rgb_to_gray
from .metrics import colorfulness, psnr

GALLERY_METHODS = ("cheng", "fusion", "pretrained")


def pick_photos(photos: list[coursepack.Photo], n: int) -> list[coursepack.Photo]:
    """The first photo of each label in turn (labels in order of first appearance), ``n`` in all."""
    by_label: dict[str, list[coursepack.Photo]] = {}
    for photo in photos:
        by_label.setdefault(photo.label, []).append(photo)
    picked, depth = [], 0
    while len(picked) < min(n, len(photos)):
        for group in by_label.values():
            if depth < len(group) and len(picked) < n:
                picked.append(group[depth])
        depth += 1
    return picked


def gallery_figure(photos: list[coursepack.Photo], colorizers: dict, width_per_panel: float = 2.4):
    """A matplotlib figure: one row per photo; columns gray input, each colorizer, ground truth."""
    import matplotlib.pyplot as plt

    columns = ["gray input", *colorizers, "ground truth"]
    fig, axes = plt.subplots(len(photos), len(columns), squeeze=False,
                             figsize=(width_per_panel * len(columns), width_per_panel * 0.8 * len(photos)))
    for row, photo in enumerate(photos):
        gray = rgb_to_gray(photo.rgb.astype(np.float64))
        panels = [gray_panel(gray, photo)]
        panels += [result_panel(colorize(gray), photo) for colorize in colorizers.values()]
        panels.append(truth_panel(photo))
        draw_row(axes[row], panels, columns if row == 0 else None)
    fig.tight_layout()
    return fig


# The pieces every gallery of the course draws with (this one, guided_gallery, exemplar_gallery).


def gray_panel(gray: np.ndarray, photo) -> tuple[np.ndarray, str]:
    """The gray input and its PSNR: the baseline every result is read against."""
    gray_rgb = gray_to_rgb(gray)
    return gray_rgb, f"{psnr(gray_rgb, photo.rgb):.1f} dB (the baseline)"


def result_panel(rgb: np.ndarray, photo) -> tuple[np.ndarray, str]:
    """A colorized photo (clipped to [0, 1]) with its PSNR and colorfulness."""
    rgb = np.clip(rgb, 0, 1)
    return rgb, f"{psnr(rgb, photo.rgb):.1f} dB, C {colorfulness(rgb):.0f}"


def truth_panel(photo) -> tuple[np.ndarray, str]:
    return photo.rgb, f"{photo.label}, C {colorfulness(photo.rgb):.0f}"


def draw_row(axes_row, panels, titles=None) -> None:
    """``panels`` (image, caption) into one row of axes; column ``titles`` on the first row only."""
    for col, (image, caption) in enumerate(panels):
        ax = axes_row[col]
        ax.imshow(image)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_xlabel(caption, fontsize=8)
        if titles is not None:
            ax.set_title(titles[col], fontsize=10)


def save_figure(fig, out: Path) -> Path:
    """Write ``fig`` to ``out`` (JPEG at quality 85 by its suffix) through a temporary file, so a
    reader never sees a half-written figure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{out.suffix}")
    fig.savefig(tmp, dpi=80, pil_kwargs={"quality": 85} if out.suffix.lower() in (".jpg", ".jpeg") else None)
    tmp.replace(out)
    return out


def gallery_parser(description: str, default_out: str,
                   split_help: str = "course-pack split the photos come from") -> argparse.ArgumentParser:
    """The options every gallery command takes: --out, --photos, --split, --force."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", type=Path, default=Path(default_out))
    ap.add_argument("--photos", type=int, default=5)
    ap.add_argument("--split", default="shift_test", help=split_help)
    ap.add_argument("--force", action="store_true", help="replace --out if it exists")
    return ap


def refuses_to_overwrite(args) -> bool:
    """True (and says so) when --out exists and --force was not given."""
    if args.out.exists() and not args.force:
        print(f"refusing to overwrite {args.out} (use --force)", file=sys.stderr)
        return True
    return False


def main(argv=None) -> int:
    args = gallery_parser(__doc__.splitlines()[0], "docs/gallery.jpg").parse_args(argv)
    if refuses_to_overwrite(args):
        return 2
    photos = pick_photos(coursepack.load_split(args.split), args.photos)
    colorizers = {name: methods.load(name) for name in GALLERY_METHODS}
    colorizers = {f"{name}{' (default)' if name == methods.DEFAULT else ''}": c for name, c in colorizers.items()}
    fig = gallery_figure(photos, colorizers)
    save_figure(fig, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB): {', '.join(p.name for p in photos)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Load a user's own photos from a folder (label = the parent folder's name).

Taught in notebooks/00_setup.ipynb (colorize your own photos).
"""

from __future__ import annotations

from pathlib import Path

from colorcourse.coursepack import Photo

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


class FolderLoadError(ValueError):
    """Some files in the folder could not be read; ``errors`` lists (path, reason) for each."""

    def __init__(self, errors: list[tuple[Path, str]], photos: list[Photo]):
        self.errors = errors
        self.photos = photos  # the ones that did load
        lines = "\n".join(f"  {path}: {reason}" for path, reason in errors)
        super().__init__(f"{len(errors)} file(s) could not be loaded as color photos:\n{lines}")


def load_folder(path: str | Path, recursive: bool = True, strict: bool = True) -> list[Photo]:
    """Every image file under ``path`` (sorted), skipping files that are not images by suffix.

    Files with an image suffix that fail to decode are collected, not fatal one by one: with
    ``strict`` (default) a :class:`FolderLoadError` lists all of them at the end; otherwise they
    are skipped with a warning.
    """
    import warnings

    from colorcourse.imageio import load_rgb

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    files = sorted(p for p in (root.rglob("*") if recursive else root.iterdir())
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    photos, errors = [], []
    for file in files:
        try:
            rgb = load_rgb(file)
        except Exception as error:  # decoding errors of any kind: report them all together
            errors.append((file, f"{type(error).__name__}: {error}"))
            continue
        label = file.parent.name if file.parent != root else ""
        photos.append(Photo(name=str(file.relative_to(root).with_suffix("")), label=label, rgb=rgb, path=file))
    if errors:
        if strict:
            raise FolderLoadError(errors, photos)
        warnings.warn(str(FolderLoadError(errors, photos)), stacklevel=2)
    return photos


def split_own_photos(photos: list[Photo], val_fraction: float = 0.1, short_side: int | None = 256
                     ) -> tuple[list[Photo], list[Photo]]:
    """``(train, val)`` from a folder of one's own photos, for the training commands' ``--photos``.

    The split is fixed by a hash of each photo's name (adding photos never moves old ones between
    the splits), with at least one validation photo; ``short_side`` resizes every photo as the
    course pack does, so a folder of 20-megapixel scans trains at the same cost as the pack.
    """
    import hashlib

    from colorcourse.coursepack import _resize_short_side

    if len(photos) < 2:
        raise ValueError(f"training needs at least 2 photos (one for validation), got {len(photos)}")

    def bucket(photo: Photo) -> float:
        return int(hashlib.sha256(photo.name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    if short_side is not None:
        photos = [Photo(p.name, p.label, _resize_short_side(p.rgb, short_side), p.path) for p in photos]
    ordered = sorted(photos, key=bucket)
    n_val = max(1, round(val_fraction * len(photos)))
    val = {p.name for p in ordered[:n_val]}
    return [p for p in photos if p.name not in val], [p for p in photos if p.name in val]

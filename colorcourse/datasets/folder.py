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

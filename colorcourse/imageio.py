"""Reading and writing photos, robustly, converted once at the edge to the course's arrays.

Every decoder quirk is handled here so no lesson has to: EXIF orientation, CMYK, palettes,
alpha (composited on white), 16-bit files (precision kept), grayscale files. A file that cannot
be used raises :class:`ImageLoadError` naming the file and the cause: whatever a decoder throws
(Pillow, OpenCV, even ``MemoryError``) becomes that file's error, so a batch can go on.

Multi-frame files (an animated GIF, PNG or WebP, a multi-page TIFF): the first frame is used
and the loaders say so through ``notes`` (a list they append one line to), which the command
line prints as a warning for that file. Why not every frame: one input gives one output with a
predictable name, and the pages of a TIFF are often unrelated scans; extract the frames first
(``PIL.ImageSequence``) to colorize each.

Outputs of the command line carry a PNG text chunk, :data:`OUTPUT_TAG` (``save_rgb(...,
tag=...)``, read back by :func:`output_tag` from the header alone): that is how a re-run on a
folder knows its own earlier results from the user's photos, and how ``--force`` knows which
files it may replace.

Hostile files: a PNG of a few hundred kilobytes can claim 40,000 x 40,000 pixels (a
*decompression bomb*). The size is read from the file's header before any pixel is decoded and
checked against ``max_pixels`` (:data:`DEFAULT_MAX_PIXELS`), so such a file costs no memory.

Taught in notebooks/01_color_spaces_and_gray_baseline.ipynb.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from .atomic import write_atomically

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"}

# Pillow's own decompression-bomb guard, a ceiling above ours: 40,000 x 40,000 pixels (it
# refuses outright at twice this). Our limit, checked first, is ``max_pixels``.
Image.MAX_IMAGE_PIXELS = 1_600_000_000
# The largest photo loaded by default: 200 megapixels (a 16,000 x 12,500 scan) needs about
# 2.4 GB as float32 RGB. Callers (``colorcourse colorize --max-pixels``) may raise it.
DEFAULT_MAX_PIXELS = 200_000_000
# The PNG text chunk every output of ``colorcourse colorize`` carries (value: what made it).
OUTPUT_TAG = "colorcourse-output"
MULTI_FRAME_FORMATS = ("GIF", "PNG", "WEBP", "TIFF")  # not MPO: a camera JPEG's second frame is a preview


class ImageLoadError(ValueError):
    """A file that is not a usable image; the message starts with the file's name."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class GrayscaleImageError(ImageLoadError):
    """A color photo was needed (training, evaluation) but the file holds gray values only."""


class ImageTooLargeError(ImageLoadError):
    """The file's header claims more pixels than ``max_pixels``; nothing was decoded."""


def _megapixels(n: float) -> str:
    mp = n / 1e6
    return f"{mp:.1f}".removesuffix(".0") if mp >= 100 else f"{mp:.3g}"


def _open_header(path: Path, max_pixels: int | None) -> Image.Image:
    """Open ``path`` lazily (header only) and refuse it if it has too many pixels."""
    if not path.is_file():
        raise ImageLoadError(path, "no such file")
    try:
        img = Image.open(path)  # reads the header only; no pixel is decoded yet
    except UnidentifiedImageError:
        raise ImageLoadError(path, "not an image file Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageTooLargeError(path, f"too large to decode safely ({e})") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageLoadError(path, f"corrupt or truncated image ({e})") from None
    w, h = img.size
    if max_pixels is not None and w * h > max_pixels:
        img.close()
        size, limit = _megapixels(w * h), _megapixels(max_pixels)
        if size == limit:  # too close to tell apart in megapixels
            size, limit = f"{w * h} pixels", f"{max_pixels} pixels"
        else:
            size, limit = f"{size} megapixels", f"{limit} megapixels"
        raise ImageTooLargeError(path, f"{w} x {h} = {size} is above the limit of {limit}; raise it with --max-pixels")
    return img


def _decode(img: Image.Image, path: Path) -> Image.Image:
    try:
        img.load()  # decode now, so a truncated file fails here with its name
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageLoadError(path, f"corrupt or truncated image ({e})") from None
    # Cameras store portrait photos as landscape pixels plus an EXIF rotation tag.
    return ImageOps.exif_transpose(img)


def _is_deep_color(img: Image.Image) -> bool:
    """48/64-bit RGB(A) (from the header): Pillow would reduce it to 8 bits, OpenCV keeps 16."""
    if img.mode not in ("RGB", "RGBA") or img.format not in ("PNG", "TIFF"):
        return False
    for tile in getattr(img, "tile", None) or []:
        rawmode = tile[3] if not isinstance(tile[3], tuple) else tile[3][0]
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _frame_note(img: Image.Image) -> str | None:
    """``"the first of N frames was used"`` for an animation or a multi-page file, else None."""
    if img.format not in MULTI_FRAME_FORMATS:
        return None
    try:
        frames = int(getattr(img, "n_frames", 1))
    except Exception:  # noqa: BLE001 (a broken later frame: the first is still read below)
        frames = 2 if getattr(img, "is_animated", False) else 1
    if frames <= 1:
        return None
    img.seek(0)
    kind = "pages" if img.format == "TIFF" else "frames"
    return f"{frames} {kind}: only the first was colorized (extract the others to colorize them)"


def _load(path: Path, max_pixels: int | None, notes: list | None = None) -> tuple[np.ndarray, bool]:
    """Any image file -> (float32 array in [0, 1], is_color); every failure is the file's error."""
    try:
        img = _open_header(path, max_pixels)
        try:
            note = _frame_note(img)
            if note is not None and notes is not None:
                notes.append(note)
            if _is_deep_color(img):
                deep = _read_16bit_color(path)
                if deep is not None:
                    return deep, True
            return _to_float(_decode(img, path), path)
        finally:
            img.close()
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError(path, "not enough memory to decode it (lower --max-pixels or free memory)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageTooLargeError(path, f"too large to decode safely ({e})") from None
    except Exception as e:  # cv2.error, a codec's own error, broken EXIF...: this file's problem
        message = " ".join(str(e).split()) or "no details"
        raise ImageLoadError(path, f"cannot decode it ({type(e).__name__}: {message})") from None


def _to_float(img: Image.Image, path: Path) -> tuple[np.ndarray, bool]:
    """Pillow image -> (float array in [0, 1], is_color). Array is H x W x 3 or H x W."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(img, dtype=np.float32)
        return np.divide(arr, 65535.0, out=arr), False  # in place: a big scan is not copied twice
    if mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        return np.clip(arr / top, 0, 1).astype(np.float32), False
    if mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        return np.clip(arr / (255.0 if arr.max() > 1.0 else 1.0), 0, 1), False
    if mode in ("1", "L"):
        arr = np.asarray(img if mode == "L" else img.convert("L"), dtype=np.float32)
        return np.divide(arr, 255.0, out=arr), False
    if mode in ("LA", "La") or (mode == "P" and "transparency" in img.info and _palette_is_gray(img)):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        return _over_white(rgba)[..., 0], False
    if mode == "P" and _palette_is_gray(img):
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0, False
    if mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        return _over_white(rgba), True
    if mode in ("RGB", "CMYK", "YCbCr", "LAB", "HSV", "P"):
        arr = np.asarray(img if mode == "RGB" else img.convert("RGB"), dtype=np.float32)
        return np.divide(arr, 255.0, out=arr), True
    raise ImageLoadError(path, f"unsupported pixel format {mode!r}")


def _palette_is_gray(img: Image.Image) -> bool:
    pal = np.asarray(img.getpalette() or [], dtype=np.int32).reshape(-1, 3)
    return pal.size > 0 and bool(np.all(pal[:, 0] == pal[:, 1]) and np.all(pal[:, 1] == pal[:, 2]))


def _over_white(rgba: np.ndarray) -> np.ndarray:
    # Transparent regions have no color to learn; show them as white paper.
    alpha = rgba[..., 3:4]
    return rgba[..., :3] * alpha + (1.0 - alpha)


def _read_16bit_color(path: Path) -> np.ndarray | None:
    """48-bit RGB PNG/TIFF: Pillow reduces them to 8 bits, OpenCV keeps all 16."""
    import cv2

    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        return None  # not 16-bit color: Pillow's path below handles it
    arr = arr.astype(np.float32) / 65535.0
    if arr.shape[-1] == 4:
        return _over_white(arr[..., [2, 1, 0, 3]])  # OpenCV stores BGRA
    return np.ascontiguousarray(arr[..., ::-1])  # BGR -> RGB


def load_rgb(path: str | os.PathLike, allow_gray: bool = False,
             max_pixels: int | None = DEFAULT_MAX_PIXELS, notes: list | None = None) -> np.ndarray:
    """A color photo as ``H x W x 3`` float32 RGB in [0, 1].

    A grayscale-only file raises :class:`GrayscaleImageError` (there is no color to learn or
    score against), unless ``allow_gray=True``, which returns it replicated to three channels.
    A file of more than ``max_pixels`` pixels (``None``: no limit of ours) raises
    :class:`ImageTooLargeError` before it is decoded. ``notes``: a list that gets a line about
    anything worth a warning (a multi-frame file: only its first frame was read).
    """
    path = Path(path)
    arr, is_color = _load(path, max_pixels, notes)
    if not is_color:
        if not allow_gray:
            raise GrayscaleImageError(path, "grayscale-only image; a color photo is needed here")
        arr = np.repeat(arr[..., None], 3, axis=-1)
    return np.ascontiguousarray(arr, dtype=np.float32)


def load_gray(path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS,
              notes: list | None = None) -> np.ndarray:
    """Any image as the course's gray input: ``H x W`` float32 luma ``Y`` in [0, 1].

    A color file is reduced to its BT.601 luma, as a black-and-white film would record it.
    ``max_pixels`` and ``notes`` as in :func:`load_rgb`.
    """
    path = Path(path)
    arr, is_color = _load(path, max_pixels, notes)
    if not is_color:
        return arr.astype(np.float32, copy=False)
    try:
        return _luma(arr)
    except MemoryError:
        raise ImageLoadError(path, "not enough memory to convert it to gray") from None


def _luma(rgb: np.ndarray, rows: int = 1024) -> np.ndarray:
    """BT.601 luma of a float32 RGB array, a band of rows at a time (no float64 full copy)."""
    from .color import rgb_to_gray  # imports torch: only once a photo is really read

    out = np.empty(rgb.shape[:2], dtype=np.float32)
    for top in range(0, rgb.shape[0], rows):
        out[top:top + rows] = rgb_to_gray(rgb[top:top + rows])
    return out


def to_uint8(rgb: np.ndarray, rows: int = 512) -> np.ndarray:
    """Float image in [0, 1] -> uint8, rounding to the nearest level (how files store it).

    Converted a band of ``rows`` at a time, so a big photo never gets a float64 copy."""
    rgb = np.asarray(rgb)
    out = np.empty(rgb.shape, dtype=np.uint8)
    if rgb.ndim == 0:
        return np.round(np.clip(float(rgb), 0.0, 1.0) * 255.0).astype(np.uint8)
    for top in range(0, rgb.shape[0], rows):
        band = np.asarray(rgb[top:top + rows], dtype=np.float64)
        out[top:top + rows] = np.round(np.clip(band, 0.0, 1.0) * 255.0)
    return out


def save_rgb(path: str | os.PathLike, rgb: np.ndarray, overwrite: bool = False, tag: str | None = None,
             **save_kwargs) -> Path:
    """Write a float ``H x W x 3`` (or ``H x W``) image in [0, 1], or a uint8 one as it is; never
    replaces a file unless asked.

    The write goes to a temporary file in the same folder and is renamed into place, so an
    interrupted save leaves no half-written photo; the file gets the permissions of the user's
    umask (a replaced file keeps its own): see :mod:`colorcourse.atomic`. ``tag`` (PNG only) is
    stored as the :data:`OUTPUT_TAG` text chunk: the mark of a result of this tool.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (or --force) to replace it")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image format {path.suffix!r}")
    if tag is not None:
        if fmt != "PNG":
            raise ValueError(f"{path}: only a PNG file can carry the output tag")
        info = PngImagePlugin.PngInfo()
        info.add_text(OUTPUT_TAG, tag)  # before the pixel data: output_tag() reads the header only
        save_kwargs["pnginfo"] = info
    pixels = rgb if isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 else to_uint8(rgb)
    img = Image.fromarray(pixels)
    del pixels  # Pillow holds its own copy
    if fmt == "JPEG":
        save_kwargs.setdefault("quality", 95)
        save_kwargs.setdefault("subsampling", 0)  # keep full-resolution chroma: it is the subject
    return write_atomically(path, lambda tmp: img.save(tmp, format=fmt, **save_kwargs), overwrite=overwrite)


def output_tag(path: str | os.PathLike) -> str | None:
    """The :data:`OUTPUT_TAG` a result of this tool carries, or None (not ours, not a PNG, not
    readable): read from the file's header, no pixel is decoded."""
    try:
        with Image.open(path) as img:
            if img.format != "PNG":
                return None
            value = img.info.get(OUTPUT_TAG)
    except Exception:  # noqa: BLE001 (unreadable: certainly not a file this tool wrote)
        return None
    return value if isinstance(value, str) else None

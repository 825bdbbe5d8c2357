"""The logic behind the guided-colorization widget (colorcourse.hint_widget), as plain functions.

Taught in notebooks/12_guided_colorization.ipynb. ipywidgets swallow exceptions raised in
callbacks, so everything the canvas does happens here, tested by pytest
(tests/test_hint_widget.py), and :func:`colorcourse.hint_widget.hint_widget` only wires it:

- coordinates: a click on a canvas the browser shows at any size -> the photo's pixel
  (:func:`canvas_to_photo`), and back (:func:`photo_to_canvas`);
- :class:`HintEditor`: the points placed on one photo, in :func:`colorcourse.hints.hints_from_points`'
  format and the photo's pixel coordinates; add, recolor the last, clear, and undo of each;
- :func:`encode_image`: the result as JPEG (or PNG) bytes of the display size for the browser;
- saving that never overwrites: :func:`save_hints_json` (:func:`colorcourse.hints.points_to_json`,
  what ``colorcourse colorize --hints`` reads) and :func:`save_result_png`; an existing
  ``name.json`` makes the next one ``name-2.json``, ``name-3.json``, ... (:func:`free_path`);
- the colorizers: any ``colorizer(gray, hints) -> rgb``, optionally with ``prepare(gray)``
  (cache the per-photo work; called once, with the display-size gray) and
  ``suggest_colors(gray, x, y, k)`` (x, y: that gray's pixel) returning ``"#rrggbb"`` strings, or
  :class:`colorcourse.suggested_colors.SuggestedColor` (with their probabilities), or None;
  :func:`default_colorizer` is the hint network (:class:`HintSessionColorizer`: encoder once per
  photo, the decoder per click, and the classification decoder's suggested colors on the same
  encoder features) when it loads, else :func:`levin_colorizer`; :class:`SuggestingColorizer`
  adds the suggested colors to any colorizer;
- :class:`HintState`: one photo, its hints, the colorizer and the result; ``click`` and ``update``
  are what the widget calls per click.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from .hints import Hints

Colorizer = Callable[[np.ndarray, "Hints"], np.ndarray]  # gray H x W, hints -> rgb H x W x 3

DEFAULT_DISPLAY_SIZE = 512  # longer side of the canvas and the result, in pixels
MAX_HISTORY = 200  # undo steps kept

# ---------------------------------------------------------------- colors and coordinates


def normalize_color(color) -> str:
    """Any color ipywidgets' ColorPicker can hold (``#rgb``, ``#rrggbb``, a CSS name) -> ``#rrggbb``."""
    from matplotlib.colors import to_hex

    try:
        return to_hex(str(color).strip(), keep_alpha=False).lower()
    except ValueError:
        raise ValueError(f"not a color: {color!r} (use #rrggbb or a color name)") from None


def display_shape(shape, max_side: int) -> tuple[int, int]:
    """``(h, w)`` of a photo of ``shape`` shown with its longer side at most ``max_side`` (never enlarged)."""
    h, w = int(shape[0]), int(shape[1])
    if max_side < 8:
        raise ValueError(f"the display size must be at least 8 pixels, got {max_side}")
    scale = min(1.0, max_side / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def canvas_to_photo(x: float, y: float, canvas_size, photo_shape) -> tuple[int, int]:
    """The photo pixel ``(column, row)`` under a click at ``(x, y)`` on a canvas shown ``canvas_size =
    (width, height)`` CSS pixels large (the browser may show it smaller than its own pixels).

    Pixel ``i`` of the photo covers ``[i, i + 1)`` in its own units; a click on the border lands
    on the last pixel."""
    width, height = float(canvas_size[0]), float(canvas_size[1])
    if width <= 0 or height <= 0:
        raise ValueError(f"the canvas has no area on screen ({width} x {height} px)")
    rows, cols = int(photo_shape[0]), int(photo_shape[1])
    col = min(cols - 1, max(0, int(np.floor(x * cols / width))))
    row = min(rows - 1, max(0, int(np.floor(y * rows / height))))
    return col, row


def photo_to_canvas(col: float, row: float, canvas_size, photo_shape) -> tuple[float, float]:
    """Where the centre of photo pixel ``(col, row)`` is drawn on a canvas of ``canvas_size = (width, height)``."""
    return ((col + 0.5) * canvas_size[0] / photo_shape[1], (row + 0.5) * canvas_size[1] / photo_shape[0])


def radius_to_photo(radius: float, canvas_width: float, photo_width: int) -> float:
    """A brush radius in canvas pixels -> photo pixels."""
    if radius < 0:
        raise ValueError(f"the radius must be >= 0, got {radius}")
    return float(radius) * photo_width / float(canvas_width)


# ---------------------------------------------------------------- the hints being edited


class HintEditor:
    """The points a user has placed on one photo, with undo.

    Points are dicts in :func:`colorcourse.hints.hints_from_points`' format, in the photo's pixel
    coordinates: ``{"x": col, "y": row, "color": "#rrggbb"}`` plus ``"radius"`` when > 0. Every
    change (add, recolor, clear) is undoable, so nothing placed is lost by a wrong button.
    """

    def __init__(self, shape, points=()):
        self.shape = (int(shape[0]), int(shape[1]))
        self._points: list[dict] = []
        self._history: list[list[dict]] = []
        for p in points:
            self._points.append(self._checked(p["x"], p["y"], p["color"], p.get("radius", 0.0)))

    @property
    def points(self) -> list[dict]:
        return [dict(p) for p in self._points]

    def __len__(self) -> int:
        return len(self._points)

    @property
    def can_undo(self) -> bool:
        return bool(self._history)

    def _checked(self, x, y, color, radius) -> dict:
        h, w = self.shape
        if not (0 <= x < w and 0 <= y < h):
            raise ValueError(f"the point ({x}, {y}) is outside the {w} x {h} photo")
        point = {"x": int(x), "y": int(y), "color": normalize_color(color)}
        if radius < 0:
            raise ValueError(f"the radius must be >= 0, got {radius}")
        if radius > 0:
            point["radius"] = round(float(radius), 2)
        return point

    def _remember(self) -> None:
        self._history.append([dict(p) for p in self._points])
        del self._history[:-MAX_HISTORY]

    def add(self, x, y, color, radius: float = 0.0) -> dict:
        point = self._checked(x, y, color, radius)
        self._remember()
        self._points.append(point)
        return dict(point)

    def recolor_last(self, color) -> dict:
        """Give the last point another color (a palette swatch picked after the click)."""
        if not self._points:
            raise ValueError("there is no hint to recolor yet: click the photo first")
        color = normalize_color(color)
        self._remember()
        self._points[-1] = {**self._points[-1], "color": color}
        return dict(self._points[-1])

    def undo(self) -> bool:
        """Undo the last add, recolor or clear; False when there is nothing to undo."""
        if not self._history:
            return False
        self._points = self._history.pop()
        return True

    def clear(self) -> bool:
        """Remove every point (undoable); False when there were none."""
        if not self._points:
            return False
        self._remember()
        self._points = []
        return True

    def hints(self, shape=None) -> Hints:
        """The points as :class:`colorcourse.hints.Hints` of the photo, or of it resized to ``shape``."""
        from .hints import hints_from_points

        hints = hints_from_points(self.points, self.shape, source="the widget's points")
        if shape is not None and tuple(shape) != self.shape:
            hints = hints.rescaled(tuple(shape))
        return hints

    def to_json(self) -> str:
        from .hints import points_to_json

        return points_to_json(self.points, self.shape)


# ---------------------------------------------------------------- images and files


def encode_image(rgb: np.ndarray, fmt: str = "jpeg", quality: int = 90) -> bytes:
    """An ``H x W x 3`` (or ``H x W``) image in [0, 1] as JPEG or PNG file bytes for the browser.

    JPEG keeps full-resolution chroma (4:4:4): the chroma is what the student is looking at."""
    from PIL import Image

    array = np.asarray(rgb, dtype=np.float32)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3):
        raise ValueError(f"expected an H x W or H x W x 3 image, got shape {array.shape}")
    pixels = (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    fmt = fmt.lower()
    if fmt in ("jpeg", "jpg"):
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality, subsampling=0)
    elif fmt == "png":
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)  # speed over size
    else:
        raise ValueError(f"the image format must be 'jpeg' or 'png', got {fmt!r}")
    return buffer.getvalue()


def free_path(path: str | os.PathLike) -> Path:
    """``path`` if nothing is there yet, else the first free ``stem-2.ext``, ``stem-3.ext``, ..."""
    path = Path(path)
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _write_new(path: Path, write) -> Path:
    """Write with ``write(file_object)`` to ``path`` or the next free name; never replaces a file.

    The file is created exclusively (``"xb"``), so two saves at once cannot both take one name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(1000):
        target = free_path(path)
        try:
            with open(target, "xb") as f:
                try:
                    write(f)
                except BaseException:
                    f.close()
                    target.unlink()
                    raise
            return target
        except FileExistsError:
            continue  # taken between the check and the open: try the next name
    raise FileExistsError(f"{path}: no free name after 1000 tries")


def save_hints_json(editor: HintEditor, path: str | os.PathLike) -> Path:
    """The editor's points as a JSON hint file at ``path`` (or ``stem-2.json``, ... if taken); the path written."""
    text = editor.to_json()
    return _write_new(Path(path), lambda f: f.write(text.encode("utf-8")))


def save_result_png(rgb: np.ndarray, path: str | os.PathLike) -> Path:
    """``rgb`` as a PNG at ``path`` (or ``stem-2.png``, ... if taken); the path written."""
    from PIL import Image

    from .imageio import to_uint8

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: the result is saved as PNG, name it .png")
    pixels = to_uint8(np.asarray(rgb))
    return _write_new(path, lambda f: Image.fromarray(pixels).save(f, format="PNG"))


# ---------------------------------------------------------------- colorizers behind the widget


class HintSessionColorizer:
    """The hint network as the widget's colorizer: ``prepare(gray)`` runs its encoder once per photo
    (a :class:`colorcourse.fusion.hinted.HintSession`); each call re-runs only the decoder.

    ``palette_model``: the classification decoder (:func:`colorcourse.suggested_colors.load_model`)
    whose suggested colors the palette shows; it decodes the session's encoder features, so a
    photo's suggestions cost one more decoder run, once."""

    def __init__(self, model, work_size: int | None = None, sessions: int = 2, palette_model=None):
        self.model, self.work_size, self.max_sessions = model, work_size, sessions
        self.palette_model = palette_model
        self._sessions: list[tuple[np.ndarray, object]] = []  # (gray, session), newest last
        self._palettes: list[tuple[object, object]] = []  # (hint session, its SuggestionSession)

    def prepare(self, gray: np.ndarray):
        from .fusion.hinted import HintSession

        for kept, session in self._sessions:
            if kept is gray:
                return session
        kwargs = {} if self.work_size is None else {"work_size": self.work_size}
        session = HintSession(self.model, gray, **kwargs)
        # the display photo and the full-size one (for saving) both stay encoded
        self._sessions = (self._sessions + [(gray, session)])[-self.max_sessions:]
        return session

    def __call__(self, gray: np.ndarray, hints: Hints) -> np.ndarray:
        return self.prepare(gray).colorize(hints)

    def suggest_colors(self, gray: np.ndarray, x: int, y: int, k: int = 6):
        """The palette model's suggestions at ``(x, y)``, or ``None`` without a palette model (the
        hint network regresses one color and has no distribution to suggest from)."""
        session = self.prepare(gray)
        if self.palette_model is None:
            return None
        from .suggested_colors import SuggestionSession

        for kept, palette in self._palettes:
            if kept is session:
                return palette.suggest(x, y, k=k)
        palette = SuggestionSession(self.palette_model, gray, features=(session.maps, session.pooled))
        self._palettes = (self._palettes + [(session, palette)])[-self.max_sessions:]
        return palette.suggest(x, y, k=k)


class SuggestingColorizer:
    """Any widget colorizer with the classification decoder's suggested colors at a click
    (:mod:`colorcourse.suggested_colors`; its network runs once per photo, in ``prepare``).

    ``model``: the classification decoder (default: the shipped one, loaded here)."""

    def __init__(self, colorizer: Colorizer, model=None, sessions: int = 2):
        from .suggested_colors import load_model

        self.colorizer = colorizer
        self.model = load_model() if model is None else model
        self.max_sessions = sessions
        self._sessions: list[tuple[np.ndarray, object]] = []  # (gray, SuggestionSession), newest last
        name = getattr(colorizer, "description", None) or getattr(colorizer, "__name__", type(colorizer).__name__)
        self.description = f"{name}; suggested colors: the classification decoder (Zhang et al. 2017)"

    def prepare(self, gray: np.ndarray):
        from .suggested_colors import SuggestionSession

        inner = getattr(self.colorizer, "prepare", None)
        if inner is not None:
            inner(gray)
        for kept, session in self._sessions:
            if kept is gray:
                return session
        session = SuggestionSession(self.model, gray)
        self._sessions = (self._sessions + [(gray, session)])[-self.max_sessions:]
        return session

    def __call__(self, gray: np.ndarray, hints: Hints) -> np.ndarray:
        return self.colorizer(gray, hints)

    def suggest_colors(self, gray: np.ndarray, x: int, y: int, k: int = 6):
        return self.prepare(gray).suggest(x, y, k=k)


def levin_colorizer(gray: np.ndarray, hints: Hints) -> np.ndarray:
    """Levin et al.'s optimization; with no hint yet the photo stays gray (nothing to propagate)."""
    from .color import gray_baseline
    from .levin import colorize_levin

    if len(hints) == 0:
        return gray_baseline(gray).astype(np.float32)
    return colorize_levin(gray, hints)


levin_colorizer.description = "Levin et al.'s optimization (2004)"


def default_colorizer(model_path=None) -> tuple[Colorizer, str]:
    """``(colorizer, description)``: the hint network when it loads, else Levin et al.'s optimization.

    The description says which one and, for the fallback, why (e.g. the model is not trained yet)."""
    try:
        from .fusion.hinted import load_model
    except ImportError as e:
        return levin_colorizer, f"Levin et al.'s optimization (the hint network is not available: {e})"
    try:
        model = load_model(model_path)
    except Exception as e:  # noqa: BLE001 - a missing or broken model file falls back, and says so
        return levin_colorizer, f"Levin et al.'s optimization (the hint network did not load: {e})"
    from .suggested_colors import load_model as load_palette_model

    try:  # the palette's classification decoder shares the hint network's frozen encoder
        palette_model, palette = load_palette_model(encoder=model.encoder), "with suggested colors"
    except Exception as e:  # noqa: BLE001 - the canvas works without a palette, and says why
        palette_model, palette = None, f"no suggested colors: {e}"
    return (HintSessionColorizer(model, palette_model=palette_model),
            f"the hint network (Zhang et al. 2017), {palette}")


# ---------------------------------------------------------------- one photo in the widget


def as_gray(photo) -> np.ndarray:
    """A path, an ``H x W`` gray or an ``H x W x 3`` RGB image (in [0, 1]) -> the gray ``H x W`` float32."""
    from .color import rgb_to_gray
    from .imageio import load_gray

    if isinstance(photo, (str, os.PathLike)):
        return load_gray(photo)
    array = np.asarray(photo, dtype=np.float32)
    if array.ndim == 3 and array.shape[-1] == 3:
        array = rgb_to_gray(array).astype(np.float32)
    if array.ndim != 2:
        raise ValueError(f"the photo must be a path, an H x W gray or an H x W x 3 RGB image, got shape {array.shape}")
    if array.size == 0 or not np.isfinite(array).all() or array.min() < -1e-6 or array.max() > 1 + 1e-6:
        raise ValueError("the photo's values must be finite and in [0, 1] (divide 8-bit images by 255)")
    return np.clip(array, 0.0, 1.0)


def _resize_gray(gray: np.ndarray, shape) -> np.ndarray:
    from skimage.transform import resize

    if tuple(shape) == gray.shape:
        return gray
    return resize(gray, shape, anti_aliasing=True, preserve_range=True).astype(np.float32)


def _safe_name(name: str) -> str:
    name = str(name).strip()
    if not name or not re.fullmatch(r"[\w.\- ]+", name) or name.startswith("."):
        raise ValueError(f"the file name {name!r} may hold only letters, digits, '-', '_', '.' and spaces")
    return name


class HintState:
    """Everything the widget does, without the widget: one photo, its hints, the colorizer, the result.

    ``size``: the longer side of the canvas and of the result shown (the colorizer runs on the
    photo resized to it, so a click costs the same on a 4000 px photo). ``fmt``: how the result
    travels to the browser (``"jpeg"`` or ``"png"``).
    """

    def __init__(self, photo, colorizer: Colorizer | None = None, size: int = DEFAULT_DISPLAY_SIZE,
                 name: str = "photo", folder: str | os.PathLike = ".", fmt: str = "jpeg"):
        if fmt not in ("jpeg", "png"):
            raise ValueError(f"fmt must be 'jpeg' or 'png', got {fmt!r}")
        self.gray = as_gray(photo)
        self.name = _safe_name(Path(photo).stem if isinstance(photo, (str, os.PathLike)) and name == "photo" else name)
        self.folder = Path(folder)
        self.display_shape = display_shape(self.gray.shape, size)
        self.display_gray = _resize_gray(self.gray, self.display_shape)
        if colorizer is None:
            colorizer, self.description = default_colorizer()
        else:
            self.description = getattr(colorizer, "description", None) or getattr(
                colorizer, "__name__", type(colorizer).__name__)
        self.colorizer = colorizer
        self.fmt = fmt
        self.editor = HintEditor(self.gray.shape)
        self.result: np.ndarray | None = None  # h x w x 3, display size
        self._result_points: list[dict] | None = None  # the points self.result was made with
        self.result_bytes = b""
        self.timings: dict[str, float] = {}
        prepare = getattr(colorizer, "prepare", None)
        if prepare is not None:
            start = time.perf_counter()
            prepare(self.display_gray)
            self.timings["prepare_ms"] = 1e3 * (time.perf_counter() - start)

    @property
    def canvas_size(self) -> tuple[int, int]:
        """``(width, height)`` of the canvas in its own pixels (the display size)."""
        return self.display_shape[1], self.display_shape[0]

    def click(self, x: float, y: float, shown_size, color, radius: float = 0.0) -> dict:
        """A click at ``(x, y)`` on the canvas shown ``shown_size = (width, height)`` CSS px large, with
        a brush ``radius`` in canvas pixels: adds that hint and returns its point (photo coordinates)."""
        col, row = canvas_to_photo(x, y, shown_size, self.gray.shape)
        return self.editor.add(col, row, color, radius_to_photo(radius, self.canvas_size[0], self.gray.shape[1]))

    def update(self) -> np.ndarray:
        """Colorize the display-size photo with the current hints; keeps the result and its encoded bytes."""
        start = time.perf_counter()
        hints = self.editor.hints(self.display_shape)
        rgb = np.asarray(self.colorizer(self.display_gray, hints), dtype=np.float32)
        if rgb.shape != (*self.display_shape, 3):
            raise ValueError(f"the colorizer returned shape {rgb.shape} for a {self.display_shape} photo")
        middle = time.perf_counter()
        self.result_bytes = encode_image(rgb, self.fmt)
        self.timings.update(colorize_ms=1e3 * (middle - start), encode_ms=1e3 * (time.perf_counter() - middle))
        self.result, self._result_points = rgb, self.editor.points
        return rgb

    def canvas_points(self) -> list[dict]:
        """The points where the canvas draws them: ``{"x", "y", "r", "color"}`` in canvas pixels."""
        scale = self.canvas_size[0] / self.gray.shape[1]
        out = []
        for p in self.editor.points:
            x, y = photo_to_canvas(p["x"], p["y"], self.canvas_size, self.gray.shape)
            out.append({"x": x, "y": y, "r": p.get("radius", 0.0) * scale, "color": p["color"]})
        return out

    def palette(self, k: int = 6) -> list[dict]:
        """Suggested colors at the last hint (``suggest_colors`` of the colorizer), or [] when it has
        none: ``{"color": "#rrggbb", "probability": p or None}``, most likely first."""
        suggest = getattr(self.colorizer, "suggest_colors", None)
        if suggest is None or not len(self.editor):
            return []
        last = self.editor.points[-1]
        col, row = canvas_to_photo(last["x"] + 0.5, last["y"] + 0.5, self.gray.shape[::-1], self.display_shape)
        return [{"color": normalize_color(getattr(c, "hex", c)), "probability": getattr(c, "probability", None)}
                for c in suggest(self.display_gray, col, row, k=k) or []]

    def suggestions(self, k: int = 6) -> list[str]:
        """The colors of :meth:`palette`, ``"#rrggbb"``."""
        return [entry["color"] for entry in self.palette(k)]

    def status(self) -> str:
        n = len(self.editor)
        parts = [f"{n} hint{'s' if n != 1 else ''}"]
        if "colorize_ms" in self.timings:
            parts.append(f"colorized in {self.timings['colorize_ms']:.0f} ms, "
                         f"sent as {len(self.result_bytes) / 1024:.0f} kB {self.fmt.upper()}")
        return " · ".join(parts)

    def save_hints(self, name: str | None = None) -> Path:
        """Write the hints as ``<folder>/<name>.json`` (or the next free name)."""
        return save_hints_json(self.editor, self.folder / f"{_safe_name(name or self.name)}.json")

    def save_result(self, name: str | None = None) -> Path:
        """Colorize the photo at its full size with the hints and write ``<folder>/<name>_colorized.png``
        (or the next free name). One extra colorizer run (the full size is not what the canvas shows)."""
        if self.display_shape == self.gray.shape and self._result_points == self.editor.points:
            rgb = self.result  # what the canvas shows is already the full size
        else:
            rgb = np.asarray(self.colorizer(self.gray, self.editor.hints()), dtype=np.float32)
        return save_result_png(rgb, self.folder / f"{_safe_name(name or self.name)}_colorized.png")

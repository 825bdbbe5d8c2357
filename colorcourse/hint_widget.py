"""The guided-colorization canvas: click a color on the gray photo, see the photo recolor at once.

Taught in notebooks/12_guided_colorization.ipynb. Levin et al. 2004 (scribbles) and Zhang et al.
2017 (learned hints, and their palette of suggested colors at a click) both put the user in the
loop; this widget is that loop in JupyterLab, on a laptop CPU:

- the gray photo on a canvas, a color picker, a brush radius; a click adds a hint (a point of the
  picked color, in the photo's pixel coordinates, as :func:`colorcourse.hints.hints_from_points`
  reads them); undo (also undoes a clear or a recolor), clear;
- the colorized result beside it, updated after each click; only the colorizer's cheap part runs
  per click (the hint network's decoder: its encoder ran once, in ``prepare``), on the photo at the
  display size, and the result travels as JPEG bytes of that size;
- a palette of suggested colors at the last click when the colorizer offers them
  (``suggest_colors``, Zhang et al.'s classification head); a swatch recolors that hint;
- "save hints" writes the points as JSON (:func:`colorcourse.hints.points_to_json`, what
  ``colorcourse colorize --hints`` reads), "save result" the colorized photo at its full size as a
  PNG. Neither ever overwrites: an existing ``name.json`` makes the next one ``name-2.json``,
  ``name-3.json``, ..., and the status line says which file was written.

Why anywidget rather than ipycanvas: the canvas is one small ES module (below) that JupyterLab 4
loads through anywidget's prebuilt extension, no build step. The click is drawn in the browser
at once (the dot appears before the kernel answers), the kernel gets one message per click, and
the result comes back as one compressed image in a binary trait. With ipycanvas every mouse event
and every redraw is a kernel round trip and ``put_image_data`` ships raw RGBA (4 bytes a pixel:
1 MB at 512 px, against ~40 kB of JPEG). Both install and load in JupyterLab 4 here; anywidget
asks for less machinery per click.

ipywidgets swallow exceptions raised in callbacks, so everything the widget does is a plain
function or :class:`HintState` method here, tested by pytest (tests/test_hint_widget.py); the
builder :func:`hint_widget` only wires them, and shows any error on its status line.
The colorizer is pluggable: any ``colorizer(gray, hints) -> rgb``, optionally with
``prepare(gray)`` (cache the per-photo work; called once, with the display-size gray) and
``suggest_colors(gray, x, y, k) -> ["#rrggbb", ...] or None`` (x, y: that gray's pixel).
"""

from __future__ import annotations

import html
import io
import json
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
DEFAULT_COLOR = "#d62728"
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
    (a :class:`colorcourse.fusion.hinted.HintSession`); each call re-runs only the decoder."""

    def __init__(self, model, work_size: int | None = None, sessions: int = 2):
        self.model, self.work_size, self.max_sessions = model, work_size, sessions
        self._sessions: list[tuple[np.ndarray, object]] = []  # (gray, session), newest last

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
        session = self.prepare(gray)
        suggest = getattr(session, "suggest_colors", None)
        return suggest(x, y, k=k) if suggest is not None else None


def levin_colorizer(gray: np.ndarray, hints: Hints) -> np.ndarray:
    """Levin et al.'s optimization; with no hint yet the photo stays gray (nothing to propagate)."""
    from .color import gray_baseline
    from .levin import colorize_levin

    if len(hints) == 0:
        return gray_baseline(gray).astype(np.float32)
    return colorize_levin(gray, hints)


def default_colorizer(model_path=None) -> tuple[Colorizer, str]:
    """``(colorizer, description)``: the hint network when it loads, else Levin et al.'s optimization.

    The description says which one and, for the fallback, why (e.g. the model is not trained yet)."""
    try:
        from .fusion.hinted import load_model
    except ImportError as e:
        return levin_colorizer, f"Levin et al.'s optimization (the hint network is not available: {e})"
    try:
        return HintSessionColorizer(load_model(model_path)), "the hint network (Zhang et al. 2017)"
    except Exception as e:  # noqa: BLE001 - a missing or broken model file falls back, and says so
        return levin_colorizer, f"Levin et al.'s optimization (the hint network did not load: {e})"


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
        self.gray = as_gray(photo)
        self.name = _safe_name(Path(photo).stem if isinstance(photo, (str, os.PathLike)) and name == "photo" else name)
        self.folder = Path(folder)
        self.display_shape = display_shape(self.gray.shape, size)
        self.display_gray = _resize_gray(self.gray, self.display_shape)
        if colorizer is None:
            colorizer, self.description = default_colorizer()
        else:
            self.description = getattr(colorizer, "__name__", type(colorizer).__name__)
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

    def suggestions(self, k: int = 6) -> list[str]:
        """Suggested colors at the last hint (``suggest_colors`` of the colorizer), or [] when it has none."""
        suggest = getattr(self.colorizer, "suggest_colors", None)
        if suggest is None or not len(self.editor):
            return []
        last = self.editor.points[-1]
        col, row = canvas_to_photo(last["x"] + 0.5, last["y"] + 0.5, self.gray.shape[::-1], self.display_shape)
        colors = suggest(self.display_gray, col, row, k=k)
        return [normalize_color(c) for c in colors or []]

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


# ---------------------------------------------------------------- the widget (wiring only)

_CANVAS_ESM = r"""
function render({ model, el }) {
  el.classList.add("colorcourse-hint-canvas");
  const canvas = document.createElement("canvas");
  const result = document.createElement("img");
  result.className = "colorcourse-hint-result";
  result.alt = "colorized result";
  el.append(canvas, result);
  const ctx = canvas.getContext("2d");
  const gray = new Image();
  const urls = {};

  function objectUrl(key, type) {  // the bytes of a binary trait (a DataView) as an image URL
    const view = model.get(key);
    if (!view || view.byteLength === 0) return null;
    if (urls[key]) URL.revokeObjectURL(urls[key]);
    urls[key] = URL.createObjectURL(new Blob([view], { type }));
    return urls[key];
  }
  function dot(p) {
    const r = Math.max(p.r, 4);
    ctx.beginPath(); ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
    ctx.fillStyle = p.color; ctx.fill();
    ctx.lineWidth = 2; ctx.strokeStyle = "white"; ctx.stroke();
    ctx.beginPath(); ctx.arc(p.x, p.y, r + 2, 0, 2 * Math.PI);
    ctx.lineWidth = 1; ctx.strokeStyle = "black"; ctx.stroke();
  }
  function draw(pending) {
    const [w, h] = model.get("size");
    canvas.width = w; canvas.height = h;
    canvas.style.width = w + "px"; result.style.width = w + "px";
    if (gray.complete && gray.naturalWidth) ctx.drawImage(gray, 0, 0, w, h);
    const points = model.get("points");
    points.forEach(dot);
    if (pending) dot(pending);
    el.dataset.hints = String(points.length);
  }
  gray.onload = () => draw();
  const showGray = () => { const u = objectUrl("gray", "image/png"); if (u) gray.src = u; };
  const showResult = () => {
    const u = objectUrl("result", model.get("result_type"));
    if (u) result.src = u;
    el.dataset.updates = String(Number(el.dataset.updates || 0) + 1);
  };
  canvas.addEventListener("click", (e) => {
    // drawn now, before the kernel answers; the kernel maps the click to the photo's pixels
    const scale = canvas.width / canvas.clientWidth;
    draw({ x: e.offsetX * scale, y: e.offsetY * scale, r: model.get("radius"), color: model.get("color") });
    model.send({ event: "click", x: e.offsetX, y: e.offsetY,
                 width: canvas.clientWidth, height: canvas.clientHeight });
  });
  model.on("change:gray", showGray);
  model.on("change:points", () => draw());
  model.on("change:size", () => draw());
  model.on("change:result", showResult);
  showGray(); showResult(); draw();
  return () => Object.values(urls).forEach((u) => URL.revokeObjectURL(u));
}
export default { render };
"""

_CANVAS_CSS = """
.colorcourse-hint-canvas { display: flex; gap: 8px; align-items: flex-start; }
.colorcourse-hint-canvas canvas { cursor: crosshair; max-width: calc(50% - 4px); height: auto; }
.colorcourse-hint-result { max-width: calc(50% - 4px); height: auto; }
"""


def _canvas_class():
    import anywidget
    import traitlets

    class HintCanvas(anywidget.AnyWidget):
        """The gray photo with its hints (clickable) beside the colorized result."""

        _esm = _CANVAS_ESM
        _css = _CANVAS_CSS
        gray = traitlets.Bytes(b"").tag(sync=True)  # PNG of the display-size gray photo, sent once
        result = traitlets.Bytes(b"").tag(sync=True)  # JPEG/PNG of the result, after every click
        result_type = traitlets.Unicode("image/jpeg").tag(sync=True)
        size = traitlets.List([0, 0]).tag(sync=True)  # [width, height] in canvas pixels
        points = traitlets.List([]).tag(sync=True)  # HintState.canvas_points()
        color = traitlets.Unicode(DEFAULT_COLOR).tag(sync=True)
        radius = traitlets.Float(0.0).tag(sync=True)

    return HintCanvas


def hint_widget(photo, colorizer: Colorizer | None = None, size: int = DEFAULT_DISPLAY_SIZE,
                name: str = "photo", folder: str | os.PathLike = ".", fmt: str = "jpeg"):
    """The guided-colorization canvas for ``photo`` (a path, a gray or an RGB image in [0, 1]).

    ``colorizer``: ``(gray, hints) -> rgb``, optionally with ``prepare`` and ``suggest_colors``;
    default :func:`default_colorizer` (the hint network, else Levin et al.). Saved files go to
    ``folder`` as ``<name>.json`` and ``<name>_colorized.png``, never over an existing file.
    The returned box has the :class:`HintState` behind it as ``.hint_state``.
    """
    import ipywidgets as widgets

    state = HintState(photo, colorizer, size=size, name=name, folder=folder, fmt=fmt)
    canvas = _canvas_class()(gray=encode_image(state.display_gray, "png"), size=list(state.canvas_size),
                             result_type=f"image/{'png' if fmt == 'png' else 'jpeg'}")
    picker = widgets.ColorPicker(value=DEFAULT_COLOR, description="color", concise=False)
    radius = widgets.IntSlider(value=0, min=0, max=20, description="radius", tooltip="brush radius, canvas px")
    undo, clear = widgets.Button(description="undo", icon="undo"), widgets.Button(description="clear", icon="trash")
    file_name = widgets.Text(value=state.name, description="save as")
    save_json = widgets.Button(description="save hints (JSON)", icon="save")
    save_png = widgets.Button(description="save result (PNG)", icon="image")
    palette = widgets.HBox([])
    status = widgets.HTML()
    source = widgets.HTML(f"<small>colorizer: {html.escape(state.description)}</small>")

    def say(text: str, error: bool = False):
        color = "#b00020" if error else "inherit"
        status.value = f"<span style='color:{color}'>{html.escape(text)}</span>"

    def guarded(action):  # ipywidgets would swallow the exception: show it on the status line
        def run(*args):
            try:
                action(*args)
            except Exception as e:  # noqa: BLE001 - every failure is shown to the user
                say(f"{type(e).__name__}: {e}", error=True)
        return run

    def refresh():
        canvas.points = state.canvas_points()
        state.update()
        canvas.result = state.result_bytes
        say(state.status())

    def pick_swatch(color):
        def run(_):
            picker.value = color
            state.editor.recolor_last(color)
            refresh()
        return guarded(run)

    def show_palette():
        colors = state.suggestions()
        palette.children = ([widgets.Label("suggested:")] if colors else []) + [
            widgets.Button(tooltip=c, layout={"width": "28px"}, style={"button_color": c}) for c in colors]
        for button, c in zip(palette.children[1:], colors):
            button.on_click(pick_swatch(c))

    @guarded
    def on_message(_widget, content, _buffers):
        if content.get("event") != "click":
            return
        state.click(content["x"], content["y"], (content["width"], content["height"]), picker.value,
                    radius.value)
        refresh()
        show_palette()

    def edit(action):
        def run(_):
            action()
            refresh()
        return guarded(run)

    def saver(method, what):
        def run(_):
            path = method(file_name.value)
            say(f"{state.status()} · {what} saved to {path}")
        return guarded(run)

    canvas.on_msg(on_message)
    picker.observe(guarded(lambda change: setattr(canvas, "color", normalize_color(change["new"]))), names="value")
    radius.observe(lambda change: setattr(canvas, "radius", float(change["new"])), names="value")
    undo.on_click(edit(state.editor.undo))
    clear.on_click(edit(state.editor.clear))
    save_json.on_click(saver(state.save_hints, "hints"))
    save_png.on_click(saver(state.save_result, "result"))
    guarded(refresh)()
    box = widgets.VBox([widgets.HBox([picker, radius, undo, clear]), palette, canvas, status,
                        widgets.HBox([file_name, save_json, save_png]), source])
    box.add_class("colorcourse-hints")
    box.hint_state = state
    box.hint_controls = {"canvas": canvas, "picker": picker, "radius": radius, "undo": undo, "clear": clear,
                         "palette": palette, "status": status, "file_name": file_name, "save_json": save_json,
                         "save_png": save_png}
    return box

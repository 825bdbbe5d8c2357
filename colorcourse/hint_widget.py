"""The guided-colorization canvas: click a color on the gray photo, see the photo recolor at once.

Taught in notebooks/12_guided_colorization.ipynb. Levin et al. 2004 (scribbles) and Zhang et al.
2017 (learned hints, and their palette of suggested colors at a click) both put the user in the
loop; this widget is that loop in JupyterLab, on a laptop CPU:

- the gray photo on a canvas, a color picker, a brush radius; a click adds a hint (a point of the
  picked color, in the photo's pixel coordinates); undo (also undoes a clear or a recolor), clear;
- the colorized result beside it, updated after each click; only the colorizer's cheap part runs
  per click (the hint network's decoder: its encoder ran once, in ``prepare``), on the photo at the
  display size, and the result travels as JPEG bytes of that size;
- a palette of suggested colors at the last click when the colorizer offers them
  (``suggest_colors``: the classification decoder's most likely distinct colors there, at the
  photo's own lightness, :mod:`colorcourse.suggested_colors`), each with its probability; a swatch
  sets the color picker and recolors the hint just placed (undoable). The palette follows a plain
  click rather than a modifier (shift-click): the click already says *where*, and the palette
  then offers the network's alternatives for the hint placed there, as Zhang et al.'s interface
  shows its suggestions for the selected point; the suggestions cost a lookup (the network ran
  once per photo), and a modifier would be one more gesture to discover. Undo and clear empty the
  palette: its hint may be gone;
- "save hints" writes the points as JSON (what ``colorcourse colorize --hints`` reads), "save
  result" the colorized photo at its full size as a PNG. Neither ever overwrites: an existing
  ``name.json`` makes the next one ``name-2.json``, ``name-3.json``, ..., and the status line says
  which file was written.

Why anywidget rather than ipycanvas: the canvas is one small ES module (below) that JupyterLab 4
loads through anywidget's prebuilt extension, no build step. The click is drawn in the browser
at once (the dot appears before the kernel answers), the kernel gets one message per click, and
the result comes back as one compressed image in a binary trait. With ipycanvas every mouse event
and every redraw is a kernel round trip and ``put_image_data`` ships raw RGBA (4 bytes a pixel:
0.8 MB for a 512 x 384 result, against ~50 kB of JPEG). anywidget's extension loads in this
course's JupyterLab 4 and Chromium (tests/test_browser_hints.py clicks it there).

All the logic is in :mod:`colorcourse.hint_editor` (plain functions, tested by pytest, because
ipywidgets swallow exceptions in callbacks); :func:`hint_widget` only wires it, and shows any
error on its status line.
"""

from __future__ import annotations

import html
import os

from .hint_editor import (DEFAULT_DISPLAY_SIZE, Colorizer, HintState, default_colorizer, encode_image,
                          levin_colorizer, normalize_color)

__all__ = ["hint_widget", "default_colorizer", "levin_colorizer", "HintState"]

DEFAULT_COLOR = "#d62728"

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


def _text_on(color: str) -> str:
    """Black or white, whichever reads better on the swatch ``color`` (#rrggbb)."""
    r, g, b = (int(color[i:i + 2], 16) / 255.0 for i in (1, 3, 5))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 else "white"


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
    save_json = widgets.Button(description="save hints (JSON)", icon="save", layout={"width": "auto"})
    save_png = widgets.Button(description="save result (PNG)", icon="image", layout={"width": "auto"})
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

    def swatch(entry):
        color, p = entry["color"], entry["probability"]
        button = widgets.Button(description="" if p is None else f"{p:.0%}",
                                tooltip=color if p is None else f"{color} · {p:.1%}",
                                layout={"width": "28px" if p is None else "52px", "padding": "0"},
                                style={"button_color": color, "text_color": _text_on(color)})
        button.add_class("colorcourse-hint-swatch")
        button.on_click(pick_swatch(color))
        return button

    def show_palette():
        entries = state.palette()
        palette.children = ([widgets.Label("suggested:")] if entries else []) + [swatch(e) for e in entries]

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
            palette.children = ()  # the suggestions were for a click that may be gone
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

"""What the comparison lesson's widgets show, as plain functions, and thin ipywidgets builders.

Taught in notebooks/09_comparison.ipynb.

ipywidgets swallow exceptions raised in callbacks: a broken slider fails silently. So every
picture a widget shows is computed by a plain function here (tested by pytest), and the
``*_widget`` builders only wire those functions to sliders, dropdowns and an image.

- :func:`swipe_composite`: the before/after swipe over one photo (gray | colorized | truth).
- :func:`load_colorizers`: every trained colorizer that loads, and why the others do not.
- :func:`compare_methods`: one photo through each colorizer, with PSNR and colorfulness.
- :func:`bilateral_view`, :func:`cluster_view`: the knobs of Cheng et al.'s method.
"""

from __future__ import annotations

import html
import io
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from .color import merge_y_uv, rgb_to_gray, rgb_to_yuv
from .imageio import to_uint8
from .metrics import colorfulness, gray_baseline, psnr

Colorizer = Callable[[np.ndarray], np.ndarray]  # gray: H x W -> rgb: H x W x 3


def _check_rgb(rgb, name: str = "rgb") -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"{name} must be an H x W x 3 RGB image, got shape {rgb.shape}")
    return rgb


# ---------------------------------------------------------------- images for the browser


def to_png_bytes(rgb: np.ndarray) -> bytes:
    """An ``H x W x 3`` image in [0, 1] (or ``H x W`` gray) as PNG file bytes (for ``widgets.Image``)."""
    from PIL import Image

    array = np.asarray(rgb)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    image = Image.fromarray(to_uint8(_check_rgb(array)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decode_image_bytes(data: bytes) -> np.ndarray:
    """Image file bytes (an upload) -> ``H x W x 3`` float32 in [0, 1], EXIF rotation applied."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(bytes(data)))
        image = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"the uploaded file is not an image PIL can read: {e}") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)  # transparent areas shown over white
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def upload_to_rgb(value) -> np.ndarray | None:
    """The image of an ``ipywidgets.FileUpload`` value (v8: tuple of dicts with ``content``), or None."""
    if not value:
        return None
    item = value[0] if isinstance(value, (tuple, list)) else next(iter(value.values()))
    return decode_image_bytes(item["content"])


def fit_size(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Scale an image down (never up) so its longer side is at most ``max_side`` pixels."""
    from skimage.transform import resize

    rgb = np.asarray(rgb)
    h, w = rgb.shape[:2]
    if max_side < 8:
        raise ValueError(f"max_side must be at least 8 pixels, got {max_side}")
    if max(h, w) <= max_side:
        return rgb
    scale = max_side / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale))) + rgb.shape[2:]
    return resize(rgb, shape, anti_aliasing=True, preserve_range=True).astype(np.float32)


# ---------------------------------------------------------------- before / after swipe


def swipe_composite(left_rgb: np.ndarray, right_rgb: np.ndarray, position: float,
                    divider_rgb: Sequence[float] | None = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Columns ``< position * W`` from ``left_rgb``, the rest from ``right_rgb`` (``position`` in [0, 1]).

    ``divider_rgb``: color of a one-pixel line at the seam (``None``: no line), drawn only where
    both images are visible (0 < seam < W).
    """
    left, right = _check_rgb(left_rgb, "left_rgb"), _check_rgb(right_rgb, "right_rgb")
    if left.shape != right.shape:
        raise ValueError(f"left {left.shape} and right {right.shape} images differ in shape")
    if not 0.0 <= position <= 1.0:
        raise ValueError(f"position must be in [0, 1], got {position}")
    width = left.shape[1]
    seam = int(round(position * width))
    out = np.array(right, dtype=np.float32)
    out[:, :seam] = left[:, :seam]
    if divider_rgb is not None and 0 < seam < width:
        out[:, seam] = np.asarray(divider_rgb, dtype=np.float32)
    return out


def swipe_views(true_rgb: np.ndarray, colorized_rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The three views a swipe can show: ``gray`` (what the model sees), ``colorized``, ``ground truth``."""
    true_rgb = _check_rgb(true_rgb, "true_rgb").astype(np.float32)
    colorized_rgb = _check_rgb(colorized_rgb, "colorized_rgb")
    if colorized_rgb.shape != true_rgb.shape:
        raise ValueError(f"colorized {colorized_rgb.shape} and truth {true_rgb.shape} differ in shape")
    return {"gray": gray_baseline(rgb_to_gray(true_rgb)).astype(np.float32),
            "colorized": colorized_rgb.astype(np.float32), "ground truth": true_rgb}


# ---------------------------------------------------------------- the colorizers to compare


def _cheng_variant(**kwargs) -> Callable[[], Colorizer]:
    def make():
        from .cheng.pipeline import ChengColorizer

        return ChengColorizer(**kwargs)

    return make


def _fusion_file(path: Path) -> Callable[[], Colorizer]:
    def make():
        from .fusion.infer import FusionColorizer, load_model

        return FusionColorizer(load_model(path), name=path.stem)

    return make


@contextmanager
def _models_folder(folder: Path | None):
    """Load the registry's models from ``folder`` (``$COLORCOURSE_MODELS`` for the duration)."""
    if folder is None:
        yield
        return
    before = os.environ.get("COLORCOURSE_MODELS")
    os.environ["COLORCOURSE_MODELS"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLORCOURSE_MODELS"]
        else:
            os.environ["COLORCOURSE_MODELS"] = before


def _registry_method(name: str, folder: Path | None) -> Callable[[], Colorizer]:
    def make():
        from . import methods

        with _models_folder(folder):
            return methods.load(name)

    return make


def colorizer_factories(models: str | Path | None = None) -> dict[str, Callable[[], Colorizer]]:
    """Name -> a function that loads that colorizer.

    First every method of the command line that colorizes a gray photo alone, from the one
    registry (:mod:`colorcourse.methods`, the default first), under the same names; then the
    lessons' variants of them (ablations: Cheng without refinement or with clustering, and every
    other ``fusion_*.safetensors`` in ``models``, e.g. trained with another classification weight).
    """
    from . import methods
    from .paths import models_dir

    given = Path(models) if models is not None else None
    folder = given or models_dir()
    factories = {name: _registry_method(name, given) for name in methods.automatic()}
    factories["cheng (no refinement)"] = _cheng_variant(models=folder, refine=False)
    factories["cheng +clustering"] = _cheng_variant(models=folder, clustering=True)
    for path in sorted(folder.glob("fusion_*.safetensors")):
        if path.stem != "fusion_full":  # fusion_full is the registry's "fusion"
            factories[path.stem.replace("_", " ")] = _fusion_file(path)
    return factories


def needs_hints() -> dict[str, str]:
    """The command line's methods the comparison cannot run on a gray photo alone, and why."""
    from . import methods

    return {name: "needs hints (colorcourse colorize --hints): from a gray photo alone it returns the gray photo"
            for name in methods.available() if name not in methods.automatic()}


def load_colorizers(names: Sequence[str] | None = None, models: str | Path | None = None
                    ) -> tuple[dict[str, Colorizer], dict[str, str]]:
    """``(loaded, unavailable)``: the colorizers that load, and for the others the reason why
    (with ``names=None``: every colorizer of :func:`colorizer_factories`, and the command line's
    methods that need hints, listed as unavailable).

    A model that is not trained yet (no file in ``models/``) or is broken never stops the
    lesson: it is listed in ``unavailable`` with its error message.
    """
    factories = colorizer_factories(models)
    loaded, unavailable = {}, {}
    if names is None:  # every method: those that need hints are listed with the reason
        names = list(factories)
        unavailable.update(needs_hints())
    for name in names:
        if name not in factories:
            raise ValueError(f"unknown colorizer {name!r}; choose from {', '.join(factories)}")
        try:
            loaded[name] = factories[name]()
        except Exception as e:  # noqa: BLE001 - any load failure is reported, not raised
            unavailable[name] = f"{type(e).__name__}: {e}"
    return loaded, unavailable


# ---------------------------------------------------------------- model picker


@dataclass
class Comparison:
    """One colorizer's result on one photo."""

    name: str
    rgb: np.ndarray  # H x W x 3 in [0, 1]
    psnr: float | None  # dB against the color photo; None when the photo has no color to compare
    colorfulness: float


def is_gray_photo(rgb: np.ndarray, tolerance: float = 2.0 / 255.0) -> bool:
    """True when an RGB image carries no color (R = G = B within ``tolerance``): nothing to score against."""
    rgb = _check_rgb(rgb)
    return bool(np.max(np.ptp(rgb, axis=-1)) <= tolerance)


def compare_methods(photo_rgb: np.ndarray, colorizers: Mapping[str, Colorizer]) -> list[Comparison]:
    """Colorize the gray version of ``photo_rgb`` with each colorizer; PSNR against the photo.

    The photo itself comes first as ``"ground truth"``. For an already-gray upload there is no
    ground truth, so every PSNR is ``None`` (colorfulness still says how much color was added).
    """
    photo = _check_rgb(photo_rgb, "photo_rgb").astype(np.float32)
    gray = rgb_to_gray(photo)
    has_truth = not is_gray_photo(photo)
    rows = [Comparison("ground truth" if has_truth else "input (gray)", photo,
                       float("inf") if has_truth else None, colorfulness(photo))]
    for name, colorizer in colorizers.items():
        rgb = np.clip(np.asarray(colorizer(gray), dtype=np.float32), 0.0, 1.0)
        if rgb.shape != photo.shape:
            raise ValueError(f"{name} returned shape {rgb.shape} for a photo of shape {photo.shape}")
        rows.append(Comparison(name, rgb, psnr(rgb, photo) if has_truth else None, colorfulness(rgb)))
    return rows


def comparison_caption(row: Comparison) -> str:
    """``"fusion: 24.1 dB, colorfulness 31.2"`` (no dB for the truth itself or a gray upload)."""
    if row.psnr is None or np.isinf(row.psnr):
        return f"{row.name}: colorfulness {row.colorfulness:.1f}"
    return f"{row.name}: {row.psnr:.2f} dB, colorfulness {row.colorfulness:.1f}"


# ---------------------------------------------------------------- Cheng's knobs


def bilateral_view(gray: np.ndarray, uv: np.ndarray, sigma_spatial: float, sigma_range: float) -> np.ndarray:
    """``gray`` with the chroma ``uv`` (H x W x 2) after the joint bilateral filter, as RGB."""
    from .cheng.bilateral import refine_uv

    return merge_y_uv(gray, refine_uv(uv, gray, sigma_spatial, sigma_range))


def noisy_chroma(rgb: np.ndarray, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """The photo's own chroma plus Gaussian noise (H x W x 2): a stand-in for an unrefined prediction."""
    uv = rgb_to_yuv(np.asarray(rgb, dtype=np.float32))[..., 1:]
    return (uv + np.random.default_rng(seed).normal(0.0, noise, uv.shape)).astype(np.float32)


def cluster_view(colorizer, gray: np.ndarray, cluster: int | None = None) -> tuple[np.ndarray, int]:
    """``(rgb, cluster used)``: Cheng's clustered colorizer forced to one cluster's network.

    ``cluster=None`` lets the method choose (gist + semantic histogram), as it does normally.
    """
    from .cheng.bilateral import joint_bilateral_filter
    from .cheng.features import check_gray, pixel_features
    from .cheng.gist import gist
    from .cheng.semantic import semantic_features, semantic_histogram

    if getattr(colorizer, "clusters", None) is None:
        raise ValueError("cluster_view needs a ChengColorizer built with clustering=True")
    gray = check_gray(gray)
    semantic = semantic_features(gray, colorizer.parser)
    n = len(colorizer.clusters.clusters)
    if cluster is None:
        cluster = colorizer.clusters.choose(gist(gray), semantic_histogram(semantic))
    if not 0 <= cluster < n:
        raise ValueError(f"cluster must be in 0..{n - 1}, got {cluster}")
    network = colorizer.clusters.clusters[cluster].network
    uv = network.predict(pixel_features(gray, colorizer.groups, semantic))
    if colorizer.refine:
        uv = joint_bilateral_filter(uv, gray, colorizer.sigma_spatial, colorizer.sigma_range)
    return merge_y_uv(gray, uv), int(cluster)


# ---------------------------------------------------------------- lesson photos


def demo_photos(limit: int | None = None, max_side: int = 256) -> list:
    """Color photos that ship with scikit-image (used when the course pack is not built)."""
    from skimage import data

    from .coursepack import Photo

    photos = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        rgb = fit_size(getattr(data, name)().astype(np.float32) / 255.0, max_side)
        photos.append(Photo(name, "demo", rgb.astype(np.float32), Path(name)))
    return photos[:limit] if limit is not None else photos


def lesson_photos(split: str = "test", limit: int | None = None, seed: int = 0) -> tuple[list, str]:
    """``(photos, source)``: ``limit`` photos of the course pack's ``split`` across its labels (one
    per label in a seeded order, :func:`colorcourse.lessonkit.one_per_label`), or scikit-image's
    samples if the pack is not built."""
    from .coursepack import load_split
    from .lessonkit import one_per_label
    from .paths import DatasetMissingError

    try:
        photos = load_split(split)
        return (one_per_label(photos, n=limit, seed=seed) if limit else photos), f"course pack, {split} split"
    except DatasetMissingError as e:
        return demo_photos(limit), f"scikit-image samples ({e})"


# ---------------------------------------------------------------- widget builders (wiring only)


def image_widget(rgb: np.ndarray, width: int | None = None):
    import ipywidgets as widgets

    # shown at its own pixel size unless a width is given (the browser would stretch it otherwise)
    width = width or np.asarray(rgb).shape[1]
    return widgets.Image(value=to_png_bytes(rgb), format="png", layout={"width": f"{width}px", "max_width": "100%"})


def swipe_widget(views: Mapping[str, np.ndarray], left: str = "gray", right: str = "colorized",
                 position: float = 0.5):
    """A before/after swipe: two dropdowns pick the views, a slider moves the seam."""
    import ipywidgets as widgets

    names = list(views)
    left_pick = widgets.Dropdown(options=names, value=left, description="left")
    right_pick = widgets.Dropdown(options=names, value=right, description="right")
    slider = widgets.FloatSlider(value=position, min=0.0, max=1.0, step=0.01, description="swipe",
                                 continuous_update=True)
    image = image_widget(swipe_composite(views[left], views[right], position))

    def redraw(_=None):
        image.value = to_png_bytes(swipe_composite(views[left_pick.value], views[right_pick.value],
                                                   slider.value))

    for control in (left_pick, right_pick, slider):
        control.observe(redraw, names="value")
    box = widgets.VBox([widgets.HBox([left_pick, right_pick]), slider, image])
    box.add_class("colorcourse-swipe")
    return box


def comparison_widget(rows: Sequence[Comparison], width: int = 220):
    """A grid of the results of :func:`compare_methods`, each captioned with PSNR and colorfulness."""
    import ipywidgets as widgets

    cells = [widgets.VBox([image_widget(r.rgb, width), widgets.Label(comparison_caption(r))]) for r in rows]
    return widgets.GridBox(cells, layout={"grid_template_columns": f"repeat(auto-fill, {width + 10}px)"})


def model_picker_widget(photos: Mapping[str, np.ndarray], colorizers: Mapping[str, Colorizer],
                        unavailable: Mapping[str, str] | None = None, max_side: int = 256):
    """Pick a lesson photo (or upload one) and the colorizers to compare; shows :func:`comparison_widget`."""
    import ipywidgets as widgets

    photo_pick = widgets.Dropdown(options=list(photos), description="photo")
    upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
    methods = widgets.SelectMultiple(options=list(colorizers), value=tuple(colorizers),
                                     description="methods", rows=min(6, max(2, len(colorizers))))
    output = widgets.Output()
    notes = [widgets.HTML(f"<b>{html.escape(name)}</b> unavailable: {html.escape(reason)}")
             for name, reason in (unavailable or {}).items()]

    def redraw(_=None):
        uploaded = upload_to_rgb(upload.value)
        photo = fit_size(uploaded, max_side) if uploaded is not None else photos[photo_pick.value]
        rows = compare_methods(photo, {n: colorizers[n] for n in methods.value})
        output.clear_output(wait=True)
        with output:
            from IPython.display import display

            display(comparison_widget(rows))

    for control in (photo_pick, upload, methods):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([photo_pick, upload]), methods, *notes, output])


def bilateral_widget(gray: np.ndarray, uv: np.ndarray, sigma_spatial: float = 3.0, sigma_range: float = 0.08):
    """Sliders for the joint bilateral filter's two sigmas over a fixed unrefined chroma ``uv``."""
    import ipywidgets as widgets

    spatial = widgets.FloatSlider(value=sigma_spatial, min=0.5, max=8.0, step=0.5, description="sigma_spatial",
                                  continuous_update=False)
    rng = widgets.FloatLogSlider(value=sigma_range, base=10, min=-2.5, max=0, step=0.1, description="sigma_range",
                                 continuous_update=False)
    before = image_widget(merge_y_uv(gray, uv))
    after = image_widget(bilateral_view(gray, uv, spatial.value, rng.value))

    def redraw(_=None):
        after.value = to_png_bytes(bilateral_view(gray, uv, spatial.value, rng.value))

    spatial.observe(redraw, names="value")
    rng.observe(redraw, names="value")
    return widgets.VBox([spatial, rng, widgets.HBox([
        widgets.VBox([widgets.Label("unrefined chroma"), before]),
        widgets.VBox([widgets.Label("after the joint bilateral filter"), after])])])


def cluster_widget(colorizer, gray: np.ndarray):
    """A slider over the clustered Cheng colorizer's networks; shows which one the method would choose."""
    import ipywidgets as widgets

    rgb, chosen = cluster_view(colorizer, gray)
    n = len(colorizer.clusters.clusters)
    slider = widgets.IntSlider(value=chosen, min=0, max=n - 1, description="cluster", continuous_update=False)
    label = widgets.Label(f"the method chooses cluster {chosen}")
    image = image_widget(rgb)

    def redraw(_=None):
        image.value = to_png_bytes(cluster_view(colorizer, gray, slider.value)[0])

    slider.observe(redraw, names="value")
    return widgets.VBox([slider, label, image])


def style_widget(model, gray: np.ndarray, styles: Mapping[str, np.ndarray]):
    """A dropdown of style images: ``gray`` colorized with the chosen image's global features."""
    import ipywidgets as widgets

    from .fusion.infer import colorize

    pick = widgets.Dropdown(options=["own", *styles], description="style")
    image = image_widget(colorize(model, gray))

    def redraw(_=None):
        style = None if pick.value == "own" else styles[pick.value]
        image.value = to_png_bytes(colorize(model, gray, style_image=style))

    pick.observe(redraw, names="value")
    return widgets.VBox([pick, image])


def gain_view(model, photo_rgb: np.ndarray, gain: float) -> tuple[np.ndarray, float, float]:
    """``photo_rgb`` made gray and colorized by the fusion ``model`` with its a*b* scaled by ``gain``.

    Returns ``(rgb, psnr, colorfulness)``: the colorized photo, its PSNR against ``photo_rgb`` in dB and
    its Hasler & Suesstrunk colorfulness. ``gain=1.0`` is the network's own output; the shipped
    model's default (``model.chroma_gain``, 1.3) is only one point on this curve.
    """
    from .fusion.infer import colorize

    photo_rgb = _check_rgb(photo_rgb, "photo_rgb")
    gain = float(gain)
    if not np.isfinite(gain) or gain < 0:
        raise ValueError(f"gain must be a finite number >= 0, got {gain}")
    rgb = colorize(model, rgb_to_gray(photo_rgb), chroma_gain=gain)
    return rgb, psnr(rgb, photo_rgb), colorfulness(rgb)


def gain_sweep(model, photos_rgb: Sequence[np.ndarray], gains: Sequence[float]) -> list[dict]:
    """:func:`gain_view` over ``photos_rgb`` for each gain: one row per gain with the mean PSNR, the mean
    colorfulness and the mean colorfulness ratio (colorized / true; 1.0 means as colorful as the truth)."""
    rows = []
    for gain in gains:
        views = [(gain_view(model, p, gain), colorfulness(p)) for p in photos_rgb]
        rows.append({"gain": float(gain),
                     "psnr": float(np.mean([v[1] for v, _ in views])),
                     "colorfulness": float(np.mean([v[2] for v, _ in views])),
                     "colorfulness_ratio": float(np.mean([v[2] / max(t, 1e-6) for v, t in views]))})
    return rows

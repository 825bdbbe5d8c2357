"""Choose a reference photo (a course photo or an upload) and see the gray photo take its colors.

Taught in notebooks/13_colorization_by_example.ipynb, in the family of the hint canvas
(:mod:`colorcourse.hint_widget`). The photo is encoded once (:class:`ExemplarState`); a new
reference costs its own encoding, the matching and one decoder run. Beside the result the widget
shows the correspondence itself: the reference's colors warped onto the photo and the confidence
map (white: a sure match, black: the network's own guess is used).

The logic is in plain functions and :class:`ExemplarState`, tested by pytest (ipywidgets swallow
exceptions raised in callbacks); :func:`exemplar_widget` only wires them and shows any error on
its status line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .widgets import fit_size, upload_to_rgb

REFERENCE_SPLITS = ("train", "shift_val")  # never a test split: those photos score the methods
DISPLAY_SIZE = 384


def course_references(splits=REFERENCE_SPLITS, data_dir=None) -> dict[str, Path]:
    """``{"label: id": file}`` of the course pack's photos a student may pick as the reference,
    sorted by label then id (empty when the pack is not built)."""
    from . import coursepack
    from .paths import DatasetMissingError

    try:
        manifest = coursepack.load_manifest(data_dir)
    except DatasetMissingError:
        return {}
    rows = manifest[manifest["split"].isin(splits)].sort_values(["label", "id"])
    folder = coursepack.pack_dir(data_dir)
    return {f"{row.label}: {row.id}": folder / row.file for row in rows.itertuples()}


def read_reference(choice: Path | None = None, upload=None, max_side: int = 1024) -> np.ndarray:
    """The reference RGB from an upload (an ``ipywidgets.FileUpload`` value; it wins) or a file,
    scaled to at most ``max_side``; ValueError (one line) when there is none or it is gray."""
    from .exemplar import check_reference
    from .imageio import load_rgb

    rgb = upload_to_rgb(upload) if upload else None
    if rgb is None:
        if choice is None:
            raise ValueError("choose a course photo or upload a color photo as the reference")
        rgb = load_rgb(choice, allow_gray=True)
    return check_reference(fit_size(rgb, max_side))  # GrayReferenceError: "... has no colors to lend"


@dataclass
class ExemplarView:
    """What the widget shows for one reference (all ``H x W x 3`` in [0, 1] at the display size)."""

    result: np.ndarray
    warped: np.ndarray  # the reference's colors as warped, with the photo's own lightness
    confidence: np.ndarray  # gray: the confidence map
    mean_confidence: float


class ExemplarState:
    """One gray photo, encoded once; :meth:`with_reference` colors it after any reference."""

    def __init__(self, gray: np.ndarray, model=None, display_size: int = DISPLAY_SIZE, blend: str | None = None):
        from .exemplar import DEFAULT_BLEND

        if model is None:
            from .exemplar_eval import load_hint_model

            model, _ = load_hint_model()
        self.model, self.blend = model, blend or DEFAULT_BLEND
        self.gray = fit_size(np.asarray(gray, dtype=np.float32), display_size)

    def with_reference(self, reference_rgb: np.ndarray) -> ExemplarView:
        from .exemplar import ExemplarSession

        session = ExemplarSession(self.model, self.gray, reference_rgb)
        return view_of(session, self.blend)


def view_of(session, blend: str) -> ExemplarView:
    """The result, the warped colors and the confidence map of an :class:`~colorcourse.exemplar.ExemplarSession`
    at the photo's size (also what lesson 13 pictures)."""
    import torch.nn.functional as F

    from .fusion.pretrained import ab_to_rgb, upsample_ab

    corr = session.correspondence
    shape = session.session.shape
    warped = ab_to_rgb(session.session.gray, upsample_ab(corr.ab[None], shape), 1.0)
    conf = F.interpolate(corr.confidence[None, None], size=shape, mode="nearest")[0, 0].numpy()
    return ExemplarView(result=session.colorize(blend), warped=warped,
                        confidence=np.repeat(conf[..., None], 3, axis=-1).astype(np.float32),
                        mean_confidence=float(corr.confidence.mean()))


def exemplar_widget(gray: np.ndarray, model=None, references: dict[str, Path] | None = None):
    """The widget: a dropdown of course photos, an upload button, and the result, the warped colors
    and the confidence side by side (wiring only)."""
    import ipywidgets as widgets

    from .widgets import image_widget, to_png_bytes

    state = ExemplarState(gray, model)
    references = course_references() if references is None else references
    picker = widgets.Dropdown(options=["(none)"] + list(references), description="reference")
    upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload a reference")
    status = widgets.HTML("choose a reference photo")
    images = {name: image_widget(state.gray) for name in ("result", "warped colors", "confidence")}
    reference_image = image_widget(state.gray, width=160)

    def update(change=None):
        from_upload = change is not None and change["owner"] is upload  # the latest choice wins
        try:
            rgb = read_reference(references.get(picker.value), upload.value if from_upload else None)
            view = state.with_reference(rgb)
        except Exception as e:  # noqa: BLE001 (shown on the status line: a callback's exception is swallowed)
            status.value = f"<b>{str(e).splitlines()[0]}</b>"
            return
        reference_image.value = to_png_bytes(fit_size(rgb, 160))
        for name, rgb_view in (("result", view.result), ("warped colors", view.warped), ("confidence", view.confidence)):
            images[name].value = to_png_bytes(rgb_view)
        status.value = f"mean confidence {view.mean_confidence:.2f} (1: every region found its match)"

    picker.observe(update, names="value")
    upload.observe(update, names="value")
    columns = [widgets.VBox([widgets.Label(name), image]) for name, image in images.items()]
    return widgets.VBox([widgets.HBox([picker, upload, reference_image]), status, widgets.HBox(columns)])

"""The guided-colorization canvas as a student uses it: JupyterLab in a real (headless) Chromium.

A small notebook shows :func:`colorcourse.hint_widget.hint_widget` on a gray photo with Levin et
al.'s optimization behind it and the shipped classification decoder's suggested colors
(:class:`colorcourse.hint_editor.SuggestingColorizer`); the test clicks the canvas and checks
that a hint was added and that the result image's pixels changed, from gray to the hint's
color around the click; then that the palette shows its swatches and that clicking one sets
the color picker to that swatch's color. The server, the browser and their skips come from tests/test_browser.py
(its ``lab`` fixture, pointed at this notebook). Screenshot: build/test-artifacts/browser_hints.png.
"""

import io

import nbformat
import numpy as np
import pytest
import test_browser
from PIL import Image
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TOKEN, _wait_for_idle_kernel
from test_browser import lab  # noqa: F401  (the fixture, registered here by the import)

pytestmark = pytest.mark.slow

HINT_COLOR = "#1f77b4"  # a blue that no gray photo has
PALETTE_SIZE = 6  # HintState.palette's k: six distinct colors at the click's mid-gray
CELLS = [
    ("code", "SIZE = 96", ["parameters"]),
    ("code", "import numpy as np\n"
             "from skimage import data\n"
             "from skimage.transform import resize\n\n"
             "from colorcourse.hint_editor import SuggestingColorizer\n"
             "from colorcourse.hint_widget import hint_widget, levin_colorizer\n\n"
             "gray = resize(data.camera() / 255.0, (SIZE, SIZE), anti_aliasing=True).astype(np.float32)\n"
             "colorizer = SuggestingColorizer(levin_colorizer)  # Levin's colors, the decoder's palette\n"
             "widget = hint_widget(gray, colorizer=colorizer, size=SIZE, name='camera', folder='saved')\n"
             f"widget.hint_controls['picker'].value = '{HINT_COLOR}'\n"
             "widget", []),
]


@pytest.fixture
def hint_lab(tmp_path, monkeypatch, request):
    """tests/test_browser.py's JupyterLab server, serving the widget notebook instead of lesson 09."""
    notebook = nbformat.v4.new_notebook()
    for kind, source, tags in CELLS:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        notebook.cells.append(cell)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = tmp_path / "source" / "hint_widget.ipynb"
    source.parent.mkdir()
    nbformat.write(notebook, source)
    monkeypatch.setattr(test_browser, "NOTEBOOK", source)
    return request.getfixturevalue("lab")


def _run_all_cells(page, port, name):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"http://127.0.0.1:{port}/lab/tree/{name}?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    _wait_for_idle_kernel(port)  # the page shows "idle" before its kernel exists
    for attempt in range(2):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        try:  # a cell gets an execution count once the kernel really runs it
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]"
                ".some(p => /\\[(\\d+|\\*)\\]/.test(p.textContent))", timeout=20_000)
            return
        except PlaywrightTimeout:  # the websocket was not connected yet: run them again
            if attempt:
                raise


def _result_pixels(page) -> np.ndarray:
    """The result image the browser shows, decoded from the bytes behind its blob: URL."""
    data = page.evaluate("""async () => {
        const src = document.querySelector('.colorcourse-hint-result').src;
        return Array.from(new Uint8Array(await (await fetch(src)).arrayBuffer()));
    }""")
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"), dtype=np.float32) / 255.0


def test_clicking_the_canvas_adds_a_hint_and_recolors_the_result(hint_lab):
    from playwright.sync_api import sync_playwright

    port, name = hint_lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "browser_hints.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            _run_all_cells(page, port, name)
            widget = page.locator(".colorcourse-hint-canvas").first
            widget.wait_for(state="attached", timeout=90_000)
            page.wait_for_function(  # the first result (no hint yet) has arrived
                "() => document.querySelector('.colorcourse-hint-canvas')?.dataset.updates >= 1",
                timeout=60_000)
            page.wait_for_function(  # the picker's color has reached the canvas
                f"() => document.querySelector('.colorcourse-hints input[type=color]')?.value === '{HINT_COLOR}'",
                timeout=30_000)
            before = _result_pixels(page)
            assert before.shape == (96, 96, 3)
            assert np.ptp(before, axis=-1).max() < 0.05  # no hint: Levin leaves the photo gray
            assert widget.get_attribute("data-hints") == "0"

            canvas = widget.locator("canvas")
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            assert box["width"] > 0
            canvas.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.25})
            page.wait_for_function(
                "() => document.querySelector('.colorcourse-hint-canvas').dataset.updates >= 2",
                timeout=60_000)
            assert widget.get_attribute("data-hints") == "1"
            assert "1 hint ·" in page.locator(".colorcourse-hints").first.inner_text()
            after = _result_pixels(page)
            assert after.shape == before.shape and np.abs(after - before).max() > 0.1
            # near the click the photo took the hint's color: blue above red and green
            r, g, b = after[20:28, 20:28].reshape(-1, 3).mean(axis=0)
            assert b > r + 0.05 and b > g, (r, g, b)

            # the palette: the suggested colors at the click, each a swatch with its color in its title
            swatches = page.locator(".colorcourse-hints .colorcourse-hint-swatch")
            page.wait_for_function(
                f"() => document.querySelectorAll('.colorcourse-hints .colorcourse-hint-swatch').length === {PALETTE_SIZE}",
                timeout=30_000)
            titles = [swatches.nth(i).get_attribute("title") for i in range(PALETTE_SIZE)]
            colors = [t.split()[0] for t in titles]
            assert all(len(c) == 7 and c.startswith("#") for c in colors) and len(set(colors)) == PALETTE_SIZE, titles
            chosen = colors[1]
            assert chosen != HINT_COLOR  # so the picker's change below is the swatch's doing
            swatches.nth(1).click()
            page.wait_for_function(  # the picker takes the swatch's color
                f"() => document.querySelector('.colorcourse-hints input[type=color]')?.value === '{chosen}'",
                timeout=30_000)
            page.wait_for_function(  # and the hint, recolored, is colorized again
                "() => document.querySelector('.colorcourse-hint-canvas').dataset.updates >= 3", timeout=60_000)
            assert widget.get_attribute("data-hints") == "1"

            errors = page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
            assert errors.count() == 0, errors.first.inner_text()
            page.locator(".colorcourse-hints").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(screenshot))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_hints_failure.png"))
            raise
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000

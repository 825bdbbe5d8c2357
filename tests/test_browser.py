"""The comparison lesson as a student sees it: JupyterLab in a real (headless) Chromium.

Starts JupyterLab on 127.0.0.1 with a fixed token in a temporary folder holding the comparison
notebook (CI parameters injected with papermill), runs every cell from the Run menu, drags the
swipe slider and checks that the displayed image changed. The screenshot is kept as a test
artifact in build/test-artifacts/browser_comparison.png.

Needs Debian's chromium (``apt-get install -y chromium``) and the ``playwright`` Python package
(no ``playwright install``: the system browser is used). Skipped when chromium is absent, except
under CI (``CI`` set), where a missing browser fails the test.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "09_comparison.ipynb"
ARTIFACTS = REPO / "build" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "colorcourse-browser-test"

pytestmark = pytest.mark.slow


def _need_browser():
    in_ci = bool(os.environ.get("CI"))
    if not Path(CHROMIUM).is_file():
        if in_ci:
            pytest.fail(f"chromium is not installed ({CHROMIUM}): CI needs `apt-get install -y chromium`")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium); CI runs this test")
    if in_ci:
        import playwright  # noqa: F401  (a missing package fails under CI)
    else:
        pytest.importorskip("playwright", reason="the playwright package (test extra) is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(port: int, path: str, method: str = "GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}?token={TOKEN}", method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def _wait_for_idle_kernel(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(k.get("execution_state") == "idle" for k in _api(port, "/api/kernels")):
            time.sleep(2)  # and let the page connect its websocket to it
            return
        time.sleep(0.5)
    raise RuntimeError(f"no kernel became idle within {timeout} s")


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on loopback serving a folder with the CI-sized comparison notebook."""
    _need_browser()
    import papermill

    from colorcourse.lessons import ci_parameters

    root = tmp_path / "notebooks"
    root.mkdir()
    params = ci_parameters(nbformat.read(NOTEBOOK, as_version=4))
    papermill.execute_notebook(str(NOTEBOOK), str(root / NOTEBOOK.name), parameters=params,
                               prepare_only=True, kernel_name="python3", progress_bar=False)
    # JupyterLab 4 renders only the cells in view ("windowing"); render them all, so the widget
    # exists in the page wherever the notebook is scrolled.
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    log = open(tmp_path / "jupyter.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--allow-root"],  # CI containers run as root
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,  # own process group
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _api(port, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "jupyter.log").read_text())
                time.sleep(0.5)
        yield port, NOTEBOOK.name
    finally:
        try:  # kernels run in their own sessions: shut them down through the server first
            for kernel in _api(port, "/api/kernels"):
                _api(port, f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the server's own group: its pid
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


def test_swipe_slider_changes_the_image_in_jupyterlab(lab):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    port, name = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "browser_comparison.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{name}?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            # The page shows "idle" before its kernel exists: wait for the server to report one.
            _wait_for_idle_kernel(port)
            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
            try:  # the first cell gets an execution count once the kernel really runs it
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]"
                    ".some(p => /\\[(\\d+|\\*)\\]/.test(p.textContent))", timeout=20_000)
            except PlaywrightTimeout:  # the websocket was not connected yet: run them again
                page.click(".lm-MenuBar-itemLabel:text-is('Run')")
                page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")

            handle = page.locator(".colorcourse-swipe .noUi-handle").first
            handle.wait_for(state="attached", timeout=90_000)
            handle.scroll_into_view_if_needed()
            image = page.locator(".colorcourse-swipe img").first
            image.wait_for(state="visible", timeout=10_000)
            before = image.get_attribute("src")
            assert before and before.startswith(("blob:", "data:"))

            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] - 40, box["y"] + box["height"] / 2, steps=10)
            page.mouse.up()
            page.wait_for_function(
                "before => document.querySelector('.colorcourse-swipe img').getAttribute('src') !== before",
                arg=before, timeout=30_000)
            readout = page.locator(".colorcourse-swipe .widget-readout").first.inner_text()
            assert 0.0 <= float(readout) < 0.5  # the seam moved left of its start (0.5)

            # let "Run All" finish so the screenshot shows a settled notebook and nothing errored
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]"
                ".every(p => !p.textContent.includes('*'))", timeout=90_000)
            errors = page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
            assert errors.count() == 0, errors.first.inner_text()
            # the course's JupyterLab settings (jupyter/overrides.json, installed by make env) turn
            # the "official Jupyter news?" question off: it would cover the lesson
            assert page.get_by_text("Would you like to get notified about official Jupyter news").count() == 0
            assert page.get_by_role("button", name="No", exact=True).count() == 0
            page.locator(".colorcourse-swipe").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(screenshot))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_comparison_failure.png"))
            raise
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000

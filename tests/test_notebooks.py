"""Every lesson: committed clean, shaped like a lesson, and executed headless with its CI parameters
(papermill injects them, nbval executes and validates in lax mode, in this environment)."""

import json

import nbformat
import pytest

from colorcourse import lessons

LESSONS = lessons.discover()


def test_lessons_are_numbered_in_order():
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert numbers == list(range(len(numbers))), [p.name for p in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    raw = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(raw["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; executed copies are build products"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_shape(path):
    nb = nbformat.read(path, as_version=4)
    index, defaults = lessons.parameters_cell(nb)  # exactly one, plain literals only
    assert defaults, "the parameters cell sets nothing"
    assert index <= 3, "the parameters cell belongs right after the set-up"
    lessons.ci_parameters(nb)  # only names the parameters cell defines
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    headings = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in headings
    if not path.name.startswith("00_"):
        assert "## Exercises" in headings
    if int(path.name[:2]) >= 2:  # the method lessons show the math they teach, displayed
        assert "$$" in headings, f"{path.name} has no displayed equation"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_names_the_kernel_the_set_up_registers(path):
    spec = nbformat.read(path, as_version=4).metadata["kernelspec"]
    assert (spec["name"], spec["display_name"]) == (lessons.KERNEL_NAME, lessons.KERNEL_DISPLAY_NAME)
    makefile = (lessons.repo_root() / "Makefile").read_text()
    assert (f"ipykernel install --sys-prefix --name {lessons.KERNEL_NAME} "
            f'--display-name "{lessons.KERNEL_DISPLAY_NAME}"') in makefile


def test_the_runner_names_the_fix_when_the_course_kernel_is_not_registered(monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    assert lessons.require_kernel() == lessons.KERNEL_NAME  # registered here (make env)
    monkeypatch.setattr(KernelSpecManager, "find_kernel_specs", lambda self: {"python3": "/x"})
    with pytest.raises(SystemExit, match="'colorcourse' is not registered: run `make env`"):
        lessons.require_kernel()


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_first_code_cell_names_the_fix_when_colorcourse_is_missing(path):
    import subprocess
    import sys

    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    guard = first.source.split("\n\n")[0]  # the check, before the lesson's own imports
    blocked = "import sys; sys.modules['colorcourse'] = None\n"  # import now raises ImportError
    proc = subprocess.run([sys.executable, "-c", blocked + guard], capture_output=True, text=True)
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode != 0 and last.startswith("ModuleNotFoundError: colorcourse is not installed")
    assert lessons.KERNEL_DISPLAY_NAME in last and "make env" in last
    assert subprocess.run([sys.executable, "-c", guard], capture_output=True).returncode == 0


@pytest.mark.parametrize("path", [p for p in LESSONS if int(p.name[:2]) >= 2], ids=lambda p: p.stem)
def test_lesson_shows_the_package_code_it_teaches(path):
    # the taught code rendered from the package (colorcourse.lessonkit.show_source), never a copy
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    shown = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        body = ast.parse(TransformerManager().transform_cell(cell.source)).body
        calls = [node for node in ast.walk(body[-1]) if isinstance(node, ast.Call)] if body else []
        # displayed: the cell's last expression, or inside display(...)
        if body and isinstance(body[-1], ast.Expr) and any(getattr(n.func, "id", None) == "show_source" for n in calls):
            shown += [ast.unparse(n.args[0]) for n in calls if getattr(n.func, "id", None) == "show_source"]
    assert shown, f"{path.name} shows no package source (show_source(...) as a cell's last expression)"


def test_parameters_cell_rejects_computed_values():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("n = 4\nm = n * 2")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    with pytest.raises(ValueError, match="'m' is not a plain literal"):
        lessons.parameters_cell(nb)
    nb.cells[0].metadata["tags"] = []
    with pytest.raises(ValueError, match="exactly one cell tagged 'parameters'"):
        lessons.parameters_cell(nb)


def test_edited_executed_copy_is_kept_not_overwritten(tmp_path):
    target = tmp_path / "01_x.ipynb"
    target.write_text("what the runner wrote")
    record = {target.name: lessons._digest(target)}
    assert lessons._keep_if_edited(target, record) is None  # unchanged: may be replaced
    target.write_text("a student's notes")
    kept = lessons._keep_if_edited(target, record)
    assert kept is not None and kept.read_text() == "a student's notes" and not target.exists()


def _tiny_notebook(path, source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_execute_lesson_reports_ok_errors_and_timeouts(tmp_path):
    ok = lessons.execute_lesson(_tiny_notebook(tmp_path / "ok.ipynb", "x = 1"), tmp_path / "ok_out.ipynb", {})
    assert ok == "ok" and (tmp_path / "ok_out.ipynb").is_file()
    err = lessons.execute_lesson(_tiny_notebook(tmp_path / "err.ipynb", "1 / 0"), tmp_path / "err_out.ipynb", {})
    assert err.startswith("FAILED: ZeroDivisionError")
    slow = _tiny_notebook(tmp_path / "slow.ipynb", "import time; time.sleep(60)")
    assert lessons.execute_lesson(slow, tmp_path / "slow_out.ipynb", {}, timeout=3) == lessons.TIMED_OUT


def test_sliced_polling_keeps_timeouts_and_delivers_replies():
    # papermill's client with poll_in_slices: a 1.5 s wait still times out after 1.5 s (not
    # sooner, not never), and a reply that comes later is still delivered to a wait without limit
    import asyncio
    import time
    from queue import Empty

    from jupyter_client import AsyncKernelManager

    lessons.poll_in_slices(slice_seconds=0.2)

    async def scenario():
        km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel()
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            msg_id = client.execute("import time; time.sleep(3)")
            start = time.monotonic()
            with pytest.raises(Empty):
                await client.shell_channel.get_msg(timeout=1.5)
            waited = time.monotonic() - start
            reply = await client.shell_channel.get_msg(timeout=None)
            return waited, reply["parent_header"]["msg_id"] == msg_id
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)

    waited, got_reply = asyncio.run(scenario())
    assert 1.4 <= waited < 2.5 and got_reply


def test_a_lesson_that_times_out_is_run_once_more(tmp_path, monkeypatch):
    statuses = iter([lessons.TIMED_OUT, "ok"])
    calls = []

    def flaky(source, target, params):
        calls.append(source.name)
        return next(statuses)

    monkeypatch.setattr(lessons, "execute_lesson", flaky)
    results = lessons.run(tmp_path, only=["00_"], html=False)
    assert calls == ["00_setup_check.ipynb"] * 2 and results[0]["status"] == "ok"


def test_a_lesson_that_times_out_twice_fails_with_a_clear_status(tmp_path, monkeypatch):
    monkeypatch.setattr(lessons, "execute_lesson", lambda *a: lessons.TIMED_OUT)
    results = lessons.run(tmp_path, only=["00_"], html=False)
    assert results[0]["status"] == "FAILED: " + lessons.RETRY[lessons.TIMED_OUT]
    assert "COLORCOURSE_CELL_TIMEOUT" in results[0]["status"]  # says which knob to turn


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_executes_with_ci_parameters(path, tmp_path):
    proc = lessons.check(path, workdir=tmp_path)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]

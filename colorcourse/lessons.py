"""Run the lessons headless: the course's main job (``make course``) and CI's notebook check.

- ``python -m colorcourse.lessons run --out build/course`` executes every lesson in
  ``notebooks/`` at its default parameters with papermill, writes the executed notebooks and
  rendered HTML under ``--out``, and prints each lesson's time.
- ``python -m colorcourse.lessons check notebooks/NN_x.ipynb`` injects the lesson's small CI
  parameters (stored in its metadata under ``colorcourse.ci_parameters``) with papermill and
  executes and validates it with nbval (lax mode, current environment), as CI does.

A lesson's source in ``notebooks/`` is never written to. An executed copy under ``--out`` that
a student has since edited is kept (renamed with a timestamp), never overwritten.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

from .paths import repo_root

WRITTEN_RECORD = ".written.json"  # digests of the files this runner wrote, to detect edits
# The course's own Jupyter kernel (this environment's Python), registered by `make env`; every
# lesson names it, so a hub with several environments opens the lessons in the right one.
KERNEL_NAME = "colorcourse"
KERNEL_DISPLAY_NAME = "Python (colorcourse)"


def require_kernel() -> str:
    """The course kernel's name; exits with one line naming the fix when it is not registered."""
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL_NAME not in KernelSpecManager().find_kernel_specs():
        raise SystemExit(
            f"the Jupyter kernel {KERNEL_NAME!r} is not registered: run `make env` (or "
            f"{sys.executable} -m ipykernel install --sys-prefix --name {KERNEL_NAME} "
            f'--display-name "{KERNEL_DISPLAY_NAME}")'
        )
    return KERNEL_NAME


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def discover(folder: Path | None = None) -> list[Path]:
    """The lessons, in course order: ``NN_name.ipynb`` files."""
    folder = folder or notebooks_dir()
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def parameters_cell(nb) -> tuple[int, dict]:
    """Index and literal values of the one cell tagged ``parameters``.

    Raises ``ValueError`` when there is no such cell, several, or one that computes anything:
    papermill injects new values *after* it, so a derived value there would go stale.
    """
    found = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(found) != 1:
        raise ValueError(f"a lesson needs exactly one cell tagged 'parameters', found {len(found)}")
    values = {}
    for node in ast.parse(nb.cells[found[0]].source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"the parameters cell may only assign names, line {node.lineno}")
        try:
            values[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise ValueError(
                f"parameter {node.targets[0].id!r} is not a plain literal; derive it in the next cell"
            ) from None
    return found[0], values


def ci_parameters(nb) -> dict:
    """The small values CI runs a lesson with (checked against the parameters cell)."""
    params = nb.metadata.get("colorcourse", {}).get("ci_parameters", {})
    _, defaults = parameters_cell(nb)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"ci_parameters names values the parameters cell lacks: {unknown}")
    return params


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _keep_if_edited(path: Path, record: dict) -> Path | None:
    """If ``path`` differs from what this runner last wrote there, rename it out of the way."""
    if not path.exists():
        return None
    if record.get(path.name) == _digest(path):
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.stem}.edited-{stamp}{path.suffix}")
    path.rename(kept)
    return kept


# Each lesson runs in a process of its own (as CI's nbval does) with papermill's client polling
# in slices (see poll_in_slices); should a cell still get no reply within CELL_TIMEOUT seconds,
# the lesson is run once more rather than the course hanging.
CELL_TIMEOUT = int(os.environ.get("COLORCOURSE_CELL_TIMEOUT", 900))  # default parameters
CI_CELL_TIMEOUT = 300  # CI parameters: every cell takes seconds
TIMED_OUT = "timed out"
RETRY = {TIMED_OUT: f"a cell got no reply within {CELL_TIMEOUT} s (COLORCOURSE_CELL_TIMEOUT)"}


def execute_lesson(source: Path, target: Path, params: dict, timeout: int = CELL_TIMEOUT) -> str:
    """Execute ``source`` into ``target`` with papermill in a fresh process; returns the status:
    ``"ok"``, ``"FAILED: <error>: <message>"`` or :data:`TIMED_OUT`."""
    child = subprocess.Popen(
        [sys.executable, "-m", "colorcourse.lessons", "execute-one", str(source), str(target),
         json.dumps(params), str(timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    stdout, stderr = child.communicate()
    try:  # a kernel left behind by a child that timed out
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    lines = proc.stdout.strip().splitlines()
    status = lines[-1] if lines else ""
    if proc.returncode == 0 and status == "ok" or status in RETRY:
        return status
    if status.startswith("FAILED"):
        return status
    return f"FAILED: the runner exited with code {proc.returncode}: {proc.stderr.strip()[-500:]}"


def poll_in_slices(slice_seconds: float = 1.0) -> None:
    """Make papermill's (asyncio) kernel client wait for messages in short slices.

    Why: here, about one run in two of a lesson with widget cells, a reply already sent by the
    kernel did not wake the asyncio poll of pyzmq until the poll's own timeout ran out, and
    papermill's timeout is "never" (reproduced: the cell took exactly the timeout, 45 s, when one
    was set, and under a second otherwise). A poll that times out every second checks again,
    so a missed wake-up costs at most a second. Timeouts keep their meaning.
    """
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    if getattr(AsyncZMQSocketChannel.get_msg, "sliced", False):
        return
    get_msg = AsyncZMQSocketChannel.get_msg

    async def get_msg_in_slices(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = slice_seconds if deadline is None else max(0.0, min(slice_seconds, deadline - time.monotonic()))
            try:
                return await get_msg(self, timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg_in_slices.sliced = True
    AsyncZMQSocketChannel.get_msg = get_msg_in_slices


def _execute_one(source: str, target: str, params_json: str, timeout: str) -> int:
    """The child process of :func:`execute_lesson`: its last stdout line is the status."""
    import papermill

    poll_in_slices()
    try:
        papermill.execute_notebook(
            source, target, parameters=json.loads(params_json), kernel_name=KERNEL_NAME,
            cwd=str(Path(source).parent), progress_bar=False, execution_timeout=int(timeout),
        )
    except papermill.PapermillExecutionError as e:
        print(f"FAILED: {e.ename}: {e.evalue}".replace("\n", " "))
        return 1
    except TimeoutError:  # nbclient's CellTimeoutError
        print(TIMED_OUT)
        return 1
    print("ok")
    return 0


def run(out: Path, only: list[str] | None = None, ci: bool = False, html: bool = True) -> list[dict]:
    """Execute the lessons into ``out``; returns one ``{lesson, seconds, status}`` per lesson."""
    from nbconvert import HTMLExporter

    require_kernel()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / WRITTEN_RECORD
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    lessons = [p for p in discover() if not only or any(key in p.name for key in only)]
    if not lessons:
        raise SystemExit(f"no lessons matched {only!r} in {notebooks_dir()}")
    results = []
    for source in lessons:
        nb = nbformat.read(source, as_version=4)
        params = ci_parameters(nb) if ci else {}
        target = out / source.name
        kept = _keep_if_edited(target, record)
        if kept:
            print(f"kept your edited {target.name} as {kept.name}")
        print(f"=== {source.name}" + (f" (CI parameters {params})" if params else ""), flush=True)
        start = time.perf_counter()
        status = execute_lesson(source, target, params)
        if status in RETRY:
            print(f"    {RETRY[status]}; running the lesson once more", flush=True)
            status = execute_lesson(source, target, params)
        if status in RETRY:
            status = f"FAILED: {RETRY[status]}"
        seconds = time.perf_counter() - start
        if target.exists():  # a kernel that never started leaves nothing behind
            record[target.name] = _digest(target)
        if html and target.exists():
            page = out / (source.stem + ".html")
            _keep_if_edited(page, record)
            body, _ = HTMLExporter().from_notebook_node(nbformat.read(target, as_version=4))
            page.write_text(body, encoding="utf-8")
            record[page.name] = _digest(page)
        record_path.write_text(json.dumps(record, indent=1))
        results.append({"lesson": source.stem, "seconds": round(seconds, 1), "status": status})
        print(f"    {seconds:7.1f} s  {status}", flush=True)
    return results


def print_timings(results: list[dict], out: Path) -> None:
    total = sum(r["seconds"] for r in results)
    lines = ["| lesson | seconds | status |", "| --- | ---: | --- |"]
    lines += [f"| {r['lesson']} | {r['seconds']:.1f} | {r['status']} |" for r in results]
    lines.append(f"| **total** | **{total:.1f}** | |")
    table = "\n".join(lines)
    (Path(out) / "timings.md").write_text(table + "\n")
    print("\nLesson times (this machine):\n" + table)


def check(notebook: Path, workdir: Path | None = None) -> subprocess.CompletedProcess:
    """Inject CI parameters with papermill, then execute and validate with nbval (as CI does)."""
    import papermill

    require_kernel()
    notebook = Path(notebook).resolve()
    nb = nbformat.read(notebook, as_version=4)
    params = ci_parameters(nb)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="lesson-"))
    prepared = workdir / notebook.name
    papermill.execute_notebook(
        str(notebook), str(prepared), parameters=params, prepare_only=True, kernel_name=KERNEL_NAME
    )
    # nbval runs the kernel in the notebook's folder; lessons expect to run from notebooks/.
    staged = notebook.parent / f".ci-{notebook.name}"
    staged.write_bytes(prepared.read_bytes())
    try:
        for attempt in (1, 2):
            proc = subprocess.run(
                [
                    sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={CI_CELL_TIMEOUT}",
                    str(staged), "--rootdir", str(notebook.parent),
                ],
                capture_output=True,
                text=True,
                cwd=notebook.parent,
                env={**os.environ, "MPLBACKEND": "Agg"},
            )
            # A lost kernel reply (see CELL_TIMEOUT) shows as a cell timeout: run once more.
            if proc.returncode == 0 or "seconds exceeded" not in proc.stdout or attempt == 2:
                return proc
            print(f"{notebook.name}: a cell timed out; running the lesson once more", file=sys.stderr)
    finally:
        staged.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorcourse.lessons", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="execute every lesson (default parameters) into --out")
    run_p.add_argument("--out", type=Path, default=Path("build/course"))
    run_p.add_argument("--only", nargs="*", help="run only lessons whose file name contains one of these")
    run_p.add_argument("--ci", action="store_true", help="use each lesson's small CI parameters")
    run_p.add_argument("--no-html", action="store_true")
    one_p = sub.add_parser("execute-one", help=argparse.SUPPRESS)  # the child process of run()
    one_p.add_argument("args", nargs=4)
    check_p = sub.add_parser("check", help="execute lessons with CI parameters and validate with nbval")
    check_p.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)

    if args.command == "execute-one":
        return _execute_one(*args.args)
    if args.command == "run":
        results = run(args.out, only=args.only, ci=args.ci, html=not args.no_html)
        print_timings(results, args.out)
        print(
            f"\nExecuted lessons and HTML pages are in {args.out}/.\n"
            f"Open them in JupyterLab:  .venv/bin/jupyter lab {args.out}\n"
            f"(or the clean lessons:    .venv/bin/jupyter lab notebooks)"
        )
        return 0 if all(r["status"] == "ok" for r in results) else 1
    failed = 0
    for nb in args.notebooks:
        start = time.perf_counter()
        proc = check(nb)
        print(f"{nb}: {'ok' if proc.returncode == 0 else 'FAILED'} ({time.perf_counter() - start:.1f} s)")
        if proc.returncode != 0:
            failed += 1
            print(proc.stdout[-6000:], proc.stderr[-2000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

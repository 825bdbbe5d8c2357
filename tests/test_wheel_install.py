"""A classroom hub installs the course from a wheel, not from a checkout: does it still work?

The wheel is built from a copy of the sources, installed into a fresh virtual environment
(which borrows this environment's installed dependencies through a ``.pth`` line, so that
torch and friends are not installed again), and then run **from another folder**, where no
checkout is in sight: the ``colorcourse`` command colorizes a course photo with the default
method, and lesson 00 runs under papermill at its CI parameters. The course pack is found
through ``COLORCOURSE_DATA`` (as on a hub, where one read-only pack serves the class) and is
left exactly as it was; the models are the copy shipped inside the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import numpy as np
import pytest

from colorcourse import coursepack, lessons, paths
from colorcourse.imageio import load_rgb

ROOT = paths.checkout_root()
DATA = paths.data_dir()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ROOT is None, reason="needs the course's checkout (it builds the wheel from it)"),
    pytest.mark.skipif(not (DATA / "coursepack" / "manifest.csv").is_file(), reason="course pack not built (make data)"),
]
PHOTO_ID = "mvtb-road"  # an out-of-domain test photo, in every course pack built with apt-get


def _run(cmd, cwd, env, timeout=300):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(python, colorcourse command, work folder, environment variables)`` of a fresh wheel install."""
    tmp = tmp_path_factory.mktemp("hub")
    # the sources a wheel is built from, copied, so the build writes nothing into the checkout
    src = tmp / "src"
    src.mkdir()
    for name in ("colorcourse", "models"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(src), "-w", wheels],
         cwd=tmp, env=os.environ)
    (wheel,) = wheels.glob("colorcourse-*.whl")

    env_dir = tmp / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", env_dir], cwd=tmp, env=os.environ)
    python = env_dir / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp, os.environ).strip())
    # the dependencies (torch, scikit-image, papermill, ...) come from this environment; its own
    # .pth files (the editable install of the checkout) are not read from a plain path line
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
         cwd=tmp, env=os.environ)

    work = tmp / "somewhere_else"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("COLORCOURSE_MODELS", "PYTHONPATH", "VIRTUAL_ENV")}
    env.update(COLORCOURSE_DATA=str(DATA), PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}",
               JUPYTER_PATH=str(tmp / "jupyter"), JUPYTER_DATA_DIR=str(tmp / "jupyter"), MPLBACKEND="Agg")
    return python, env_dir / "bin" / "colorcourse", work, env, site


def test_the_wheel_install_finds_its_own_package_and_models(installed):
    python, _, work, env, site = installed
    where = json.loads(_run([python, "-c", (
        "import json, colorcourse, colorcourse.paths as p; "
        "print(json.dumps([colorcourse.__file__, str(p.models_dir()), str(p.data_dir()), p.checkout_root() is None]))")],
        work, env))
    package_file, models, data, no_checkout = where
    assert Path(package_file).is_relative_to(site), package_file  # the wheel's copy, not the checkout
    assert no_checkout
    assert Path(models) == site / "colorcourse" / paths.SHIPPED_MODELS
    shipped = {p.name for p in Path(models).glob("*.safetensors")}
    assert shipped == {p.name for p in (ROOT / "models").glob("*.safetensors")}
    assert Path(data) == DATA


def test_the_cli_colorizes_a_course_photo_from_another_folder(installed, tmp_path):
    _, command, work, env, _ = installed
    row = coursepack.load_manifest().set_index("id").loc[PHOTO_ID]
    photo = coursepack.pack_dir() / row["file"]
    before = _snapshot(DATA)
    _run([command, "colorize", photo, "-o", work / "colorized", "--quiet"], work, env)
    (result,) = (work / "colorized").iterdir()
    # the same picture as the checkout's own command (same default method, same models)
    checkout_cli = Path(sys.executable).parent / "colorcourse"
    _run([checkout_cli, "colorize", photo, "-o", tmp_path, "--quiet"], ROOT, os.environ)
    (reference,) = tmp_path.iterdir()
    ours, theirs = load_rgb(result), load_rgb(reference)
    assert ours.shape == theirs.shape == load_rgb(photo).shape
    # identical up to one 8-bit level (float rounding may differ between two runs of torch)
    assert np.abs(ours - theirs).max() <= 1 / 255 + 1e-6 and np.mean(ours != theirs) < 1e-3
    assert np.ptp(ours - ours.mean(axis=-1, keepdims=True)) > 0.05  # it has colors, not gray
    assert _snapshot(DATA) == before  # the shared course pack is only read


def test_lesson_00_runs_from_another_folder(installed):
    python, _, work, env, site = installed
    source = lessons.notebooks_dir() / "00_setup_check.ipynb"
    nb = nbformat.read(str(source), as_version=4)
    # the lesson names the course's kernel: register it for the fresh environment's Python
    kernel = nb.metadata["kernelspec"]["name"]
    spec = Path(env["JUPYTER_PATH"]) / "kernels" / kernel
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": nb.metadata["kernelspec"]["display_name"], "language": "python"}))
    params = [a for k, v in lessons.ci_parameters(nb).items() for a in ("-p", k, str(v))]
    executed = work / "00_setup_check.ipynb"
    before = _snapshot(DATA)
    _run([python, "-m", "papermill", source, executed, *params, "--cwd", work, "--no-progress-bar"],
         work, env, timeout=300)
    assert _snapshot(DATA) == before
    text = "\n".join(o.get("text", "") for c in nbformat.read(str(executed), as_version=4).cells
                     if c.cell_type == "code" for o in c.get("outputs", []))
    shipped = len(list((ROOT / "models").glob("*.safetensors")))
    assert f"{shipped} model files in {site / 'colorcourse' / paths.SHIPPED_MODELS}" in text, text[-2000:]
    assert f"{len(coursepack.load_manifest())} photos" in text

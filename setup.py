"""Ship the default trained models inside the wheel (everything else is in pyproject.toml).

The models live in ``models/`` at the top of the checkout (lessons, the Makefile and the
README name that folder), outside the package. A wheel, which is how a classroom hub's image
installs the course, must carry them: ``pip install colorcourse-*.whl`` then works with no
checkout, and ``colorcourse.paths.models_dir()`` finds them at
``colorcourse/shipped_models/`` inside the installed package. An editable install
(``make env``) copies nothing: it reads ``models/`` in the checkout.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODEL_PATTERNS = ("*.safetensors", "*.csv", "*.md", "*.json")  # weights and their stored results


class BuildPyWithModels(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = Path(__file__).resolve().parent / "models"
        target = Path(self.build_lib) / "colorcourse" / "shipped_models"
        files = sorted(p for pattern in MODEL_PATTERNS for p in source.glob(pattern))
        if not any(p.suffix == ".safetensors" for p in files):
            raise SystemExit(f"setup.py: no trained models in {source} to ship in the wheel")
        self.mkpath(str(target))
        for path in files:
            self.copy_file(str(path), str(target / path.name))


setup(cmdclass={"build_py": BuildPyWithModels})

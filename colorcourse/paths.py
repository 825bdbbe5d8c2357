"""Where things live: the repository, the data folder, the shipped models.

Data sets are never committed; they are built or fetched into ``data_dir()``. When one is
missing, :class:`DatasetMissingError` says which command fetches it.

Two ways the package is installed, and where each finds its files:

* **a checkout** (``make env``: an editable install; ``pyproject.toml`` sits beside the
  package): the data in ``<checkout>/data``, the models in ``<checkout>/models``;
* **a wheel** (``pip install colorcourse-*.whl``, as a classroom hub's image installs it): the
  default models ship *inside* the package (``colorcourse/shipped_models``, copied there when the
  wheel is built, see ``setup.py``), so the CLI and the lessons work with no extra step; the
  photos do not ship (each has its own license, and one course pack serves a whole class): the
  course pack is found through ``$COLORCOURSE_DATA`` (a shared, read-only folder on a hub), else
  in the user's data folder ``$XDG_DATA_HOME/colorcourse`` (``~/.local/share/colorcourse``).

``$COLORCOURSE_DATA`` and ``$COLORCOURSE_MODELS`` override both.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# In a wheel the default models live inside the package, in this folder (see setup.py).
SHIPPED_MODELS = "shipped_models"


class DatasetMissingError(FileNotFoundError):
    """A data set the code needs is not on disk; the message names the command that fetches it."""

    def __init__(self, dataset: str, command: str, where: Path | str | None = None):
        self.dataset = dataset
        self.command = command
        place = f" (looked in {where})" if where is not None else ""
        super().__init__(f"The {dataset} is not on disk{place}. Fetch it with:  {command}")


def checkout_root() -> Path | None:
    """The checkout the package runs from (an editable install), or None when installed from a wheel."""
    here = PACKAGE_DIR.parent
    return here if (here / "pyproject.toml").is_file() else None


def repo_root() -> Path:
    """The checkout this package was installed from (editable install), else the current folder."""
    return checkout_root() or Path.cwd()


def _env_dir(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else None


def user_data_dir() -> Path:
    """The per-user data folder of a wheel install: ``$XDG_DATA_HOME/colorcourse``."""
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "colorcourse"


def data_dir() -> Path:
    """The data folder: ``$COLORCOURSE_DATA`` if set, else ``<checkout>/data`` (git-ignored),
    else (a wheel install) :func:`user_data_dir`. The course pack is only ever read from it."""
    env = _env_dir("COLORCOURSE_DATA")
    if env is not None:
        return env
    root = checkout_root()
    return root / "data" if root is not None else user_data_dir()


def models_dir() -> Path:
    """The trained models: ``$COLORCOURSE_MODELS`` if set (say, models you retrained with
    ``make models``), else the defaults that ship with the course: ``<checkout>/models`` in a
    checkout, the copy inside the package (``colorcourse/shipped_models``) in a wheel install."""
    env = _env_dir("COLORCOURSE_MODELS")
    if env is not None:
        return env
    root = checkout_root()
    if root is not None and (root / "models").is_dir():
        return root / "models"
    return PACKAGE_DIR / SHIPPED_MODELS


def build_dir() -> Path:
    """Build products: executed lessons, rendered HTML, retrained models (git-ignored)."""
    return repo_root() / "build"

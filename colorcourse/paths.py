"""Where things live: the repository, the data folder, the shipped models.

Data sets are never committed; they are built or fetched into ``data_dir()``. When one is
missing, :class:`DatasetMissingError` says which command fetches it.
"""

from __future__ import annotations

import os
from pathlib import Path


class DatasetMissingError(FileNotFoundError):
    """A data set the code needs is not on disk; the message names the command that fetches it."""

    def __init__(self, dataset: str, command: str, where: Path | str | None = None):
        self.dataset = dataset
        self.command = command
        place = f" (looked in {where})" if where is not None else ""
        super().__init__(f"The {dataset} is not on disk{place}. Fetch it with:  {command}")


def repo_root() -> Path:
    """The checkout this package was installed from (editable install), else the current folder."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file():
        return here
    return Path.cwd()


def data_dir() -> Path:
    """The data folder: ``$COLORCOURSE_DATA`` if set, else ``<repo>/data`` (git-ignored)."""
    env = os.environ.get("COLORCOURSE_DATA")
    return Path(env).expanduser().resolve() if env else repo_root() / "data"


def models_dir() -> Path:
    """The trained models: ``$COLORCOURSE_MODELS`` if set (say, models you retrained with
    ``make models``), else the defaults that ship with the course in ``<repo>/models``."""
    env = os.environ.get("COLORCOURSE_MODELS")
    return Path(env).expanduser().resolve() if env else repo_root() / "models"


def build_dir() -> Path:
    """Build products: executed lessons, rendered HTML, retrained models (git-ignored)."""
    return repo_root() / "build"

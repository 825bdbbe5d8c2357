"""Real data sets for users with internet (SIFT Flow, Places365) and a user's own photo folder.

Taught in notebooks/00_setup.ipynb. The offline course pack is colorcourse.coursepack; these
loaders are for the papers' own data: SIFT Flow (Cheng et al.'s training set) and Places365
(Iizuka et al.'s scene labels), fetched with data_scripts/fetch_siftflow.py and
data_scripts/fetch_places365.py.
"""

from colorcourse.datasets.download import ChecksumError, download, extract
from colorcourse.datasets.folder import FolderLoadError, load_folder
from colorcourse.datasets.siftflow import SIFTFLOW_CLASSES, load_siftflow

__all__ = ["ChecksumError", "download", "extract", "FolderLoadError", "load_folder",
           "SIFTFLOW_CLASSES", "load_siftflow"]

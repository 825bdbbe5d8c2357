"""Download a file with a checksum, and unpack an archive safely (no paths outside the target).

Used by data_scripts/fetch_siftflow.py; taught in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
import zipfile
from pathlib import Path


class ChecksumError(ValueError):
    """A downloaded file does not have the published checksum (the file has been removed)."""


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: str | Path, sha256: str | None = None, md5: str | None = None,
             progress: bool = True, chunk: int = 1 << 20) -> Path:
    """Stream ``url`` to ``dest`` through ``dest.part`` and rename when complete and verified.

    An existing ``dest`` with the right checksum is kept (no download). A checksum mismatch raises
    :class:`ChecksumError` and removes the file, so no bad or half file is ever left at ``dest``.
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    expected = [(name, value.lower()) for name, value in (("sha256", sha256), ("md5", md5)) if value]

    def verify(path: Path) -> None:
        for name, value in expected:
            got = file_digest(path, name)
            if got != value:
                path.unlink(missing_ok=True)
                raise ChecksumError(f"{url}: {name} is {got}, expected {value}; the file was removed, "
                                    "try again (a changed or corrupted download)")

    if dest.is_file():
        if not expected:
            return dest
        try:
            verify(dest)
            return dest
        except ChecksumError:
            pass  # re-download below
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(chunk), b""):
                    out.write(block)
                    bar.update(len(block))
        verify(part)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return dest


def _inside(root: Path, member: str) -> bool:
    target = (root / member).resolve()
    return target == root or root in target.parents


def extract(archive: str | Path, dest: str | Path) -> Path:
    """Unpack a .zip or .tar(.gz/.bz2/.xz) into ``dest``; refuses members that would land outside
    ``dest`` (``../`` or absolute paths, links pointing out) before writing anything."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            bad = [n for n in z.namelist() if not _inside(root, n)]
            if bad:
                raise ValueError(f"{archive}: refusing to extract paths outside {dest}: {bad[:3]}")
            z.extractall(dest)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            members = t.getmembers()
            bad = [m.name for m in members if not _inside(root, m.name)
                   or ((m.issym() or m.islnk()) and not _inside(root, str(Path(m.name).parent / m.linkname)))]
            if bad:
                raise ValueError(f"{archive}: refusing to extract paths outside {dest}: {bad[:3]}")
            t.extractall(dest, members=members)
    else:
        raise ValueError(f"{archive}: not a zip or tar archive")
    return dest


def move_into(source: Path, dest: Path) -> None:
    """Replace ``dest`` by ``source`` (a folder finished in a temporary place)."""
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(source, dest)

"""Writing a file all at once or not at all, with the permissions the user expects.

Every result the course writes (colorized photos, model files) goes to a temporary file in the
target's folder and is then moved into place, so an interrupted write (Ctrl-C, a full disk, a
crash) never leaves half a file under the real name.

Permissions: ``tempfile.mkstemp`` creates its file readable by its owner only (0600), whatever
the umask, and a rename keeps that. So the temporary file is given the mode a plain ``open()``
would have given the new file (``0666`` less the process's umask: 0644 with the usual umask
022, 0664 in a group-shared class folder with umask 002); a file that is replaced keeps its own
permission bits, as an editor keeps them when it saves.

Without ``overwrite`` the file is put in place with ``link``, which fails if the name exists:
no window between "does it exist?" and the write in which another process's file is replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux 4.7+)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # the only portable way to read it is to set it (and set it back)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The permission bits a newly created file gets: 0666 less the umask."""
    return 0o666 & ~current_umask()


def write_atomically(path: str | os.PathLike, write: Callable[[str], None], overwrite: bool = False) -> Path:
    """Call ``write(temporary_path)`` and move the finished file to ``path``.

    Raises ``FileExistsError`` if ``path`` exists and ``overwrite`` is false (also when another
    process created it meanwhile). The folder is created if needed.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (or --force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        try:
            mode = stat.S_IMODE(path.stat().st_mode) if overwrite else new_file_mode()
        except FileNotFoundError:
            mode = new_file_mode()
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the name exists: never replaces a file
            except FileExistsError:
                raise FileExistsError(f"{path} exists; pass overwrite=True (or --force) to replace it") from None
            except OSError:  # a file system without hard links (some network and FAT drives)
                if path.exists():
                    raise FileExistsError(f"{path} exists; pass overwrite=True (or --force) to replace it") from None
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path

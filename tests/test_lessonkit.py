"""The lessons' display helpers: package source shown as it is, galleries across labels."""

import inspect
from collections import Counter
from types import SimpleNamespace

import pytest

from colorcourse import color, metrics
from colorcourse.lessonkit import one_per_label, show_source


def test_show_source_is_the_package_code_with_its_place():
    view = show_source(metrics.psnr)
    assert view.source == inspect.getsource(metrics.psnr)
    assert view.path == "colorcourse/metrics.py"
    lines = open(metrics.__file__).read().splitlines()
    assert lines[view.first_line - 1].startswith("def psnr(")
    assert view.last_line - view.first_line + 1 == len(view.source.splitlines())
    page = view._repr_html_()
    assert "colorcourse/metrics.py" in page and "psnr" in page and "<span" in page  # highlighted
    assert repr(view).startswith("# colorcourse.metrics.psnr")


def test_show_source_refuses_code_from_outside_the_course():
    with pytest.raises(ValueError, match="course's own code"):
        show_source(inspect.getsource)


def _photos(counts):
    return [SimpleNamespace(name=f"{label}-{i:02d}", label=label)
            for label, n in counts.items() for i in range(n)]


def test_one_per_label_covers_labels_before_repeating_any():
    photos = _photos({"fish": 20, "city": 3, "beach": 5, "forest": 1})
    chosen = one_per_label(photos, n=6, seed=0)
    first_round = Counter(p.label for p in chosen[:4])
    assert set(first_round) == {"fish", "city", "beach", "forest"} and max(first_round.values()) == 1
    assert len({p.name for p in chosen}) == 6  # no photo twice
    assert one_per_label(photos, n=6, seed=0) == chosen  # seeded
    assert len(one_per_label(photos)) == 4  # default: one per label
    assert len(one_per_label(photos, n=100)) == len(photos)  # asks for more than there are


def test_one_per_label_does_not_pick_by_name():
    photos = _photos({"fish": 30, "city": 30})
    picks = {p.name for seed in range(10) for p in one_per_label(photos, n=2, seed=seed)}
    assert len(picks) > 4  # not always the first name of each label

"""The suggested colors' measurement (colorcourse.suggested_colors_eval) on fabricated cases with known
answers: the hit rule on the a*b* grid, each variant's hits on a photo whose decoder output is made
up (no network), the bootstrap summary, and the command's refusals."""

import numpy as np
import pandas as pd
import pytest

from colorcourse import suggested_colors as sc
from colorcourse import suggested_colors_eval as ev

GRID_AB = np.arange(-30.0, 31.0, 10.0)
CENTRES = np.array([(a, b) for a in GRID_AB for b in GRID_AB])  # 49 bins of side 10
TRUTH = (12.0, 8.0)  # nearest bin (10, 10); its neighbours: a and b in 0..20
FAR = [(-30, -30), (-30, 30), (30, -30), (-30, 0)]  # two or more bins from (10, 10), 30+ apart
GRAY = 0.65  # L* 68: these bins shown at most ~3 units off (sRGB), so the peaks stay distinct colors
SIZE, CELLS = 40, 10  # a 40 x 40 photo, a 10 x 10 grid: cell (r, c) holds pixels 4r..4r+3


def bin_index(ab):
    return int(np.flatnonzero((CENTRES == np.asarray(ab, float)).all(axis=1))[0])


def peaked(peaks: dict) -> np.ndarray:
    """A distribution over CENTRES: ``peaks`` {a*b*: probability}, the rest spread evenly."""
    p = np.zeros(len(CENTRES))
    for ab, mass in peaks.items():
        p[bin_index(ab)] = mass
    rest = p == 0
    p[rest] = (1 - p.sum()) / rest.sum()
    return p


def fabricated_session(per_cell: np.ndarray) -> sc.SuggestionSession:
    """A SuggestionSession of a flat gray photo whose decoder output is ``per_cell`` (Q x gh x gw),
    made up instead of computed: the attributes __init__ sets from the network."""
    session = object.__new__(sc.SuggestionSession)
    session.gray = np.full((SIZE, SIZE), GRAY, np.float32)
    session.shape = session.gray.shape
    session.bin_centres = CENTRES
    session.probabilities = per_cell
    session.grid = per_cell.shape[1:]
    return session


def everywhere(p: np.ndarray) -> np.ndarray:
    return np.repeat(p[:, None, None], CELLS * CELLS, axis=1).reshape(len(p), CELLS, CELLS)


TRUE_LAB = np.concatenate([np.full((SIZE, SIZE, 1), 68.0), np.broadcast_to(TRUTH, (SIZE, SIZE, 2))], axis=2)
POINTS = np.array([(2, 2), (21, 22), (37, 10), (8, 30)])


FIVE_FAR = [(0, -30), *FAR]  # the other cells' colors in the last case


@pytest.mark.parametrize("peaks", [[(10, 10), *FAR], [(30, 10), *FAR], [(10, 10), *FIVE_FAR]])
def test_the_peaks_are_distinct_colors_at_this_lightness(peaks):
    """The fabricated cases' premise: their peaks stay more than the merging distance apart on screen."""
    _, lab = sc.shown_colors(CENTRES, fabricated_session(everywhere(peaked({}))).lightness_at(5, 5))
    shown = lab[[bin_index(ab) for ab in peaks]]
    d = np.linalg.norm(shown[:, None] - shown[None], axis=-1)
    assert d[np.triu_indices(len(peaks), 1)].min() > sc.DEFAULT_MIN_DISTANCE


def test_the_hit_rule_is_the_true_bin_or_one_of_its_8_neighbours():
    assert ev.nearest_bin(TRUTH, CENTRES).tolist() == [10, 10]
    for hit in [(10, 10), (0, 10), (20, 20), (0, 0), (20, 0)]:  # the bin itself and neighbours, diagonals too
        assert ev.is_hit([(-30, -30), hit], TRUTH, CENTRES), hit
    for miss in [(30, 10), (10, -10), (30, 30), (-10, 10)]:  # two bins away along a or b
        assert not ev.is_hit([(-30, -30), miss], TRUTH, CENTRES), miss
    assert not ev.is_hit(np.zeros((0, 2)), TRUTH, CENTRES)  # no suggestion, no hit


def test_the_scored_suggestions_are_the_ones_the_canvas_shows():
    rng = np.random.default_rng(3)
    session = fabricated_session(rng.dirichlet(np.full(len(CENTRES), 0.3), size=(CELLS, CELLS)).transpose(2, 0, 1))
    for x, y in POINTS:
        _, shown_lab = sc.shown_colors(CENTRES, session.lightness_at(x, y))
        for neighbourhood, merge in [(0, True), (1, True), (2, True), (1, False)]:
            shown = session.suggest(x, y, k=ev.TOP_K, neighbourhood=neighbourhood,
                                    min_distance=sc.DEFAULT_MIN_DISTANCE if merge else 0.0)
            scored = ev.suggested_bins(session.distribution_at(x, y, neighbourhood), CENTRES, shown_lab, merge)
            np.testing.assert_array_equal(scored, [s.ab for s in shown])


def test_the_top_bin_at_the_truth_is_a_hit_everywhere():
    session = fabricated_session(everywhere(peaked({(10, 10): 0.6, **{ab: 0.08 for ab in FAR}})))
    hits = ev.score_photo(session, TRUE_LAB, POINTS)
    assert set(hits) == set(ev.VARIANTS)
    assert all(h.all() for h in hits.values())


def test_the_top_bin_two_bins_from_the_truth_is_a_miss_everywhere():
    # the truth's neighbours (20, 10), ... hold only the spread-out rest: no top-5 bin is near it
    session = fabricated_session(everywhere(peaked({(30, 10): 0.6, **{ab: 0.08 for ab in FAR}})))
    hits = ev.score_photo(session, TRUE_LAB, POINTS)
    assert not any(h.any() for h in hits.values())


def test_only_the_cell_alone_sees_a_color_one_cell_holds():
    """The truth's bin peaks in the point's cell only; every other cell holds five far colors
    (0.19 each). The 3 x 3 mean gives the truth 0.92 / 9 = 0.10 < 8 / 9 x 0.19 = 0.17 for each far
    color: out of the top 5, as for 5 x 5 and the photo's mean; the cell alone has it first."""
    per_cell = everywhere(peaked({ab: 0.19 for ab in FIVE_FAR}))
    per_cell[:, 5, 5] = peaked({(10, 10): 0.92})
    hits = ev.score_photo(fabricated_session(per_cell), TRUE_LAB, np.array([(21, 22)]))  # pixel (21, 22): cell (5, 5)
    assert {name: bool(h[0]) for name, h in hits.items()} == {
        "cell alone": True, "3 x 3 cells": False, "5 x 5 cells": False, "3 x 3 cells, no merging": False,
        "photo's mean distribution": False}


def test_points_are_seeded_and_their_truth_window_is_inside_the_photo():
    a, b = ev.draw_points((30, 50), 500, ev.point_seed(0, 3)), ev.draw_points((30, 50), 500, ev.point_seed(0, 3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, ev.draw_points((30, 50), 500, ev.point_seed(1, 3)))
    r = ev.TRUTH_WINDOW // 2
    assert a[:, 0].min() == r and a[:, 0].max() == 50 - 1 - r and a[:, 1].min() == r and a[:, 1].max() == 30 - 1 - r
    lab = np.random.default_rng(0).normal(size=(30, 50, 3))
    x, y = a[0]
    np.testing.assert_allclose(ev.true_ab(lab, x, y), lab[y - 2:y + 3, x - 2:x + 3, 1:].mean(axis=(0, 1)))


def results_table(hits_by_variant: dict, points=10):
    return pd.DataFrame([{"photo": f"p{i}", "method": name, "points": points, "hits": h, "hit_rate": h / points}
                         for name, hits in hits_by_variant.items() for i, h in enumerate(hits)])


def test_the_summary_is_the_share_of_points_with_bootstrap_intervals():
    default = [10, 5, 5, 0, 8]
    results = results_table({"3 x 3 cells": default, "cell alone": default,
                             "5 x 5 cells": [h + 1 for h in default[:3]] + [1, 9], "always": [7] * 5})
    table = ev.summary(results)
    assert table.loc["3 x 3 cells", "hit_rate"] == pytest.approx(sum(default) / 50)  # the pooled share
    assert table.loc["3 x 3 cells", "low"] < 0.56 < table.loc["3 x 3 cells", "high"]
    assert 0.0 <= table.loc["3 x 3 cells", "low"] and table.loc["3 x 3 cells", "high"] <= 1.0
    assert table.loc["always", ["hit_rate", "low", "high"]].tolist() == pytest.approx([0.7, 0.7, 0.7])
    assert table.loc["cell alone", ["diff", "diff_low", "diff_high"]].tolist() == pytest.approx([0, 0, 0])
    assert table.loc["5 x 5 cells", ["diff", "diff_low", "diff_high"]].tolist() == pytest.approx([0.1, 0.1, 0.1])
    assert table.loc["5 x 5 cells", "verdict"] == "better" and table.loc["3 x 3 cells", "verdict"] == "default"
    text = ev.markdown(table, "shift_val", 5, 50, 0, "python -m colorcourse.suggested_colors_eval")
    assert "| 3 x 3 cells | 56.0 % [" in text and "| 5 x 5 cells | 66.0 % [" in text and "+10.0 [+10.0, +10.0] better" in text
    with pytest.raises(ValueError, match="same number of points"):
        ev.summary(pd.concat([results, results_table({"3 x 3 cells": [1]}, points=7).assign(photo="q")]))


def test_an_existing_out_file_is_refused_without_force(tmp_path, capsys):
    out = tmp_path / "table.md"
    out.write_text("mine")
    assert ev.main(["--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "table.md exists; pass --force" in err and out.read_text() == "mine"


def test_points_that_do_not_share_out_evenly_are_a_one_line_error(capsys):
    from colorcourse import coursepack

    try:
        coursepack.load_split("shift_val", limit=3)
    except FileNotFoundError:
        pytest.skip("course pack not built (make data)")
    assert ev.main(["--limit", "3", "--points", "20", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == "error: --points 20 must be a multiple of the 3 photos of shift_val (every photo gets the same number of points)\n"
    assert ev.main(["--split", "nope"]) == 1
    assert "--split must be one of" in capsys.readouterr().err

"""The guided evaluation: the same seeded hints for every method, paired differences computed as
the metrics module computes them, the targets judged from the numbers, one-line CLI errors."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from skimage import data

from colorcourse import guided_eval
from colorcourse.color import gray_baseline, rgb_to_lab
from colorcourse.metrics import paired_difference

hints = pytest.importorskip("colorcourse.hints")


@pytest.fixture(scope="module")
def photos():
    rgb = data.astronaut() / 255.0
    return [SimpleNamespace(name=f"p{i}", rgb=rgb[64 * i:64 * i + 96, 100:180]) for i in range(3)]


class Recording:
    """A method that paints the hints' true colors over the gray image and remembers its hints."""

    def __init__(self):
        self.seen = []

    def __call__(self, gray, hints_by_n):
        from colorcourse.color import lab_to_rgb, rgb_to_lab

        self.seen.append(hints_by_n)
        out = {}
        for n, h in hints_by_n.items():
            lab = rgb_to_lab(gray_baseline(gray))
            ab, mask = h.dense()
            lab[..., 1:][mask > 0] = ab[mask > 0]
            out[n] = lab_to_rgb(lab)
        return out


def test_every_method_gets_the_same_seeded_hints(photos):
    a, b = Recording(), Recording()
    results = guided_eval.evaluate_guided(photos, {"a": a, "b": b}, (0, 2, 5), seed=3, split="s", progress=False)
    assert len(results) == 3 * 3 * 2
    for i, (ha, hb) in enumerate(zip(a.seen, b.seen)):
        true_ab = rgb_to_lab(photos[i].rgb)[..., 1:]
        for n in (0, 2, 5):
            assert ha[n] == hb[n]
            assert ha[n] == hints.evaluation_hints(true_ab, n, patch=9, seed=guided_eval.hint_seed(3, n, i))
        assert len(ha[0]) == 0 and 0 < len(ha[2]) <= 2 * 81 and len(ha[2]) < len(ha[5]) <= 5 * 81
    # painting the true colors of more squares can only bring the image closer to the truth
    mean = results[results["method"] == "a"].groupby("n_points")["psnr"].mean()
    assert mean[0] < mean[2] < mean[5]


def fabricated_results(gain_hinted=5.0, gain_levin=2.0, nohint=0.0, photos=30):
    rng = np.random.default_rng(0)
    rows = []
    for split, points in (("shift_test", (0, 10)), ("shift_val", (0,))):
        for p in range(photos):
            base = rng.normal(22, 2)
            for n in points:
                scores = {"gray": base, "pretrained": base + 0.9 + rng.normal(0, 0.3),
                          "levin": base + (gain_levin if n else 0) + rng.normal(0, 0.3)}
                scores["hinted"] = scores["pretrained"] + (gain_hinted if n else nohint) + rng.normal(0, 0.02)
                if split == "shift_val":
                    del scores["levin"]
                rows += [{"split": split, "photo": f"{split}{p}", "n_points": n, "method": m, "psnr": v,
                          "seconds": 0.1} for m, v in scores.items()]
    return pd.DataFrame(rows)


def test_tables_are_the_paired_differences_of_the_metrics_module():
    results = fabricated_results()
    table = guided_eval.curve_table(results, "shift_test")
    at10 = results[(results["split"] == "shift_test") & (results["n_points"] == 10)]
    d = paired_difference(at10, "hinted", "gray")
    assert table.loc[10, "hinted dB over gray [95% CI]"] == f"{d['mean']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"
    assert table.loc[10, "gray PSNR"] == pytest.approx(at10[at10["method"] == "gray"]["psnr"].mean())
    diff = guided_eval.difference_table(results, "shift_test", "hinted", "levin")
    assert diff.loc[10, "verdict"] == "better" and diff.loc[10, "photos"] == 30


def test_targets_are_judged_from_the_numbers():
    met = "\n".join(guided_eval.targets(fabricated_results(), "shift_test"))
    assert "+4.5 dB over gray on shift_test" in met and "above Levin" in met
    assert met.count("**met**") == 4 and "Levin at 10 points >= +3 dB" in met  # Levin's +2 dB misses
    assert "not met" in met.split("- Levin at 10 points")[1].splitlines()[0]
    worse = "\n".join(guided_eval.targets(fabricated_results(gain_hinted=1.0, nohint=-0.3), "shift_test"))
    assert worse.count("not met") == 5  # every target missed, both no-hint splits "worse"


def test_markdown_summary_has_every_table(tmp_path):
    path = guided_eval.write_markdown(fabricated_results(), "shift_test", tmp_path / "g.md", "cmd", 0, 60.0)
    text = path.read_text()
    for heading in ("## Targets", "## PSNR (dB) and dB over gray on shift_test", "## Hint network minus Levin",
                    "## No hints: the hint network minus today's default", "| shift_val |", "| shift_test |"):
        assert heading in text


@pytest.mark.parametrize("argv, message", [
    (["--limit", "0"], "--limit must be a positive whole number, got 0"),
    (["--points", "-1"], "--points must be 0 or more"),
    (["--out", "x.txt"], "--out must end in .csv"),
])
def test_bad_arguments_give_one_line(argv, message, capsys, tmp_path):
    if "--out" not in argv:
        argv = argv + ["--out", str(tmp_path / "r.csv")]
    assert guided_eval.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_existing_results_are_not_overwritten(capsys, tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("mine")
    assert guided_eval.main(["--out", str(out)]) == 2
    assert "exists (use --force to replace it)" in capsys.readouterr().err
    assert out.read_text() == "mine"


def test_the_command_runs_end_to_end_and_its_summary_names_the_command(tmp_path, monkeypatch, capsys):
    """The whole command on two small photos (gray and Levin: no model file needed): the CSV has a
    row per photo, N and method, and the summary says how it was made."""
    from skimage.transform import resize

    from colorcourse import coursepack

    photos = [SimpleNamespace(name=f"p{i}", rgb=resize(image, (48, 64), anti_aliasing=True))
              for i, image in enumerate((data.astronaut(), data.chelsea()))]
    monkeypatch.setattr(coursepack, "load_split", lambda split, limit=None: photos[:limit])
    out = tmp_path / "r.csv"
    argv = ["--split", "shift_test", "--methods", "gray", "levin", "--points", "0", str(guided_eval.TARGET_POINTS),
            "--no-hint-splits", "--out", str(out), "--quiet"]
    assert guided_eval.main(argv) == 0
    table = pd.read_csv(out)
    assert len(table) == 2 * 2 * 2 and set(table["method"]) == {"gray", "levin"}
    summary = out.with_suffix(".md").read_text()
    assert "python -m colorcourse.guided_eval --split shift_test --methods gray levin" in summary

"""The lessons' figure helpers: the numbers they show, checked against independent computations."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.spatial.distance import cdist  # noqa: E402

from colorcourse import figures  # noqa: E402
from colorcourse.color import merge_y_uv, rgb_to_gray, rgb_to_yuv  # noqa: E402
from colorcourse.metrics import psnr  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_strongest_edge_pixel_finds_the_step_not_the_flat_part():
    gray = np.full((40, 60), 0.8)
    gray[:, 37:] = 0.2  # one vertical edge between columns 36 and 37
    gray[5:8, 5:8] += 0.01  # a faint blob in the flat part
    y, x = figures.strongest_edge_pixel(gray)
    assert x in (36, 37)
    assert 3 <= y < 37


def test_strongest_edge_pixel_keeps_away_from_the_border():
    gray = np.zeros((30, 30))
    gray[:, 1:] = 1.0  # the only edge is at column 0/1, inside the 3 px margin
    y, x = figures.strongest_edge_pixel(gray, margin=3)
    assert 3 <= x <= 26 and 3 <= y <= 26
    with pytest.raises(ValueError, match="H x W"):
        figures.strongest_edge_pixel(np.zeros((10, 10, 3)))
    with pytest.raises(ValueError, match="border"):
        figures.strongest_edge_pixel(np.zeros((6, 6)))


def test_pca_rgb_explained_variance_matches_scikit_learn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    features = rng.normal(size=(30, 40, 6)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2])
    rgb, explained = figures.pca_rgb(features, max_samples=10**6)
    reference = PCA(n_components=3).fit(features.reshape(-1, 6)).explained_variance_ratio_
    np.testing.assert_allclose(explained, reference, rtol=1e-10)
    assert rgb.shape == (30, 40, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert "R = PC1 (" in figures.pca_title("patch", explained)


def test_class_map_panel_has_one_color_per_class_and_a_colorbar():
    cmap = figures.class_colormap(33)
    assert len({tuple(c) for c in cmap.colors}) == 33
    rng = np.random.default_rng(1)
    gray = rng.random((32, 40)).astype(np.float32)
    probs = rng.random((32, 40, 33)).astype(np.float32)
    probs /= probs.sum(-1, keepdims=True)
    fig, share = figures.class_map_panel(gray, probs, 4.0, 0.2)
    assert 0.0 <= share <= 1.0
    assert len(fig.axes) == 4  # three panels and the colorbar
    assert "class index" in fig.axes[-1].get_ylabel()


def test_chroma_maps_share_one_scale_with_a_colorbar():
    rng = np.random.default_rng(2)
    uv = rng.normal(0, 0.1, (20, 24, 2)).astype(np.float32)
    fig = figures.chroma_maps(uv, rng.random((20, 24, 3)))
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 4 and all(im.get_clim() == (-0.3, 0.3) for im in images)
    assert len(fig.axes) == 5 and "chroma" in fig.axes[-1].get_ylabel()


def test_pixel_learning_curves_train_the_same_network_as_the_package():
    from colorcourse.cheng.mlp import train_pixel_colorizer

    rng = np.random.default_rng(3)
    features = rng.normal(size=(3000, 10)).astype(np.float32)
    uv = np.stack([features[:, 0] * 0.05, np.tanh(features[:, 1]) * 0.1], 1).astype(np.float32)
    val_features = rng.normal(size=(500, 10)).astype(np.float32)
    val_uv = np.stack([val_features[:, 0] * 0.05, np.tanh(val_features[:, 1]) * 0.1], 1).astype(np.float32)
    net, train_loss, val_loss = figures.pixel_learning_curves(features, uv, val_features, val_uv, ("patch",),
                                                              epochs=3, seed=4)
    reference = train_pixel_colorizer(features, uv, ("patch",), epochs=3, seed=4, progress=False)
    np.testing.assert_allclose(train_loss, reference.history, rtol=1e-6)
    for a, b in zip(net.model.parameters(), reference.model.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
    direct = float(((net.predict(val_features) - val_uv) ** 2).sum(1).mean())
    assert val_loss[-1] == pytest.approx(direct, rel=1e-4)
    assert len(val_loss) == 3 and val_loss[-1] < val_loss[0]
    fig = figures.learning_curve_figure(train_loss, val_loss)
    ticks = fig.axes[0].get_xticks()
    assert np.allclose(ticks, np.round(ticks))  # whole epochs only


def test_busiest_window_matches_brute_force():
    rng = np.random.default_rng(5)
    weight = rng.random((23, 31))
    for size in (1, 4, 9):
        sums = np.array([[weight[y : y + size, x : x + size].sum() for x in range(31 - size + 1)]
                         for y in range(23 - size + 1)])
        assert figures.busiest_window(weight, size) == np.unravel_index(np.argmax(sums), sums.shape)
    with pytest.raises(ValueError, match="window size"):
        figures.busiest_window(weight, 24)


def test_uv_change_and_zoom_panel_box_where_the_change_is():
    a = np.zeros((40, 50, 2))
    b = a.copy()
    b[30:34, 10:14] = [0.3, 0.4]  # |delta uv| = 0.5 on a 4 x 4 block
    change = figures.uv_change(a, b)
    assert change.max() == pytest.approx(0.5) and change.sum() == pytest.approx(0.5 * 16)
    rgb = np.full((40, 50, 3), 0.5)
    fig, (y, x) = figures.zoom_panel({"before": rgb, "after": rgb}, change, size=8)
    assert y <= 30 and y + 8 >= 34 and x <= 10 and x + 8 >= 14
    with pytest.raises(ValueError, match="chroma"):
        figures.uv_change(a, b[..., :1])


def test_leak_study_rows_are_the_psnr_of_each_version():
    from colorcourse.fusion.data import sample_photos

    photos = [p for p in sample_photos() if p.name in ("chelsea", "coffee")]
    for p in photos:
        p.rgb = p.rgb[::4, ::4]  # small: a quick test
    rng = np.random.default_rng(6)
    noisy = {p.name: (rgb_to_yuv(p.rgb.astype(np.float32))[..., 1:] + rng.normal(0, 0.05, p.rgb.shape[:2] + (2,)))
             .astype(np.float32) for p in photos}
    table = figures.leak_study(photos, lambda photo: noisy[photo.name], 3.0, 0.08)
    assert set(table["method"]) == {"network output", "refined, gray guide", "refined, true-V guide (LEAK)"}
    for p in photos:
        gray = rgb_to_gray(p.rgb).astype(np.float32)
        raw = table[(table.photo == p.name) & (table.method == "network output")].psnr.item()
        assert raw == pytest.approx(psnr(merge_y_uv(gray, noisy[p.name]), p.rgb))
        # smoothing noise around the true chroma brings it closer to the truth
        assert table[(table.photo == p.name) & (table.method == "refined, gray guide")].psnr.item() > raw
    guide = figures.leak_guide(photos[0].rgb)
    assert guide.min() == pytest.approx(0) and guide.max() == pytest.approx(1)


def test_interval_plot_refuses_an_interval_without_its_mean():
    fig = figures.interval_plot(["a", "b"], [0.1, -0.2], [-0.1, -0.5], [0.3, 0.0])
    assert len(fig.axes[0].get_yticklabels()) == 2
    with pytest.raises(ValueError, match="contain"):
        figures.interval_plot(["a"], [1.0], [1.5], [2.0])


def test_pairwise_distances_match_scipy():
    rng = np.random.default_rng(7)
    vectors = pd.DataFrame(rng.normal(size=(6, 32)), index=list("abcdef"))
    np.testing.assert_allclose(figures.pairwise_distances(vectors).to_numpy(), cdist(vectors, vectors), atol=1e-12)


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_style_gallery_titles_do_not_overlap():
    rng = np.random.default_rng(8)
    gray = rng.random((40, 60))
    long = "gcompris-explore_monuments-wonders-greatwallofchina"
    styles = {f"{label}: {long}{i}": rng.random((40, 60, 3)) for i, label in enumerate(["monuments", "nature", "fish"])}
    gallery = {"own": rng.random((40, 60, 3))} | {name: rng.random((40, 60, 3)) for name in styles}
    fig = figures.style_gallery_figure(gallery, styles, gray, captions={n: "mean |delta ab| 1.23" for n in gallery})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes if ax.get_title()]
    assert len(titles) == 1 + 2 * len(styles) + 1
    for i, a in enumerate(titles):
        for b in titles[i + 1:]:
            assert not _boxes_overlap(a, b)
    assert all(len(line) <= 24 for name in styles for line in figures.short_title(name).split("\n"))


def test_cluster_choice_figure_marks_the_top_k_and_the_chosen_cluster():
    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(9)
    photo = rng.random((20, 30, 3))
    members = [rng.random((20, 30, 3)) for _ in range(7)]
    fig = figures.cluster_choice_figure(photo, 2, members, [3.0, 1.0, 1.5, 4.0], nearest=[1, 2], n_show=4)
    bars = fig.axes[-1].patches
    assert [b.get_height() for b in bars] == [3.0, 1.0, 1.5, 4.0]
    assert [b.get_facecolor() == to_rgba("tab:orange") for b in bars] == [False, True, True, False]
    assert [bool(b.get_hatch()) for b in bars] == [False, False, True, False]
    assert len(fig.axes) == 1 + 4 + 1

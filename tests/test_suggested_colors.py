"""Suggested colors at a point (colorcourse.suggested_colors): the shipped classification decoder's
distribution there, checked against the softmax computed by hand, scikit-image's Lab, and a photo
whose true color the network knows (a blue sky)."""

import numpy as np
import pytest
import torch
from scipy.ndimage import uniform_filter
from skimage import data
from skimage.color import rgb2lab
from skimage.transform import resize

from colorcourse import encoder as enc
from colorcourse import suggested_colors as sc

pytestmark = pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")


@pytest.fixture(scope="module")
def model():
    return sc.load_model()


@pytest.fixture(scope="module")
def coffee():
    rgb = resize(data.coffee() / 255.0, (120, 160), anti_aliasing=True)  # H x W x 3, under the work size
    return rgb, (0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]).astype(np.float32)


@pytest.fixture(scope="module")
def session(model, coffee):
    return sc.SuggestionSession(model, coffee[1])


POINTS = [(0, 0), (40, 30), (80, 60), (159, 119), (120.7, 15.2)]


def lightness_of_gray(value):
    """L* of a neutral pixel of gray ``value``, by scikit-image."""
    return rgb2lab(np.full((1, 1, 3), float(value)))[0, 0, 0]


def softmax_by_hand(logits):
    z = logits - logits.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("x, y", POINTS)
def test_probabilities_are_sorted_in_the_unit_interval_and_sum_to_at_most_one(session, coffee, x, y):
    suggestions = session.suggest(x, y, k=6)
    p = np.array([s.probability for s in suggestions])
    assert 1 <= len(suggestions) <= 6
    if 20 < lightness_of_gray(coffee[1][int(y), int(x)]) < 90:  # near black or white fewer colors are distinct
        assert len(suggestions) == 6
    assert np.all(np.diff(p) <= 0) and np.all(p > 0) and np.all(p <= 1) and p.sum() <= 1 + 1e-9
    assert all(s.bin_probability <= s.probability + 1e-12 for s in suggestions)  # a group holds its bin
    every = session.suggest(x, y, k=1000)  # all groups: they share out the whole distribution
    assert sum(s.probability for s in every) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("neighbourhood", [0, 1])
def test_against_the_softmax_of_the_decoder_output_by_hand(model, coffee, session, neighbourhood):
    gray = coffee[1]
    with torch.inference_mode():
        logits = model(torch.from_numpy(gray)[None, None])[0].double().numpy()  # Q x gh x gw
    probs = softmax_by_hand(logits)
    gh, gw = probs.shape[1:]
    assert (gh, gw) == (30, 40)  # stride 4 of the 120 x 160 photo (no resizing under 512 px)
    for x, y in [(0, 0), (41, 29), (159, 119), (87, 3)]:
        row, col = int((y + 0.5) * gh / 120), int((x + 0.5) * gw / 160)  # the cell the pixel's centre is in
        block = probs[:, max(0, row - neighbourhood):row + neighbourhood + 1, max(0, col - neighbourhood):col + neighbourhood + 1]
        expected = block.reshape(len(block), -1).mean(axis=1)
        top = np.argsort(-expected)[:5]
        got = session.suggest(x, y, k=5, neighbourhood=neighbourhood, min_distance=0)  # no merging: bins as they are
        centres = model.bin_centres.numpy()
        np.testing.assert_allclose([s.ab for s in got], centres[top])
        np.testing.assert_allclose([s.probability for s in got], expected[top], rtol=1e-6)
        np.testing.assert_allclose(session.distribution_at(x, y, neighbourhood), expected, rtol=1e-6)


def test_a_large_photo_is_read_at_the_work_size(model):
    rgb = data.astronaut() / 255.0  # 512 x 512: at the work size already; 1024 x 768 below is halved
    big = resize(rgb[..., 1], (768, 1024), anti_aliasing=True).astype(np.float32)
    small = resize(big, (384, 512), anti_aliasing=True, preserve_range=True).astype(np.float32)
    with torch.inference_mode():
        probs = softmax_by_hand(model(torch.from_numpy(small)[None, None])[0].double().numpy())
    session = sc.SuggestionSession(model, big)
    assert session.grid == (96, 128)
    x, y = 700, 500  # photo pixel -> cell (500.5 * 96 / 768, 700.5 * 128 / 1024) = (62, 87)
    got = session.suggest(x, y, k=3, neighbourhood=0, min_distance=0)
    np.testing.assert_allclose([s.probability for s in got], np.sort(probs[:, 62, 87])[::-1][:3], rtol=1e-4)


@pytest.mark.parametrize("x, y", POINTS)
def test_the_colors_have_the_photos_lightness_and_the_bins_hue(session, coffee, x, y):
    gray = coffee[1]
    expected_L = lightness_of_gray(gray[int(y), int(x)])
    for s in session.suggest(x, y, k=6):
        lab = rgb2lab(np.array(s.rgb)[None, None])[0, 0]  # scikit-image, independent of the course's Lab
        assert lab[0] == pytest.approx(expected_L, abs=0.05)
        assert s.lightness == pytest.approx(expected_L, abs=0.05)
        if np.hypot(*lab[1:]) > 2:  # the chroma may shrink to fit sRGB; the hue stays the bin's
            hue = np.degrees(np.arctan2(lab[2], lab[1]) - np.arctan2(s.ab[1], s.ab[0]))
            assert abs((hue + 180) % 360 - 180) < 1.0
        from_hex = rgb2lab(np.array([int(s.hex[i:i + 2], 16) for i in (1, 3, 5)])[None, None] / 255.0)[0, 0, 0]
        assert from_hex == pytest.approx(expected_L, abs=0.6)  # 8-bit rounding


@pytest.mark.parametrize("min_distance", [15.0, 25.0])
def test_suggested_colors_are_distinct_on_screen(session, min_distance):
    for x, y in POINTS:
        suggestions = session.suggest(x, y, k=8, min_distance=min_distance)
        lab = rgb2lab(np.array([s.rgb for s in suggestions])[None])[0]
        d = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
        assert d[np.triu_indices(len(lab), 1)].min() >= min_distance - 0.1


def test_merging_known_distributions():
    lab = np.array([[50, 0, 0], [50, 10, 0], [50, 30, 0], [50, 40, 0], [50, 80, 0]], float)
    p = np.array([0.30, 0.05, 0.25, 0.20, 0.20])
    kept, mass = sc.merge_near_duplicates(p, lab, 15.0)
    # bin 0 keeps bin 1; bin 2 keeps bin 3 (0.45 > 0.35: the group ranks above its likelier peak's)
    assert kept.tolist() == [2, 0, 4] and np.allclose(mass, [0.45, 0.35, 0.20])
    kept, mass = sc.merge_near_duplicates(p, lab, 0.0)
    assert kept.tolist() == [0, 2, 3, 4, 1] and np.allclose(mass, p[kept])
    # a bin within reach of two kept colors joins the nearer
    kept, mass = sc.merge_near_duplicates(np.array([0.4, 0.35, 0.25]), lab[[0, 2, 1]], 25.0)
    assert kept.tolist() == [0, 1] and np.allclose(mass, [0.65, 0.35])


def test_the_network_runs_once_per_photo(model, coffee, monkeypatch):
    calls = []
    real = model.encoder

    def counting(gray):
        calls.append(tuple(gray.shape))
        return real(gray)

    monkeypatch.setattr(sc, "_sessions", sc.OrderedDict())
    object.__setattr__(model, "encoder", counting)  # as the model holds it: not a submodule
    try:
        gray = coffee[1]
        first = sc.suggested_colors(gray, 10, 10, model=model)
        for x, y in [(20, 30), (100, 50), (10, 10)]:
            sc.suggested_colors(gray.copy(), x, y, model=model)  # the same pixels: a lookup
        assert len(calls) == 1
        assert sc.suggested_colors(gray, 10, 10, model=model) == first
        sc.suggested_colors(gray[::-1].copy(), 10, 10, model=model)  # another photo: one more run
        assert len(calls) == 2
    finally:
        object.__setattr__(model, "encoder", real)


def test_a_hint_sessions_encoder_features_are_reused(model, coffee):
    from colorcourse.fusion import hinted

    session = hinted.HintSession(hinted.load_model(encoder=model.encoder), coffee[1])
    shared = sc.SuggestionSession(model, coffee[1], features=(session.maps, session.pooled))
    alone = sc.SuggestionSession(model, coffee[1])
    np.testing.assert_allclose(shared.probabilities, alone.probabilities, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("x, y", [(-1, 5), (160, 5), (5, 120), (5, -0.5), (float("nan"), 3)])
def test_a_point_outside_the_photo_is_a_one_line_error(session, x, y):
    with pytest.raises(ValueError, match=r"outside the 160 x 120 photo") as e:
        session.suggest(x, y)
    assert "\n" not in str(e.value)


def test_bad_arguments_and_model_files(session, tmp_path):
    with pytest.raises(ValueError, match="k must be at least 1"):
        session.suggest(3, 3, k=0)
    with pytest.raises(ValueError, match="neighbourhood must be >= 0"):
        session.suggest(3, 3, neighbourhood=-1)
    with pytest.raises(sc.SuggestedColorsError, match=r"missing\.safetensors: no such model file.*`make models`") as e:
        sc.load_model(tmp_path / "missing.safetensors")
    assert "\n" not in str(e.value)
    regression = sc.default_model_path().with_name("pretrained_fusion.safetensors")
    with pytest.raises(sc.SuggestedColorsError, match="holds a '(mse|smoothl1)' decoder; suggested colors need a 'classification' one"):
        sc.load_model(regression)


def test_a_blue_sky_suggests_its_true_blue(model):
    """On a course-pack photo with a wide blue sky (shift_val: a source never trained on), at five
    points of its flat blue region the true color's bin, or a neighbouring bin, is in the top 5."""
    from colorcourse import coursepack
    from colorcourse.color import rgb_to_gray

    try:
        photos = {p.name: p for p in coursepack.load_split("shift_val")}
    except FileNotFoundError:
        pytest.skip("course pack not built (make data)")
    rgb = photos["lomiri-picosdeeuropa_by_aitzol_berasategi"].rgb.astype(np.float64)
    lab = rgb2lab(rgb)
    b = uniform_filter(lab[..., 2], 15)
    spread = np.sqrt(np.maximum(uniform_filter(lab[..., 2] ** 2, 15) - b**2, 0))
    sky = (b < -20) & (spread < 3)  # flat and clearly blue
    sky[:8], sky[-8:], sky[:, :8], sky[:, -8:] = False, False, False, False
    ys, xs = np.nonzero(sky)
    assert len(ys) > 2000  # the photo has its sky
    session = sc.SuggestionSession(model, rgb_to_gray(rgb).astype(np.float32))
    centres = model.bin_centres.numpy()
    for i in np.linspace(0, len(ys) - 1, 5).astype(int):
        y, x = ys[i], xs[i]
        truth = lab[y - 2:y + 3, x - 2:x + 3, 1:].reshape(-1, 2).mean(axis=0)
        true_bin = centres[np.argmin(np.linalg.norm(centres - truth, axis=1))]
        top = np.array([s.ab for s in session.suggest(x, y, k=5)])
        assert np.linalg.norm(top - true_bin, axis=1).min() <= 10 * np.sqrt(2) + 1e-6, (x, y, truth, top)


# ---------------------------------------------------------------- in the canvas (colorcourse.hint_widget)


def test_the_canvas_palette_shows_the_suggestions_and_a_swatch_recolors_the_hint(model, coffee, tmp_path):
    from colorcourse.hint_editor import SuggestingColorizer, levin_colorizer
    from colorcourse.hint_widget import hint_widget

    gray = coffee[1]
    colorizer = SuggestingColorizer(levin_colorizer, model=model)
    box = hint_widget(gray, colorizer, size=160, folder=tmp_path)
    state, controls = box.hint_state, box.hint_controls
    assert "suggested colors" in state.description and controls["palette"].children == ()
    controls["canvas"]._handle_custom_msg({"event": "click", "x": 60, "y": 50, "width": 160, "height": 120}, [])
    expected = sc.SuggestionSession(model, gray).suggest(60, 50, k=6)
    label, *swatches = controls["palette"].children
    assert [b.style.button_color for b in swatches] == [s.hex for s in expected]
    assert [b.description for b in swatches] == [f"{s.probability:.0%}" for s in expected]
    assert [e["probability"] for e in state.palette()] == [s.probability for s in expected]
    before = controls["canvas"].result
    swatches[2].click()
    assert controls["picker"].value == expected[2].hex and state.editor.points[-1]["color"] == expected[2].hex
    assert controls["canvas"].result != before


def test_the_default_canvas_suggests_from_the_hint_sessions_features(model, coffee, monkeypatch, tmp_path):
    from colorcourse.hint_editor import HintSessionColorizer, HintState, default_colorizer

    colorizer, description = default_colorizer()
    assert isinstance(colorizer, HintSessionColorizer) and description.endswith("with suggested colors")
    state = HintState(coffee[1], colorizer, size=160)
    state.click(30, 90, (160, 120), "#ff0000")
    alone = sc.SuggestionSession(model, coffee[1]).suggest(30, 90, k=6)
    assert state.suggestions() == [s.hex for s in alone]
    # without the classification decoder the canvas still works, without a palette, and says why
    monkeypatch.setattr(sc, "default_model_path", lambda: tmp_path / "gone.safetensors")
    colorizer, description = default_colorizer()
    assert "no suggested colors" in description and "make models" in description
    state = HintState(coffee[1], colorizer, size=160)
    state.click(30, 90, (160, 120), "#ff0000")
    assert state.palette() == []

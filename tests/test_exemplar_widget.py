"""The reference chooser's logic (colorcourse.exemplar_widget): course photos offered, uploads
read, gray references refused in one line, the views the widget shows."""

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorcourse import encoder as enc
from colorcourse import exemplar_widget as ew
from colorcourse.color import rgb_to_gray
from colorcourse.exemplar import GrayReferenceError


def png_upload(rgb_uint8):
    buffer = io.BytesIO()
    Image.fromarray(rgb_uint8).save(buffer, format="PNG")
    return ({"name": "ref.png", "content": memoryview(buffer.getvalue())},)  # ipywidgets 8's value


def test_course_references_offer_no_test_photo(tmp_path):
    pack = tmp_path / "coursepack"
    pack.mkdir()
    (pack / "manifest.csv").write_text(
        "id,split,label,file\nb1,train,sea,train/b1.jpg\na1,shift_val,city,sv/a1.jpg\nt1,test,sea,test/t1.jpg\n"
        "s1,shift_test,sea,st/s1.jpg\n")
    refs = ew.course_references(data_dir=tmp_path)
    assert list(refs) == ["city: a1", "sea: b1"]
    assert refs["sea: b1"] == pack / "train" / "b1.jpg"
    assert ew.course_references(data_dir=tmp_path / "nowhere") == {}


def test_an_upload_wins_over_the_dropdown_and_a_gray_one_is_refused(tmp_path):
    color = (data.astronaut()[::4, ::4]).astype(np.uint8)
    file_choice = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()[::4, ::4]).save(file_choice)
    got = ew.read_reference(file_choice, png_upload(color))
    assert np.allclose(got, color / 255.0, atol=1e-6)
    assert np.allclose(ew.read_reference(file_choice, None), data.coffee()[::4, ::4] / 255.0, atol=1e-6)
    gray = np.repeat(rgb_to_gray(color / 255.0)[..., None] * 255, 3, axis=-1).round().astype(np.uint8)
    with pytest.raises(GrayReferenceError, match="no colors to lend"):
        ew.read_reference(None, png_upload(gray))
    with pytest.raises(ValueError, match="choose a course photo or upload"):
        ew.read_reference(None, None)
    big = np.zeros((3000, 1500, 3), np.uint8)
    big[..., 0] = 200
    assert max(ew.read_reference(None, png_upload(big), max_side=600).shape[:2]) == 600


@pytest.mark.skipif(not enc.encoder_available(), reason="encoder packages not installed")
def test_the_views_show_the_result_the_warped_colors_and_the_confidence():
    from colorcourse.fusion import hinted

    rgb = data.astronaut()[::2, ::2] / 255.0
    state = ew.ExemplarState(rgb_to_gray(rgb), model=hinted.from_pretrained(), display_size=200)
    same = state.with_reference(rgb[:, ::-1])
    noise = state.with_reference(np.random.default_rng(0).random((100, 100, 3)))
    assert same.result.shape == same.warped.shape == same.confidence.shape == (200, 200, 3)
    assert same.mean_confidence > 2 * noise.mean_confidence
    assert np.allclose(same.confidence[..., 0], same.confidence[..., 2])  # a gray map
    assert 0.0 <= same.confidence.min() and same.confidence.max() <= 1.0

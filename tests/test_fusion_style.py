"""Style transfer: the global features of another image change the colorization."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import skimage.data
import torch

from colorcourse.color import rgb_to_gray
from colorcourse.fusion.infer import colorize, colorize_lab
from colorcourse.fusion.model import FusionNet
from colorcourse.fusion.style import style_distance, style_gallery, style_view


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = FusionNet(width=0.125, n_classes=0).eval()
    with torch.no_grad():  # an untrained net's global vector is tiny: make it matter visibly
        # (its biases dominate it): zero them and amplify the weights
        for name, p in m.global_net.named_parameters():
            p.zero_() if name.endswith("bias") else p.mul_(3)
        m.fusion.weight[:, : m.global_dim] *= 20
    return m


@pytest.fixture(scope="module")
def images():
    content = skimage.data.chelsea()[::4, ::4] / 255.0
    style = skimage.data.coffee()[::4, ::4] / 255.0
    return rgb_to_gray(content), style


def test_other_style_changes_output_and_own_style_is_plain(model, images):
    gray, style = images
    plain = colorize(model, gray)
    styled = colorize_lab(model, gray, style_image=style)
    # the chroma moves (in a*b* units; the L channel is the content's own, untouched)
    assert np.abs(styled[..., 1:] - colorize_lab(model, gray)[..., 1:]).mean() > 1e-3
    np.testing.assert_array_equal(styled[..., 0], colorize_lab(model, gray)[..., 0])
    np.testing.assert_array_equal(colorize(model, gray, style_image=gray), plain)
    assert style_distance(model, gray, gray) == 0.0 and style_distance(model, gray, style) > 0


def test_gray_style_image_equals_its_color_original(model, images):
    gray, style = images
    np.testing.assert_array_equal(
        colorize(model, gray, style_image=style), colorize(model, gray, style_image=rgb_to_gray(style))
    )


def test_gallery_and_widget_view(model, images):
    gray, style = images
    gallery = style_gallery(model, gray, {"coffee": style})
    assert list(gallery) == ["own", "coffee"] and gallery["coffee"].shape == gray.shape + (3,)
    fig = style_view(model, gray, {"coffee": style}, "coffee")
    assert len(fig.axes) == 4
    with pytest.raises(KeyError, match="unknown style"):
        style_view(model, gray, {"coffee": style}, "sunset")
    no_global = FusionNet(width=0.125, use_global=False)
    with pytest.raises(ValueError, match="global features"):
        style_gallery(no_global, gray, {"coffee": style})

"""The architecture diagram of lesson 06 is drawn from LAYER_TABLE: its labels cannot drift."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from colorcourse.fusion.diagram import architecture_labels, draw_architecture
from colorcourse.fusion.model import LAYER_TABLE, FusionNet, scaled


def table_counts(width):
    """Every channel count and fully connected size of LAYER_TABLE, under ``width``."""
    counts = [c for key in ("low", "mid", "global_conv") for _, c in LAYER_TABLE[key]]
    counts += LAYER_TABLE["global_fc"] + [LAYER_TABLE["fusion"], LAYER_TABLE["class_hidden"]]
    counts += [n for op, n in LAYER_TABLE["color"] if op == "conv"]
    return {scaled(c, width) for c in counts} | {LAYER_TABLE["color_out"]}


def drawn_text(fig):
    """All the text drawn in the figure's axes (box labels, arrow labels, title)."""
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    texts += [ax.get_title() for ax in fig.axes]
    return "\n".join(texts)


def numbers(text):
    return {int(n) for n in re.findall(r"\d+", text)}


@pytest.mark.parametrize("width", [1.0, 0.5, 0.125])
def test_labels_hold_every_channel_count_of_the_table(width):
    fig = draw_architecture(width)
    try:
        missing = table_counts(width) - numbers(drawn_text(fig))
        assert not missing, f"channel counts not in the diagram at width {width}: {sorted(missing)}"
    finally:
        plt.close(fig)


def test_changing_width_changes_the_labels():
    full, small = draw_architecture(1.0), draw_architecture(0.125)
    try:
        text_full, text_small = drawn_text(full), drawn_text(small)
        assert {512, 1024} <= numbers(text_full)
        # at width 0.125 the paper's 256 / 512 / 1024 channels are 32 / 64 / 128: none is left
        assert not {256, 512, 1024} & numbers(text_small)
        assert "1024, 512, 256" in text_full and "128, 64, 32" in text_small
        assert "64/2, 128, 128/2" in text_full and "8/2, 16, 16/2" in text_small
    finally:
        plt.close(full)
        plt.close(small)


def test_every_block_and_the_two_paths_are_drawn():
    fig = draw_architecture(1.0, n_classes=205)
    try:
        text = drawn_text(fig)
        for block in ("Low-level", "Mid-level", "Global features: conv", "Global features: FC", "Fusion layer",
                      "Colorization", "Classification"):
            assert block in text
        assert "224 x 224" in text  # the global path's resize
        assert "tile the 256-d vector" in text  # the fusion layer copies the global vector
        assert "FC 256, FC 205" in text
        assert "-> 512 x 28 x 28" in text and "-> 512 x 7 x 7" in text  # strides read from the table
        assert "2 x H/2 x W/2" in text
    finally:
        plt.close(fig)


def test_labels_agree_with_the_built_network():
    width = 0.25
    model = FusionNet(width=width, n_classes=7)
    labels = architecture_labels(width, n_classes=7)
    assert f"-> {model.global_dim}-d vector" in labels["global_fc"]
    assert f"1x1 conv -> {model.fusion.out_channels} x" in labels["fusion"]
    assert f"FC {model.classifier[0].out_features}, FC 7" in labels["classification"]
    assert f"-> {model.mid[-2].out_channels} x H/8" in labels["mid"]


def test_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    try:
        assert draw_architecture(0.5, ax=ax) is fig
        assert ax.texts
    finally:
        plt.close(fig)


def test_rejects_a_bad_width():
    with pytest.raises(ValueError, match="width"):
        draw_architecture(0)

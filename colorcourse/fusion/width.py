"""The width multiplier: every channel count and fully connected size of the fusion network
(and of the heads that replace its parts, such as the pretrained backbone's projection) is the
published size times ``width``, so that CPU-sized variants train in minutes.

A module of its own because both :mod:`colorcourse.fusion.model` (which builds the network) and
:mod:`colorcourse.fusion.backbone` (whose projection head the model builds on request) need it:
here it depends on neither, and neither depends on the other both ways.
"""

from __future__ import annotations


def scaled(channels: int, width: float) -> int:
    """Channel count under the width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))

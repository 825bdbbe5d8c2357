"""Iizuka, Simo-Serra & Ishikawa, "Let there be Color!" (SIGGRAPH 2016), built and trained here.

Taught in notebooks/06_fusion_cnn.ipynb, notebooks/07_joint_classification.ipynb and
notebooks/08_style_transfer.ipynb.

- :mod:`~colorcourse.fusion.model`: the network (layer table as published, width multiplier);
- :mod:`~colorcourse.fusion.infer`: any-size colorization with tiling, loading the shipped models;
- :mod:`~colorcourse.fusion.data`: crops, augmentation and batches from the course pack;
- :mod:`~colorcourse.fusion.train`: the training loop (``python -m colorcourse.fusion.train``);
- :mod:`~colorcourse.fusion.style`: style transfer (global features from another photo);
- :mod:`~colorcourse.fusion.backbone`: global features from a frozen pretrained network;
- :mod:`~colorcourse.fusion.report`: scores of the shipped models (``models/fusion_results.md``).
"""

from colorcourse.fusion.infer import FusionColorizer, colorize, colorize_lab, load_model
from colorcourse.fusion.model import FusionConfig, FusionNet

__all__ = ["FusionColorizer", "FusionConfig", "FusionNet", "colorize", "colorize_lab", "load_model"]

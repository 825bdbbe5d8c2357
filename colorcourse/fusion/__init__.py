"""Iizuka, Simo-Serra & Ishikawa, "Let there be Color!" (SIGGRAPH 2016), built and trained here.

Taught in notebooks/06_fusion_cnn.ipynb, notebooks/07_joint_classification.ipynb and
notebooks/08_style_transfer.ipynb.

- :mod:`~colorcourse.fusion.model`: the network (layer table as published, width multiplier);
- :mod:`~colorcourse.fusion.infer`: any-size colorization with tiling, loading the shipped models;
- :mod:`~colorcourse.fusion.data`: crops, augmentation and batches from the course pack;
- :mod:`~colorcourse.fusion.train`: the training loop (``python -m colorcourse.fusion.train``);
- :mod:`~colorcourse.fusion.style`: style transfer (global features from another photo);
- :mod:`~colorcourse.fusion.backbone`: global features from a frozen pretrained network;
- :mod:`~colorcourse.fusion.report`: scores of the shipped models (``models/fusion_results.md``);
- :mod:`~colorcourse.fusion.streaming`: photos streamed from disk (Places365, SIFT Flow, folders);
- :mod:`~colorcourse.fusion.train_at_scale`: the streamed, multi-GPU, resumable training loop
  (``python -m colorcourse.fusion.train --data ...``; taught in notebooks/11_training_at_scale.ipynb);
- :mod:`~colorcourse.fusion.pretrained`, :mod:`~colorcourse.fusion.train_pretrained`: the default
  colorizer on a frozen ImageNet encoder (notebooks/10_transfer_learning.ipynb);
- :mod:`~colorcourse.fusion.alpha_sweep`: the classification weight alpha, swept;
- :mod:`~colorcourse.fusion.diagram`: the architecture diagram drawn from the layer table.
"""

from colorcourse.fusion.infer import FusionColorizer, colorize, colorize_lab, load_model
from colorcourse.fusion.model import FusionConfig, FusionNet

__all__ = ["FusionColorizer", "FusionConfig", "FusionNet", "colorize", "colorize_lab", "load_model"]

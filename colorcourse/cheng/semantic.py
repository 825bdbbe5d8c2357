"""The semantic feature: a scene parser's per-pixel class probabilities, smoothed along edges.

Taught in notebooks/02_cheng_features.ipynb.

The paper (Sec. III-B.3) runs a fully convolutional network (Long et al.) retrained on *gray*
SIFT Flow images (33 classes, 78.9% pixel accuracy), then smooths its probability maps with the
domain transform of Gastal & Oliveira guided by the gray image, because the parser's maps are
inaccurate around region boundaries.

Three parsers live here, all gray-in, probabilities-out (``predict_proba(gray) -> H x W x K``):

- :class:`FCNParser`, the paper's way: a small fully convolutional network trained on gray
  SIFT Flow images and their 33-class label maps (:func:`train_fcn_parser`). SIFT Flow must be
  fetched first (``colorcourse.datasets.siftflow``); no labelled scene-parsing data ships offline.
- :class:`PseudoClassParser`, the offline default: K "pseudo-classes" = soft k-means clusters of
  gray-only local descriptors (smoothed intensity at three scales, local contrast at two,
  gradient energy at two, and the row position), learned on the course pack's training photos.
  Each pixel's probabilities are a softmax over negative squared distances to the K centres.
  It knows no names ("sky", "tree"), but it does split an image into regions a colorizer can
  tell apart (bright smooth top, dark textured bottom, ...). The lessons measure what it adds.
- :class:`EncoderSemanticParser`: the same soft k-means, but over the frozen pretrained ImageNet
  encoder's features (:mod:`colorcourse.encoder`, strides 8 and 16, upsampled to every pixel),
  standardised and reduced by a PCA to K dimensions. Its clusters are learned on the course
  pack, but the features they cluster were learned on 1.28 million ImageNet photos. Measured on
  the out-of-domain shift_val split (lesson 02, :mod:`colorcourse.cheng.parser_study`): +0.20 dB
  PSNR over the pseudo-classes, 95 % interval [-0.07, +0.46], noise; so it is not the default.

:func:`domain_transform_filter` is the recursive-filter (RF) variant of the domain transform,
vectorised over whole rows/columns; it matches OpenCV's ``cv2.ximgproc.dtFilter(mode=DTF_RF)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..checkpoint import CheckpointError, load_checkpoint, read_header, save_checkpoint
from . import fast
from .bilateral import guided_inputs
from .features import check_gray

N_SIFTFLOW_CLASSES = 33
PSEUDO_KIND = "cheng-parser-pseudo"
FCN_KIND = "cheng-parser-fcn"
ENCODER_KIND = "cheng-parser-encoder"
ENCODER_STRIDES = (8, 16)  # the encoder's maps the encoder parser reads (40 + 112 channels)
ENCODER_DESCRIPTOR = "efficientnet-lite0-s8s16-v1"
SMOOTH_SIGMA_SPATIAL = 10.0  # pixels: how far a class probability may spread
SMOOTH_SIGMA_RANGE = 0.2  # gray units: an edge of this height already stops most spreading


# ---------------------------------------------------------------- edge-preserving smoothing


def _recursive_pass(F: np.ndarray, V: np.ndarray) -> None:
    """Causal then anti-causal first-order recursion along axis 0 of ``F`` (in place).

    ``F``: N x M x C, ``V``: N x M feedback coefficients (``V[j]`` links sample j-1 and j).
    The loop runs over the N positions of one axis; each step updates a whole row of M x C.
    """
    for j in range(1, F.shape[0]):
        F[j] += V[j][..., None] * (F[j - 1] - F[j])
    for j in range(F.shape[0] - 2, -1, -1):
        F[j] += V[j + 1][..., None] * (F[j + 1] - F[j])


def domain_transform_filter(
    src: np.ndarray,
    guide: np.ndarray,
    sigma_spatial: float = SMOOTH_SIGMA_SPATIAL,
    sigma_range: float = SMOOTH_SIGMA_RANGE,
    iterations: int = 3,
) -> np.ndarray:
    """Edge-preserving smoothing of ``src`` (``H x W`` or ``H x W x C``) guided by gray ``guide``.

    Gastal & Oliveira (2011), recursive filter: distances along rows and columns are stretched
    by ``1 + sigma_spatial / sigma_range * |d guide|``, so smoothing stops at gray edges.
    Alternating horizontal and vertical passes, ``iterations`` times with shrinking sigmas.
    """
    src, guide, squeeze = guided_inputs(src, guide)
    if sigma_spatial <= 0 or sigma_range <= 0 or iterations < 1:
        raise ValueError("sigmas must be positive and iterations >= 1")
    ratio = sigma_spatial / sigma_range
    dx = np.zeros_like(guide)
    dx[:, 1:] = np.abs(np.diff(guide, axis=1))
    dy = np.zeros_like(guide)
    dy[1:, :] = np.abs(np.diff(guide, axis=0))
    dh_t = np.ascontiguousarray((1.0 + ratio * dx).T)  # W x H: horizontal distances
    dv = 1.0 + ratio * dy  # H x W: vertical distances
    # Each pass runs along the first axis, whose rows are contiguous; the array is transposed
    # between the horizontal pass (W x H x C) and the vertical one (H x W x C).
    F = np.ascontiguousarray(src.transpose(1, 0, 2))  # W x H x C
    for i in range(iterations):
        sigma_i = (
            sigma_spatial * np.sqrt(3.0) * 2 ** (iterations - (i + 1)) / np.sqrt(4.0**iterations - 1)
        )
        a = np.exp(-np.sqrt(2.0) / sigma_i)
        if i > 0:
            F = np.ascontiguousarray(F.transpose(1, 0, 2))  # back to W x H x C
        _recursive_pass(F, (a**dh_t).astype(np.float32))
        F = np.ascontiguousarray(F.transpose(1, 0, 2))  # H x W x C
        _recursive_pass(F, (a**dv).astype(np.float32))
    return F[..., 0] if squeeze else F


# ---------------------------------------------------------------- offline default parser


def gray_descriptors(gray: np.ndarray) -> np.ndarray:
    """``H x W`` -> ``H x W x 8`` gray-only local descriptors for the pseudo-class parser.

    Smoothed intensity (sigma 1, 4, 12), local standard deviation (sigma 3, 10), gradient
    magnitude (sigma 1, 3) and the row position in [0, 1] (skies are on top).

    The filters are SciPy's (``ndimage.gaussian_filter``, ``gaussian_gradient_magnitude``,
    mirrored borders), applied by :mod:`colorcourse.cheng.fast` (the same numbers, sooner).
    """
    gray = check_gray(gray, min_size=1).astype(np.float32)
    h, w = gray.shape
    parts = [fast.gaussian_filter(gray, s) for s in (1.0, 4.0, 12.0)]
    for s in (3.0, 10.0):
        mean = fast.gaussian_filter(gray, s)
        sq = fast.gaussian_filter(gray * gray, s)
        parts.append(np.sqrt(np.maximum(sq - mean * mean, 0.0)))
    for s in (1.0, 3.0):
        parts.append(fast.gaussian_gradient_magnitude(gray, s))
    rows = np.broadcast_to(np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None], (h, w))
    parts.append(rows)
    return np.stack(parts, axis=-1).astype(np.float32)


def _softmax_neg_dist(desc: np.ndarray, centers: np.ndarray, temperature: float) -> np.ndarray:
    # desc: N x d, centers: K x d -> N x K probabilities, softmax(-|desc - c|^2 / T).
    # torch's fused softmax: one pass over the N x K logits instead of five NumPy passes.
    x = torch.from_numpy(np.ascontiguousarray(desc, np.float32))
    c = torch.from_numpy(np.ascontiguousarray(centers, np.float32))
    d2 = (x * x).sum(1, keepdim=True) - 2.0 * (x @ c.T) + (c * c).sum(1)[None, :]
    return torch.softmax(d2.clamp_(min=0.0).mul_(-1.0 / temperature), dim=1).numpy()


class PseudoClassParser:
    """Soft k-means over gray-only local descriptors: K pseudo-classes, probabilities per pixel."""

    kind = PSEUDO_KIND

    def __init__(self, centers: np.ndarray, mean: np.ndarray, std: np.ndarray, temperature: float):
        self.centers = np.asarray(centers, np.float32)  # K x 8, in standardised units
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self.temperature = float(temperature)

    @property
    def n_classes(self) -> int:
        return self.centers.shape[0]

    def predict_proba(self, gray: np.ndarray) -> np.ndarray:
        """``H x W`` -> ``H x W x K`` (rows sum to 1)."""
        desc = gray_descriptors(gray)
        flat = (desc.reshape(-1, desc.shape[-1]) - self.mean) / self.std
        probs = _softmax_neg_dist(flat, self.centers, self.temperature)
        return probs.reshape(desc.shape[:2] + (self.n_classes,)).astype(np.float32)

    def config(self) -> dict:
        return {"n_classes": self.n_classes, "descriptor": "gray8-v1", "temperature": self.temperature}

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        tensors = {
            "centers": torch.from_numpy(self.centers),
            "mean": torch.from_numpy(self.mean),
            "std": torch.from_numpy(self.std),
        }
        return save_checkpoint(path, tensors, self.config(), PSEUDO_KIND, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> "PseudoClassParser":
        tensors, config = load_checkpoint(path, PSEUDO_KIND)
        try:
            return cls(tensors["centers"].numpy(), tensors["mean"].numpy(), tensors["std"].numpy(), config["temperature"])
        except KeyError as e:
            raise CheckpointError(f"{path} lacks {e} for a pseudo-class parser") from None


def fit_pseudo_class_parser(
    grays: Sequence[np.ndarray],
    n_classes: int = N_SIFTFLOW_CLASSES,
    per_image: int = 3000,
    seed: int = 0,
    progress: bool = True,
) -> PseudoClassParser:
    """Learn K pseudo-classes by k-means on descriptors sampled from ``grays`` (seconds)."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    samples = []
    for gray in tqdm(list(grays), desc="parser descriptors", disable=not progress, leave=False):
        desc = gray_descriptors(gray).reshape(-1, 8)
        idx = rng.choice(len(desc), size=min(per_image, len(desc)), replace=False)
        samples.append(desc[idx])
    if not samples:
        raise ValueError("no images to learn pseudo-classes from")
    x = np.concatenate(samples)
    if len(x) < n_classes:
        raise ValueError(f"{len(x)} pixels are too few for {n_classes} pseudo-classes")
    mean, std = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / std
    km = KMeans(n_clusters=n_classes, n_init=2, random_state=seed).fit(z)
    # temperature: the mean squared distance to the nearest centre, so a typical pixel is
    # confidently but not exclusively assigned
    temperature = float(km.inertia_ / len(z))
    return PseudoClassParser(km.cluster_centers_, mean, std, temperature)


# ---------------------------------------------------------------- the pretrained encoder's parser

_SHARED_ENCODER = None


def shared_encoder():
    """One :class:`colorcourse.encoder.MultiScaleEncoder` per process, loaded on first use
    (raises :class:`colorcourse.encoder.EncoderUnavailableError` if its packages are missing)."""
    global _SHARED_ENCODER
    if _SHARED_ENCODER is None:
        from ..encoder import MultiScaleEncoder

        _SHARED_ENCODER = MultiScaleEncoder()
    return _SHARED_ENCODER


def _encoder_maps(gray: np.ndarray, encoder, strides: Sequence[int]) -> list[torch.Tensor]:
    from ..encoder import STRIDES

    gray = check_gray(gray, min_size=1).astype(np.float32)
    enc = encoder if encoder is not None else shared_encoder()
    maps, _ = enc(torch.from_numpy(np.ascontiguousarray(gray))[None, None])
    return [maps[STRIDES.index(s)] for s in strides]


def _upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)


def encoder_descriptors(gray: np.ndarray, encoder=None, strides: Sequence[int] = ENCODER_STRIDES) -> np.ndarray:
    """``H x W`` -> ``H x W x C``: the encoder's maps at ``strides`` (default 8 and 16: 40 + 112
    channels), each bilinearly upsampled to the image size, concatenated per pixel."""
    size = np.shape(gray)[:2]
    maps = _encoder_maps(gray, encoder, strides)
    x = torch.cat([_upsample(m, size) for m in maps], dim=1)
    return x[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32)


class EncoderSemanticParser:
    """Soft k-means over the pretrained encoder's features, reduced by PCA: K classes per pixel.

    Per pixel: the encoder's stride-8 and stride-16 maps (upsampled bilinearly), each channel
    standardised, projected on the first ``n_components`` principal components (fitted on
    training pixels), then a softmax over negative squared distances to K k-means centres in that
    space, as :class:`PseudoClassParser` does with its gray descriptors. The file stores only the
    standardisation, the PCA and the centres; the encoder's weights come from its own package.
    """

    kind = ENCODER_KIND

    def __init__(self, mean: np.ndarray, std: np.ndarray, components: np.ndarray, centers: np.ndarray,
                 temperature: float, strides: Sequence[int] = ENCODER_STRIDES, encoder=None):
        self.mean = np.asarray(mean, np.float32)  # C: per-channel mean of the encoder features
        self.std = np.asarray(std, np.float32)  # C
        self.components = np.asarray(components, np.float32)  # n_components x C, orthonormal rows
        self.centers = np.asarray(centers, np.float32)  # K x n_components
        self.temperature = float(temperature)
        self.strides = tuple(int(s) for s in strides)
        self.encoder = encoder  # None: the process-wide shared encoder, loaded on first use
        c = self.mean.shape[0]
        if self.std.shape != (c,) or self.components.shape[1] != c or self.centers.shape[1] != self.components.shape[0]:
            raise ValueError(
                f"inconsistent shapes: mean {self.mean.shape}, std {self.std.shape}, "
                f"components {self.components.shape}, centers {self.centers.shape}"
            )

    @property
    def n_classes(self) -> int:
        return self.centers.shape[0]

    @property
    def n_components(self) -> int:
        return self.components.shape[0]

    def project(self, gray: np.ndarray) -> np.ndarray:
        """``H x W`` -> ``H x W x n_components``: the PCA coordinates of every pixel.

        The projection is linear and bilinear upsampling preserves constants, so each map is
        projected at its own resolution and only the ``n_components`` result is upsampled:
        the same numbers as projecting :func:`encoder_descriptors`, without ever holding all
        152 channels at full size.
        """
        size = np.shape(gray)[:2]
        maps = _encoder_maps(gray, self.encoder, self.strides)
        w = torch.from_numpy(self.components / self.std[None, :])  # n x C: standardise and project
        shift = torch.from_numpy(self.mean)
        out, start = None, 0
        for m in maps:
            c = m.shape[1]
            z = torch.einsum("nc,bchw->bnhw", w[:, start : start + c], m - shift[start : start + c, None, None])
            z = _upsample(z, size)
            out = z if out is None else out + z
            start += c
        if start != self.mean.shape[0]:
            raise CheckpointError(f"the encoder gives {start} channels at strides {self.strides}, the parser expects {self.mean.shape[0]}")
        return out[0].permute(1, 2, 0).contiguous().numpy()

    def predict_proba(self, gray: np.ndarray) -> np.ndarray:
        """``H x W`` -> ``H x W x K`` (rows sum to 1)."""
        z = self.project(gray)
        probs = _softmax_neg_dist(z.reshape(-1, z.shape[-1]), self.centers, self.temperature)
        return probs.reshape(z.shape[:2] + (self.n_classes,)).astype(np.float32)

    def config(self) -> dict:
        from ..encoder import WEIGHTS_SHA256

        return {
            "n_classes": self.n_classes,
            "n_components": self.n_components,
            "descriptor": ENCODER_DESCRIPTOR,
            "strides": list(self.strides),
            "encoder_sha256": WEIGHTS_SHA256,
            "temperature": self.temperature,
        }

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        tensors = {
            "mean": torch.from_numpy(self.mean),
            "std": torch.from_numpy(self.std),
            "components": torch.from_numpy(self.components),
            "centers": torch.from_numpy(self.centers),
        }
        return save_checkpoint(path, tensors, self.config(), ENCODER_KIND, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path, encoder=None) -> "EncoderSemanticParser":
        from ..encoder import WEIGHTS_SHA256

        tensors, config = load_checkpoint(path, ENCODER_KIND)
        if config.get("encoder_sha256", WEIGHTS_SHA256) != WEIGHTS_SHA256:
            raise CheckpointError(f"{path} was fitted on another encoder's features than the course's")
        try:
            return cls(tensors["mean"].numpy(), tensors["std"].numpy(), tensors["components"].numpy(),
                       tensors["centers"].numpy(), config["temperature"], config.get("strides", ENCODER_STRIDES),
                       encoder=encoder)
        except KeyError as e:
            raise CheckpointError(f"{path} lacks {e} for an encoder parser") from None
        except ValueError as e:
            raise CheckpointError(f"{path}: {e}") from None


def fit_encoder_semantic_parser(
    grays: Sequence[np.ndarray],
    n_classes: int = N_SIFTFLOW_CLASSES,
    n_components: int = N_SIFTFLOW_CLASSES,
    per_image: int = 3000,
    seed: int = 0,
    encoder=None,
    progress: bool = True,
) -> EncoderSemanticParser:
    """Fit the standardisation, the PCA and K k-means centres on pixels sampled from ``grays``.

    The encoder stays frozen; one pass of it per photo (about a second each on a 2-core CPU).
    """
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    samples = []
    for gray in tqdm(list(grays), desc="encoder features", disable=not progress, leave=False):
        desc = encoder_descriptors(gray, encoder)
        desc = desc.reshape(-1, desc.shape[-1])
        idx = rng.choice(len(desc), size=min(per_image, len(desc)), replace=False)
        samples.append(desc[idx])
    if not samples:
        raise ValueError("no images to learn encoder classes from")
    x = np.concatenate(samples).astype(np.float64)
    if len(x) < max(n_classes, n_components):
        raise ValueError(f"{len(x)} pixels are too few for {n_classes} classes in {n_components} dimensions")
    if not 1 <= n_components <= x.shape[1]:
        raise ValueError(f"n_components must be in [1, {x.shape[1]}], got {n_components}")
    mean, std = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / std
    # PCA: eigenvectors of the covariance of the standardised channels, largest variance first
    evals, evecs = np.linalg.eigh(z.T @ z / len(z))
    components = evecs[:, np.argsort(evals)[::-1][:n_components]].T
    # a fixed sign per component (largest loading positive), so a refit gives the same file
    components *= np.sign(components[np.arange(n_components), np.abs(components).argmax(1)])[:, None]
    y = (z @ components.T).astype(np.float32)
    km = KMeans(n_clusters=n_classes, n_init=2, random_state=seed).fit(y)
    # temperature as for the pseudo-classes: the mean squared distance to the nearest centre
    temperature = float(km.inertia_ / len(y))
    return EncoderSemanticParser(mean, std, components, km.cluster_centers_, temperature, encoder=encoder)


# ---------------------------------------------------------------- the paper's parser: an FCN


class FCNParser(nn.Module):
    """A small fully convolutional network: gray ``N x 1 x H x W`` -> class logits ``N x K x H x W``.

    Three stride-2 stages (receptive field ~ 60 px at 1/8 resolution), a 1x1 classifier, and
    bilinear upsampling to the input size, like FCN-32s in miniature.
    """

    kind = FCN_KIND

    def __init__(self, n_classes: int = N_SIFTFLOW_CLASSES, width: int = 32):
        super().__init__()
        w = width

        def block(i, o, s):
            # GroupNorm: no running statistics, so a batch of one image behaves like training
            return [nn.Conv2d(i, o, 3, stride=s, padding=1), nn.GroupNorm(4, o), nn.ReLU()]

        self.body = nn.Sequential(
            *block(1, w, 1), *block(w, w, 2), *block(w, 2 * w, 2), *block(2 * w, 2 * w, 1),
            *block(2 * w, 4 * w, 2), *block(4 * w, 4 * w, 1),
        )
        self.classifier = nn.Conv2d(4 * w, n_classes, 1)
        self.n_classes_, self.width = n_classes, width

    @property
    def n_classes(self) -> int:
        return self.n_classes_

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.classifier(self.body(x - 0.5))
        return nn.functional.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)

    @torch.no_grad()
    def predict_proba(self, gray: np.ndarray) -> np.ndarray:
        gray = check_gray(gray)
        self.eval()
        x = torch.from_numpy(gray)[None, None]
        return torch.softmax(self(x), dim=1)[0].permute(1, 2, 0).numpy().astype(np.float32)

    def config(self) -> dict:
        return {"n_classes": self.n_classes, "width": self.width}

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        return save_checkpoint(path, self.state_dict(), self.config(), FCN_KIND, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> "FCNParser":
        tensors, config = load_checkpoint(path, FCN_KIND)
        model = cls(config["n_classes"], config["width"])
        try:
            model.load_state_dict(tensors, strict=True)
        except RuntimeError as e:
            raise CheckpointError(f"{path} does not fit the FCN parser: {e}") from None
        return model.eval()


def train_fcn_parser(
    grays: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    n_classes: int = N_SIFTFLOW_CLASSES,
    steps: int = 2000,
    batch_size: int = 8,
    crop: int = 128,
    lr: float = 1e-3,
    width: int = 32,
    ignore_index: int = -1,
    seed: int = 0,
    progress: bool = True,
) -> tuple[FCNParser, list[float]]:
    """Train :class:`FCNParser` with per-pixel cross-entropy on gray images and label maps.

    ``grays``: ``H x W`` in [0, 1]; ``labels``: ``H x W`` ints in ``[0, n_classes)``, with
    ``ignore_index`` (and any value outside the range) for unlabelled pixels. Random crops of
    ``crop`` px and horizontal flips. Returns the network and its loss per step.
    """
    if len(grays) != len(labels) or not grays:
        raise ValueError(f"need as many label maps as images, got {len(grays)} and {len(labels)}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    images = [check_gray(g) for g in grays]
    maps = []
    for g, lab in zip(images, labels):
        lab = np.asarray(lab)
        if lab.shape != g.shape:
            raise ValueError(f"a label map of shape {lab.shape} does not fit its image {g.shape}")
        lab = lab.astype(np.int64)
        lab[(lab < 0) | (lab >= n_classes)] = ignore_index
        maps.append(lab)
    model = FCNParser(n_classes, width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=ignore_index)
    history = []
    model.train()
    for _ in tqdm(range(steps), desc="train FCN parser", disable=not progress, leave=False):
        xs, ys = [], []
        for i in rng.integers(0, len(images), size=batch_size):
            g, lab = images[i], maps[i]
            c = min(crop, *g.shape)
            y0 = rng.integers(0, g.shape[0] - c + 1)
            x0 = rng.integers(0, g.shape[1] - c + 1)
            gc, lc = g[y0 : y0 + c, x0 : x0 + c], lab[y0 : y0 + c, x0 : x0 + c]
            if rng.random() < 0.5:
                gc, lc = gc[:, ::-1], lc[:, ::-1]
            xs.append(np.ascontiguousarray(gc))
            ys.append(np.ascontiguousarray(lc))
        c = min(x.shape[0] for x in xs), min(x.shape[1] for x in xs)
        x = torch.from_numpy(np.stack([a[: c[0], : c[1]] for a in xs]))[:, None]
        y = torch.from_numpy(np.stack([a[: c[0], : c[1]] for a in ys]))
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return model.eval(), history


def load_parser(path: str | Path):
    """Load any of the parsers, dispatching on the kind recorded in the file."""
    kind = read_header(path).get("kind")
    if kind == PSEUDO_KIND:
        return PseudoClassParser.load(path)
    if kind == ENCODER_KIND:
        return EncoderSemanticParser.load(path)
    if kind == FCN_KIND:
        return FCNParser.load(path)
    raise CheckpointError(f"{path} holds a {kind!r} model, not a Cheng scene parser")


# ---------------------------------------------------------------- the feature and histogram


def semantic_features(
    gray: np.ndarray,
    parser,
    smooth: bool = True,
    sigma_spatial: float = SMOOTH_SIGMA_SPATIAL,
    sigma_range: float = SMOOTH_SIGMA_RANGE,
) -> np.ndarray:
    """``H x W`` -> ``H x W x K``: the parser's probabilities, smoothed by the domain transform
    guided by the gray image (the paper's x_p^H)."""
    gray = check_gray(gray)
    probs = parser.predict_proba(gray)
    if smooth:
        probs = domain_transform_filter(probs, gray, sigma_spatial, sigma_range)
    return probs


def semantic_histogram(probs: np.ndarray) -> np.ndarray:
    """``H x W x K`` probabilities -> ``K``: the fraction of pixels whose most likely class is k."""
    probs = np.asarray(probs)
    k = probs.shape[-1]
    labels = probs.reshape(-1, k).argmax(axis=1)
    return np.bincount(labels, minlength=k).astype(np.float64) / labels.size

"""Model files: safetensors with the model's configuration in the header.

Why safetensors: loading a pickle (``torch.load`` of an untrusted file) can run arbitrary code;
a safetensors file holds only tensors and a JSON header. The header also records

- ``kind``: which model this is (``"cheng-mlp"``, ``"fusion"``, ...), so a file of another
  architecture is refused with a clear message instead of a shape error deep in PyTorch;
- ``config``: the hyper-parameters the weights belong to (widths, feature groups, ...);
- ``sha256``: a digest of every tensor's bytes, so a file that was edited or damaged after it
  was written is detected (safetensors itself checks only the header and the sizes).

Used by both papers' code; taught in notebooks/03_cheng_per_pixel_dnn.ipynb.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .atomic import write_atomically

FORMAT_VERSION = "1"


class CheckpointError(ValueError):
    """A model file cannot be used; the message names the file and the cause."""


def _digest(tensors: Mapping[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        # reshape first: a 0-dim tensor (a step counter, a scalar buffer) cannot be viewed as bytes
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_checkpoint(
    path: str | os.PathLike,
    tensors: Mapping[str, torch.Tensor],
    config: Mapping,
    kind: str,
    overwrite: bool = False,
) -> Path:
    """Write ``tensors`` with ``config`` and ``kind`` to ``path`` atomically.

    Refuses to replace an existing file unless ``overwrite=True``: a model someone trained for
    an hour is not lost to a re-run.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (or --force) to replace it")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    metadata = {
        "colorcourse_format": FORMAT_VERSION,
        "kind": kind,
        "config": json.dumps(dict(config), sort_keys=True),
        "sha256": _digest(tensors),
    }
    # Write beside the target and rename: a crash never leaves a half-written model behind; the
    # file gets the user's umask (mkstemp alone would make it 0600: a class folder could not read it).
    return write_atomically(path, lambda tmp: save_file(tensors, tmp, metadata=metadata), overwrite=overwrite)


def read_header(path: str | os.PathLike) -> dict:
    """The metadata of a model file without loading its tensors."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such model file")
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise CheckpointError(f"{path}: not a safetensors file (too short)")
        size = int.from_bytes(raw, "little")
        if size <= 0 or size > 100_000_000:
            raise CheckpointError(f"{path}: not a safetensors file (bad header size)")
        try:
            header = json.loads(f.read(size))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CheckpointError(f"{path}: not a safetensors file ({e})") from None
    return header.get("__metadata__") or {}


def load_checkpoint(
    path: str | os.PathLike,
    kind: str,
    expected_config: Mapping | None = None,
) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a model file written by :func:`save_checkpoint`; returns ``(tensors, config)``.

    Raises :class:`CheckpointError` for a missing, corrupted or tampered file, a file of another
    model ``kind``, or a ``config`` that differs from ``expected_config`` on any shared key.
    """
    path = Path(path)
    meta = read_header(path)
    if meta.get("colorcourse_format") is None:
        raise CheckpointError(f"{path}: a safetensors file, but not one written by colorcourse")
    if meta.get("kind") != kind:
        raise CheckpointError(
            f"{path} holds a {meta.get('kind')!r} model, but a {kind!r} model was asked for"
        )
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: corrupted or truncated model file ({e})") from None
    if _digest(tensors) != meta.get("sha256"):
        raise CheckpointError(
            f"{path}: the weights do not match the digest recorded when the file was written "
            "(the file was modified or damaged)"
        )
    config = json.loads(meta["config"])
    if expected_config is not None:
        differing = sorted(
            k for k in expected_config if k in config and config[k] != expected_config[k]
        )
        if differing:
            details = ", ".join(
                f"{k}: file has {config[k]!r}, expected {expected_config[k]!r}" for k in differing
            )
            raise CheckpointError(f"{path} was trained with another configuration ({details})")
    return tensors, config


def save_module(
    path: str | os.PathLike,
    module: torch.nn.Module,
    config: Mapping,
    kind: str,
    overwrite: bool = False,
) -> Path:
    """Save an ``nn.Module``'s state dict with its config (see :func:`save_checkpoint`)."""
    return save_checkpoint(path, module.state_dict(), config, kind, overwrite=overwrite)


def load_module(
    module: torch.nn.Module,
    path: str | os.PathLike,
    kind: str,
    expected_config: Mapping | None = None,
) -> dict:
    """Load weights into ``module`` (strictly: every tensor must match); returns the config."""
    tensors, config = load_checkpoint(path, kind, expected_config)
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path} does not fit this model's architecture: {e}") from None
    return config

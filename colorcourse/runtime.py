"""Where training runs: the device, mixed precision, torchrun's process group, random state, speed.

Taught in notebooks/11_training_at_scale.ipynb; used by :mod:`colorcourse.fusion.train`.

- ``--device auto`` is CUDA when a GPU is visible, else the CPU; under torchrun each process
  takes the GPU its ``LOCAL_RANK`` names.
- Mixed precision on CUDA only: bfloat16 where the GPU supports it (Ampere and later; no loss
  scaling needed), else float16 with a gradient scaler. On the CPU everything stays float32.
- The process group: NCCL when every rank has a GPU, gloo otherwise (NCCL cannot move CPU
  tensors, so picking it on a machine that merely *has* a GPU would fail on CPU training).
"""

from __future__ import annotations

import os
import random
import time
from contextlib import nullcontext

import numpy as np
import torch
import torch.distributed as dist

DEVICES = ("auto", "cpu", "cuda")


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: ``cuda:LOCAL_RANK`` when CUDA is available, else ``cpu``; ``cuda`` without a GPU
    is an error that says so (rather than a crash deep inside the first step)."""
    if name not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {name!r}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("--device cuda, but torch sees no CUDA GPU (torch.cuda.is_available() is False); "
                           "use --device cpu, or install a CUDA build of torch")
    index = local_rank()
    if index >= torch.cuda.device_count():
        raise RuntimeError(f"LOCAL_RANK {index} but only {torch.cuda.device_count()} GPU(s): "
                           "start at most one process per GPU (torchrun --nproc_per_node)")
    torch.cuda.set_device(index)
    # training crops all have one size: let cuDNN time its kernels once and keep the fastest
    torch.backends.cudnn.benchmark = True
    return torch.device("cuda", index)


def world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed(device: torch.device | str | None = None) -> tuple[int, int]:
    """Join torchrun's process group (when ``WORLD_SIZE > 1``): NCCL for a CUDA device, gloo for
    the CPU. Returns (rank, world size)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        on_gpu = device is not None and torch.device(device).type == "cuda"
        dist.init_process_group("nccl" if on_gpu else "gloo")
    return world()


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype on ``device``: bfloat16 or float16 on CUDA, None (float32) on the CPU."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device):
    """``torch.autocast`` for the forward pass on CUDA; nothing on the CPU."""
    dtype = amp_dtype(device)
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()


def grad_scaler(device: torch.device) -> torch.amp.GradScaler:
    """Loss scaling, enabled only for float16 (bfloat16 has float32's range and needs none)."""
    return torch.amp.GradScaler("cuda", enabled=amp_dtype(device) == torch.float16)


# ----------------------------------------------------------------- random state


def rng_state_tensors() -> dict[str, torch.Tensor]:
    """Every global random generator's state as tensors (for a checkpoint): torch's (and CUDA's),
    NumPy's legacy global one and Python's ``random``."""
    out = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["rng.cuda"] = torch.cuda.get_rng_state()
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    out["rng.numpy"] = torch.from_numpy(np.asarray(keys, dtype=np.uint32).view(np.int32).copy())
    out["rng.numpy_extra"] = torch.tensor([pos, has_gauss, float(gauss)], dtype=torch.float64)
    version, state, py_gauss = random.getstate()
    out["rng.python"] = torch.tensor(state, dtype=torch.int64)
    out["rng.python_extra"] = torch.tensor([version, float("nan") if py_gauss is None else py_gauss],
                                           dtype=torch.float64)
    return out


def restore_rng_state(tensors: dict[str, torch.Tensor]) -> None:
    """Undo :func:`rng_state_tensors` (the states it finds)."""
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    if "rng.numpy" in tensors:
        pos, has_gauss, gauss = tensors["rng.numpy_extra"].tolist()
        keys = tensors["rng.numpy"].numpy().view(np.uint32)
        np.random.set_state(("MT19937", keys, int(pos), int(has_gauss), gauss))
    if "rng.python" in tensors:
        version, py_gauss = tensors["rng.python_extra"].tolist()
        random.setstate((int(version), tuple(tensors["rng.python"].tolist()),
                         None if np.isnan(py_gauss) else py_gauss))


# ----------------------------------------------------------------- speed


class Throughput:
    """Images per second over the steps since the first one (the first step pays for start-up:
    worker processes, memory allocation, kernel selection), and the time left at that rate."""

    def __init__(self, images_per_step: int, steps_left: int):
        self.images_per_step, self.steps_left = images_per_step, steps_left
        self.first = None
        self.steps = 0

    def step(self, device: torch.device | None = None) -> None:
        self.steps += 1
        self.steps_left -= 1
        if self.first is None:
            if device is not None and device.type == "cuda":
                torch.cuda.synchronize(device)  # time finished work, not queued kernels
            self.first = time.perf_counter()
            self.steps = 0

    @property
    def images_per_s(self) -> float:
        if self.first is None or self.steps == 0:
            return float("nan")
        return self.steps * self.images_per_step / (time.perf_counter() - self.first)

    @property
    def eta_s(self) -> float:
        rate = self.images_per_s
        return self.steps_left * self.images_per_step / rate if rate == rate and rate > 0 else float("nan")

"""Training at scale (issue 14): streamed data sets, bad files, memory, torchrun, exact resume, CUDA.

Everything runs on fabricated data sets with the real layouts (torchvision's Places365 tree, a
folder with subfolders), tiny networks and tiny crops, so it runs on a 2-core CPU in CI.
"""

import io
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from colorcourse import runtime
from colorcourse.fusion import streaming
from colorcourse.fusion.train import TrainConfig, main, read_log
from colorcourse.fusion.train_at_scale import ScaleConfig, train_streaming

# each class has its own dominant channel: a batch's pixels tell which label they must carry
CLASS_NAMES = ["/a/airfield", "/b/beach", "/c/canyon"]
TINY = ["--width", "0.0625", "--crop", "32", "--batch-size", "8", "--threads", "1", "--val-limit", "8"]


def photo(rng: np.random.Generator, label: int, size=(40, 48)) -> np.ndarray:
    """A smooth color photo whose channel ``label`` is the brightest everywhere."""
    h, w = size
    base = rng.uniform(40, 110, (3, 3, 3))
    base[..., label] += 120
    return np.asarray(Image.fromarray(base.astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR))


def jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def fabricate_places365(root: Path, n_train: int = 240, n_val: int = 12, corrupt: bool = True) -> dict:
    """torchvision's Places365 small layout: a file list and data_256_standard/<class>/<n>.jpg."""
    rng = np.random.default_rng(0)
    (root / "categories_places365.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "categories_places365.txt").write_text("".join(f"{c} {i}\n" for i, c in enumerate(CLASS_NAMES)))
    lines = []
    for i in range(n_train):
        label = i % 3
        name = f"{CLASS_NAMES[label][1:]}/{i:08d}.jpg"
        path = root / "data_256_standard" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jpeg(photo(rng, label)))
        lines.append(f"/{name} {label}\n")
    bad = {}
    if corrupt:
        bad["unreadable"] = root / "data_256_standard" / lines[5].split()[0].lstrip("/")
        bad["unreadable"].write_bytes(b"\xff\xd8 not really a JPEG")
        bad["gray"] = root / "data_256_standard" / lines[9].split()[0].lstrip("/")
        Image.fromarray(photo(rng, 0)[..., 0]).save(bad["gray"], format="JPEG")
    (root / "places365_train_standard.txt").write_text("".join(lines))
    (root / "val_256").mkdir(exist_ok=True)
    val_lines = []
    for i in range(1, n_val + 1):
        (root / "val_256" / f"Places365_val_{i:08d}.jpg").write_bytes(jpeg(photo(rng, i % 3)))
        val_lines.append(f"Places365_val_{i:08d}.jpg {i % 3}\n")
    (root / "places365_val.txt").write_text("".join(val_lines))
    return bad


def fabricate_folder(root: Path, n: int, size=(40, 48), labels=("forest", "harbour")) -> None:
    rng = np.random.default_rng(1)
    for i in range(n):
        label = i % len(labels)
        folder = root / labels[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo(rng, label, size)).save(folder / f"{i:05d}.jpg", quality=85)


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("places365")
    bad = fabricate_places365(root)
    return root, bad


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


# ----------------------------------------------------------------- data


def test_places365_list_labels_and_batches_through_two_workers(places):
    root, _ = places
    train, val = streaming.training_files("places365", root)
    assert len(train) == 240 and len(val) == 12 and train.classes == CLASS_NAMES
    assert train.path(3) == root / "data_256_standard" / "a/airfield/00000003.jpg" and train.labels[4] == 1
    dataset = streaming.StreamingCrops(train, crop=32, seed=0, short_side=40)
    sampler = streaming.EpochSampler(dataset, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, sampler=sampler, num_workers=2,
                                         collate_fn=streaming.collate)
    batches = iter(loader)
    for _ in range(3):
        batch = next(batches)
        assert batch["rgb"].shape == (16, 3, 32, 32) and batch["rgb"].dtype == torch.uint8
        # the pixels and the label travelled together through the worker processes
        dominant = batch["rgb"].float().mean(dim=(2, 3)).argmax(dim=1)
        assert torch.equal(dominant, batch["label"])
    # the same item of the same epoch is the same crop whichever process decodes it
    np.testing.assert_array_equal(dataset[(7, 0)]["rgb"], dataset[(7, 0)]["rgb"])
    assert not torch.equal(dataset[(7, 0)]["rgb"], dataset[(7, 1)]["rgb"])  # another epoch: another crop


def test_corrupt_and_gray_files_are_skipped_and_counted_in_the_log(places, tmp_path):
    root, bad = places
    out = tmp_path / "places.safetensors"
    # 240 photos, 16 a step: 15 steps are one epoch, so every file is read once
    main(["--data", "places365", "--data-root", str(root), "--steps", "15", "--val-every", "5",
          "--workers", "2", "--out", str(out)] + TINY + ["--batch-size", "16"])
    log = read_log(out)
    assert [row["step"] for row in log] == [5, 10, 15]
    assert log[-1]["skipped_unreadable"] == 1 and log[-1]["skipped_gray"] == 1
    assert log[-1]["images_per_s"] > 0 and log[-1]["eta_s"] == 0 and log[-1]["epoch"] == 1.0
    assert all(5 < row["val_psnr"] < 60 and 0 <= row["val_accuracy"] <= 1 for row in log)
    # the loss of the logged step: MSE on a*b* in [0, 1] units plus alpha x cross-entropy (3 classes)
    assert all(0 < row["mse"] < 0.5 and row["ce"] > 0 for row in log)
    assert all(row["loss"] == pytest.approx(row["mse"] + row["ce"] / 300, rel=1e-5) for row in log)
    from colorcourse.fusion.infer import load_model

    model = load_model(out)  # Places' scene labels feed the classifier
    assert model.config.n_classes == 3 and model.config.width == 0.0625
    # the substitute of a skipped file is the next photo in the list, never a crash
    dataset = streaming.StreamingCrops(streaming.training_files("places365", root)[0], crop=32, short_side=40)
    item = dataset[(5, 0)]
    assert item["skipped"] == [(5, 0)] and item["label"] == 6 % 3


def test_folder_data_set_subfolders_are_labels(tmp_path):
    fabricate_folder(tmp_path / "photos", 30)
    (tmp_path / "photos" / "notes.txt").write_text("not a photo")
    (tmp_path / "photos" / "forest" / "broken.png").write_bytes(b"\x89PNG broken")
    train, val = streaming.training_files("folder", tmp_path / "photos")
    assert train.classes == ["forest", "harbour"] and len(train) + len(val) == 31
    assert set(train.files) & set(val.files) == set() and len(val) >= 1
    out = tmp_path / "folder.safetensors"
    main(["--data", "folder", "--data-root", str(tmp_path / "photos"), "--steps", "2", "--val-every", "1",
          "--workers", "2", "--out", str(out), "--optimizer", "adam", "--lr", "0.001"] + TINY)
    assert [row["step"] for row in read_log(out)] == [1, 2]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no image files"):
        streaming.training_files("folder", tmp_path / "empty")


def test_siftflow_scene_categories_from_the_file_names(tmp_path):
    from colorcourse.datasets.siftflow import SUBFOLDER

    images = tmp_path / "SiftFlow" / "Images" / SUBFOLDER
    images.mkdir(parents=True)
    (tmp_path / "SiftFlow" / "SemanticLabels" / SUBFOLDER).mkdir(parents=True)
    rng = np.random.default_rng(4)
    names = [f"{scene}_{name}" for scene, name in [("coast", "arnat59"), ("coast", "n203"), ("forest", "for15"),
                                                   ("forest", "nat717"), ("highway", "bost77"), ("highway", "gre1")]]
    for i, name in enumerate(names):
        Image.fromarray(photo(rng, i % 3)).save(images / f"{name}.jpg")
    train, val = streaming.training_files("siftflow", tmp_path)
    assert train.classes == ["coast", "forest", "highway"] and len(train) + len(val) == 6 and len(val) >= 1
    for files in (train, val):
        for i in range(len(files)):
            assert files.classes[files.labels[i]] == files.path(i).name.split("_")[0]


def test_device_targets_match_the_in_memory_ones():
    from colorcourse.fusion.data import rgb_batch_to_targets

    rgb = torch.rand(3, 3, 16, 24)
    L_ref, ab_ref = rgb_batch_to_targets(rgb)
    L, ab = streaming.fusion_targets(rgb)
    torch.testing.assert_close(L, L_ref, atol=2e-6, rtol=0)
    torch.testing.assert_close(ab, ab_ref, atol=1e-6, rtol=0)


def test_epoch_sampler_shards_reshuffles_and_resumes_mid_epoch():
    data = list(range(50))
    shards = [streaming.EpochSampler(data, world=2, rank=r, seed=3) for r in (0, 1)]
    first = [[next(it) for _ in range(25)] for it in map(iter, shards)]
    assert {i for part in first for i, _ in part} == set(range(50))  # disjoint shares of one epoch
    assert all(epoch == 0 for part in first for _, epoch in part)
    stream = iter(shards[0])
    epochs = [[next(stream)[0] for _ in range(25)] for _ in range(2)]
    assert epochs[0] != epochs[1]  # set_epoch reshuffled
    resumed = iter(streaming.EpochSampler(data, world=2, rank=0, seed=3, consumed=30))
    full = iter(streaming.EpochSampler(data, world=2, rank=0, seed=3))
    tail = [next(full) for _ in range(40)][30:]
    assert [next(resumed) for _ in range(10)] == tail


# ----------------------------------------------------------------- memory


MEMORY_CHILD = textwrap.dedent(
    """
    import resource, sys
    from colorcourse.fusion.train import main
    main(["--data", "folder", "--data-root", sys.argv[1], "--steps", "3", "--val-every", "3", "--workers", "0",
          "--width", "0.0625", "--crop", "32", "--batch-size", "8", "--threads", "1", "--val-limit", "8",
          "--out", sys.argv[2]])
    print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_photos(tmp_path):
    # 4,000 photos of 128 x 128 would take 4000 * 128 * 128 * 3 * 4 B = 786 MB as the float32
    # arrays the in-memory loaders hold; streamed, only the file list grows (~40 B a photo)
    peaks = {}
    for n in (200, 4000):
        fabricate_folder(tmp_path / f"photos{n}", n, size=(128, 128))
        r = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(tmp_path / f"photos{n}"),
                            str(tmp_path / f"m{n}.safetensors")], capture_output=True, text=True,
                           env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        peaks[n] = int(r.stdout.split("PEAK_KB")[1].split()[0]) / 1024  # MB (Linux: ru_maxrss in KB)
    assert peaks[4000] - peaks[200] < 300, peaks


# ----------------------------------------------------------------- checkpoints and resume


def test_interrupted_run_resumed_from_its_checkpoint_ends_with_the_same_weights(places, tmp_path):
    root, _ = places
    common = ["--data", "places365", "--data-root", str(root), "--steps", "6", "--val-every", "2",
              "--workers", "2", "--optimizer", "adam", "--lr", "0.001", "--lr-schedule", "cosine"] + TINY
    main(common + ["--out", str(tmp_path / "full.safetensors")])
    part = tmp_path / "part.safetensors"
    main(common + ["--out", str(part), "--save-every", "2", "--stop-after", "3"])
    assert load_file(part).keys() >= {"rng.torch", "rng.numpy", "rng.python"}
    from colorcourse.checkpoint import read_header
    import json

    assert json.loads(read_header(part)["config"])["step"] == 3
    main(common + ["--out", str(part), "--resume", str(part)])
    full, resumed = load_file(tmp_path / "full.safetensors"), load_file(part)
    assert_same({k: v for k, v in full.items() if k.startswith(("model.", "optim."))},
                {k: v for k, v in resumed.items() if k.startswith(("model.", "optim."))})
    assert [row["step"] for row in read_log(part)] == [2, 3, 4, 6]  # the log continues the first session's
    # a resume must see the same data set: the sampler's order depends on its size
    from colorcourse.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="n_train"):
        main(common + ["--out", str(part), "--resume", str(part), "--limit", "100", "--debug"])  # raise, not one line


def test_random_state_round_trip():
    state = runtime.rng_state_tensors()
    draws = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    runtime.restore_rng_state(state)
    again = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    assert torch.equal(draws[0], again[0]) and np.array_equal(draws[1], again[1]) and draws[2] == again[2]


def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(places, tmp_path, monkeypatch):
    root, _ = places
    out = tmp_path / "run.safetensors"
    args = ["--data", "places365", "--data-root", str(root), "--steps", "2", "--val-every", "2",
            "--workers", "0", "--out", str(out)] + TINY
    main(args)
    before = out.read_bytes()
    import colorcourse.checkpoint as checkpoint

    def crash(tensors, path, metadata=None):
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        main(args[:5] + ["4"] + args[6:] + ["--resume", str(out), "--debug"])  # --debug: raise, not one line
    assert out.read_bytes() == before  # written beside it and renamed: never half a checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.log.csv", "run.safetensors"]


def test_the_pretrained_encoder_network_streams_too(places, tmp_path):
    from colorcourse import encoder as enc

    if not enc.encoder_available():
        pytest.skip("the EfficientNet-Lite0 package is not installed")
    from colorcourse.fusion.pretrained import colorize, load_model

    root, _ = places
    out = tmp_path / "decoder.safetensors"
    main(["--data", "places365", "--data-root", str(root), "--network", "pretrained", "--decoder-width", "8",
          "--steps", "2", "--val-every", "2", "--workers", "0", "--optimizer", "adam", "--lr", "0.001",
          "--out", str(out)] + TINY)
    model = load_model(out)  # what the default colorizer loads
    assert model.config.width == 8 and model.chroma_gain == 1.0
    assert colorize(model, np.full((40, 48), 0.5)).shape == (40, 48, 3)
    assert 5 < read_log(out)[-1]["val_psnr"] < 60


# ----------------------------------------------------------------- torchrun

DDP_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from pathlib import Path
    from safetensors.torch import save_file
    from colorcourse import runtime
    from colorcourse.fusion import streaming
    from colorcourse.fusion.train import TrainConfig
    from colorcourse.fusion.train_at_scale import ScaleConfig, train_streaming
    torch.set_num_threads(1)
    rank, world = runtime.init_distributed(runtime.resolve_device("auto"))
    assert world == 2 and torch.distributed.get_backend() == "gloo"
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    train, val = streaming.training_files("places365", root)
    cfg = TrainConfig(width=0.0625, n_classes=3, classes=",".join(train.classes), steps=4, batch_size=8, crop=32,
                      val_every=2, seed=5, optimizer="adam", lr=1e-3)
    scale = ScaleConfig(data="places365", device="cpu", workers=1, val_limit=4)
    run = lambda **kw: {k: v.detach().clone().contiguous() for k, v in
                        train_streaming(cfg, scale, train, val, progress=False, **kw).state_dict().items()}
    full = run(out=out / "full.safetensors")
    run(out=out / "part.safetensors", stop_after=2)
    resumed = run(out=out / "part.safetensors", resume=out / "part.safetensors")
    save_file(full, out / f"full{rank}.safetensors")
    save_file(resumed, out / f"resumed{rank}.safetensors")
    """
)


@pytest.mark.slow
def test_torchrun_two_cpu_processes_replicas_identical_and_resume_exact(places, tmp_path):
    root, _ = places
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                "--rdzv-backend=c10d", "--rdzv-endpoint=localhost:0"]
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    r = subprocess.run(torchrun + [str(script), str(root), str(tmp_path)], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    full = [load_file(tmp_path / f"full{rank}.safetensors") for rank in (0, 1)]
    resumed = [load_file(tmp_path / f"resumed{rank}.safetensors") for rank in (0, 1)]
    assert_same(full[0], full[1])  # DDP keeps the replicas identical
    assert_same(full[0], resumed[0])  # interrupted at step 2 and resumed: the same weights
    assert_same(resumed[0], resumed[1])
    # only rank 0 wrote files; the log counts the global batch's throughput
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == ["full.log.csv", "part.log.csv"]
    torch.manual_seed(5)
    from colorcourse.fusion.model import FusionNet

    init = FusionNet(width=0.0625, n_classes=3).state_dict()
    assert any(not torch.equal(init[k], full[0][k]) for k in init)  # it did train


def test_throughput_measurement_counts_images_over_time(places):
    from colorcourse.fusion.train_at_scale import expected_hours, measure_data_rate, measure_throughput

    root, _ = places
    train, _ = streaming.training_files("places365", root)
    rates = measure_throughput(train, width=0.0625, batch=4, steps=2, repeats=2, workers=0, crop=32, warmup=1)
    assert len(rates) == 2 and all(0 < r < 10_000 for r in rates)
    assert 0 < measure_data_rate(train, batch=4, workers=0, batches=3, crop=32) < 100_000
    assert expected_hours(3600, 2, 2.0) == 1.0  # 7,200 images at 2 images/s


# ----------------------------------------------------------------- devices


def test_device_choice_and_precision_on_the_cpu(monkeypatch):
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    assert runtime.amp_dtype(torch.device("cpu")) is None  # float32 on the CPU
    assert not runtime.grad_scaler(torch.device("cpu")).is_enabled()
    with pytest.raises(ValueError, match="device"):
        runtime.resolve_device("tpu")
    if not torch.cuda.is_available():
        assert runtime.resolve_device("auto") == torch.device("cpu")
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            runtime.resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_amp_step_and_placement(places, tmp_path):
    from colorcourse.fusion.train_at_scale import PaperNetwork

    device = runtime.resolve_device("cuda")
    cfg = TrainConfig(width=0.125, n_classes=3, crop=64, batch_size=8)
    network = PaperNetwork(cfg, device)
    network.trained.to(device, memory_format=torch.channels_last)
    assert all(p.device.type == "cuda" for p in network.trained.parameters())
    rgb = torch.rand(8, 3, 64, 64, device=device)
    labels = torch.randint(0, 3, (8,), device=device)
    with runtime.autocast(device):
        pred, _ = network.trained(streaming.fusion_targets(rgb)[0])
    assert pred.dtype == runtime.amp_dtype(device)  # the forward ran in reduced precision
    opt = torch.optim.Adam(network.trained.parameters(), lr=1e-3)
    scaler = runtime.grad_scaler(device)
    before = weights(network.trained)
    loss, _ = network.loss(network.trained, rgb, labels, device)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert any(not torch.equal(before[k], v) for k, v in network.trained.state_dict().items())
    root, _ = places
    train, val = streaming.training_files("places365", root)
    out = tmp_path / "gpu.safetensors"
    model = train_streaming(TrainConfig(width=0.0625, n_classes=3, classes=",".join(train.classes), steps=3,
                                        batch_size=8, crop=32, val_every=3), ScaleConfig(device="cuda", workers=2),
                            train, val, out=out, progress=False)
    assert next(model.parameters()).device.type == "cuda" and read_log(out)[-1]["images_per_s"] > 0

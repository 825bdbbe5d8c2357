"""Training throughput (images/s) of the paper's network and the pretrained-encoder network.

    python benchmarks/train_throughput.py [--repeats 3] [--threads N] [--json FILE]

Times whole training steps (forward, backward, optimizer) on batches streamed from the course
pack through ``DataLoader`` workers, exactly as ``python -m colorcourse.fusion.train --data
coursepack`` runs them (224 px crops): on the CPU for the paper's network at widths 0.125 and
1.0 and for the pretrained-encoder network, and, where a CUDA GPU is visible, on it at the
paper's batch of 128 with mixed precision. Each configuration: warm-up steps, then ``--repeats``
timed windows; the median and the range of the windows' images/s. Also the data pipeline alone
(decoding and cropping with the workers, no training), the ceiling for any device.
Every number is wall-clock time: other jobs on the machine slow it down.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from colorcourse import runtime
from colorcourse.fusion import streaming
from colorcourse.fusion.train_at_scale import measure_data_rate, measure_throughput


def summary(rates: list[float]) -> dict:
    return {"median": round(float(np.median(rates)), 2), "min": round(min(rates), 2), "max": round(max(rates), 2),
            "repeats": len(rates)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed windows per configuration")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    files, _ = streaming.training_files("coursepack")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; {len(files)} course-pack photos, 224 px crops, "
          f"{args.workers} DataLoader workers")
    cpu = torch.device("cpu")
    # (name, network, width, batch, device, steps per window): small batches on the CPU keep a
    # window of the full-width network under a minute on 2 cores
    configs = [("paper network, width 0.125", "paper", 0.125, 16, cpu, 8),
               ("paper network, width 1.0 (the paper's)", "paper", 1.0, 4, cpu, 2),
               ("pretrained encoder + decoder", "pretrained", 0.0, 16, cpu, 2)]
    if torch.cuda.is_available():
        gpu = runtime.resolve_device("cuda")
        configs += [("paper network, width 1.0 (the paper's)", "paper", 1.0, 128, gpu, 10),
                    ("paper network, width 0.125", "paper", 0.125, 128, gpu, 10),
                    ("pretrained encoder + decoder", "pretrained", 0.0, 128, gpu, 10)]
    rows = []
    data_rate = measure_data_rate(files, 16, args.workers)
    print(f"data pipeline alone ({args.workers} workers): {data_rate:.1f} images/s")
    print(f"{'network':40s} {'device':>8s} {'batch':>5s} {'images/s':>9s}  range (min-max)")
    for name, network, width, batch, device, steps in configs:
        if network == "pretrained":
            from colorcourse import encoder as enc

            if not enc.encoder_available():
                print(f"{name:40s} skipped: the EfficientNet-Lite0 package is not installed")
                continue
        # a GPU eats batches faster than 2 workers decode them: give it the machine's cores
        workers = args.workers if device.type == "cpu" else max(args.workers, min(8, os.cpu_count() or 1))
        rates = measure_throughput(files, network, width, batch, device.type, steps, args.repeats, workers)
        s = summary(rates)
        label = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        rows.append({"network": name, "device": label, "batch": batch, "crop": 224} | s)
        print(f"{name:40s} {label:>8s} {batch:>5d} {s['median']:>9.2f}  {s['min']:.2f}-{s['max']:.2f}", flush=True)
    if not torch.cuda.is_available():
        print("no CUDA GPU here: GPU throughput not measured")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"data_pipeline_images_per_s": round(data_rate, 2), "training": rows}, f, indent=1)


if __name__ == "__main__":
    main()

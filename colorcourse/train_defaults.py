"""Retrain every default model shipped in ``models/``, with the commands that made them.

    python -m colorcourse.train_defaults --out build/models     # what ``make models`` runs

The Cheng models come from ``colorcourse.cheng.train``, the fusion models from
``colorcourse.fusion.train`` with the seeded settings recorded in
:data:`colorcourse.fusion.report.TRAINING_COMMANDS`, and the pretrained-encoder decoders (the
default colorizer) from ``colorcourse.fusion.train_pretrained`` with
:data:`colorcourse.fusion.train_pretrained.TRAINING_COMMANDS`, and the hint network from
``colorcourse.fusion.train_hinted`` (:data:`~colorcourse.fusion.train_hinted.TRAINING_COMMAND`),
started from the default decoder just retrained in ``--out``. Everything is written under ``--out``
(``build/models`` by default), never over the shipped ``models/`` unless that folder is named
*and* ``--force`` is given: a student's retrained models and the course's defaults stay apart.
About 60 minutes on a 2-core CPU; to use the results, point ``COLORCOURSE_MODELS`` at the folder.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path


def fusion_arguments(command: str, out_dir: Path, module: str = "colorcourse.fusion.train") -> list[str]:
    """The arguments of one recorded training command, with its ``--out`` moved into ``out_dir``."""
    words = shlex.split(command)
    args = words[words.index(module) + 1 :]
    at = args.index("--out")
    args[at + 1] = str(out_dir / Path(args[at + 1]).name)
    return args


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("build/models"))
    ap.add_argument("--force", action="store_true", help="replace model files already in --out")
    ap.add_argument("--only", choices=["cheng", "fusion", "pretrained", "hinted"], help="retrain one family only")
    args = ap.parse_args(argv)

    from colorcourse.cheng import train as cheng_train
    from colorcourse.fusion import train as fusion_train
    from colorcourse.fusion.report import TRAINING_COMMANDS

    args.out.mkdir(parents=True, exist_ok=True)
    seconds = {}
    if args.only in (None, "cheng"):
        start = time.perf_counter()
        code = cheng_train.main(["--out", str(args.out)] + (["--force"] if args.force else []))
        if code:
            return code
        seconds["cheng (all networks)"] = time.perf_counter() - start
    if args.only in (None, "fusion"):
        for name, command in TRAINING_COMMANDS.items():
            fusion_args = fusion_arguments(command, args.out)
            target = Path(fusion_args[fusion_args.index("--out") + 1])
            if target.exists() and not args.force:
                print(f"refusing to overwrite {target} (use --force)", file=sys.stderr)
                return 2
            if name == "fusion_backbone":
                from colorcourse.fusion.backbone import backbone_available

                if not backbone_available():
                    print("skipping fusion_backbone: pip install -e '.[dev]' provides its backbone", file=sys.stderr)
                    continue
            print(f"== {name}: python -m colorcourse.fusion.train {shlex.join(fusion_args)}", flush=True)
            start = time.perf_counter()
            fusion_train.main(fusion_args + (["--force"] if args.force else []))
            seconds[name] = time.perf_counter() - start
    if args.only in (None, "pretrained"):
        from colorcourse.fusion import train_pretrained

        module = "colorcourse.fusion.train_pretrained"
        for name, command in train_pretrained.TRAINING_COMMANDS.items():
            pretrained_args = fusion_arguments(command, args.out, module)
            print(f"== {name}: python -m {module} {shlex.join(pretrained_args)}", flush=True)
            start = time.perf_counter()
            code = train_pretrained.main(pretrained_args + (["--force"] if args.force else []))
            if code:
                return code
            seconds[name] = time.perf_counter() - start
    if args.only in (None, "hinted"):
        from colorcourse.fusion import train_hinted

        module = "colorcourse.fusion.train_hinted"
        hinted_args = fusion_arguments(train_hinted.TRAINING_COMMAND, args.out, module)
        default = args.out / "pretrained_fusion.safetensors"  # the hint network starts from this default
        if default.is_file():
            hinted_args += ["--init", str(default)]
        print(f"== hinted_fusion: python -m {module} {shlex.join(hinted_args)}", flush=True)
        start = time.perf_counter()
        code = train_hinted.main(hinted_args + (["--force"] if args.force else []))
        if code:
            return code
        seconds["hinted_fusion"] = time.perf_counter() - start
    print("\ntraining time (s):")
    for name, s in seconds.items():
        print(f"  {name:24s} {s:8.1f}")
    print(f"models in {args.out}; use them with COLORCOURSE_MODELS={args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

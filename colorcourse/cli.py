"""The ``colorcourse`` command: colorize your own photos, or score a method on a folder.

    colorcourse colorize INPUT... [-o OUTPUT] [--method pretrained|fusion|cheng|gray] [--style IMAGE] [--force]
                         [--hints HINTS] [--reference REF.jpg]
                         [--max-pixels N] [--work-size N] [--debug]
    colorcourse evaluate [FOLDER] [--method ...] [--split test shift_test] [--max-pixels N]
    colorcourse study merge FILE... -o CLASS.jsonl [--salt SALT | --keep-names]

Inputs are files, folders (searched recursively) and glob patterns. Gray, RGB (used as gray)
and 16-bit files of any resolution are accepted. A file that fails is reported by name and the
batch goes on; the exit code is 1 if any file failed. A file whose header claims more than
``--max-pixels`` pixels (a decompression bomb) is refused before it is decoded. What may be
written where (never over an input or a file this tool did not write; earlier results are
skipped on a re-run and replaced only with ``--force``) is :mod:`colorcourse.outputs`.

Every error ends in one line naming the file or option, never a traceback (``--debug`` shows
it); file names and values are printed with control characters escaped
(:func:`colorcourse.cli_types.printable`).

``study merge`` joins the naturalness-study answer files a class hands in (see
:mod:`colorcourse.study`): bad lines are reported by file and line and skipped, duplicates
dropped, names hashed, and the result table printed. It never replaces an existing file.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

# Only light modules here: --help and argument errors must not wait for torch or pandas (seconds
# on a small machine). They are imported where a method is loaded or a photo is colorized.
from . import methods
from .cli_types import add_debug, error_line, int_at_least, printable, run_command
from .imageio import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, GrayscaleImageError, ImageLoadError, load_gray, load_rgb, save_rgb
from .outputs import describe_skipped, plan_outputs

MIN_WORK_SIZE = 32  # below this a model sees a thumbnail with almost no structure, and colors almost nothing
SSIM_MIN_SIDE = 7  # scikit-image's SSIM window: a smaller photo cannot be scored


def expand_inputs(patterns: list[str]) -> tuple[list[Path], list[str]]:
    """Files named by ``patterns`` (files, folders, globs), in order, without duplicates.

    Returns ``(files, problems)``; a pattern that matches nothing is a problem, not a crash.
    """
    files: list[Path] = []
    problems: list[str] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                problems.append(f"{pattern}: no image files in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(pattern, recursive=True) if Path(m).is_file())
            if not matches:
                problems.append(f"{pattern}: no such file, folder or matching pattern")
            files += matches
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def _err(line: str) -> None:
    """Print one line to stderr without breaking a progress bar, control characters escaped."""
    from tqdm.auto import tqdm

    tqdm.write(printable(line, limit=2000), file=sys.stderr)


def _describe(source: Path, e: BaseException) -> str:
    """One line for a file that failed: its name (once) and the cause."""
    text = error_line(e).removeprefix("error: ")
    return f"error: {text}" if printable(source) in text else f"error: {printable(source)}: {text}"


def _read_job(source: Path, args, hint_file: Path | None = None):
    """Decode one photo and read its hints (runs in the background thread); a failure is raised
    by ``result()``: a bad hint file fails its photo only."""
    notes: list[str] = []
    gray = load_gray(source, max_pixels=args.max_pixels, notes=notes)
    hints = None
    if hint_file is not None:
        from .hints import read_hints  # raises HintFileError: the hint file's name, then the problem

        hints = read_hints(hint_file, gray.shape)
        if len(hints) == 0:
            if methods.HINTS[args.method]:
                raise ValueError(f"{hint_file}: no hinted pixel, so --method {args.method} has no color to spread")
            notes.append(f"{hint_file} holds no hinted pixel: colorized automatically")
    return gray, notes, hints


def _match_hints(args, files: list[Path]):
    """``--hints``: the photos left once hint files are taken out, and their hint files; a whole-run
    problem is one line and exit code 2 (returned as an int)."""
    from .hint_files import HintArgumentError, match_hints, without_hint_files

    if args.method not in methods.HINTS:
        takes = " or ".join(f"--method {name}" for name in methods.HINTS)
        _err(f"error: --method {args.method} takes no hints: use {takes} with --hints")
        return 2
    photos, left_out = without_hint_files(files, args.hints)
    if files and not photos:
        _err(f"error: every input is in --hints {args.hints}: hint files are never colorized; keep them in a "
             f"folder of their own")
        return 2
    try:
        return photos, match_hints(photos, args.hints)
    except HintArgumentError as e:
        _err(f"error: {e}")
        return 2


def _refuse_without_hints(plan, match, method: str) -> None:
    """Move the jobs whose hints are ambiguous, or missing for a method that needs them, to refused."""
    kept = []
    for job in plan.jobs:
        why = match.problems.get(job.source)
        if why is None and methods.HINTS[method] and job.source not in match.by_photo:
            why = f"no hint file {job.source.stem}.png or {job.source.stem}.json in {match.where} (--method {method} needs hints)"
        if why is None:
            kept.append(job)
        else:
            plan.refused.append(f"{job.source}: {why}")
    plan.jobs = kept


def cmd_colorize(args) -> int:
    files, problems = expand_inputs(args.inputs)
    for problem in problems:
        _err(f"error: {problem}")
    if args.style and args.method != "fusion":
        _err(f"error: --style needs --method fusion (the style comes from its global features), not --method {args.method}")
        return 2
    if args.output is not None and args.output.exists() and not args.output.is_dir():
        _err(f"error: -o {args.output} is a file: -o names the folder the results go to")
        return 2
    if args.reference is not None and args.method not in methods.REFERENCE:
        _err(f"error: --reference needs --method {' or '.join(methods.REFERENCE)} (the hint network takes the "
             f"reference's colors), not --method {args.method}")
        return 2
    if args.reference is not None and args.hints is not None:
        _err("error: --reference and --hints cannot be combined yet: give one of them")
        return 2
    match = None
    if args.hints is not None:
        matched = _match_hints(args, files)
        if isinstance(matched, int):
            return matched
        files, match = matched
    elif methods.HINTS.get(args.method):
        _err(f"error: --method {args.method} needs hints: --hints HINTS.png (a transparent layer drawn over the "
             f"photo), HINTS.json (points), or a FOLDER of <photo name>.png / .json")
        return 2
    protected = ([Path(args.style)] if args.style else []) + (match.files if match else []) + (
        [args.reference] if args.reference is not None else [])
    plan = plan_outputs(files, args.output, args.method, args.force, protected=protected)
    if match is not None:
        _refuse_without_hints(plan, match, args.method)
    if plan.skipped:
        _err(describe_skipped(plan.skipped))
    for line in plan.refused:
        _err(f"error: {line}")
    failed = len(problems) + len(plan.refused)
    if not plan.jobs:
        print(f"0 written, {failed} failed" + (f", {len(plan.skipped)} skipped" if plan.skipped else ""))
        return 1 if failed or not plan.skipped else 0
    style = None
    if args.style:
        try:
            style = load_rgb(args.style, allow_gray=True, max_pixels=args.max_pixels)
        except ImageLoadError as e:
            _err(f"error: style image {e}")
            return 1
    try:  # once, for the whole batch
        if match is not None:
            hinted = methods.load_hinted(args.method, args.work_size)
        elif args.reference is not None:  # one reference, encoded once, serves every photo
            colorizer = _load_reference(args)
            if colorizer is None:
                return 1
        else:
            colorizer = methods.load(args.method, style_image=style)
    except methods.ModelUnavailableError as e:
        _err(f"error: {e}")
        return 2
    work_size = args.work_size if args.work_size is not None else methods.WORK_SIZE[args.method]
    written = with_hints = 0
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from tqdm.auto import tqdm

    jobs = plan.jobs
    hint_of = match.by_photo if match is not None else {}
    tag = f"colorcourse colorize --method {args.method}"
    # The next photo is decoded in a background thread while this one is colorized (decoding
    # releases the GIL); results are taken in input order, and each file's error stays its own.
    # The cost: two photos in memory at once (the one being colorized and the next).
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorcourse-decode")
    try:
        upcoming = pool.submit(_read_job, jobs[0].source, args, hint_of.get(jobs[0].source))
        bar = tqdm(jobs, desc=f"colorize ({args.method})", unit="photo", disable=args.quiet)
        for i, job in enumerate(bar):
            current = upcoming
            if i + 1 < len(jobs):
                upcoming = pool.submit(_read_job, jobs[i + 1].source, args, hint_of.get(jobs[i + 1].source))
            try:
                gray, notes, hints = current.result()
                current = None  # the future holds the photo too: drop it, so `del gray` frees it
                for note in notes:
                    _err(f"warning: {job.source}: {note}")
                if match is not None:  # the hinted colorizer works at its own size and returns full size
                    run, size = (lambda g, hints=hints: hinted(g, hints)), None
                elif args.reference is not None:  # at the work size, its chroma upsampled as the default's
                    run, size = colorizer, work_size
                else:
                    run, size = colorizer, work_size
                # straight to the 8-bit values the file stores: a quarter of float32's memory
                rgb = methods.colorize_full_resolution(
                    run, gray, size, out=np.empty(gray.shape + (3,), dtype=np.uint8), progress=not args.quiet)
                del gray
                hint_note = f" --hints {hint_of[job.source].name}" if hints is not None and len(hints) else ""
                if args.reference is not None:
                    hint_note = f" --reference {args.reference.name}"
                # replaces only an earlier result of this tool (outputs.plan_outputs checked it)
                save_rgb(job.target, rgb, overwrite=job.replace, tag=f"{tag}{hint_note} {job.source.name}")
                del rgb  # not kept while the next photo is colorized
                written += 1
                with_hints += bool(hint_note) and match is not None
            except Exception as e:  # noqa: BLE001 (this photo fails, the batch goes on)
                if args.debug:
                    raise
                failed += 1
                _err(_describe(job.source, e))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    print(f"{written} written, {failed} failed" + (f", {len(plan.skipped)} skipped" if plan.skipped else "")
          + (f"; {with_hints} of the {written} written had hints" if match is not None else ""))
    return 1 if failed else 0


def _load_reference(args):
    """``--reference``: the exemplar colorizer, or None after one line naming the file and the problem."""
    from .exemplar import GrayReferenceError

    try:
        reference = load_rgb(args.reference, max_pixels=args.max_pixels)
        return methods.load_exemplar(args.method, reference, args.work_size)
    except GrayscaleImageError:
        _err(f"error: --reference {printable(args.reference)}: a gray image has no colors to lend (choose a color photo)")
    except GrayReferenceError:
        _err(f"error: --reference {printable(args.reference)}: its pixels are all gray: it has no colors to lend "
             f"(choose a color photo)")
    except ImageLoadError as e:
        _err(f"error: --reference {e}")
    return None


def _scored_methods(requested: list[str]) -> list[str]:
    return ["gray"] + [m for m in dict.fromkeys(requested) if m != "gray"]


def _score(names: list[str], photos, args):
    """Every method on every photo; a photo that fails (for any method) is left out of all of
    them with one line, so the scores stay paired. Returns (table, number of photos failed)."""
    import pandas as pd
    from tqdm.auto import tqdm

    from .metrics import evaluate

    colorizers = {name: methods.load(name) for name in names}  # a missing model is reported by main()
    rows, failed = [], 0
    for photo in tqdm(photos, desc="evaluate", unit="photo", disable=args.quiet):
        try:
            if min(photo.rgb.shape[:2]) < SSIM_MIN_SIDE:
                h, w = photo.rgb.shape[:2]
                raise ValueError(f"{h} x {w} pixels is too small to score (SSIM needs at least "
                                 f"{SSIM_MIN_SIDE} x {SSIM_MIN_SIDE})")
            tables = []
            for name, colorizer in colorizers.items():
                def full_res(gray, colorizer=colorizer, work_size=methods.WORK_SIZE[name]):
                    return methods.colorize_full_resolution(colorizer, gray, work_size)

                tables.append(evaluate(full_res, [photo], name=name, progress=False))
        except Exception as e:  # noqa: BLE001 (this photo fails, the others are scored)
            if args.debug:
                raise
            failed += 1
            _err(f"skipped: {_describe(photo.name, e).removeprefix('error: ')}")
            continue
        rows += tables
    return (pd.concat(rows, ignore_index=True) if rows else None), failed


def cmd_evaluate(args) -> int:
    from .metrics import side_by_side

    names = _scored_methods(args.method)
    if args.folder is None:  # the course pack: the in-domain test split beside the out-of-domain one
        from . import coursepack

        unknown = [s for s in args.split if s not in coursepack.SPLITS]
        if unknown:
            _err(f"error: --split {unknown[0]}: not a course-pack split (choose from {', '.join(coursepack.SPLITS)})")
            return 2
        results, failed = {}, 0
        for split in args.split:
            photos = coursepack.load_split(split)
            if not photos:
                _err(f"error: the course pack has no {split} photos (rebuild it: make data)")
                return 1
            table, bad = _score(names, photos, args)
            failed += bad
            if table is not None:
                results[f"{split} ({len(photos) - bad})"] = table
        if not results:
            return 1
        print(side_by_side(results).to_string())
        print("dPSNR: mean paired difference to gray over photos, 95 % bootstrap interval; "
              "'noise' = the interval contains 0.")
        return 1 if failed else 0

    files, problems = expand_inputs([str(args.folder)])
    photos, failed = [], len(problems)

    class Photo:
        def __init__(self, name: str, rgb):
            self.name, self.rgb = name, rgb

    for problem in problems:
        _err(f"error: {problem}")
    for path in files:
        notes: list[str] = []
        try:
            rgb = load_rgb(path, max_pixels=args.max_pixels, notes=notes)
        except GrayscaleImageError as e:  # nothing to score against: not an error of the file
            _err(f"skipped: {e}")
            continue
        except ImageLoadError as e:
            failed += 1
            _err(f"skipped: {e}")
            continue
        for note in notes:
            _err(f"warning: {path}: {note}")
        try:  # the name relative to the folder: two photos called the same in subfolders stay apart
            name = str(path.relative_to(args.folder.resolve()))
        except ValueError:
            name = path.name
        photos.append(Photo(name, rgb))
    table, bad = _score(names, photos, args) if photos else (None, 0)
    failed += bad
    if table is None:
        _err("error: no color photos to evaluate")
        return 1
    print(side_by_side({f"{printable(args.folder)} ({len(photos) - bad})": table}).to_string())
    return 1 if failed else 0


def cmd_study_merge(args) -> int:
    from .study import merge_answer_files  # pandas: only when a merge is asked for

    try:
        report = merge_answer_files(args.files, args.output, salt=args.salt, keep_names=args.keep_names)
    except (OSError, ValueError) as e:  # a missing or unreadable file, an unwritable folder, no answers
        if args.debug:
            raise
        bad_lines = getattr(e, "bad_lines", [])
        for problem in bad_lines:
            _err(f"skipped: {problem}")
        _err(f"error: {str(e).splitlines()[0]}" if bad_lines else error_line(e))
        return 1
    for problem in report.bad_lines:
        _err(f"skipped: {problem}")
    print(report.summary())
    if report.salt_generated:
        print(f"participant names are stored as sha256(salt + name) with the generated salt {report.salt}\n"
              "  it is printed only this once and stored nowhere: keep it private, and pass it as --salt to hash "
              "a later merge the same way")
    elif report.salt is not None:
        print("participant names are stored as sha256(salt + name) with the given --salt")
    print(report.table.to_string(float_format=lambda v: f"{v:.3f}"))
    print("naturalness: share of 'natural' answers; ci_low / ci_high: Wilson 95 % interval "
          "(a few answers give a wide interval).")
    return 0  # the merged file is written; the bad lines it skipped are listed above


def pixel_count(text: str) -> int | None:
    """``--max-pixels`` values: ``250000000``, ``250M``, ``1.5G``; ``0`` or ``none``: no limit."""
    raw = text.strip().lower()
    if raw in ("0", "none"):
        return None
    factor = {"k": 10**3, "m": 10**6, "g": 10**9}.get(raw[-1:], 1)
    try:
        value = float(raw[:-1] if factor > 1 else raw) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a pixel count (e.g. 250000000, 250M, 1.5G)") from None
    if not value >= 1 or value == float("inf"):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r}: the limit must be at least 1 pixel (0 or none: no limit)")
    return int(value)


def _add_max_pixels(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-pixels", type=pixel_count, default=DEFAULT_MAX_PIXELS, metavar="N",
        help=f"refuse photos with more pixels than this, read from the file's header before decoding "
             f"(a guard against decompression bombs); e.g. 500M or 1.5G, 0 for no limit "
             f"(default {DEFAULT_MAX_PIXELS // 10**6}M)")


def _method_help(names: list[str] | None = None) -> str:
    return "; ".join(f"{name}: {text}" for name, text in methods.DESCRIPTIONS.items() if names is None or name in names)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colorcourse", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    col = sub.add_parser("colorize", help="colorize photos (files, folders, globs)")
    col.add_argument("inputs", nargs="+")
    col.add_argument("-o", "--output", type=Path, help="folder for the results (default: beside each photo)")
    col.add_argument("--method", default=methods.DEFAULT, choices=methods.available(),
                     help=f"default {methods.DEFAULT}. {_method_help()}")
    col.add_argument("--style", help="take the global features (scene style) from this image (fusion only)")
    col.add_argument("--hints", type=Path, metavar="HINTS",
                     help="colors you chose for some pixels: a PNG of the photo's size (or aspect) drawn on a "
                          "transparent layer, a JSON file of points, or a FOLDER of <photo name>.png / .json for "
                          "several photos (photos without one are colorized automatically); for --method "
                          f"{' or '.join(methods.HINTS)}")
    col.add_argument("--reference", type=Path, metavar="REF",
                     help="a color photo of a similar scene that lends its colors region by region (deep "
                          "correspondence on the encoder's features, through the hint network); one reference "
                          f"serves every photo; for --method {' or '.join(methods.REFERENCE)}")
    col.add_argument("--work-size", type=int_at_least(MIN_WORK_SIZE, "smaller leaves the model almost nothing to see"),
                     metavar="N", help=f"longer side the model runs at, at least {MIN_WORK_SIZE}; chroma is upsampled")
    col.add_argument("--force", action="store_true",
                     help="replace earlier results of colorcourse (never an input, never a file it did not write)")
    col.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_max_pixels(col)
    add_debug(col)
    col.set_defaults(func=cmd_colorize)
    ev = sub.add_parser("evaluate", help="PSNR / SSIM / colorfulness beside the gray baseline, with paired intervals")
    ev.add_argument("folder", type=Path, nargs="?",
                    help="a folder of color photos (default: the course pack's splits, see --split)")
    ev.add_argument("--method", nargs="+", default=[methods.DEFAULT], choices=methods.automatic(),
                    help=_method_help(methods.automatic()))
    ev.add_argument("--split", nargs="+", default=["test", "shift_test"],
                    help="course-pack splits scored side by side when no folder is given")
    ev.add_argument("--quiet", action="store_true")
    _add_max_pixels(ev)
    add_debug(ev)
    ev.set_defaults(func=cmd_evaluate)
    st = sub.add_parser("study", help="the naturalness study of a class: merge the answer files")
    st_sub = st.add_subparsers(dest="action", required=True)
    mg = st_sub.add_parser(
        "merge", help="merge answer files (JSONL) into one new file and print the naturalness table",
        description="Bad lines are reported with their file and line number and skipped; exact duplicates "
                    "are dropped; when a participant judged an image twice the first answer is kept. "
                    "Participant names are stored as sha256(salt + name) unless --keep-names is given. "
                    "An existing output file is never replaced.")
    mg.add_argument("files", nargs="+", type=Path, help="answer files handed in (JSON lines)")
    mg.add_argument("-o", "--output", type=Path, required=True, help="the merged file to create (must not exist)")
    names = mg.add_mutually_exclusive_group()
    names.add_argument("--salt", help="salt for the name hashes (default: a random one, printed once)")
    names.add_argument("--keep-names", action="store_true", help="store participant names as given, not hashed")
    add_debug(mg)
    mg.set_defaults(func=cmd_study_merge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def command() -> int:
        try:
            return args.func(args)
        except methods.ModelUnavailableError as e:  # one line naming the fix, not a traceback
            if args.debug:
                raise
            _err(f"error: {e}")
            return 2

    return run_command(command, debug=args.debug)  # anything else: one line, exit 1 (--debug: the traceback)


if __name__ == "__main__":
    sys.exit(main())

"""``python -m synth OUT_DIR -n 10 --seed 1 [--hard] [--size 3024x4032] [--heic-every 3]``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .generate import generate_set


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 3024x4032, not {text!r}") from None
    if w < 64 or h < 64:
        raise argparse.ArgumentTypeError("size must be at least 64x64")
    return w, h


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m synth", description="Write synthetic poster photos + truth.json.")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("-n", type=int, default=10, help="number of photos (default 10)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hard", action="store_true", help="people, taglines, occluded corners")
    ap.add_argument("--size", type=_size, default=(3024, 4032), help="upright WIDTHxHEIGHT (default 3024x4032)")
    ap.add_argument("--heic-every", type=int, default=0, help="write every k-th photo as HEIC")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="photos rendered at a time (default 1)")
    ap.add_argument("--posters", action="store_true", help="also write the flat posters to OUT_DIR/posters/")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    samples = generate_set(args.out_dir, args.n, seed=args.seed, size=args.size, hard=args.hard,
                           heic_every=args.heic_every, posters=args.posters, jobs=args.jobs)
    for s in samples:
        print(f"{s.path.name}\t{s.title}\t{','.join(s.phenomena)}")
    print(f"wrote {len(samples)} photos + truth.json to {args.out_dir} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

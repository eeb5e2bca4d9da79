"""The issue-3 table: extract on a generated hard set, broken down by phenomenon.

    python bench/hardset.py                         # 48 photos, 12 MP, seed 777, every 4th HEIC, -j 2
    python bench/hardset.py -n 40 --seed 5 -j 1
    python bench/hardset.py --folder /tmp/hard      # an existing synth folder with truth.json
    python bench/hardset.py -v                      # also every photo (truth, read, alternatives)

Runs the real per-photo worker (posterocr.pipeline.process_photo, via bench/evaluate.py) and
prints, per phenomenon of the issue (synth/phenomena.py): photos, mean IoU, share IoU >= 0.90,
share title >= 0.90; then the totals and seconds per photo (wall and CPU), and any phenomenon the
set does not cover.  The set is generated into --out once and reused while it is complete.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import synth  # noqa: E402
from evaluate import IOU_OK, TITLE_OK, Row, evaluate, format_row  # noqa: E402
from synth.phenomena import ISSUE_PHENOMENA, missing, shows  # noqa: E402

N, SEED, HEIC_EVERY = 48, 777, 4


def hard_set(out: Path, n: int, seed: int, *, size: tuple[int, int] = (3024, 4032),
             heic_every: int = HEIC_EVERY, jobs: int = 1) -> list[dict]:
    """Generate the set into *out* unless a complete one for these settings is already there."""
    stamp = out / "settings.json"
    want = {"n": n, "seed": seed, "size": list(size), "heic_every": heic_every, "hard": True}
    if not (stamp.exists() and json.loads(stamp.read_text()) == want and (out / "truth.json").exists()):
        synth.generate_set(out, n, seed=seed, size=size, hard=True, heic_every=heic_every, jobs=jobs)
        stamp.write_text(json.dumps(want))
    return json.loads((out / "truth.json").read_text())


def _stats(rows: list[Row]) -> str:
    n = len(rows)
    if not n:
        return f"{0:>5}"
    return (f"{n:>5}  {sum(r.iou for r in rows) / n:8.3f}  {sum(r.iou >= IOU_OK for r in rows) / n:7.0%}"
            f"  {sum(r.similarity >= TITLE_OK for r in rows) / n:9.0%}")


def table(rows: list[Row]) -> str:
    """Per-phenomenon and total numbers, as a fixed-width text table."""
    out = [f"{'phenomenon':28}{'count':>5}  {'mean IoU':>8}  {'IoU>=.9':>7}  {'title>=.9':>9}"]
    for label, need in ISSUE_PHENOMENA:
        out.append(f"{label:28}" + _stats([r for r in rows if shows(r.phenomena, need)]))
    out.append(f"{'ALL':28}" + _stats(rows))
    n = max(1, len(rows))
    out.append(f"s/photo: {sum(r.seconds for r in rows) / n:.2f} wall, {sum(r.cpu for r in rows) / n:.2f} CPU "
               f"(max {max((r.seconds for r in rows), default=0):.2f} wall)")
    wrong = [r for r in rows if r.iou < IOU_OK or r.similarity < TITLE_OK]
    right = [r for r in rows if r not in wrong]
    # What a user meets: a miss the draft flags is one they check; an unflagged miss is silent.
    out.append(f"flagged for review: {sum(r.flagged for r in wrong)}/{len(wrong)} misses, "
               f"{sum(r.flagged for r in right)}/{len(right)} good photos")
    gaps = missing(r.phenomena for r in rows)
    out.append("not covered: " + (", ".join(gaps) if gaps else "none"))
    return "\n".join(out)


def misses(rows: list[Row]) -> str:
    """The photos that miss a target, one block each."""
    bad = [r for r in rows if r.iou < IOU_OK or r.similarity < TITLE_OK]
    return "\n".join(format_row(r) for r in bad) or "no misses"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=N)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--heic-every", type=int, default=HEIC_EVERY)
    ap.add_argument("--out", type=Path, help="where to generate the set (default /tmp/posterocr-hardset-N-SEED)")
    ap.add_argument("--folder", type=Path, help="evaluate this existing synth folder instead")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every photo")
    args = ap.parse_args()
    if args.folder:
        folder, samples = args.folder, json.loads((args.folder / "truth.json").read_text())
    else:
        folder = args.out or Path(f"/tmp/posterocr-hardset-{args.n}-{args.seed}")
        t0 = time.perf_counter()
        samples = hard_set(folder, args.n, args.seed, heic_every=args.heic_every, jobs=args.jobs)
        print(f"set: {folder} ({len(samples)} photos, ready in {time.perf_counter() - t0:.0f} s)", flush=True)
    t0 = time.perf_counter()
    rows = evaluate(folder, samples, jobs=args.jobs, verbose=args.verbose)
    print(f"evaluated in {time.perf_counter() - t0:.0f} s wall with -j {args.jobs}\n")
    print(table(rows))
    print("\nmisses:\n" + misses(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

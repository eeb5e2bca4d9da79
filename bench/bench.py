"""Speed and memory of posterocr on a folder of photos, against whole-photo Tesseract.

    python bench/bench.py                 # generates 12 photos of 12 MP (3024x4032) into /tmp
    python bench/bench.py -n 30 --hard
    python bench/bench.py --photos img/   # an existing folder

Prints seconds per photo for: `posterocr extract` -j 1, -j 2, a re-run with nothing changed,
`posterocr render`; the peak resident memory of the whole process tree; and the `tesseract`
command on the same whole photos (the naive baseline) with the ratio to extract -j 1.
Each command runs as a user would run it (the console script, a fresh draft folder).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))


def _tree_rss_kib(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry.name}/status") as f:
                vmrss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        pid = int(entry.name)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = vmrss
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run *cmd*; return (wall seconds, peak RSS of its process tree in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return elapsed, peak // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, help="folder of photos (default: generate)")
    parser.add_argument("-n", type=int, default=12, help="photos to generate")
    parser.add_argument("--hard", action="store_true", help="generate the hard set")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--baseline", type=int, default=4, help="photos to run whole-photo tesseract on (0: skip)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="posterocr-bench-"))
    photos = work / "img"
    if args.photos:
        shutil.copytree(args.photos, photos)
    else:
        import synth

        synth.generate_set(photos, args.n, seed=args.seed, hard=args.hard, heic_every=4)
        (photos / "truth.json").unlink()
    names = sorted(p.name for p in photos.iterdir() if not p.name.startswith("."))
    n = len(names)
    exe = shutil.which("posterocr") or str(Path(sys.executable).parent / "posterocr")
    source_bytes = sum((photos / name).stat().st_size for name in names)
    print(f"{n} photos in {photos} ({source_bytes / 1e6:.1f} MB); cores: {os.cpu_count()}")

    rows = []
    for label, folder, jobs in (("extract -j 1", "j1", 1), ("extract -j 2", "j2", 2)):
        (work / folder).mkdir()
        seconds, rss = run([exe, "extract", "../img", "-o", "posters.yaml", "-j", str(jobs)], work / folder)
        rows.append((label, seconds, rss))
    seconds, rss = run([exe, "extract", "../img", "-o", "posters.yaml", "-j", "2"], work / "j2")
    rows.append(("re-run, nothing changed", seconds, rss))
    seconds, rss = run([exe, "render", "posters.yaml", "-o", "output"], work / "j2")
    rows.append(("render", seconds, rss))
    seconds2, _ = run([exe, "render", "posters.yaml", "-o", "output"], work / "j2")
    rows.append(("render again (up to date)", seconds2, 0))
    out_bytes = sum(p.stat().st_size for p in (work / "j2" / "output").rglob("*") if p.is_file())

    for label, seconds, rss in rows:
        mem = f"peak RSS {rss:5d} MiB" if rss else ""
        print(f"{label:28} {seconds:7.2f} s  {seconds / n:6.3f} s/photo  {mem}")
    print(f"output/ {out_bytes / 1e6:.2f} MB = {100 * out_bytes / source_bytes:.1f} % of the photos' bytes")
    print(f"-j 2 speed-up over -j 1: {rows[0][1] / rows[1][1]:.2f}x")

    if args.baseline and shutil.which("tesseract"):
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        # leptonica reads no HEIC: the baseline runs on the JPEGs and PNGs
        sample = [name for name in names if name.lower().endswith((".jpg", ".jpeg", ".png"))][: args.baseline]
        total = 0.0
        for name in sample:
            seconds, _ = run(["tesseract", str(photos / name), "stdout"], work, env)
            total += seconds
        per_photo = total / len(sample)
        print(f"baseline `tesseract PHOTO stdout` (one core), {len(sample)} photos: {per_photo:.2f} s/photo; "
              f"extract -j 1 takes {rows[0][1] / n / per_photo:.3f} of that")
    print(f"(work folder: {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

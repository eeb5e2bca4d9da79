"""Speed and memory of posterocr on a folder of photos, against whole-photo Tesseract.

    python bench/bench.py                 # generates 12 photos of 12 MP (3024x4032) into /tmp
    python bench/bench.py -n 30 --hard
    python bench/bench.py --size 4284x5712    # 24 MP photos, as iPhone 15 Pro and later take
    python bench/bench.py --photos img/ --papers accepted.csv   # an existing folder

Prints seconds per photo for: `posterocr extract` -j 1 (pinned to ONE core, so it measures
one core's work even on a multi-core machine), -j 2, -j 2 with `--papers`, a re-run with
nothing changed, `posterocr render`; the peak memory of the whole process tree (RSS, and PSS, which
counts pages shared between processes once; with what each process held at the RSS peak); and
the `tesseract` command on the same whole photos (the naive baseline) with the ratio to
extract -j 1. Next to wall seconds it prints CPU seconds (user + system of the command and
all the processes it waited for: workers, tesseract): on a machine shared with other jobs
wall time is noisy, CPU time much less so. Each command runs as a user would run it (the
console script, a fresh draft folder). Extract runs twice per line: wall time comes from a run
nobody watches, memory and CPU from a second run whose /proc sampling would otherwise slow -j 2.

The paper list for generated photos is their true titles and authors (as a conference's
accepted list holds them) plus the 300 look-alike entries of tests/data/papers/colm2025.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
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


_TICK = os.sysconf("SC_CLK_TCK")


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB. RSS counts every page the process maps, so pages a forkserver's
    workers share with it (libraries, imported modules) are counted once per process; PSS splits each
    shared page among its sharers, so summed PSS is what the tree really occupies."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            fields = {line.split(":")[0]: int(line.split()[1]) for line in f if line.split()[0] in ("Rss:", "Pss:")}
        return fields.get("Rss", 0), fields.get("Pss", 0)
    except (OSError, ValueError, IndexError):  # exited, or a kernel without smaps_rollup: RSS only
        try:
            with open(f"/proc/{pid}/status") as f:
                return next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0), 0
        except (OSError, ValueError):
            return 0, 0


def _tree_sample(root_pid: int) -> tuple[int, int, dict[tuple[int, int], float], list[tuple[str, int, int]]]:
    """(RSS and PSS of a process and all its descendants in KiB, {(pid, start time): its own CPU s so far},
    [(name, RSS KiB, PSS KiB) of each process])."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, tuple[int, float]] = {}  # pid -> (start time, CPU s)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = (int(fields[19]), (int(fields[11]) + int(fields[12])) / _TICK)  # its own utime + stime
    rss_total, pss_total, tree, each = 0, 0, {}, []
    stack: list[tuple[int, tuple[str, bytes], str]] = [(root_pid, ("", b""), "")]  # (pid, parent's identity, label)
    while stack:
        pid, parent, parent_label = stack.pop()
        ident = _identity(pid)
        rss, pss = _memory_kib(pid)
        # Identity read on both sides of the memory: one that changed exec'd while being sampled.
        if _identity(pid) != ident or (ident == parent and parent_label != "forkserver"):
            # Between fork and exec (a worker starting tesseract) a child maps its parent's pages
            # copy-on-write: RSS would count the parent twice (seen: a 150 MB "tesseract"). That
            # memory is the parent's, counted there. (Pool workers are forks of the fork server.)
            rss = pss = 0
        rss_total, pss_total = rss_total + rss, pss_total + pss
        label = "forkserver" if b"forkserver" in ident[1] else ident[0]
        label = "worker" if label == parent_label == "forkserver" else label
        each.append((label, rss, pss))
        if pid in cpu:  # keyed with the start time: a pid reused later is another process
            tree[(pid, cpu[pid][0])] = cpu[pid][1]
        stack.extend((child, ident, label) for child in children.get(pid, []))
    return rss_total, pss_total, tree, [e for e in each if e[1]]


def _identity(pid: int) -> tuple[str, bytes]:
    """(comm, command line) of a process: what changes when it execs."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip(), cmdline
    except OSError:
        return "?", b""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, cpus: set[int] | None = None,
        verbose_memory: bool = False, watch: bool = True) -> tuple[float, int, int, float]:
    """Run *cmd* (on the CPUs *cpus* only, if given); return (wall s, peak tree RSS MiB, peak tree PSS MiB, CPU s).

    With *watch* false nothing samples /proc meanwhile: memory is then 0 and CPU only what was waited for.

    CPU seconds: RUSAGE_CHILDREN counts the command and every descendant it
    waited for, exactly; but pool workers forked by a forkserver are not
    waited for by the command, so their CPU is also summed from /proc samples
    of every process of the tree (every 20 ms: each process's last moments
    are missed, a slight undercount). The larger of the two is reported.
    """
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    cpu_start = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=pin)
    peak = peak_pss = 0
    at_peak: list[tuple[str, int, int]] = []
    seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> CPU s at its last sample
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss, at_peak
        while not stop.is_set():
            rss, pss, cpu, each = _tree_sample(proc.pid)
            if rss > peak:
                peak, at_peak = rss, each
            peak_pss = max(peak_pss, pss)
            seen.update(cpu)
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    if watch:
        sampler.start()
    _, err = proc.communicate()
    stop.set()
    if watch:
        sampler.join()
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    waited = _children_cpu() - cpu_start
    if verbose_memory and at_peak:
        print(f"  {' '.join(cmd[1:])}: at the RSS peak " + ", ".join(
            f"{name} {rss // 1024}/{pss // 1024}" for name, rss, pss in sorted(at_peak, key=lambda e: -e[1]))
            + " (RSS/PSS MiB)")
    return elapsed, peak // 1024, peak_pss // 1024, max(waited, sum(seen.values()))


def _has_option(exe: str, command: str, option: str) -> bool:
    help_text = subprocess.run([exe, command, "--help"], capture_output=True, text=True).stdout
    return option in help_text


def write_paper_list(truth: list[dict], path: Path) -> None:
    """The photos' own papers plus look-alike distractors, as one CSV list."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["title", "authors", "url"])
        for k, sample in enumerate(truth):
            out.writerow([sample["title"], "; ".join(a.strip() for a in sample.get("authors", "").split(",")),
                          f"https://openreview.net/forum?id=bench{k:04d}"])
        with (REPO / "tests" / "data" / "papers" / "colm2025.csv").open(newline="", encoding="utf-8") as g:
            rows = csv.reader(g)
            next(rows)
            out.writerows(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, help="folder of photos (default: generate)")
    parser.add_argument("-n", type=int, default=12, help="photos to generate")
    parser.add_argument("--hard", action="store_true", help="generate the hard set")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--size", default="3024x4032",
                        help="WIDTHxHEIGHT of generated photos (default 12 MP; 4284x5712 is a 24 MP phone photo)")
    parser.add_argument("--baseline", type=int, default=4, help="photos to run whole-photo tesseract on (0: skip)")
    parser.add_argument("--papers", type=Path, help="accepted-paper list for the --papers line "
                        "(default for generated photos: their titles + tests/data/papers/colm2025.csv)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="posterocr-bench-"))
    photos = work / "img"
    papers = args.papers.resolve() if args.papers else None
    if args.photos:
        shutil.copytree(args.photos, photos, ignore=shutil.ignore_patterns("truth.json"))
    else:
        import synth

        width, height = (int(v) for v in args.size.lower().split("x"))
        synth.generate_set(photos, args.n, seed=args.seed, size=(width, height), hard=args.hard, heic_every=4)
        truth_path = photos / "truth.json"
        if papers is None:
            papers = work / "papers.csv"
            write_paper_list(json.loads(truth_path.read_text()), papers)
        truth_path.unlink()
    names = sorted(p.name for p in photos.iterdir() if not p.name.startswith("."))
    n = len(names)
    exe = shutil.which("posterocr") or str(Path(sys.executable).parent / "posterocr")
    source_bytes = sum((photos / name).stat().st_size for name in names)
    cores = sorted(os.sched_getaffinity(0))
    print(f"{n} photos in {photos} ({source_bytes / 1e6:.1f} MB); cores: {len(cores)}; "
          f"-j 1 pinned to core {cores[0]}")

    rows = []
    extract = [exe, "extract", "../img", "-o", "posters.yaml"]

    def measured(label: str, cmd: list[str], folder: str, cpus: set[int] | None = None) -> None:
        """Wall time from a run nobody watches, memory and CPU from a second, sampled one.

        The sampler reads /proc every 20 ms; on a 2-core machine that takes CPU from the -j 2
        workers (seen, 48 photos: 17.8 s watched against 15.6 s not), while -j 1, pinned to one
        core, leaves it the other: a watched -j 2 understated the speed-up.
        """
        (work / folder).mkdir()
        (work / f"{folder}-unwatched").mkdir()
        wall = run(cmd, work / f"{folder}-unwatched", cpus=cpus, watch=False)[0]
        _, rss, pss, cpu = run(cmd, work / folder, cpus=cpus, verbose_memory=cpus is None)
        rows.append((label, wall, rss, pss, cpu))

    measured("extract -j 1 (one core)", [*extract, "-j", "1"], "j1", {cores[0]})
    measured("extract -j 2", [*extract, "-j", "2"], "j2")
    if papers is None:
        print("(no --papers line: no paper list for these photos; pass --papers FILE)")
    elif not _has_option(exe, "extract", "--papers"):
        print("(no --papers line: this posterocr extract has no --papers option yet)")
    else:
        measured(f"extract -j 2 --papers {papers.name}", [*extract, "-j", "2", "--papers", str(papers)], "papers")
    rows.append(("re-run, nothing changed", *run([*extract, "-j", "2"], work / "j2")))
    rows.append(("render", *run([exe, "render", "posters.yaml", "-o", "output"], work / "j2")))
    seconds2, _, _, cpu2 = run([exe, "render", "posters.yaml", "-o", "output"], work / "j2")
    rows.append(("render again (up to date)", seconds2, 0, 0, cpu2))
    out_bytes = sum(p.stat().st_size for p in (work / "j2" / "output").rglob("*") if p.is_file())

    for label, seconds, rss, pss, cpu in rows:
        mem = f"peak RSS {rss:5d} MiB, PSS {pss:5d} MiB" if rss else ""
        print(f"{label:34} {seconds:7.2f} s  {seconds / n:6.3f} s/photo  CPU {cpu / n:6.3f} s/photo  {mem}")
    print(f"output/ {out_bytes / 1e6:.2f} MB = {100 * out_bytes / source_bytes:.1f} % of the photos' bytes")
    print(f"-j 2 speed-up over -j 1: {rows[0][1] / rows[1][1]:.2f}x wall "
          f"(CPU per photo -j 2 / -j 1: {rows[1][4] / rows[0][4]:.2f}; 1.00 = no parallel overhead)")

    if args.baseline and shutil.which("tesseract"):
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        # leptonica reads no HEIC: the baseline runs on the JPEGs and PNGs
        sample = [name for name in names if name.lower().endswith((".jpg", ".jpeg", ".png"))][: args.baseline]
        total, total_cpu = 0.0, 0.0
        for name in sample:
            seconds, _, _, cpu = run(["tesseract", str(photos / name), "stdout"], work, env, cpus={cores[0]})
            total, total_cpu = total + seconds, total_cpu + cpu
        per_photo, cpu_per_photo = total / len(sample), total_cpu / len(sample)
        print(f"baseline `tesseract PHOTO stdout` (one core), {len(sample)} photos: {per_photo:.2f} s/photo "
              f"(CPU {cpu_per_photo:.2f}); extract -j 1 takes {rows[0][1] / n / per_photo:.3f} of that "
              f"(CPU {rows[0][4] / n / cpu_per_photo:.3f})")
    print(f"(work folder: {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

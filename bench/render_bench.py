"""Speed, memory and output weight of `posterocr render` on a conference's worth of posters.

    python bench/render_bench.py                  # 300 posters from 30 generated 12 MP photos
    python bench/render_bench.py -n 60 --distinct 12
    python bench/render_bench.py --photos img/ -n 40
    python bench/render_bench.py --without-crops-first  # also time render from the photos, for comparison

Generating 300 distinct 12 MP photos takes ~45 min here (and re-encoding
copies ~7 s each), so the bench generates ``--distinct`` photos (default 30)
and makes N files from them: copy k of a photo gets a few extra bytes that
decoders ignore (a JPEG comment segment; a trailing 'free' box in HEIC), so
every file has its own sha256 and every cache (extract's results and crops,
render's manifest) treats it as a photo of its own; the pixels repeat, which
changes no timing (nothing is keyed by pixels).

Then, each as a user would run it (console script, fresh draft folder):
``posterocr extract`` once (builds the draft and the caches; not timed here,
see bench.py), ``posterocr render`` cold (empty output/), ``posterocr render``
again (nothing changed). Prints wall and CPU seconds (process tree, from
RUSAGE_CHILDREN, since the machine is shared), s/poster, peak RSS of the process
tree, and output/ as a share of the photos' bytes with KB per poster per width.

``--without-crops-first`` first renders with extract's crop cache (posterocr.crops)
moved aside, so every poster is decoded and warped from its photo, then puts it
back for the timed runs: the two cold renders compare render's two paths.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from bench import run  # noqa: E402  (wall, peak RSS and CPU of a process tree)


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the whole process tree, peak RSS MiB)."""
    wall, rss, _pss, cpu = run(cmd, cwd)
    return wall, cpu, rss


def make_variants(distinct: Path, out: Path, n: int) -> None:
    """*n* distinct photo files from the photos in *distinct* (see the module docstring)."""
    sources = sorted(p for p in distinct.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".heic", ".png"))
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = sources[i % len(sources)]
        k = i // len(sources)
        data = src.read_bytes()
        if k and src.suffix.lower() in (".jpg", ".jpeg"):
            note = f"copy {k}".encode()  # a COM segment right after SOI: valid JPEG, other bytes
            data = data[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + data[2:]
        elif k:  # HEIC/PNG: ISO BMFF ignores a trailing 'free' box; PNG ignores data after IEND
            note = f"copy {k}".encode()
            data = data + (len(note) + 8).to_bytes(4, "big") + b"free" + note
        (out / f"{src.stem}_{k:03d}{src.suffix}").write_bytes(data)


def weights(out_dir: Path, n: int) -> str:
    by_width: dict[str, int] = defaultdict(int)
    for path in (out_dir / "img").iterdir():
        if path.name.startswith("."):
            continue
        m = re.search(r"-(\d+)\.(jpg|webp)$", path.name)
        by_width[(m.group(1) if m else "main") + "." + path.suffix[1:]] += path.stat().st_size
    return ", ".join(f"{k} {v / n / 1000:.0f} KB" for k, v in sorted(by_width.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="posters (photo files) to render")
    parser.add_argument("--distinct", type=int, default=30, help="distinct photos to generate")
    parser.add_argument("--photos", type=Path, help="take the distinct photos from this folder instead")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("-j", "--jobs", type=int, default=0, help="render -j (0: posterocr's default)")
    parser.add_argument("--widths", default="", help="render --widths (default: posterocr's)")
    parser.add_argument("--without-crops-first", action="store_true",
                        help="first render from the photos (extract's crops moved aside), for comparison")
    parser.add_argument("--work", type=Path, help="work folder (default: a new temp folder)")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="posterocr-render-bench-"))
    distinct = work / "distinct"
    if args.photos:
        distinct = args.photos
    elif not distinct.is_dir():
        import synth

        synth.generate_set(distinct, args.distinct, seed=args.seed, heic_every=4)
        (distinct / "truth.json").unlink()
    project = work / "project"
    reuse = (project / "posters.yaml").is_file() and len(list((project / "img").iterdir())) == args.n
    if not reuse:  # a work folder from an earlier run with the same -n keeps its photos and draft
        shutil.rmtree(project, ignore_errors=True)
        make_variants(distinct, project / "img", args.n)
    photos = sorted((project / "img").iterdir())
    photo_bytes = sum(p.stat().st_size for p in photos)
    exe = shutil.which("posterocr") or str(Path(sys.executable).parent / "posterocr")
    print(f"{len(photos)} photos ({photo_bytes / 1e6:.0f} MB) in {project / 'img'}; cores: {os.cpu_count()}")

    if not reuse:
        wall, _, _ = timed([exe, "extract", "img", "-o", "posters.yaml"], project)
        print(f"extract (setup, not the measure): {wall:.0f} s")
    shutil.rmtree(project / "output", ignore_errors=True)
    render = [exe, "render", "posters.yaml", "-o", "output"]
    if args.jobs:
        render += ["-j", str(args.jobs)]
    if args.widths:
        render += ["--widths", args.widths]
    n = len(photos)
    labels = ["render (cold)", "render again (up to date)"]
    if args.without_crops_first:
        crop_dir = project / ".posterocr-cache" / "crops"
        aside = work / "crops-aside"
        shutil.rmtree(aside, ignore_errors=True)
        crop_dir.rename(aside)
        try:
            wall, cpu, rss = timed(render, project)
        finally:
            aside.rename(crop_dir)
        print(f"{'render (cold, no crops)':27} {wall:6.1f} s wall = {wall / n:.3f} s/poster; "
              f"CPU {cpu:6.1f} s = {cpu / n:.3f} s/poster; peak RSS {rss} MiB")
        shutil.rmtree(project / "output")
        labels[0] = "render (cold, from crops)"
    for label in labels:
        wall, cpu, rss = timed(render, project)
        print(f"{label:27} {wall:6.1f} s wall = {wall / n:.3f} s/poster; CPU {cpu:6.1f} s = {cpu / n:.3f} s/poster; "
              f"peak RSS {rss} MiB")
    out_bytes = sum(p.stat().st_size for p in (project / "output").rglob("*") if p.is_file())
    print(f"output/ {out_bytes / 1e6:.1f} MB = {100 * out_bytes / photo_bytes:.2f} % of the photos' "
          f"{photo_bytes / 1e6:.0f} MB; per poster: {weights(project / 'output', n)}")
    print(f"(work folder: {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

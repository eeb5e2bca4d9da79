"""Per-photo accuracy and speed of extract over photos with known truth.

    python bench/evaluate.py img/ --truth tests/data/sample_truth.json
    python bench/evaluate.py /tmp/hard            # a synth folder with truth.json
    python -m synth /tmp/hard -n 40 --seed 3 --hard && python bench/evaluate.py /tmp/hard -j 2

Prints, per photo: title read vs truth, similarity, corner IoU, wall and CPU seconds (the real
per-photo worker, posterocr.pipeline.process_photo), then the means and the shares that meet the
targets (IoU >= 0.90, similarity >= 0.90).  ``evaluate()`` and ``summary()`` are reused by
bench/hardset.py and tests/test_hardset.py.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from posterocr.draft import flag_reasons  # noqa: E402
from posterocr.geometry import quad_iou  # noqa: E402
from posterocr.load import file_sha256  # noqa: E402
from posterocr.pipeline import ExtractSettings, process_photo  # noqa: E402
from posterocr.records import PhotoResult  # noqa: E402

IOU_OK = 0.90
TITLE_OK = 0.90


@dataclass(frozen=True)
class Row:
    name: str
    truth: str
    read: str
    alternatives: tuple[str, ...]
    confidence: float
    similarity: float  # rapidfuzz ratio of read vs truth, whitespace collapsed, case kept
    iou: float
    found: bool
    seconds: float  # wall, inside the worker
    cpu: float  # this process + its Tesseract children, for this photo
    error: str | None
    phenomena: tuple[str, ...]
    flagged: bool = False  # the draft marks it for the user to check (draft.flag_reasons)


def similarity(read: str, truth: str) -> float:
    return fuzz.ratio(" ".join(read.split()), " ".join(truth.split())) / 100


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(path: Path) -> tuple[PhotoResult, float]:
    """process_photo plus the CPU it cost (measured in whichever process runs it)."""
    before = _cpu()
    result = process_photo(path, path.name, file_sha256(path), ExtractSettings(jobs=1))
    return result, _cpu() - before


def _results(paths: list[Path], jobs: int) -> Iterator[tuple[PhotoResult, float]]:
    if jobs <= 1:
        yield from map(_timed, paths)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_timed, paths)  # in order, so rows follow the truth file


def evaluate(folder: Path, samples: list[dict], *, jobs: int = 1, verbose: bool = True) -> list[Row]:
    """Run the real per-photo worker on each sample (dicts as in truth.json) and score it."""
    paths = [Path(folder) / Path(s["path"]).name for s in samples]
    rows = []
    for sample, path, (result, cpu) in zip(samples, paths, _results(paths, jobs)):
        title = result.title
        read = title.text if title else ""
        det = result.detection
        row = Row(name=path.name, truth=sample["title"], read=read,
                  alternatives=tuple(title.alternatives) if title else (),
                  confidence=title.confidence if title else 0.0,
                  similarity=similarity(read, sample["title"]),
                  iou=quad_iou(det.corners, sample["corners"]) if det else 0.0,
                  found=bool(det and det.found), seconds=result.seconds, cpu=cpu, error=result.error,
                  phenomena=tuple(sample.get("phenomena", [])),
                  flagged=bool(result.error or flag_reasons(det, title)))
        rows.append(row)
        if verbose:
            print(format_row(row), flush=True)
    return rows


def format_row(r: Row) -> str:
    alts = f"\n    alts:  {list(r.alternatives)}" if r.alternatives else ""
    return (f"{r.name:14} sim {r.similarity:4.2f}  IoU {r.iou:5.3f}  {r.seconds:5.2f} s  {r.cpu:5.2f} s CPU"
            f"  conf {r.confidence:4.2f}{'  found' if r.found else '  NOT FOUND'}{'  FLAGGED' if r.flagged else ''}"
            f"\n    truth: {r.truth}\n    read:  {r.read}{alts}"
            + (f"\n    error: {r.error}" if r.error else "")
            + (f"\n    [{','.join(r.phenomena)}]" if r.phenomena else ""))


def summary(rows: list[Row]) -> str:
    n = len(rows)
    if not n:
        return "0 photos"
    return (f"{n} photos: mean similarity {sum(r.similarity for r in rows) / n:.3f}, "
            f"titles >= {TITLE_OK:.2f}: {sum(r.similarity >= TITLE_OK for r in rows)}/{n}; "
            f"mean IoU {sum(r.iou for r in rows) / n:.3f}, IoU >= {IOU_OK:.2f}: {sum(r.iou >= IOU_OK for r in rows)}/{n}; "
            f"mean {sum(r.seconds for r in rows) / n:.2f} s/photo wall (max {max(r.seconds for r in rows):.2f}), "
            f"{sum(r.cpu for r in rows) / n:.2f} s/photo CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--truth", type=Path, help="truth JSON (default: FOLDER/truth.json)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args()
    truth_path = args.truth or args.folder / "truth.json"
    rows = evaluate(args.folder, json.loads(truth_path.read_text()), jobs=args.jobs)
    print("\n" + summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

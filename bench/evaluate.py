"""Per-photo accuracy and speed of extract over photos with known truth.

    python bench/evaluate.py img/ --truth tests/data/sample_truth.json
    python bench/evaluate.py /tmp/hard            # a synth folder with truth.json
    python -m synth /tmp/hard -n 40 --seed 3 --hard && python bench/evaluate.py /tmp/hard

Prints, per photo: title read vs truth, similarity, corner IoU, seconds (one core, -j 1 path),
then the means and the shares that meet the targets (IoU >= 0.90, similarity >= 0.90).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rapidfuzz import fuzz

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from posterocr.geometry import quad_iou  # noqa: E402
from posterocr.load import file_sha256  # noqa: E402
from posterocr.pipeline import ExtractSettings, process_photo  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--truth", type=Path, help="truth JSON (default: FOLDER/truth.json)")
    args = parser.parse_args()
    truth_path = args.truth or args.folder / "truth.json"
    samples = json.loads(truth_path.read_text())
    settings = ExtractSettings(jobs=1)

    rows = []
    for sample in samples:
        path = args.folder / Path(sample["path"]).name
        result = process_photo(path, path.name, file_sha256(path), settings)
        read = result.title.text if result.title else ""
        similarity = fuzz.ratio(" ".join(read.split()), " ".join(sample["title"].split())) / 100
        iou = quad_iou(result.detection.corners, sample["corners"]) if result.detection else 0.0
        rows.append((path.name, sample["title"], read, similarity, iou, result.seconds, result.error,
                     ",".join(sample.get("phenomena", []))))
        print(f"{path.name:14} sim {similarity:4.2f}  IoU {iou:5.3f}  {result.seconds:5.2f} s"
              f"{'  found' if result.detection and result.detection.found else '  NOT FOUND'}"
              f"\n    truth: {sample['title']}\n    read:  {read}"
              + (f"\n    error: {result.error}" if result.error else "")
              + (f"\n    [{rows[-1][-1]}]" if rows[-1][-1] else ""), flush=True)

    n = len(rows)
    print(f"\n{n} photos: mean similarity {sum(r[3] for r in rows) / n:.3f}, "
          f"titles >= 0.90: {sum(r[3] >= 0.9 for r in rows)}/{n}; "
          f"mean IoU {sum(r[4] for r in rows) / n:.3f}, IoU >= 0.90: {sum(r[4] >= 0.9 for r in rows)}/{n}; "
          f"mean {sum(r[5] for r in rows) / n:.2f} s/photo (max {max(r[5] for r in rows):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

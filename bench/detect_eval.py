"""Accuracy and speed of poster detection alone, over photos with known corners.

    PYTHONPATH=src:. python bench/detect_eval.py /tmp/hard            # synth folder with truth.json
    PYTHONPATH=src:. python bench/detect_eval.py /tmp/hard --draw /tmp/det   # also save overlays

Prints per photo: IoU with the true quad, found/confidence/method, seconds for
find_poster (decode excluded, OpenCV limited to one thread like a -j 1 worker;
wall clock and this process's CPU time, which is steadier on a busy machine),
then mean IoU, the share with IoU >= 0.90 and mean/max seconds per photo.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from posterocr.detect import find_poster  # noqa: E402
from posterocr.geometry import quad_iou  # noqa: E402
from posterocr.load import load_photo  # noqa: E402


def draw(image: np.ndarray, truth: list, found: tuple, out: Path, long_side: int = 900) -> None:
    """Save a downscaled copy with the true quad (green) and the detected one (red)."""
    s = long_side / max(image.shape[:2])
    small = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    cv2.polylines(bgr, [np.round(np.asarray(truth) * s).astype(np.int32)], True, (0, 200, 0), 2)
    cv2.polylines(bgr, [np.round(np.asarray(found) * s).astype(np.int32)], True, (0, 0, 255), 2)
    cv2.imwrite(str(out), bgr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--truth", type=Path, help="truth JSON (default: FOLDER/truth.json)")
    parser.add_argument("--draw", type=Path, help="write overlay PNGs (truth green, detection red) here")
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1: one worker's share)")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    samples = json.loads((args.truth or args.folder / "truth.json").read_text())
    if args.draw:
        args.draw.mkdir(parents=True, exist_ok=True)

    ious, secs, cpus = [], [], []
    for sample in samples:
        path = args.folder / Path(sample["path"]).name
        image = load_photo(path)
        start, cpu_start = time.perf_counter(), time.process_time()
        det = find_poster(image)
        elapsed = time.perf_counter() - start
        cpus.append(time.process_time() - cpu_start)
        iou = quad_iou(det.corners, sample["corners"])
        ious.append(iou)
        secs.append(elapsed)
        flag = "" if iou >= 0.9 else "  <-- below 0.90"
        print(f"{path.name:16} {image.shape[1]}x{image.shape[0]}  IoU {iou:5.3f}  "
              f"{'found' if det.found else 'NOT FOUND':9} conf {det.confidence:4.2f}  {det.method:16} "
              f"{elapsed:5.3f} s ({cpus[-1]:5.3f} CPU)  [{','.join(sample.get('phenomena', []))}]{flag}", flush=True)
        if args.draw:
            draw(image, sample["corners"], det.corners, args.draw / f"{path.stem}.png")

    n = len(ious)
    if n == 0:
        print("no photos in truth.json")
        return 1
    print(f"\n{n} photos: mean IoU {np.mean(ious):.3f}, min {min(ious):.3f}, "
          f"IoU >= 0.90: {sum(i >= 0.9 for i in ious)}/{n} ({100 * np.mean(np.array(ious) >= 0.9):.0f} %); "
          f"find_poster {np.mean(secs):.3f} s/photo (max {max(secs):.3f}), "
          f"CPU {np.mean(cpus):.3f} s/photo (max {max(cpus):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Accuracy and speed of ``ocr.read_title`` alone, on generated posters.

    PYTHONPATH=src:. python bench/ocr_eval.py -n 20               # flat posters, normal
    PYTHONPATH=src:. python bench/ocr_eval.py -n 20 --hard        # taglines, headline questions
    PYTHONPATH=src:. python bench/ocr_eval.py -n 20 --warped      # photographed + rectified (+-1 % corners)
    PYTHONPATH=src:. python bench/ocr_eval.py --photos /tmp/set   # a synth photo set, cut at truth corners +-1 %

Prints per poster: truth vs read, similarity (rapidfuzz ratio, case-sensitive,
whitespace collapsed), whether the truth is among the alternatives, wall and
CPU seconds (this process + the Tesseract child), then the means.  OpenCV is
limited to one thread, as in a worker.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import synth  # noqa: E402
from posterocr import _tesseract, ocr  # noqa: E402
from posterocr.detect import warp_poster  # noqa: E402
from posterocr.load import load_photo  # noqa: E402


def similarity(read: str, truth: str) -> float:
    return fuzz.ratio(" ".join(read.split()), " ".join(truth.split())) / 100


def jitter(corners: np.ndarray, rng: random.Random, frac: float) -> np.ndarray:
    """Move each corner by up to *frac* of the quad's size: an imperfect detection."""
    size = float(np.ptp(corners, axis=0).max())
    return corners + np.array([[rng.uniform(-frac, frac) * size for _ in range(2)] for _ in range(4)])


def photograph(poster: np.ndarray, rng: random.Random, *, error: float = 0.01,
               quality: int = 80) -> np.ndarray:
    """Warp *poster* into a 12 MP 'photo' by a random homography, JPEG it, and
    rectify it again from corners that are off by up to *error*."""
    h, w = poster.shape[:2]
    pw, ph = (4032, 3024) if w >= h else (3024, 4032)
    scale = min(pw / w, ph / h) * rng.uniform(0.65, 0.85)
    cw, ch = w * scale, h * scale
    x0, y0 = (pw - cw) / 2, (ph - ch) / 2
    quad = np.array([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]])
    quad = quad + np.array([[rng.uniform(-0.08, 0.08) * cw, rng.uniform(-0.08, 0.08) * ch] for _ in range(4)])
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    wall = tuple(int(v) for v in rng.choice([(180, 175, 165), (90, 95, 100), (210, 210, 205)]))
    photo = cv2.warpPerspective(poster, matrix, (pw, ph), flags=cv2.INTER_AREA, borderValue=wall)
    ok, buf = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    photo = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    guess = jitter(quad, rng, error)
    return warp_poster(photo, tuple(map(tuple, guess)), max_side=3000)


def cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def cases(args: argparse.Namespace):
    """(name, poster image, true title) triples."""
    if args.photos:
        samples = json.loads((args.photos / "truth.json").read_text())
        for i, s in enumerate(samples[: args.n or None]):
            rng = random.Random(args.seed * 1000 + i)
            image = load_photo(args.photos / Path(s["path"]).name)
            corners = jitter(np.array(s["corners"], dtype=float), rng, 0.01)
            yield Path(s["path"]).name, warp_poster(image, tuple(map(tuple, corners)), max_side=3000), s["title"]
        return
    for i in range(args.n):
        rng = random.Random(args.seed * 1000 + i)
        spec = synth.random_spec(rng, hard=args.hard)
        poster = np.asarray(synth.render_poster(spec))
        if args.warped:
            poster = photograph(poster, rng)
        yield f"{args.seed}:{i} {spec.variant}/{spec.layout}", poster, spec.title


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hard", action="store_true")
    parser.add_argument("--warped", action="store_true", help="photograph + rectify each poster first")
    parser.add_argument("--photos", type=Path, help="a synth photo folder with truth.json")
    args = parser.parse_args()
    cv2.setNumThreads(1)

    sims, alts, walls, cpus = [], [], [], []
    for name, poster, truth in cases(args):
        calls = _tesseract.calls
        me0, kid0 = cpu()
        t0 = time.perf_counter()
        reading = ocr.read_title(poster)
        wall = time.perf_counter() - t0
        me1, kid1 = cpu()
        sim = similarity(reading.text, truth)
        alt = max([similarity(a, truth) for a in reading.alternatives], default=0.0)
        sims.append(sim)
        alts.append(max(sim, alt))
        walls.append(wall)
        cpus.append(me1 - me0 + kid1 - kid0)
        mark = "" if sim >= 0.9 else ("  (truth in alternatives)" if alt >= 0.9 else "  <-- miss")
        print(f"{name}  sim={sim:.2f}  conf={reading.confidence:.2f}  {wall:.2f}s wall  "
              f"{me1 - me0:.2f}+{kid1 - kid0:.2f}s cpu  calls={_tesseract.calls - calls}{mark}")
        print(f"    truth: {truth}\n    read:  {reading.text}")
        if reading.alternatives:
            print(f"    alts:  {list(reading.alternatives)}")
    n = len(sims)
    if not n:
        print("no posters")
        return 1
    print(f"\n{n} posters: mean similarity {np.mean(sims):.3f}, >= 0.90 on {np.mean(np.array(sims) >= 0.9):.0%}, "
          f"title or alternative >= 0.90 on {np.mean(np.array(alts) >= 0.9):.0%}")
    print(f"seconds per poster: wall mean {np.mean(walls):.3f} (max {max(walls):.3f}), "
          f"cpu mean {np.mean(cpus):.3f} (max {max(cpus):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

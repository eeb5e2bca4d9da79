"""Regenerate the committed sample photos: ``python -m synth.samples`` (from the repo root).

Writes four 12 MP photos into ``img/`` and their truth, with paths relative to
the repo root, into ``tests/data/sample_truth.json``. The (seed, index, hard)
triples were picked so the four cover the main cases: a landscape poster with a
header band, QR, tape and a number card at a steep angle; an EXIF-rotated
JPEG of a dark-left-half poster; a HEIC of a portrait A0 poster filling the
frame; a hard photo with a big tagline above the smaller real title, tape, a
pointing hand and a neighbouring poster.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .generate import Sample, make_sample, write_truth

SIZE = (3024, 4032)
# name, seed, index, hard, heic, rotate
PICKS = [
    ("IMG_0001", 36, 1, False, False, False),
    ("IMG_0002", 5, 1, False, False, True),
    ("IMG_0003", 10, 1, False, True, False),
    ("IMG_0004", 27, 1, True, False, False),
]


def write_samples(repo: Path) -> list[Sample]:
    img = repo / "img"
    img.mkdir(exist_ok=True)
    samples = [make_sample(img, index, seed=seed, size=SIZE, hard=hard, heic=heic, rotate=rotate,
                           quality=(86, 88), name=name)
               for name, seed, index, hard, heic, rotate in PICKS]
    data_dir = repo / "tests" / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    write_truth(data_dir / "sample_truth.json", samples, relative_to=repo)
    return samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m synth.samples", description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=Path("."), help="repository root (default: .)")
    args = ap.parse_args(argv)
    for s in write_samples(args.repo):
        print(f"{s.path}\t{s.path.stat().st_size / 1e6:.1f} MB\t{s.title}\t{','.join(s.phenomena)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Photo sets with truth: files as an iPhone writes them, plus ``truth.json``.

Each photo gets its own ``random.Random`` derived from (seed, index), so the
first k photos of a set do not depend on n and a set is byte-identical for a
seed.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from PIL import Image

from . import figures
from .photo import render_photo
from .poster import PosterSpec, random_spec, render_poster

try:  # pillow-heif is a hard dependency of posterocr; registering lets Pillow write HEIC
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover
    pillow_heif = None

# pillow-heif quality of HEIC photos. A phone's HEIC is about half the size of the JPEG it would write of
# the same scene (12 MP: ~1.5-3 MB vs ~3-5 MB). Rendered photos are cleaner than a sensor's, so both formats
# come out smaller here; the ratio is what is matched. Against the same photo as a q86 JPEG (the middle of
# the JPEG qualities), on six generated 12 MP photos: 47-50 gives 0.4-0.67x (mean ~0.5); the former 70-85,
# 2-4x: files no phone writes, which took 2.4x the CPU to decode (x265 "ultrafast" grows steeply above ~50).
HEIC_QUALITY = (47, 50)
ORIENTATION_EVERY = 4  # every 4th JPEG (2nd, 6th, ...) is stored landscape + Orientation=6
MODELS = ["iPhone 12", "iPhone 13 Pro", "iPhone 14", "iPhone 15 Pro Max", "iPhone SE (3rd generation)"]
VENUES = [(49.2888, -123.1116), (48.2330, 16.4170), (29.9436, -90.0649), (1.2839, 103.8607), (47.6116, -122.3325)]


@dataclass
class Sample:
    path: Path
    title: str  # the paper title as printed, lines joined by single spaces
    title_lines: list[str]
    corners: list[list[float]]  # TL, TR, BR, BL in upright photo pixels
    phenomena: list[str]
    authors: str  # author names joined by ", " (affiliation numbers left out)
    orientation: int = 1  # EXIF orientation as stored: 1 or 6
    poster_path: Path | None = None
    size: tuple[int, int] = (0, 0)  # upright width, height

    def to_dict(self, relative_to: Path | None = None) -> dict:
        d = asdict(self)
        for key in ("path", "poster_path"):
            p = getattr(self, key)
            if p is not None:
                d[key] = (p.relative_to(relative_to) if relative_to else p).as_posix()
        d["size"] = list(self.size)
        return d

    @classmethod
    def from_dict(cls, d: dict, base: Path | None = None) -> Sample:
        def full(p: str | None) -> Path | None:
            if p is None:
                return None
            return base / p if base is not None else Path(p)

        return cls(path=full(d["path"]), title=d["title"], title_lines=list(d["title_lines"]),
                   corners=[list(map(float, c)) for c in d["corners"]], phenomena=list(d["phenomena"]),
                   authors=d["authors"], orientation=int(d.get("orientation", 1)),
                   poster_path=full(d.get("poster_path")), size=tuple(d.get("size", (0, 0))))


def load_truth(path: Path, base: Path | None = None) -> list[Sample]:
    """Read a truth JSON; relative paths are resolved against *base* (default: its folder)."""
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Sample.from_dict(d, base if base is not None else Path(path).parent) for d in items]


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60, 2)
    return float(deg), float(minutes), seconds


def make_exif(rng: random.Random, orientation: int) -> Image.Exif:
    """Make/Model/dates and a GPS position, like an iPhone camera roll photo."""
    exif = Image.Exif()
    taken = datetime(2025, 12, 2, 10, 0) + timedelta(seconds=rng.randint(0, 5 * 86400))
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x010F] = "Apple"
    exif[0x0110] = rng.choice(MODELS)
    exif[0x0131] = "18.1"
    exif[0x0132] = stamp
    exif[0x0112] = orientation
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = stamp  # DateTimeOriginal
    ifd[0x9004] = stamp  # DateTimeDigitized
    lat, lon = rng.choice(VENUES)
    lat += rng.uniform(-0.0005, 0.0005)
    lon += rng.uniform(-0.0005, 0.0005)
    gps = exif.get_ifd(0x8825)
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = _dms(lat)
    gps[3] = "E" if lon >= 0 else "W"
    gps[4] = _dms(lon)
    gps[5] = b"\x00"
    gps[6] = round(rng.uniform(2, 40), 1)
    return exif


def sample_rng(seed: int, index: int) -> random.Random:
    """The random stream of photo *index* of set *seed*: the poster spec is drawn first, then the photo."""
    return random.Random(seed * 1_000_003 + index)


def flat_poster(seed: int, index: int, *, hard: bool = False) -> tuple[PosterSpec, Image.Image]:
    """Re-render the flat poster of photo *index* of set *seed* (cheaper than writing it as PNG)."""
    spec = random_spec(sample_rng(seed, index), hard=hard)
    return spec, render_poster(spec)


def qr_payloads(seed: int, index: int, *, hard: bool = False) -> list[str]:
    """What the QR codes on photo *index* of set *seed* encode: its poster re-rendered, payloads recorded.

    The payloads are drawn while rendering, so they are caught at the drawing call
    rather than stored in the truth (which would change every set's random draws).
    """
    seen: list[str] = []
    original = figures.qr_code

    def record(img, box, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(data)
        return original(img, box, data, *args, **kwargs)

    figures.qr_code = record
    try:
        flat_poster(seed, index, hard=hard)
    finally:
        figures.qr_code = original
    return seen


def make_sample(out_dir: Path, index: int, *, seed: int, size: tuple[int, int], hard: bool,
                heic: bool, rotate: bool, quality: tuple[int, int] = (80, 92),
                poster_dir: Path | None = None, name: str | None = None) -> Sample:
    """Render photo number *index* (1-based) of a set and write it into *out_dir*.

    The photo depends only on (seed, index, size, hard); *name* overrides the
    file stem (default ``IMG_{index:04d}``).
    """
    stem = name or f"IMG_{index:04d}"
    rng = sample_rng(seed, index)
    spec = random_spec(rng, hard=hard)
    poster = render_poster(spec)
    photo, corners, phen = render_photo(poster, rng, size=size, hard=hard)
    phen = list(spec.phenomena) + phen
    poster_path = None
    if poster_dir is not None:
        poster_dir.mkdir(parents=True, exist_ok=True)
        poster_path = poster_dir / f"{stem}_poster.png"
        poster.save(poster_path, compress_level=1)
    orientation = 1
    if heic:
        if pillow_heif is None:  # pragma: no cover
            raise RuntimeError("pillow-heif is needed to write HEIC photos")
        path = out_dir / f"{stem}.HEIC"
        exif = make_exif(rng, 1)
        # x265's default preset takes ~30 s for 12 MP; "ultrafast" ~3 s at the same size.
        photo.save(path, format="HEIF", quality=rng.randint(*HEIC_QUALITY), exif=exif.tobytes(),
                   enc_params={"preset": "ultrafast"})
        phen.append("heic")
    else:
        path = out_dir / f"{stem}.jpg"
        stored = photo
        if rotate:
            # Orientation 6 = "rotate 90 degrees clockwise to view": store the upright photo turned anticlockwise.
            stored = photo.transpose(Image.Transpose.ROTATE_90)
            orientation = 6
            phen.append("exif_rotated")
        exif = make_exif(rng, orientation)
        stored.save(path, format="JPEG", quality=rng.randint(*quality), exif=exif.tobytes())
    return Sample(path=path, title=spec.title, title_lines=list(spec.title_lines), corners=corners,
                  phenomena=phen, authors=", ".join(spec.authors), orientation=orientation,
                  poster_path=poster_path, size=(photo.width, photo.height))


def generate_set(out_dir: Path, n: int, *, seed: int, size: tuple[int, int] = (3024, 4032), hard: bool = False,
                 heic_every: int = 0, posters: bool = False, jobs: int = 1) -> list[Sample]:
    """Write *n* photos ``IMG_0001.jpg`` ... into *out_dir* plus ``truth.json``; return their samples.

    ``heic_every=k`` writes every k-th photo as HEIC. ``posters=True`` also writes
    each flat poster to ``out_dir/posters/`` and records it as ``poster_path``.
    ``jobs=k`` renders k photos at a time (same bytes: each photo has its own random stream).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    calls = []
    for i in range(1, n + 1):
        heic = heic_every > 0 and i % heic_every == 0
        rotate = not heic and i % ORIENTATION_EVERY == 2
        calls.append(partial(make_sample, out_dir, i, seed=seed, size=size, hard=hard, heic=heic, rotate=rotate,
                             poster_dir=out_dir / "posters" if posters else None))
    if jobs > 1 and n > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, n)) as pool:
            samples = list(pool.map(_call, calls))
    else:
        samples = [call() for call in calls]
    write_truth(out_dir / "truth.json", samples, relative_to=out_dir)
    return samples


def _call(fn: partial) -> Sample:
    return fn()


def write_truth(path: Path, samples: list[Sample], relative_to: Path) -> None:
    data = [s.to_dict(relative_to) for s in samples]
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

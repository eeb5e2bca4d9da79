"""The published images of one poster: web-sized, metadata-free, and only re-made when needed.

For each poster ``render`` writes into ``out/img/``:

* ``NAME.jpg`` — the main image, long side ``main_side`` (1280 px): Pandoc's
  ``index.md`` shows it and the HTML page uses it as ``src``;
* ``NAME-640.jpg`` … — the other widths of the ``srcset``. Smaller ones exist
  only when smaller than the main image, larger ones only when the poster crop
  is at least 20 % larger than the main image (never upscaled); a larger one
  is capped at the crop's own size;
* with ``webp``, a ``.webp`` twin of each;
* with ``include_originals``, ``out/originals/…``: the photo itself (byte for
  byte with ``keep_exif``, else re-encoded upright without metadata).

NAME is the photo's file name (``IMG_4828.HEIC`` -> ``img/IMG_4828.HEIC.jpg``,
as in the hand-written reference page).

Speed: the straightened poster comes from extract's crop cache when one
matches (see ``crops``: no photo decoding at all), else the photo is decoded
once and warped once, to the largest size needed; the other sizes are
area-downscaled from that. Posters are made in worker processes
(:func:`run_jobs`), each writing only its own files. ``img/.manifest.json`` records,
per poster, a key over everything the pixels depend on (photo size and
mtime, corners, settings) and the files written; a poster whose key and files
are unchanged is not decoded at all. The manifest is only a cache: unreadable
or inconsistent, it is ignored and everything is re-made.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .crops import load_crop
from .detect import warp_poster
from .draft import write_atomic
from .exceptions import OutputError, PhotoError
from .load import MAX_PIXELS, WORK_PIXELS, file_sha256, load_working, release_memory, srgb_converter, to_srgb
from .records import Corners
from .workers import pool as workers_pool

MANIFEST = ".manifest.json"
# Bump when the pixels or file layout for the same inputs change, so old outputs are re-made.
FORMAT_VERSION = 2  # 2: colours converted to sRGB
LARGER_IF = 1.2  # a larger variant must add at least 20 % over the main image to be worth its bytes


@dataclass(frozen=True)
class ImageSettings:
    main_side: int = 1280  # long side of NAME.jpg, the Markdown image
    widths: tuple[int, ...] = (640, 1280)  # long sides offered in srcset (main_side is always one)
    # JPEG quality per role. Measured on the sample photos (see tests/test_render.py):
    # Tesseract reads every title from the 1280 px image down to q30; at q50 the
    # body text is still clean to the eye; a larger variant is viewed zoomed in,
    # where its extra pixels hide artifacts, so it can go lower, and a small one
    # is viewed at 1:1 or larger, so it needs more. Lower is not free: Tesseract
    # on the whole 1280 px sample posters finds ~80 % of the body words it reads
    # at q95 down to q60, 65-83 % at q50, 43-83 % at q40 (bench notes, issue 6).
    quality: int = 50
    quality_small: int = 60
    quality_large: int = 40
    webp: bool = False
    keep_exif: bool = False
    include_originals: bool = False

    def quality_for(self, side: int) -> int:
        if side < self.main_side:
            return self.quality_small
        return self.quality if side == self.main_side else self.quality_large


@dataclass(frozen=True)
class Variant:
    file: str  # relative to the output folder, POSIX: "img/IMG_1.HEIC-640.jpg"
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class PosterImages:
    main: Variant  # the JPEG that index.md shows
    jpeg: tuple[Variant, ...]  # every JPEG, narrowest first (main included)
    webp: tuple[Variant, ...] = ()
    original: str = ""  # "originals/…" when included
    original_bytes: int = 0

    @property
    def largest(self) -> Variant:
        return self.jpeg[-1]

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(v.file for v in (*self.jpeg, *self.webp)) + ((self.original,) if self.original else ())

    @property
    def total_bytes(self) -> int:
        return sum(v.bytes for v in (*self.jpeg, *self.webp)) + self.original_bytes

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> PosterImages:
        def variants(items: list) -> tuple[Variant, ...]:
            return tuple(Variant(str(v["file"]), int(v["width"]), int(v["height"]), int(v["bytes"])) for v in items)

        return cls(main=variants([data["main"]])[0], jpeg=variants(data["jpeg"]), webp=variants(data["webp"]),
                   original=str(data["original"]), original_bytes=int(data["original_bytes"]))


def plan_sides(crop_side: int, settings: ImageSettings) -> tuple[int, list[tuple[int, int]]]:
    """(main long side, [(nominal width, long side)] of the other variants) for a crop this large.

    *crop_side* is the long side of the perspective-corrected crop at full
    resolution (or at least the largest requested size).
    """
    main = min(settings.main_side, crop_side)
    others: dict[int, int] = {}
    for nominal in sorted(set(settings.widths)):
        if nominal < main:
            others[nominal] = nominal
        elif nominal > settings.main_side and crop_side >= settings.main_side * LARGER_IF:
            side = min(nominal, crop_side)
            if all(abs(side - s) > 0.1 * s for s in others.values()):  # capped sizes may coincide
                others[nominal] = side
    return main, sorted(others.items(), key=lambda item: item[1])


def _resize(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    if max(h, w) == side:
        return image
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _photo_exif(source: Path) -> bytes:
    """The photo's EXIF with the orientation reset: the published pixels are already upright."""
    try:
        with Image.open(source) as im:
            exif = im.getexif()
            exif[0x0112] = 1
            return exif.tobytes()
    except (OSError, ValueError, SyntaxError, KeyError):
        return b""  # unreadable metadata: publish without it rather than fail


def encode(image: np.ndarray, fmt: str, quality: int, exif: bytes = b"") -> bytes:
    """JPEG or WebP bytes with no metadata but *exif* (none by default)."""
    buf = io.BytesIO()
    # A fresh image from an array has no info dict: nothing from the photo's
    # EXIF/GPS/ICC can reach the file unless passed here.
    im = Image.fromarray(np.ascontiguousarray(image), "RGB")
    extra = {"exif": exif} if exif else {}
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=quality, progressive=True, optimize=True, **extra)
    else:
        im.save(buf, "WEBP", quality=quality, method=4, **extra)
    return buf.getvalue()


def write_file(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc}); "
                          "free space or choose another output folder with -o") from None


def file_names(base: str, nominal_widths: list[int], settings: ImageSettings) -> list[str]:
    """Every name a poster called *base* could use, for collision checks."""
    stems = [base] + [f"{base}-{w}" for w in nominal_widths]
    exts = [".jpg", ".webp"] if settings.webp else [".jpg"]
    return [stem + ext for stem in stems for ext in exts]


# ---------------------------------------------------------------- the manifest


class Manifest:
    """img/.manifest.json: base name -> (key, PosterImages). A cache only: any doubt means re-make."""

    def __init__(self, img_dir: Path) -> None:
        self.path = img_dir / MANIFEST
        self.old: dict[str, dict] = {}
        self.new: dict[str, dict] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if (isinstance(data, dict) and data.get("version") == FORMAT_VERSION
                    and isinstance(data.get("images"), dict)):
                self.old = {k: v for k, v in data["images"].items() if isinstance(v, dict)}
        except (OSError, ValueError):
            pass  # missing or corrupt: everything is re-made

    def lookup(self, base: str, key: str, out_dir: Path) -> PosterImages | None:
        """The recorded images of *base* if made with *key* and still on disk untouched."""
        record = self.old.get(base)
        if not record or record.get("key") != key:
            return None
        try:
            images = PosterImages.from_json(record["images"])
        except (KeyError, TypeError, ValueError, IndexError):
            return None
        for v in (*images.jpeg, *images.webp):
            if not _same_size(out_dir / v.file, v.bytes):
                return None
        if images.original and not _same_size(out_dir / images.original, images.original_bytes):
            return None
        return images

    def record(self, base: str, key: str, images: PosterImages) -> None:
        self.new[base] = {"key": key, "images": images.to_json()}

    def stale_files(self) -> set[str]:
        """Files an earlier render made that this one does not use (removed posters, changed settings)."""
        def files(records: dict[str, dict]) -> set[str]:
            out: set[str] = set()
            for record in records.values():
                try:
                    out.update(PosterImages.from_json(record["images"]).files)
                except (KeyError, TypeError, ValueError, IndexError):
                    continue
            return out

        return files(self.old) - files(self.new)

    def save(self) -> None:
        data = {"version": FORMAT_VERSION, "images": self.new}
        write_file(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8"))


def _same_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def cache_key(source: Path, corners: Corners | None, draft_size: tuple[int, int] | None,
              base: str, settings: ImageSettings) -> str:
    """Everything the output pixels and files depend on, hashed."""
    st = source.stat()
    parts = {
        "v": FORMAT_VERSION, "photo": [st.st_size, st.st_mtime_ns], "base": base,
        "corners": None if corners is None else [[round(x, 3), round(y, 3)] for x, y in corners],
        "size": draft_size, "settings": asdict(settings),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------- making them


def fit_corners(corners: Corners | None, draft_size: tuple[int, int] | None,
                width: int, height: int) -> tuple[Corners, str | None]:
    """The corners to warp with, in a *width* x *height* photo's pixels, and a note if they had to be adapted."""
    whole: Corners = ((0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1))
    if corners is None:
        return whole, None
    if draft_size is None or tuple(draft_size) == (width, height):
        return corners, None
    sw, sh = draft_size
    if abs(sw / sh - width / height) > 0.01:  # another photo under the same name
        return whole, f"photo is {width}x{height} now, not {sw}x{sh}; whole photo used, re-run extract"
    fx, fy = width / sw, height / sh
    return tuple((x * fx, y * fy) for x, y in corners), None  # type: ignore[return-value]


@dataclass(frozen=True)
class ImageJob:
    """One poster's images to make: everything a worker process needs (picklable)."""

    source: Path
    base: str
    out_dir: Path
    settings: ImageSettings
    corners: Corners | None  # the draft's; None = the whole photo
    draft_size: tuple[int, int] | None  # the photo size the corners refer to
    crop_cache: Path | None = None  # the draft's cache dir, where extract leaves straightened crops


def _cached_crop(job: ImageJob, need_side: int) -> np.ndarray | None:
    """Extract's straightened poster for these exact photo bytes and corners, if large enough."""
    if job.crop_cache is None or job.corners is None:
        return None
    if job.settings.include_originals and not job.settings.keep_exif:
        return None  # the original is re-encoded from the decoded photo anyway
    try:
        sha256 = file_sha256(job.source)
    except PhotoError:
        return None  # the photo path reports the problem
    crop = load_crop(job.crop_cache, sha256, job.corners, need_side)
    return None if crop is None else crop.pixels


def make_images(job: ImageJob) -> tuple[PosterImages, str | None, bool]:
    """Straighten the poster (from extract's crop, else from the photo), write every variant.

    Returns the images, a note when the draft's corners had to be adapted, and
    whether extract's crop was used.
    Runs in a worker process with ``render -j N``: it writes only its own files.
    """
    settings, source, base, out_dir = job.settings, job.source, job.base, job.out_dir
    biggest = max((settings.main_side, *settings.widths))
    note: str | None = None
    original, original_bytes = "", 0
    srgb = srgb_converter(source)
    warped = _cached_crop(job, biggest)
    from_crop = warped is not None
    if warped is None:
        # 12 MP give every size we publish (the poster is warped at most 2x the largest);
        # a re-encoded original keeps all of the photo's pixels.
        working = load_working(source, work_pixels=MAX_PIXELS if settings.include_originals else WORK_PIXELS)
        corners, note = fit_corners(job.corners, job.draft_size, *working.size)
        image = working.pixels
        try:
            # warpPerspective samples, it does not average: warping straight to a
            # small size aliases fine text (and costs ~15 % more JPEG bytes). Warp
            # at up to twice the largest size, then area-average down.
            warped = warp_poster(image, working.from_photo(corners), max_side=2 * biggest)
        except cv2.error:
            raise PhotoError(f"{source}: cannot straighten with corners {corners}; "
                             "fix corners in the draft") from None
        if settings.include_originals:
            original, original_bytes = _write_original(source, to_srgb(image, srgb), base, out_dir, settings)
        del image, working  # one decoded photo in memory at a time
    elif settings.include_originals:  # keep_exif: the photo's own bytes, no decoding needed
        original, original_bytes = _write_original(source, None, base, out_dir, settings)
    exif = _photo_exif(source) if settings.keep_exif else b""
    main_side, others = plan_sides(min(max(warped.shape[:2]), biggest), settings)
    jobs = sorted([(main_side, base)] + [(side, f"{base}-{nominal}") for nominal, side in others])
    jpeg: list[Variant] = []
    webp: list[Variant] = []
    main: Variant | None = None
    # Largest first, each area-downscaled from the one warped crop.
    for side, stem in reversed(jobs):
        pixels = to_srgb(_resize(warped, side), srgb)  # converting after resizing: fewer pixels
        h, w = pixels.shape[:2]
        quality = settings.quality_for(side)
        data = encode(pixels, "JPEG", quality, exif)
        write_file(out_dir / "img" / f"{stem}.jpg", data)
        variant = Variant(f"img/{stem}.jpg", w, h, len(data))
        jpeg.append(variant)
        if stem == base:
            main = variant
        if settings.webp:  # WebP reaches the same look at fewer bytes; +5 keeps small text as crisp
            data = encode(pixels, "WEBP", min(100, quality + 5), exif)
            write_file(out_dir / "img" / f"{stem}.webp", data)
            webp.append(Variant(f"img/{stem}.webp", w, h, len(data)))
    assert main is not None
    return PosterImages(main=main, jpeg=tuple(reversed(jpeg)), webp=tuple(reversed(webp)),
                        original=original, original_bytes=original_bytes), note, from_crop


def _write_original(source: Path, image: np.ndarray | None, base: str, out_dir: Path,
                    settings: ImageSettings) -> tuple[str, int]:
    """The full photo for readers who want every pixel; metadata only with keep_exif."""
    if settings.keep_exif:  # the photo itself, byte for byte
        name = source.name if base == source.name else f"{base}{source.suffix}"
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise PhotoError(f"{source}: cannot read ({exc.strerror or exc}); check the file") from None
        write_file(out_dir / "originals" / name, data)
        return f"originals/{name}", len(data)
    # Stripping metadata from the file itself would also drop its orientation
    # (and HEIC has no lossless path): re-encode the upright pixels instead.
    assert image is not None, "the caller decodes the photo when it is re-encoded"
    data = encode(image, "JPEG", 92)
    write_file(out_dir / "originals" / f"{base}.jpg", data)
    return f"originals/{base}.jpg", len(data)


def _make_images_in_worker(job: ImageJob) -> tuple[PosterImages, str | None, bool]:
    try:
        return make_images(job)
    finally:
        release_memory()  # the worker's freed heap goes back to the OS between posters, as in extract


def run_jobs(jobs: list[ImageJob],
             workers: int) -> Iterator[tuple[int, tuple[PosterImages, str | None, bool] | PhotoError]]:
    """(index into *jobs*, result or the PhotoError it raised), in completion order.

    ``workers <= 1`` (or a single job) runs in this process. Other errors
    (OutputError: the disk) propagate and stop the run; jobs not yet started
    are cancelled.
    """
    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            try:
                yield i, make_images(job)
            except PhotoError as exc:
                yield i, exc
        return
    pool = workers_pool(min(workers, len(jobs)), preload=[__name__])
    try:
        futures = {pool.submit(_make_images_in_worker, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except PhotoError as exc:
                yield futures[future], exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class ImageStore:
    """All posters' images for one render: reuse from the manifest, else make; then tidy up."""

    out_dir: Path
    settings: ImageSettings
    manifest: Manifest = field(init=False)
    reused: int = 0
    made: int = 0

    def __post_init__(self) -> None:
        img_dir = self.out_dir / "img"
        try:
            img_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{img_dir}: cannot write ({exc.strerror or exc}); "
                              "free space or choose another output folder with -o") from None
        self.manifest = Manifest(img_dir)

    def lookup(self, source: Path, base: str, corners: Corners | None,
               draft_size: tuple[int, int] | None) -> tuple[str, PosterImages | None]:
        """(key, images): the images are those of an earlier render when still up to date (a few stat calls)."""
        key = cache_key(source, corners, draft_size, base, self.settings)
        images = self.manifest.lookup(base, key, self.out_dir)
        if images is not None:
            self.reused += 1
            self.manifest.record(base, key, images)
        return key, images

    def record(self, base: str, key: str, images: PosterImages) -> None:
        """Images made by this render (from :func:`run_jobs`)."""
        self.made += 1
        self.manifest.record(base, key, images)

    def finish(self) -> None:
        """Remove what earlier renders made and this one does not use, then save the manifest."""
        for name in sorted(self.manifest.stale_files()):
            path = self.out_dir / name
            # only inside our own folders, whatever a damaged manifest says
            if ".." not in Path(name).parts and path.parent.name in ("img", "originals") \
                    and path.parent.parent == self.out_dir:
                path.unlink(missing_ok=True)
        originals = self.out_dir / "originals"
        if originals.is_dir() and not any(originals.iterdir()):
            originals.rmdir()
        self.manifest.save()

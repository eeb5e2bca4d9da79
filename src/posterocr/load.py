"""Stage 1: find the photos in a folder and decode one upright.

Decoding happens once per photo, in the worker that processes it, so a
folder of 300 photos is never held in memory at once.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .exceptions import PhotoError
from .records import Corners

try:  # pillow-heif registers HEIC/HEIF with Pillow
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency
    pillow_heif = None

HEIF_SUFFIXES = frozenset({".heic", ".heif"})
# AVIF (some Android phones) and WebP (saved from a chat or the web) are decoded by Pillow.
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".avif", ".webp"}) | HEIF_SUFFIXES
VIDEO_SUFFIXES = frozenset({".mov", ".mp4", ".m4v", ".avi", ".3gp"})

# 12 MP phones give 12e6 px, 48 MP modes 48e6; 100 MP leaves room for panoramas
# while refusing decompression bombs before they are decoded.
MAX_PIXELS = 100_000_000
# extract works on at most a 12 MP phone photo's pixels. Newer phones shoot 24 MP (iPhone 15 Pro
# and later by default) or 48-50 MP; detection works at ~1000 px and the poster handed to OCR is
# capped at 3000 px, both of which 12 MP already gives, so more pixels only cost memory (a 48 MP
# photo is 146 MB per copy, per worker) and time. Up to 10 % more is kept as it is (12.5 MP sensors).
WORK_PIXELS = 4032 * 3024
_WORK_SLACK = 1.1
_ORIENTATION_TAG = 0x0112


_in_pool_worker = False  # set by limit_worker_resources
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_MMAP_THRESHOLD = 4 << 20
_TRIM_THRESHOLD = 64 << 20


def limit_worker_resources() -> None:
    """Settings for a pool worker (call once per worker process; -j N runs N of them).

    * One OpenCV thread and one HEIF decoding thread: the pool already keeps
      every core busy with one photo each; more threads only contend.
    * Arrays of 4 MB and more (every full-resolution copy) are given back to
      the OS when freed. glibc otherwise raises its mmap threshold after the
      first 12 MP array is freed and serves later ones from a heap that
      fragments, so a worker's RSS creeps up photo after photo.
    * The heap is not shrunk on every free: fixing the mmap threshold also
      fixes glibc's trim threshold at 128 kB, and shrinking and faulting the
      heap back in cost 15-25 ms per photo. It is trimmed where it pays off
      instead, see :func:`release_memory` (peak RSS measured the same).
    """
    global _in_pool_worker
    cv2.setNumThreads(1)
    if pillow_heif is not None:
        pillow_heif.options.DECODE_THREADS = 1
    if not sys.platform.startswith("linux"):
        return
    _in_pool_worker = True
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    except (OSError, AttributeError):  # musl has no mallopt: nothing to tune
        pass


def release_memory() -> None:
    """Give the heap's free pages back to the OS (call in a pool worker between photos).

    The arrays under the mmap threshold (detection's and OCR's working copies)
    leave a fragmented heap that glibc does not shrink on its own: a worker
    kept ~45 MB more RSS between photos than after importing. That memory
    is reused by the next photo either way; returning it lowers the sum of
    the workers' memory while one of them is at its peak and another is not.
    A no-op outside a pool worker (-j 1): there the faults of taking the
    pages back cost ~25 ms per photo for no other process's benefit.
    """
    if not _in_pool_worker:
        return
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # musl has no malloc_trim
        pass


@dataclass(frozen=True)
class FolderListing:
    photos: tuple[Path, ...]  # sorted, to be processed
    skipped: tuple[tuple[Path, str], ...]  # (path, why) for files that are not photos


def list_photos(folder: Path) -> FolderListing:
    """The photos directly inside *folder*, by suffix; everything else is noted as skipped."""
    photos: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.is_dir():
            continue
        suffix = path.suffix.lower()
        if suffix in PHOTO_SUFFIXES:
            photos.append(path)
        elif suffix in VIDEO_SUFFIXES:
            skipped.append((path, "video, skipped"))
        else:
            skipped.append((path, "not a photo (JPEG, PNG, HEIC/HEIF, AVIF or WebP), skipped"))
    return FolderListing(tuple(photos), tuple(skipped))


def file_sha256(path: Path) -> str:
    """Content hash of a photo: the cache key, and how a renamed photo is recognised."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except PermissionError:
        raise PhotoError(f"{path}: permission denied; make the file readable (chmod a+r)") from None
    except OSError as exc:
        raise PhotoError(f"{path}: cannot read ({exc.strerror or exc}); check the file or remove it") from None
    return digest.hexdigest()


@dataclass(frozen=True)
class WorkingPhoto:
    """An upright photo as extract works on it: at most about WORK_PIXELS, with the photo's own size.

    Corners in the draft are in the photo's own pixels (what the user sees in an
    image viewer), so detection's corners are mapped back with :meth:`to_photo`.
    """

    pixels: np.ndarray  # upright RGB uint8, read-only; a large photo downscaled
    size: tuple[int, int]  # the upright photo's own width, height

    @property
    def scale(self) -> tuple[float, float]:
        """(x, y) photo pixels per working pixel: 1.0 unless the photo was downscaled."""
        return self.size[0] / self.pixels.shape[1], self.size[1] / self.pixels.shape[0]

    def to_photo(self, corners: Corners) -> Corners:
        """Working-pixel *corners* in the photo's own pixels (the whole image maps to the whole photo)."""
        sx, sy = self.scale
        if (sx, sy) == (1.0, 1.0):
            return corners
        h, w = self.pixels.shape[:2]
        width, height = self.size

        def one(x: float, y: float) -> tuple[float, float]:
            # the working image's edge pixels are the photo's edge pixels
            return (width - 1.0 if x == w - 1 else x * sx), (height - 1.0 if y == h - 1 else y * sy)

        return tuple(one(x, y) for x, y in corners)  # type: ignore[return-value]

    def from_photo(self, corners: Corners) -> Corners:
        """Photo-pixel *corners* (the draft's) in working pixels."""
        sx, sy = self.scale
        return corners if (sx, sy) == (1.0, 1.0) else tuple((x / sx, y / sy) for x, y in corners)  # type: ignore


def load_working(path: Path, *, work_pixels: int = WORK_PIXELS, max_pixels: int = MAX_PIXELS) -> WorkingPhoto:
    """Decode *path* upright, at most ~*work_pixels* (see WORK_PIXELS); errors as :func:`load_photo`.

    A JPEG at least twice as large on each side is decoded at half (or a quarter) size by
    libjpeg itself, which is ~3x faster and never holds the full-size image; anything
    else still too large is area-averaged down once decoded, and the full-size copy freed.
    """
    rgb, size = _load(path, max_pixels, work_pixels)
    h, w = rgb.shape[:2]
    if w * h > work_pixels * _WORK_SLACK:
        scale = (work_pixels / (w * h)) ** 0.5
        # Above half size bilinear already weighs every source pixel, at a fraction of INTER_AREA's cost.
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA)
        rgb.flags.writeable = False
    return WorkingPhoto(rgb, size)


def load_photo(path: Path, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode *path* to an upright, read-only RGB ``uint8`` array (H, W, 3).

    EXIF orientation is applied exactly once; a broken orientation tag is
    ignored rather than fatal. Raises :class:`PhotoError` with a one-line
    message for anything that is not a readable photo.

    Speed and memory matter here (12 MP, once per photo): JPEGs are decoded by
    OpenCV straight into the final array and HEICs by libheif into one buffer
    the array views. Going through Pillow costs three extra 12 MP copies
    (~0.1 s and ~200 MB at peak), which is what made two workers exceed 500 MB.
    Pillow stays the path for everything else and for any file the fast paths
    are unsure about, so its error handling still decides what is broken.
    """
    return _load(path, max_pixels, None)[0]


def _load(path: Path, max_pixels: int, work_pixels: int | None) -> tuple[np.ndarray, tuple[int, int]]:
    """(upright RGB, the upright photo's own (width, height)); a JPEG may come reduced (see load_working)."""
    try:
        if path.stat().st_size == 0:
            raise PhotoError(f"{path}: empty file (0 bytes); re-copy it from the phone or delete it")
        data = path.read_bytes()
        decoded = None
        if pillow_heif is not None and pillow_heif.is_supported(data[:64]) and not _is_avif(data):
            decoded = _full_size(_decode_heif(path, data, max_pixels))
        elif data[:3] == b"\xff\xd8\xff":
            decoded = _decode_jpeg(path, data, max_pixels, work_pixels)
        if decoded is None:
            decoded = _full_size(_decode_pillow(path, data, max_pixels))
    except PhotoError:
        raise
    except PermissionError:
        raise PhotoError(f"{path}: permission denied; make the file readable (chmod a+r)") from None
    except Image.DecompressionBombError:  # Pillow's own guard fired first, in Image.open
        raise _too_large(path, "the image", max_pixels) from None
    except UnidentifiedImageError:
        raise PhotoError(f"{path}: not a readable image; check the file or remove it from the folder") from None
    except (OSError, ValueError, SyntaxError, RuntimeError) as exc:
        why = " ".join(str(exc).split())  # libheif's messages span lines; ours are one line
        raise PhotoError(f"{path}: cannot decode image ({why}); the file may be truncated, re-copy it") from None
    rgb, size = decoded
    rgb.flags.writeable = False  # one contract for every format: callers copy before drawing
    return rgb, size


def _is_avif(data: bytes) -> bool:
    """An AVIF (AV1 in a HEIF box): pillow-heif says it reads it, but it is built without AV1; Pillow has it."""
    return data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis")


def _full_size(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    return rgb, (rgb.shape[1], rgb.shape[0])


def _decode_heif(path: Path, data: bytes, max_pixels: int) -> np.ndarray:
    """HEIC/HEIF: libheif applies the container's rotation/mirror itself (and pillow-heif
    resets the EXIF tag to 1), so no orientation is applied here."""
    heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)  # parses boxes only
    width, height = heif.size
    if width * height > max_pixels:
        raise _too_large(path, f"{width}x{height} px", max_pixels)
    arr = np.asarray(heif)  # decodes; a view of libheif's buffer, no copy
    del heif
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    if arr.shape[2] == 4:  # alpha (screenshots, edited photos): drop it, as Pillow's convert does
        return cv2.cvtColor(arr, cv2.COLOR_RGBA2RGB)
    return arr


_REDUCED = ((4, cv2.IMREAD_REDUCED_GRAYSCALE_4), (2, cv2.IMREAD_REDUCED_GRAYSCALE_2))  # | IMREAD_COLOR_RGB


def _decode_jpeg(path: Path, data: bytes, max_pixels: int,
                 work_pixels: int | None = None) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Decode a JPEG with OpenCV, reduced by libjpeg when *work_pixels* allows it.

    Returns (upright RGB, the upright photo's own size); None hands the file to
    Pillow (odd or damaged JPEGs).
    """
    with Image.open(io.BytesIO(data)) as im:  # header and EXIF only, no pixels
        width, height = im.size
        if width * height > max_pixels:
            raise _too_large(path, f"{width}x{height} px", max_pixels)
        try:
            orientation = int(im.getexif().get(_ORIENTATION_TAG, 1))
        except (ValueError, TypeError, KeyError, OSError, SyntaxError):
            orientation = 1  # a corrupt EXIF block: keep the stored orientation
    # libjpeg only *warns* about a truncated file and returns grey rows, where
    # Pillow raises: a file that does not end in EOI goes to Pillow. Some
    # cameras pad after EOI, hence the stripped zero bytes (looked for in the tail only).
    if not data[-65536:].rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    # The largest reduction that still leaves work_pixels (libjpeg rounds reduced sizes up).
    denom, flag = next(((d, f) for d, f in _REDUCED
                        if work_pixels and -(-width // d) * -(-height // d) >= work_pixels), (1, 0))
    buf = np.frombuffer(data, np.uint8)
    rgb = cv2.imdecode(buf, flag | cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
    if rgb is None or rgb.shape[:2] != (-(-height // denom), -(-width // denom)):
        return None  # e.g. arithmetic-coded or 12-bit: Pillow knows more JPEG variants
    upright = _orient(rgb, orientation)
    return upright, ((height, width) if orientation in (5, 6, 7, 8) else (width, height))


def _orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation 2..8 (same result as PIL.ImageOps.exif_transpose); others are ignored."""
    if orientation == 2:
        return cv2.flip(rgb, 1)
    if orientation == 3:
        return cv2.rotate(rgb, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(rgb, 0)
    if orientation == 5:
        return cv2.transpose(rgb)
    if orientation == 6:
        return cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(rgb), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return rgb


def _decode_pillow(path: Path, data: bytes, max_pixels: int) -> np.ndarray:
    """Any format Pillow reads (PNG, unusual JPEGs); slower, and the reference behaviour."""
    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
        if width * height > max_pixels:
            raise _too_large(path, f"{width}x{height} px", max_pixels)
        im.load()
        try:
            upright = ImageOps.exif_transpose(im)
        except (ValueError, TypeError, KeyError, OSError, SyntaxError):
            upright = im  # a corrupt orientation tag: keep the stored orientation
        if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
            # 16-bit grey (scans, PNGs from image tools): convert("RGB") would clip every value
            # above 255 to white, so scale the 16-bit range down instead.
            grey = np.asarray(upright).astype(np.float32)
            if upright.mode != "I" or grey.max() > 255:  # "I" (32-bit) may hold 8-bit values
                grey /= 257.0
            return cv2.cvtColor(np.clip(grey + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)
        rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
        return np.asarray(rgb)


def _too_large(path: Path, what: str, max_pixels: int) -> PhotoError:
    return PhotoError(
        f"{path}: {what} is larger than the {max_pixels // 1_000_000} MP limit; downscale it before running posterocr"
    )


def srgb_converter(source: Path) -> ImageCms.ImageCmsTransform | None:
    """The conversion of the photo's pixels to sRGB, or None when they are sRGB already (or untagged).

    Phones tag their photos with a colour profile (iPhones since the 7: Display
    P3). Published images and review previews carry no metadata, and a browser
    shows untagged pixels as sRGB, so P3 numbers shown as they are look dull:
    reds and greens lose their punch. Converting keeps the colours without
    keeping the profile. Detection and OCR work on the photo's own numbers.
    """
    try:
        with Image.open(source) as im:  # reads the header only
            icc = im.info.get("icc_profile")
    except (OSError, ValueError, SyntaxError):
        return None  # the photo path reports an unreadable photo
    return _srgb_transform(icc) if icc else None


@lru_cache(maxsize=8)  # a folder's photos share one or two profiles
def _srgb_transform(icc: bytes) -> ImageCms.ImageCmsTransform | None:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb"):
            return None
        return ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), "RGB", "RGB",
                                       renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or non-RGB profile: publish the pixels as they are rather than fail


def to_srgb(image: np.ndarray, transform: ImageCms.ImageCmsTransform | None) -> np.ndarray:
    """*image* (RGB uint8) through *transform* from :func:`srgb_converter`; itself when there is none."""
    if transform is None:
        return image
    return np.asarray(ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(image), "RGB"), transform))

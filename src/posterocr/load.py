"""Stage 1: find the photos in a folder and decode one upright.

Decoding happens once per photo, in the worker that processes it, so a
folder of 300 photos is never held in memory at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .exceptions import PhotoError

try:  # pillow-heif registers HEIC/HEIF with Pillow
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency
    pillow_heif = None

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif"})
VIDEO_SUFFIXES = frozenset({".mov", ".mp4", ".m4v", ".avi", ".3gp"})

# 12 MP phones give 12e6 px, 48 MP modes 48e6; 100 MP leaves room for panoramas
# while refusing decompression bombs before they are decoded.
MAX_PIXELS = 100_000_000


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
            skipped.append((path, "not a photo (JPEG, PNG, HEIC or HEIF), skipped"))
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


def load_photo(path: Path, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode *path* to an upright RGB ``uint8`` array (H, W, 3).

    EXIF orientation is applied exactly once; a broken orientation tag is
    ignored rather than fatal. Raises :class:`PhotoError` with a one-line
    message for anything that is not a readable photo.
    """
    try:
        if path.stat().st_size == 0:
            raise PhotoError(f"{path}: empty file (0 bytes); re-copy it from the phone or delete it")
        with Image.open(path) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise _too_large(path, f"{width}x{height} px", max_pixels)
            im.load()
            try:
                upright = ImageOps.exif_transpose(im)
            except (ValueError, TypeError, KeyError, OSError, SyntaxError):
                upright = im  # a corrupt orientation tag: keep the stored orientation
            rgb = upright.convert("RGB")
    except PhotoError:
        raise
    except PermissionError:
        raise PhotoError(f"{path}: permission denied; make the file readable (chmod a+r)") from None
    except Image.DecompressionBombError:  # Pillow's own guard fired first, in Image.open
        raise _too_large(path, "the image", max_pixels) from None
    except UnidentifiedImageError:
        raise PhotoError(f"{path}: not a readable image; check the file or remove it from the folder") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise PhotoError(f"{path}: cannot decode image ({exc}); the file may be truncated, re-copy it") from None
    return np.asarray(rgb)


def _too_large(path: Path, what: str, max_pixels: int) -> PhotoError:
    return PhotoError(
        f"{path}: {what} is larger than the {max_pixels // 1_000_000} MP limit; downscale it before running posterocr"
    )

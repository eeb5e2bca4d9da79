"""Crop cache: the straightened poster that ``extract`` already made, kept for ``render``.

Decoding a 12 MP photo and warping it again is most of what ``render`` costs;
``extract`` has done exactly that in its worker. It hands the warped poster to
:func:`encode_crop` (in the worker: resizing and encoding are CPU work) and the
parent stores the bytes with :func:`save_crop` under
``<draft dir>/.posterocr-cache/crops/``. ``render`` asks :func:`load_crop` and
falls back to the photo when there is no usable crop.

A crop is used only when it was made from the same photo content (the file
name holds the photo's sha256), by the same warp code (:func:`fingerprint`),
with the same corners (within :data:`CORNER_TOLERANCE` px: the draft stores
rounded corners), and is at least as large as render needs. Anything else -
missing, stale, corrupt, too small - is a miss, never an error: the cache is
only a speed-up, and safe to delete.

File format: a JPEG whose comment (COM marker) holds JSON
``{"v": version, "corners": [[x, y] x4], "side": natural long side}``, so the
corners travel with the pixels in one atomically written file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .cache import source_fingerprint
from .exceptions import OutputError
from .records import Corners
from .yamlio import write_atomic

CROPS_DIR_NAME = "crops"  # under the draft's cache dir (cache.CACHE_DIR_NAME)
# px, long side kept: twice render's 1280 px main image, so render halves it exactly (area
# average), as it does with its own warp. At 2048 the extra non-integer resampling blurred
# body text: Tesseract read 40 words instead of 77 on one sample poster; at 2560, 80.
CROP_SIDE = 2560
# A cache, not the output: high enough that render's web JPEGs made from it are
# as sharp as ones made from the photo (generation loss at q90 is invisible at
# the 1280/640 px sizes render writes); ~0.5-1 MB per poster.
CROP_QUALITY = 90
CORNER_TOLERANCE = 1.0  # px in the photo: the draft rounds corners to whole pixels
# Bump when the crop file format or how crops are made changes.
CROP_VERSION = 1
# The code that decides the crop's pixels: decoding (EXIF orientation) and the warp.
_WARP_MODULES = ("load.py", "detect.py", "geometry.py")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Changes whenever the code that makes a crop changes, so old crops are never used."""
    return source_fingerprint(f"crop-v{CROP_VERSION}", _WARP_MODULES)


@dataclass(frozen=True)
class Crop:
    pixels: np.ndarray  # RGB uint8, long side <= CROP_SIDE
    corners: Corners  # the corners it was warped with, in the upright photo's pixels
    natural_side: int  # long side of the warp before any downscaling


def crop_path(cache_dir: Path, sha256: str) -> Path:
    return cache_dir / CROPS_DIR_NAME / sha256[:2] / f"{sha256}-{fingerprint()}.jpg"


def encode_crop(poster: np.ndarray, corners: Corners, *, max_side: int = CROP_SIDE,
                quality: int = CROP_QUALITY) -> bytes:
    """The warped *poster* (RGB, made with *corners*) as crop-cache bytes, at most *max_side* px long.

    *poster* should be the warp at its natural size (or capped larger than
    *max_side*): its long side is recorded as what the poster can give, so
    render knows when a bigger size than the crop's would need the photo.
    """
    h, w = poster.shape[:2]
    natural = max(h, w)
    if natural > max_side:
        scale = max_side / natural
        # Above half size bilinear already weighs every source pixel (3000 -> 2560 px: 51 dB
        # PSNR against area averaging) at a fifth of INTER_AREA's cost; below it, it would
        # skip pixels and alias text, so area averaging.
        poster = cv2.resize(poster, (max(1, round(w * scale)), max(1, round(h * scale))),
                            interpolation=cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA)
    meta = {"v": CROP_VERSION, "corners": [[float(x), float(y)] for x, y in corners], "side": natural}
    # OpenCV's encoder (the same libjpeg-turbo as Pillow's, without Pillow's copies; no
    # optimize pass: ~5 % larger, half the time). 4:2:0 like render's outputs: its chroma
    # (1280 px) is as fine as the main image's luma.
    bgr = cv2.cvtColor(poster, cv2.COLOR_RGB2BGR) if poster.ndim == 3 else poster
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                                             cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420])
    if not ok:
        raise OutputError(f"cannot encode the corrected poster ({w}x{h} px) as JPEG; report this as a bug")
    return _with_comment(encoded.tobytes(), json.dumps(meta).encode())


def _with_comment(jpeg: bytes, comment: bytes) -> bytes:
    """*jpeg* with a COM segment holding *comment*, after SOI and the APPn headers (JFIF wants APP0 first)."""
    pos = 2
    while jpeg[pos:pos + 1] == b"\xff" and 0xE0 <= jpeg[pos + 1] <= 0xEF:
        pos += 2 + int.from_bytes(jpeg[pos + 2:pos + 4], "big")
    return jpeg[:pos] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[pos:]


def save_crop(cache_dir: Path, sha256: str, data: bytes) -> None:
    """Store *data* (from :func:`encode_crop`) for the photo with content hash *sha256*.

    Never raises for a disk problem: a crop that cannot be written only costs
    render the slow path. Older crops of the same photo (other warp code) go.
    """
    if not sha256:
        return
    path = crop_path(cache_dir, sha256)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, durable=False)
        for old in path.parent.glob(f"{sha256}-*.jpg"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def corners_match(a: Corners, b: Corners, tolerance: float = CORNER_TOLERANCE) -> bool:
    return len(a) == len(b) == 4 and all(
        math.hypot(ax - bx, ay - by) <= tolerance for (ax, ay), (bx, by) in zip(a, b))


def load_crop(cache_dir: Path, sha256: str, corners: Corners, need_side: int) -> Crop | None:
    """The cached crop of this photo content warped with *corners*, if it can give *need_side* px.

    *need_side* is the long side render wants; a crop smaller than that is
    still enough when the poster itself is no larger (``natural_side``). Any
    problem with the file is a miss (None).
    """
    path = crop_path(cache_dir, sha256)
    try:
        with Image.open(path) as im:
            if im.format != "JPEG":
                return None
            meta = json.loads(im.info.get("comment", b"{}"))
            if not isinstance(meta, dict) or meta.get("v") != CROP_VERSION:
                return None
            cached: Corners = tuple((float(x), float(y)) for x, y in meta["corners"])  # type: ignore[assignment]
            natural = int(meta["side"])
            if not corners_match(cached, corners):
                return None
            if max(im.size) < min(need_side, natural):
                return None
            pixels = np.asarray(im.convert("RGB"))
    except (OSError, ValueError, TypeError, KeyError, SyntaxError, Image.DecompressionBombError):
        return None  # missing, truncated, not a JPEG, bad JSON: the photo is used instead
    return Crop(pixels=pixels, corners=cached, natural_side=natural)

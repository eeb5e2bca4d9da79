"""The review sheet: every photo small, its detected outline, the corrected crop and the title read.

``extract`` writes ``review.html`` beside the draft so a user can check 50
photos in a minute and fix only the flagged ones in the YAML.

The previews are made in the worker, where the decoded photo and the corrected
poster already exist (decoding a 12 MP photo again would cost ~0.4 s), and
stored by the parent under ``.posterocr-cache/previews/<sha256>-{photo,poster}.jpg``.
They are a convenience: failing to write one is never fatal. The outline is an
SVG overlay, not burnt into the JPEG, so corners the user edited in the draft
show as they are now, without re-running extract.
"""

from __future__ import annotations

import math
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cv2
import jinja2
import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from PIL import Image, ImageCms

from .draft import FLAG_BELOW, Draft, PosterEntry, caption_from_title, write_atomic
from .exceptions import OutputError
from .load import to_srgb
from .records import Corners

REVIEW_NAME = "review.html"
PREVIEW_DIR_NAME = "previews"
TEMPLATE_NAME = "review.html.j2"
# INTER_AREA straight from 12 MP costs ~80 ms (its generic path touches every
# source pixel with fractional weights). A bilinear step to this multiple of
# the preview size first, then INTER_AREA, is within ~1/60 of the grey scale of
# the direct result (PSNR ~37 dB) at a fifth of the cost.
_AREA_FACTOR = 3


@dataclass(frozen=True)
class Previews:
    """Small JPEGs of one photo (upright, whole) and of its corrected poster."""

    photo_jpeg: bytes
    poster_jpeg: bytes


# ---------------------------------------------------------------- previews (worker side)


def _shrink(image: np.ndarray, long_side: int) -> np.ndarray:
    """*image* with its long side at most *long_side*, smoothly downscaled."""
    h, w = image.shape[:2]
    if max(h, w) <= long_side:
        return image
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    mid = (size[0] * _AREA_FACTOR, size[1] * _AREA_FACTOR)
    if mid[0] < w and mid[1] < h:
        image = cv2.resize(image, mid, interpolation=cv2.INTER_LINEAR)  # cheap: reads ~4 pixels per output
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _jpeg(image: np.ndarray, quality: int) -> bytes:
    # cv2 writes a bare JFIF: no EXIF, no GPS position of the photo leaks into the cache.
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("cv2.imencode could not encode the preview")
    return buf.tobytes()


def make_previews(image: np.ndarray, poster: np.ndarray, *, long_side: int = 480, quality: int = 70,
                  srgb: ImageCms.ImageCmsTransform | None = None) -> Previews:
    """Preview JPEGs of the upright RGB photo *image* and the corrected *poster* (RGB, any size).

    *srgb* converts the photo's colours (load.srgb_converter), after shrinking: fewer pixels.
    """
    for name, array in (("image", image), ("poster", poster)):
        if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8 or 0 in array.shape:
            raise ValueError(f"make_previews: {name} must be a non-empty RGB uint8 array, got "
                             f"{array.dtype} {array.shape}")
    return Previews(photo_jpeg=_jpeg(to_srgb(_shrink(image, long_side), srgb), quality),
                    poster_jpeg=_jpeg(to_srgb(_shrink(poster, long_side), srgb), quality))


# ---------------------------------------------------------------- previews (parent side)


def preview_paths(sha256: str, cache_dir: Path) -> tuple[Path, Path]:
    """(photo preview, poster preview) for the photo with this content hash."""
    folder = Path(cache_dir) / PREVIEW_DIR_NAME
    return folder / f"{sha256}-photo.jpg", folder / f"{sha256}-poster.jpg"


def save_previews(previews: Previews, sha256: str, cache_dir: Path) -> None:
    """Store both previews atomically; any OSError (read-only, disk full) is swallowed."""
    if not sha256:
        return  # nothing to address them by
    photo_path, poster_path = preview_paths(sha256, cache_dir)
    try:
        photo_path.parent.mkdir(parents=True, exist_ok=True)
        # No fsync: a preview lost in a power cut is simply made again by the next extract.
        write_atomic(photo_path, previews.photo_jpeg, durable=False)
        write_atomic(poster_path, previews.poster_jpeg, durable=False)
    except OSError:
        pass


# ---------------------------------------------------------------- the page


def _href(path: Path, base: Path) -> str:
    """URL of *path* relative to the folder *base*, percent-quoted."""
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive on Windows: no relative path exists
        return Path(os.path.abspath(path)).as_uri()
    return quote(Path(rel).as_posix())


def _image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a preview, reading its header only; None if it is unusable."""
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _measured_by_photo(draft: Draft) -> dict[str, Mapping[str, Any]]:
    """photo -> its raw ``measured:`` mapping (first entry wins), for values PosterEntry lacks."""
    out: dict[str, Mapping[str, Any]] = {}
    posters = draft.data.get("posters")
    if not isinstance(posters, list):
        return out
    for entry in posters:
        if isinstance(entry, dict) and isinstance(entry.get("photo"), str) and isinstance(entry.get("measured"), dict):
            for key in (entry["photo"], posixpath.normpath(entry["photo"])):
                out.setdefault(key, entry["measured"])
    return out


def _scaled(corners: Corners, sx: float, sy: float) -> list[tuple[float, float]]:
    return [(round(x * sx, 1), round(y * sy, 1)) for x, y in corners]


def _same_quad(a: Corners | None, b: Any) -> bool:
    if a is None or not isinstance(b, list) or len(b) != 4:
        return a is None
    try:
        return all(abs(float(p) - float(q)) < 0.5 for u, v in zip(a, b) for p, q in zip(u, v))
    except (TypeError, ValueError):
        return False


def _card(number: int, entry: PosterEntry, measured: Mapping[str, Any], sha256: str | None,
          cache_dir: Path, base: Path) -> dict[str, Any]:
    status = entry.status or "unmeasured"
    photo_src = poster_src = ""
    photo_size = poster_size = None
    if sha256:
        photo_path, poster_path = preview_paths(sha256, cache_dir)
        photo_size, poster_size = _image_size(photo_path), _image_size(poster_path)
        photo_src = _href(photo_path, base) if photo_size else ""
        poster_src = _href(poster_path, base) if poster_size else ""
    quad: list[tuple[float, float]] = []
    if photo_size and entry.corners is not None and entry.size and min(entry.size) > 0:
        # corners are in full-resolution photo pixels; the SVG's viewBox is the preview's pixels
        quad = _scaled(entry.corners, photo_size[0] / entry.size[0], photo_size[1] / entry.size[1])
    detect_conf = _number(measured.get("confidence"))
    title_conf = _number(measured.get("title_confidence"))
    alternatives = measured.get("title_alternatives")
    alternatives = [a for a in alternatives if isinstance(a, str) and a.strip()] \
        if isinstance(alternatives, list) else []
    caption = entry.caption.strip()
    method = measured.get("method")
    return {
        "number": number,
        "anchor": f"p{number}",
        "photo": entry.photo,
        "photo_href": _href(base / entry.photo, base) if entry.status != "missing" else "",
        "status": status,
        "loud": status in ("flagged", "failed", "missing"),
        "skip": entry.skip,
        "title": entry.title.strip(),
        "caption": caption if caption != caption_from_title(entry.title) else "",
        "message": entry.message,
        "alternatives": alternatives[:3],
        "found": measured.get("found") is not False,
        "method": method if isinstance(method, str) else "",
        "detect_conf": detect_conf,
        "title_conf": title_conf,
        "detect_low": detect_conf is not None and detect_conf < FLAG_BELOW,
        "title_low": title_conf is not None and title_conf < FLAG_BELOW,
        "edited_corners": entry.corners is not None and not _same_quad(entry.corners, measured.get("corners")),
        "photo_src": photo_src,
        "photo_w": photo_size[0] if photo_size else 0,
        "photo_h": photo_size[1] if photo_size else 0,
        "outline": " ".join(f"{x:g},{y:g}" for x, y in quad),
        # the photo's frame minus the quad: shades what is not the poster
        "shade": (f"M0,0H{photo_size[0]}V{photo_size[1]}H0Z M" + " L".join(f"{x:g},{y:g}" for x, y in quad) + "Z")
        if quad and photo_size else "",
        "corner0": quad[0] if quad else None,  # top-left, marked so a rotated outline is obvious
        "dot": round(max(photo_size) / 70, 1) if photo_size else 0,
        "poster_src": poster_src,
        "poster_w": poster_size[0] if poster_size else 0,
        "poster_h": poster_size[1] if poster_size else 0,
    }


def _environment() -> Environment:
    return Environment(loader=PackageLoader("posterocr", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def render_review(draft: Draft, draft_path: Path, cache_dir: Path) -> str:
    """The review page's HTML, with image paths relative to the draft's folder."""
    base = Path(os.path.abspath(draft_path)).parent
    cache_dir = Path(os.path.abspath(base / cache_dir))  # a relative cache_dir is taken from the draft's folder
    measured = _measured_by_photo(draft)
    cards = []
    for number, entry in enumerate(draft.posters(), 1):
        raw = measured.get(entry.photo) or measured.get(posixpath.normpath(entry.photo)) or {}
        cards.append(_card(number, entry, raw, draft.sha256_of(entry.photo), cache_dir, base))
    counts = {s: sum(c["status"] == s for c in cards) for s in ("ok", "flagged", "failed", "missing")}
    counts["skipped"] = sum(c["skip"] for c in cards)
    attention = [c for c in cards if c["loud"] and not c["skip"]]
    return _environment().get_template(TEMPLATE_NAME).render(
        page_title=draft.page()["title"], draft_name=Path(draft_path).name, cards=cards, counts=counts,
        attention=attention, problems=draft.problems())


def write_review(draft: Draft, draft_path: Path, cache_dir: Path) -> Path:
    """Write ``review.html`` beside the draft (atomically) and return its path.

    OutputError if it cannot be written; the draft itself is never touched.
    """
    path = Path(draft_path).parent / REVIEW_NAME
    try:
        html = render_review(draft, draft_path, cache_dir)
    except jinja2.TemplateError as exc:  # the template ships with posterocr: a bug, but say where
        raise OutputError(f"{path}: cannot build the review page ({exc}); please report this") from None
    try:
        write_atomic(path, html.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the review page ({exc.strerror or exc}); "
                          "free space or make the folder writable") from None
    return path

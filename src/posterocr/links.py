"""Links from the poster itself: QR codes and printed URLs, arXiv ids and DOIs.

A poster often carries two codes (the paper and the lab's site) and a footer
URL; :func:`best_link` prefers the paper (arXiv, OpenReview, ACL Anthology,
DOI) and keeps the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from .exceptions import MissingDependency
from .layout import components

# Hosts that point at the paper itself, best first; everything else ranks after.
PAPER_HOSTS = ("arxiv.org", "openreview.net", "aclanthology.org", "doi.org")
OTHER_RANK = len(PAPER_HOSTS)

_ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z.-]+/\d{7})(?:v\d+)?(?![\w/])"
# arXiv ids as OCR prints them: O/o for 0 and l/I/| for 1 are common misreadings of digits.
_ARXIV_OCR_ID = r"[\dOoIl|]{4}\.[\dOoIl|]{4,5}(?:v\d+)?(?![\w/])"
_ARXIV_URL = re.compile(rf"arxiv\.org/(?:abs|pdf|html)/({_ARXIV_ID})(?:\.pdf)?", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(rf"\barxiv\s*[:.]?\s*({_ARXIV_OCR_ID}|{_ARXIV_ID})", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_ARXIV_DOI = re.compile(rf"^10\.48550/arxiv\.({_ARXIV_ID})$", re.IGNORECASE)
_SCHEME_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
# Bare "github.com/x/y" or "www.lab.org": only common TLDs, so OCR noise
# such as "e.g." or "model.py" is not taken for a host name.
_TLDS = "com|org|net|io|ai|edu|dev|app|info|co|me|gov|ac\\.uk|ac\\.jp|uk|de|fr|ch|ca|cn|jp|kr|eu|nl|page|site"
_BARE_URL = re.compile(
    rf"(?<![\w@/.-])((?:www\.)?(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLDS}))(?![\w-])(/[^\s<>\"'`]*)?", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\"*"
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})


def link_rank(url: str) -> int:
    """0 for arXiv ... 3 for doi.org, 4 for any other site (lower is better)."""
    host = (urlsplit(url).hostname or "").lower()
    for rank, paper_host in enumerate(PAPER_HOSTS):
        if host == paper_host or host.endswith("." + paper_host):
            return rank
    return OTHER_RANK


def arxiv_url(arxiv_id: str) -> str:
    """``2401.12345v2`` -> ``https://arxiv.org/abs/2401.12345`` (the abstract page of the latest version)."""
    bare = re.sub(r"v\d+$", "", arxiv_id.strip())
    return f"https://arxiv.org/abs/{bare}"


def _checked_arxiv(raw: str) -> str | None:
    """The abstract URL of a well-formed arXiv id (as printed or OCR-read), else None."""
    arxiv_id = raw.translate(_OCR_DIGITS) if re.match(r"^[\dOoIl|]{4}\.", raw) else raw
    m = re.match(r"^(\d{2})(\d{2})\.(\d+)", arxiv_id)
    if m:
        # New-style ids: month 01-12; four digits after the dot until 2014, five since 2015.
        year, month, digits = int(m.group(1)), int(m.group(2)), len(m.group(3))
        if not 1 <= month <= 12 or digits != (5 if year >= 15 else 4):
            return None
    return arxiv_url(arxiv_id)


def doi_url(doi: str) -> str:
    """A DOI as a doi.org link; arXiv's own DOIs become the arXiv abstract page."""
    doi = doi.strip().rstrip(_TRAILING)
    doi = re.sub(r"^(?:https?://)?(?:dx\.)?doi\.org/", "", doi, flags=re.IGNORECASE)
    doi = re.sub(r"^doi:\s*", "", doi, flags=re.IGNORECASE)
    m = _ARXIV_DOI.match(doi)
    if m and _checked_arxiv(m.group(1)):
        return arxiv_url(m.group(1))
    return f"https://doi.org/{doi}"


def normalise_url(text: str) -> str | None:
    """A link as we record it, or None when *text* is not a link.

    Adds the scheme to bare hosts, turns arXiv PDF links into abstract pages
    and OpenReview PDF links into forum pages (readers want the landing page),
    and accepts bare arXiv ids and DOIs as QR payloads sometimes carry them.
    """
    text = text.strip().strip("<>").rstrip(_TRAILING)
    if not text or any(c.isspace() for c in text):
        m = _ARXIV_PREFIX.fullmatch(text) if text else None
        return _checked_arxiv(m.group(1)) if m else None
    m = _ARXIV_URL.search(text)
    if m:
        return _checked_arxiv(m.group(1))
    m = _ARXIV_PREFIX.fullmatch(text)
    if m:
        return _checked_arxiv(m.group(1))
    if re.fullmatch(_ARXIV_ID, text):
        return _checked_arxiv(text)
    if re.match(r"^(?:doi:\s*)?10\.\d{4,9}/", text, re.IGNORECASE) or re.match(
            r"^(?:https?://)?(?:dx\.)?doi\.org/10\.", text, re.IGNORECASE):
        return doi_url(text)
    if not re.match(r"^https?://", text, re.IGNORECASE):
        if not _BARE_URL.fullmatch(text):
            return None
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if not host or "." not in host:
        return None
    if host.endswith("openreview.net") and parts.path.startswith("/pdf"):
        ids = parse_qs(parts.query).get("id")
        if ids:
            return f"https://openreview.net/forum?id={ids[0]}"
    return text


def find_printed_links(text: str) -> list[str]:
    """Links printed on the poster: URLs, ``arXiv:NNNN.NNNNN`` and DOIs, normalised, in order, deduplicated."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, url: str | None) -> None:
        if url is None or any(s < end and start < e for s, e in taken):
            return  # a span already read as a more specific link (an arXiv URL is also a URL)
        taken.append((start, end))
        found.append((start, url))

    for m in _ARXIV_URL.finditer(text):
        add(m.start(), m.end(), _checked_arxiv(m.group(1)))
    for m in _ARXIV_PREFIX.finditer(text):
        add(m.start(), m.end(), _checked_arxiv(m.group(1)))
    for m in _DOI.finditer(text):
        add(m.start(), m.end(), doi_url(m.group(1)))
    for m in _SCHEME_URL.finditer(text):
        add(m.start(), m.end(), normalise_url(m.group(0)))
    for m in _BARE_URL.finditer(text):
        host = m.group(1)
        # A bare host alone ("Nature.com") is weak evidence; keep it only with www. or a path.
        if m.group(2) or host.lower().startswith("www."):
            add(m.start(), m.end(), normalise_url(m.group(0)))
    return _dedupe(url for _, url in sorted(found))


def best_link(urls: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """(the link that most likely is the paper, the other links in their original order); ("", ()) if none."""
    clean = _dedupe(u for u in (normalise_url(x) for x in urls) if u)
    if not clean:
        return "", ()
    best = min(range(len(clean)), key=lambda i: (link_rank(clean[i]), i))
    return clean[best], tuple(u for i, u in enumerate(clean) if i != best)


def _dedupe(urls: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for url in urls:
        key = url.rstrip("/").lower()
        if key not in seen:
            seen.add(key)
            out.append(url)
    return out


# --------------------------------------------------------------------------- QR codes

CANDIDATE_SIDE = 1500  # long side of the copy searched for code-like patches
# Code-like patches re-read closely.  On 216 generated photos/posters the code that
# the plain read missed was the best-ranked patch in 17 of 18 rescues (4th once).
MAX_PATCHES = 4
PATCH_TARGET = 360  # a patch is upscaled to about this many pixels across before reading


def decode_qr(image: np.ndarray, *, within: Sequence[Sequence[float]] | None = None) -> list[str]:
    """Links encoded in the QR codes of *image* (RGB or grey), normalised, top to bottom.

    One plain zxing-cpp read first (~20-30 ms on 12 MP).  Codes it misses are
    usually small (2-3 px per module), blurred or crowded by tape, so
    code-like patches are then located (zxing's own failed candidates, plus
    dense square texture), upscaled and re-read, sharpened or binarised if
    need be.  *within* (four corners in *image* pixels, e.g. the detected
    poster) drops codes outside it: a photo often shows the neighbouring
    poster too.  Payloads that are not links (vCards, Wi-Fi) are dropped.
    """
    try:
        import zxingcpp  # imported here: only runs that read QR codes pay for it
    except ImportError:
        raise MissingDependency("the QR code reader is missing; install it: pip install zxing-cpp") from None

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    grey = np.ascontiguousarray(grey)
    found: list[tuple[int, int, str, tuple[int, int, int, int]]] = []  # (y, x, text, box): reading order
    boxes: list[tuple[int, int, int, int]] = []
    failed: list[tuple[int, int, int, int]] = []
    # A failed "code" spanning more than a quarter of the photo is a figure, not a code: re-reading
    # it upscaled cost 1.5 s and ~400 MB on one generated photo.
    max_code_side = 0.25 * max(grey.shape)
    for code in _zx_read(zxingcpp, grey, return_errors=True):
        box = _box(code.position)
        if code.valid and code.text:
            found.append((box[1], box[0], code.text, box))
            boxes.append(box)
        elif 8 <= min(box[2] - box[0], box[3] - box[1]) and max(box[2] - box[0], box[3] - box[1]) <= max_code_side:
            failed.append(box)  # zxing saw finder patterns but could not read the code
    tried: list[tuple[int, int, int, int]] = []
    for box in failed[:MAX_PATCHES] + _code_like_patches(grey):
        if any(_overlap(box, b) > 0.3 for b in boxes) or any(_iou(box, b) > 0.6 for b in tried):
            continue  # a code already read there, or the same patch again
        tried.append(box)
        texts = _read_patch(zxingcpp, grey, box)
        if texts:
            found.extend((box[1], box[0], t, box) for t in texts)
            boxes.append(box)
    if within is not None:
        found = [f for f in found if _inside(f[3], within)]
    found.sort()
    return _dedupe(u for u in (normalise_url(f[2]) for f in found) if u)


def _inside(box: tuple[int, int, int, int], quad: Sequence[Sequence[float]]) -> bool:
    """Whether the centre of *box* lies in *quad* grown by 5 % (a code may sit on the poster's edge)."""
    pts = np.asarray(quad, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    grown = (centre + (pts - centre) * 1.05).astype(np.float32)
    point = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    return cv2.pointPolygonTest(grown, point, False) >= 0


def _zx_read(zxingcpp: object, grey: np.ndarray, **kwargs: object) -> list:
    # QR only: scanning every barcode format costs ~10x more and posters carry no other kind.
    return zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False,
                                  **kwargs)


def _box(position: object) -> tuple[int, int, int, int]:
    pts = [(p.x, p.y) for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(1, small)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / max(1, union)


def _code_like_patches(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (full-resolution pixels) of dense, square, high-contrast texture: where small codes hide."""
    h, w = grey.shape
    scale = min(1.0, CANDIDATE_SIDE / max(h, w))
    work = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    kernel = np.ones((3, 3), np.uint8)
    grad = cv2.morphologyEx(work, cv2.MORPH_GRADIENT, kernel)
    edges = (grad > 60).astype(np.uint8)
    # A code's modules are a few pixels apart: closing fills it into a solid square,
    # while the gaps between text lines and figure parts stay open.
    dense = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    dense = cv2.morphologyEx(dense, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, _, stats = components(dense)
    scored: list[tuple[float, tuple[int, int, int, int]]] = []
    for x, y, bw, bh, area in stats[1:]:
        side = max(bw, bh)
        if side < 12 or side > 0.25 * max(h, w) * scale or min(bw, bh) < 0.4 * side:
            continue
        fill = area / (bw * bh)
        if fill < 0.6:
            continue
        density = float(edges[y:y + bh, x:x + bw].mean())
        if density < 0.25:
            continue  # a solid block (a logo, a dark band) rather than a module pattern
        squareness = min(bw, bh) / side
        pad = 0.15 * side
        box = (max(0, int((x - pad) / scale)), max(0, int((y - pad) / scale)),
               min(w, int((x + bw + pad) / scale)), min(h, int((y + bh + pad) / scale)))
        scored.append((fill * squareness * density, box))
    scored.sort(key=lambda s: -s[0])
    return [b for _, b in scored[:MAX_PATCHES]]


def _read_patch(zxingcpp: object, grey: np.ndarray, box: tuple[int, int, int, int]) -> list[str]:
    """Re-read one code-like patch closely: upscaled at two sizes, then sharpened, then binarised."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    pad = side // 6
    crop = grey[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    if crop.size == 0:
        return []
    # zxing's binarizer window is fixed in pixels, so whether a code with a cramped
    # quiet zone (tape, a neighbouring figure) reads depends on its scale: try two.
    base = max(2.5, PATCH_TARGET / side)
    for factor in (base, base * 1.5):
        big = cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        blur = cv2.GaussianBlur(big, (0, 0), factor / 2)
        sharp = cv2.addWeighted(big, 1.8, blur, -0.8, 0)  # unsharp mask: restores module edges softened by blur
        _, otsu = cv2.threshold(sharp, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        for variant in (big, sharp, otsu):
            codes = [c for c in _zx_read(zxingcpp, np.ascontiguousarray(variant)) if c.text]
            if codes:
                return [c.text for c in codes]
    return []

"""Layout analysis for title reading: text lines and blocks, found cheaply.

Tesseract on a whole poster is slow and mixes the title with logos and body
text, so ocr.py picks the title block itself from this analysis of a ~1200 px
copy of the perspective-corrected poster:

1. separate text from background for both polarities (dark text on a light
   page, light text on a dark header band) against a median-filtered
   background estimate;
2. connected components = glyphs; glyphs of similar height that sit side by
   side merge into *lines* (horizontal closing, one pass per height class),
   each with a cap height and a stroke weight (bold or regular);
3. adjacent lines of similar size and weight form *blocks*.

API: :func:`analyse` (grey poster -> :class:`Layout`), and the block
geometry helpers ocr.py ranks with: :func:`next_below`, :func:`join_row`, :func:`join_row_each`,
:func:`contrast`, :func:`reach`, :func:`same_row`;
and :func:`components`, the connected-region labelling links.py shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .titletext import clean_title

WORK_WIDTH = 1200  # layout analysis resolution (px across the poster)
CONTRAST = 28  # grey levels a glyph must differ from its local background
CAP_PER_X = 1.37  # cap height / x-height of common poster fonts (DejaVu 1.33, Liberation 1.38)
REACH_GAP = 1.5  # glyphs: the widest gap reach() bridges along a line (word spaces, a strip of tape)
PEAK_WINDOW = 9  # px (work scale): reach of the local contrast peak in the tight mask, ~a bold stroke


@dataclass
class Line:
    x0: int
    y0: int
    x1: int
    y1: int
    glyph: float  # ~cap height of its glyphs (px, work scale)
    n: int  # glyph count
    light: bool  # light text on a dark background
    weight: float = 0.0  # stroke width / glyph height: ~0.2+ for bold, ~0.15 for regular type
    base: float = -1.0  # baseline row (work scale); -1 when not measured

    @property
    def width(self) -> int:
        return self.x1 - self.x0


class Block:
    """Adjacent lines of similar size; geometry kept up to date as lines are added.

    ``score`` and the text fields are filled in by ocr.py (ranking, reading).
    """

    def __init__(self, line: Line) -> None:
        self.lines = [line]
        self.light = line.light
        self.box = (line.x0, line.y0, line.x1, line.y1)
        self.glyph = line.glyph  # glyph height averaged over the glyphs
        self.n = line.n
        self.weight = line.weight
        self.short_only = line.n <= 8
        self.score = 0.0
        self.below: Block | None = None  # the next block beneath (author line, subtitle or title)
        self.text_lines: list[str] = []
        self.confs: list[list[float]] = []  # per text line: word confidences, one per character
        self.partial = False  # only the start of its first line was read
        self.read = False  # OCR has run on it (it may have found nothing)

    def add(self, ln: Line) -> None:
        self.lines.append(ln)
        x0, y0, x1, y1 = self.box
        self.box = (min(x0, ln.x0), min(y0, ln.y0), max(x1, ln.x1), max(y1, ln.y1))
        self.glyph = (self.glyph * self.n + ln.glyph * ln.n) / (self.n + ln.n)
        self.weight = (self.weight * self.n + ln.weight * ln.n) / (self.n + ln.n)
        self.n += ln.n
        self.short_only = self.short_only and ln.n <= 8

    @property
    def text(self) -> str:
        return clean_title(self.text_lines)



@dataclass
class Layout:
    """What layout analysis found on a poster, at work scale (1/k of the input)."""

    k: int  # input pixels per work pixel
    shape: tuple[int, int]  # work-scale (height, width)
    diff: np.ndarray  # int16: grey minus local background (text contrast, signed)
    lines: list[Line]
    blocks: list[Block]


def analyse(grey: np.ndarray) -> Layout:
    """Text lines and blocks of a grey uint8 poster image, both polarities."""
    small, k = _downscale(grey)
    dark, light, diff = _text_masks(small)
    lines = _find_lines(dark, -diff, False) + _find_lines(light, diff, True)
    return Layout(k, (small.shape[0], small.shape[1]), diff, lines, _blocks(lines))


# --------------------------------------------------------------------------- block geometry

def contrast(b: Block, diff: np.ndarray) -> float:
    """90th percentile of |text - background| over the block's text pixels."""
    x0, y0, x1, y1 = b.box
    d = diff[y0:y1, x0:x1]
    d = d[d > CONTRAST] if b.light else -d[d < -CONTRAST]
    return float(np.percentile(d, 90)) if d.size else 0.0



def next_below(b: Block, blocks: list[Block]) -> Block | None:
    """The nearest block starting just below *b* and overlapping it horizontally."""
    x0, _, x1, y1 = b.box
    g = b.glyph
    best, best_gap = None, 3.0 * g
    for o in blocks:
        if o is b:
            continue
        ox0, oy0, ox1, _ = o.box
        gap = oy0 - y1
        smaller = o.glyph < 0.95 * g or (o.glyph <= 1.05 * g and o.weight < 0.8 * b.weight)
        if -0.2 * g <= gap < best_gap and min(x1, ox1) - max(x0, ox0) > 0.3 * min(x1 - x0, ox1 - ox0) \
                and smaller and o.n >= 4:
            best, best_gap = o, gap
    return best



def join_row(seed: Block, blocks: list[Block]) -> Block:
    """*seed* plus the pieces of its line(s) that a gap split off: tape or a
    finger across a title, or a wide "Name:  rest" gap.  Pieces must be of the
    same size and polarity and within 4 glyphs -- 8 for a one-line piece on
    the baseline of one of the seed's lines (a strip of tape across a small
    title is that wide); logos beside a title are farther off, or of another
    size (and _trim_edges drops stray runs anyway).
    """
    mates: list[Block] = []
    x0, y0, x1, y1 = seed.box
    g = seed.glyph
    grown = True
    while grown:
        grown = False
        for b in blocks:
            if b is seed or b in mates or b.light != seed.light or not 0.7 <= b.glyph / g <= 1.43:
                continue
            bx0, by0, bx1, by1 = b.box
            if by0 < y0 - 0.3 * g or (by1 > y1 + 0.3 * g and not _on_baseline(b, [seed, *mates])):
                continue
            gap = _row_gap(b, [seed, *mates], (x0, x1))
            if gap > 8 * g or (gap > 4 * g and not _on_baseline(b, [seed, *mates])):
                continue
            mates.append(b)
            x0, x1 = min(x0, bx0), max(x1, bx1)
            grown = True
    if not mates:
        return seed
    lines = sorted((ln for b in [seed, *mates] for ln in b.lines), key=lambda ln: (ln.y0, ln.x0))
    joined = Block(lines[0])
    for ln in lines[1:]:
        joined.add(ln)
    joined.score = seed.score
    joined.below = next_below(joined, blocks)
    return joined


def _row_gap(b: Block, row: list[Block], span: tuple[int, int]) -> int:
    """Horizontal gap from *b* to the row: the widest gap from one of *b*'s lines to the row's lines level with it.

    A centred title's rows differ in length, so a logo beside its short middle row
    is far from that row even when the widest row reaches close to the logo; the
    pieces of a title split by tape are close to their own rows, each of them.
    """
    lines = [ln for blk in row for ln in blk.lines]
    gaps = []
    for p in b.lines:
        level = [ln for ln in lines if same_row((ln.y0, ln.y1), (p.y0, p.y1))]
        gaps.append(min(max(p.x0 - ln.x1, ln.x0 - p.x1) for ln in level) if level
                    else max(p.x0 - span[1], span[0] - p.x1))
    return max(gaps)


def same_row(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Are two vertical spans (top, bottom) level: overlapping by more than half the shorter one?"""
    return min(a[1], b[1]) - max(a[0], b[0]) > 0.5 * min(a[1] - a[0], b[1] - b[0])


def join_row_each(seeds: list[Block], blocks: list[Block]) -> list[Block]:
    """:func:`join_row` of each seed in turn; a seed already joined into an earlier row is skipped."""
    rows: list[Block] = []
    taken: set[int] = set()
    for b in seeds:
        if id(b.lines[0]) not in taken:
            row = join_row(b, blocks)
            taken.update(id(ln) for ln in row.lines)
            rows.append(row)
    return rows


def reach(ln: Line, diff: np.ndarray, *, gap: float = REACH_GAP) -> tuple[int, int]:
    """How far *ln* runs on along its baseline, left and right, in fainter ink.

    Glare, a shadow, blur or translucent tape lower the contrast of part of a
    title line below what glyph finding needs, so the line is found only up
    to there -- yet the letters are often still legible.  Columns of the
    line's x-height band with weak ink of its polarity (half the glyph
    threshold) extend it, across word spaces and strips of tape, but not
    across a gap wider than *gap* glyphs (a column gap, the space before a
    logo) nor into a solid region (a band's edge, a photo, an arm).
    """
    g = ln.glyph
    base = ln.y1 - 0.45 * g  # Line boxes end 0.45 glyphs below the baseline
    r0, r1 = max(0, int(base - 0.75 * g)), max(0, int(base - 0.1 * g))
    band = diff[r0:max(r1, r0 + 1)]
    if band.size == 0:
        return ln.x0, ln.x1
    count = np.count_nonzero((band if ln.light else -band) > CONTRAST // 2, axis=0)
    # Ink fills part of the band; a region that fills all of it for half a
    # glyph or more is not a stroke but the edge of a band, a photo or an arm,
    # and the line ends before it.
    solid = count >= 0.9 * band.shape[0]
    w = max(2, int(0.5 * g))
    walls = np.flatnonzero(np.convolve(solid, np.ones(w), "same") >= w)
    cols = np.flatnonzero((count >= 2) & ~solid)
    step = gap * g
    x0, x1 = ln.x0, ln.x1
    if walls.size:
        after, before = walls[walls >= x1], walls[walls < x0]
        if after.size:
            cols = cols[cols < after[0]]
        if before.size:
            cols = cols[cols > before[-1]]
    right = cols[cols >= x1]
    if right.size and right[0] - x1 <= step:
        jumps = np.flatnonzero(np.diff(right) > step)
        x1 = int(right[jumps[0]] if jumps.size else right[-1]) + 1
    left = cols[cols < x0][::-1]
    if left.size and x0 - left[0] <= step:
        jumps = np.flatnonzero(-np.diff(left) > step)
        x0 = int(left[jumps[0]] if jumps.size else left[-1])
    return x0, x1


def _on_baseline(b: Block, row: list[Block]) -> bool:
    """Is *b* one line sitting on the baseline of a line of *row*, at the same height?"""
    if len(b.lines) != 1:
        return False
    p = b.lines[0]
    # The measured baselines when both lines have one: a line's box ends at its
    # descenders when it has any, at the baseline when not, so two pieces of one
    # row ("...orld Models" / "Representations") differ there by ~0.45 glyphs.
    return any(abs(ln.y0 - p.y0) <= 0.35 * ln.glyph
               and abs(ln.base - p.base if min(ln.base, p.base) >= 0 else ln.y1 - p.y1) <= 0.25 * ln.glyph
               for blk in row for ln in blk.lines)


# --------------------------------------------------------------------------- lines and blocks


def _downscale(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """Shrink by an integer factor (INTER_AREA's fast path) to about WORK_WIDTH."""
    k = max(1, round(grey.shape[1] / WORK_WIDTH))
    if k == 1:
        return grey, 1
    h, w = grey.shape[0] // k, grey.shape[1] // k
    return cv2.resize(grey[: h * k, : w * k], (w, h), interpolation=cv2.INTER_AREA), k


def _text_masks(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of pixels clearly darker / lighter than their local background, and the difference."""
    h, w = grey.shape
    # Median background on a 4x smaller copy: cheap, and a window far wider
    # than a title stroke so glyphs do not become their own background.
    small = cv2.resize(grey, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    bg = cv2.resize(cv2.medianBlur(small, 21), (w, h), interpolation=cv2.INTER_LINEAR)
    diff = cv2.subtract(grey, bg, dtype=cv2.CV_16S)
    dark = (diff < -CONTRAST).view(np.uint8)
    light = (diff > CONTRAST).view(np.uint8)
    return dark, light, diff


def _tight(signed: np.ndarray) -> np.ndarray:
    """Pixels above half their local peak contrast (and CONTRAST): ink cores.

    Blur smears bold letters into each other: with a fixed threshold near the
    background a blurred word is one blob, too wide to pass for a glyph, so the
    line is never found (light text on a dark footer band shows it most).  The
    gap between two blurred strokes stays well below the strokes' peak, so half
    the peak within about a stroke's reach separates the letters again,
    whatever the polarity, blur or lighting of the band.
    """
    mag = np.clip(signed, 0, 255).astype(np.uint8)
    peak = cv2.dilate(mag, cv2.getStructuringElement(cv2.MORPH_RECT, (PEAK_WINDOW, PEAK_WINDOW)))
    return (mag > np.maximum(peak >> 1, CONTRAST)).view(np.uint8)


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(count, labels, stats) of *mask*'s 8-connected regions, as cv2.connectedComponentsWithStats gives
    them (labels may be uint16)."""
    # Spaghetti with 16-bit labels: the same labels and stats as Grana's algorithm with 32-bit ones (both
    # number components in the raster order of 2x2 blocks), in ~40 % of its time here (OpenCV 5, 1 thread);
    # the stats pass, not the labelling, is most of the cost.  A mask with more components than 16 bits
    # hold (fine noise) makes OpenCV raise: Grana with 32-bit labels then.
    try:
        count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask, 8, cv2.CV_16U, cv2.CCL_SPAGHETTI)
    except cv2.error:
        count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    return count, labels, stats


def _find_lines(mask: np.ndarray, signed: np.ndarray, light: bool) -> list[Line]:
    """Group glyph components of similar height into text lines.

    Lines are found in *mask*; where it holds blobs too wide for a glyph
    (blurred words), the tight mask of *signed* contrast (letters pulled
    apart, see _tight) is searched there too, and adds lines where *mask*
    found none: sharp text keeps its lines as they were.  Stroke weight is
    always measured on *mask*.
    """
    blobs: list[tuple[int, int, int, int]] = []
    lines = _raw_lines(mask, light, blobs)
    if blobs:
        # Only there: the rest costs time and finds nothing new.  Each blob's
        # tight mask comes from its box plus the peak window's reach around it
        # (the same pixels as over the whole image, at a fraction of the cost).
        # Only the blobs' bounding box is labelled, from an even row and column
        # (see _lines_in_class): the same components, in the same order.
        h, w = mask.shape
        p = PEAK_WINDOW // 2
        oy, ox = min(b[1] for b in blobs) & ~1, min(b[0] for b in blobs) & ~1
        only = np.zeros((max(b[1] + b[3] for b in blobs) - oy, max(b[0] + b[2] for b in blobs) - ox), mask.dtype)
        for bx, by, bw, bh in blobs:
            y0, x0 = max(0, by - p), max(0, bx - p)
            tight = _tight(signed[y0:min(h, by + bh + p), x0:min(w, bx + bw + p)])
            only[by - oy:by - oy + bh, bx - ox:bx - ox + bw] = tight[by - y0:by - y0 + bh, bx - x0:bx - x0 + bw]
        found = np.array([(ln.x0, ln.y0, ln.x1, ln.y1) for ln in lines], dtype=np.int64).reshape(-1, 4)
        for ln in _raw_lines(only, light, origin=(oy, ox), shape=(h, w)):
            ix = np.clip(np.minimum(found[:, 2], ln.x1) - np.maximum(found[:, 0], ln.x0), 0, None)
            iy = np.clip(np.minimum(found[:, 3], ln.y1) - np.maximum(found[:, 1], ln.y0), 0, None)
            if not np.any(ix * iy > 0.3 * (ln.x1 - ln.x0) * (ln.y1 - ln.y0)):
                lines.append(ln)
    lines = _join_rows(_dedupe(lines))
    _measure_weight(mask, lines)
    return lines


def _raw_lines(mask: np.ndarray, light: bool, blobs: list[tuple[int, int, int, int]] | None = None, *,
               origin: tuple[int, int] = (0, 0), shape: tuple[int, int] | None = None) -> list[Line]:
    """Text lines of one mask, one height class at a time (may repeat a line).

    Boxes of components too wide for one glyph (fused letters) go to *blobs*.
    *mask* may be the part of an image of *shape* starting at *origin* (row,
    column) that holds all of its ink; lines are in image coordinates.
    """
    h, w = mask.shape if shape is None else shape
    count, labels, stats = components(mask)
    if count <= 1:
        return []
    oy, ox = origin
    stats[:, 0] += ox
    stats[:, 1] += oy
    x, y, cw, ch, area = (stats[:, i] for i in range(5))
    # Things touching the edge are wall, tape or the poster's frame, not text.
    touches = (x <= 1) | (y <= 1) | (x + cw >= w - 1) | (y + ch >= h - 1)
    fill = area / np.maximum(cw * ch, 1)
    glyphlike = (ch >= 5) & (ch <= min(w * 0.12, 250)) & (cw <= ch * 4) & (fill > 0.08) & ~touches
    glyphlike[0] = False
    if blobs is not None:
        wide = (ch >= 5) & (ch <= min(w * 0.12, 250)) & (cw > ch * 4) & ~touches
        wide[0] = False
        blobs.extend((int(a), int(b), int(c), int(d)) for a, b, c, d in stats[wide, :4])
    # Paint each glyph with its height: a class of heights is then one inRange.
    heights = np.where(glyphlike, ch, 0).astype(np.uint8)
    hmap = np.take(heights, labels)  # (quicker than heights[labels])
    if hmap.shape != (h, w):
        full = np.zeros((h, w), np.uint8)
        full[oy:oy + hmap.shape[0], ox:ox + hmap.shape[1]] = hmap
        hmap = full
    lines: list[Line] = []
    # One pass per height class; classes overlap (x1.5 each side) so a line's
    # lowercase and capitals land together in at least one class.  Classes
    # below ~8 px hold body text only, which never matters for the title.
    size = 9.0
    while size <= min(w * 0.12, 250):
        lo, hi = size / 1.5, size * 1.5
        sel = glyphlike & (ch >= lo) & (ch <= hi)
        if np.count_nonzero(sel) >= 2:
            lines.extend(_lines_in_class(hmap, stats, sel, size, light))
        size *= 1.5
    return lines


def _measure_weight(mask: np.ndarray, lines: list[Line]) -> None:
    """Stroke width of each line, relative to its glyph height (bold vs regular).

    Ink area divided by the length of the strokes' ridges (local maxima of the
    distance transform, ~ the skeleton) is the mean stroke width; it tells a
    bold title from an author line of the same size.
    """
    if not lines:
        return
    dt = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_5)
    ridge = ((dt >= cv2.dilate(dt, np.ones((3, 3), np.uint8))) & (dt > 0)).view(np.uint8)
    for ln in lines:
        r = int(cv2.countNonZero(ridge[ln.y0:ln.y1, ln.x0:ln.x1]))
        ink = int(cv2.countNonZero(mask[ln.y0:ln.y1, ln.x0:ln.x1]))
        ln.weight = ink / r / ln.glyph if r else 0.0


def _lines_in_class(hmap: np.ndarray, stats: np.ndarray, sel: np.ndarray, size: float,
                    light: bool) -> list[Line]:
    idx = np.flatnonzero(sel)
    # Work only inside the rows these glyphs occupy: most classes are sparse.
    y0 = int(stats[idx, 1].min())
    y1 = int((stats[idx, 1] + stats[idx, 3]).max())
    # Big glyphs need no fine grid to be grouped: subsample (cheaper morphology
    # and labelling); glyph statistics still come from the full-grid components.
    r = max(1, int(size // 12))
    k = max(3, int(round(size * 1.2 / r)))
    # ... and the columns, with room for the closing (2k: the crop's border
    # stays beyond its reach, so the closed mask is what the full width gives).
    # The first column is even: labels are numbered in the raster order of 2x2
    # blocks, which an odd shift would regroup.
    cols = -(-hmap.shape[1] // r)  # columns of the subsampled grid
    c0 = max(0, int(stats[idx, 0].min()) // r - 2 * k) & ~1
    c1 = min(cols, -(-int((stats[idx, 0] + stats[idx, 2]).max()) // r) + 2 * k)
    m = cv2.inRange(hmap[y0:y1:r, c0 * r:c1 * r:r], int(np.ceil(size / 1.5)), int(size * 1.5))
    # Bridge letter and word gaps (about half a glyph) but not column gaps.
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    n, lab2, st2 = components(m)
    st2[:, 0] += c0
    st2 = st2 * r
    # Which line each glyph fell into: the label under its centre -- or, for
    # a hollow centre left open by the closing ("C" before a wide gap), under
    # a point nearer its left or right edge.
    gy = np.minimum((stats[idx, 1] + stats[idx, 3] // 2 - y0) // r, lab2.shape[0] - 1)
    owner = np.zeros(len(idx), dtype=np.int64)  # (labels may be uint16)
    for fx in (0.5, 0.15, 0.85):
        gx = np.minimum((stats[idx, 0] + (stats[idx, 2] * fx).astype(np.int64)) // r, cols - 1) - c0
        owner = np.where(owner == 0, lab2[gy, gx], owner)
    tops = stats[idx, 1]
    bottoms = tops + stats[idx, 3]
    fills = stats[idx, 4] / np.maximum(stats[idx, 2] * stats[idx, 3], 1)
    base = _group_quantile(owner, bottoms, n, 0.5)
    # Height above the baseline: x-height for most lowercase letters, ~1.37x
    # that for capitals and ascenders (superscripts too, which is harmless).
    above = base[owner] - tops
    xh = _group_quantile(owner, above, n, 0.25)
    # Tallest glyph, ignoring outliers (a logo bit or two touching letters).
    tall = np.zeros(n)
    np.maximum.at(tall, owner, np.where(above <= 1.8 * xh[owner], above, 0))
    fill = _group_quantile(owner, fills, n, 0.5)
    aspect = _group_quantile(owner, stats[idx, 2] / np.maximum(stats[idx, 3], 1), n, 0.5)
    counts = np.bincount(owner, minlength=n)
    out: list[Line] = []
    for j in range(1, n):
        if counts[j] < 2:
            continue
        # Cap height, measured the same way for every mixed-case line whatever
        # its share of capitals ("Do Tokenizers" vs "Really Scale?"); an
        # all-caps or all-lowercase line measures its own glyph height.
        glyph = float(xh[j] * (CAP_PER_X if tall[j] >= 1.15 * xh[j] else 1.0))
        lx, ly, lw, lh = (int(v) for v in st2[j, :4])
        # A "line" much taller than its glyphs is a picture, QR code or table;
        # one of solid blocks (median glyph fills its box) or of tall thin
        # shapes is a bar chart.  Small bold letters, blurred, fill ~0.8-0.85
        # of their box ("s", "a", "e" become blobs); bars fill it all.  (Wide
        # shapes are fine: small bold serif letters fuse into word-long components.)
        if glyph < 3 or lh > glyph * 2.2 or lw < glyph * 1.5 or fill[j] > 0.9 or not 0.33 <= aspect[j] <= 3.5:
            continue
        # Vertically, the line is its baseline plus room for capitals and
        # descenders: a taller logo word caught at its end must not stretch
        # it into the author line below.
        top = max(ly + y0, int(base[j] - 1.3 * glyph))
        bottom = min(ly + y0 + lh, int(np.ceil(base[j] + 0.45 * glyph)))
        out.append(Line(lx, top, lx + lw, bottom, glyph, int(counts[j]), light, base=float(base[j])))
    return out


def _group_quantile(owner: np.ndarray, values: np.ndarray, n: int, q: float) -> np.ndarray:
    """Per-group quantile (lower element) of *values* grouped by *owner* in 0..n-1."""
    order = np.lexsort((values, owner))
    own, val = owner[order], values[order]
    starts = np.searchsorted(own, np.arange(n))
    counts = np.searchsorted(own, np.arange(n), side="right") - starts
    pick = np.clip(starts + (q * np.maximum(counts - 1, 0)).astype(np.int64), 0, max(len(val) - 1, 0))
    out = np.zeros(n, dtype=np.float64)
    if len(val):
        out = val[pick].astype(np.float64)
    return out


def _dedupe(lines: list[Line]) -> list[Line]:
    """The same line found in two height classes: keep the one with more glyphs."""
    if not lines:
        return []
    lines.sort(key=lambda ln: (-ln.n, -ln.width))
    b = np.array([(ln.x0, ln.y0, ln.x1, ln.y1) for ln in lines], dtype=np.int64)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    ix = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    covered = ix * iy > 0.5 * area[:, None]  # [i, j]: line i mostly inside line j
    # A taller word beside a two-line title (a conference logo) bridges both
    # title rows in its height class into one "line" with more glyphs than
    # either row, and a glyph size measured over both rows (85 px for 35 px
    # letters).  A line holding two rows of far smaller glyphs stacked one
    # above the other is such a merge, not a line: the rows stay, it goes.
    # (A logo's "NAACL" over its smaller "2025" holds a row as large as itself.)
    height = b[:, 3] - b[:, 1]
    glyph = np.array([ln.glyph for ln in lines])
    rows = covered & (height[:, None] >= 0.3 * height[None]) & (glyph[:, None] <= 0.67 * glyph[None])
    merged = np.zeros(len(lines), bool)
    for j in np.flatnonzero(rows.sum(axis=0) >= 2):
        r = b[rows[:, j]]
        # Two of them stacked: they overlap vertically by less than a fifth (tight leading).
        vo = np.minimum(r[:, None, 3], r[None, :, 3]) - np.maximum(r[:, None, 1], r[None, :, 1])
        hh = r[:, 3] - r[:, 1]
        merged[j] = bool(np.any(vo < 0.2 * np.minimum(hh[:, None], hh[None])))
    covered &= ~merged[None, :]
    keep = np.zeros(len(lines), bool)
    for i in range(len(lines)):
        keep[i] = not np.any(covered[i, :i] & keep[:i])
    return [ln for ln, kp, mg in zip(lines, keep, merged) if kp and not mg]


def _join_rows(lines: list[Line]) -> list[Line]:
    """Merge pieces of one line that a wide gap (comma + spaces) left apart."""
    if len(lines) < 2:
        return lines
    lines = sorted(lines, key=lambda ln: ln.x0)
    b = np.array([(ln.x0, ln.y0, ln.x1, ln.y1, ln.glyph, ln.light) for ln in lines], dtype=np.float64)
    x0, y0, x1, y1, g, lt = (b[:, i] for i in range(6))
    vo = np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None])
    hh = y1 - y0
    ratio = g[:, None] / g[None]
    # [i, j] with i left of j: j starts within 1.6 glyphs after i ends.
    gap = x0[None] - x1[:, None]
    join = ((vo > 0.6 * np.minimum(hh[:, None], hh[None])) & (ratio >= 0.7) & (ratio <= 1.43)
            & (gap < 1.6 * np.maximum(g[:, None], g[None])) & (lt[:, None] == lt[None]))
    join &= np.triu(np.ones_like(join), 1).astype(bool)
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(join)):
        parent[root(int(j))] = root(int(i))
    groups: dict[int, list[Line]] = {}
    for i, ln in enumerate(lines):
        groups.setdefault(root(i), []).append(ln)
    out = []
    for grp in groups.values():
        n = sum(ln.n for ln in grp)
        out.append(Line(min(ln.x0 for ln in grp), min(ln.y0 for ln in grp), max(ln.x1 for ln in grp),
                        max(ln.y1 for ln in grp), sum(ln.glyph * ln.n for ln in grp) / n, n, grp[0].light,
                        base=sum(ln.base * ln.n for ln in grp) / n))
    return out


def _blocks(lines: list[Line]) -> list[Block]:
    """Stack lines of similar glyph height that follow each other closely."""
    blocks: list[Block] = []
    open_: list[Block] = []  # blocks whose last line is still close enough to extend
    for ln in sorted(lines, key=lambda ln: ln.y0):
        open_ = [b for b in open_ if ln.y0 - b.lines[-1].y1 <= 1.2 * b.glyph]
        for b in open_:
            last = b.lines[-1]
            ref = b.glyph
            ratio = ln.glyph / ref
            overlap = min(ln.x1, b.box[2]) - max(ln.x0, b.box[0])
            # A short line may lack capitals/ascenders ("ones"): its glyphs
            # read smaller, and a block of only short lines reads too small.
            low = 0.65 if ln.n <= 8 else 0.8
            high = 1.5 if b.short_only else 1.25
            # A bold title and a regular author line of the same size stay apart.
            # Weight is a noisy measure (0.75 between lines of one title is
            # seen), so only a line both lighter and smaller counts as other type.
            wr = (ln.weight + 0.01) / (b.weight + 0.01)
            same_weight = 0.65 <= wr <= 1.55 and not (wr < 0.8 and ratio < 0.95)
            if (b.light == ln.light and low <= ratio <= high and ln.y0 - last.y1 >= -0.3 * ref
                    and overlap > 0.3 * min(ln.width, last.width) and same_weight):
                b.add(ln)
                break
        else:
            blk = Block(ln)
            blocks.append(blk)
            open_.append(blk)
    return blocks

"""Stage 3: read the poster's title.

Tesseract on a whole poster is slow (seconds) and its reading order mixes the
title with logos and body text, so we find the title ourselves, cheaply, on a
~1200 px copy:

1. separate text from background for both polarities (dark text on a light
   page, light text on a dark header band) against a median-filtered
   background estimate;
2. connected components = glyphs; glyphs of similar height that sit side by
   side merge into *lines* (horizontal closing, one pass per height class),
   each with a cap height and a stroke weight (bold or regular);
3. adjacent lines of similar size and weight form *blocks*; the title is the
   block with large, high-contrast text near the top, ideally sitting on a
   smaller or lighter author block;
4. Tesseract runs once on a stack of the winner and the start of the block
   beneath it, each cut from the full-resolution poster and rescaled so its
   capitals are ~42 px tall; words go back to their block by position.  Only
   when the winner reads as a sentence (a tagline or headline question) is the
   real title looked for above the author list, which may take a second call.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import _tesseract
from .records import TitleReading
from .titletext import clean_title, looks_like_authors, reads_as_sentence, reads_as_title

WORK_WIDTH = 1200  # layout analysis resolution (px across the poster)
TARGET_GLYPH = 42.0  # cap height handed to Tesseract (x-height then ~30 px)
CONTRAST = 28  # grey levels a glyph must differ from its local background
CAP_PER_X = 1.37  # cap height / x-height of common poster fonts (DejaVu 1.33, Liberation 1.38)
PROBE_GLYPHS = 16  # how much of an author line is read to recognise it (in glyph heights)
GAP = 40  # white rows between stacked candidates in the OCR image
# A guessed title is reported below the draft's flag threshold (draft.FLAG_BELOW = 0.5),
# so the user is asked to check it and can pick the alternative.
GUESS_CONFIDENCE = 0.45

EMPTY = TitleReading("", 0.0, ())


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

    @property
    def width(self) -> int:
        return self.x1 - self.x0


class Block:
    """Adjacent lines of similar size; geometry kept up to date as lines are added."""

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


# --------------------------------------------------------------------------- entry point


def read_title(poster: np.ndarray, *, timeout: float = 20.0) -> TitleReading:
    """Read the title of a perspective-corrected RGB (or grey) uint8 poster image.

    Returns ``TitleReading("", 0.0, ())`` when nothing title-like is found.
    Raises :class:`~posterocr.exceptions.OcrError` when Tesseract fails or
    exceeds *timeout* seconds (per call; at most two calls), and
    :class:`~posterocr.exceptions.MissingDependency` when it is not installed.
    """
    if poster.ndim not in (2, 3) or poster.shape[0] < 16 or poster.shape[1] < 16:
        return EMPTY
    grey = cv2.cvtColor(poster, cv2.COLOR_RGB2GRAY) if poster.ndim == 3 else poster
    small, k = _downscale(grey)
    dark, light, diff = _text_masks(small)
    lines = _find_lines(dark, False) + _find_lines(light, True)
    blocks = _blocks(lines)
    ranked, body = _rank(blocks, diff)
    if not ranked:
        return EMPTY
    best = _join_row(ranked[0], blocks)
    runner = ranked[1].score if len(ranked) > 1 else 0.0
    # One Tesseract call for the usual layout: the winner and the block right
    # beneath it -- only the start of it when it is set lighter than the
    # winner (an author line: read just enough to recognise names), all of it
    # when it is as bold (a subtitle, or the real title under a big tagline).
    below = best.below
    cands: list[Block] = [best]
    probes: tuple[Block, ...] = ()
    if below is not None and len(below.lines) <= 4:
        cands.append(below)
        if below.weight < 0.8 * best.weight:
            probes = (below,)
    _ocr(grey, k, cands, timeout, probes)
    if below is not None and below.text_lines and all(looks_like_authors(t) for t in below.text_lines):
        return _reading(best, runner)  # the title sits right on its author line
    if not reads_as_sentence(best.text):
        alt = ""
        if below is not None and not below.partial and not _authorish(below) and _is_wordy(below.text):
            alt = below.text  # a subtitle
        return _reading(best, runner, alt)
    # A tagline or question headline: the title is the block directly above
    # the author list -- right under the headline, or elsewhere on the page
    # (a footer band).  One more Tesseract call reads those candidates and
    # the start of the blocks beneath them, to see which sits on names.
    # Right under the headline -- or one block further down, past a stray
    # piece of the headline (a last line cut off by tape or a hand).
    chain = [below, below.below if below is not None and not _title_under(below, best) else None]
    cands = [c for c in chain if c is not None and _title_under(c, best)][:1]
    cands += [o for o in _author_backed(blocks, best, body)[:2] if o not in cands]
    foot = _footer_title(blocks, best, small.shape[0])
    if foot is not None and not any(_same_row(foot, c) for c in cands):
        cands.append(foot)
    todo = [c for c in cands if not c.text_lines or c.partial]
    unread: list[Block] = []
    for c in cands:
        if c.below is not None and not c.below.text_lines and c.below not in todo + unread:
            unread.append(c.below)
    if todo or unread:
        _ocr(grey, k, todo + unread, timeout, probes=tuple(unread))
    glued: set[Block] = set()
    for c in cands:  # names that layout analysis glued under a title are evidence too
        lines_read = len(c.text_lines)
        _drop_trailing_authors(c)
        if len(c.text_lines) < lines_read:
            glued.add(c)
    titles = [c for c in cands if _is_wordy(c.text) and not _authorish(c)]
    for c in titles:
        if c in glued or _authorish(c.below):
            return _reading(c, runner, best.text, guessed=True)
    # No candidate sits on names that OCR could read (small, blurred or
    # half-hidden author lines are common in photos): a candidate that reads
    # as a title -- title-cased or "Name: ...", not another sentence -- still
    # beats a sentence.  Otherwise keep the headline and offer the likeliest.
    for c in titles:
        if reads_as_title(c.text) and _confidence(c) >= 0.6:  # a clean read, not blur read as words
            return _reading(c, runner, best.text, guessed=True)
    titles = [c for c in titles if len(c.text.split()) >= 2]
    return _reading(best, runner, titles[0].text if titles else "", guessed=bool(titles))


def _title_under(b: Block, headline: Block) -> bool:
    """Could *b*, right under a headline, be the paper title (not a section heading)?

    Its author line is not required here: under blur it is often too small to
    be found; OCR decides (it sits on names, or at least reads as a title).
    """
    hx0, _, hx1, _ = headline.box
    x0, _, x1, _ = b.box
    return b.n >= 12 and b.glyph >= 0.33 * headline.glyph and x1 - x0 >= 0.25 * (hx1 - hx0) and len(b.lines) <= 4


def _same_row(a: Block, b: Block) -> bool:
    return min(a.box[3], b.box[3]) - max(a.box[1], b.box[1]) > 0.5 * min(a.box[3] - a.box[1], b.box[3] - b.box[1])


def _footer_title(blocks: list[Block], headline: Block, h: int) -> Block | None:
    """The widest big line in the bottom fifth of the page: where posters that lead
    with a question print the paper title, in a footer band with the authors.

    Layout analysis may split one line at a wide gap ("Name:  rest"), so the
    pieces on its row are joined into one block.
    """
    found = [b for b in blocks if b.box[1] > 0.8 * h and b.n >= 6 and len(b.lines) <= 3
             and b.glyph >= 0.3 * headline.glyph]
    if not found:
        return None
    return _join_row(max(found, key=lambda b: b.glyph * (b.box[2] - b.box[0])), blocks)


def _join_row(seed: Block, blocks: list[Block]) -> Block:
    """*seed* plus the pieces of its line(s) that a gap split off: tape or a
    finger across a title, or a wide "Name:  rest" gap.  Pieces must be of the
    same size and polarity and within 4 glyphs; logos beside a title are
    farther off (and _trim_edges drops stray runs anyway).
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
            if by0 < y0 - 0.3 * g or by1 > y1 + 0.3 * g or max(bx0 - x1, x0 - bx1) > 4 * g:
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
    joined.below = _next_below(joined, blocks)
    return joined


# --------------------------------------------------------------------------- layout


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


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    # Grana's algorithm: same result, ~3x faster with stats than OpenCV's default here.
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    return count, labels, stats


def _find_lines(mask: np.ndarray, light: bool) -> list[Line]:
    """Group glyph components of similar height into text lines."""
    h, w = mask.shape
    count, labels, stats = _components(mask)
    if count <= 1:
        return []
    x, y, cw, ch, area = (stats[:, i] for i in range(5))
    # Things touching the edge are wall, tape or the poster's frame, not text.
    touches = (x <= 1) | (y <= 1) | (x + cw >= w - 1) | (y + ch >= h - 1)
    fill = area / np.maximum(cw * ch, 1)
    glyphlike = (ch >= 5) & (ch <= min(w * 0.12, 250)) & (cw <= ch * 4) & (fill > 0.08) & ~touches
    glyphlike[0] = False
    # Paint each glyph with its height: a class of heights is then one inRange.
    heights = np.where(glyphlike, ch, 0).astype(np.uint8)
    hmap = heights[labels]
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
    lines = _join_rows(_dedupe(lines))
    _measure_weight(mask, lines)
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
    m = cv2.inRange(hmap[y0:y1:r, ::r], int(np.ceil(size / 1.5)), int(size * 1.5))
    # Bridge letter and word gaps (about half a glyph) but not column gaps.
    k = max(3, int(round(size * 1.2 / r)))
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    n, lab2, st2 = _components(m)
    st2 = st2 * r
    # Which line each glyph fell into: the label under its centre -- or, for
    # a hollow centre left open by the closing ("C" before a wide gap), under
    # a point nearer its left or right edge.
    gy = np.minimum((stats[idx, 1] + stats[idx, 3] // 2 - y0) // r, lab2.shape[0] - 1)
    owner = np.zeros(len(idx), dtype=lab2.dtype)
    for fx in (0.5, 0.15, 0.85):
        gx = np.minimum((stats[idx, 0] + (stats[idx, 2] * fx).astype(np.int64)) // r, lab2.shape[1] - 1)
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
        # shapes is a bar chart.  (Wide shapes are fine: small bold serif
        # letters fuse into word-long components.)
        if glyph < 3 or lh > glyph * 2.2 or lw < glyph * 1.5 or fill[j] > 0.8 or not 0.33 <= aspect[j] <= 3.5:
            continue
        # Vertically, the line is its baseline plus room for capitals and
        # descenders: a taller logo word caught at its end must not stretch
        # it into the author line below.
        top = max(ly + y0, int(base[j] - 1.3 * glyph))
        bottom = min(ly + y0 + lh, int(np.ceil(base[j] + 0.45 * glyph)))
        out.append(Line(lx, top, lx + lw, bottom, glyph, int(counts[j]), light))
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
    keep = np.zeros(len(lines), bool)
    for i in range(len(lines)):
        keep[i] = not np.any(covered[i, :i] & keep[:i])
    return [ln for ln, kp in zip(lines, keep) if kp]


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
                        max(ln.y1 for ln in grp), sum(ln.glyph * ln.n for ln in grp) / n, n, grp[0].light))
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


def _rank(blocks: list[Block], diff: np.ndarray) -> tuple[list[Block], float]:
    """Score title-likeness; return plausible blocks, best first, and the body glyph size."""
    h, w = diff.shape
    if not blocks:
        return [], 0.0
    # Typical text size on the page: what the title must clearly exceed.
    glyphs = np.array([b.glyph for b in blocks])
    counts = np.array([b.n for b in blocks])
    body = float(np.median(np.repeat(glyphs, counts)))
    out = []
    for b in blocks:
        x0, y0, x1, y1 = b.box
        g = b.glyph
        # Only text well above body size can be a title (or hide one under a headline).
        if g < 1.25 * body:
            continue
        b.below = _next_below(b, blocks)
        # A title has words: a row of 3-5 logos, rings or QR squares does not.
        if max(ln.n for ln in b.lines) < 6 or x1 - x0 < 0.12 * w or g < 0.01 * w:
            continue
        if y0 > 0.6 * h:
            continue  # kept out of the ranking, but _author_backed may still pick it
        size = g / max(body, 1.0)
        pos = 1.0 if y0 < 0.2 * h else max(0.25, 1.0 - 2.5 * (y0 / h - 0.2))
        width = min(1.0, (x1 - x0) / (0.3 * w)) ** 0.5
        nlines = 1.0 if len(b.lines) <= 4 else 0.6
        author = 1.25 if _has_author_geometry(b) else 1.0
        # Titles are set in strong contrast; shaded figures (rings, photos) are not.
        contrast = min(1.0, max(0.1, (_contrast(b, diff) - 80.0) / 80.0))
        # A title runs to a few words; a logo word ("EMNLP", "ICML 2025") is short.
        chars = min(1.0, b.n / 15) ** 0.5
        b.score = g * pos * width * nlines * author * contrast * chars * min(1.0, size / 1.5)
        out.append(b)
    for b in out:
        # Right under clearly larger type: an author line or subtitle, not the title
        # (it can still win when it is the only big text, or via the tagline rule).
        if b.below is not None and b.below in out and b.below.glyph * 1.5 <= b.glyph:
            b.below.score *= 0.5
    out.sort(key=lambda b: -b.score)
    return out, body


def _contrast(b: Block, diff: np.ndarray) -> float:
    """90th percentile of |text - background| over the block's text pixels."""
    x0, y0, x1, y1 = b.box
    d = diff[y0:y1, x0:x1]
    d = d[d > CONTRAST] if b.light else -d[d < -CONTRAST]
    return float(np.percentile(d, 90)) if d.size else 0.0


def _has_author_geometry(b: Block) -> bool:
    """A short block of clearly smaller text right beneath: names and affiliations."""
    if b.below is None or len(b.below.lines) > 5:  # names may wrap to 3-4 lines, then affiliations
        return False
    ratio = b.below.glyph / b.glyph
    # Smaller, or as large but clearly lighter type (a bold title over regular names).
    return 0.3 <= ratio <= 0.85 or (ratio <= 1.05 and b.below.weight < 0.8 * b.weight)


def _author_backed(blocks: list[Block], best: Block, body: float) -> list[Block]:
    """Other big blocks sitting on an author-like block, anywhere on the page, best first.

    Under a headline question, that is where the paper title hides (e.g. a
    footer band with the authors).
    """
    found = []
    for b in blocks:
        if b is best:
            continue
        # Clearly above body size -- or, when the body text is too small to be
        # found at all (a far or blurred photo), large next to the headline.
        if (b.glyph >= 0.3 * best.glyph and (b.glyph >= 1.25 * body or b.glyph >= 0.4 * best.glyph)
                and len(b.lines) <= 3
                and max(ln.n for ln in b.lines) >= 6 and _has_author_geometry(b)):
            found.append(b)
    found.sort(key=lambda b: -b.glyph * min(1.0, b.n / 15))
    return found


def _next_below(b: Block, blocks: list[Block]) -> Block | None:
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


# --------------------------------------------------------------------------- OCR


def _crop(grey: np.ndarray, k: int, b: Block, probe: bool = False) -> np.ndarray:
    """The block cut from the full-resolution grey image: dark text on light,
    scaled to TARGET_GLYPH, everything outside its lines blanked.

    *probe* keeps only the start of the first line: enough to tell names with
    affiliation marks from a title, at a fraction of the recognition time.
    """
    g = b.glyph
    # Line boxes already span ascenders to descenders: a little room above and
    # below (not into the next line, e.g. the authors), more at the sides.
    pad, pady = int(round(0.5 * g)), int(round(0.15 * g)) + 1
    lines = b.lines
    if probe:
        first = min(b.lines, key=lambda ln: ln.y0)
        lines = [Line(first.x0, first.y0, min(first.x1, int(first.x0 + PROBE_GLYPHS * g)), first.y1,
                      first.glyph, first.n, first.light)]
    x0, y0 = min(ln.x0 for ln in lines), min(ln.y0 for ln in lines)
    x1, y1 = max(ln.x1 for ln in lines), max(ln.y1 for ln in lines)
    H, W = grey.shape
    X0, Y0 = max(0, (x0 - pad) * k), max(0, (y0 - pady) * k)
    X1, Y1 = min(W, (x1 + pad) * k), min(H, (y1 + pady) * k)
    region = grey[Y0:Y1, X0:X1]
    if b.light:
        region = 255 - region
    # Blank the background around the lines so a nearby logo or QR code does
    # not turn into junk words; the background level is the region's bright mode.
    bgval = int(np.percentile(region, 90))
    out = np.full_like(region, bgval)
    for ln in lines:
        lx0, ly0 = max(0, (ln.x0 - pad) * k - X0), max(0, (ln.y0 - pady) * k - Y0)
        lx1, ly1 = (ln.x1 + pad) * k - X0, (ln.y1 + pady) * k - Y0
        out[ly0:ly1, lx0:lx1] = region[ly0:ly1, lx0:lx1]
    f = TARGET_GLYPH / (g * k)
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    out = cv2.resize(out, None, fx=f, fy=f, interpolation=interp)
    # Stretch so the background is white and the text near black.
    lo, hi = np.percentile(out, (2, 90))
    if hi - lo > 10:
        out = cv2.convertScaleAbs(out, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))
    return out


def _ocr(grey: np.ndarray, k: int, cands: list[Block], timeout: float, probes: tuple[Block, ...] = ()) -> None:
    """One Tesseract call over all candidates stacked vertically (*probes* only in part)."""
    crops = [_crop(grey, k, b, probe=b in probes) for b in cands]
    width = max(c.shape[1] for c in crops) + 2 * GAP
    height = sum(c.shape[0] for c in crops) + GAP * (len(crops) + 1)
    canvas = np.full((height, width), 255, np.uint8)
    spans = []
    y = GAP
    for c in crops:
        canvas[y:y + c.shape[0], GAP:GAP + c.shape[1]] = c
        spans.append((y, y + c.shape[0]))
        y += c.shape[0] + GAP
    words = _tesseract.image_to_data(canvas, psm=6, timeout=timeout)
    for b, (s0, s1) in zip(cands, spans):
        mine = [wd for wd in words if s0 <= wd.top + wd.height / 2 < s1]
        b.text_lines, b.confs = _lines_of(mine)
        b.partial = b in probes


def _lines_of(words: list[_tesseract.Word]) -> tuple[list[str], list[list[float]]]:
    """Group words into lines, dropping isolated junk at the line ends (logo bits)."""
    rows: dict[tuple[int, int, int], list[_tesseract.Word]] = {}
    for wd in words:
        rows.setdefault((wd.block, wd.par, wd.line), []).append(wd)
    texts: list[str] = []
    confs: list[list[float]] = []
    for key in sorted(rows, key=lambda r: min(w.top for w in rows[r])):
        row = sorted(rows[key], key=lambda w: w.left)
        row = _trim_edges(row)
        if row:
            texts.append(" ".join(w.text for w in row))
            confs.append([w.conf for w in row for _ in w.text])  # weighted by length
    return texts, confs


_KEEP_SHORT = {"a", "A", "I", "of", "to", "in", "on", "at", "by", "is", "as", "vs", "or", "an", "AI", "ML", "3D", "2D"}


def _alnum(words: list[_tesseract.Word]) -> int:
    return sum(ch.isalnum() for w in words for ch in w.text)


def _trim_edges(row: list[_tesseract.Word]) -> list[_tesseract.Word]:
    """Drop logo bits and stray marks at the ends of one OCR'd line."""
    if not row:
        return row
    # Split where the gap between words is far wider than a word space; the
    # longest run is the text, short runs at either end are logos or marks.
    height = float(np.median([w.height for w in row]))
    runs: list[list[_tesseract.Word]] = [[row[0]]]
    for prev, wd in zip(row, row[1:]):
        if wd.left - (prev.left + prev.width) > 0.8 * height:
            runs.append([])
        runs[-1].append(wd)
    main = max(range(len(runs)), key=lambda i: _alnum(runs[i]))

    def stray(run: list[_tesseract.Word]) -> bool:
        return _alnum(run) <= 5 or float(np.mean([w.conf for w in run])) < 50

    lo, hi = main, main
    while lo > 0 and not stray(runs[lo - 1]):
        lo -= 1
    while hi < len(runs) - 1 and not stray(runs[hi + 1]):
        hi += 1
    row = [w for run in runs[lo:hi + 1] for w in run]

    def junk(wd: _tesseract.Word) -> bool:
        if not any(ch.isalnum() for ch in wd.text):
            return True
        if _alnum([wd]) <= 4 and not 0.6 * height <= wd.height <= 1.6 * height:
            return True  # a short token out of scale with the line: logo text
        return len(wd.text) <= 2 and wd.text not in _KEEP_SHORT and wd.conf < 60

    while row and junk(row[0]):
        row = row[1:]
    while row and junk(row[-1]):
        row = row[:-1]
    return row


def _authorish(b: Block | None) -> bool:
    """Does any OCR'd line of *b* read as names or affiliations?"""
    return b is not None and any(looks_like_authors(t) for t in b.text_lines)


def _confidence(b: Block) -> float:
    confs = [c for line in b.confs for c in line]
    if not confs:
        return 0.0
    return float(np.clip(np.mean(confs) / 100.0, 0.0, 1.0))


def _drop_trailing_authors(b: Block) -> None:
    """An author line that layout analysis glued to the title: cut it off."""
    while len(b.text_lines) > 1 and looks_like_authors(b.text_lines[-1], strict=True):
        b.text_lines.pop()
        b.confs.pop()


def _is_wordy(text: str) -> bool:
    return sum(ch.isalpha() for ch in text) >= 4


def _reading(chosen: Block, runner: float, alternative: str = "", *, guessed: bool = False) -> TitleReading:
    _drop_trailing_authors(chosen)
    text = chosen.text
    if sum(ch.isalnum() for ch in text) < 3:
        return EMPTY
    conf = _confidence(chosen)
    # How clearly the block won, whether an author line backs it up, and
    # whether the tagline rule had to guess.
    margin = 1.0 - 0.4 * min(1.0, runner / chosen.score) ** 2 if chosen.score > 0 else 0.7
    support = 1.0 if _authorish(chosen.below) else 0.85
    confidence = conf * margin * support
    if guessed:
        confidence = min(confidence * 0.85, GUESS_CONFIDENCE)
    alts = (alternative,) if alternative and alternative != text else ()
    return TitleReading(text, round(confidence, 3), alts)

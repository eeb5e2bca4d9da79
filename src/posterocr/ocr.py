"""Stage 3: read the poster's title.

Tesseract on a whole poster is slow (seconds) and its reading order mixes the
title with logos and body text, so we find the title ourselves, cheaply:

1. layout.py finds text lines and blocks of similar size and weight, both
   polarities, on a ~1200 px copy;
2. the title is the block with large, high-contrast text near the top,
   ideally sitting on a smaller or lighter author block;
3. Tesseract runs once on a stack of the winner and the start of the block
   beneath it, each cut from the full-resolution poster and rescaled so its
   capitals are ~42 px tall; words go back to their block by position.  When
   the winner reads as a sentence (a tagline or headline question), the real
   title is looked for above the author list.  Its candidates are read in that
   same call when nothing lighter sits under the winner (how a tagline looks);
   otherwise, if needed, in a second call;
4. a winner that reads as no words (an arm, a photo) gives way to the next
   block, and a reading with words that look cut apart (tape, a finger) is
   reported as a guess, below the draft's flag threshold.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from . import _tesseract, layout
from .layout import Block, Line
from .records import TitleReading
from .titletext import garbled_words, looks_like_authors, reads_as_sentence, reads_as_title, runs_on

TARGET_GLYPH = 42.0  # cap height handed to Tesseract (x-height then ~30 px)
PROBE_GLYPHS = 16  # how much of an author line is read to recognise it (in glyph heights)
SHADED = 0.8  # a crop whose background falls below this share of its median somewhere is shaded
GAP = 40  # white rows between stacked candidates in the OCR image
PARTIAL = 0.5  # a winner read to less than this share of its lines' room is a partial read (_coverage)
FOREIGN = 0.5  # words below this share of TARGET_GLYPH tall are other, smaller text (see _other_text)
# A guessed title is reported below the draft's flag threshold (draft.FLAG_BELOW = 0.5),
# so the user is asked to check it and can pick the alternative.
GUESS_CONFIDENCE = 0.45

EMPTY = TitleReading("", 0.0, ())


# --------------------------------------------------------------------------- entry point


def read_title(poster: np.ndarray, *, timeout: float = 20.0) -> TitleReading:
    """Read the title of a perspective-corrected RGB (or grey) uint8 poster image.

    Returns ``TitleReading("", 0.0, ())`` when nothing title-like is found.
    Raises :class:`~posterocr.exceptions.OcrError` when Tesseract fails or
    exceeds *timeout* seconds (per call; at most three calls, the third for a
    title line that runs on; six when the first winner reads as no words), and
    :class:`~posterocr.exceptions.MissingDependency` when it is not installed.
    """
    if poster.ndim not in (2, 3) or poster.shape[0] < 16 or poster.shape[1] < 16:
        return EMPTY
    grey = cv2.cvtColor(poster, cv2.COLOR_RGB2GRAY) if poster.ndim == 3 else poster
    lay = layout.analyse(grey)
    ranked, body = _rank(lay.blocks, lay.diff)
    # The winner can be no text at all: an arm across the poster, a photo or a drawing,
    # whose parts layout analysis takes for a few huge letters. When it reads as no
    # words the next candidate gets its turn (Tesseract runs again, so only once), as a guess.
    for attempt in range(2):
        if not ranked:
            break
        reading = _read_ranked(grey, lay, ranked, body, timeout)
        if reading.text:
            if attempt:
                reading = replace(reading, confidence=min(reading.confidence, GUESS_CONFIDENCE))
            return reading
        ranked = ranked[1:]
    return EMPTY


def _read_ranked(grey: np.ndarray, lay: layout.Layout, ranked: list[Block], body: float,
                 timeout: float) -> TitleReading:
    """The title, with ranked[0] as the winner (EMPTY when it reads as no words)."""
    blocks, k = lay.blocks, lay.k
    best = layout.join_row(ranked[0], blocks)
    runner = ranked[1].score if len(ranked) > 1 else 0.0
    # One Tesseract call for the usual layout: the winner and the block right
    # beneath it -- only the start of it when it is set lighter than the
    # winner (an author line: read just enough to recognise names), all of it
    # when it is as bold (a subtitle, or the real title under a big tagline).
    if best.below is not None:  # a subtitle or title under a headline can be split by tape too
        best.below = layout.join_row(best.below, blocks)
    below = best.below
    cands: list[Block] = [best]
    probes: tuple[Block, ...] = ()
    if below is not None and len(below.lines) <= 4:
        cands.append(below)
        if below.weight < 0.8 * best.weight:
            probes = (below,)
    # No lighter line right under the winner (author names are set lighter than
    # a title) is how a tagline or headline question looks: the tagline rule's
    # candidates are read in this same call, as a second Tesseract start costs
    # ~0.1 s CPU.  (Under a title with bold author names they are read for nothing.)
    first = list(cands)
    tagline: list[Block] | None = None
    if not probes:
        tagline = _tagline_cands(blocks, best, below, body, lay.shape[0])
        more = [c for c in tagline if c not in first]
        under = _unread_below(first + more, first + more)
        cands += more + under
        probes = tuple(under)
    _ocr(grey, k, cands, timeout, probes, diff=lay.diff)
    if runs_on(best.text):  # its last line was split off by layout analysis
        _join_run_on(grey, k, best, blocks, timeout, lay.diff)
        below = best.below
    if below is not None and below.text_lines and all(looks_like_authors(t) for t in below.text_lines):
        return _reading(best, runner)  # the title sits right on its author line
    # Tape or a hand over a headline question can leave a few words that no
    # longer read as a sentence ("Can a tiny model" of "Can a tiny model draft
    # for a giant one?"), and a pixel's shift decides how many.  A read that
    # covers well under half of what its lines hold is not trusted to be the
    # title: the headline rule looks for the title as it would for a sentence.
    if not reads_as_sentence(best.text) and _coverage(best) >= PARTIAL:
        alt = ""
        if below is not None and not below.partial and not _authorish(below) and _is_wordy(below.text):
            alt = below.text  # a subtitle
        return _reading(best, runner, alt)
    # A tagline or question headline: the title is the block directly above
    # the author list -- right under the headline, or elsewhere on the page
    # (a footer band).  Unless the first call read them, one more reads those
    # candidates and the start of the blocks beneath them, to see which sits on names.
    cands = tagline if tagline is not None else _tagline_cands(blocks, best, below, body, lay.shape[0])
    todo = [c for c in cands if not c.read or c.partial]  # (one that read as nothing would again)
    unread = _unread_below(cands, todo)
    if todo or unread:
        _ocr(grey, k, todo + unread, timeout, probes=tuple(unread), diff=lay.diff)
    found, titles = _title_on_names(cands)
    if found is not None:
        return _reading(found, runner, best.text, guessed=True)
    # No candidate sits on names that OCR could read (small, blurred or
    # half-hidden author lines are common in photos): a candidate that reads
    # as a title -- title-cased or "Name: ...", not another sentence -- still
    # beats a sentence.  Otherwise keep the headline and offer the likeliest.
    for c in titles:
        if reads_as_title(c.text) and _confidence(c) >= 0.6:  # a clean read, not blur read as words
            return _reading(c, runner, best.text, guessed=True)
    titles = [c for c in titles if len(c.text.split()) >= 2]
    # Still a guess without an alternative: a headline that reads as a sentence is
    # rarely the title, and the real one was not found (hidden, out of frame, blurred).
    return _reading(best, runner, titles[0].text if titles else "", guessed=True)


def _join_run_on(grey: np.ndarray, k: int, best: Block, blocks: list[Block], timeout: float,
                 diff: np.ndarray) -> None:
    """A title line ending on "of" or "for" goes on below: take that line into the title.

    Layout analysis splits a title whose short last line measures lighter or
    smaller (fewer capitals, blur): "When Do Vision Encoders Forget? A Study of"
    over "Fine-Tuning". Only a title-sized line of words right under it, not
    the author line, is taken; it is read in full first unless it was.
    """
    x0, _, x1, y1 = best.box
    g = best.glyph
    nxt = min((o for o in blocks if o is not best and len(o.lines) <= 2 and 0.7 * g <= o.glyph <= 1.3 * g
               and -0.2 * g <= o.box[1] - y1 < g
               and min(x1, o.box[2]) - max(x0, o.box[0]) > 0.5 * (o.box[2] - o.box[0])),
              key=lambda o: o.box[1], default=None)
    if nxt is None:
        return
    if nxt.partial or not nxt.read:
        _ocr(grey, k, [nxt], timeout, diff=diff)
    if not _is_wordy(nxt.text) or _authorish(nxt):
        return
    best.text_lines = best.text_lines + nxt.text_lines
    best.confs = best.confs + nxt.confs
    best.below = nxt.below


def _tagline_cands(blocks: list[Block], best: Block, below: Block | None, body: float, h: int) -> list[Block]:
    """Where the paper title sits when the winner is a tagline or headline question.

    Right under the headline -- or one block further down, past a stray piece
    of the headline (a last line cut off by tape or a hand); over an author
    block elsewhere; or in a footer band.
    """
    chain = [below, below.below if below is not None and not _title_under(below, best) else None]
    cands = [c for c in chain if c is not None and _title_under(c, best)][:1]
    cands += [o for o in _author_backed(blocks, best, body)[:2] if not any(_same_row(o, c) for c in cands)]
    foot = _footer_title(blocks, best, h)
    if foot is not None and not any(_same_row(foot, c) for c in cands):
        cands.append(foot)
    return cands


def _title_on_names(cands: list[Block]) -> tuple[Block | None, list[Block]]:
    """The first read candidate that sits on names, and all that read as wordy non-names."""
    glued: set[Block] = set()
    for c in cands:  # names that layout analysis glued under a title are evidence too
        lines_read = len(c.text_lines)
        _drop_trailing_authors(c)
        if len(c.text_lines) < lines_read:
            glued.add(c)
    titles = [c for c in cands if _is_wordy(c.text) and not _authorish(c)]
    for c in titles:
        if c in glued or _authorish(c.below):
            return _with_line_above(c, titles), titles
    return None, titles


def _coverage(b: Block) -> float:
    """Characters read over the characters *b*'s lines hold (~1.5 per glyph height of width)."""
    room = sum(_room(ln) for ln in b.lines)
    return len(b.text) / room if room > 0 else 1.0


def _room(ln: Line) -> float:
    """How many glyphs a line's width holds (~1.5 per glyph height)."""
    return 1.5 * (ln.x1 - ln.x0) / ln.glyph


def _with_line_above(c: Block, read: list[Block]) -> Block:
    """*c* with the read candidate right above it when that is the start of the same title.

    Stroke weight is a noisy measure, so one title's lines may land in two
    blocks ("RAG-DPO: data-free" / "benchmarks made simple"); the one on the
    names is then only the title's end.  A line set tight above it in about
    the same size is its start (a tagline above a title is far larger).
    """
    for a in read:
        if (a is not c and a.below is not None and a.below.lines[0] is c.lines[0] and a.light == c.light
                and 0.8 <= c.glyph / a.glyph <= 1.25 and c.box[1] - a.box[3] < 0.8 * a.glyph):
            joined = Block(a.lines[0])
            for ln in a.lines[1:] + c.lines:
                joined.add(ln)
            joined.score, joined.below = max(a.score, c.score), c.below
            joined.text_lines, joined.confs = a.text_lines + c.text_lines, a.confs + c.confs
            return joined
    return c


def _unread_below(cands: list[Block], todo: list[Block]) -> list[Block]:
    """The blocks right under *cands* not read yet (nor about to be): their start tells names from text."""
    unread: list[Block] = []
    for c in cands:
        if c.below is not None and not c.below.read and c.below not in todo + unread:
            unread.append(c.below)
    return unread


def _title_under(b: Block, headline: Block) -> bool:
    """Could *b*, right under a headline, be the paper title (not a section heading)?

    Its author line is not required here: under blur it is often too small to
    be found; OCR decides (it sits on names, or at least reads as a title).
    """
    hx0, _, hx1, _ = headline.box
    x0, _, x1, _ = b.box
    # Twelve glyphs or more (a section heading, "Takeaways", is shorter).
    return (_glyph_count(b) >= 12 and b.glyph >= 0.33 * headline.glyph and x1 - x0 >= 0.25 * (hx1 - hx0)
            and len(b.lines) <= 4)


def _glyph_count(b: Block) -> float:
    """Glyphs in *b* -- or as many as its lines' width holds.

    Blur fuses bold letters into fewer components: "Do Neural Fields Really
    Lie?" counted 9, a footer title 2 + 3 pieces, and a pixel's shift of the
    corners changes how many fuse.  Its width (~1.5 glyphs per glyph height)
    does not jump like that.
    """
    counts = [max(ln.n, _room(ln)) for ln in b.lines]
    return max(b.n, sum(counts))


def _same_row(a: Block, b: Block) -> bool:
    return layout.same_row((a.box[1], a.box[3]), (b.box[1], b.box[3]))


def _footer_title(blocks: list[Block], headline: Block, h: int) -> Block | None:
    """The biggest bold line in the bottom fifth of the page: where posters that
    lead with a question print the paper title, in a footer band with the authors.

    Only lines a dozen letters long: a lab's logo in the band ("BPR Lab") can be
    the biggest text there.  Layout analysis may split one line at a wide gap ("Name:  rest"), so the
    pieces on its row are joined into one block.
    """
    # Rows joined first: blur or tape split a small footer title into pieces
    # that one by one are neither wide nor long (three of 5, 5 and 13 glyphs).
    seeds = [b for b in blocks if b.box[1] > 0.8 * h and len(b.lines) <= 3 and b.glyph >= 0.3 * headline.glyph]
    # A title runs to a dozen letters; a logo ("BPR Lab") does not.
    found = [row for row in layout.join_row_each(seeds, blocks) if _glyph_count(row) >= 12]
    if not found:
        return None
    # The biggest, in bold: under blur the author line beneath can measure as
    # large as the title and run wider, but it is set lighter (as _has_author_geometry
    # assumes).  Weight only counts when clearly lighter: it is a noisy measure.
    bold = max(b.weight for b in found)
    return max(found, key=lambda b: b.glyph * (b.box[2] - b.box[0]) * min(1.0, b.weight / (0.8 * bold)))


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
        b.below = layout.next_below(b, blocks)
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
        contrast = min(1.0, max(0.1, (layout.contrast(b, diff) - 80.0) / 80.0))
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
    # Not best itself, nor a piece join_row merged into it or the block beneath.
    mine = {id(ln) for blk in (best, best.below) if blk is not None for ln in blk.lines}
    for b in blocks:
        if b is best or id(b.lines[0]) in mine:
            continue
        # Clearly above body size -- or, when the body text is too small to be
        # found at all (a far or blurred photo), large next to the headline.
        if (b.glyph >= 0.3 * best.glyph and (b.glyph >= 1.25 * body or b.glyph >= 0.4 * best.glyph)
                and len(b.lines) <= 3
                and max(ln.n for ln in b.lines) >= 6 and _has_author_geometry(b)):
            found.append(b)
    # Each joined with the rest of its row first: blur or tape splits a small
    # title into pieces that one by one look as short as a heading.
    rows = layout.join_row_each(found, blocks)
    rows.sort(key=lambda b: -b.glyph * min(1.0, b.n / 15))
    return rows



# --------------------------------------------------------------------------- OCR


def _crop(grey: np.ndarray, k: int, b: Block, probe: bool = False, diff: np.ndarray | None = None) -> np.ndarray:
    """The block cut from the full-resolution grey image: dark text on light,
    scaled to TARGET_GLYPH, everything outside its lines blanked.

    *probe* keeps only the start of the first line: enough to tell names with
    affiliation marks from a title, at a fraction of the recognition time.
    With the layout's *diff*, each line is kept as far as it runs on in
    fainter ink (layout.reach: glare, shade or tape over its end).
    """
    g = b.glyph
    # Line boxes already span ascenders to descenders: a little room above and
    # below (not into the next line, e.g. the authors), more at the sides.
    pad, pady = int(round(0.5 * g)), int(round(0.15 * g)) + 1
    lines = found = b.lines
    if probe:
        first = min(b.lines, key=lambda ln: ln.y0)
        lines = [replace(first, x1=min(first.x1, int(first.x0 + PROBE_GLYPHS * g)))]
    elif diff is not None:
        lines = [replace(ln, x0=x0, x1=x1) for ln, (x0, x1) in ((ln, layout.reach(ln, diff)) for ln in lines)]
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
    bgval = int(_percentiles(region, 90)[0])
    out = np.full_like(region, bgval)
    for x0, y0, x1, y1 in _keep_boxes(lines, g):
        lx0, ly0 = max(0, (x0 - pad) * k - X0), max(0, (y0 - pady) * k - Y0)
        lx1, ly1 = (x1 + pad) * k - X0, (y1 + pady) * k - Y0
        out[ly0:ly1, lx0:lx1] = region[ly0:ly1, lx0:lx1]
    if lines is not found:
        for ln, ext in zip(found, lines):
            _match_faint_ends(out, ln, ext, k, (X0, Y0), pady)
    f = TARGET_GLYPH / (g * k)
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    out = cv2.resize(out, None, fx=f, fy=f, interpolation=interp)
    # Translucent tape, a hand's shadow or glare over part of the line darken
    # its background there: divide by the local background (a closing wider
    # than any stroke) so the letters under it keep their contrast after the
    # global stretch below.  An evenly lit crop is left as it is.
    size = int(0.6 * TARGET_GLYPH) | 1
    bg = cv2.morphologyEx(out, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    lo_bg, hi_bg = _percentiles(bg, 2, 50)
    if lo_bg < SHADED * hi_bg:
        out = cv2.divide(out, np.maximum(bg, 1), scale=255)
    # Stretch so the background is white and the text near black.
    lo, hi = _percentiles(out, 2, 90)
    if hi - lo > 10:
        out = cv2.convertScaleAbs(out, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))
    return out


def _match_faint_ends(out: np.ndarray, ln: Line, ext: Line, k: int, origin: tuple[int, int], pady: int) -> None:
    """Stretch the faint ends layout.reach added to a line to the contrast of
    the line's found part, so the crop's global stretch does not wash them out."""
    X0, Y0 = origin
    r0, r1 = max(0, (ln.y0 - pady) * k - Y0), max(0, (ln.y1 + pady) * k - Y0)
    core = out[r0:r1, max(0, ln.x0 * k - X0):max(0, ln.x1 * k - X0)]
    if core.size == 0:
        return
    c_lo, c_hi = _percentiles(core, 2, 90)
    for a, z in ((ext.x0, ln.x0), (ln.x1, ext.x1)):
        if z - a < 0.5 * ln.glyph:
            continue
        piece = out[r0:r1, max(0, a * k - X0):max(0, z * k - X0)]
        if piece.size == 0:
            continue
        p_lo, p_hi = _percentiles(piece, 2, 90)
        # Only ends clearly fainter than the line; a flat span (no ink) stays as it is.
        if 8 < p_hi - p_lo < 0.6 * (c_hi - c_lo):
            scale = (c_hi - c_lo) / (p_hi - p_lo)
            piece[:] = np.clip((piece.astype(np.float32) - p_lo) * scale + c_lo, 0, 255).astype(np.uint8)


def _percentiles(a: np.ndarray, *qs: float) -> list[np.float64]:
    """``np.percentile(a, q)`` (linear method) of a uint8 array for each q, from its histogram.

    The same float64 numbers, without copying and partially sorting the crop
    (np.percentile was most of _crop's time): the two order statistics around
    each virtual index, interpolated with NumPy's own formula (numpy's _lerp).
    """
    n = a.size
    if n == 0 or n >= 1 << 24:  # empty: NumPy's warning and NaN; float32 histogram counts exact below 2**24
        return list(np.percentile(a, qs))
    cum = np.cumsum(cv2.calcHist([a], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    out = []
    for q in qs:
        virtual = (n - 1) * (q / 100)
        lo = min(int(np.floor(virtual)), n - 1)
        a_lo, a_hi = (int(np.searchsorted(cum, i, side="right")) for i in (lo, min(lo + 1, n - 1)))
        t = virtual - lo if virtual < n - 1 else virtual + 1  # NumPy: index -1 past the end (then a_lo == a_hi)
        diff = float(a_hi - a_lo)
        out.append(np.float64(a_hi - diff * (1 - t) if t >= 0.5 else a_lo + diff * t))
    return out


def _keep_boxes(lines: list[Line], g: float) -> list[tuple[int, int, int, int]]:
    """The line boxes, plus the span between two pieces of one row (join_row's
    tape, finger or wide gap): letters half under tape are not found as glyphs
    but are often still legible, and blanking them cuts words in two."""
    boxes = [(ln.x0, ln.y0, ln.x1, ln.y1) for ln in lines]
    row = sorted(lines, key=lambda ln: ln.x0)
    for i, a in enumerate(row):
        for c in row[i + 1:]:
            if layout.same_row((a.y0, a.y1), (c.y0, c.y1)) and 0 < c.x0 - a.x1 <= 4 * g:
                boxes.append((a.x1, max(a.y0, c.y0), c.x0, min(a.y1, c.y1)))
                break
    return boxes


def _ocr(grey: np.ndarray, k: int, cands: list[Block], timeout: float, probes: tuple[Block, ...] = (),
         diff: np.ndarray | None = None) -> None:
    """One Tesseract call over all candidates stacked vertically (*probes* only in part)."""
    crops = [_crop(grey, k, b, probe=b in probes, diff=diff) for b in cands]
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
        b.read = True


def _lines_of(words: list[_tesseract.Word]) -> tuple[list[str], list[list[float]]]:
    """Group words into lines, dropping isolated junk at the line ends (logo bits)."""
    rows: dict[tuple[int, int, int], list[_tesseract.Word]] = {}
    for wd in words:
        rows.setdefault((wd.block, wd.par, wd.line), []).append(wd)
    texts: list[str] = []
    confs: list[list[float]] = []
    rows = {key: row for key, row in rows.items() if not _other_text(row)} or rows
    for key in sorted(rows, key=lambda r: min(w.top for w in rows[r])):
        row = sorted(rows[key], key=lambda w: w.left)
        row = _trim_edges(row)
        if row:
            texts.append(" ".join(w.text for w in row))
            confs.append([w.conf for w in row for _ in w.text])  # weighted by length
    return texts, confs


def _median_height(words: list[_tesseract.Word]) -> float:
    return float(np.median([w.height for w in words]))


def _other_text(words: list[_tesseract.Word]) -> bool:
    """Words far smaller than the crop's scale: other text on the title's rows.

    Every crop is scaled so its block's capitals are TARGET_GLYPH tall, so
    these are body text beside a title that reach() followed across into
    another column, or a background's. They are dropped, unless all are.
    Marks with no letter or digit ("_", "-": tape, a crease) don't count: they
    are small whatever the size of the line's words.
    """
    letters = [w for w in words if any(ch.isalnum() for ch in w.text)] or words
    return _median_height(letters) < FOREIGN * TARGET_GLYPH


_KEEP_SHORT = {"a", "A", "I", "of", "to", "in", "on", "at", "by", "is", "as", "vs", "or", "an", "AI", "ML", "3D", "2D"}


def _alnum(words: list[_tesseract.Word]) -> int:
    return sum(ch.isalnum() for w in words for ch in w.text)


def _trim_edges(row: list[_tesseract.Word]) -> list[_tesseract.Word]:
    """Drop logo bits and stray marks at the ends of one OCR'd line."""
    if not row:
        return row
    # Split where the gap between words is far wider than a word space; the
    # longest run is the text, short runs at either end are logos or marks.
    height = _median_height(row)
    runs: list[list[_tesseract.Word]] = [[row[0]]]
    for prev, wd in zip(row, row[1:]):
        if wd.left - (prev.left + prev.width) > 0.8 * height:
            runs.append([])
        runs[-1].append(wd)
    runs = [run for run in runs if not _other_text(run)] or runs
    main = max(range(len(runs)), key=lambda i: _alnum(runs[i]))

    main_h = _median_height(runs[main])

    def stray(run: list[_tesseract.Word], gap: float) -> bool:
        if _alnum(run) <= 5:
            return True
        # A poorly read word of the title's own size just past a strip of tape
        # is still the title ("LLMPPC." before tape over ": D"); a logo's junk is
        # farther off or of another size.
        h = _median_height(run)
        return float(np.mean([w.conf for w in run])) < 50 and not (gap <= 3 * main_h and 0.67 <= h / main_h <= 1.5)

    def gap(a: list[_tesseract.Word], b: list[_tesseract.Word]) -> float:
        return b[0].left - (a[-1].left + a[-1].width)

    lo, hi = main, main
    while lo > 0 and not stray(runs[lo - 1], gap(runs[lo - 1], runs[lo])):
        lo -= 1
    while hi < len(runs) - 1 and not stray(runs[hi + 1], gap(runs[hi], runs[hi + 1])):
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
    if garbled_words(text):  # Tesseract is sure of letters that tape or a finger cut apart
        confidence = min(confidence, GUESS_CONFIDENCE)
    if runs_on(text):  # its last line was not found
        confidence = min(confidence, GUESS_CONFIDENCE)
    alts = (alternative,) if alternative and alternative != text else ()
    return TitleReading(text, round(confidence, 3), alts)

"""Match a poster to the conference's accepted-paper list.

The guessed title is not enough: some posters headline a tagline or a
question and print the paper title small above the authors or in a footer.
So we OCR the whole corrected poster once at a moderate resolution
(:func:`ocr_lines`) and compare every list title with windows of 1-4
consecutive text lines.

No match is better than a wrong one: a candidate is accepted only when its
title reads clearly on the poster (character *and* word level, so
"Gemma: Efficient X" does not pass for "Qwen: Efficient X"), and it beats the
runner-up by a margin; otherwise the OCR title stays and the top candidates
are reported for the user.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from rapidfuzz import fuzz, process

from . import _tesseract
from .papers import Paper, normalise

# Whole-poster OCR: long side in pixels.  Titles and author lines stay readable
# while body text mostly drops below Tesseract's reach (and costs little);
# measured on 80 generated 12 MP photos: 0.5 s mean on one loaded core, and
# the same match accuracy as 1100 px (0.6 s) and better than 900 px.
OCR_LINES_SIDE = 1000
OCR_PSM = 3  # automatic layout: keeps a title's lines consecutive in reading order
FALLBACK_PSM = 11  # sparse text, when automatic layout found (almost) nothing
MIN_WORDS = 5
# Light text on dark bands is flipped to dark-on-light before OCR (see _dark_to_light),
# so Tesseract's own per-line inversion retries, slow on noise, can be switched off.
OCR_CONFIG = "-c tessedit_do_invert=0"
DARK_BACKGROUND = 110  # grey level below which the local background counts as dark

MAX_WINDOW = 4  # consecutive lines a title may be split over
ACCEPT = 0.86  # title score needed for a match
MARGIN = 0.08  # ... and the lead over the runner-up
MISSING_WORD_PENALTY = 0.5  # extra cost per unit of title-word weight not found on the poster
AUTHOR_BONUS = 0.06  # at most this much for all of a paper's surnames seen on the poster
CANDIDATES = 3  # candidates reported for the user
CANDIDATE_FLOOR = 0.5  # ... when they score at least this (below, a title merely shares a few words)
PREFILTER = 40  # candidates scored in full, after the cheap word-overlap filter
ALIGN_TOP = 6  # leading candidates also aligned inside longer windows
TOKEN_MATCH = 75  # fuzz.ratio for an OCR word to count as a title word (OCR slips allowed)

_STOPWORDS = frozenset("a an and as at by for from in into is of on or the to via vs with without do does are "
                       "we our can how what when why".split())
_HYPHEN_END = re.compile(r"[-\u2010\u2011\u00ad]$")


@dataclass(frozen=True)
class MatchResult:
    paper: Paper | None  # the accepted match, None when no clear winner
    score: float  # 0..1, the best candidate's score (also when not accepted)
    candidates: tuple[tuple[Paper, float], ...]  # the top candidates, best first


NO_MATCH = MatchResult(None, 0.0, ())


def ocr_lines(poster: np.ndarray, *, timeout: float) -> list[str]:
    """OCR the whole corrected poster once; its text lines in Tesseract's reading order."""
    grey = cv2.cvtColor(poster, cv2.COLOR_RGB2GRAY) if poster.ndim == 3 else poster
    scale = OCR_LINES_SIDE / max(grey.shape[:2])
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    image = _dark_to_light(grey)
    words = _tesseract.image_to_data(image, psm=OCR_PSM, timeout=timeout, config=OCR_CONFIG)
    if len(words) < MIN_WORDS:
        # Tesseract's page layout analysis sometimes takes a figure-heavy poster for one
        # picture and returns nothing (1 of 80 generated photos); sparse-text mode still reads it.
        words = _tesseract.image_to_data(image, psm=FALLBACK_PSM, timeout=timeout, config=OCR_CONFIG)
    lines: list[str] = []
    key = None
    for word in words:
        if (word.block, word.par, word.line) != key:
            key = (word.block, word.par, word.line)
            lines.append(word.text)
        else:
            lines[-1] += " " + word.text
    return [line for line in lines if any(c.isalnum() for c in line)]


def _dark_to_light(grey: np.ndarray) -> np.ndarray:
    """Invert the regions whose background is dark (header bands, dark halves).

    Author lines on a dark band were read 0.6 of the time without this and
    0.96 with it (12 photos); the background is the median of 1/8-scale cells,
    which large title glyphs do not dominate.
    """
    h, w = grey.shape
    small = cv2.resize(grey, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    background = cv2.resize(cv2.medianBlur(small, 9), (w, h), interpolation=cv2.INTER_LINEAR)
    dark = background < DARK_BACKGROUND
    if not dark.any():
        return grey
    out = grey.copy()
    out[dark] = 255 - grey[dark]
    return out


class PaperIndex:
    """The paper list prepared for matching: normalised titles, word postings, surnames.

    Plain lists, dicts and small arrays, so it pickles cheaply to worker processes.
    """

    def __init__(self, papers: Sequence[Paper]) -> None:
        self.papers: tuple[Paper, ...] = tuple(papers)
        self.titles: list[str] = [normalise(p.title) for p in self.papers]
        # Word order sorted: a title whose lines Tesseract read out of order still compares equal.
        self.sorted_titles: list[str] = [" ".join(sorted(t.split())) for t in self.titles]
        self.tokens: list[tuple[str, ...]] = [tuple(dict.fromkeys(_content_words(t))) for t in self.titles]
        df: dict[str, int] = {}
        for toks in self.tokens:
            for tok in toks:
                df[tok] = df.get(tok, 0) + 1
        n = max(1, len(self.papers))
        # Rare words (a brand, a task) identify a title; words every title has do not.
        self.idf: dict[str, float] = {tok: math.log(1 + n / c) for tok, c in df.items()}
        postings: dict[str, list[int]] = {}
        for i, toks in enumerate(self.tokens):
            for tok in toks:
                postings.setdefault(tok, []).append(i)
        self.postings: dict[str, np.ndarray] = {t: np.asarray(ix, np.int32) for t, ix in postings.items()}
        self.vocab: list[str] = list(self.postings)
        self.weight: np.ndarray = np.asarray([sum(self.idf[t] for t in toks) or 1.0 for toks in self.tokens])
        self.surnames: list[tuple[str, ...]] = [_surnames(p.authors) for p in self.papers]

    def __len__(self) -> int:
        return len(self.papers)


def match_poster(index: PaperIndex, lines: Sequence[str], *, title_guess: str = "") -> MatchResult:
    """Find the poster's paper in *index* from its OCR *lines* (reading order) and the guessed title."""
    if not len(index):
        return NO_MATCH
    windows = _windows(lines, title_guess)
    if not windows:
        return NO_MATCH
    poster_words = {w for text in windows for w in text.split()}
    cands = _prefilter(index, poster_words, normalise(title_guess))
    if not cands:
        return NO_MATCH
    word_list = sorted(poster_words)
    titles = [index.titles[i] for i in cands]
    plain = process.cdist(titles, windows, scorer=fuzz.ratio, dtype=np.int32)
    reordered = process.cdist([index.sorted_titles[i] for i in cands],
                              [" ".join(sorted(w.split())) for w in windows], scorer=fuzz.ratio, dtype=np.int32)
    chars = np.maximum(plain, reordered)
    best_col = chars.argmax(axis=1)
    char_score = chars[np.arange(len(cands)), best_col].astype(np.float64)
    best_window = [windows[c] for c in best_col]
    # A title line with OCR junk beside it (a logo read as letters): align the title inside
    # the window, for the few leading candidates only (the alignment is the costly part).
    for j in np.argsort(-char_score, kind="stable")[:ALIGN_TOP]:
        if char_score[j] >= 95:
            continue
        title = titles[j]
        for col in np.flatnonzero(plain[j] >= 55):
            text = windows[col]
            if len(title) * 1.1 < len(text) < len(title) * 2.5:
                score, span = _aligned(title, text)
                if score > char_score[j]:
                    char_score[j], best_window[j] = score, span
    scored: list[tuple[float, int]] = []
    for j, i in enumerate(cands):
        if char_score[j] < 60:
            continue
        words = _word_score(index, i, best_window[j])
        # A missing rare word is the signature of a look-alike title, not of an OCR slip
        # (slips still count as found): it costs beyond its share.
        title_score = min(char_score[j] / 100, words) - MISSING_WORD_PENALTY * (1 - words)
        score = title_score + AUTHOR_BONUS * _author_share(index.surnames[i], poster_words, word_list)
        scored.append((float(min(1.0, score)), i))
    if not scored:
        return NO_MATCH
    scored.sort(key=lambda s: (-s[0], s[1]))
    top = tuple((index.papers[i], round(s, 3)) for s, i in scored[:CANDIDATES])
    best, runner = scored[0][0], (scored[1][0] if len(scored) > 1 else 0.0)
    if best >= ACCEPT and best - runner >= MARGIN:
        return MatchResult(index.papers[scored[0][1]], round(best, 3), top)
    return MatchResult(None, round(best, 3), top)


# --------------------------------------------------------------------------- internals


def _content_words(text: str) -> list[str]:
    return [w for w in text.split() if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]


def _surnames(authors: Sequence[str]) -> tuple[str, ...]:
    out = []
    for name in authors:
        parts = [p for p in normalise(name).split() if p not in ("jr", "sr", "ii", "iii")]
        if parts and len(parts[-1]) >= 2:
            out.append(parts[-1])
    return tuple(out)


def _windows(lines: Sequence[str], title_guess: str) -> list[str]:
    """Normalised texts of every run of 1..MAX_WINDOW consecutive lines, plus the guessed title.

    Each line is normalised once; a line ending in a hyphen is glued to the
    next ("Effi-" + "cient"), as ``normalise`` joins hyphenated words.
    """
    parts: list[tuple[str, bool]] = []
    for line in lines:
        line = line.strip()
        text = normalise(line)
        if text:
            parts.append((text, bool(_HYPHEN_END.search(line))))
    seen: dict[str, None] = {}
    guess = normalise(title_guess)
    if guess:
        seen[guess] = None
    for i in range(len(parts)):
        text, hyphen = parts[i]
        seen.setdefault(text, None)
        for k in range(1, MAX_WINDOW):
            if i + k >= len(parts):
                break
            nxt, nxt_hyphen = parts[i + k]
            text = (text + nxt) if hyphen else f"{text} {nxt}"
            hyphen = nxt_hyphen
            seen.setdefault(text, None)
    return list(seen)


def _prefilter(index: PaperIndex, poster_words: set[str], guess: str) -> list[int]:
    """Papers worth scoring: most of their rare title words are on the poster, or the guess resembles them.

    A word OCR misread ("0ptimal", "Adaptlve") counts as the list word it is
    closest to, so one slip does not hide a title from the full scoring.
    """
    seen = {w for w in poster_words if w in index.postings}
    unknown = [w for w in poster_words if w not in index.postings and len(w) >= 4]
    if unknown and index.vocab:
        sims = process.cdist(unknown, index.vocab, scorer=fuzz.ratio, score_cutoff=TOKEN_MATCH, dtype=np.uint8,
                             workers=1)
        rows = np.flatnonzero(sims.max(axis=1))
        seen.update(index.vocab[int(c)] for c in sims[rows].argmax(axis=1))
    cover = np.zeros(len(index), np.float64)
    for word in seen:
        cover[index.postings[word]] += index.idf[word]
    cover /= index.weight
    order = np.argsort(-cover, kind="stable")[:PREFILTER]
    cands = [int(i) for i in order if cover[i] >= 0.3]
    if guess:
        # Sorted words + plain ratio: a tenth of token_set_ratio's cost on 3000 titles.
        for _, _, i in process.extract(" ".join(sorted(guess.split())), index.sorted_titles, scorer=fuzz.ratio,
                                       score_cutoff=60, limit=10):
            if i not in cands:
                cands.append(i)
    return cands


def _word_score(index: PaperIndex, i: int, window: str) -> float:
    """IDF-weighted share of title *i*'s words found in *window* (OCR slips allowed).

    Character similarity alone would accept a look-alike title that differs in
    one rare word ("Gemma: Efficient X" for "Qwen: Efficient X").
    """
    toks = index.tokens[i]
    if not toks:
        return 1.0
    window_words = window.split()
    found = 0.0
    for tok in toks:
        if tok in window_words or (len(tok) > 3 and process.extractOne(
                tok, window_words, scorer=fuzz.ratio, score_cutoff=TOKEN_MATCH) is not None):
            found += index.idf[tok]
    return found / float(index.weight[i])


def _aligned(title: str, window: str) -> tuple[float, str]:
    """(fuzz.ratio of *title* against the run of whole words of *window* it aligns with best, that run).

    Extra words in the window cost a little (2 points per word) so a title
    embedded in a sentence does not score like a title on its own line.
    """
    al = fuzz.partial_ratio_alignment(title, window)
    if al is None or al.score < 60:
        return 0.0, window
    start, end = al.dest_start, al.dest_end
    # Widen to word boundaries: the alignment may cut a misread word in half.
    start = window.rfind(" ", 0, start) + 1
    space = window.find(" ", end)
    end = len(window) if space < 0 else space
    span = window[start:end]
    extra = len(window[:start].split()) + len(window[end:].split())
    return max(0.0, fuzz.ratio(title, span) - 2.0 * extra), span


def _author_share(surnames: tuple[str, ...], poster_words: set[str], words: list[str]) -> float:
    """Share of a paper's author surnames that appear on the poster (OCR slips allowed for long names)."""
    if not surnames:
        return 0.0
    hit = 0
    for name in surnames:
        if name in poster_words or (len(name) >= 5 and process.extractOne(
                name, words, scorer=fuzz.ratio, score_cutoff=85) is not None):
            hit += 1
    return hit / len(surnames)

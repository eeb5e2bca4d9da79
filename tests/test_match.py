"""Matching posters to a paper list: real Tesseract on generated posters and photos, plus the scoring rules."""

from __future__ import annotations

import pickle
import random
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import synth
from posterocr import _tesseract
from posterocr.detect import warp_poster
from posterocr.load import load_photo
from posterocr.match import NO_MATCH, PaperIndex, match_poster, ocr_lines
from posterocr.ocr import read_title
from posterocr.papers import Paper, load_papers, normalise

DATA = Path(__file__).parent / "data" / "papers"
sys.path.insert(0, str(DATA))
import make_lists  # noqa: E402

LIST = load_papers(DATA / "iclr2025.json").papers


def _paper(title: str, authors: tuple[str, ...] = (), link: str = "") -> Paper:
    return Paper(title, authors, link, "test")


def _look_alikes(titles: list[str], per_title: int, seed: int = 1) -> list[Paper]:
    """Titles one component away from each of *titles* (never equal to any of them)."""
    rng = random.Random(seed)
    keys = {normalise(t) for t in titles}
    out = []
    for title in titles:
        for _ in range(per_title):
            other = make_lists._near_duplicate(rng, title)
            if normalise(other) not in keys:
                out.append(_paper(other, tuple(make_lists.make_authors(rng))))
    return out


# --------------------------------------------------------------------------- scoring rules (no OCR)

BASE = list(LIST)


def test_title_across_lines_with_ocr_slips_gets_the_canonical_title() -> None:
    paper = _paper("Memory-Efficient Transformers for Long-Document Summarization", ("Ada Lovelace", "Alan Turing"),
                   "https://arxiv.org/abs/2401.00001")
    index = PaperIndex(BASE + [paper])
    lines = ["ETH Zürich  NeurIPS 2025", "MEMORY-EFFI-", "CIENT TRANSF0RMERS FOR", "Long-Document Summarizatlon",
             "Ada Lovelace¹, Alan Turing²", "¹MIT  ²ETH", "Motivation", "we show that our method improves"]
    got = match_poster(index, lines, title_guess="")
    assert got.paper == paper and got.score >= 0.9
    assert got.candidates[0] == (paper, got.score)


def test_title_printed_small_below_a_question_headline() -> None:
    paper = _paper("SnapKV: Benchmarking Existing LoRA for Theorem Proving", ("Percy Liang",))
    index = PaperIndex(BASE + [paper])
    lines = ["Can a tiny model draft for a giant one?", "Method", "Results", "training loss tokens layer",
             "SnapKV: Benchmarking Existing LoRA for", "Theorem Proving", "Percy Liang¹", "¹Stanford University"]
    got = match_poster(index, lines, title_guess="Can a tiny model draft for a giant one?")
    assert got.paper == paper


def test_a_look_alike_is_not_a_match_but_is_reported() -> None:
    """The poster's paper is not in the list; a title differing in one word is: no match."""
    poster_title = "Towards Robust State Space Models in Speech Recognition"
    look_alike = _paper("Towards Multimodal State Space Models in Speech Recognition", ("Ada Lovelace",))
    index = PaperIndex(BASE + [look_alike])
    lines = [poster_title, "Ada Lovelace, Grace Hopper", "Motivation"]
    got = match_poster(index, lines, title_guess=poster_title)
    assert got.paper is None
    assert got.candidates and got.candidates[0][0] == look_alike and got.score < 0.86
    # With the real paper in the list too, the real one wins clearly.
    real = _paper(poster_title)
    assert match_poster(PaperIndex(BASE + [look_alike, real]), lines, title_guess=poster_title).paper == real


@pytest.mark.parametrize("poster, listed", [
    ("Gemma: Efficient Transformers with Token Merging", "Qwen: Efficient Transformers with Token Merging"),
    ("Do Policies Really Transfer?", "Do Policies Really Generalize?"),
    ("Scaling Laws for Code Generation", "Scaling Laws for Code Review"),
    ("Scaling Laws for Tabular Data", "Scaling Laws for Tabular Data Revisited"),
])
def test_one_word_apart_is_another_paper(poster: str, listed: str) -> None:
    index = PaperIndex([p for p in BASE if normalise(p.title) != normalise(poster)] + [_paper(listed)])
    assert match_poster(index, [poster, "Ada Lovelace"], title_guess=poster).paper is None


def test_authors_on_the_poster_raise_the_score() -> None:
    paper = _paper("Adaptive Kernels via Optimal Transport", ("Ada Lovelace", "Alan Turing", "Grace Hopper"))
    index = PaperIndex(BASE + [paper])
    garbled = ["Adaptlve Kernels via 0ptimal Tr", "Motivation"]  # misread and cut by tape: still found
    without = match_poster(index, garbled, title_guess="")
    with_authors = match_poster(index, garbled + ["Ada Lovelace, Alan Turing, Grace Hopper"], title_guess="")
    assert without.candidates[0][0] == paper and with_authors.candidates[0][0] == paper
    assert with_authors.score > without.score


def test_two_entries_too_close_to_call_give_no_match() -> None:
    a = _paper("Sparse Autoencoders for Robot Manipulation")
    b = _paper("Sparse Autoencoders for Robot Manipulation!")  # the same words: no margin
    index = PaperIndex([a, b])
    got = match_poster(index, ["Sparse Autoencoders for Robot Manipulation"], title_guess="")
    assert got.paper is None and len(got.candidates) == 2


def test_empty_inputs() -> None:
    assert match_poster(PaperIndex([]), ["anything"], title_guess="x") == NO_MATCH
    assert match_poster(PaperIndex(BASE), [], title_guess="") == NO_MATCH
    assert match_poster(PaperIndex(BASE), ["", "   ", "—"], title_guess="").paper is None


def test_3000_papers_fast_and_picklable() -> None:
    titles: list[str] = []
    seed = 0
    while len({normalise(t) for t in titles}) < 3000:
        titles += make_lists.make_titles(seed)
        seed += 1
    unique = list({normalise(t): t for t in titles}.values())[:3000]
    papers = [_paper(t, ("Ada Lovelace",)) for t in unique]
    index = pickle.loads(pickle.dumps(PaperIndex(papers)))
    target = papers[1234]
    body = [" ".join(random.Random(i).choices(synth.words.FILLER, k=9)) for i in range(120)]
    lines = body[:40] + [target.title[:30], target.title[30:], "Ada Lovelace"] + body[40:]
    start = time.process_time()
    for _ in range(5):
        got = match_poster(index, lines, title_guess="")
    per_call = (time.process_time() - start) / 5
    assert got.paper == target
    assert per_call < 0.25  # measured ~10 ms on one core; generous for loaded CI machines


# --------------------------------------------------------------------------- real OCR on generated posters


def _specs() -> list[synth.PosterSpec]:
    """Four flat posters: a plain one, a dark left half, a tagline and a question headline."""
    wanted = {"normal": None, "dark_left_half": None, "tagline": None, "question_headline": None}
    seed = 9000
    while any(v is None for v in wanted.values()):
        spec = synth.random_spec(random.Random(seed), hard=True)
        key = spec.layout if spec.layout == "dark_left_half" and spec.variant == "normal" else spec.variant
        if key in wanted and wanted[key] is None and not (key == "normal" and spec.layout == "dark_left_half"):
            wanted[key] = spec
        seed += 1
    return [s for s in wanted.values() if s is not None]


@pytest.fixture(scope="module")
def flat_readings() -> list[tuple[synth.PosterSpec, list[str], str]]:
    out = []
    for spec in _specs():
        poster = np.asarray(synth.render_poster(spec))
        calls = _tesseract.calls
        lines = ocr_lines(poster, timeout=60)
        assert _tesseract.calls == calls + 1  # one Tesseract run for the whole poster
        out.append((spec, lines, read_title(poster, timeout=60).text))
    return out


def test_flat_posters_in_the_list_get_their_exact_title(flat_readings) -> None:  # type: ignore[no-untyped-def]
    papers = {normalise(s.title): _paper(s.title, tuple(s.authors)) for s, _, _ in flat_readings}
    index = PaperIndex([p for p in BASE if normalise(p.title) not in papers] + list(papers.values())
                       + _look_alikes([s.title for s, _, _ in flat_readings], 2))
    for spec, lines, guess in flat_readings:
        got = match_poster(index, lines, title_guess=guess)
        assert got.paper is not None and got.paper.title == spec.title, (spec.variant, spec.title, guess, lines[:8])


def test_flat_posters_not_in_the_list_stay_unmatched(flat_readings) -> None:  # type: ignore[no-untyped-def]
    titles = [s.title for s, _, _ in flat_readings]
    keys = {normalise(t) for t in titles}
    index = PaperIndex([p for p in BASE if normalise(p.title) not in keys] + _look_alikes(titles, 3))
    for spec, lines, guess in flat_readings:
        got = match_poster(index, lines, title_guess=guess)
        assert got.paper is None, (spec.title, got.paper, got.score)


# --------------------------------------------------------------------------- real OCR on 12 MP photos


@pytest.mark.slow
def test_photos_in_list_exact_and_not_in_list_never_matched(photo_set) -> None:  # type: ignore[no-untyped-def]
    """36 generated 12 MP photos (16 hard: taglines, question headlines, people), corrected at their truth corners."""
    readings = []
    for name, n, seed, hard in (("match-normal", 20, 31, False), ("match-hard", 16, 32, True)):
        folder, samples = photo_set(name, n, seed=seed, size=(3024, 4032), hard=hard)
        for sample in samples:
            poster = warp_poster(load_photo(Path(sample["path"])), sample["corners"], max_side=3000)
            readings.append((sample, ocr_lines(poster, timeout=60), read_title(poster, timeout=60).text))
    titles = [s["title"] for s, _, _ in readings]
    keys = {normalise(t) for t in titles}
    base = [p for p in BASE if normalise(p.title) not in keys]
    looks = _look_alikes(titles, 3)
    in_list = PaperIndex(base + looks + [_paper(s["title"], tuple(s["authors"].split(", "))) for s, _, _ in readings])
    not_in_list = PaperIndex(base + looks)
    exact = 0
    for sample, lines, guess in readings:
        got = match_poster(in_list, lines, title_guess=guess)
        assert got.paper is None or got.paper.title == sample["title"], (sample["path"], got.paper)  # never wrong
        exact += got.paper is not None
        assert match_poster(not_in_list, lines, title_guess=guess).paper is None, sample["path"]
    # Misses happen where tape or a head covers the title, or a hard layout hides it from both readers.
    assert exact >= 0.85 * len(readings), f"{exact}/{len(readings)} matched"

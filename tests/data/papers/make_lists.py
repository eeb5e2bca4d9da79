"""Write the committed paper lists used by the tests: 300 realistic entries per format.

    PYTHONPATH=src:. python tests/data/papers/make_lists.py

Deterministic (fixed seeds), so re-running it reproduces the files byte for
byte as long as ``synth.words`` is unchanged.  The lists imitate what users
feed ``--papers``:

* ``iclr2025.json``: a community paper-list export (papercopilot style):
  ``id`` (OpenReview), ``title``, ``author`` as a ";"-separated string, ``site``,
  ``pdf``; some entries with an ``authors`` list or an ``arxiv`` id instead.
* ``colm2025.csv``: ``title,authors,url`` with quoted titles containing commas.
* ``zotero.bib``: a Zotero BibTeX export: ``Last, First and ...`` authors with
  LaTeX accents, brace-protected capitals (``{LLM}s``), arXiv ``eprint``/``doi``.

Each list holds near-duplicates ("Scaling Laws for X" vs "Scaling Laws for Y",
one swapped word, a shared brand), which is what makes matching hard, and one
entry without a title (the loader must skip it with a warning).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import unicodedata
from pathlib import Path

from synth import words

HERE = Path(__file__).resolve().parent
N = 300

EXTRA_TASKS = ["Long-Horizon Planning", "Program Synthesis", "Retrieval-Augmented Generation", "Tool Use",
               "Visual Question Answering", "Text-to-Image Generation", "Dense Retrieval", "Code Review"]
EXTRA_PATTERNS = [
    "Scaling Laws for {task}",
    "Scaling Laws for {adj} {noun}",
    "On the {prop} of {noun}",
    "{brand}: An Open Benchmark for {task}",
    "A Survey of {adj} {noun}",
    "{noun} Are Secretly {adj} {noun2}",
    "{method} Is All You Need for {task}",
    "What Makes {adj} {noun} Work?",
    "Learning to {qverb} with {method}",
    "{verb} {noun} at Scale",
]
PROPERTIES = ["Robustness", "Expressivity", "Sample Complexity", "Calibration", "Emergence", "Stability",
              "Faithfulness", "Limits", "Convergence", "Geometry"]


def _fill(rng: random.Random, pattern: str) -> str:
    tasks = words.TASKS + EXTRA_TASKS
    brand = rng.choice(words.BRANDS) if rng.random() < 0.6 else words.acronym(rng)
    return pattern.format(task=rng.choice(tasks), adj=rng.choice(words.ADJECTIVES), noun=rng.choice(words.NOUNS),
                          noun2=rng.choice(words.PLURAL_NOUNS), prop=rng.choice(PROPERTIES), brand=brand,
                          method=rng.choice(words.METHODS), qverb=rng.choice(words.QUESTION_VERBS),
                          verb=rng.choice(words.VERBS))


def _near_duplicate(rng: random.Random, title: str) -> str:
    """The same title with one component swapped: the classic accepted-list look-alike."""
    for pool in (words.TASKS + EXTRA_TASKS, words.METHODS, words.NOUNS, words.ADJECTIVES, words.QUESTION_VERBS,
                 words.BRANDS):
        present = [w for w in pool if w in title]
        if present:
            old = max(present, key=len)
            new = rng.choice([w for w in pool if w != old and w not in title])
            return title.replace(old, new, 1)
    return title + " Revisited"


def make_titles(seed: int) -> list[str]:
    rng = random.Random(seed)
    titles: list[str] = []
    seen: set[str] = set()

    def add(t: str) -> None:
        key = " ".join(t.casefold().split())
        if key not in seen:
            seen.add(key)
            titles.append(t)

    while len(titles) < N:
        r = rng.random()
        if titles and r < 0.18:
            add(_near_duplicate(rng, rng.choice(titles)))
        elif r < 0.45:
            add(_fill(rng, rng.choice(EXTRA_PATTERNS)))
        else:
            add(words.title(rng))
    return titles


def make_authors(rng: random.Random) -> list[str]:
    return words.author_names(rng, rng.choice([1, 2, 3, 3, 4, 4, 5, 6, 8]))


def openreview_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(rng.choice(alphabet) for _ in range(10))


def arxiv_id(rng: random.Random) -> str:
    return f"{rng.randint(23, 25)}{rng.randint(1, 12):02d}.{rng.randint(1, 99999):05d}"


# --------------------------------------------------------------------------- JSON


def write_json(path: Path) -> None:
    rng = random.Random(2025_01)
    entries: list[dict] = []
    for i, title in enumerate(make_titles(2025_01)):
        pid = openreview_id(rng)
        authors = make_authors(rng)
        entry: dict = {"id": pid, "title": title, "track": "main",
                       "status": rng.choice(["Poster", "Poster", "Poster", "Spotlight", "Oral"])}
        if i % 17 == 5:
            entry["authors"] = authors  # some exports carry a list
        else:
            entry["author"] = "; ".join(authors)
        entry["site"] = f"https://openreview.net/forum?id={pid}"
        entry["pdf"] = f"https://openreview.net/pdf?id={pid}"
        if i % 9 == 2:
            entry["arxiv"] = arxiv_id(rng)
        entries.append(entry)
    # An entry with no title (a withdrawn paper in the export): skipped with a warning.
    entries.insert(137, {"id": openreview_id(rng), "title": "", "author": "; ".join(make_authors(rng)),
                         "status": "Withdrawn"})
    path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- CSV


def write_csv(path: Path) -> None:
    rng = random.Random(2025_02)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["title", "authors", "url"])
    for i, title in enumerate(make_titles(2025_02)):
        if i == 211:
            out.writerow(["", "; ".join(make_authors(rng)), ""])  # a row whose title was lost
        if i % 5 == 0:
            title = title.replace(": ", ", ", 1) if ": " in title else title  # commas force quoting
        url = (f"https://arxiv.org/abs/{arxiv_id(rng)}" if i % 3 else
               f"https://openreview.net/forum?id={openreview_id(rng)}") if i % 7 else ""
        out.writerow([title, "; ".join(make_authors(rng)), url])
    path.write_text(buf.getvalue(), encoding="utf-8")


# --------------------------------------------------------------------------- BibTeX

_LATEX_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~", "\u0327": "c",
                  "\u030c": "v", "\u0306": "u"}
_LATEX_LETTERS = {"ł": "{\\l}", "Ł": "{\\L}", "ø": "{\\o}", "ß": "{\\ss}", "ı": "{\\i}", "æ": "{\\ae}"}


def to_latex(text: str, rng: random.Random) -> str:
    """Unicode -> the LaTeX escapes Zotero and hand-written .bib files use (in varying styles)."""
    out = []
    for ch in text:
        if ch in _LATEX_LETTERS:
            out.append(_LATEX_LETTERS[ch])
            continue
        base, *marks = unicodedata.normalize("NFD", ch)
        if marks and marks[0] in _LATEX_ACCENTS:
            cmd = _LATEX_ACCENTS[marks[0]]
            base = "\\i" if base == "i" else base
            if cmd.isalpha():
                out.append(f"\\{cmd}{{{base}}}")
            else:
                out.append(rng.choice([f"{{\\{cmd}{base}}}", f"\\{cmd}{{{base}}}"]))
        else:
            out.append(ch)
    return "".join(out)


def protect(title: str) -> str:
    """Brace-protect acronyms and brand names as Zotero does: {LLM}s, {CA}-{LoRA}, {infini}-gram."""
    out = []
    for word in title.split(" "):
        core = word.rstrip(":?,")
        tail = word[len(core):]
        if re.fullmatch(r"[A-Z]{2,}s", core):
            out.append("{" + core[:-1] + "}s" + tail)  # {LLM}s
        elif any(c.isupper() for c in core[1:]) or core.lower() in {b.lower() for b in words.BRANDS}:
            out.append("{" + core + "}" + tail)
        else:
            out.append(word)
    return " ".join(out)


def write_bibtex(path: Path) -> None:
    rng = random.Random(2025_03)
    chunks: list[str] = ["@comment{Exported by Zotero; library 'Posters to read'}\n"]
    for i, title in enumerate(make_titles(2025_03)):
        authors = make_authors(rng)
        last_first = " and ".join(
            f"{to_latex(a.split(' ', 1)[1], rng)}, {to_latex(a.split(' ', 1)[0], rng)}" for a in authors)
        if i % 11 == 4:
            last_first += " and others"
        key = f"{authors[0].split()[-1].lower()}_{title.split()[0].lower().strip(':?')}_{2024 + i % 2}_{i}"
        key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
        fields = [f"\ttitle = {{{protect(title)}}}", f"\tauthor = {{{last_first}}}"]
        if i % 3 == 0:  # an arXiv preprint as Zotero exports it
            aid = arxiv_id(rng)
            kind = "misc"
            fields += [f"\turl = {{http://arxiv.org/abs/{aid}}}", f"\tdoi = {{10.48550/arXiv.{aid}}}",
                       f"\tnote = {{arXiv:{aid} [cs]}}", "\tpublisher = {arXiv}", f"\teprint = {{{aid}}}",
                       "\tarchiveprefix = {arXiv}"]
        elif i % 3 == 1:
            kind = "inproceedings"
            num = rng.randint(1, 900)
            fields += ["\tbooktitle = {Proceedings of the 62nd Annual Meeting of the Association for "
                       "Computational Linguistics (Volume 1: Long Papers)}",
                       f"\turl = {{https://aclanthology.org/2024.acl-long.{num}}}",
                       f"\tdoi = {{10.18653/v1/2024.acl-long.{num}}}", f"\tpages = {{{num * 10}--{num * 10 + 14}}}"]
        else:
            kind = "inproceedings"
            fields += ["\tbooktitle = {International Conference on Learning Representations}",
                       f"\turl = {{https://openreview.net/forum?id={openreview_id(rng)}}}"]
        fields.append(f"\tyear = {{{2024 + i % 2}}}")
        chunks.append(f"@{kind}{{{key},\n" + ",\n".join(fields) + ",\n}\n")
        if i == 77:  # an entry that lost its title
            chunks.append("@misc{untitled_note,\n\tauthor = {M{\\\"u}ller, Hans},\n\tyear = {2024},\n"
                          "\tnote = {Slides only},\n}\n")
    path.write_text("\n".join(chunks), encoding="utf-8")


def main() -> None:
    write_json(HERE / "iclr2025.json")
    write_csv(HERE / "colm2025.csv")
    write_bibtex(HERE / "zotero.bib")


if __name__ == "__main__":
    main()

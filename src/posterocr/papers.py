"""Accepted-paper lists: JSON (OpenReview / community lists), CSV and BibTeX.

``load_papers`` reads one file into :class:`Paper` records; a file that cannot
be used raises :class:`PaperListError` naming it, while a single entry without
a title is skipped with a warning, so one bad row does not cost the user the
whole list.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import links, yamlio
from .exceptions import PosterocrError


class PaperListError(PosterocrError):
    """A paper list that cannot be read (missing, not UTF-8, malformed)."""


@dataclass(frozen=True)
class Paper:
    title: str  # canonical title, as the list spells it
    authors: tuple[str, ...]  # "First Last" each
    link: str  # best link to the paper ("" when the list has none)
    source: str  # the list file it came from


@dataclass(frozen=True)
class PaperList:
    papers: tuple[Paper, ...]
    warnings: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """Title text for comparison: no accents, case or punctuation; hyphenated words joined.

    Joining ("memory-efficient" -> "memoryefficient") makes a word hyphenated
    across two poster lines ("Memory-" / "Efficient") compare equal to it.
    """
    if not text.isascii():  # the slow part; most OCR text is plain ASCII
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold()
    # Hyphens and apostrophes inside a word join it: "memory-efficient", "don't", "O'Brien".
    text = re.sub(r"(?<=\w)[-\u2010-\u2014\u00ad'\u2019](?=\w)", "", text)
    text = re.sub(r"[\W_]+", " ", text)
    return " ".join(text.split())


# --------------------------------------------------------------------------- loading


def load_papers(path: Path) -> PaperList:
    """Read one paper list; the format is chosen by extension, else by content."""
    path = Path(path)
    text, _ = yamlio.read_text(path, what="paper list", missing="check the --papers path", unchanged="",
                               error=PaperListError)
    fmt = _detect_format(path, text)
    if fmt == "json":
        papers, warnings = _from_json(path, text)
    elif fmt == "bibtex":
        papers, warnings = _from_bibtex(path, text)
    else:
        papers, warnings = _from_csv(path, text)
    if not papers:
        detail = f" ({len(warnings)} entries skipped)" if warnings else ""
        raise PaperListError(f"{path}: no paper with a title found{detail}; check that it is a "
                             "JSON, CSV or BibTeX paper list")
    return PaperList(tuple(papers), tuple(warnings))


def load_many(paths: Iterable[Path]) -> PaperList:
    """Read several lists into one; a title listed twice keeps its first entry, completed by later ones."""
    by_key: dict[str, Paper] = {}
    warnings: list[str] = []
    for path in paths:
        loaded = load_papers(Path(path))
        warnings.extend(loaded.warnings)
        for paper in loaded.papers:
            key = normalise(paper.title)
            old = by_key.get(key)
            if old is None:
                by_key[key] = paper
            elif (not old.authors and paper.authors) or (paper.link and (
                    not old.link or links.link_rank(paper.link) < links.link_rank(old.link))):
                # The same paper from a richer source (e.g. BibTeX with arXiv + a CSV without links).
                link = min((x for x in (old.link, paper.link) if x), key=links.link_rank, default="")
                by_key[key] = Paper(old.title, old.authors or paper.authors, link, old.source)
    return PaperList(tuple(by_key.values()), tuple(warnings))


def _detect_format(path: Path, text: str) -> str:
    ext = path.suffix.lower()
    if ext == ".json":
        return "json"
    if ext in (".bib", ".bibtex"):
        return "bibtex"
    if ext in (".csv", ".tsv"):
        return "csv"
    head = text.lstrip()
    if head[:1] in ("[", "{"):
        return "json"
    if re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", text, re.MULTILINE):
        return "bibtex"
    return "csv"


# --------------------------------------------------------------------------- shared field handling

# OpenReview-style ids ("aBc-12_XyZ"); plain numbers are paper numbers, not OpenReview ids.
_OPENREVIEW_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9_-]{6,20}$")
# Fields that may carry a link, in the order a tie between equally ranked links is broken.
_LINK_FIELDS = ("arxiv", "openreview", "forum", "url", "link", "paper_url", "pdf", "pdf_url", "doi", "site",
                "project", "html_url")


def _record_to_paper(record: Mapping[str, Any], source: str) -> Paper | None:
    """One JSON object / CSV row -> Paper (None without a title). Keys are already lower-case."""
    title = _clean(_scalar(record.get("title")))
    if not title:
        return None
    raw_authors = record.get("authors", record.get("author"))
    return Paper(title, _authors(_unwrap(raw_authors)), _best_record_link(record), source)


def _unwrap(value: Any) -> Any:
    """OpenReview API v2 wraps every content field as ``{"value": ...}``."""
    if isinstance(value, Mapping) and "value" in value:
        return value["value"]
    return value


def _scalar(value: Any) -> str:
    value = _unwrap(value)
    if value is None or isinstance(value, (Mapping, list)):
        return ""
    return str(value)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _authors(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return _split_authors(value)
    if isinstance(value, list):
        names = []
        for item in value:
            item = _unwrap(item)
            if isinstance(item, Mapping):
                low = {str(k).lower(): v for k, v in item.items()}
                name = low.get("name") or low.get("fullname") or low.get("full_name") or " ".join(
                    str(low[k]) for k in ("given", "family") if low.get(k))
                item = name
            if item:
                names.append(_clean(str(item)))
        return tuple(n for n in names if n)
    return ()


def _split_authors(text: str) -> tuple[str, ...]:
    """``"A B; C D"`` (the documented form), also ``"A B, C D"`` and ``"A B and C D"``."""
    text = text.strip()
    if ";" in text:
        parts = text.split(";")
    elif re.search(r"\s+and\s+", text):
        parts = re.split(r",?\s+and\s+|,\s*", text)
    elif "," in text and all(len(p.split()) >= 2 for p in text.split(",") if p.strip()):
        parts = text.split(",")  # "Ada Lovelace, Alan Turing"; but "Lovelace, Ada" is one name
    else:
        parts = [text]
    return tuple(_clean(p) for p in parts if p.strip())


def _best_record_link(record: Mapping[str, Any]) -> str:
    found: list[str] = []
    for key in _LINK_FIELDS:
        value = _scalar(record.get(key)).strip()
        if not value:
            continue
        if key == "arxiv" and not value.lower().startswith(("http", "arxiv")):
            value = "arXiv:" + value
        elif key == "doi":
            value = links.doi_url(value)
        elif key in ("openreview", "forum") and _OPENREVIEW_ID.match(value):
            value = f"https://openreview.net/forum?id={value}"
        found.append(value)
    rid = _scalar(record.get("id")).strip()
    if rid and _OPENREVIEW_ID.match(rid):
        found.append(f"https://openreview.net/forum?id={rid}")
    best, _ = links.best_link(found)
    return best


# --------------------------------------------------------------------------- JSON

_LIST_KEYS = ("notes", "papers", "data", "results", "items", "entries", "submissions")


def _from_json(path: Path, text: str) -> tuple[list[Paper], list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PaperListError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                             "fix the file or export the list again") from None
    items = data
    if isinstance(data, Mapping):
        low = {str(k).lower(): v for k, v in data.items()}
        items = next((low[k] for k in _LIST_KEYS if isinstance(low.get(k), list)), None)
        if items is None:
            raise PaperListError(f"{path}: JSON object without a list of papers (expected a list of objects "
                                 f"with a \"title\", or one under {', '.join(repr(k) for k in _LIST_KEYS[:3])})")
    if not isinstance(items, list):
        raise PaperListError(f"{path}: JSON is a {type(items).__name__}, not a list of papers; "
                             "expected [{\"title\": ..., \"authors\": ...}, ...]")
    warnings: list[str] = []
    records: list[tuple[str, Mapping[str, Any]]] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            warnings.append(f"{path}: entry {n} is not an object; skipped")
            continue
        record = {str(k).lower(): v for k, v in item.items()}
        content = record.get("content")
        if isinstance(content, Mapping):  # an OpenReview note: fields live under "content"
            merged = {str(k).lower(): v for k, v in content.items()}
            merged.setdefault("id", record.get("forum") or record.get("id"))
            record = {**record, **merged}
        records.append((f"entry {n}", record))
    return _papers_from_records(path, records, warnings)


def _papers_from_records(path: Path, records: Iterable[tuple[str, Mapping[str, Any]]],
                         warnings: list[str]) -> tuple[list[Paper], list[str]]:
    """Papers from (where, record) pairs; a record without a title becomes a warning naming *where*."""
    papers: list[Paper] = []
    for where, record in records:
        paper = _record_to_paper(record, str(path))
        if paper is None:
            warnings.append(f"{path}: {where} has no title; skipped")
        else:
            papers.append(paper)
    return papers, warnings


# --------------------------------------------------------------------------- CSV


def _from_csv(path: Path, text: str) -> tuple[list[Paper], list[str]]:
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise PaperListError(f"{path}: empty file or no CSV header; the first line must name the columns "
                             "(title, authors, url)")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise PaperListError(f"{path}: malformed CSV near line {reader.line_num} ({exc})") from None
    header = [h.strip().lower() for h in rows[0]]
    if "title" not in header:
        shown = ", ".join(h for h in header if h)[:80] or "nothing"
        raise PaperListError(f"{path}: no \"title\" column in the CSV header (found: {shown}); "
                             "add a header line such as title,authors,url")
    records = ((f"line {line_no}", {h: cell for h, cell in zip(header, row) if h})
               for line_no, row in enumerate(rows[1:], 2)
               if any(cell.strip() for cell in row))  # blank lines are not entries
    return _papers_from_records(path, records, [])


# --------------------------------------------------------------------------- BibTeX


def _from_bibtex(path: Path, text: str) -> tuple[list[Paper], list[str]]:
    try:
        entries = parse_bibtex(text)
    except _BibError as exc:
        raise PaperListError(f"{path}: {exc}; fix the file or export it again") from None
    papers: list[Paper] = []
    warnings: list[str] = []
    for entry in entries:
        title = _clean(latex_to_text(entry.fields.get("title", "")))
        if not title:
            warnings.append(f"{path}: entry '{entry.key}' (line {entry.line}) has no title; skipped")
            continue
        authors = tuple(latex_to_text(a) for a in split_bib_authors(entry.fields.get("author", "")))
        papers.append(Paper(title, tuple(a for a in authors if a), _bib_link(entry.fields), str(path)))
    return papers, warnings


def _bib_link(fields: Mapping[str, str]) -> str:
    found: list[str] = []
    eprint = fields.get("eprint", "").strip()
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    if eprint and (prefix == "arxiv" or re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", eprint)):
        found.append("arXiv:" + eprint)
    for key in ("url", "doi"):
        value = re.sub(r"\\url\{([^}]*)\}", r"\1", fields.get(key, "")).strip().strip("{}")
        if value:
            found.append(links.doi_url(value) if key == "doi" else value)
    for key in ("journal", "note", "howpublished"):  # Google Scholar: "arXiv preprint arXiv:2401.12345"
        found.extend(links.find_printed_links(fields.get(key, "")))
    best, _ = links.best_link(found)
    return best


class _BibError(ValueError):
    pass


@dataclass(frozen=True)
class BibEntry:
    kind: str  # "article", "inproceedings", ... (lower case)
    key: str
    fields: dict[str, str]  # lower-case names; values raw LaTeX, outer delimiters removed
    line: int  # 1-based line of the "@"


_MONTHS = {m: m.capitalize() for m in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec")}


def parse_bibtex(text: str) -> list[BibEntry]:
    """The entries of a BibTeX file (``@string`` macros expanded, ``@comment``/``@preamble`` skipped).

    Text between entries is ignored, as BibTeX itself does.
    """
    parser = _BibParser(text)
    return parser.entries()


class _BibParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.macros: dict[str, str] = dict(_MONTHS)

    def line(self, pos: int | None = None) -> int:
        return self.text.count("\n", 0, self.pos if pos is None else pos) + 1

    def entries(self) -> list[BibEntry]:
        out: list[BibEntry] = []
        text = self.text
        while True:
            at = text.find("@", self.pos)
            if at < 0:
                return out
            self.pos = at + 1
            m = re.compile(r"\s*([A-Za-z]+)\s*([{(])").match(text, self.pos)
            if not m:
                continue  # an "@" in free text (an e-mail address in a comment)
            kind, opener = m.group(1).lower(), m.group(2)
            closer = "}" if opener == "{" else ")"
            self.pos = m.end()
            start_line = self.line(at)
            if kind in ("comment", "preamble"):
                self.skip_balanced(opener, closer, start_line, kind)
                continue
            if kind == "string":
                name, value = self.field(start_line, "@string")
                self.macros[name] = value
                self.expect_close(closer, start_line, "@string")
                continue
            km = re.compile(r"\s*([^\s,{}()=]*)\s*,?").match(text, self.pos)
            key = km.group(1) if km else ""
            self.pos = km.end() if km else self.pos
            fields: dict[str, str] = {}
            while True:
                self.skip_space()
                if self.pos >= len(text):
                    raise _BibError(f"entry '{key}' starting on line {start_line} is not closed")
                if text[self.pos] == closer:
                    self.pos += 1
                    break
                if text[self.pos] == ",":
                    self.pos += 1
                    continue
                name, value = self.field(start_line, f"entry '{key}'")
                fields[name] = value
            out.append(BibEntry(kind, key, fields, start_line))

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def skip_balanced(self, opener: str, closer: str, start_line: int, what: str) -> None:
        depth = 1
        while self.pos < len(self.text):
            c = self.text[self.pos]
            self.pos += 1
            if c == opener:
                depth += 1
            elif c == closer:
                depth -= 1
                if depth == 0:
                    return
        raise _BibError(f"@{what} starting on line {start_line} is not closed")

    def expect_close(self, closer: str, start_line: int, what: str) -> None:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == closer:
            self.pos += 1
            return
        raise _BibError(f"{what} starting on line {start_line} is not closed")

    def field(self, start_line: int, what: str) -> tuple[str, str]:
        m = re.compile(r"\s*([A-Za-z][\w:.+-]*)\s*=\s*").match(self.text, self.pos)
        if not m:
            snippet = self.text[self.pos:self.pos + 20].split("\n")[0]
            raise _BibError(f"{what} starting on line {start_line}: expected 'name = value' on line "
                            f"{self.line()}, found '{snippet}'")
        self.pos = m.end()
        parts = [self.value(start_line, what)]
        while True:
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == "#":  # string concatenation
                self.pos += 1
                self.skip_space()
                parts.append(self.value(start_line, what))
            else:
                break
        return m.group(1).lower(), "".join(parts)

    def value(self, start_line: int, what: str) -> str:
        text = self.text
        if self.pos >= len(text):
            raise _BibError(f"{what} starting on line {start_line} is not closed")
        c = text[self.pos]
        if c in "{\"":
            depth, i = 0, self.pos
            while i < len(text):
                ch = text[i]
                if ch == "\\":
                    i += 2
                    continue
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0 and c == "{":
                        value = text[self.pos + 1:i]
                        self.pos = i + 1
                        return value
                    if depth < 0:
                        break
                elif ch == '"' and c == '"' and depth == 0 and i > self.pos:
                    value = text[self.pos + 1:i]
                    self.pos = i + 1
                    return value
                i += 1
            raise _BibError(f"{what} starting on line {start_line} has unbalanced braces or quotes "
                            f"(value on line {self.line()})")
        m = re.compile(r"[\w:.+-]+").match(text, self.pos)
        if not m:
            raise _BibError(f"{what} starting on line {start_line}: unexpected '{c}' on line {self.line()}")
        self.pos = m.end()
        word = m.group(0)
        return word if word.isdigit() else self.macros.get(word.lower(), word)


def split_bib_authors(value: str) -> list[str]:
    """``"Lovelace, Ada and Alan Turing and others"`` -> ``["Ada Lovelace", "Alan Turing"]``.

    Splits on " and " outside braces, so "{Barnes and Noble}" stays one name.
    """
    names: list[str] = []
    for raw in _split_top(value, r"\s+and\s+"):
        raw = raw.strip()
        if not raw or raw.lower() == "others":
            continue
        parts = [p.strip() for p in _split_top(raw, r",")]
        if len(parts) == 2:  # "Last, First"
            raw = f"{parts[1]} {parts[0]}"
        elif len(parts) >= 3:  # "Last, Jr, First"
            raw = f"{parts[2]} {parts[0]} {parts[1]}"
        names.append(" ".join(raw.split()))
    return names


def _split_top(text: str, sep: str) -> list[str]:
    """Split *text* on regex *sep* where it is not inside braces."""
    out, depth, start, i = [], 0, 0, 0
    pattern = re.compile(sep, re.IGNORECASE)
    while i < len(text):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            m = pattern.match(text, i)
            if m and m.end() > i:
                out.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    out.append(text[start:])
    return out


# LaTeX accent commands -> Unicode combining marks.
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
            "r": "\u030a", "d": "\u0323", "b": "\u0331"}
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ",
            "oe": "œ", "OE": "Œ", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð", "th": "þ", "TH": "Þ"}
_SYMBOLS = {"&": "&", "%": "%", "_": "_", "$": "$", "#": "#", "{": "{", "}": "}", " ": " ", ",": " ",
            "textendash": "–", "textemdash": "—", "textquoteright": "’", "textquoteleft": "‘", "ldots": "…",
            "dots": "…", "textasciitilde": "~", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
            "epsilon": "ε", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ", "theta": "θ",
            "phi": "φ", "omega": "ω", "infty": "∞", "times": "×", "to": "→", "rightarrow": "→"}
_ACCENT_RE = re.compile(
    r"\\(?:([`'^\"~=.])\s*|([uvHckrdb])(?:\s+|(?=\{)))"  # \'e, \' e, \v{s}, \v s
    r"(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|(\\[ij](?![A-Za-z])|[A-Za-z]))")
_LETTER_RE = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|dh|DH|th|TH|[oOlLij])(?![A-Za-z])(?:\s*\{\})?\s?")
_COMMAND_RE = re.compile(r"\\([A-Za-z]+|[&%_$#{} ,])\*?")


def latex_to_text(value: str) -> str:
    """BibTeX field text as plain Unicode: accents composed, braces and markup commands removed."""

    def accent(m: re.Match[str]) -> str:
        mark = _ACCENTS[m.group(1) or m.group(2)]
        base = m.group(3) or m.group(4)
        base = {"\\i": "i", "\\j": "j"}.get(base, base)
        return unicodedata.normalize("NFC", base + mark)

    text = _ACCENT_RE.sub(accent, value)
    text = _LETTER_RE.sub(lambda m: _LETTERS[m.group(1)], text)
    # Other commands: known symbols become their character; markup (\emph{x}, \textbf{x}) keeps its argument.
    text = _COMMAND_RE.sub(lambda m: _SYMBOLS.get(m.group(1), ""), text)
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = re.sub(r"(?<!\\)~", " ", text)  # a non-breaking space
    text = text.replace("{", "").replace("}", "").replace("$", "")
    return " ".join(unicodedata.normalize("NFC", text).split())

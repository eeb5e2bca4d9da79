"""Paper lists: the committed 300-entry lists in all three formats, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posterocr.exceptions import PosterocrError
from posterocr.papers import (Paper, PaperListError, latex_to_text, load_many, load_papers, normalise,
                              parse_bibtex, split_bib_authors)

DATA = Path(__file__).parent / "data" / "papers"
JSON_LIST, CSV_LIST, BIB_LIST = DATA / "iclr2025.json", DATA / "colm2025.csv", DATA / "zotero.bib"


@pytest.mark.parametrize("path", [JSON_LIST, CSV_LIST, BIB_LIST], ids=["json", "csv", "bibtex"])
def test_committed_lists_load_300_papers_and_warn_about_the_untitled_entry(path: Path) -> None:
    loaded = load_papers(path)
    assert len(loaded.papers) == 300
    assert len(loaded.warnings) == 1
    assert str(path) in loaded.warnings[0] and "no title" in loaded.warnings[0]
    for paper in loaded.papers:
        assert paper.title == paper.title.strip() and paper.title
        assert paper.source == str(path)
        assert not any(c in paper.title for c in "{}\\$"), paper.title
        for name in paper.authors:
            assert name and not any(c in name for c in "{}\\;"), name
    # Near-duplicates are there on purpose: distinct papers whose titles differ in one component.
    keys = [normalise(p.title) for p in loaded.papers]
    assert len(set(keys)) == len(keys)


def test_json_fields_authors_and_link_preference() -> None:
    papers = load_papers(JSON_LIST).papers
    raw = [e for e in json.loads(JSON_LIST.read_text(encoding="utf-8")) if e["title"]]
    assert [p.title for p in papers] == [e["title"] for e in raw]
    for paper, entry in zip(papers, raw):
        expected_authors = entry["authors"] if "authors" in entry else entry["author"].split("; ")
        assert list(paper.authors) == expected_authors
        if "arxiv" in entry:  # arXiv beats OpenReview
            assert paper.link == f"https://arxiv.org/abs/{entry['arxiv']}"
        else:  # "id" / "site" give the forum page, never the PDF
            assert paper.link == f"https://openreview.net/forum?id={entry['id']}"


def test_csv_quoted_titles_and_missing_links() -> None:
    papers = load_papers(CSV_LIST).papers
    assert any("," in p.title for p in papers)  # quoted titles with commas survive
    assert sum(1 for p in papers if not p.link) > 10
    assert all(p.link.startswith(("https://arxiv.org/abs/", "https://openreview.net/forum?id=")) for p in papers
               if p.link)
    assert all(len(p.authors) >= 1 for p in papers)


def test_bibtex_accents_braces_and_links() -> None:
    papers = load_papers(BIB_LIST).papers
    authors = {a for p in papers for a in p.authors}
    # LaTeX accents become Unicode ("M{\"u}ller" -> Müller, "{\L}ukasz" -> Łukasz, "Y{\i}lmaz" -> Yılmaz).
    assert {"Müller", "García", "Yılmaz"} & {a.split()[-1] for a in authors}
    assert any(a.startswith("Łukasz ") or a.startswith("Lucía ") or a.startswith("Jürgen ") for a in authors)
    assert any("LLMs" in p.title for p in papers)  # "{LLM}s" loses its braces
    text = BIB_LIST.read_text(encoding="utf-8")
    assert "{LLM}s" in text and '{\\"u}' in text  # ... and the file really has them
    hosts = {p.link.split("/")[2] for p in papers}
    assert hosts == {"arxiv.org", "aclanthology.org", "openreview.net"}  # arXiv eprints beat their DOIs
    # "and others" is not an author.
    assert "others" not in {a.lower() for a in authors}


def test_load_many_dedupes_by_normalised_title(tmp_path: Path) -> None:
    first = load_papers(JSON_LIST).papers[0]
    extra = tmp_path / "extra.csv"
    # Same paper, different case/punctuation, with an arXiv link: the arXiv link wins, the title stays.
    extra.write_text(f"title,authors,url\n\"{first.title.upper()}!\",,https://arxiv.org/abs/2401.00001\n"
                     "A Completely New Paper,Ada Lovelace,\n", encoding="utf-8")
    merged = load_many([JSON_LIST, extra])
    assert len(merged.papers) == 301
    got = next(p for p in merged.papers if normalise(p.title) == normalise(first.title))
    assert got.title == first.title and got.authors == first.authors
    assert got.link == "https://arxiv.org/abs/2401.00001"
    assert len(load_many([JSON_LIST, CSV_LIST, BIB_LIST]).papers) > 850


def test_format_detected_by_content_when_the_extension_says_nothing(tmp_path: Path) -> None:
    for src in (JSON_LIST, CSV_LIST, BIB_LIST):
        copy = tmp_path / (src.stem + ".txt")
        copy.write_bytes(src.read_bytes())
        assert [p.title for p in load_papers(copy).papers] == [p.title for p in load_papers(src).papers]


def test_openreview_api_notes_shape(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text(json.dumps({"notes": [
        {"id": "aB3dE5gH7j", "forum": "aB3dE5gH7j",
         "content": {"title": {"value": "Sparse Autoencoders Are Calibrated Learners"},
                     "authors": {"value": ["Ada Lovelace", "Alan Turing"]}}},
        {"id": "zZ9yY8xX7w", "content": {"title": {"value": ""}}},
    ]}), encoding="utf-8")
    loaded = load_papers(path)
    assert loaded.papers == (Paper("Sparse Autoencoders Are Calibrated Learners", ("Ada Lovelace", "Alan Turing"),
                                   "https://openreview.net/forum?id=aB3dE5gH7j", str(path)),)
    assert loaded.warnings == (f"{path}: entry 2 has no title; skipped",)


def test_author_strings_in_other_separators(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    path.write_text(json.dumps([
        {"title": "A", "authors": "Ada Lovelace, Alan Turing"},
        {"title": "B", "author": "Lovelace, Ada"},
        {"title": "C", "authors": "Ada Lovelace and Alan Turing"},
        {"title": "D", "authors": [{"name": "Grace Hopper"}, "Claude Shannon"]},
        {"title": "E", "doi": "10.1145/3580305.3599123", "url": "https://lab.example.org/e"},
        {"title": "F", "id": "1234"},  # a paper number, not an OpenReview id
    ]), encoding="utf-8")
    got = {p.title: p for p in load_papers(path).papers}
    assert got["A"].authors == ("Ada Lovelace", "Alan Turing")
    assert got["B"].authors == ("Lovelace, Ada",)
    assert got["C"].authors == ("Ada Lovelace", "Alan Turing")
    assert got["D"].authors == ("Grace Hopper", "Claude Shannon")
    assert got["E"].link == "https://doi.org/10.1145/3580305.3599123"
    assert got["F"].link == ""


@pytest.mark.parametrize("name, content, problem", [
    ("bad.json", '[{"title": "A"},\n {"title": "B"', "not valid JSON (line 2"),
    ("obj.json", '{"conference": "ICLR"}', "without a list of papers"),
    ("num.json", "42", "not a list of papers"),
    ("none.csv", "name,authors\nA,B\n", 'no "title" column'),
    ("empty.csv", "", "no CSV header"),
    ("open.bib", "@article{key1,\n title = {Unclosed {brace},\n}\n", "key1"),
    ("garbage.bib", "@article{key2,\n title = {A},\n 12 oops\n}\n", "expected 'name = value'"),
    ("untitled.bib", "@misc{k, author = {A B}}\n", "no paper with a title"),
    # Line and byte point at the culprit: 0xfc is a Latin-1 "ü".
    ("latin1.csv", "title\nM\xfcller's Paper\n", "2: not UTF-8 text (byte 0xfc); re-save the paper list as UTF-8"),
])
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path: Path, name: str, content: str,
                                                         problem: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(PaperListError) as info:
        load_papers(path)
    message = str(info.value)
    assert message.startswith(f"{path}:") and problem in message
    assert "\n" not in message
    assert isinstance(info.value, PosterocrError)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(PaperListError, match=r"nope\.json: no such paper list; check the --papers path$"):
        load_papers(tmp_path / "nope.json")
    with pytest.raises(PaperListError, match="is a folder, not a paper list; give the paper list file itself$"):
        load_papers(tmp_path)


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"  # Excel's "CSV UTF-8" starts with a BOM
    path.write_bytes("title,authors\nA Study,Ann Lee\n".encode("utf-8-sig"))
    assert [(p.title, p.authors) for p in load_papers(path).papers] == [("A Study", ("Ann Lee",))]


@pytest.mark.parametrize("latex, text", [
    (r"M{\"u}ller", "Müller"), (r"M\"uller", "Müller"), (r"Garc\'{\i}a", "García"), (r"Y{\i}lmaz", "Yılmaz"),
    (r"{\L}ukasz", "Łukasz"), (r"\L{}ukasz", "Łukasz"), (r"Ko\v{s}ick\'y", "Košický"), (r"Stra\ss e", "Straße"),
    (r"\c{C}elik", "Çelik"), (r"\AA{}str\"om", "Åström"), (r"Ren\'{e} \~Nu\~{n}ez", "René Ñuñez"),
    (r"{Scaling} {LLM}s with \emph{Tiny} Drafts --- a Study", "Scaling LLMs with Tiny Drafts — a Study"),
    (r"$k$-NN and \textbf{Q\&A}", "k-NN and Q&A"), (r"{CA}-{LoRA}:~Adapting", "CA-LoRA: Adapting"),
])
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


def test_bibtex_parser_strings_comments_and_concatenation() -> None:
    entries = parse_bibtex(
        '@comment{ignored {nested} }\n@string{iclr = "International Conference on Learning Representations"}\n'
        'Free text between entries is ignored, even an e-mail a@b.org.\n'
        '@InProceedings( key,\n  Title = "Quoted {Title} Here",\n  booktitle = iclr # " 2025",\n  month = jan,\n'
        '  year = 2025 )\n')
    assert len(entries) == 1
    e = entries[0]
    assert (e.kind, e.key, e.line) == ("inproceedings", "key", 4)
    assert e.fields["title"] == "Quoted {Title} Here"
    assert e.fields["booktitle"] == "International Conference on Learning Representations 2025"
    assert e.fields["month"] == "Jan" and e.fields["year"] == "2025"
    assert split_bib_authors(r"Lovelace, Ada and {Barnes and Noble} and M{\"u}ller, Jr., Hans and others") == [
        "Ada Lovelace", "{Barnes and Noble}", r"Hans M{\"u}ller Jr."]


def test_normalise_joins_hyphenated_words_and_drops_accents_and_punctuation() -> None:
    assert normalise("Memory-Efficient LLMs: Zürich’s “Test”!") == "memoryefficient llms zurichs test"
    assert normalise("Memory-Efficient") == normalise("Memory\u2010efficient") == normalise("MEMORY-EFFICIENT")

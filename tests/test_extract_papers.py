"""``extract --papers`` end to end: the CLI on generated 12 MP photos, real Tesseract and zxing-cpp.

Posters whose title is in the list get the list's exact title, its authors and a
link; posters not in the list stay unmatched; the user's caption survives; QR
links are set also without a list; the page links the caption.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from posterocr import _tesseract, links
from posterocr.cli import main
from posterocr.papers import normalise

import synth

pytestmark = pytest.mark.slow

PAPERS = Path(__file__).parent / "data" / "papers"
SEED = 4401


def _entries(draft: Path) -> dict[str, dict]:
    return {Path(e["photo"]).name: e for e in YAML(typ="rt").load(draft.read_text(encoding="utf-8"))["posters"]}


@pytest.fixture()
def folder(tmp_path: Path, photo_set, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[dict]]:
    """Eight generated 12 MP photos (two HEIC) in tmp/img, cwd = tmp."""
    source, samples = photo_set("papers-e2e", 8, seed=SEED, size=(3024, 4032), heic_every=4)
    img = tmp_path / "img"
    img.mkdir()
    for sample in samples:
        shutil.copy2(sample["path"], img)
    monkeypatch.chdir(tmp_path)
    return img, samples


def _write_list(path: Path, in_list: list[dict]) -> dict[str, str]:
    """The committed 300-entry CSV plus *in_list*'s true titles and authors, each with an arXiv link."""
    links_by_title = {}
    with (PAPERS / "colm2025.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for n, sample in enumerate(in_list):
        link = f"https://arxiv.org/abs/2501.{10000 + n}"
        links_by_title[sample["title"]] = link
        rows.insert(37 * n + 5, {"title": sample["title"], "authors": sample["authors"].replace(", ", "; "),
                                 "url": link})
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["title", "authors", "url"])
        writer.writeheader()
        writer.writerows(rows)
    return links_by_title


def test_papers_in_the_list_get_title_authors_and_link_the_others_stay_unmatched(folder, tmp_path: Path) -> None:
    img, samples = folder
    in_list, not_in_list = samples[:5], samples[5:]
    listed = _write_list(tmp_path / "accepted.csv", in_list)
    truth_keys = {normalise(s["title"]) for s in samples}
    assert not any(normalise(r["title"]) in truth_keys for r in csv.DictReader((PAPERS / "colm2025.csv").open()))

    # A first run without the list; the user then edits one caption.
    assert main(["extract", str(img), "-j", "2"]) == 0
    draft = tmp_path / "posters.yaml"
    text = draft.read_text(encoding="utf-8")
    edited = Path(in_list[1]["path"]).name
    entry_at = text.index(f"photo: img/{edited}")
    caption_at = text.index("caption:", entry_at)
    line_end = text.index("\n", caption_at)
    draft.write_text(text[:caption_at] + 'caption: "My own words"' + text[line_end:], encoding="utf-8")

    assert main(["extract", str(img), "-j", "2", "--papers", str(tmp_path / "accepted.csv"),
                 "--papers", str(PAPERS / "iclr2025.json")]) == 0
    entries = _entries(draft)
    matched = 0
    for sample in in_list:
        entry = entries[Path(sample["path"]).name]
        paper = entry["measured"].get("paper")
        if not paper:  # no match is allowed (a hand over the title), a wrong one is not
            assert entry["measured"].get("status") in ("ok", "flagged")
            continue
        matched += 1
        assert paper["title"] == sample["title"] == entry["title"]
        assert ", ".join(paper["authors"]) == sample["authors"]
        assert paper["link"] == listed[sample["title"]]
        assert 0.86 <= paper["score"] <= 1.0
        # The poster's own QR code may carry a better-ranked paper link; otherwise the list's link is used.
        assert entry["link"] in [paper["link"], *entry["measured"].get("links", [])] or \
            links.link_rank(entry["link"]) <= links.link_rank(paper["link"])
        if Path(sample["path"]).name == edited:
            assert entry["caption"] == "My own words"
        else:
            assert entry["caption"] == sample["title"]
    assert matched >= 4, f"only {matched}/5 in-list posters matched"
    for sample in not_in_list:
        entry = entries[Path(sample["path"]).name]
        assert not entry["measured"]["paper"], (sample["path"], entry["measured"]["paper"])
        assert not entry["link"].startswith("https://arxiv.org/abs/2501.")

    # The page: the caption is the link; the matched authors are shown.
    assert main(["render", str(draft), "-o", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    md = (tmp_path / "out" / "index.md").read_text(encoding="utf-8")
    first = entries[Path(in_list[0]["path"]).name]
    if first["measured"]["paper"]:
        assert f'href="{first["link"]}"' in page
        assert f"[{first['caption']}]({first['link']})" in md.replace("\\", "")
        assert first["measured"]["paper"]["authors"][0] in page


def test_a_changed_list_rereads_and_an_unchanged_run_reads_nothing(folder, tmp_path: Path) -> None:
    img, samples = folder
    _write_list(tmp_path / "accepted.csv", samples[:2])
    args = ["extract", str(img), "-j", "1", "--papers", str(tmp_path / "accepted.csv")]
    assert main(args) == 0
    before = _tesseract.calls
    assert main(args) == 0
    assert _tesseract.calls == before  # same photos, same list: all from the cache
    _write_list(tmp_path / "accepted.csv", samples[:3])  # the list grew: every poster is matched again
    assert main(args) == 0
    assert _tesseract.calls >= before + 2 * len(samples)


def test_qr_link_without_a_paper_list(folder, tmp_path: Path) -> None:
    img, samples = folder
    assert main(["extract", str(img), "-j", "2"]) == 0
    entries = _entries(tmp_path / "posters.yaml")
    with_codes = 0
    for n, sample in enumerate(samples, 1):
        payloads = [u for u in (links.normalise_url(p) for p in synth.qr_payloads(SEED, n)) if u]
        entry = entries[Path(sample["path"]).name]
        found = [entry["measured"]["link"], *entry["measured"].get("links", [])]
        assert all(u in payloads for u in found if u), (sample["path"], found, payloads)  # nothing invented
        if payloads:
            with_codes += 1
            best, _ = links.best_link(payloads)
            assert entry["link"] == best, (sample["path"], entry["link"], payloads)
    assert with_codes >= 2, "the set should hold posters with QR codes"

"""render: real photos (JPEG with EXIF+GPS, HEIC) -> web JPEGs, index.md checked by real Pandoc, index.html."""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageDraw

from posterocr.draft import load_draft, load_or_new_draft, save_draft
from posterocr.exceptions import OutputError, PhotoError
from posterocr.records import Detection, PhotoResult, TitleReading
from posterocr.render import RenderSettings, markdown_escape, render, render_markdown, Figure

pillow_heif.register_heif_opener()
PANDOC = shutil.which("pandoc")
REFERENCE = Path("/work/shared/reference/colm2024.md")
RED, BLUE, WALL = (220, 30, 30), (30, 60, 220), (120, 120, 110)


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 13"
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 22.0, 7.5), "E", (4.0, 53.0, 2.1)
    return exif


def poster_photo(size: tuple[int, int], quad: list[tuple[int, int]]) -> Image.Image:
    """An upright 'photo': a wall with a poster quad, red on its left half, blue on its right."""
    im = Image.new("RGB", size, WALL)
    draw = ImageDraw.Draw(im)
    tl, tr, br, bl = quad
    top_mid = ((tl[0] + tr[0]) // 2, (tl[1] + tr[1]) // 2)
    bottom_mid = ((bl[0] + br[0]) // 2, (bl[1] + br[1]) // 2)
    draw.polygon([tl, top_mid, bottom_mid, bl], fill=RED)
    draw.polygon([top_mid, tr, br, bottom_mid], fill=BLUE)
    return im


CAPTIONS = {
    "IMG_1.jpg": "Counting *Transformers* with under_scores [v2] & C:\\path",
    "IMG_2.HEIC": "<script>alert(1)</script> LLMs plan ahead?",
    "IMG_3.png": "A skipped poster",
}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A folder with three real photos and a draft made by the real merge, then edited like a user would."""
    img = tmp_path / "img"
    img.mkdir()
    results = []
    # 1: JPEG stored sideways (EXIF orientation 6) with GPS; upright it is 2000x2600, poster taller than 1600.
    quad1 = [(150, 200), (1800, 260), (1760, 2400), (120, 2350)]
    upright = poster_photo((2000, 2600), quad1)
    upright.transpose(Image.Transpose.ROTATE_90).save(img / "IMG_1.jpg", exif=exif_with_gps(6), quality=90)
    results.append(("IMG_1.jpg", quad1, (2000, 2600)))
    # 2: HEIC with GPS.
    quad2 = [(40, 30), (560, 50), (580, 420), (20, 400)]
    poster_photo((640, 480), quad2).save(img / "IMG_2.HEIC", exif=exif_with_gps().tobytes(), quality=80)
    results.append(("IMG_2.HEIC", quad2, (640, 480)))
    # 3: PNG the user will skip.
    quad3 = [(10, 10), (300, 10), (300, 200), (10, 200)]
    poster_photo((320, 240), quad3).save(img / "IMG_3.png")
    results.append(("IMG_3.png", quad3, (320, 240)))

    draft = load_or_new_draft(tmp_path / "posters.yaml")
    draft.merge([PhotoResult(photo=f"img/{name}", sha256="0" * 64, size=size,
                             detection=Detection(tuple(map(tuple, quad)), 0.9, True, "test"),
                             title=TitleReading(f"read {name}", 0.9)) for name, quad, size in results],
                draft_dir=tmp_path)
    page = draft.data["page"]
    page["title"] = "COLM posters: the interesting ones"
    page["author"] = "[Matthew Finlayson](index.html)"
    for entry in draft.data["posters"]:
        name = entry["photo"].split("/")[-1]
        entry["caption"] = CAPTIONS[name]
    first, second, third = draft.data["posters"]
    first["comment"] = "Relates to **our** work.\n\nSecond paragraph with `code`.\n"
    first["link"] = "arxiv.org/abs/2401.00001"
    second["comment"] = "Careful: <script>alert(1)</script> and <b>bold?</b>"
    third["skip"] = True
    save_draft(draft, tmp_path / "posters.yaml")
    assert load_draft(tmp_path / "posters.yaml").problems() == []
    return tmp_path


class Figures(HTMLParser):
    """Collects (img alt, img attrs, figcaption text, figcaption hrefs) per <figure>."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self.tags: list[str] = []
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "figure":
            self.figures.append({"alt": None, "img": None, "caption": "", "hrefs": []})
        elif tag == "img" and self.figures and self.figures[-1]["img"] is None:
            self.figures[-1]["img"], self.figures[-1]["alt"] = a, a.get("alt")
        elif tag == "figcaption":
            self._in_caption = True
        elif tag == "a" and self._in_caption:
            self.figures[-1]["hrefs"].append(a.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.figures[-1]["caption"] += data

    @classmethod
    def of(cls, html: str) -> Figures:
        parser = cls()
        parser.feed(html)
        for fig in parser.figures:
            fig["caption"] = " ".join(fig["caption"].split())
        return parser


def pandoc(markdown: Path) -> str:
    return subprocess.run([PANDOC, "--standalone", "-f", "markdown+implicit_figures", str(markdown)],
                          check=True, capture_output=True, text=True, timeout=60).stdout


def test_render_images_have_no_metadata_and_are_web_sized(project: Path) -> None:
    out = project / "output"
    report = render(project / "posters.yaml", out)
    assert report.rendered == 2 and report.skipped == () and report.hidden == ("img/IMG_3.png",)
    assert sorted(p.name for p in (out / "img").iterdir()) == ["IMG_1.jpg.jpg", "IMG_2.HEIC.jpg"]
    assert sorted(p.name for p in out.iterdir()) == ["img", "index.html", "index.md"]
    for path in report.images:
        raw = path.read_bytes()
        assert b"Exif" not in raw and b"Apple" not in raw and b"ICC_PROFILE" not in raw
        with Image.open(path) as im:
            assert im.format == "JPEG" and len(im.getexif()) == 0
            assert "exif" not in im.info and "icc_profile" not in im.info
            assert im.info.get("progressive") or im.info.get("progression")
            assert max(im.size) <= 1600
    # The sideways JPEG was turned upright and straightened with the draft's corners:
    # red on the left, blue on the right, no wall, and the long side capped at exactly 1600.
    with Image.open(out / "img" / "IMG_1.jpg.jpg") as im:
        w, h = im.size
        assert h == 1600 and 1100 < w < 1300
        rgb = im.convert("RGB")
        for x, colour in ((0.04, RED), (0.45, RED), (0.55, BLUE), (0.96, BLUE)):
            for y in (0.04, 0.5, 0.96):
                pixel = rgb.getpixel((int(x * w), int(y * h)))
                assert all(abs(p - c) < 40 for p, c in zip(pixel, colour)), (x, y, pixel)


@pytest.mark.skipif(PANDOC is None, reason="pandoc not installed")
def test_markdown_makes_one_pandoc_figure_per_poster(project: Path) -> None:
    out = project / "output"
    render(project / "posters.yaml", out)
    md = (out / "index.md").read_text()
    assert md.startswith('---\ntitle: "COLM posters: the interesting ones"\nsubtitle: Notes on 2 posters\n'
                         'author: "[Matthew Finlayson](index.html)"\n---\n\n------\n\n![')
    html = pandoc(out / "index.md")
    figures = Figures.of(html).figures
    assert [f["caption"] for f in figures] == [CAPTIONS["IMG_1.jpg"], CAPTIONS["IMG_2.HEIC"]]
    assert [f["img"]["src"] for f in figures] == ["img/IMG_1.jpg.jpg", "img/IMG_2.HEIC.jpg"]
    assert figures[0]["hrefs"] == ["https://arxiv.org/abs/2401.00001"]
    assert '<p class="author"><a href="index.html">Matthew Finlayson</a></p>' in html
    assert "<strong>our</strong>" in html


@pytest.mark.skipif(PANDOC is None, reason="pandoc not installed")
def test_any_caption_survives_pandoc(tmp_path: Path) -> None:
    """200 random captions full of Markdown punctuation come back from Pandoc unchanged."""
    rng = random.Random(7)
    alphabet = "ab Z9 *_[]()<>&$^~@\"'|\\`#!-.:;{}%+=/?é—" + "x" * 10
    captions = [" ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))).split()) or "x"
                for _ in range(200)]
    figures = [Figure(image=f"img/{i}.jpg", caption=c, comment="", link="", width=1, height=1, anchor=str(i))
               for i, c in enumerate(captions)]
    md = tmp_path / "index.md"
    md.write_text(render_markdown({"title": "t"}, figures))
    got = Figures.of(pandoc(md)).figures
    assert len(got) == len(captions)
    for fig, caption in zip(got, captions):
        assert fig["caption"] == caption, markdown_escape(caption)
        assert " ".join(fig["alt"].split()) == caption


def test_html_page(project: Path) -> None:
    out = project / "output"
    render(project / "posters.yaml", out)
    html = (out / "index.html").read_text()
    parsed = Figures.of(html)
    assert [f["alt"] for f in parsed.figures] == [CAPTIONS["IMG_1.jpg"], CAPTIONS["IMG_2.HEIC"]]
    assert [f["caption"] for f in parsed.figures] == [f["alt"] for f in parsed.figures]
    assert parsed.figures[0]["hrefs"] == ["https://arxiv.org/abs/2401.00001"]
    for fig in parsed.figures:
        with Image.open(out / fig["img"]["src"]) as im:
            assert (int(fig["img"]["width"]), int(fig["img"]["height"])) == im.size
        assert fig["img"]["loading"] == "lazy"
    # User text never becomes markup: the script shows as text, in the caption and in the comment.
    assert "script" not in parsed.tags and "b" not in parsed.tags
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # alt, figcaption, comment
    assert "<strong>our</strong>" in html and "<code>code</code>" in html
    assert '<a href="index.html">Matthew Finlayson</a>' in html
    # Standalone and phone-friendly.
    assert 'name="viewport"' in html and "prefers-color-scheme: dark" in html
    assert "link" not in parsed.tags and not re.search(r'(src|href)="(https?:)?//(?!arxiv)', html)


def test_missing_photo_is_skipped_or_fatal_when_strict(project: Path) -> None:
    (project / "img" / "IMG_2.HEIC").unlink()
    report = render(project / "posters.yaml", project / "out")
    assert report.rendered == 1
    assert [photo for photo, _ in report.skipped] == ["img/IMG_2.HEIC"] and "not found" in report.skipped[0][1]
    with pytest.raises(PhotoError, match="IMG_2.HEIC: photo not found"):
        render(project / "posters.yaml", project / "out2", settings=RenderSettings(strict=True))


def test_unreadable_output_folder_keeps_previous_page(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = project / "output"
    render(project / "posters.yaml", out)
    before = (out / "index.html").read_bytes()
    draft = load_draft(project / "posters.yaml")
    draft.data["posters"][0]["caption"] = "Changed caption"
    save_draft(draft, project / "posters.yaml")
    os.chmod(out, 0o555)
    try:
        if os.access(out, os.W_OK):  # root ignores the mode: inject a full disk instead
            def full(src: object, dst: object) -> None:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            monkeypatch.setattr(os, "replace", full)
        with pytest.raises(OutputError, match=r"cannot write .*choose another output folder with -o"):
            render(project / "posters.yaml", out)
    finally:
        os.chmod(out, 0o755)
    assert (out / "index.html").read_bytes() == before
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_reference_page_shape(tmp_path: Path) -> None:
    """The hand-written reference page comes out byte for byte from an equivalent draft."""
    if not REFERENCE.exists():
        pytest.skip("reference page not available")
    text = REFERENCE.read_text()
    head, body = text.split("\n------\n\n", 1)
    blocks = re.findall(r"^!\[([^\]\n]*)\]\(img/([^)\n]*)\.jpg\)\n\n(.*?)(?=\n\n!\[|\n\Z)", body, re.M | re.S)
    assert len(blocks) == body.count("![") >= 10
    front = dict(line.split(": ", 1) for line in head.strip("-\n").splitlines())
    (tmp_path / "img").mkdir()
    draft = load_or_new_draft(tmp_path / "posters.yaml")
    for _, name, _ in blocks:
        Image.new("RGB", (40, 30), (90, 90, 90)).save(tmp_path / "img" / name, format="HEIF")
    draft.merge([PhotoResult(photo=f"img/{name}", size=(40, 30),
                             detection=Detection(((0, 0), (39, 0), (39, 29), (0, 29)), 0.9, True),
                             title=TitleReading("t", 0.9)) for _, name, _ in blocks], draft_dir=tmp_path)
    draft.data["page"]["title"] = front["title"]
    draft.data["page"]["subtitle"] = front["subtitle"]
    draft.data["page"]["author"] = front["author"].strip('"')
    by_name = {name: (caption, comment) for caption, name, comment in blocks}
    for entry in draft.data["posters"]:
        entry["caption"], entry["comment"] = by_name[entry["photo"].removeprefix("img/")]
    save_draft(draft, tmp_path / "posters.yaml")
    render(tmp_path / "posters.yaml", tmp_path / "out")
    assert (tmp_path / "out" / "index.md").read_text() == text


def test_unsafe_link_is_not_linked_and_reported(project: Path) -> None:
    draft = load_draft(project / "posters.yaml")
    draft.data["posters"][1]["link"] = "javascript:alert(1)"
    save_draft(draft, project / "posters.yaml")
    report = render(project / "posters.yaml", project / "out")
    assert any("IMG_2.HEIC" in p and "javascript" in p for p in report.problems)
    html = (project / "out" / "index.html").read_text()
    md = (project / "out" / "index.md").read_text()
    assert "javascript:" not in html and "javascript:" not in md


def test_empty_draft_renders_an_empty_page(tmp_path: Path) -> None:
    save_draft(load_or_new_draft(tmp_path / "posters.yaml"), tmp_path / "posters.yaml")
    report = render(tmp_path / "posters.yaml", tmp_path / "out")
    assert report.rendered == 0
    assert (tmp_path / "out" / "index.md").read_text() == \
        "---\ntitle: Poster notes\nsubtitle: Notes on no posters\n---\n\n------\n"
    assert Figures.of((tmp_path / "out" / "index.html").read_text()).figures == []

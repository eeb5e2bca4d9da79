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

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageDraw

from posterocr.draft import load_draft, load_or_new_draft, save_draft
from posterocr.exceptions import OutputError, PhotoError
from posterocr.records import Detection, PhotoResult, TitleReading
from posterocr.render import (Figure, RenderSettings, TemplateError, markdown_escape, render, render_html,
                              render_markdown)
from posterocr.webimages import ImageSettings, plan_sides

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
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "figure":
            self.figures.append({"alt": None, "img": None, "caption": "", "title": "", "hrefs": []})
        elif tag == "h2" and self._in_caption:
            self._in_title = True
        elif tag == "img" and self.figures and self.figures[-1]["img"] is None:
            self.figures[-1]["img"], self.figures[-1]["alt"] = a, a.get("alt")
        elif tag == "figcaption":
            self._in_caption = True
        elif tag == "a" and self._in_caption:
            self.figures[-1]["hrefs"].append(a.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "figcaption":
            self._in_caption = False
        elif tag == "h2":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.figures[-1]["caption"] += data
        if self._in_title:
            self.figures[-1]["title"] += data

    @classmethod
    def of(cls, html: str) -> Figures:
        parser = cls()
        parser.feed(html)
        for fig in parser.figures:
            fig["caption"] = " ".join(fig["caption"].split())
            fig["title"] = " ".join(fig["title"].split())
        return parser


def pandoc(markdown: Path) -> str:
    return subprocess.run([PANDOC, "--standalone", "-f", "markdown+implicit_figures", str(markdown)],
                          check=True, capture_output=True, text=True, timeout=60).stdout


def assert_no_metadata(path: Path) -> None:
    raw = path.read_bytes()
    assert b"Exif" not in raw and b"Apple" not in raw and b"ICC_PROFILE" not in raw, path
    with Image.open(path) as im:
        assert len(im.getexif()) == 0 and "exif" not in im.info and "icc_profile" not in im.info, path


def test_render_images_have_no_metadata_and_are_web_sized(project: Path) -> None:
    out = project / "output"
    report = render(project / "posters.yaml", out)
    assert report.rendered == 2 and report.skipped == () and report.hidden == ("img/IMG_3.png",)
    # IMG_2's poster is ~550 px: one image, never upscaled to 640 or 1280.
    assert sorted(p.name for p in (out / "img").iterdir()) == \
        [".manifest.json", "IMG_1.jpg-640.jpg", "IMG_1.jpg.jpg", "IMG_2.HEIC.jpg"]
    assert sorted(p.name for p in out.iterdir()) == ["img", "index.html", "index.md"]  # no photo copied
    assert len(report.images) == 3
    for path in report.images:
        assert_no_metadata(path)
        with Image.open(path) as im:
            assert im.format == "JPEG" and (im.info.get("progressive") or im.info.get("progression"))
    # The sideways JPEG was turned upright and straightened with the draft's corners:
    # red on the left, blue on the right, no wall, and the long side exactly 1280 (640 for the small one).
    for name, side in (("IMG_1.jpg.jpg", 1280), ("IMG_1.jpg-640.jpg", 640)):
        with Image.open(out / "img" / name) as im:
            w, h = im.size
            assert h == side and 0.55 * side < w < 0.8 * side
            rgb = im.convert("RGB")
            for x, colour in ((0.04, RED), (0.45, RED), (0.55, BLUE), (0.96, BLUE)):
                for y in (0.04, 0.5, 0.96):
                    pixel = rgb.getpixel((int(x * w), int(y * h)))
                    assert all(abs(p - c) < 40 for p, c in zip(pixel, colour)), (name, x, y, pixel)
    with Image.open(out / "img" / "IMG_2.HEIC.jpg") as im:
        assert 500 < max(im.size) < 600
    photos = sum(p.stat().st_size for p in (project / "img").iterdir() if p.name != "IMG_3.png")
    assert report.photo_bytes == photos
    assert report.output_bytes == sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name[0] != ".")


def test_phone_colour_profiles_are_converted_to_srgb(project: Path) -> None:
    """iPhones store Display P3 numbers and a profile saying so; the page's images must show the same colours."""
    from synth.icc import display_p3_profile, srgb_to_display_p3

    img = project / "img"
    quad1 = [(150, 200), (1800, 260), (1760, 2400), (120, 2350)]  # the fixture's photos, re-saved in P3
    p3 = Image.fromarray(srgb_to_display_p3(np.asarray(poster_photo((2000, 2600), quad1))))
    p3.transpose(Image.Transpose.ROTATE_90).save(img / "IMG_1.jpg", exif=exif_with_gps(6), quality=90,
                                                 icc_profile=display_p3_profile())
    quad2 = [(40, 30), (560, 50), (580, 420), (20, 400)]
    heic = Image.fromarray(srgb_to_display_p3(np.asarray(poster_photo((640, 480), quad2))))
    heic.save(img / "IMG_2.HEIC", quality=90, icc_profile=display_p3_profile())
    stored = p3.getpixel((600, 1300))
    # The numbers in the file are not sRGB's: shown as they are, the red is a duller orange-red.
    assert max(abs(a - b) for a, b in zip(stored, RED)) > 20, stored

    report = render(project / "posters.yaml", project / "output")
    assert report.rendered == 2
    for name in ("IMG_1.jpg.jpg", "IMG_2.HEIC.jpg"):
        assert_no_metadata(project / "output" / "img" / name)
        with Image.open(project / "output" / "img" / name) as im:
            rgb, (w, h) = im.convert("RGB"), im.size
            left, right = rgb.getpixel((int(0.25 * w), h // 2)), rgb.getpixel((int(0.75 * w), h // 2))
        assert all(abs(a - b) < 8 for a, b in zip(left, RED)), (name, left)
        assert all(abs(a - b) < 8 for a, b in zip(right, BLUE)), (name, right)

    # A profile that cannot be read is no reason to fail: the pixels are published as they are.
    p3.transpose(Image.Transpose.ROTATE_90).save(img / "IMG_1.jpg", exif=exif_with_gps(6), quality=90,
                                                 icc_profile=b"not a profile" * 20)
    assert render(project / "posters.yaml", project / "output").rendered == 2
    with Image.open(project / "output" / "img" / "IMG_1.jpg.jpg") as im:
        left = im.convert("RGB").getpixel((int(0.25 * im.size[0]), im.size[1] // 2))
    assert all(abs(a - b) < 8 for a, b in zip(left, stored)), left


def test_size_plan_never_upscales() -> None:
    three = ImageSettings(widths=(640, 1280, 2048))
    assert plan_sides(5000, three) == (1280, [(640, 640), (2048, 2048)])
    assert plan_sides(1700, three) == (1280, [(640, 640), (2048, 1700)])  # capped at the crop
    assert plan_sides(1400, three) == (1280, [(640, 640)])  # not 20 % more than the main image
    assert plan_sides(900, three) == (900, [(640, 640)])
    assert plan_sides(600, three) == (600, [])
    assert plan_sides(3000, ImageSettings(widths=(480, 640, 2048, 2100))) == \
        (1280, [(480, 480), (640, 640), (2048, 2048)])  # 2100 would add nothing over 2048


def test_larger_variant_and_webp(project: Path) -> None:
    out = project / "output"
    report = render(project / "posters.yaml", out, settings=RenderSettings(widths=(640, 1280, 2048), webp=True))
    names = sorted(p.name for p in (out / "img").iterdir() if p.name[0] != ".")
    assert names == ["IMG_1.jpg-2048.jpg", "IMG_1.jpg-2048.webp", "IMG_1.jpg-640.jpg", "IMG_1.jpg-640.webp",
                     "IMG_1.jpg.jpg", "IMG_1.jpg.webp", "IMG_2.HEIC.jpg", "IMG_2.HEIC.webp"]
    for path in report.images:
        assert_no_metadata(path)
    with Image.open(out / "img" / "IMG_1.jpg-2048.jpg") as im:
        assert im.size[1] == 2048
    with Image.open(out / "img" / "IMG_1.jpg-2048.webp") as im:
        assert im.format == "WEBP" and im.size[1] == 2048
    html = (out / "index.html").read_text()
    first = Figures.of(html).figures[0]
    srcset = [c.split() for c in first["img"]["srcset"].split(", ")]
    for file, width in srcset:
        with Image.open(out / file) as im:
            assert f"{im.size[0]}w" == width
    assert [f for f, _ in srcset] == ["img/IMG_1.jpg-640.jpg", "img/IMG_1.jpg.jpg", "img/IMG_1.jpg-2048.jpg"]
    assert '<source type="image/webp" srcset="img/IMG_1.jpg-640.webp 4' in html
    assert 'href="img/IMG_1.jpg-2048.jpg"' in html  # the enlarged view gets the largest
    # Pandoc's page keeps the 1280 px JPEG.
    assert "![" in (md := (out / "index.md").read_text()) and "(img/IMG_1.jpg.jpg)" in md


def test_exif_and_originals_only_on_request(project: Path) -> None:
    out = project / "out"
    render(project / "posters.yaml", out, settings=RenderSettings(include_originals=True))
    assert sorted(p.name for p in (out / "originals").iterdir()) == ["IMG_1.jpg.jpg", "IMG_2.HEIC.jpg"]
    for path in (out / "originals").iterdir():  # full resolution, upright, but no GPS
        assert_no_metadata(path)
    with Image.open(out / "originals" / "IMG_1.jpg.jpg") as im:
        assert im.size == (2000, 2600)
    assert 'href="originals/IMG_1.jpg.jpg"' in (out / "index.html").read_text()

    render(project / "posters.yaml", out, settings=RenderSettings(include_originals=True, keep_exif=True))
    assert (out / "originals" / "IMG_1.jpg").read_bytes() == (project / "img" / "IMG_1.jpg").read_bytes()
    assert not (out / "originals" / "IMG_1.jpg.jpg").exists()  # the stripped copy made way
    for name in ("IMG_1.jpg.jpg", "IMG_2.HEIC.jpg"):
        with Image.open(out / "img" / name) as im:
            exif = im.getexif()
            assert exif[0x010F] == "Apple" and exif.get_ifd(0x8825)[1] == "N"
            assert exif[0x0112] == 1  # the pixels are upright already
    with Image.open(out / "img" / "IMG_1.jpg.jpg") as im:
        assert im.size[1] == 1280  # and shown upright by viewers that honour the tag

    render(project / "posters.yaml", out)  # back to the defaults: nothing private is left behind
    assert not (out / "originals").exists()
    for path in (out / "img").glob("*.jpg"):
        assert_no_metadata(path)


def test_rerender_skips_unchanged_images(project: Path) -> None:
    out = project / "output"
    render(project / "posters.yaml", out)
    (out / "img" / "notes.txt").write_text("mine")

    def stamps() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in (out / "img").glob("*.jpg")}

    first = stamps()
    report = render(project / "posters.yaml", out)
    assert report.reused == 2 and stamps() == first
    # New corners for one poster: only that one is made again.
    draft = load_draft(project / "posters.yaml")
    draft.data["posters"][1]["corners"] = [[60, 40], [540, 60], [560, 400], [40, 390]]
    save_draft(draft, project / "posters.yaml")
    report = render(project / "posters.yaml", out)
    second = stamps()
    assert report.reused == 1
    assert second["IMG_1.jpg.jpg"] == first["IMG_1.jpg.jpg"] and second["IMG_2.HEIC.jpg"] != first["IMG_2.HEIC.jpg"]
    # Other settings, other pixels.
    assert render(project / "posters.yaml", out, settings=RenderSettings(jpeg_quality=70)).reused == 0
    # A damaged manifest is ignored, not trusted.
    (out / "img" / ".manifest.json").write_text('{"version": 1, "images": {"IMG_1.jpg": 7')
    assert render(project / "posters.yaml", out).reused == 0
    # So is an image someone replaced.
    (out / "img" / "IMG_1.jpg.jpg").write_bytes(b"not a jpeg")
    assert render(project / "posters.yaml", out).reused == 1
    with Image.open(out / "img" / "IMG_1.jpg.jpg") as im:
        assert im.size[1] == 1280
    # A poster hidden from the page takes its images along; the user's own file stays.
    draft = load_draft(project / "posters.yaml")
    draft.data["posters"][0]["skip"] = True
    save_draft(draft, project / "posters.yaml")
    render(project / "posters.yaml", out)
    assert sorted(p.name for p in (out / "img").iterdir()) == [".manifest.json", "IMG_2.HEIC.jpg", "notes.txt"]


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
    assert [f["title"] for f in parsed.figures] == [f["alt"] for f in parsed.figures]
    assert parsed.figures[0]["hrefs"] == ["https://arxiv.org/abs/2401.00001"]
    for fig in parsed.figures:
        with Image.open(out / fig["img"]["src"]) as im:  # no layout shift: the box is known up front
            assert (int(fig["img"]["width"]), int(fig["img"]["height"])) == im.size
        assert fig["img"]["loading"] == "lazy"
    srcset = [c.split() for c in parsed.figures[0]["img"]["srcset"].split(", ")]
    assert [f for f, _ in srcset] == ["img/IMG_1.jpg-640.jpg", "img/IMG_1.jpg.jpg"]
    for file, width in srcset:
        with Image.open(out / file) as im:
            assert width == f"{im.size[0]}w"
    assert "sizes" in parsed.figures[0]["img"] and "srcset" not in parsed.figures[1]["img"]
    # User text never becomes markup: the script shows as text, in the caption and in the comment.
    assert parsed.tags.count("script") == 1 and "b" not in parsed.tags  # the one script is the page's own
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # alt, figcaption, comment
    assert "<strong>our</strong>" in html and "<code>code</code>" in html
    assert '<a href="index.html">Matthew Finlayson</a>' in html
    # Standalone and phone-friendly.
    assert 'name="viewport"' in html and "prefers-color-scheme: dark" in html
    assert "link" not in parsed.tags and not re.search(r'(src|href)="(https?:)?//(?!arxiv)', html)
    assert "<dialog" in html and "nav" not in parsed.tags  # the large view; no contents for 2 posters


def test_missing_photo_is_skipped_or_fatal_when_strict(project: Path) -> None:
    (project / "img" / "IMG_2.HEIC").unlink()
    report = render(project / "posters.yaml", project / "out")
    assert report.rendered == 1
    assert [photo for photo, _ in report.skipped] == ["img/IMG_2.HEIC"] and "not found" in report.skipped[0][1]
    with pytest.raises(PhotoError, match="IMG_2.HEIC: photo not found"):
        render(project / "posters.yaml", project / "out2", settings=RenderSettings(strict=True))


GREEN = (40, 200, 60)


def _save_crop(project: Path, photo: str, pixels: np.ndarray, corners, max_side: int = 2560) -> Path:
    """Store a crop for *photo* as extract does: encode_crop in the worker, save_crop in the parent."""
    from posterocr import crops
    from posterocr.cache import CACHE_DIR_NAME
    from posterocr.load import file_sha256

    cache_dir = project / CACHE_DIR_NAME
    sha256 = file_sha256(project / photo)
    crops.save_crop(cache_dir, sha256, crops.encode_crop(pixels, corners, max_side=max_side))
    return crops.crop_path(cache_dir, sha256)


def _main_colour(out: Path, name: str) -> tuple[int, ...]:
    with Image.open(out / "img" / name) as im:
        return tuple(int(v) for v in np.asarray(im.convert("RGB")).reshape(-1, 3).mean(axis=0))


def _near(colour: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 25 for a, b in zip(colour, expected))


def test_extract_crop_is_used_only_when_it_matches(project: Path) -> None:
    """A crop in the cache stands in for decoding and warping the photo - only for the same corners.

    The crop stored here is plain green, unlike the photo (red | blue), so the output shows which one
    render used. Real extract crops hold the same poster, of course.
    """
    corners = ((150, 200), (1800, 260), (1760, 2400), (120, 2350))  # the draft's corners of IMG_1
    green = np.zeros((2300, 1700, 3), np.uint8)
    green[:] = GREEN
    crop = _save_crop(project, "img/IMG_1.jpg", green, corners)
    one = RenderSettings(jobs=1)
    report = render(project / "posters.yaml", project / "out", settings=one)
    assert report.rendered == 2 and report.from_crops == 1
    assert _near(_main_colour(project / "out", "IMG_1.jpg.jpg"), GREEN)
    with Image.open(project / "out" / "img" / "IMG_1.jpg.jpg") as im:
        assert max(im.size) == 1280 and im.size[0] < im.size[1]  # the crop's shape, sized like any other
    assert_no_metadata(project / "out" / "img" / "IMG_1.jpg.jpg")

    # Corners within a pixel (the draft rounds them) still match.
    _save_crop(project, "img/IMG_1.jpg", green, tuple((x + 0.4, y - 0.4) for x, y in corners))
    render(project / "posters.yaml", project / "out-rounded", settings=one)
    assert _near(_main_colour(project / "out-rounded", "IMG_1.jpg.jpg"), GREEN)

    # The user moved a corner: the crop is stale, the photo is warped instead.
    draft = load_draft(project / "posters.yaml")
    draft.data["posters"][0]["corners"] = [[150, 200], [1800, 260], [1760, 2400], [140, 2350]]
    save_draft(draft, project / "posters.yaml")
    render(project / "posters.yaml", project / "out", settings=one)
    assert not _near(_main_colour(project / "out", "IMG_1.jpg.jpg"), GREEN)
    with Image.open(project / "out" / "img" / "IMG_1.jpg.jpg") as im:
        left, right = im.convert("RGB").getpixel((20, 640)), im.convert("RGB").getpixel((im.size[0] - 20, 640))
    assert _near(left, RED) and _near(right, BLUE)

    # A crop too small for the sizes asked for is not upscaled: the photo is used.
    draft = load_draft(project / "posters.yaml")
    draft.data["posters"][0]["corners"] = [list(c) for c in corners]
    save_draft(draft, project / "posters.yaml")
    _save_crop(project, "img/IMG_1.jpg", green, corners, max_side=900)
    render(project / "posters.yaml", project / "out-small", settings=one)
    assert not _near(_main_colour(project / "out-small", "IMG_1.jpg.jpg"), GREEN)

    # A damaged crop file is ignored, never fatal.
    _save_crop(project, "img/IMG_1.jpg", green, corners)
    crop.write_bytes(crop.read_bytes()[:2000])
    report = render(project / "posters.yaml", project / "out-corrupt", settings=one)
    assert report.rendered == 2 and not report.skipped
    assert not _near(_main_colour(project / "out-corrupt", "IMG_1.jpg.jpg"), GREEN)
    crop.write_bytes(b"not a jpeg at all")
    assert render(project / "posters.yaml", project / "out-junk", settings=one).rendered == 2

    # Another photo under the same name (other bytes): its crop key differs, the old crop is not used.
    _save_crop(project, "img/IMG_1.jpg", green, corners)
    with Image.open(project / "img" / "IMG_1.jpg") as im:
        im.save(project / "img" / "IMG_1.jpg", quality=80, exif=im.getexif())
    render(project / "posters.yaml", project / "out-new-photo", settings=one)
    assert not _near(_main_colour(project / "out-new-photo", "IMG_1.jpg.jpg"), GREEN)


def test_parallel_render_writes_the_same_page(project: Path) -> None:
    from posterocr.detect import warp_poster
    from posterocr.load import load_photo

    corners = ((150, 200), (1800, 260), (1760, 2400), (120, 2350))
    _save_crop(project, "img/IMG_1.jpg", warp_poster(load_photo(project / "img" / "IMG_1.jpg"), corners,
                                                     max_side=3000), corners)
    outputs = {}
    for jobs in (1, 2):
        out = project / f"out-j{jobs}"
        report = render(project / "posters.yaml", out, settings=RenderSettings(jobs=jobs, widths=(640, 1280, 2048)))
        assert report.rendered == 2 and report.reused == 0 and report.from_crops == 1
        outputs[jobs] = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert sorted(outputs[1]) == sorted(outputs[2])
    assert "img/IMG_1.jpg-2048.jpg" in outputs[1]
    for name, data in outputs[1].items():
        assert outputs[2][name] == data, name
    # The manifest written by the parent lets a parallel re-render reuse everything.
    assert render(project / "posters.yaml", project / "out-j2",
                  settings=RenderSettings(jobs=2, widths=(640, 1280, 2048))).reused == 2


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
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") and p.name != ".manifest.json"]
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


def figures(n: int, **extra: str) -> list[Figure]:
    return [Figure(image=f"img/P{i}.jpg", caption=f"Poster {i}", comment="", link="", width=40, height=30,
                   anchor=f"P{i}", **extra) for i in range(1, n + 1)]


def test_contents_only_for_more_than_eight_posters() -> None:
    assert "nav" not in Figures.of(render_html({"title": "t"}, figures(8))).tags
    html = render_html({"title": "t"}, figures(9))
    links = re.findall(r'<li><a href="#(P\d+)">Poster \d+</a></li>', html)
    assert links == [f"P{i}" for i in range(1, 10)]
    assert all(f'<article class="poster" id="{a}">' in html for a in links)  # every link lands


@pytest.mark.skipif(PANDOC is None, reason="pandoc not installed")
def test_authors_line_is_plain_text(tmp_path: Path) -> None:
    authors = "Ada *Lovelace*, <b>C.</b> Babbage"
    html = render_html({"title": "t"}, figures(1, authors=authors))
    assert '<p class="authors">Ada *Lovelace*, &lt;b&gt;C.&lt;/b&gt; Babbage</p>' in html
    md = tmp_path / "index.md"
    md.write_text(render_markdown({"title": "t"}, figures(1, authors=authors)))
    out = pandoc(md)
    assert len(Figures.of(out).figures) == 1  # still an implicit figure
    assert "<p><em>Ada *Lovelace*, &lt;b&gt;C.&lt;/b&gt; Babbage</em></p>" in out


def test_own_template(project: Path) -> None:
    own = project / "theme" / "mine.html.j2"
    own.parent.mkdir()
    own.write_text('{% extends "posterocr/page.html.j2" %}\n'
                   '{% block footer %}<footer>{{ posters | length }} by {{ header.author }}</footer>{% endblock %}\n')
    out = project / "output"
    render(project / "posters.yaml", out, settings=RenderSettings(template=own))
    html = (out / "index.html").read_text()
    assert '<footer>2 by <a href="index.html">Matthew Finlayson</a></footer>' in html
    assert len(Figures.of(html).figures) == 2 and "made with posterocr" not in html
    before = html

    own.write_text("<h1>{{ header.title }</h1>\n")
    with pytest.raises(TemplateError, match=r"mine\.html\.j2:1: template syntax error"):
        render(project / "posters.yaml", out, settings=RenderSettings(template=own))
    own.write_text("{{ posters[0].no_such_thing }}")
    with pytest.raises(TemplateError, match=r"mine\.html\.j2: cannot render the page: .*no_such_thing"):
        render(project / "posters.yaml", out, settings=RenderSettings(template=own))
    with pytest.raises(TemplateError, match=r"nothere\.j2: no such template file"):
        render(project / "posters.yaml", out, settings=RenderSettings(template=project / "nothere.j2"))
    assert (out / "index.html").read_text() == before


SAMPLES = Path(__file__).resolve().parent.parent / "img"
SAMPLE_TRUTH = Path(__file__).resolve().parent / "data" / "sample_truth.json"


@pytest.mark.slow
@pytest.mark.parametrize("from_crops", [False, True], ids=["from-photos", "from-extract-crops"])
def test_sample_photos_titles_stay_readable_and_output_is_light(tmp_path: Path, from_crops: bool) -> None:
    """The four 12 MP sample photos: Tesseract still reads every title from the 1280 px JPEG.

    Made from the photos, or from the crops extract caches (a JPEG generation more: must not cost legibility).

    Weight: the issue asks for output/ <= 5 % of the photos. These text-dense posters cannot get there
    at 1280 px: the main JPEG alone is 4-8 % of its photo even at q30 (measured, see webimages.py).
    The share depends on how the photos were encoded (the HEIC is 1.3 MB, the JPEGs 1.7-2.8 MB), so the
    guard against regressions is in bytes: 186-191 kB per poster with the defaults (page included).
    """
    import json

    from posterocr.ocr import read_title
    from conftest import title_similarity

    truth = json.loads(SAMPLE_TRUTH.read_text())
    shutil.copytree(SAMPLES, tmp_path / "img")
    draft = load_or_new_draft(tmp_path / "posters.yaml")
    draft.merge([PhotoResult(photo=t["path"], size=tuple(t["size"]),
                             detection=Detection(tuple(map(tuple, t["corners"])), 0.9, True),
                             title=TitleReading(t["title"], 0.9)) for t in truth], draft_dir=tmp_path)
    save_draft(draft, tmp_path / "posters.yaml")
    if from_crops:
        from posterocr.detect import warp_poster
        from posterocr.load import load_photo

        for t in truth:
            corners = tuple(map(tuple, t["corners"]))
            poster = warp_poster(load_photo(tmp_path / t["path"]), corners, max_side=3000)
            _save_crop(tmp_path, t["path"], poster, corners)
    report = render(tmp_path / "posters.yaml", tmp_path / "output")
    assert report.rendered == len(truth) == 4 and report.from_crops == (4 if from_crops else 0)
    assert report.photo_bytes == sum(p.stat().st_size for p in (tmp_path / "img").iterdir())
    per_poster = report.output_bytes / len(truth)
    assert per_poster <= 210_000, f"output/ is {per_poster / 1000:.0f} kB per poster"
    for t in truth:
        main = tmp_path / "output" / "img" / f"{Path(t['path']).name}.jpg"
        with Image.open(main) as im:
            assert max(im.size) == 1280
            pixels = np.asarray(im.convert("RGB"))
        reading = read_title(pixels)
        assert title_similarity(reading.text, t["title"]) >= 0.9, (main.name, reading.text, t["title"])

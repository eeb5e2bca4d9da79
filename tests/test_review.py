"""The review sheet: previews from real photos, a real draft, the page checked by parsing it."""

from __future__ import annotations

import hashlib
import io
import shutil
import time
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import cv2
import numpy as np
import pytest
from PIL import Image

from posterocr import detect, load
from posterocr.draft import load_draft, load_or_new_draft, save_draft
from posterocr.exceptions import OutputError
from posterocr.records import PhotoResult, TitleReading
from posterocr.review import Previews, make_previews, preview_paths, save_previews, write_review

EVIL_TITLE = '<script>alert("x")</script> Posters & "Friends"'
# The first photo gets a name that needs quoting in a URL.
PHOTO_NAMES = ("Poster #1 é.jpg", "IMG_0002.jpg")
REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- the page, parsed


class Page(HTMLParser):
    """Cards of a review page: id, classes, <img> srcs, links, SVG viewBox and polygons, text."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict] = []
        self.attention: list[str] = []  # hrefs in the "to check" list
        self._in_nav = False
        self._h2: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "nav" and "attention" in (a.get("class") or ""):
            self._in_nav = True
        elif self._in_nav and tag == "a":
            self.attention.append(a["href"] or "")
        if tag == "article":
            self.cards.append(dict(id=a["id"], classes=(a.get("class") or "").split(), imgs=[], links=[],
                                   viewbox=None, outline=None, text=[], title=""))
        elif self.cards:
            card = self.cards[-1]
            if tag == "img":
                card["imgs"].append(a["src"])
            elif tag == "a":
                card["links"].append(a["href"])
            elif tag == "svg":
                card["viewbox"] = a["viewbox"]
            elif tag == "polygon" and a.get("class") == "outline":
                card["outline"] = a["points"]
            elif tag == "h2":
                self._h2 = card

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_nav = False
        if tag == "h2":
            self._h2 = None

    def handle_data(self, data: str) -> None:
        if self.cards:
            self.cards[-1]["text"].append(data)
        if self._h2 is not None:
            self._h2["title"] += data


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-9)))


def points(text: str) -> np.ndarray:
    return np.array([[float(v) for v in pair.split(",")] for pair in text.split()])


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def measured(photo_set, tmp_path_factory: pytest.TempPathFactory):
    """Two real photos in a folder, detected and warped for real, previews saved; one result each."""
    source, samples = photo_set("review", 2, seed=31, size=(756, 1008))
    folder = tmp_path_factory.mktemp("review") / "my posters"
    folder.mkdir()
    cache = folder / ".posterocr-cache"
    results = []
    for name, sample in zip(PHOTO_NAMES, samples):
        path = folder / name
        shutil.copyfile(sample["path"], path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        image = load.load_photo(path)
        detection = detect.find_poster(image)
        poster = detect.warp_poster(image, detection.corners, max_side=3000)
        save_previews(make_previews(image, poster), sha, cache)
        results.append((PhotoResult(photo=name, sha256=sha, size=(image.shape[1], image.shape[0]),
                                    detection=detection, title=None), sample))
    return folder, cache, results


@pytest.fixture()
def draft_folder(measured, tmp_path: Path):
    """A draft with: a poster with a hostile title, a flagged one, and one whose photo is gone."""
    src, _, results = measured
    folder = tmp_path / "my posters"
    shutil.copytree(src, folder)
    (evil, _), (plain, sample) = results
    evil = replace(evil, title=TitleReading(EVIL_TITLE, 0.9))
    flagged = replace(plain, title=TitleReading(sample["title"], 0.2, ("Other Title",)))
    gone = PhotoResult(photo="gone.jpg", sha256="c" * 64, size=(756, 1008), detection=evil.detection,
                       title=TitleReading("An Old Poster", 0.9))
    path = folder / "posters.yaml"
    draft = load_or_new_draft(path)
    draft.merge([evil, flagged, gone], draft_dir=folder)
    draft.merge([evil, flagged], draft_dir=folder)  # gone.jpg never existed: now "missing"
    save_draft(draft, path)
    return folder, path


# ---------------------------------------------------------------- previews


def test_previews_are_small_clean_jpegs_that_look_like_the_photo(measured) -> None:
    folder, cache, results = measured
    result, _ = results[0]
    image = load.load_photo(folder / result.photo)
    photo_path, poster_path = preview_paths(result.sha256, cache)
    assert photo_path.name == f"{result.sha256}-photo.jpg" and poster_path.name == f"{result.sha256}-poster.jpg"
    with Image.open(photo_path) as im:
        assert im.format == "JPEG" and max(im.size) == 480
        assert "exif" not in im.info  # no camera metadata (or GPS) copied into the cache
        preview = np.asarray(im.convert("RGB"))
    h, w = image.shape[:2]
    assert preview.shape[:2] == (round(h * 480 / max(h, w)), round(w * 480 / max(h, w)))
    # the fast downscale must look like a proper area-average, not an aliased sampling
    reference = cv2.resize(image, (preview.shape[1], preview.shape[0]), interpolation=cv2.INTER_AREA)
    assert psnr(preview, reference) > 30
    with Image.open(poster_path) as im:
        assert max(im.size) == 480 and im.format == "JPEG"


def test_small_images_are_not_enlarged_and_bad_arrays_rejected() -> None:
    small = np.full((100, 60, 3), 200, np.uint8)
    previews = make_previews(small, small[:50], long_side=480)
    with Image.open(io.BytesIO(previews.photo_jpeg)) as im:
        assert im.size == (60, 100)
    with Image.open(io.BytesIO(previews.poster_jpeg)) as im:
        assert im.size == (60, 50)
    with pytest.raises(ValueError, match="poster"):
        make_previews(small, np.zeros((10, 10), np.uint8))


def test_previews_of_a_p3_photo_show_its_colours(tmp_path: Path) -> None:
    """An iPhone photo stores Display P3 numbers; the review page (a browser) shows untagged previews as sRGB."""
    from posterocr.pipeline import ExtractSettings, process_photo
    from synth.icc import display_p3_profile, srgb_to_display_p3

    red = (220, 30, 30)
    srgb = np.full((1200, 900, 3), 235, np.uint8)
    srgb[200:1000, 150:750] = red
    path = tmp_path / "IMG_0001.jpg"
    Image.fromarray(srgb_to_display_p3(srgb)).save(path, quality=95, icc_profile=display_p3_profile())
    result = process_photo(path, "img/IMG_0001.jpg", "0" * 64, ExtractSettings())
    assert result.error is None and result.previews is not None
    with Image.open(io.BytesIO(result.previews[0])) as im:
        w, h = im.size
        centre = im.convert("RGB").getpixel((w // 2, h // 2))
    assert all(abs(a - b) < 8 for a, b in zip(centre, red)), centre  # unconverted: (202, 54, 44)


def test_save_previews_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    save_previews(Previews(b"a", b"b"), "d" * 64, blocker)  # OSError swallowed
    assert blocker.read_text().startswith("a file")
    save_previews(Previews(b"photo", b"poster"), "e" * 64, tmp_path / "ok")
    assert [p.read_bytes() for p in preview_paths("e" * 64, tmp_path / "ok")] == [b"photo", b"poster"]
    assert sorted(p.name for p in (tmp_path / "ok" / "previews").iterdir()) == [
        "e" * 64 + "-photo.jpg", "e" * 64 + "-poster.jpg"]  # no temp files left


def test_make_previews_on_a_12mp_photo(capsys: pytest.CaptureFixture[str]) -> None:
    """The fast downscale path (bilinear, then area) still looks like an area-average.

    Timing is reported, not asserted: the budget is ~30 ms per 12 MP photo.
    """
    photo = load.load_photo(REPO / "img" / "IMG_0001.jpg")
    h, w = photo.shape[:2]
    assert w * h >= 12_000_000
    inset = ((0.1 * w, 0.1 * h), (0.9 * w, 0.12 * h), (0.88 * w, 0.9 * h), (0.12 * w, 0.88 * h))
    poster = detect.warp_poster(photo, inset, max_side=3000)
    previews = make_previews(photo, poster)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        make_previews(photo, poster)
        times.append(time.perf_counter() - start)
    with capsys.disabled():
        print(f"\nmake_previews {w}x{h} photo + {poster.shape[1]}x{poster.shape[0]} poster: "
              f"min {min(times) * 1000:.1f} ms, median {sorted(times)[2] * 1000:.1f} ms")
    for jpeg, source in ((previews.photo_jpeg, photo), (previews.poster_jpeg, poster)):
        preview = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
        assert max(preview.shape[:2]) == 480
        reference = cv2.resize(source, (preview.shape[1], preview.shape[0]), interpolation=cv2.INTER_AREA)
        assert psnr(preview, reference) > 30


# ---------------------------------------------------------------- the page


def test_review_page(draft_folder, measured) -> None:
    folder, draft_path = draft_folder
    cache = folder / ".posterocr-cache"
    draft = load_draft(draft_path)
    path = write_review(draft, draft_path, cache)
    assert path == folder / "review.html"
    page = parse(path)
    entries = draft.posters()
    assert [c["id"] for c in page.cards] == [f"p{i}" for i in range(1, len(entries) + 1)]
    assert len(entries) == 3
    by_photo = {e.photo: (e, c) for e, c in zip(entries, page.cards)}

    for entry, card in by_photo.values():
        for src in card["imgs"] + [h for h in card["links"] if not h.startswith("#")]:
            assert not src.startswith(("/", "file:")) and " " not in src and "#" not in src
            assert (folder / unquote(src)).is_file(), src
    # a photo name that needs quoting links to the photo itself
    assert "Poster%20%231%20%C3%A9.jpg" in by_photo[PHOTO_NAMES[0]][1]["links"]

    for name in PHOTO_NAMES:
        entry, card = by_photo[name]
        assert len(card["imgs"]) == 2
        photo_preview = folder / unquote(card["imgs"][0])
        assert photo_preview == preview_paths(draft.sha256_of(name), folder / ".posterocr-cache")[0]
        with Image.open(photo_preview) as im:
            pw, ph = im.size
        assert card["viewbox"] == f"0 0 {pw} {ph}"
        expected = np.array(entry.corners) * [pw / entry.size[0], ph / entry.size[1]]
        assert np.abs(points(card["outline"]) - expected).max() <= 0.06

    evil_entry, evil = by_photo[PHOTO_NAMES[0]]
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Posters &amp; &#34;Friends&#34;" in html
    assert evil["title"] == EVIL_TITLE and "ok" in evil["classes"]

    _, flagged = by_photo[PHOTO_NAMES[1]]
    assert "flagged" in flagged["classes"]
    assert "title uncertain (confidence 0.20)" in "".join(flagged["text"])
    assert "Other Title" in "".join(flagged["text"])

    gone_entry, gone = by_photo["gone.jpg"]
    assert "missing" in gone["classes"] and gone["imgs"] == [] and gone["outline"] is None
    text = " ".join(" ".join(gone["text"]).split())
    assert "photo is gone" in text and gone_entry.message in text
    assert page.attention == [f"#{flagged['id']}", f"#{gone['id']}"]  # draft order, ok ones left out


def test_outline_follows_the_users_corners(draft_folder) -> None:
    folder, draft_path = draft_folder
    draft = load_draft(draft_path)
    entry = next(e for e in draft.posters() if e.photo == PHOTO_NAMES[0])
    w, h = entry.size
    mine = [[30, 40], [w - 50, 20], [w - 10, h - 30], [15, h - 60]]
    draft.data["posters"][0]["corners"] = mine
    path = write_review(draft, draft_path, folder / ".posterocr-cache")
    card = parse(path).cards[0]
    with Image.open(folder / unquote(card["imgs"][0])) as im:
        pw, ph = im.size
    assert np.abs(points(card["outline"]) - np.array(mine) * [pw / w, ph / h]).max() <= 0.06
    assert "your corners" in "".join(card["text"])


def test_no_cache_means_placeholders_and_unwritable_folder_is_an_output_error(draft_folder, tmp_path) -> None:
    folder, draft_path = draft_folder
    draft = load_draft(draft_path)
    page = parse(write_review(draft, draft_path, tmp_path / "empty-cache"))
    assert all(c["imgs"] == [] and c["outline"] is None for c in page.cards)
    assert all("no preview" in "".join(c["text"]) or "photo is gone" in "".join(c["text"]) for c in page.cards)
    with pytest.raises(OutputError, match="review.html"):
        write_review(draft, tmp_path / "no such folder" / "posters.yaml", tmp_path / "empty-cache")

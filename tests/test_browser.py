"""The rendered page in a real browser: Debian's Chromium driven by Playwright.

One draft of 10 generated photos (JPEG, EXIF-rotated JPEG, HEIC) is rendered
once per module, the output folder is *copied elsewhere* (it must be
self-contained), and the copy is opened from disk at a phone width and a
desktop width, in light and dark mode. Screenshots go to test-artifacts/
(or $POSTEROCR_ARTIFACTS) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from posterocr.draft import load_or_new_draft, save_draft
from posterocr.records import Detection, PhotoResult, TitleReading
from posterocr.render import render

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (scripts/setup.sh --tests)")
PANDOC = shutil.which("pandoc")
REPO = Path(__file__).resolve().parent.parent
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
COMMENTS = [
    "Relates to **our** work on [model collapse](https://example.org/collapse); see `train.py`.",
    "I hadn't thought about PEFT for compressed models before, so this caught my attention and I talked to "
    "the authors for a while. LoRA trained on the full model works less well once the model is compressed, "
    "so they train a second adapter with a non-linearity to correct the degradation.\n\n"
    "- not convinced it is the most elegant fix\n- but the numbers are good",
    "<script>window.injected = 1</script> and <b>not bold</b>: shown as text.",
    "",
    "A_very_long_unbreakable_identifier_that_must_wrap_on_a_phone_instead_of_scrolling_sideways_x_x_x_x_x_x_x_x.",
]


def luminance(css: str) -> float:
    """Relative luminance (WCAG 2) of a computed colour "rgb(r, g, b)"."""
    channels = [int(v) / 255 for v in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((luminance(fg), luminance(bg)))
    return (b + 0.05) / (a + 0.05)


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("POSTEROCR_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(photo_set, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """(copied output folder, [{caption, comment, ...}] in page order)."""
    folder, samples = photo_set("browser-10", 10, seed=606, size=(756, 1008), heic_every=4)
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(folder, project / "img")
    draft = load_or_new_draft(project / "posters.yaml")
    draft.merge([PhotoResult(photo=f"img/{Path(s['path']).name}", size=(756, 1008),
                             detection=Detection(tuple(map(tuple, s["corners"])), 0.9, True, "truth"),
                             title=TitleReading(s["title"], 0.9)) for s in samples], draft_dir=project)
    page = draft.data["page"]
    page["title"] = "COLM 2024: posters worth a second look"
    page["author"] = "[Ada Lovelace](index.html)"
    for i, entry in enumerate(draft.data["posters"]):
        entry["comment"] = COMMENTS[i % len(COMMENTS)]
    draft.data["posters"][0]["link"] = "https://arxiv.org/abs/2401.00001"
    draft.data["posters"][3]["caption"] = "<img src=x onerror=alert(1)> A caption with markup"
    draft.data["posters"][5]["caption"] = "Introducing SupercalifragilisticLongModelNameWithoutAnyBreakOpportunityAtAll"
    save_draft(draft, project / "posters.yaml")
    report = render(project / "posters.yaml", project / "output")
    assert report.rendered == 10 and not report.skipped
    # Published somewhere else entirely: nothing may point back at the photos or the draft.
    published = tmp_path_factory.mktemp("published") / "site"
    shutil.copytree(project / "output", published)
    shutil.rmtree(project)
    expected = [{"caption": " ".join(str(e["caption"]).split()), "comment": str(e["comment"])}
                for e in draft.data["posters"]]
    return published, expected


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield chromium
        chromium.close()


class Page:
    """A page opened from disk with every console error, page error and failed request recorded."""

    def __init__(self, browser, url: str, viewport: dict, scheme: str) -> None:
        phone = viewport["width"] < 600
        self.context = browser.new_context(viewport=viewport, device_scale_factor=2 if phone else 1,
                                           is_mobile=phone, has_touch=phone, color_scheme=scheme)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url} {r.failure}"))
        self.page.on("request", lambda r: None if r.url.startswith("file://")
                     else self.errors.append(f"network request: {r.url}"))
        self.page.goto(url)

    def load_all_images(self) -> None:
        """Scroll through the page so every lazy image loads, then wait for them."""
        self.page.evaluate("""async () => {
            for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
                scrollTo(0, y); await new Promise(r => setTimeout(r, 20));
            }
            await Promise.all([...document.querySelectorAll('main img')].map(img => img.decode().catch(() => {})));
            scrollTo(0, 0);
        }""")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(params=[("phone", PHONE, "light"), ("phone", PHONE, "dark"),
                        ("desktop", DESKTOP, "light"), ("desktop", DESKTOP, "dark")],
                ids=["390x844-light", "390x844-dark", "1440x900-light", "1440x900-dark"])
def opened(request: pytest.FixtureRequest, site, browser) -> Iterator[tuple[Page, str, list[dict]]]:
    name, viewport, scheme = request.param
    folder, expected = site
    page = Page(browser, (folder / "index.html").as_uri(), viewport, scheme)
    yield page, f"{name}-{viewport['width']}x{viewport['height']}-{scheme}", expected
    page.close()


def test_page_renders_cleanly(opened) -> None:
    page, label, expected = opened
    pg = page.page
    page.load_all_images()
    images = pg.evaluate("""() => [...document.querySelectorAll('main img')].map(img => ({
        alt: img.alt, natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
        src: img.currentSrc, right: img.getBoundingClientRect().right}))""")
    assert len(images) == len(expected) == 10
    assert [i["alt"] for i in images] == [e["caption"] for e in expected]  # alt text = caption
    for image in images:
        assert image["natural"] > 0, f"{label}: {image['src']} did not load"
        assert image["src"].startswith("file://") and "/img/" in image["src"]
        assert image["shown"] >= 200, f"{label}: poster shown only {image['shown']} px wide"
    # Nothing wider than the screen: no sideways scrolling on a phone (nor on a desktop).
    width = pg.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{label}: page is {width[0]} px wide in a {width[1]} px window"
    assert max(i["right"] for i in images) <= width[1] + 0.5
    # Captions and comments visible, user text as text.
    titles = pg.locator("main figcaption h2")
    assert titles.all_inner_texts() == [e["caption"] for e in expected]
    for i, entry in enumerate(expected):
        assert titles.nth(i).is_visible()
        if entry["comment"]:
            comment = pg.locator(f"main article:nth-of-type({i + 1}) .comment")
            assert comment.is_visible()
            first_words = entry["comment"].replace("**", "").split("\n")[0].split()[:3]
            assert " ".join(first_words).replace("`", "") in comment.inner_text().replace("\n", " ")
    assert pg.evaluate("() => window.injected") is None
    assert pg.locator("main script, main b, main img[src=x]").count() == 0
    assert pg.locator("text=<script>window.injected = 1</script>").count() >= 1
    # More than 8 posters: a table of contents whose links land on the posters.
    toc = pg.locator("nav.toc a")
    assert toc.count() == 10
    toc.nth(6).click()
    pg.wait_for_function("() => location.hash.length > 1")
    anchor = pg.evaluate("() => location.hash.slice(1)")
    box = pg.locator(f"#{anchor}").bounding_box()
    assert box is not None and abs(box["y"]) < 40
    # Readable in both schemes: WCAG AA contrast (4.5:1) for every kind of text on its background.
    colours = pg.evaluate("""() => {
        const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
                                if (c !== 'rgba(0, 0, 0, 0)') return c; } return 'rgb(255, 255, 255)'; };
        return ['h1', '.subtitle', '.author a', 'nav.toc h2', 'nav.toc a', '.num', 'figcaption h2',
                'figcaption h2 a', '.comment p', '.comment a', '.comment code', 'footer']
            .map(sel => document.querySelector(sel)).filter(Boolean)
            .map(el => [el.tagName + '.' + el.className, getComputedStyle(el).color, bg(el)]); }""")
    assert len(colours) >= 10
    for what, fg, bg in colours:
        assert contrast(fg, bg) >= 4.5, f"{label}: {what} {fg} on {bg}"
    dark = luminance(pg.evaluate("() => getComputedStyle(document.body).backgroundColor")) < 0.05
    assert dark == label.endswith("dark")
    pg.evaluate("() => scrollTo(0, 0)")
    pg.screenshot(path=str(artifacts_dir() / f"page-{label}.png"), full_page=True, scale="css")
    pg.screenshot(path=str(artifacts_dir() / f"page-{label}-top.png"))
    assert page.errors == []


def test_click_opens_the_large_view(site, browser) -> None:
    folder, expected = site
    for label, viewport in (("390x844", PHONE), ("1440x900", DESKTOP)):
        page = Page(browser, (folder / "index.html").as_uri(), viewport, "light")
        pg = page.page
        dialog = pg.locator("dialog.lightbox")
        assert not dialog.is_visible()
        target = pg.locator("main a.zoom").nth(1)
        target.scroll_into_view_if_needed()
        large = target.get_attribute("href")
        target.locator("img").click()
        pg.wait_for_function("() => document.querySelector('dialog.lightbox').open")
        # The sharpest copy replaces the on-screen one once it has loaded.
        pg.wait_for_function("""(large) => { const img = document.querySelector('dialog.lightbox img');
            return img.complete && img.naturalWidth > 0 && img.src.endsWith(large); }""", arg=large)
        assert (folder / large).is_file()
        shown = pg.locator("dialog.lightbox img").bounding_box()
        inline = target.locator("img").bounding_box()
        assert shown and inline
        # On the desktop the poster grows; on a phone it already fills the width, and zooming is what helps.
        grow = 1.5 if viewport is DESKTOP else 0.99
        assert shown["width"] * shown["height"] >= grow * inline["width"] * inline["height"]
        assert shown["x"] >= 0 and shown["x"] + shown["width"] <= viewport["width"] + 0.5
        assert pg.locator("dialog.lightbox .caption").inner_text() == expected[1]["caption"]
        pg.screenshot(path=str(artifacts_dir() / f"lightbox-{label}.png"))
        pg.keyboard.press("Escape")
        pg.wait_for_function("() => !document.querySelector('dialog.lightbox').open")
        # A click on the poster zooms to full size; a click beside it closes.
        target.locator("img").click()
        pg.wait_for_function("() => document.querySelector('dialog.lightbox').open")
        pg.locator("dialog.lightbox img").click()
        assert "zoomed" in (dialog.get_attribute("class") or "")
        zoomed = pg.locator("dialog.lightbox img").bounding_box()
        assert zoomed and zoomed["width"] > shown["width"]
        pg.locator("dialog.lightbox button.close").click()
        pg.wait_for_function("() => !document.querySelector('dialog.lightbox').open")
        assert page.errors == []
        page.close()


def test_narrowest_phone_has_no_sideways_scroll(site, browser) -> None:
    folder, _ = site
    page = Page(browser, (folder / "index.html").as_uri(), {"width": 360, "height": 740}, "light")
    page.load_all_images()
    width = page.page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == 360
    assert page.errors == []
    page.close()


@pytest.mark.skipif(PANDOC is None, reason="pandoc not installed")
def test_pandoc_page_uses_the_same_images(site, browser) -> None:
    """index.md through Pandoc: one figure per poster, the YAML captions, every image loads from the copy."""
    folder, expected = site
    subprocess.run([PANDOC, "--standalone", "-f", "markdown+implicit_figures", "index.md",
                           "-o", "pandoc.html", "--metadata", "lang=en"],
                   cwd=folder, check=True, capture_output=True, text=True, timeout=60)
    page = Page(browser, (folder / "pandoc.html").as_uri(), DESKTOP, "light")
    page.load_all_images()
    figures = page.page.evaluate("""() => [...document.querySelectorAll('figure')].map(f => ({
        caption: f.querySelector('figcaption').innerText.trim(),
        natural: f.querySelector('img').naturalWidth, src: f.querySelector('img').getAttribute('src')}))""")
    assert [f["caption"] for f in figures] == [e["caption"] for e in expected]
    assert all(f["natural"] > 0 for f in figures)
    assert all(f["src"].startswith("img/") and f["src"].endswith(".jpg") for f in figures)
    ours = Page(browser, (folder / "index.html").as_uri(), DESKTOP, "light")
    main_srcs = ours.page.evaluate("() => [...document.querySelectorAll('main img')].map(i => i.getAttribute('src'))")
    assert main_srcs == [f["src"] for f in figures]
    ours.close()
    page.close()
    (folder / "pandoc.html").unlink()

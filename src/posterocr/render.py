"""Stage 5: the draft in, a notes page out.

``render`` writes into the output folder, which is then self-contained
(relative links only; copy it anywhere, or into a Pandoc site):

* ``img/`` — each poster perspective-corrected with the draft's corners, at
  several sizes, with no metadata at all (see ``webimages``): phone photos
  carry the location, the device and the time;
* ``index.md`` — Pandoc Markdown in the shape of the hand-written reference
  page (front matter, ``------``, then one implicit figure per poster, showing
  ``img/NAME.jpg``);
* ``index.html`` — a standalone page (inline CSS and JS, no external assets)
  from a Jinja2 template: the package's ``templates/page.html.j2`` or the
  user's own (``--template``).

Captions are plain text: in Markdown every character Pandoc could read as
markup is backslash-escaped, in HTML Jinja escapes them. Comments and the
author are the user's Markdown: Pandoc gets them verbatim, the HTML page
renders them with markdown-it-py with raw HTML disabled, so a ``<script>``
typed into a comment is shown, never run.

Every file is written to a temp name and renamed, so an interrupted or failed
render leaves the previous output whole.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .cache import CACHE_DIR_NAME
from .draft import DEFAULT_TITLE, PosterEntry, auto_subtitle, is_auto_subtitle, load_draft
from .exceptions import DraftError, PhotoError, PosterocrError
from .webimages import ImageJob, ImageSettings, ImageStore, PosterImages, file_names, run_jobs, write_file
from .workers import default_jobs

TOC_ABOVE = 8  # more posters than this get a table of contents


class TemplateError(PosterocrError):
    """The user's --template cannot be read or rendered."""


@dataclass(frozen=True)
class RenderSettings:
    main_side: int = 1280  # px, long side of img/NAME.jpg (the Markdown image)
    widths: tuple[int, ...] = (640, 1280)  # long sides in the srcset; add 2048 for a sharper large view
    jpeg_quality: int = 50  # of the main image; smaller sizes get +10, larger -10 (see webimages)
    webp: bool = False  # also write .webp twins, offered first through <picture>
    keep_exif: bool = False  # copy the photo's EXIF (GPS, device, time) into published images
    include_originals: bool = False  # also publish the full photos under originals/
    template: Path | None = None  # the user's Jinja2 page template instead of the package's
    strict: bool = False  # raise on a missing/unreadable photo or a draft problem instead of warning
    # Worker processes making images; 0 = one per CPU, 1 = none (all in this process). Workers
    # start from a fork server, so a script calling render() needs `if __name__ == "__main__":`.
    jobs: int = 0

    def image_settings(self) -> ImageSettings:
        q = self.jpeg_quality
        return ImageSettings(main_side=self.main_side, widths=tuple(self.widths), quality=q,
                             quality_small=min(95, q + 10), quality_large=max(20, q - 10), webp=self.webp,
                             keep_exif=self.keep_exif, include_originals=self.include_originals)


@dataclass(frozen=True)
class Figure:
    """One rendered poster, as both page writers need it."""

    image: str  # the main image relative to out_dir, POSIX, e.g. "img/IMG_4830.HEIC.jpg"
    caption: str
    comment: str
    link: str  # "" or a checked http(s)/mailto/relative URL
    width: int
    height: int
    anchor: str
    authors: str = ""
    images: PosterImages | None = None  # every size; None: only ``image`` (tests, foreign callers)


@dataclass(frozen=True)
class RenderReport:
    rendered: int
    skipped: tuple[tuple[str, str], ...]  # (photo, why) for posters that could not be rendered
    hidden: tuple[str, ...]  # photos the user marked skip: true
    problems: tuple[str, ...]  # the draft's problems() and link/corner notes, as warnings
    markdown: Path
    html: Path
    images: tuple[Path, ...] = field(default_factory=tuple)  # every image file of the page
    reused: int = 0  # posters whose images were up to date and not re-made
    from_crops: int = 0  # posters made from extract's cached crop instead of the photo
    output_bytes: int = 0  # index.md + index.html + images
    photo_bytes: int = 0  # the rendered posters' source photos

    @property
    def outputs(self) -> tuple[Path, ...]:
        return (self.markdown, self.html, *self.images)


# ---------------------------------------------------------------- text helpers

# Pandoc's markdown lets any ASCII punctuation be backslash-escaped; these are
# the ones that could otherwise become markup inside ![...] (emphasis, links,
# raw HTML/TeX, math, citations, sub/superscript, smart quotes, entities).
_MD_SPECIAL = re.compile(r"""([\\`*_\[\]<>&$^~@"'|])""")


def markdown_escape(text: str) -> str:
    """Plain text -> Pandoc Markdown inline that renders back to exactly *text* (whitespace collapsed)."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    text = re.sub(r"-(?=-)", r"\\-", text)  # -- and --- would become dashes
    return re.sub(r"\.(?=\.\.)", r"\\.", text)  # ... would become an ellipsis


_YAML11_WORDS = frozenset("y n yes no on off true false null ~".split())


def yaml_scalar(text: str) -> str:
    """A front-matter value: plain when that reads back as the same string, else double-quoted."""
    text = " ".join(text.split())
    if text.lower() in _YAML11_WORDS:  # booleans/null to older YAML readers
        return json.dumps(text)
    if text and not text[0] in "-?:,[]{}#&*!|>'\"%@`" and ": " not in text and " #" not in text \
            and not text.endswith(":"):
        try:
            if YAML(typ="safe", pure=True).load(f"k: {text}") == {"k": text}:
                return text
        except YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


_DOMAIN_LINK = re.compile(r"(www\.)?([a-z0-9-]+\.)+(org|com|net|edu|io|ai|dev|gov)(/|$)", re.I)


def safe_link(link: str) -> tuple[str, str | None]:
    """(URL to use or "", problem or None): only http(s), mailto and relative links are linked."""
    link = link.strip()
    if not link:
        return "", None
    if _DOMAIN_LINK.match(link):  # "arxiv.org/abs/…" typed without a scheme
        link = "https://" + link
    scheme = urlsplit(link).scheme.lower() if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", link) else ""
    if scheme not in ("", "http", "https", "mailto"):
        return "", f"link {link!r}: only http(s), mailto or relative links are allowed; not linked"
    return quote(link, safe=":/?#[]@!$&'*+,;=%~"), None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "poster"


# ---------------------------------------------------------------- pages


def render_markdown(page: dict[str, str], figures: list[Figure]) -> str:
    """index.md in the reference's shape."""
    lines = ["---"]
    for key in ("title", "subtitle", "author"):
        if page.get(key):
            lines.append(f"{key}: {yaml_scalar(page[key])}")
    lines += ["---", "", "------", ""]
    blocks = []
    for fig in figures:
        caption = markdown_escape(fig.caption)
        if fig.link:  # a linked caption: Pandoc keeps the figure and makes its caption clickable
            caption = f"[{caption}]({fig.link})"
        block = f"![{caption}]({quote(fig.image)})"
        if fig.authors.strip():  # read from the poster, so plain text like the caption
            block += f"\n\n*{markdown_escape(fig.authors)}*"
        if fig.comment.strip():  # verbatim but for surrounding blank lines (a "|" block ends in one)
            block += "\n\n" + fig.comment.strip("\n")
        blocks.append(block)
    if not blocks:
        return "\n".join(lines[:-1]) + "\n"
    return "\n".join(lines) + "\n" + "\n\n".join(blocks) + "\n"


def _markdown() -> MarkdownIt:
    # commonmark, raw HTML off: user text can format but never inject markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _plain(rendered_inline: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered_inline))


def _srcset(variants: tuple) -> str:
    # quote() turns "," and " " into %2C/%20, which srcset needs to tell candidates apart
    return ", ".join(f"{quote(v.file)} {v.width}w" for v in variants)


def _poster_context(number: int, fig: Figure, md: MarkdownIt) -> dict[str, object]:
    """What the template gets per poster (documented in templates/page.html.j2)."""
    images = fig.images
    large = images.largest if images else None
    return {
        "fig": fig, "number": number, "anchor": fig.anchor,
        "caption": fig.caption, "link": fig.link, "authors": " ".join(fig.authors.split()),
        "src": quote(fig.image), "width": fig.width, "height": fig.height,
        "srcset": _srcset(images.jpeg) if images and len(images.jpeg) > 1 else "",
        "webp_srcset": _srcset(images.webp) if images and images.webp else "",
        "large": quote(large.file) if large else quote(fig.image),
        "large_width": large.width if large else fig.width,
        "large_height": large.height if large else fig.height,
        "original": quote(images.original) if images and images.original else "",
        "comment_html": Markup(md.render(fig.comment)) if fig.comment.strip() else "",
    }


def _environment(template: Path | None) -> tuple[Environment, str]:
    package = PackageLoader("posterocr", "templates")
    options = dict(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                   keep_trailing_newline=True)
    if template is None:
        return Environment(loader=package, **options), "page.html.j2"
    if not template.is_file():
        raise TemplateError(f"{template}: no such template file; pass an existing .html/.j2 file to --template")
    # The user's folder first; the built-in page stays reachable as "posterocr/page.html.j2",
    # so a template can {% extends %} it and override a block or two.
    loader = ChoiceLoader([FileSystemLoader(template.parent), PrefixLoader({"posterocr": package})])
    return Environment(loader=loader, **options), template.name


def load_template(template: Path | None = None) -> jinja2.Template:
    """The page template, compiled; TemplateError names the file and line of a mistake."""
    env, name = _environment(template)
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or template or name}:{exc.lineno}"
        raise TemplateError(f"{where}: template syntax error: {exc.message}; fix the template") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"{template or name}: includes or extends {exc.name!r}, which is not there; "
                            "fix the template") from None


def render_html(page: dict[str, str], figures: list[Figure], template: Path | None = None) -> str:
    return _render_page(load_template(template), page, figures, template)


def _render_page(compiled: jinja2.Template, page: dict[str, str], figures: list[Figure],
                 template: Path | None) -> str:
    md = _markdown()
    header = {key: Markup(md.renderInline(page.get(key, ""))) for key in ("title", "subtitle", "author")}
    posters = [_poster_context(i, fig, md) for i, fig in enumerate(figures, 1)]
    try:
        return compiled.render(title_text=_plain(header["title"]) or DEFAULT_TITLE, header=header,
                               posters=posters, toc=len(posters) > TOC_ABOVE)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{template or compiled.name}: cannot render the page: {exc.message or exc}; "
                            "fix the template (variables: see posterocr/templates/page.html.j2)") from None


# ---------------------------------------------------------------- images


def _base_name(photo: str, used: set[str], settings: ImageSettings) -> str:
    """NAME for img/NAME.jpg: the photo's file name, made unique when two photos share it."""
    base, k = Path(photo).name, 2
    nominal = sorted(set(settings.widths))
    # same file name in two folders, one photo shown twice, or "X-640" next to "X"
    while any(n.casefold() in used for n in file_names(base, nominal, settings)):
        base, k = f"{Path(photo).name}-{k}", k + 1
    used.update(n.casefold() for n in file_names(base, nominal, settings))
    return base


def _write(path: Path, data: bytes) -> None:
    write_file(path, data)


def render(draft_path: Path, out_dir: Path, *, settings: RenderSettings | None = None) -> RenderReport:
    """Render the draft at *draft_path* into *out_dir* (see the module docstring)."""
    settings = settings or RenderSettings()
    draft = load_draft(draft_path)
    problems = list(draft.problems())
    if settings.strict and problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DraftError(f"{problems[0]}{more}; fix the draft or render without --strict")
    # Compiled once: a broken template fails now, not after minutes of image work.
    template = load_template(settings.template)
    image_settings = settings.image_settings()
    store = ImageStore(out_dir, image_settings)
    crop_cache = draft_path.parent / CACHE_DIR_NAME

    # 1. Which posters are up to date (a few stat calls each); the rest become jobs.
    slots: list[tuple[PosterEntry, str, Path]] = []  # (entry, base name, photo) in page order
    found: dict[int, PosterImages] = {}  # slot -> images
    failed: dict[int, str] = {}  # slot -> why
    jobs: list[ImageJob] = []
    job_slot: list[tuple[int, str]] = []  # job -> (slot, manifest key)
    hidden: list[str] = []
    used: set[str] = set()
    for entry in draft.posters():
        if entry.skip:
            hidden.append(entry.photo)
            continue
        slot = len(slots)
        source = draft_path.parent / entry.photo
        base = _base_name(entry.photo, used, image_settings)
        slots.append((entry, base, source))
        if not source.is_file():
            failed[slot] = f"{source}: photo not found; put it back or set skip: true in the draft"
            if settings.strict:
                raise PhotoError(failed[slot])
            continue
        key, images = store.lookup(source, base, entry.corners, entry.size)
        if images is not None:
            found[slot] = images
        else:
            jobs.append(ImageJob(source, base, out_dir, image_settings, entry.corners, entry.size, crop_cache))
            job_slot.append((slot, key))

    # 2. Make the rest, in worker processes; only this process records them.
    notes: dict[int, str] = {}
    from_crops = 0
    for i, result in run_jobs(jobs, settings.jobs if settings.jobs > 0 else default_jobs()):
        slot, key = job_slot[i]
        if isinstance(result, PhotoError):
            if settings.strict:
                raise result
            failed[slot] = str(result)
            continue
        images, note, from_crop = result
        from_crops += from_crop
        store.record(slots[slot][1], key, images)
        found[slot] = images
        if note:
            notes[slot] = note

    # 3. The page, in draft order.
    figures: list[Figure] = []
    skipped: list[tuple[str, str]] = []
    photo_bytes = 0
    for slot, (entry, base, source) in enumerate(slots):
        if slot in failed:  # reported as "skipped PHOTO: why": the path is said once
            skipped.append((entry.photo, failed[slot].removeprefix(f"{source}: ")))
            continue
        images = found[slot]
        photo_bytes += source.stat().st_size
        if slot in notes:
            problems.append(f"{entry.photo}: {notes[slot]}")
        link, link_problem = safe_link(entry.link)
        if link_problem:
            problems.append(f"{entry.photo}: {link_problem}")
        main = images.main
        figures.append(Figure(image=main.file, caption=" ".join(entry.caption.split()) or Path(entry.photo).name,
                              comment=entry.comment, link=link, width=main.width, height=main.height,
                              anchor=_slug(base), authors=entry.authors, images=images))

    page = draft.page()
    if is_auto_subtitle(page["subtitle"]):  # the user kept the prefilled count: make it true for this page
        page["subtitle"] = auto_subtitle(len(figures))
    markdown = render_markdown(page, figures).encode("utf-8")
    html_page = _render_page(template, page, figures, settings.template).encode("utf-8")
    md_path, html_path = out_dir / "index.md", out_dir / "index.html"
    _write(md_path, markdown)
    _write(html_path, html_page)
    store.finish()  # only now: a failed render must not delete the images the old page shows
    files = [f for fig in figures if fig.images for f in fig.images.files]
    image_bytes = sum(fig.images.total_bytes for fig in figures if fig.images)
    return RenderReport(rendered=len(figures), skipped=tuple(skipped), hidden=tuple(hidden),
                        problems=tuple(problems), markdown=md_path, html=html_path,
                        images=tuple(out_dir / f for f in files), reused=store.reused, from_crops=from_crops,
                        output_bytes=len(markdown) + len(html_page) + image_bytes, photo_bytes=photo_bytes)

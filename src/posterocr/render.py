"""Stage 5: the draft in, a notes page out.

``render`` writes into the output folder:

* ``img/<photo file name>.jpg`` — each poster perspective-corrected with the
  draft's corners, long side at most ``long_side``, progressive JPEG with no
  metadata at all (no EXIF, GPS or ICC: phone photos carry the location);
* ``index.md`` — Pandoc Markdown in the shape of the hand-written reference
  page (front matter, ``------``, then one implicit figure per poster);
* ``index.html`` — a standalone page (inline CSS, no external assets).

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
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import cv2
import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup
from PIL import Image
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .detect import warp_poster
from .draft import DEFAULT_TITLE, PosterEntry, auto_subtitle, is_auto_subtitle, load_draft, write_atomic
from .exceptions import DraftError, OutputError, PhotoError
from .load import load_photo
from .records import Corners


@dataclass(frozen=True)
class RenderSettings:
    long_side: int = 1600  # px; enough for a phone or a laptop column, ~300 KB per poster
    jpeg_quality: int = 85
    strict: bool = False  # raise on a missing/unreadable photo or a draft problem instead of warning


@dataclass(frozen=True)
class Figure:
    """One rendered poster, as both page writers need it."""

    image: str  # output path relative to out_dir, POSIX, e.g. "img/IMG_4830.HEIC.jpg"
    caption: str
    comment: str
    link: str  # "" or a checked http(s)/mailto/relative URL
    width: int
    height: int
    anchor: str


@dataclass(frozen=True)
class RenderReport:
    rendered: int
    skipped: tuple[tuple[str, str], ...]  # (photo, why) for posters that could not be rendered
    hidden: tuple[str, ...]  # photos the user marked skip: true
    problems: tuple[str, ...]  # the draft's problems() and link/corner notes, as warnings
    markdown: Path
    html: Path
    images: tuple[Path, ...] = field(default_factory=tuple)

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


def render_html(page: dict[str, str], figures: list[Figure]) -> str:
    md = _markdown()
    env = Environment(loader=PackageLoader("posterocr", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    header = {key: Markup(md.renderInline(page.get(key, ""))) for key in ("title", "subtitle", "author")}
    posters = [{"fig": fig, "src": quote(fig.image), "comment_html": Markup(md.render(fig.comment))
                if fig.comment.strip() else ""} for fig in figures]
    return env.get_template("page.html.j2").render(
        title_text=_plain(header["title"]) or DEFAULT_TITLE, header=header, posters=posters)


# ---------------------------------------------------------------- images


def _encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    # A fresh image from an array has no info dict: nothing from the photo's
    # EXIF/GPS/ICC can reach the file, and we pass none.
    Image.fromarray(np.ascontiguousarray(image), "RGB").save(
        buf, "JPEG", quality=quality, progressive=True, optimize=True)
    return buf.getvalue()


def _fit_corners(entry: PosterEntry, width: int, height: int) -> tuple[Corners, str | None]:
    """The corners to warp with, in this photo's pixels, and a note if they had to be adapted."""
    whole: Corners = ((0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1))
    if entry.corners is None:
        return whole, None
    if entry.size is None or entry.size == (width, height):
        return entry.corners, None
    sw, sh = entry.size
    if abs(sw / sh - width / height) > 0.01:  # another photo under the same name
        return whole, f"photo is {width}x{height} now, not {sw}x{sh}; whole photo used, re-run extract"
    fx, fy = width / sw, height / sh
    return tuple((x * fx, y * fy) for x, y in entry.corners), None  # type: ignore[return-value]


def _output_name(photo: str, used: set[str]) -> str:
    base = Path(photo).name
    name, k = f"{base}.jpg", 2
    while name.casefold() in used:  # same file name in two folders, or one photo shown twice
        name, k = f"{base}-{k}.jpg", k + 1
    used.add(name.casefold())
    return name


def _write(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc}); "
                          "free space or choose another output folder with -o") from None


def render(draft_path: Path, out_dir: Path, *, settings: RenderSettings | None = None) -> RenderReport:
    """Render the draft at *draft_path* into *out_dir* (see the module docstring)."""
    settings = settings or RenderSettings()
    draft = load_draft(draft_path)
    problems = list(draft.problems())
    if settings.strict and problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DraftError(f"{problems[0]}{more}; fix the draft or render without --strict")
    img_dir = out_dir / "img"
    try:
        img_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{img_dir}: cannot write ({exc.strerror or exc}); "
                          "free space or choose another output folder with -o") from None

    figures: list[Figure] = []
    images: list[Path] = []
    skipped: list[tuple[str, str]] = []
    hidden: list[str] = []
    used: set[str] = set()
    for entry in draft.posters():
        if entry.skip:
            hidden.append(entry.photo)
            continue
        source = draft_path.parent / entry.photo
        try:
            if not source.is_file():
                raise PhotoError(f"{source}: photo not found; put it back or set skip: true in the draft")
            image = load_photo(source)
            corners, note = _fit_corners(entry, image.shape[1], image.shape[0])
            try:
                warped = warp_poster(image, corners, max_side=settings.long_side)
            except cv2.error:
                raise PhotoError(f"{source}: cannot straighten with corners {corners}; "
                                 "fix corners in the draft") from None
        except PhotoError as exc:
            if settings.strict:
                raise
            skipped.append((entry.photo, str(exc)))
            continue
        if note:
            problems.append(f"{entry.photo}: {note}")
        del image  # one full-resolution photo in memory at a time
        name = _output_name(entry.photo, used)
        _write(img_dir / name, _encode_jpeg(warped, settings.jpeg_quality))
        images.append(img_dir / name)
        link, link_problem = safe_link(entry.link)
        if link_problem:
            problems.append(f"{entry.photo}: {link_problem}")
        figures.append(Figure(image=f"img/{name}", caption=" ".join(entry.caption.split()) or Path(entry.photo).name,
                              comment=entry.comment, link=link, width=warped.shape[1], height=warped.shape[0],
                              anchor=_slug(name.removesuffix(".jpg"))))

    page = draft.page()
    if is_auto_subtitle(page["subtitle"]):  # the user kept the prefilled count: make it true for this page
        page["subtitle"] = auto_subtitle(len(figures))
    md_path, html_path = out_dir / "index.md", out_dir / "index.html"
    _write(md_path, render_markdown(page, figures).encode("utf-8"))
    _write(html_path, render_html(page, figures).encode("utf-8"))
    return RenderReport(rendered=len(figures), skipped=tuple(skipped), hidden=tuple(hidden),
                        problems=tuple(problems), markdown=md_path, html=html_path, images=tuple(images))

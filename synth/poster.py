"""Flat conference posters: a random :class:`PosterSpec` and its rendering.

The spec fixes everything that the truth depends on (title lines, fonts,
layout); the body text, figures and logos are drawn from ``spec.seed`` so the
same spec always renders the same poster.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from . import figures, words
from .figures import RGB, font

DEJAVU = "/usr/share/fonts/truetype/dejavu/"
LIBERATION = "/usr/share/fonts/truetype/liberation2/"
# (bold, regular) pairs of one family, so a poster stays typographically consistent.
FAMILIES: list[tuple[str, str]] = [
    (LIBERATION + "LiberationSans-Bold.ttf", LIBERATION + "LiberationSans-Regular.ttf"),
    (DEJAVU + "DejaVuSans-Bold.ttf", DEJAVU + "DejaVuSans.ttf"),
    (LIBERATION + "LiberationSerif-Bold.ttf", LIBERATION + "LiberationSerif-Regular.ttf"),
    (DEJAVU + "DejaVuSerif-Bold.ttf", DEJAVU + "DejaVuSerif.ttf"),
    (DEJAVU + "DejaVuSansCondensed-Bold.ttf", DEJAVU + "DejaVuSansCondensed.ttf"),
]
DARK_COLOURS: list[RGB] = [(16, 37, 84), (20, 20, 24), (22, 70, 45), (110, 22, 38), (0, 53, 102), (60, 30, 90)]
ACCENTS: list[RGB] = [(0, 84, 147), (170, 30, 40), (30, 110, 60), (200, 90, 0), (90, 40, 140), (0, 120, 130)]
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
# (name, width in inches, height / width): the usual conference formats.
FORMATS = [("landscape_48x36", 48.0, 0.75), ("a0_portrait", 33.1, 1.414), ("a0_landscape", 46.8, 0.707)]


@dataclass
class PosterSpec:
    width: int
    height: int
    seed: int
    title: str
    title_lines: list[str]
    title_size: int
    bold_font: str
    body_font: str
    authors: list[str]
    author_affils: list[int]  # 1-based affiliation number of each author
    affiliations: list[str]
    layout: str  # "plain" | "header_band" | "dark_left_half"
    variant: str  # "normal" | "tagline" | "question_headline"
    headline_lines: list[str]  # the tagline or question (hard variants), else []
    headline_size: int
    paper: RGB
    dark: RGB  # colour of the header band / left half / footer band
    accent: RGB
    ppi: float  # pixels per poster inch: sets body text and margin sizes
    columns: int
    logos: list[str]
    qr: bool
    logo_side: int  # badge height; the conference wordmark is wider (see badge_width)
    left_badges: list[str]  # drawn left of the title (normal variant, full-width header)
    right_badges: list[str]  # "qr" and logo kinds, drawn right-aligned
    title_box: tuple[int, int]  # x0, x1 the title is wrapped into
    phenomena: list[str] = field(default_factory=list)


def _wrap(text: str, fnt: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy word wrap; a word longer than the width gets a line of its own."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        trial = f"{cur} {word}" if cur else word
        if cur and fnt.getlength(trial) > width:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    if cur:
        lines.append(cur)
    return lines


def _balance(text: str, fnt: ImageFont.FreeTypeFont, n: int) -> list[str]:
    """Split *text* into *n* lines (n <= 3) minimising the widest line."""
    tokens = text.split()
    best: list[str] = [text]
    best_w = float("inf")
    cuts = [(i,) for i in range(1, len(tokens))] if n == 2 else [
        (i, j) for i in range(1, len(tokens)) for j in range(i + 1, len(tokens))]
    for cut in cuts:
        bounds = (0, *cut, len(tokens))
        lines = [" ".join(tokens[a:b]) for a, b in zip(bounds, bounds[1:])]
        widest = max(fnt.getlength(x) for x in lines)
        if widest < best_w:
            best, best_w = lines, widest
    return best


def _fit_lines(text: str, font_path: str, size: int, width: float, max_lines: int,
               rng: random.Random | None = None) -> tuple[list[str], int]:
    """Wrap *text* into at most *max_lines*, shrinking the font until it fits."""
    while True:
        fnt = font(font_path, size)
        lines = _wrap(text, fnt, width)
        if rng is not None and len(lines) > 1 and rng.random() < 0.7:
            lines = _balance(text, fnt, len(lines))  # designers avoid a one-word last line
        # Designers often break right after the colon ("infini-gram:" / rest).
        if rng is not None and ":" in text and rng.random() < 0.35:
            head, tail = text.split(":", 1)
            alt = [head + ":"] + _wrap(tail.strip(), fnt, width)
            if len(alt) <= max_lines and all(fnt.getlength(x) <= width for x in alt):
                lines = alt
        if (len(lines) <= max_lines and all(fnt.getlength(x) <= width for x in lines)) or size < 20:
            return lines, size
        size = int(size * 0.92)


def random_spec(rng: random.Random, *, hard: bool = False, width: int = 3600) -> PosterSpec:
    """A random poster description; *width* is the flat poster's pixel width."""
    fmt_name, inches, aspect = rng.choices(FORMATS, weights=[0.45, 0.35, 0.2])[0]
    height = int(width * aspect)
    ppi = width / inches
    bold, body = rng.choice(FAMILIES)
    if rng.random() < 0.25:  # mixing a serif body with a sans title is common too
        body = rng.choice(FAMILIES)[1]
    layout = rng.choices(["plain", "header_band", "dark_left_half"], weights=[0.45, 0.4, 0.15])[0]
    variant = "normal"
    if hard and rng.random() < 0.6:
        variant = rng.choice(["tagline", "question_headline"])
        if variant == "question_headline" and layout == "dark_left_half":
            layout = "header_band"
    margin = int(0.6 * ppi)
    logo_side = int(ppi * rng.uniform(3.2, 4.5))
    logos = rng.sample(["shield", "circle", "lab", "conference"], rng.choice([0, 1, 1, 2, 2, 3]))
    qr = rng.random() < 0.6
    split = width // 2 if layout == "dark_left_half" else width
    left_badges: list[str] = []
    right_badges = (["qr"] if qr else []) + logos
    if variant == "normal" and split == width and logos and logos[0] != "conference" and rng.random() < 0.8:
        left_badges, right_badges = [logos[0]], [b for b in right_badges if b != logos[0]]

    def badges_width(items: list[str]) -> int:
        return sum(badge_width(b, logo_side) + margin for b in items)

    title = words.title(rng)
    title_pt = rng.uniform(80, 115) if fmt_name != "a0_portrait" else rng.uniform(85, 120)
    title_size = int(title_pt * ppi / 72)
    headline_lines: list[str] = []
    headline_size = 0
    if variant == "tagline":
        # Tagline fills the left half in the largest type; the title shrinks above the authors.
        box = (margin, width // 2 - margin)
        headline_lines, headline_size = _fit_lines(rng.choice(words.TAGLINES), bold, int(title_size * 1.5),
                                                   box[1] - box[0], 3)
        title_size = int(headline_size * rng.uniform(0.4, 0.55))
    elif variant == "question_headline":
        box = (margin, width - margin - badges_width(right_badges))
        headline_lines, headline_size = _fit_lines(rng.choice(words.QUESTION_HEADLINES), bold,
                                                   int(title_size * 1.35), width - 2 * margin, 2)
        title_size = int(headline_size * rng.uniform(0.4, 0.5))
    else:
        if split == width:
            box = (margin + badges_width(left_badges), width - margin - badges_width(right_badges))
        else:  # dark left half: title spans the half, badges go below the authors
            box = (margin, split - margin)
    title_lines, title_size = _fit_lines(title, bold, title_size, box[1] - box[0], 3, rng)

    n_auth = rng.randint(2, 7)
    n_aff = rng.randint(1, min(3, n_auth))
    affiliations = rng.sample(words.INSTITUTIONS, n_aff)
    phenomena = [fmt_name]
    if layout != "plain":
        phenomena.append(layout)
    if variant != "normal":
        phenomena.append(variant)
    if qr:
        phenomena.append("qr")
    if logos:
        phenomena.append("logos")
    spec = PosterSpec(
        width=width, height=height, seed=rng.getrandbits(32), title=" ".join(title_lines),
        title_lines=title_lines, title_size=title_size, bold_font=bold, body_font=body,
        authors=words.author_names(rng, n_auth), author_affils=[rng.randint(1, n_aff) for _ in range(n_auth)],
        affiliations=affiliations, layout=layout, variant=variant, headline_lines=headline_lines,
        headline_size=headline_size,
        paper=rng.choice([(255, 255, 255), (250, 250, 248), (244, 244, 242), (238, 240, 243)]),
        dark=rng.choice(DARK_COLOURS), accent=rng.choice(ACCENTS), ppi=ppi, columns=rng.choice([2, 3, 3, 4]),
        logos=logos, qr=qr, logo_side=logo_side, left_badges=left_badges, right_badges=right_badges, title_box=box,
        phenomena=phenomena,
    )
    # Tagged after the fact, so the random stream (and every existing set) stays the same.
    if spec.paper != (255, 255, 255):
        phenomena.append("grey_paper")
    if variant == "normal" and split == width and (qr or logos):
        phenomena.append("title_beside_logo")  # badges share the title's row
    phenomena.append("author_superscripts")  # names with affiliation numbers, then the affiliations
    phenomena += words.title_tags(spec.title, len(title_lines))
    return spec


def badge_width(kind: str, side: int) -> int:
    return int(side * 1.7) if kind == "conference" else side


class _Painter:
    """Render state: the image, fonts and the per-poster random stream."""

    def __init__(self, spec: PosterSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.img = Image.new("RGB", (spec.width, spec.height), spec.paper)
        self.draw = ImageDraw.Draw(self.img)
        self.margin = int(0.6 * spec.ppi)
        self.body_size = int(spec.ppi * self.rng.uniform(24, 32) / 72)
        self.logo_side = spec.logo_side

    def lines(self, lines: list[str], x: float, y: float, path: str, size: int, ink: RGB,
              centre: float | None = None) -> float:
        """Draw text lines from top *y*; return the y below the last line."""
        fnt = font(path, size)
        for line in lines:
            lx = centre - fnt.getlength(line) / 2 if centre is not None else x
            self.draw.text((lx, y), line, font=fnt, fill=ink)
            y += size * 1.18
        return y

    def authors(self, x0: float, x1: float, y: float, ink: RGB, size: int, centre: bool) -> float:
        """Author names with raised affiliation numbers, wrapped; then the affiliation line."""
        spec = self.spec
        fnt, sup = font(spec.body_font, size), font(spec.body_font, int(size * 0.6))
        tokens = [(name, str(a), ", " if i < len(spec.authors) - 1 else "")
                  for i, (name, a) in enumerate(zip(spec.authors, spec.author_affils))]
        rows: list[list[tuple[str, str, str]]] = [[]]
        width = 0.0
        for tok in tokens:
            w = fnt.getlength(tok[0] + tok[2]) + sup.getlength(tok[1])
            if rows[-1] and width + w > x1 - x0:
                rows.append([])
                width = 0.0
            rows[-1].append(tok)
            width += w
        for row in rows:
            row_w = sum(fnt.getlength(n + s) + sup.getlength(a) for n, a, s in row)
            x = (x0 + x1 - row_w) / 2 if centre else x0
            for name, aff, sep in row:
                self.draw.text((x, y), name, font=fnt, fill=ink)
                x += fnt.getlength(name)
                self.draw.text((x, y - size * 0.12), aff, font=sup, fill=ink)
                x += sup.getlength(aff)
                self.draw.text((x, y), sep, font=fnt, fill=ink)
                x += fnt.getlength(sep)
            y += size * 1.25
        aff_size = int(size * 0.75)
        aff_text = "    ".join(f"{SUPERSCRIPTS[i + 1]}{a}" for i, a in enumerate(spec.affiliations))
        aff_lines = _wrap(aff_text, font(spec.body_font, aff_size), x1 - x0)
        return self.lines(aff_lines, x0, y + size * 0.1, spec.body_font, aff_size, ink,
                          centre=(x0 + x1) / 2 if centre else None)

    def badges(self, items: list[str], x: float, y: float, on_dark: bool, right_aligned: bool = True) -> None:
        """Logos and the QR code in a row ending at *x* (or starting there)."""
        side = self.logo_side
        for kind in items:
            bw = badge_width(kind, side)
            bx = x - bw if right_aligned else x
            box = (int(bx), int(y), int(bx + bw), int(y + side))
            if kind == "qr":
                figures.qr_code(self.img, box, f"https://openreview.net/forum?id={self.rng.getrandbits(40):x}")
            else:
                colour = (255, 255, 255) if on_dark and kind == "conference" else self.spec.accent
                figures.logo(self.img, box, self.rng, kind, self.spec.bold_font, colour)
            x += -(bw + self.margin) if right_aligned else bw + self.margin

    def column(self, x0: int, y0: int, x1: int, y1: int, ink: RGB) -> None:
        """Fill one column with headed sections: paragraphs, bullets and figures."""
        spec, rng = self.spec, self.rng
        body = font(spec.body_font, self.body_size)
        head_size = int(self.body_size * rng.uniform(1.5, 1.9))
        y = float(y0)
        on_dark = sum(ink) > 600
        # On a dark half, headings are a light tint of the accent so they stay legible.
        accent = tuple(int(c + (255 - c) * 0.55) for c in spec.accent) if on_dark else spec.accent
        style = rng.choice(["bar", "underline", "plain"])
        while y < y1 - head_size * 3:
            heading = rng.choice(words.SECTION_HEADINGS)
            if style == "bar":
                self.draw.rectangle([x0, y, x1, y + head_size * 1.5], fill=spec.accent)
                self.draw.text((x0 + head_size * 0.4, y + head_size * 0.2), heading,
                               font=font(spec.bold_font, head_size), fill=(255, 255, 255))
                y += head_size * 2.0
            else:
                self.draw.text((x0, y), heading, font=font(spec.bold_font, head_size), fill=accent)
                y += head_size * 1.3
                if style == "underline":
                    self.draw.line([(x0, y), (x1, y)], fill=accent, width=max(2, head_size // 12))
                y += head_size * 0.4
            for _ in range(rng.randint(1, 3)):
                kind = rng.random()
                if kind < 0.45:
                    text = words.paragraph(rng, rng.randint(2, 5))
                    for line in _wrap(text, body, x1 - x0):
                        if y > y1 - self.body_size * 1.3:
                            return
                        self.draw.text((x0, y), line, font=body, fill=ink)
                        y += self.body_size * 1.3
                elif kind < 0.65:
                    for _ in range(rng.randint(2, 4)):
                        lines = _wrap(words.sentence(rng, 5, 12), body, x1 - x0 - self.body_size * 1.5)
                        for i, line in enumerate(lines):
                            if y > y1 - self.body_size * 1.3:
                                return
                            if i == 0:
                                self.draw.text((x0, y), "•", font=body, fill=accent)
                            self.draw.text((x0 + self.body_size * 1.5, y), line, font=body, fill=ink)
                            y += self.body_size * 1.3
                else:
                    fh = (x1 - x0) * rng.uniform(0.4, 0.7)
                    if y + fh > y1:
                        return
                    fig_ink = ink if ink != (255, 255, 255) else (235, 235, 235)
                    rng.choice(figures.FIGURES)(self.img, (x0, int(y), x1, int(y + fh)), rng, spec.body_font, fig_ink)
                    y += fh + self.body_size * 0.5
                    cap = f"Figure {rng.randint(1, 6)}: " + words.sentence(rng, 5, 10)
                    for line in _wrap(cap, font(spec.body_font, int(self.body_size * 0.85)), x1 - x0):
                        self.draw.text((x0, y), line, font=font(spec.body_font, int(self.body_size * 0.85)), fill=ink)
                        y += self.body_size * 1.1
                y += self.body_size * 0.8
            y += head_size * 0.6


def render_poster(spec: PosterSpec) -> Image.Image:
    """Draw the flat poster described by *spec* (RGB, ``spec.width`` x ``spec.height``)."""
    p = _Painter(spec)
    w, h, m = spec.width, spec.height, p.margin
    ink: RGB = (25, 25, 30)
    white: RGB = (255, 255, 255)
    split = w // 2 if spec.layout == "dark_left_half" else w
    if spec.layout == "dark_left_half":
        p.draw.rectangle([0, 0, split, h], fill=spec.dark)
    author_size = int(spec.ppi * p.rng.uniform(36, 46) / 72)
    badges = list(spec.right_badges)
    on_dark_header = spec.layout != "plain"
    head_ink = white if on_dark_header else ink
    title_ink = white if on_dark_header else (spec.accent if p.rng.random() < 0.3 else ink)

    if spec.variant == "question_headline":
        # Big question on top, real title in a footer band with the authors.
        hh = int(m * 2 + spec.headline_size * 1.18 * len(spec.headline_lines))
        if spec.layout == "header_band":
            p.draw.rectangle([0, 0, w, hh], fill=spec.dark)
        p.lines(spec.headline_lines, 0, m, spec.bold_font, spec.headline_size, head_ink, centre=w / 2)
        fh = int(m * 2.5 + spec.title_size * 1.18 * len(spec.title_lines) + author_size * 3.2)
        p.draw.rectangle([0, h - fh, w, h], fill=spec.dark)
        y = p.lines(spec.title_lines, spec.title_box[0], h - fh + m, spec.bold_font, spec.title_size, white)
        p.authors(spec.title_box[0], spec.title_box[1], y + m * 0.2, white, author_size, centre=False)
        p.badges(badges, w - m, h - fh + m, on_dark=True)
        body_top, body_bottom = hh + m, h - fh - m
        cols_x0 = m
    else:
        x0, x1 = spec.title_box
        centre = (x0 + x1) / 2 if spec.variant == "normal" and spec.layout != "dark_left_half" else None

        def header_text() -> float:
            top = float(m)
            if spec.variant == "tagline":
                top = p.lines(spec.headline_lines, m, m, spec.bold_font, spec.headline_size,
                              white if spec.layout != "plain" else spec.accent) + m * 0.4
            y = p.lines(spec.title_lines, x0, top, spec.bold_font, spec.title_size, title_ink, centre=centre)
            return p.authors(x0, x1, y + m * 0.3, head_ink, author_size, centre=centre is not None)

        # Measure the header on a scratch canvas first, so the band goes under the text.
        real_draw, p.draw = p.draw, ImageDraw.Draw(Image.new("RGB", (1, 1)))
        y = header_text()
        p.draw = real_draw
        hh = int(max(y + m * 0.6, m * 2 + p.logo_side))
        if spec.layout == "header_band":
            p.draw.rectangle([0, 0, w, hh], fill=spec.dark)
        header_text()
        if spec.layout == "dark_left_half":
            fit: list[str] = []
            for b in badges:  # only as many badges as fit across the dark half
                if sum(badge_width(k, p.logo_side) + m for k in fit + [b]) <= split - m:
                    fit.append(b)
            p.badges(fit, split - m, hh, on_dark=True)
            hh += p.logo_side + m
        else:
            p.badges(badges, w - m, m, on_dark=spec.layout != "plain")
            p.badges(spec.left_badges, m, m, on_dark=spec.layout != "plain", right_aligned=False)
        body_top, body_bottom = hh + m, h - m - int(spec.ppi * 0.9)
        cols_x0 = m
        # Footer: conference name and a URL in small type.
        fy = h - int(spec.ppi * 0.9)
        p.draw.rectangle([0 if split == w else split, fy, w, h], fill=spec.accent)
        p.draw.text((split + m if split != w else m, fy + spec.ppi * 0.2),
                    f"{p.rng.choice(words.CONFERENCES)} 2025  ·  "
                    f"github.com/{p.rng.choice(words.LAST_NAMES).lower()}/{p.rng.choice(words.BRANDS).lower()}",
                    font=font(spec.body_font, int(spec.ppi * 0.45)), fill=white)
        if spec.layout == "dark_left_half":
            p.column(m, int(body_top), split - m, int(h - m), (235, 235, 235))
            cols_x0 = split + m
            body_top = m
    n = spec.columns if cols_x0 == m else max(1, spec.columns - 1)
    gap = m
    cw = (w - m - cols_x0 - gap * (n - 1)) / n
    for i in range(n):
        cx0 = int(cols_x0 + i * (cw + gap))
        p.column(cx0, int(body_top), int(cx0 + cw), int(body_bottom), ink)
    return p.img

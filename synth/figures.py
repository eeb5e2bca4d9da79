"""Poster furniture drawn with PIL: plots, tables, diagrams, logos and QR codes.

Each function draws into a box ``(x0, y0, x1, y1)`` of an RGB image; none of
them needs to be accurate, only to look like what a poster carries, so the
detector and OCR see realistic clutter (thin lines, small text, dense blocks).
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

import segno
from PIL import Image, ImageDraw, ImageFont

from . import words

Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]

PALETTE: list[RGB] = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (23, 190, 207),
]


@lru_cache(maxsize=256)
def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, int(size)))


def _axes(draw: ImageDraw.ImageDraw, box: Box, fnt: ImageFont.FreeTypeFont, ink: RGB) -> Box:
    """Draw L-shaped axes with ticks; return the inner plotting box."""
    x0, y0, x1, y1 = box
    pad = int(fnt.size * 2.2)
    ax0, ay1 = x0 + pad, y1 - pad
    lw = max(2, fnt.size // 8)
    draw.line([(ax0, y0), (ax0, ay1), (x1, ay1)], fill=ink, width=lw)
    for i in range(5):
        ty = ay1 - (ay1 - y0) * i / 4
        draw.line([(ax0 - lw * 3, ty), (ax0, ty)], fill=ink, width=lw)
        draw.text((x0, ty - fnt.size / 2), f"{i * 25}", font=fnt, fill=ink)
    return ax0 + lw * 2, y0, x1, ay1 - lw


def bar_plot(img: Image.Image, box: Box, rng: random.Random, body_font: str, ink: RGB) -> None:
    draw = ImageDraw.Draw(img)
    fnt = font(body_font, max(10, (box[3] - box[1]) // 16))
    px0, py0, px1, py1 = _axes(draw, box, fnt, ink)
    groups, series = rng.randint(3, 6), rng.randint(1, 3)
    colours = rng.sample(PALETTE, series)
    gw = (px1 - px0) / groups
    bw = gw * 0.75 / series
    for g in range(groups):
        for s in range(series):
            h = (py1 - py0) * rng.uniform(0.15, 0.95)
            bx = px0 + g * gw + gw * 0.12 + s * bw
            draw.rectangle([bx, py1 - h, bx + bw * 0.92, py1], fill=colours[s])
        draw.text((px0 + g * gw + gw * 0.2, py1 + fnt.size * 0.4), rng.choice(words.FILLER)[:6], font=fnt, fill=ink)


def line_plot(img: Image.Image, box: Box, rng: random.Random, body_font: str, ink: RGB) -> None:
    draw = ImageDraw.Draw(img)
    fnt = font(body_font, max(10, (box[3] - box[1]) // 16))
    px0, py0, px1, py1 = _axes(draw, box, fnt, ink)
    lw = max(3, (box[3] - box[1]) // 90)
    for colour in rng.sample(PALETTE, rng.randint(2, 4)):
        level, slope = rng.uniform(0.1, 0.5), rng.uniform(-0.2, 0.6)
        pts = []
        for i in range(12):
            t = i / 11
            v = min(0.97, max(0.03, level + slope * (1 - math.exp(-3 * t)) + rng.gauss(0, 0.03)))
            pts.append((px0 + t * (px1 - px0), py1 - v * (py1 - py0)))
        draw.line(pts, fill=colour, width=lw, joint="curve")
        for p in pts[::2]:
            r = lw * 1.4
            draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=colour)


def table(img: Image.Image, box: Box, rng: random.Random, body_font: str, ink: RGB) -> None:
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    rows, cols = rng.randint(4, 8), rng.randint(3, 5)
    rh = (y1 - y0) / rows
    unit = (x1 - x0) / (cols + 1)  # the method-name column is twice as wide
    size = max(10, int(min(rh * 0.5, unit / 3.4)))
    fnt = font(body_font, size)
    bold = font(body_font.replace("Regular", "Bold").replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
                .replace("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf")
                .replace("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"), size)
    lw = max(2, int(rh / 20))
    for r in range(rows):
        ty = y0 + r * rh + (rh - size) / 2
        if r in (0, 1):
            draw.line([(x0, y0 + r * rh), (x1, y0 + r * rh)], fill=ink, width=lw * (2 if r == 0 else 1))
        for c in range(cols):
            if r == 0:
                text = rng.choice(words.ACRONYM_PARTS) if c else "Method"
            elif c == 0:
                text = rng.choice(words.BRANDS)[:9]
            else:
                text = f"{rng.uniform(10, 99):.1f}"
            is_bold = r == 0 or (c > 0 and rng.random() < 0.12)
            cx = x0 + (0 if c == 0 else (c + 1) * unit) + unit * 0.08
            draw.text((cx, ty), text, font=bold if is_bold else fnt, fill=ink)
    draw.line([(x0, y1), (x1, y1)], fill=ink, width=lw * 2)


def diagram(img: Image.Image, box: Box, rng: random.Random, body_font: str, ink: RGB) -> None:
    """Boxes joined by arrows, the typical "method overview" figure."""
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    n = rng.randint(3, 5)
    bw = (x1 - x0) / (n * 1.45)
    bh = min((y1 - y0) * 0.45, bw * 0.8)
    fnt = font(body_font, max(10, int(bh * 0.2)))
    lw = max(2, int(bw / 60))
    cy = (y0 + y1) / 2 + rng.uniform(-0.15, 0.15) * (y1 - y0)
    fills = rng.sample(PALETTE, n)
    centres = []
    for i in range(n):
        bx = x0 + i * (x1 - x0) / n + bw * 0.1
        fill = tuple(int(c + (255 - c) * 0.7) for c in fills[i])
        draw.rounded_rectangle([bx, cy - bh / 2, bx + bw, cy + bh / 2], radius=bh * 0.15, fill=fill,
                               outline=fills[i], width=lw)
        # Boxes are pale, so their labels are dark even on a dark poster half.
        draw.text((bx + bw * 0.08, cy - fnt.size / 2), rng.choice(words.NOUNS).split()[0][:9], font=fnt,
                  fill=(30, 30, 35))
        centres.append((bx, bx + bw))
    for (_, a), (b, _) in zip(centres, centres[1:]):
        draw.line([(a + lw, cy), (b - lw * 4, cy)], fill=ink, width=lw)
        draw.polygon([(b - lw, cy), (b - lw * 6, cy - lw * 3), (b - lw * 6, cy + lw * 3)], fill=ink)


def photo_patch(img: Image.Image, box: Box, rng: random.Random, body_font: str, ink: RGB) -> None:
    """A grid of small coloured "example images" (qualitative results)."""
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    cols, rows = rng.randint(3, 5), rng.randint(1, 2)
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    for r in range(rows):
        for c in range(cols):
            base = rng.choice(PALETTE)
            bx, by = x0 + c * w + w * 0.04, y0 + r * h + h * 0.04
            for k in range(6):  # nested blobs read as a picture at poster distance
                t = k / 6
                col = tuple(int(v * (1 - t) + rng.randint(60, 230) * t) for v in base)
                inset = k * min(w, h) * 0.07
                draw.ellipse([bx + inset + rng.uniform(0, w * 0.1), by + inset,
                              bx + w * 0.92 - inset, by + h * 0.92 - inset], fill=col)


FIGURES = [bar_plot, line_plot, table, diagram, photo_patch]


def qr_code(img: Image.Image, box: Box, data: str, dark: RGB = (0, 0, 0), light: RGB = (255, 255, 255)) -> None:
    qr = segno.make(data, error="m")
    side = min(box[2] - box[0], box[3] - box[1])
    size, _ = qr.symbol_size(scale=1, border=2)
    scale = max(1, side // size)
    matrix = list(qr.matrix_iter(scale=1, border=2))
    small = Image.new("RGB", (len(matrix[0]), len(matrix)), light)
    px = small.load()
    for y, row in enumerate(matrix):
        for x, bit in enumerate(row):
            if bit:
                px[x, y] = dark
    big = small.resize((small.width * scale, small.height * scale), Image.Resampling.NEAREST)
    img.paste(big, (box[0], box[1]))


def logo(img: Image.Image, box: Box, rng: random.Random, kind: str, bold_font: str, colour: RGB) -> None:
    """A university shield / seal circle / lab box / conference wordmark."""
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    initials = "".join(rng.choice("ABCDEFGHKLMNPRSTUW") for _ in range(rng.randint(2, 4)))
    if kind == "shield":
        draw.polygon([(x0, y0), (x1, y0), (x1, y0 + h * 0.55), ((x0 + x1) / 2, y1), (x0, y0 + h * 0.55)], fill=colour)
        draw.line([(x0 + w * 0.2, y0 + h * 0.35), (x1 - w * 0.2, y0 + h * 0.35)], fill=(240, 200, 60),
                  width=max(2, w // 18))
        fnt = font(bold_font, h * 0.22)
        draw.text(((x0 + x1) / 2, y0 + h * 0.6), initials[:2], font=fnt, fill=(255, 255, 255), anchor="mm")
    elif kind == "circle":
        lw = max(2, w // 25)
        draw.ellipse(box, fill=(255, 255, 255), outline=colour, width=lw)
        draw.ellipse([x0 + w * 0.12, y0 + h * 0.12, x1 - w * 0.12, y1 - h * 0.12], outline=colour, width=lw)
        fnt = font(bold_font, h * 0.28)
        draw.text(((x0 + x1) / 2, (y0 + y1) / 2), initials[:3], font=fnt, fill=colour, anchor="mm")
    elif kind == "lab":
        draw.rectangle(box, fill=colour)
        label = initials + "\nLab"
        size = h * 0.3
        while font(bold_font, size).getbbox(label.split()[0])[2] > w * 0.85 and size > 8:
            size *= 0.9
        draw.multiline_text(((x0 + x1) / 2, (y0 + y1) / 2), label, font=font(bold_font, size), fill=(255, 255, 255),
                            anchor="mm", align="center")
    else:  # conference wordmark: name over the year, fitted to the box
        name = rng.choice(words.CONFERENCES)
        size = h * 0.45
        while font(bold_font, size).getlength(name) > w and size > 8:
            size *= 0.9
        fnt = font(bold_font, size)
        draw.text((x0, y0 + h * 0.45), name, font=fnt, fill=colour, anchor="ls")
        draw.text((x0 + size * 0.05, y0 + h * 0.5), "2025", font=font(bold_font, size * 0.5), fill=colour, anchor="lt")

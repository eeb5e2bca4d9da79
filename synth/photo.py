"""Photograph a flat poster: wall, perspective, curl, shadow, tape, cards, people, camera.

Everything is composited in float32 RGB on the upright photo canvas. Things
that are blurry in a real photo anyway (shadows, light, people out of focus)
are computed at a fraction of the resolution and resized, which keeps one
12 MP photo near a second of work on one core.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw

from . import occluders, surface
from .figures import font
from .poster import DEJAVU, LIBERATION, random_spec, render_poster

Quad = np.ndarray  # (4, 2) float64, TL, TR, BR, BL


def _lowres_noise(nrng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Smooth noise in about -1..1 with roughly *cells* blobs across the short side."""
    gw, gh = max(2, cells * w // min(w, h)), max(2, cells * h // min(w, h))
    small = nrng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _wall(nrng: np.random.Generator, rng: random.Random, w: int, h: int) -> tuple[np.ndarray, bool]:
    """Off-white / beige painted wall, or (sometimes) a grey felt poster board; with blotches and grain."""
    board = rng.random() < 0.2
    if board:
        base = np.array(rng.choice([(150, 155, 165), (128, 132, 140), (170, 168, 160), (110, 120, 140)]), np.float32)
    else:
        base = np.array(rng.choice([(226, 220, 204), (232, 228, 218), (214, 208, 192), (220, 222, 220),
                                    (205, 200, 188), (236, 232, 222), (188, 190, 192)]), np.float32)
    base += np.array([rng.uniform(-6, 6) for _ in range(3)], np.float32)
    q = 8  # texture at 1/8 resolution, then fine grain at full resolution
    sw, sh = max(8, w // q), max(8, h // q)
    tex = (_lowres_noise(nrng, sw, sh, 3) * rng.uniform(3, 7) + _lowres_noise(nrng, sw, sh, 25) * rng.uniform(1, 3)
           + nrng.standard_normal((sh, sw)).astype(np.float32) * rng.uniform(0.8, 2.0))
    tex = cv2.resize(tex, (w, h), interpolation=cv2.INTER_LINEAR)
    if board:  # felt: strong fine fibre texture
        tex += cv2.GaussianBlur(nrng.standard_normal((h, w), dtype=np.float32), (0, 0), 1.2) * 9
    wall = np.empty((h, w, 3), np.float32)
    for c in range(3):
        wall[..., c] = tex + base[c]
    return wall, board


def _pose(rng: random.Random, pw: int, ph: int, w: int, h: int, hard: bool) -> tuple[Quad, float, float]:
    """Project the poster rectangle through a tilted camera; return photo quad, tilt, fill."""
    big = rng.uniform(5, 20)
    yaw_first = rng.random() < 0.65  # people mostly step sideways, sometimes shoot from below
    yaw = math.radians(big if yaw_first else rng.uniform(0, 8)) * rng.choice([-1, 1])
    pitch = math.radians(rng.uniform(0, 8) if yaw_first else big) * rng.choice([-1, 1])
    roll = math.radians(rng.uniform(-3.5, 3.5))
    tilt = max(abs(math.degrees(yaw)), abs(math.degrees(pitch)))
    if rng.random() < 0.25:
        target_fill = rng.uniform(0.75, 0.95)  # close-up; landscape posters in a portrait frame cap near 55 %
    else:
        target_fill = rng.uniform(0.25, 0.75) if not hard else rng.uniform(0.22, 0.6)
    # Poster in its own plane, height 1; camera focal ~0.6 of the diagonal (26 mm equivalent).
    asp = pw / ph
    pts = np.array([[-asp / 2, -0.5, 0], [asp / 2, -0.5, 0], [asp / 2, 0.5, 0], [-asp / 2, 0.5, 0]])
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    f = 0.6 * math.hypot(w, h)
    frame_h_units = math.sqrt(target_fill * w * h / asp)  # poster height in px if seen head-on
    dist = f / frame_h_units
    cam = pts @ (rz @ rx @ ry).T + np.array([0, 0, dist])
    quad = f * cam[:, :2] / cam[:, 2:3]
    area = 0.5 * abs(np.dot(quad[:, 0], np.roll(quad[:, 1], 1)) - np.dot(quad[:, 1], np.roll(quad[:, 0], 1)))
    quad *= math.sqrt(target_fill * w * h / area)
    quad -= quad.mean(axis=0)
    margin = 0.025 * min(w, h)
    span = quad.max(axis=0) - quad.min(axis=0)
    shrink = min(1.0, (w - 2 * margin) / span[0], (h - 2 * margin) / span[1])
    quad *= shrink
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    ox = rng.uniform(margin - lo[0], w - margin - hi[0])
    oy = rng.uniform(margin - lo[1], h - margin - hi[1])
    quad += np.array([ox, oy])
    fill = _area(quad) / (w * h)
    return quad, tilt, fill


def _area(quad: np.ndarray) -> float:
    x, y = quad[:, 0], quad[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _src_rect(pw: int, ph: int) -> np.ndarray:
    # Paper edges sit half a pixel outside the outermost pixel centres.
    return np.array([[-0.5, -0.5], [pw - 0.5, -0.5], [pw - 0.5, ph - 0.5], [-0.5, ph - 0.5]], np.float32)


def _paste_warped(canvas: np.ndarray, img: np.ndarray, hom: np.ndarray, curl: list[float] | None = None) -> np.ndarray:
    """Warp *img* (h, w, 3 uint8) into *canvas* through *hom*; return the full-frame alpha mask.

    *curl* gives per-edge (top, right, bottom, left) bends in source pixels; the
    bend is zero at the corners so the paper corners stay exactly on the quad.
    """
    ch, cw = canvas.shape[:2]
    ih, iw = img.shape[:2]
    quad = cv2.perspectiveTransform(_src_rect(iw, ih)[None], hom)[0]
    pad = 2 + (max(abs(c) for c in curl) * 3 if curl else 0)
    x0, y0 = max(0, int(quad[:, 0].min() - pad)), max(0, int(quad[:, 1].min() - pad))
    x1, y1 = min(cw, int(quad[:, 0].max() + pad) + 1), min(ch, int(quad[:, 1].max() + pad) + 1)
    alpha_full = np.zeros((ch, cw), np.float32)
    if x1 <= x0 or y1 <= y0:
        return alpha_full
    inv = np.linalg.inv(hom).astype(np.float32)
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    den = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
    mx = (inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) / den
    my = (inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) / den
    if curl:
        s = np.clip(mx / iw, 0, 1)
        t = np.clip(my / ih, 0, 1)
        decay = 0.03 * min(iw, ih)
        top, right, bottom, left = curl
        wave_s, wave_t = np.sin(np.pi * s), np.sin(np.pi * t)
        my = my - top * wave_s * np.exp(-np.abs(my) / decay) + bottom * wave_s * np.exp(-np.abs(ih - my) / decay)
        mx = mx - left * wave_t * np.exp(-np.abs(mx) / decay) + right * wave_t * np.exp(-np.abs(iw - mx) / decay)
    mx, my = mx.astype(np.float32), my.astype(np.float32)
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    ones = np.full((ih, iw), 255, np.uint8)
    a = cv2.remap(ones, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = a.astype(np.float32)[..., None] / 255.0
    region = canvas[y0:y1, x0:x1]
    out -= region  # region += (out - region) * a, in place to spare 12 MP temporaries
    out *= a
    region += out
    alpha_full[y0:y1, x0:x1] = a[..., 0]
    return alpha_full


def _fit_poster(poster: Image.Image, quad: Quad) -> tuple[np.ndarray, np.ndarray]:
    """Downscale the poster to about its size in the photo (no aliasing) and its homography."""
    pw, ph = poster.size
    edge = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])) / pw
    edge = max(edge, max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])) / ph)
    scale = min(1.0, edge * 1.15)
    arr = np.asarray(poster.convert("RGB"))
    if scale < 0.95:
        arr = cv2.resize(arr, (max(8, round(pw * scale)), max(8, round(ph * scale))), interpolation=cv2.INTER_AREA)
    hom = cv2.getPerspectiveTransform(_src_rect(arr.shape[1], arr.shape[0]), quad.astype(np.float32))
    return arr, hom


def _plane_point(hom_plane: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Map points of the wall plane into the photo.

    Plane units are poster widths on both axes: the poster spans x 0..1 and
    y 0..height/width, so shapes keep their proportions before perspective.
    """
    return cv2.perspectiveTransform(pts.reshape(1, -1, 2).astype(np.float64), hom_plane)[0]


def _tape_polygon(rng: random.Random, cx: float, cy: float, angle: float, length: float, width: float) -> np.ndarray:
    """A strip of tape with torn, slightly ragged ends."""
    ux, uy = math.cos(angle), math.sin(angle)
    nx, ny = -uy, ux
    pts = []
    for end in (-1, 1):
        steps = 6
        for k in range(steps + 1):
            across = (k / steps - 0.5) * width * end
            along = end * length / 2 + rng.uniform(-0.08, 0.08) * width
            pts.append((cx + ux * along + nx * across, cy + uy * along + ny * across))
    return np.array(pts)


def _fill_poly(canvas: np.ndarray, poly: np.ndarray, colour: np.ndarray, opacity: float,
               nrng: np.random.Generator, texture: float) -> None:
    """Anti-aliased polygon with a little surface texture, composited onto *canvas*."""
    h, w = canvas.shape[:2]
    x0, y0 = max(0, int(poly[:, 0].min()) - 2), max(0, int(poly[:, 1].min()) - 2)
    x1, y1 = min(w, int(poly[:, 0].max()) + 3), min(h, int(poly[:, 1].max()) + 3)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((poly - [x0, y0]) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    a = (mask.astype(np.float32) / 255.0 * opacity)[..., None]
    grain = 1 + nrng.standard_normal(mask.shape).astype(np.float32)[..., None] * texture
    region = canvas[y0:y1, x0:x1]
    region *= 1 - a
    region += colour[None, None, :] * grain * a


TAPE_COLOURS = [(62, 128, 196), (70, 140, 205), (52, 112, 182), (80, 150, 210)]


def _tape(canvas: np.ndarray, rng: random.Random, nrng: np.random.Generator, hom_plane: np.ndarray,
          asp: float) -> list[str]:
    """Painter's tape over poster corners and edges; returns tags: "tape" (+ "tape_edges", "tape_blue")."""
    ph = 1 / asp
    width = rng.uniform(0.035, 0.05) * (1.4 if asp < 1 else 1.0)  # 2" tape on a 33-48" wide poster
    colour = np.array(rng.choice(TAPE_COLOURS), np.float32)
    blue = True
    if rng.random() < 0.15:
        colour = np.array((222, 208, 170), np.float32)  # beige masking tape
        blue = False
    opacity = rng.uniform(0.88, 0.97)
    corners = [(0.0, 0.0), (1.0, 0.0), (1.0, ph), (0.0, ph)]
    style = rng.choice(["diagonal", "diagonal", "straight", "edges"])
    count, edges = 0, 0
    if style != "edges":
        chosen = corners if rng.random() < 0.7 else rng.sample(corners, rng.randint(1, 3))
        for cx, cy in chosen:
            if style == "diagonal":
                # Across the corner, perpendicular to the diagonal through it.
                ang = math.atan2(-1.0, 1.0) if (cx == 0) == (cy == 0) else math.atan2(1.0, 1.0)
                ang += math.radians(rng.uniform(-15, 15))
            else:
                ang = math.radians(rng.uniform(-6, 6)) + (math.pi / 2 if rng.random() < 0.3 else 0.0)
            shift = rng.uniform(-0.2, 0.2) * width
            length = width * rng.uniform(2.5, 4.0)
            poly = _tape_polygon(rng, cx + shift, cy + shift, ang, length, width)
            _fill_poly(canvas, _plane_point(hom_plane, poly), colour, opacity, nrng, 0.035)
            count += 1
    if style == "edges" or rng.random() < 0.35:
        for _ in range(rng.randint(2, 4)):
            t = rng.uniform(0.15, 0.85)
            cx, cy, ang = rng.choice([(t, 0.0, math.pi / 2), (1.0, t * ph, 0.0),
                                      (t, ph, math.pi / 2), (0.0, t * ph, 0.0)])
            ang += math.radians(rng.uniform(-8, 8))
            poly = _tape_polygon(rng, cx, cy, ang, width * rng.uniform(2.0, 3.5), width)
            _fill_poly(canvas, _plane_point(hom_plane, poly), colour, opacity, nrng, 0.035)
            count += 1
            edges += 1
    if not count:
        return []
    return ["tape"] + (["tape_edges"] if edges else []) + (["tape_blue"] if blue else [])


def _wall_tape(canvas: np.ndarray, rng: random.Random, nrng: np.random.Generator, quad: Quad) -> bool:
    """Leftover strips of tape on the wall, away from the poster; False when none fitted."""
    h, w = canvas.shape[:2]
    tw = rng.uniform(0.012, 0.02) * min(w, h)
    colour = np.array(rng.choice(TAPE_COLOURS), np.float32)
    placed = False
    for _ in range(rng.randint(1, 3)):
        for _ in range(10):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            if cv2.pointPolygonTest(quad.astype(np.float32), (cx, cy), True) < -3 * tw:
                break
        else:
            continue
        poly = _tape_polygon(rng, cx, cy, rng.uniform(0, math.pi), tw * rng.uniform(2, 5), tw)
        _fill_poly(canvas, poly, colour, rng.uniform(0.85, 0.95), nrng, 0.035)
        placed = True
    return placed


def _card_image(rng: random.Random, aspect: float) -> np.ndarray:
    """The flat number card: a big bold board number on white or pale yellow."""
    label = f"{rng.choice('ABCDEFGHKLMP')}{rng.randint(1, 250)}" if rng.random() < 0.8 else f"#{rng.randint(100, 4999)}"
    px = 400
    card = Image.new("RGB", (px, int(px * aspect)), rng.choice([(250, 250, 248), (255, 255, 255), (255, 248, 200)]))
    d = ImageDraw.Draw(card)
    fpath = rng.choice([LIBERATION + "LiberationSans-Bold.ttf", DEJAVU + "DejaVuSans-Bold.ttf"])
    size = int(card.height * 0.62)
    while font(fpath, size).getlength(label) > px * 0.85:
        size = int(size * 0.9)
    d.text((px / 2, card.height / 2), label, font=font(fpath, size), fill=(15, 15, 20), anchor="mm")
    return np.asarray(card)


def _number_card(canvas: np.ndarray, rng: random.Random, nrng: np.random.Generator, hom_plane: np.ndarray,
                 asp: float) -> list[str]:
    """A number card taped above (or beside) the poster, where it fits in the frame; returns its tags."""
    h, w = canvas.shape[:2]
    cw = rng.uniform(0.12, 0.18) * (1.3 if asp < 1 else 1.0)
    aspect = rng.uniform(0.55, 0.75)
    chh, ph, gap = cw * aspect, 1 / asp, rng.uniform(0.01, 0.04)
    above = -chh / 2 - gap
    candidates = [(rng.uniform(0.3, 0.7), above), (rng.uniform(0.08, 0.2), above), (rng.uniform(0.8, 0.92), above),
                  (-cw / 2 - gap, rng.uniform(0.05, 0.2) * ph), (1 + cw / 2 + gap, rng.uniform(0.05, 0.2) * ph)]
    arr = _card_image(rng, aspect)
    for i, (cx, cy) in enumerate(candidates):
        rect = np.array([[cx - cw / 2, cy - chh / 2], [cx + cw / 2, cy - chh / 2], [cx + cw / 2, cy + chh / 2],
                         [cx - cw / 2, cy + chh / 2]])
        quad = _plane_point(hom_plane, rect)
        if quad[:, 0].min() < 0 or quad[:, 1].min() < 0 or quad[:, 0].max() > w or quad[:, 1].max() > h:
            continue
        hom = cv2.getPerspectiveTransform(_src_rect(arr.shape[1], arr.shape[0]), quad.astype(np.float32))
        _paste_warped(canvas, arr, hom)
        tw = cw * 0.12
        colour = np.array(rng.choice(TAPE_COLOURS), np.float32)
        for tx in (cx - cw / 2, cx + cw / 2):  # two bits of tape hold it at the top corners
            poly = _tape_polygon(rng, tx, cy - chh / 2, math.radians(rng.uniform(-60, 60)), tw * 2.5, tw)
            _fill_poly(canvas, _plane_point(hom_plane, poly), colour, 0.92, nrng, 0.035)
        return ["number_card", "number_card_above" if i < 3 else "number_card_beside"]
    return []


def _neighbour(canvas: np.ndarray, rng: random.Random, hom_plane: np.ndarray, asp: float) -> bool:
    """Another poster on the same wall beside the main one, if enough of it is in frame."""
    h, w = canvas.shape[:2]
    spec = random_spec(rng, width=900)
    nh = (1 / asp) * rng.uniform(0.85, 1.1)  # similar physical height
    nw = nh * spec.width / spec.height
    gap = rng.uniform(0.06, 0.15)
    x0 = 1 + gap if rng.random() < 0.5 else -gap - nw
    y0 = rng.uniform(-0.1, 0.1) / asp
    rect = np.array([[x0, y0], [x0 + nw, y0], [x0 + nw, y0 + nh], [x0, y0 + nh]])
    quad = _plane_point(hom_plane, rect)
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    visible, _ = cv2.intersectConvexConvex(quad.astype(np.float32), frame)
    # Partly in frame only: the photo's subject must stay the main poster.
    if visible < 0.02 * w * h or visible > 0.6 * _area(quad):
        return False
    arr = np.asarray(render_poster(spec))
    hom = cv2.getPerspectiveTransform(_src_rect(arr.shape[1], arr.shape[0]), quad.astype(np.float32))
    _paste_warped(canvas, arr, hom)
    return True


def _shadow(canvas: np.ndarray, rng: random.Random, quad: Quad) -> None:
    """Soft drop shadow of the paper on the wall (computed at 1/8 resolution)."""
    h, w = canvas.shape[:2]
    q = 8
    sw, sh = max(4, w // q), max(4, h // q)
    off = np.array([rng.uniform(-0.012, 0.012), rng.uniform(0.002, 0.015)]) * min(w, h)
    mask = np.zeros((sh, sw), np.float32)
    cv2.fillPoly(mask, [np.round((quad + off) / q * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    sigma = rng.uniform(0.004, 0.012) * min(w, h) / q
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    canvas *= (1 - rng.uniform(0.15, 0.35) * mask)[..., None]


def _light(canvas: np.ndarray, rng: random.Random, nrng: np.random.Generator) -> None:
    """Uneven room light: a gradient, vignetting, a soft blob, and a colour cast."""
    h, w = canvas.shape[:2]
    q = 16
    sw, sh = max(4, w // q), max(4, h // q)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xx, yy = xx / sw - 0.5, yy / sh - 0.5
    ang = rng.uniform(0, 2 * math.pi)
    grad = 1 + rng.uniform(0.06, 0.22) * (xx * math.cos(ang) + yy * math.sin(ang)) * 2
    vign = 1 - rng.uniform(0.1, 0.35) * (xx ** 2 + yy ** 2) * 2
    blob = 1 + _lowres_noise(nrng, sw, sh, 2) * rng.uniform(0.01, 0.05)
    gain = cv2.resize((grad * vign * blob * rng.uniform(0.85, 1.02)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_LINEAR)
    cast = np.array([1 + rng.uniform(-0.02, 0.05), 1.0, 1 + rng.uniform(-0.07, 0.02)], np.float32)
    for c in range(3):
        canvas[..., c] *= gain * cast[c]


def render_photo(poster: Image.Image, rng: random.Random, *, size: tuple[int, int] = (3024, 4032),
                 hard: bool = False) -> tuple[Image.Image, list[list[float]], list[str]]:
    """Photograph *poster* on a wall; return (upright photo, paper corners TL,TR,BR,BL, phenomena)."""
    w, h = size
    nrng = np.random.default_rng(rng.getrandbits(64))
    phen: list[str] = []
    canvas, board = _wall(nrng, rng, w, h)
    phen.append("board" if board else "wall")  # felt board, or a textured off-white / beige wall
    phen.append("uneven_light")  # _light() below: gradient, vignetting, blotches, colour cast
    pw, ph = poster.size
    quad, tilt, fill = _pose(rng, pw, ph, w, h, hard)
    phen.append("perspective")  # 5-20 degrees, always
    if tilt > 15:
        phen.append("steep")
    if fill < 0.35:
        phen.append("small")
    elif fill > 0.75:
        phen.append("large")
    asp = pw / ph
    hom_plane = cv2.getPerspectiveTransform(np.array([[0, 0], [1, 0], [1, 1 / asp], [0, 1 / asp]], np.float32),
                                            quad.astype(np.float32)).astype(np.float64)
    if rng.random() < 0.75:
        _shadow(canvas, rng, quad)
        phen.append("shadow")
    if rng.random() < 0.3 and _wall_tape(canvas, rng, nrng, quad):
        phen.append("wall_tape")
    if rng.random() < (0.45 if hard else 0.3) and _neighbour(canvas, rng, hom_plane, asp):
        phen.append("neighbour_poster")
    arr, hom = _fit_poster(poster, quad)
    curl = None
    if rng.random() < 0.6:
        amp = 0.004 * min(w, h) * arr.shape[1] / max(1.0, np.linalg.norm(quad[1] - quad[0]))
        curl = [rng.uniform(-1, 1) * amp for _ in range(4)]
        phen.append("curl")
    arr, paper_tags = surface.paper(arr, rng, nrng, curl)
    phen += paper_tags
    alpha = _paste_warped(canvas, arr, hom, curl)
    if rng.random() < (0.75 if hard else 0.55):
        phen += _tape(canvas, rng, nrng, hom_plane, asp)
    if rng.random() < 0.5:
        phen += _number_card(canvas, rng, nrng, hom_plane, asp)
    if rng.random() < (0.3 if hard else 0.12):
        surface.glare(canvas, rng, alpha, quad)
        phen.append("glare")
    del alpha
    if hard:
        phen += occluders.people(canvas, rng, nrng, quad)
    _light(canvas, rng, nrng)
    img = np.clip(canvas, 0, 255).astype(np.uint8)
    del canvas
    if rng.random() < (0.5 if hard else 0.3):
        img = _blur(img, rng)
        phen.append("blur")
    noise = nrng.standard_normal((h, w), dtype=np.float32) * rng.uniform(1.0, 2.5)
    img = np.clip(img.astype(np.float32) + noise[..., None], 0, 255).astype(np.uint8)
    out = surface.sharpen(img, rng)
    corners = [[float(x), float(y)] for x, y in quad]
    return Image.fromarray(out), corners, phen


def _blur(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Slight defocus or hand-shake blur, scaled with the photo size."""
    s = min(img.shape[:2]) / 3024
    if rng.random() < 0.5:
        return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.8, 2.0) * s)
    length = max(3, int(rng.uniform(4, 11) * s))
    k = np.zeros((length, length), np.float32)
    ang = rng.uniform(0, math.pi)
    c = (length - 1) / 2
    for i in range(length * 3):
        t = i / (length * 3 - 1) - 0.5
        k[int(round(c + t * (length - 1) * math.sin(ang))), int(round(c + t * (length - 1) * math.cos(ang)))] = 1
    return cv2.filter2D(img, -1, k / k.sum())

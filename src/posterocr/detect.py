"""Stage 2: find the poster's four corners and warp it to a rectangle.

The detector is line based, because a poster's outline is four long straight
edges even where a hand, a head or tape hides parts of them:

1. Work on a ~1000 px copy. LSD finds segments on a contrast-boosted grey
   image and on a yellow-blue chroma image (a white poster on an off-white
   wall differs by a few grey levels, a beige wall mostly in colour).
2. Near-horizontal and near-vertical segments are merged into line
   hypotheses (collinear pieces of one edge interrupted by tape or curl).
3. Every top/bottom x left/right combination of the strongest lines is a
   candidate quad; its corners are line intersections, so a corner hidden by a
   person is recovered where the visible edges meet.
4. Candidates are scored by edge evidence measured along each side (LSD only
   proposes lines): supported length counts for the quad, unsupported length
   against it, unless the gap is *occluded* (both sides of the line look like
   neither wall nor paper: skin, hair, a sleeve, tape). Edges with an occluder
   outside, corners in empty wall, sides with wall inside and a lighter
   poster outside, and quads that cut through text are penalised, so the
   largest well-outlined quad wins over inner boxes (header band, figures) and
   over quads stretched to a neighbouring poster or an occluder's outline.
   A soft (out-of-focus) edge counts as an occluder's outline, not as paper.
5. The winner's sides are re-fitted on the full-resolution photo. When one of
   its sides is mostly someone's outline, the paper's edge there is hidden and
   its corners are a guess: the confidence is capped below the flag threshold.

Sampling along lines lives in :mod:`posterocr.detect_sampling`, the scoring
of candidate quads in :mod:`posterocr.detect_score`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .detect_sampling import add_colours, CumTable, EdgeLine, LineData, sample_lines, WorkImage
from .detect_score import Candidate, evaluate, sample_outline
from .geometry import (MAX_OPPOSITE_DEG, as_quad, corner_angles, fit_line_tls, is_convex, plausible_quads,
                       poster_aspect, refine_quad, side_lengths, to_corners)
from .records import Corners, Detection


@dataclass(frozen=True)
class DetectSettings:
    """Tunable parameters of :func:`find_poster` (defaults suit 12 MP phone photos)."""

    work_long_side: int = 1000  # detection runs on a copy this size
    min_segment_frac: float = 0.02  # ignore LSD segments shorter than this x long side
    lsd_scale: float = 0.8  # LSD's internal sub-sampling of the grey work image (OpenCV's default)
    lines_per_axis: int = 20  # strongest line hypotheses kept per orientation
    max_tilt_deg: float = 35.0  # a side may deviate this much from horizontal/vertical
    min_area_frac: float = 0.05  # smallest poster, as a share of the photo
    candidates: int = 25  # quads given the full (occlusion-aware) evaluation
    unsupported_penalty: float = 1.0  # cost of a side pixel crossing bare wall or blank paper
    min_confidence: float = 0.40  # below this: found=False, whole photo returned
    refine: bool = True  # re-fit sides on the full-resolution photo


DEFAULT_SETTINGS = DetectSettings()

# A side whose edge evidence is mostly an occluder's outline (non-wall outside
# or out of focus) hides the paper's edge; the detection's confidence is then
# capped below the draft's flag threshold (0.5), above min_confidence.
# 0.6, not a bare majority: a soft shadow under a correct bottom edge reaches
# ~0.5 (sample IMG_0002); the wrong outlines of 4 hard sets measured 0.79-1.0.
_OUTLINE_SIDE = 0.6
_GUESSED_CONFIDENCE = 0.45
_ROUGH_PENALTY = 0.1  # stage-1 cost of unsupported side length (lenient: hidden sides)


def find_poster(image: np.ndarray, settings: DetectSettings = DEFAULT_SETTINGS) -> Detection:
    """Find the poster in an upright RGB photo (full resolution).

    Returns corners TL, TR, BR, BL in full-resolution pixels. When no quad is
    convincing, ``found`` is False and the corners are the whole photo's. Pure:
    no I/O, *image* is not modified. A non-RGB-uint8 array is a caller bug
    (load_photo never returns one) and raises ValueError.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("find_poster expects an RGB uint8 image of shape (H, W, 3)")
    h_full, w_full = image.shape[:2]
    whole = to_corners([[0, 0], [w_full - 1, 0], [w_full - 1, h_full - 1], [0, h_full - 1]])
    work = _prepare(image, settings)
    candidates = _candidates(work, settings)
    if not candidates:
        return Detection(corners=whole, confidence=0.0, found=False, method="none")
    best = candidates[0]
    # Busy surroundings (a close-up inside a poster, a figure) lower the
    # confidence; a poster on a wall has surroundings well under half as busy.
    ratio = _surround_ratio(work, best.quad)
    confidence = best.confidence * float(np.clip(1.0 - (ratio - 0.4) / 0.6, 0.3, 1.0))
    if confidence < settings.min_confidence:
        return Detection(corners=whole, confidence=confidence, found=False, method="lines")
    quad_full = best.quad / work.scale
    method = "lines"
    if max(side["not_wall"] for side in best.details["sides"]) >= _OUTLINE_SIDE:
        # A side drawn mostly by someone's outline: the paper's edge is hidden
        # behind them and its corners are a guess; ask the user to check.
        confidence = min(confidence, _GUESSED_CONFIDENCE)
        method += "+hidden-side"
    if settings.refine:
        quad_full, refined = refine_quad(image, quad_full, search=max(3, round(2.5 / work.scale)))
        if refined:
            method += "+refined"
    return Detection(corners=to_corners(quad_full), confidence=confidence, found=True, method=method)


# --------------------------------------------------------------------------- preparation


def _prepare(image: np.ndarray, settings: DetectSettings) -> WorkImage:
    h, w = image.shape[:2]
    # An integer reduction factor takes OpenCV's fast INTER_AREA path (3x
    # quicker on 12 MP); the few pixels it drops at the right/bottom edge do
    # not matter for finding a poster.
    factor = max(1, round(max(h, w) / settings.work_long_side))
    scale = 1.0 / factor
    if factor > 1:
        hh, ww = h // factor, w // factor
        rgb = cv2.resize(image[: hh * factor, : ww * factor], (ww, hh), interpolation=cv2.INTER_AREA)
    else:
        rgb = image.copy()
    lab8 = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    gray = np.ascontiguousarray(lab8[:, :, 0])  # OpenCV would copy a strided view on every call
    g = gray.astype(np.float32)
    # Local contrast x3: a white poster on an off-white wall is a step of a few
    # grey levels, below LSD's fixed gradient threshold until amplified. LSD's
    # a-contrario test keeps the amplified noise from turning into segments.
    # (In-place arithmetic: the same float32 operations, fewer temporaries.)
    boosted = _stretch(g - _large_blur(g), 3.0)
    b = lab8[:, :, 2].astype(np.float32)
    # Centred on the median so the wall/paper difference is stretched while
    # tape and skin simply saturate.
    chroma = _stretch(b - float(np.median(b[::4, ::4])), 4.0)
    grads = []
    for channel in (g, b * 2.0):
        blurred = cv2.GaussianBlur(channel, (0, 0), 1.0)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
        # Noise floor from the median gradient (most of a photo is flat wall
        # and paper); the support test averages along the line, so a low
        # multiple of it suffices and faint paper edges still count.
        noise = float(np.median(np.abs(gx[::4, ::4]) + np.abs(gy[::4, ::4])))
        grads.append((gx, gy, max(4.0, 1.5 * noise)))
    density = _edge_density(cv2.Canny(gray, 40, 100))
    lab = cv2.blur(lab8, (5, 5))  # colour comparisons want area averages, not pixels
    return WorkImage(gray=gray, lab=lab, lsd_inputs=(boosted, chroma), grads=tuple(grads),
                     density=density, scale=scale)


def _stretch(diff: np.ndarray, gain: float) -> np.ndarray:
    """uint8 of clip(diff * gain + 128) for a float32 *diff* (which is overwritten)."""
    diff *= gain
    diff += 128.0
    np.clip(diff, 0, 255, out=diff)
    return diff.astype(np.uint8)


# Share of edge pixels for each count (0..81) in a 9x9 window, rounded as
# OpenCV's normalised float box filter rounds it (count * (1/81) in double).
_DENSITY_LUT = (np.arange(256) * (1.0 / 81.0)).astype(np.float32)


def _edge_density(edges: np.ndarray) -> np.ndarray:
    """float32 share of edge pixels (non-zero in *edges*) in the 9x9 window around each pixel.

    The values of a normalised float32 box filter over the 0/1 mask, from an
    integer count and a lookup table: half the cost.
    """
    counts = cv2.boxFilter((edges > 0).view(np.uint8), cv2.CV_8U, (9, 9), normalize=False)
    return cv2.LUT(counts, _DENSITY_LUT)


def _large_blur(g: np.ndarray) -> np.ndarray:
    """Approximate Gaussian blur with sigma ~15 px, cheaply (via an 8x smaller copy)."""
    h, w = g.shape
    small = cv2.resize(g, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


# --------------------------------------------------------------------------- lines


def _segments(work: WorkImage, settings: DetectSettings) -> np.ndarray:
    # LSD on the grey image is the largest single cost of detection. A lower
    # scale than the default 0.8 (0.7) was 6 % cheaper with the same outline IoU
    # on the hard sets, but moved corners by 0.2-0.4 px, which flipped the title
    # picked on 5 of 96 tagline photos (issue 5): kept at the default.
    lsd_grey = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD, settings.lsd_scale)
    lsd = cv2.createLineSegmentDetector()
    min_len = settings.min_segment_frac * max(work.gray.shape)
    found = []
    for k, channel in enumerate(work.lsd_inputs):
        # Colour edges are soft (chroma is blurred by demosaicing and JPEG),
        # so the chroma image is searched at half size: a quarter of the cost.
        half = k > 0
        img = cv2.resize(channel, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if half else channel
        lines = (lsd if half else lsd_grey).detect(img)[0]
        if lines is not None:
            found.append(lines.reshape(-1, 4) * (2.0 if half else 1.0))
    if not found:
        return np.zeros((0, 4), np.float32)
    segs = np.concatenate(found).astype(np.float64)
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    return segs[lengths >= min_len]


def _line_hypotheses(work: WorkImage, settings: DetectSettings) -> tuple[list[EdgeLine], list[EdgeLine]]:
    segs = _segments(work, settings)
    if len(segs) == 0:
        return [], []
    dx = segs[:, 2] - segs[:, 0]
    dy = segs[:, 3] - segs[:, 1]
    ang = np.degrees(np.arctan2(dy, dx)) % 180.0  # 0 = horizontal, 90 = vertical
    tilt_h = np.minimum(ang, 180.0 - ang)
    tilt_v = np.abs(ang - 90.0)
    h_lines = _cluster(segs[tilt_h <= settings.max_tilt_deg], horizontal=True, settings=settings)
    v_lines = _cluster(segs[tilt_v <= settings.max_tilt_deg], horizontal=False, settings=settings)
    return h_lines, v_lines


def _cluster(segs: np.ndarray, *, horizontal: bool, settings: DetectSettings) -> list[EdgeLine]:
    """Greedily merge collinear segments (longest first) into line hypotheses."""
    if len(segs) == 0:
        return []
    p, q = np.ascontiguousarray(segs[:, :2]), np.ascontiguousarray(segs[:, 2:])
    lengths = np.hypot(*(q - p).T)
    d = (q - p) / lengths[:, None]
    # Orient directions consistently (H: rightwards, V: downwards).
    flip = d[:, 0] < 0 if horizontal else d[:, 1] < 0
    d[flip] *= -1
    order = np.argsort(-lengths)
    used = np.zeros(len(segs), bool)
    lines: list[EdgeLine] = []
    dist_tol, ang_tol = 3.0, float(np.cos(np.radians(3.0)))
    for i in order:
        if used[i]:
            continue
        n = np.array([-d[i, 1], d[i, 0]])
        c = float(n @ p[i])
        members = np.array([i])
        for _ in range(2):  # grow, refit, grow again: curled edges bend slowly
            cand = (~used) & (np.abs(d @ np.array([-n[1], n[0]])) >= ang_tol)
            cand &= (np.abs(p @ n - c) <= dist_tol) & (np.abs(q @ n - c) <= dist_tol)
            cand[i] = True
            members = np.flatnonzero(cand)
            lm = lengths[members]
            n, c = fit_line_tls(np.concatenate([p[members], q[members]]), np.concatenate([lm, lm]))  # not np.tile: slow
        used[members] = True
        # Rank by root-sum-square length: an edge made of a few long segments
        # beats a text baseline made of many short ones with the same total.
        lines.append(EdgeLine(n=n, c=c, weight=float(np.sqrt((lengths[members] ** 2).sum()))))
        if len(lines) >= 3 * settings.lines_per_axis:
            break
    lines.sort(key=lambda ln: -ln.weight)
    lines = _dedupe(lines)
    for ln in lines:  # orient normals so d points right (H) / down (V)
        dd = ln.d
        if (horizontal and dd[0] < 0) or (not horizontal and dd[1] < 0):
            ln.n, ln.c = -ln.n, -ln.c
    return lines[: 2 * settings.lines_per_axis]


def _dedupe(lines: list[EdgeLine]) -> list[EdgeLine]:
    """Drop weaker lines that are near-duplicates of stronger ones (both edges of a thin line)."""
    kept: list[EdgeLine] = []
    kept_n = np.zeros((0, 2))
    kept_c = np.zeros(0)
    cos_tol = np.cos(np.radians(2.0))
    for ln in lines:
        dots = kept_n @ ln.n
        dup = (np.abs(dots) > cos_tol) & (np.abs(ln.c - np.sign(dots) * kept_c) < 2.0)
        if not dup.any():
            kept.append(ln)
            kept_n = np.vstack([kept_n, ln.n])
            kept_c = np.append(kept_c, ln.c)
    return kept


# --------------------------------------------------------------------------- quads


def _candidates(work: WorkImage, settings: DetectSettings, *, prune: bool = True) -> list[Candidate]:
    """Fully evaluated candidate quads, best first (empty when there are none).

    With *prune*, quads whose score bound shows they cannot beat the best are
    skipped: the first one is the same, the list shorter (tests compare).
    """
    h_lines, v_lines = _line_hypotheses(work, settings)
    if len(h_lines) < 2 or len(v_lines) < 2:
        return []
    h, w = work.gray.shape
    margin = 0.03 * max(h, w)
    # LSD proposes; measured edge evidence along each line decides which are
    # kept (table rules and text baselines also make long LSD lines).
    hdata = _strongest(work, h_lines, margin, settings.lines_per_axis)
    vdata = _strongest(work, v_lines, margin, settings.lines_per_axis)
    # Order H lines top to bottom and V lines left to right (at the image centre)
    # so quads can be enumerated as index pairs.
    hdata.sort(key=lambda ld: (ld.line.c - ld.line.n[0] * w / 2) / ld.line.n[1])
    vdata.sort(key=lambda ld: (ld.line.c - ld.line.n[1] * h / 2) / ld.line.n[0])
    h_lines = [ld.line for ld in hdata]
    v_lines = [ld.line for ld in vdata]
    # Intersections X[i, j] of H line i with V line j, and their parameters.
    hn = np.array([ln.n for ln in h_lines])
    hc = np.array([ln.c for ln in h_lines])
    vn = np.array([ln.n for ln in v_lines])
    vc = np.array([ln.c for ln in v_lines])
    det = hn[:, None, 0] * vn[None, :, 1] - hn[:, None, 1] * vn[None, :, 0]
    det = np.where(np.abs(det) < 1e-9, 1e-9, det)
    xs = (hc[:, None] * vn[None, :, 1] - hn[:, None, 1] * vc[None, :]) / det
    ys = (hn[:, None, 0] * vc[None, :] - hc[:, None] * vn[None, :, 0]) / det
    hd = np.array([ln.d for ln in h_lines])
    vd = np.array([ln.d for ln in v_lines])
    t_h = xs * hd[:, None, 0] + ys * hd[:, None, 1]  # position along H line i
    t_v = xs * vd[None, :, 0] + ys * vd[None, :, 1]  # position along V line j

    i1, i2, j1, j2 = _index_quads(hn, vn, xs, ys, (w, h), margin)
    quads = np.stack([
        np.stack([xs[i1, j1], ys[i1, j1]], -1), np.stack([xs[i1, j2], ys[i1, j2]], -1),
        np.stack([xs[i2, j2], ys[i2, j2]], -1), np.stack([xs[i2, j1], ys[i2, j1]], -1),
    ], axis=1)  # (N, 4, 2) TL, TR, BR, BL
    ok = plausible_quads(quads, (w, h), margin=margin, min_area_frac=settings.min_area_frac)
    if not ok.any():
        return []
    quads, i1, i2, j1, j2 = quads[ok], i1[ok], i2[ok], j1[ok], j2[ok]

    # Stage 1: cheap ranking from support fractions alone, lenient towards
    # partly hidden sides so that the occlusion-aware stage 2 still sees them.
    hcum, vcum = CumTable(hdata), CumTable(vdata)
    sup = np.stack([hcum.support(i1, t_h[i1, j1], t_h[i1, j2]), vcum.support(j2, t_v[i1, j2], t_v[i2, j2]),
                    hcum.support(i2, t_h[i2, j1], t_h[i2, j2]), vcum.support(j1, t_v[i1, j1], t_v[i2, j1])], axis=1)
    side_len = side_lengths(quads)
    rough = (side_len * (sup - _ROUGH_PENALTY * (1 - sup))).sum(1)
    rough[np.minimum(np.minimum(sup[:, 0], sup[:, 1]), np.minimum(sup[:, 2], sup[:, 3])) < 0.1] = -np.inf
    order = np.argsort(-rough)
    order = order[np.isfinite(rough[order])][: 20 * settings.candidates]

    chosen = np.zeros((0, 4, 2))
    picks: list[int] = []
    for k in order:
        if len(picks) >= settings.candidates:
            break
        # Near-identical quads (lines a pixel apart) would crowd out alternatives.
        if (np.abs(chosen - quads[k]).max(axis=(1, 2)) < 3.0).any():
            continue
        chosen = np.concatenate([chosen, quads[k][None]])
        picks.append(k)
    lam = settings.unsupported_penalty
    outlines = [sample_outline(work, quads[k], (hdata[i1[k]], vdata[j2[k]], hdata[i2[k]], vdata[j1[k]]), lam)
                for k in picks]
    # Most promising first, so that the bound prunes early; ties in score
    # keep the stage-1 order, as if all were evaluated in it.
    ranked = sorted(((i, o) for i, o in enumerate(outlines) if o is not None), key=lambda io: -io[1].bound)
    scored: list[tuple[int, Candidate]] = []
    best = -np.inf
    for i, outline in ranked:
        if prune and outline.bound < best:
            break  # neither this nor any later quad can beat (or tie) the best
        cand = evaluate(work, outline, lam)
        if cand is not None:
            scored.append((i, cand))
            best = max(best, cand.score)
    scored.sort(key=lambda ic: (-ic[1].score, ic[0]))
    return [c for _, c in scored]


def _index_quads(hn: np.ndarray, vn: np.ndarray, xs: np.ndarray, ys: np.ndarray, size: tuple[int, int],
                 margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Line index quadruples (top, bottom, left, right) worth building quads from.

    Pruned by conditions plausible_quads would reject anyway, checked on line
    pairs instead of whole quads (20 lines per axis give 36k raw combinations,
    of which a fraction survives): opposite lines far from parallel, corners
    outside the image, a corner angle under 50 degrees (a side lies on its
    line, so the angle is the lines'), a side shorter than a tenth of the
    image's short side. Slack on every test: only ever keep more, so the
    survivors of plausible_quads are the same, in the same order.
    """
    w, h = size
    nh, nv = len(hn), len(vn)
    cos_par = np.cos(np.radians(MAX_OPPOSITE_DEG)) - 1e-6
    ih1, ih2 = np.triu_indices(nh, 1)
    keep_h = np.abs((hn[ih1] * hn[ih2]).sum(1)) >= cos_par
    ih1, ih2 = ih1[keep_h], ih2[keep_h]
    jv1, jv2 = np.triu_indices(nv, 1)
    keep_v = np.abs((vn[jv1] * vn[jv2]).sum(1)) >= cos_par
    jv1, jv2 = jv1[keep_v], jv2[keep_v]
    corner_ok = (xs >= -margin) & (xs <= w + margin) & (ys >= -margin) & (ys <= h + margin)
    corner_ok &= np.abs(hn @ vn.T) <= np.cos(np.radians(50.0)) + 1e-6  # |cos| between the two lines
    min_side = 0.1 * min(w, h) * (1 - 1e-6)
    along_h = np.hypot(xs[:, jv2] - xs[:, jv1], ys[:, jv2] - ys[:, jv1]) >= min_side  # (nh, pairs of V lines)
    along_v = np.hypot(xs[ih2] - xs[ih1], ys[ih2] - ys[ih1]) >= min_side  # (pairs of H lines, nv)
    ok_h = corner_ok[ih1][:, jv1] & corner_ok[ih1][:, jv2] & corner_ok[ih2][:, jv2] & corner_ok[ih2][:, jv1]
    ok_h &= along_h[ih1] & along_h[ih2] & along_v[:, jv1] & along_v[:, jv2]  # (H pairs, V pairs)
    a, b = np.nonzero(ok_h)  # row-major: the same order as enumerating H pairs, then V pairs
    return ih1[a], ih2[a], jv1[b], jv2[b]


def _strongest(work: WorkImage, lines: list[EdgeLine], margin: float, keep: int) -> list[LineData]:
    """Half the quota by LSD weight (long clean segments), the rest by support beside a calm surface."""
    data = sample_lines(work, lines, margin)  # lines come sorted by weight
    chosen = data[: keep // 2]
    for ld in sorted(data[keep // 2:], key=lambda ld: -ld.calm):
        if len(chosen) >= keep:
            break
        chosen.append(ld)
    add_colours(work, chosen)
    return chosen


# --------------------------------------------------------------------------- warping


def warp_poster(image: np.ndarray, corners: Corners, *, max_side: int | None = None) -> np.ndarray:
    """Perspective-correct the quad *corners* of *image* to an upright rectangle.

    The output size follows the quad's mean side lengths, with the aspect ratio
    corrected for perspective foreshortening when the camera geometry can be
    recovered from the quad (see ``geometry.poster_aspect``); *max_side* caps
    the long side so callers that only need a web-sized or OCR-sized copy never
    build a full-resolution one.
    """
    src = as_quad(corners).astype(np.float32)
    tl, tr, br, bl = src
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    if is_convex(src) and corner_angles(src).min() > 30:
        aspect = poster_aspect(src, (image.shape[1], image.shape[0]))
        if aspect is not None and 0.2 < aspect < 5:
            # Keep the area, fix the shape: foreshortening shrinks one side.
            area = width * height
            width, height = np.sqrt(area * aspect), np.sqrt(area / aspect)
    scale = 1.0
    if max_side is not None and max(width, height) > max_side:
        scale = max_side / max(width, height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    # warpPerspective has no area filter (INTER_AREA silently means
    # INTER_LINEAR); INTER_CUBIC costs three times as much.
    return cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _surround_ratio(work: WorkImage, quad: np.ndarray) -> float:
    """Edge density in a wide band around the quad relative to inside it.

    A poster hangs on a wall: its surroundings are plainer than its content.
    A box found inside a poster (a close-up, a figure) has equally busy
    surroundings.
    """
    f = 0.25  # a quarter of the work scale is plenty for area averages
    h, w = work.density.shape
    small = cv2.resize(work.density, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape
    inner = np.zeros((sh, sw), np.uint8)
    corners = np.round(quad * f).astype(np.int32)
    cv2.fillConvexPoly(inner, corners, 1)
    band = max(2, int(0.08 * max(sh, sw)))
    # Dilated only around the quad's bounding box (plus the kernel's reach):
    # nothing farther out can become part of the band.
    x0, y0, bw, bh = cv2.boundingRect(corners)
    x0, y0, x1, y1 = max(0, x0 - band), max(0, y0 - band), min(sw, x0 + bw + band), min(sh, y0 + bh + band)
    outer = np.zeros_like(inner)
    if x1 > x0 and y1 > y0:
        roi = np.ascontiguousarray(inner[y0:y1, x0:x1])
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
        outer[y0:y1, x0:x1] = cv2.dilate(roi, kernel) - roi
    if inner.sum() == 0 or outer.sum() == 0:
        return 1.0
    d_in = float(small[inner > 0].mean())
    d_out = float(small[outer > 0].mean())
    return d_out / max(d_in, 1e-3)

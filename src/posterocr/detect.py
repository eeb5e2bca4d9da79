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

Sampling along lines lives in :mod:`posterocr.detect_sampling`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .detect_sampling import (_add_colours, _Line, _LineData, _lines_data, _sample, _span_support,
                              _WorkImage)
from .geometry import (MAX_OPPOSITE_DEG, as_quad, corner_angles, fit_line_tls, is_convex, plausible_quads,
                       poster_aspect, refine_quad, to_corners)
from .records import Corners, Detection


@dataclass(frozen=True)
class DetectSettings:
    """Tunable parameters of :func:`find_poster` (defaults suit 12 MP phone photos)."""

    work_long_side: int = 1000  # detection runs on a copy this size
    min_segment_frac: float = 0.02  # ignore LSD segments shorter than this x long side
    lines_per_axis: int = 20  # strongest line hypotheses kept per orientation
    max_tilt_deg: float = 35.0  # a side may deviate this much from horizontal/vertical
    min_area_frac: float = 0.05  # smallest poster, as a share of the photo
    candidates: int = 25  # quads given the full (occlusion-aware) evaluation
    unsupported_penalty: float = 1.0  # cost of a side pixel crossing bare wall or blank paper
    min_confidence: float = 0.40  # below this: found=False, whole photo returned
    refine: bool = True  # re-fit sides on the full-resolution photo


DEFAULT_SETTINGS = DetectSettings()

_SOFT_EDGE = 0.35  # sharpness below which an edge is out of focus or a shadow's
# A side whose edge evidence is mostly an occluder's outline (non-wall outside
# or out of focus) hides the paper's edge; the detection's confidence is then
# capped below the draft's flag threshold (0.5), above min_confidence.
_OUTLINE_SIDE = 0.5
_GUESSED_CONFIDENCE = 0.45
_ROUGH_PENALTY = 0.1  # stage-1 cost of unsupported side length (lenient: hidden sides)
_SIDE_STEP = 2  # work px between evaluated samples along a side
# Lightness counts a third in colour comparisons: shading across a wall
# changes lightness far more than hue.
_LAB_WEIGHTS = np.array([0.35, 1.0, 1.0], np.float32)
_COLOUR_TOL = 15.0
_SAME_SURFACE = 5.0  # Lab distance across a line below which both sides are one surface


@dataclass
class _Candidate:
    quad: np.ndarray  # (4, 2) work pixels, TL TR BR BL
    score: float
    confidence: float
    details: dict = field(default_factory=dict)  # per-side evidence, for debugging and tests


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


def _prepare(image: np.ndarray, settings: DetectSettings) -> _WorkImage:
    h, w = image.shape[:2]
    # An integer reduction factor takes OpenCV's fast INTER_AREA path (3x
    # quicker on 12 MP); the few pixels it drops at the right/bottom edge do
    # not matter for finding a poster.
    factor = max(1, round(max(h, w) / settings.work_long_side))
    if factor > 1:
        hh, ww = h // factor, w // factor
        rgb = cv2.resize(image[: hh * factor, : ww * factor], (ww, hh), interpolation=cv2.INTER_AREA)
    else:
        rgb = image.copy()
    scale = 1.0 / factor
    lab8 = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    gray = lab8[:, :, 0]
    g = gray.astype(np.float32)
    # Local contrast x3: a white poster on an off-white wall is a step of a few
    # grey levels, below LSD's fixed gradient threshold until amplified. LSD's
    # a-contrario test keeps the amplified noise from turning into segments.
    boosted = np.clip((g - _large_blur(g)) * 3.0 + 128.0, 0, 255).astype(np.uint8)
    b = lab8[:, :, 2].astype(np.float32)
    # Centred on the median so the wall/paper difference is stretched while
    # tape and skin simply saturate.
    chroma = np.clip((b - float(np.median(b[::4, ::4]))) * 4.0 + 128.0, 0, 255).astype(np.uint8)
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
    edges = cv2.Canny(gray, 40, 100)
    density = cv2.boxFilter((edges > 0).astype(np.float32), -1, (9, 9))
    lab = cv2.blur(lab8, (5, 5))  # colour comparisons want area averages, not pixels
    return _WorkImage(rgb=rgb, gray=gray, lab=lab, lsd_inputs=(boosted, chroma), grads=tuple(grads),
                      density=density, scale=scale)


def _large_blur(g: np.ndarray) -> np.ndarray:
    """Approximate Gaussian blur with sigma ~15 px, cheaply (via an 8x smaller copy)."""
    h, w = g.shape
    small = cv2.resize(g, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


# --------------------------------------------------------------------------- lines


def _segments(work: _WorkImage, settings: DetectSettings) -> np.ndarray:
    lsd = cv2.createLineSegmentDetector()
    min_len = settings.min_segment_frac * max(work.gray.shape)
    found = []
    for k, channel in enumerate(work.lsd_inputs):
        # Colour edges are soft (chroma is blurred by demosaicing and JPEG),
        # so the chroma image is searched at half size: a quarter of the cost.
        half = k > 0
        img = cv2.resize(channel, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if half else channel
        lines = lsd.detect(img)[0]
        if lines is not None:
            found.append(lines.reshape(-1, 4) * (2.0 if half else 1.0))
    if not found:
        return np.zeros((0, 4), np.float32)
    segs = np.concatenate(found).astype(np.float64)
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    return segs[lengths >= min_len]


def _line_hypotheses(work: _WorkImage, settings: DetectSettings) -> tuple[list[_Line], list[_Line]]:
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


def _cluster(segs: np.ndarray, *, horizontal: bool, settings: DetectSettings) -> list[_Line]:
    """Greedily merge collinear segments (longest first) into line hypotheses."""
    if len(segs) == 0:
        return []
    p, q = segs[:, :2], segs[:, 2:]
    lengths = np.hypot(*(q - p).T)
    d = (q - p) / lengths[:, None]
    # Orient directions consistently (H: rightwards, V: downwards).
    flip = d[:, 0] < 0 if horizontal else d[:, 1] < 0
    d[flip] *= -1
    order = np.argsort(-lengths)
    used = np.zeros(len(segs), bool)
    lines: list[_Line] = []
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
            n, c = fit_line_tls(np.concatenate([p[members], q[members]]), np.tile(lengths[members], 2))
        used[members] = True
        # Rank by root-sum-square length: an edge made of a few long segments
        # beats a text baseline made of many short ones with the same total.
        lines.append(_Line(n=n, c=c, weight=float(np.sqrt((lengths[members] ** 2).sum()))))
        if len(lines) >= 3 * settings.lines_per_axis:
            break
    lines.sort(key=lambda ln: -ln.weight)
    lines = _dedupe(lines)
    for ln in lines:  # orient normals so d points right (H) / down (V)
        dd = ln.d
        if (horizontal and dd[0] < 0) or (not horizontal and dd[1] < 0):
            ln.n, ln.c = -ln.n, -ln.c
    return lines[: 2 * settings.lines_per_axis]


def _dedupe(lines: list[_Line]) -> list[_Line]:
    """Drop weaker lines that are near-duplicates of stronger ones (both edges of a thin line)."""
    kept: list[_Line] = []
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


def _candidates(work: _WorkImage, settings: DetectSettings) -> list[_Candidate]:
    """All fully evaluated candidate quads, best first (empty when there are none)."""
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
    nh, nv = len(h_lines), len(v_lines)
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

    # Index pairs (top < bottom, left < right), pruned by two conditions that
    # plausible_quads would reject anyway: opposite lines far from parallel,
    # and corners outside the image. Same survivors in the same order, at a
    # fraction of the arrays (20 lines per axis give 36k raw combinations).
    cos_par = np.cos(np.radians(MAX_OPPOSITE_DEG)) - 1e-6  # slack: only ever keep more
    ih1, ih2 = np.triu_indices(nh, 1)
    keep_h = np.abs((hn[ih1] * hn[ih2]).sum(1)) >= cos_par
    ih1, ih2 = ih1[keep_h], ih2[keep_h]
    jv1, jv2 = np.triu_indices(nv, 1)
    keep_v = np.abs((vn[jv1] * vn[jv2]).sum(1)) >= cos_par
    jv1, jv2 = jv1[keep_v], jv2[keep_v]
    i1, i2 = np.repeat(ih1, len(jv1)), np.repeat(ih2, len(jv1))
    j1, j2 = np.tile(jv1, len(ih1)), np.tile(jv2, len(ih1))
    corner_in = (xs >= -margin) & (xs <= w + margin) & (ys >= -margin) & (ys <= h + margin)
    keep = corner_in[i1, j1] & corner_in[i1, j2] & corner_in[i2, j2] & corner_in[i2, j1]
    i1, i2, j1, j2 = i1[keep], i2[keep], j1[keep], j2[keep]
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
    sup = np.zeros((len(quads), 4))
    for idx in range(nh):
        for side, m in ((0, i1 == idx), (2, i2 == idx)):
            if m.any():
                sup[m, side] = _span_support(hdata[idx], t_h[idx, j1[m]], t_h[idx, j2[m]])
    for idx in range(nv):
        for side, m in ((1, j2 == idx), (3, j1 == idx)):
            if m.any():
                sup[m, side] = _span_support(vdata[idx], t_v[i1[m], idx], t_v[i2[m], idx])
    side_len = np.linalg.norm(np.roll(quads, -1, axis=1) - quads, axis=2)
    rough = (side_len * (sup - _ROUGH_PENALTY * (1 - sup))).sum(1)
    rough[sup.min(1) < 0.1] = -np.inf
    order = np.argsort(-rough)
    order = order[np.isfinite(rough[order])][: 20 * settings.candidates]

    evaluated: list[_Candidate] = []
    chosen: list[np.ndarray] = []
    for k in order:
        if len(chosen) >= settings.candidates:
            break
        # Near-identical quads (lines a pixel apart) would crowd out alternatives.
        if any(np.abs(quads[k] - c).max() < 3.0 for c in chosen):
            continue
        chosen.append(quads[k])
        sides = (hdata[i1[k]], vdata[j2[k]], hdata[i2[k]], vdata[j1[k]])
        cand = _evaluate(work, quads[k], sides, settings)
        if cand is not None:
            evaluated.append(cand)
    evaluated.sort(key=lambda c: -c.score)
    return evaluated


def _strongest(work: _WorkImage, lines: list[_Line], margin: float, keep: int) -> list[_LineData]:
    """Half the quota by LSD weight (long clean segments), the rest by support beside a calm surface."""
    data = _lines_data(work, lines, margin)  # lines come sorted by weight
    chosen = data[: keep // 2]
    for ld in sorted(data[keep // 2:], key=lambda ld: -ld.calm):
        if len(chosen) >= keep:
            break
        chosen.append(ld)
    _add_colours(work, chosen)
    return chosen


@dataclass
class _Side:
    supported: np.ndarray  # bool per sample, from corner k towards corner k+1
    c_in: np.ndarray  # (S, 3) Lab just inside
    c_out: np.ndarray  # (S, 3) Lab just outside
    busy: np.ndarray  # bool: text-like texture on the line
    dens_out: np.ndarray  # edge density a little further outside
    length: float
    sharp: np.ndarray  # peak gradient / lightness step: ~0.3 for an in-focus edge, NaN without a step


def _side(data: _LineData, p: np.ndarray, q: np.ndarray, centre: np.ndarray) -> _Side | None:
    ln = data.line
    ia, ib = ln.d @ p - data.t0, ln.d @ q - data.t0
    step = _SIDE_STEP if ib >= ia else -_SIDE_STEP
    idx = np.clip(np.rint(np.arange(ia, ib, step)).astype(int), 0, len(data.support) - 1)
    if len(idx) < 5:
        return None
    inward = (centre - p) @ ln.n > 0
    return _Side(supported=data.support[idx],
                 c_in=(data.lab_pos if inward else data.lab_neg)[idx],
                 c_out=(data.lab_neg if inward else data.lab_pos)[idx],
                 busy=data.busy[idx], dens_out=(data.dens_neg if inward else data.dens_pos)[idx],
                 length=float(np.linalg.norm(q - p)), sharp=data.sharp[idx])


def _evaluate(work: _WorkImage, quad: np.ndarray, lines: tuple[_LineData, ...],
              settings: DetectSettings) -> _Candidate | None:
    """Occlusion-aware score of one candidate quad (sides in order top, right, bottom, left)."""
    centre = quad.mean(0)
    sides = [_side(lines[k], quad[k], quad[(k + 1) % 4], centre) for k in range(4)]
    if any(s is None for s in sides):
        return None
    sides_ok: list[_Side] = sides  # type: ignore[assignment]
    if sum(int(s.supported.sum()) for s in sides_ok) < 10:
        return None
    med_in = [_median(s.c_in[s.supported]) for s in sides_ok]
    med_out = [_median(s.c_out[s.supported]) for s in sides_ok]
    walls = _consistent_refs(med_out, _median(np.concatenate([s.c_out[s.supported] for s in sides_ok])))
    paper = _median(np.concatenate([s.c_in[s.supported] for s in sides_ok]))
    walls_arr = np.array(walls, np.float32)
    lam = settings.unsupported_penalty
    score, effs, occluded_by_side, details = 0.0, [], [], []
    for k, s in enumerate(sides_ok):
        # Occluders (sleeves, hair, skin, tape) look like neither the wall nor the paper.
        # The paper reference is this side's own inside (a dark half or header
        # band elsewhere must not make a dark head here look like paper).
        own = med_in[k] if np.all(np.isfinite(med_in[k])) else paper
        own_arr = np.array([own] if np.all(np.isfinite(own)) else [], np.float32).reshape(-1, 3)
        out_not_wall = _far(s.c_out, walls_arr)
        occluded = (~s.supported & out_not_wall & _far(s.c_out, own_arr)
                    & _far(s.c_in, walls_arr) & _far(s.c_in, own_arr))
        # An edge with a non-wall outside is an occluder's outline over the paper;
        # so is a soft one (out of focus: a sleeve or shoulder near the camera).
        soft = s.sharp < _SOFT_EDGE  # NaN (no clear step) compares False
        not_wall = s.supported & (out_not_wall | soft)
        raw, nw, o = float(s.supported.mean()), float(not_wall.mean()), float(occluded.mean())
        # Unsupported through text or figures: the side cuts across poster content.
        b = float((~s.supported & ~occluded & s.busy).mean())
        # The rest is plain. Where the two sides still differ a little, it is
        # a faint edge (paper on a wall as light as itself); where they are
        # the same surface, the side crosses bare wall or blank paper.
        plain_mask = ~s.supported & ~occluded & ~s.busy
        same = plain_mask & (np.linalg.norm(s.c_in - s.c_out, axis=1) < _SAME_SURFACE)
        blank = float(same.mean())
        plain = max(0.0, float(plain_mask.mean()) - blank)
        if raw < 0.1 or raw + o < 0.4:
            return None
        good = raw - nw
        swapped = _wall_inside(k, med_in, med_out, s)
        if swapped:
            # Wall inside, something lighter outside: the far edge of a
            # neighbouring poster seen across the gap, not our poster's side.
            good, nw, o = 0.3 * good, 0.3 * nw, 0.0
        # Text or figures just outside: the side runs through a poster, not around it.
        bo = float((s.dens_out > 0.12).mean())
        score += s.length * (good + 0.3 * nw - 0.1 * o - 0.5 * lam * plain - lam * blank - 1.0 * b - 1.0 * bo)
        effs.append(min(1.0, max(0.0, good + 0.3 * nw + 0.6 * o - 0.5 * (blank + b + bo))))
        occluded_by_side.append(occluded)
        details.append({"support": raw, "not_wall": nw, "occluded": o, "busy": b, "plain": plain, "blank": blank,
                        "busy_out": bo, "swapped": bool(swapped)})
    perimeter = sum(s.length for s in sides_ok)
    phantoms = _phantom_corners(sides_ok, occluded_by_side)
    score -= 0.15 * perimeter * phantoms
    texture = _texture_factor(work, quad, sides_ok)
    h, w = work.gray.shape
    score = score / (2.0 * (w + h)) * texture
    lengths = np.array([s.length for s in sides_ok])
    eff = np.array(effs)
    mean_eff = float((eff * lengths).sum() / lengths.sum())
    conf = float(np.clip((0.6 * mean_eff + 0.4 * eff.min()) * min(1.0, texture / 0.8), 0, 1))
    return _Candidate(quad=quad, score=score, confidence=conf,
                      details={"sides": details, "phantom_corners": phantoms, "texture": texture})


def _median(colours: np.ndarray) -> np.ndarray:
    """Per-channel (upper) median; np.partition is far quicker than np.median here."""
    if len(colours) == 0:
        return np.full(3, np.nan, np.float32)
    k = len(colours) // 2
    return np.partition(colours, k, axis=0)[k]


def _consistent_refs(per_side: list[np.ndarray], overall: np.ndarray) -> list[np.ndarray]:
    """Overall colour plus per-side colours (lighting drifts across the photo).

    A side whose colour disagrees with the overall one (its outside is mostly
    an occluder) is not trusted as a reference.
    """
    refs = [overall]
    for med in per_side:
        if np.all(np.isfinite(med)) and _dist(med, overall) < _COLOUR_TOL:
            refs.append(med)
    return [r for r in refs if np.all(np.isfinite(r))]


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm((a - b) * _LAB_WEIGHTS))


def _far(colours: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """True where a colour is farther than the tolerance from every reference."""
    if len(refs) == 0:
        return np.ones(len(colours), bool)
    diff = (colours[:, None, :] - refs[None, :, :]) * _LAB_WEIGHTS
    return (np.einsum("nrc,nrc->nr", diff, diff) > _COLOUR_TOL ** 2).all(axis=1)


def _wall_inside(k: int, med_in: list[np.ndarray], med_out: list[np.ndarray], side: _Side) -> bool:
    """Does side k look like wall inside, and like something lighter (paper) outside?

    The wall colour is read outside the two adjacent sides. Paper is lighter
    than the wall it hangs on, so a real side never looks like this.
    """
    if side.supported.sum() < 10:
        return False
    refs = [m for m in (med_out[(k - 1) % 4], med_out[(k + 1) % 4]) if np.all(np.isfinite(m))]
    if not refs:
        return False
    wall = np.mean(refs, axis=0)
    d_in = float(np.linalg.norm(med_in[k] - wall))
    d_out = float(np.linalg.norm(med_out[k] - wall))
    return d_in < 22.0 and d_out > 2.0 * d_in + 6.0 and med_out[k][0] > med_in[k][0] + 3.0


def _phantom_corners(sides: list[_Side], occluded: list[np.ndarray]) -> int:
    """Corners where both adjacent sides lack evidence and nothing hides them.

    A real corner is either visible or behind something; one floating in
    plain wall belongs to a quad stretched beyond the poster.
    """
    count = 0
    for k in range(4):
        a, b = sides[(k - 1) % 4], sides[k]  # a ends at corner k, b starts there
        na, nb = max(4, len(a.supported) // 16), max(4, len(b.supported) // 16)
        if (a.supported[-na:].mean() < 0.35 and b.supported[:nb].mean() < 0.35
                and occluded[(k - 1) % 4][-na:].mean() < 0.5 and occluded[k][:nb].mean() < 0.5):
            count += 1
    return count


def _texture_factor(work: _WorkImage, quad: np.ndarray, sides: list[_Side]) -> float:
    """Posters carry text and figures; the wall just outside them is plain.

    ~1 for "busy inside, calm outside"; lower for quads that enclose bare wall
    or sit inside a larger busy area (a figure within a poster).
    """
    u = np.linspace(0.05, 0.95, 16)
    uu, vv = np.meshgrid(u, u)
    uu, vv = uu.ravel()[:, None], vv.ravel()[:, None]
    tl, tr, br, bl = quad
    pts = (1 - uu) * (1 - vv) * tl + uu * (1 - vv) * tr + uu * vv * br + (1 - uu) * vv * bl
    dens_in = float(_sample(work.density, pts).mean())
    dens_out = float(np.concatenate([s.dens_out for s in sides]).mean())
    content = min(1.0, dens_in / 0.02)  # a page of text gives well over 2 % edge pixels
    calm = 1.0 / (1.0 + max(0.0, dens_out - 0.3 * dens_in) / max(dens_in, 1e-3) * 2.0)
    return float(0.3 + 0.7 * content * calm)


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
    return cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def _surround_ratio(work: _WorkImage, quad: np.ndarray) -> float:
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
    cv2.fillConvexPoly(inner, np.round(quad * f).astype(np.int32), 1)
    band = max(2, int(0.08 * max(sh, sw)))
    outer = cv2.dilate(inner, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))) - inner
    if inner.sum() == 0 or outer.sum() == 0:
        return 1.0
    d_in = float(small[inner > 0].mean())
    d_out = float(small[outer > 0].mean())
    return d_out / max(d_in, 1e-3)

"""Scoring candidate poster quads by the evidence along their sides, for :mod:`posterocr.detect`.

Supported length counts for a quad, unsupported length against it unless the
gap is occluded (both sides of the line look like neither wall nor paper).
Sides with an occluder outside, corners in empty wall, sides with wall inside
and a lighter poster outside and quads that cut through text are penalised.
A cheap upper bound on the score (:class:`Outline`) lets the caller skip
quads that cannot win.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .detect_sampling import LineData, sample_at, sharp_at_lines, WorkImage

_SOFT_EDGE = 0.35  # sharpness below which an edge is out of focus or a shadow's
_SIDE_STEP = 2  # work px between evaluated samples along a side
# Lightness counts a third in colour comparisons: shading across a wall
# changes lightness far more than hue.
_LAB_WEIGHTS = np.array([0.35, 1.0, 1.0], np.float32)
_COLOUR_TOL = 15.0
_SAME_SURFACE = 5.0  # Lab distance across a line below which both sides are one surface


# Bilinear coordinates of a 16 x 16 grid inside a quad, where its content is sampled,
# and each corner's weight at them (TL, TR, BR, BL).
_TEXTURE_UV = tuple(a.ravel()[:, None] for a in np.meshgrid(np.linspace(0.05, 0.95, 16), np.linspace(0.05, 0.95, 16)))
_TEXTURE_WEIGHTS = ((1 - _TEXTURE_UV[0]) * (1 - _TEXTURE_UV[1]), _TEXTURE_UV[0] * (1 - _TEXTURE_UV[1]),
                    _TEXTURE_UV[0] * _TEXTURE_UV[1], (1 - _TEXTURE_UV[0]) * _TEXTURE_UV[1])


@dataclass
class Candidate:
    quad: np.ndarray  # (4, 2) work pixels, TL TR BR BL
    score: float
    confidence: float
    details: dict = field(default_factory=dict)  # per-side evidence, for debugging and tests


class _Side:
    """One side's samples, from corner k towards corner k+1.

    What the score bound needs is taken at once; the rest only when the quad
    is evaluated (most are pruned by the bound).
    """

    def __init__(self, data: LineData, idx: np.ndarray, inward: bool, length: float) -> None:
        self.supported = data.support[idx]  # bool per sample
        self.dens_out = (data.dens_neg if inward else data.dens_pos)[idx]  # edge density a little further outside
        self.length = length
        self._data, self._idx, self._inward = data, idx, inward

    @cached_property
    def c_in(self) -> np.ndarray:
        """(S, 3) Lab just inside."""
        return (self._data.lab_pos if self._inward else self._data.lab_neg)[self._idx]

    @cached_property
    def c_out(self) -> np.ndarray:
        """(S, 3) Lab just outside."""
        return (self._data.lab_neg if self._inward else self._data.lab_pos)[self._idx]

    @cached_property
    def busy(self) -> np.ndarray:
        """bool: text-like texture on the line."""
        return self._data.busy[self._idx]

    @cached_property
    def sharp(self) -> np.ndarray:
        """Peak gradient / lightness step: ~0.3 for an in-focus edge, NaN without a step."""
        return self._data.sharp_at(self._idx)


def _clip_index(idx: np.ndarray, size: int) -> np.ndarray:
    """np.clip(idx, 0, size - 1) for integers, without np.clip's per-call overhead (small arrays, many calls)."""
    return np.minimum(np.maximum(idx, 0), size - 1)


def _share(mask: np.ndarray) -> float:
    """float(mask.mean()) of a non-empty bool array: count / size, the same correctly rounded quotient, cheaper."""
    return float(np.count_nonzero(mask) / mask.size)


def _side(data: LineData, p: np.ndarray, q: np.ndarray, centre: np.ndarray) -> _Side | None:
    ln = data.line
    ia, ib = ln.d @ p - data.t0, ln.d @ q - data.t0
    step = _SIDE_STEP if ib >= ia else -_SIDE_STEP
    idx = _clip_index(np.rint(np.arange(ia, ib, step)).astype(int), len(data.support))
    if len(idx) < 5:
        return None
    inward = bool((centre - p) @ ln.n > 0)
    pq = q - p
    return _Side(data, idx, inward, math.sqrt(pq.dot(pq)))  # np.linalg.norm(q - p), without its overhead


@dataclass
class Outline:
    """A candidate quad's sides, sampled, with the cheap upper bound on its score."""

    quad: np.ndarray
    sides: list[_Side]
    texture: float
    bound: float


def sample_outline(work: WorkImage, quad: np.ndarray, lines: tuple[LineData, ...], lam: float) -> Outline | None:
    """Sample a quad's sides (top, right, bottom, left); None when a side is too short."""
    centre = quad.mean(0)
    sides = [_side(lines[k], quad[k], quad[(k + 1) % 4], centre) for k in range(4)]
    if any(s is None for s in sides):
        return None
    sides_ok: list[_Side] = sides  # type: ignore[assignment]
    h, w = work.gray.shape
    texture = _texture_factor(work, quad, sides_ok)
    bound = np.inf
    if lam >= 0:
        # A side scores at most its supported length less the part with text
        # just outside (every other term in evaluate is a penalty), and the
        # texture factor only scales: a quad whose bound is below a score
        # already found cannot win and need not be evaluated.
        b = sum(s.length * (_share(s.supported) - _share(s.dens_out > 0.12)) for s in sides_ok)
        bound = b / (2.0 * (w + h)) * texture + 1e-9 * abs(b) + 1e-12  # slack for rounding
    return Outline(quad=quad, sides=sides_ok, texture=texture, bound=bound)


def evaluate(work: WorkImage, outline: Outline, lam: float) -> Candidate | None:
    """Occlusion-aware score of one candidate quad (sides in order top, right, bottom, left).

    *lam* is the cost of a side pixel crossing bare wall or blank paper.
    """
    quad, sides_ok, texture = outline.quad, outline.sides, outline.texture
    h, w = work.gray.shape
    # The four sides' samples are handled as one array (per-side shares via
    # reduceat): a few large NumPy calls instead of many small ones.
    lens = np.array([len(s.supported) for s in sides_ok])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    sup = np.concatenate([s.supported for s in sides_ok])
    if int(sup.sum()) < 10:
        return None
    c_in = np.concatenate([s.c_in for s in sides_ok])
    c_out = np.concatenate([s.c_out for s in sides_ok])
    med_in = [_median(s.c_in[s.supported]) for s in sides_ok]
    med_out = [_median(s.c_out[s.supported]) for s in sides_ok]
    walls_arr = np.array(_consistent_refs(med_out, _median(c_out[sup])), np.float32)
    paper = _median(c_in[sup])
    # Occluders (sleeves, hair, skin, tape) look like neither the wall nor the paper.
    # The paper reference is each side's own inside (a dark half or header
    # band elsewhere must not make a dark head here look like paper).
    own = [m if np.all(np.isfinite(m)) else paper for m in med_in]
    own_ok = np.repeat([bool(np.all(np.isfinite(m))) for m in own], lens)
    own_all = np.repeat(np.array([np.nan_to_num(m) for m in own], np.float32), lens, axis=0)
    out_not_wall = _far(c_out, walls_arr)
    occluded = (~sup & out_not_wall & (_far_each(c_out, own_all) | ~own_ok)
                & _far(c_in, walls_arr) & (_far_each(c_in, own_all) | ~own_ok))
    # An edge with a non-wall outside is an occluder's outline over the paper;
    # so is a soft one (out of focus: a sleeve or shoulder near the camera).
    busy = np.concatenate([s.busy for s in sides_ok])
    sharp = np.concatenate(sharp_at_lines([(s._data, s._idx) for s in sides_ok]))  # all four sides in one go
    not_wall = sup & (out_not_wall | (sharp < _SOFT_EDGE))  # NaN: False
    # Unsupported through text or figures: the side cuts across poster content.
    # The rest is plain. Where the two sides still differ a little, it is
    # a faint edge (paper on a wall as light as itself); where they are
    # the same surface, the side crosses bare wall or blank paper.
    plain_mask = ~sup & ~occluded & ~busy
    same = plain_mask & (np.linalg.norm(c_in - c_out, axis=1) < _SAME_SURFACE)
    # Text or figures just outside: the side runs through a poster, not around it.
    dens_out = np.concatenate([s.dens_out for s in sides_ok]) > 0.12
    masks = np.stack([sup, not_wall, occluded, ~sup & ~occluded & busy, same, plain_mask, dens_out])
    shares = np.add.reduceat(masks, starts, axis=1, dtype=np.int64) / lens  # (7, 4)
    raws, nws, os_, bs, blanks, plains, bos = shares
    if np.any((raws < 0.1) | (raws + os_ < 0.4)):
        return None
    occluded_by_side = np.split(occluded, starts[1:])
    score, effs, details = 0.0, [], []
    for k, s in enumerate(sides_ok):
        raw, nw, o, b = float(raws[k]), float(nws[k]), float(os_[k]), float(bs[k])
        blank, bo = float(blanks[k]), float(bos[k])
        plain = max(0.0, float(plains[k]) - blank)
        good = raw - nw
        swapped = _wall_inside(k, med_in, med_out, s)
        if swapped:
            # Wall inside, something lighter outside: the far edge of a
            # neighbouring poster seen across the gap, not our poster's side.
            good, nw, o = 0.3 * good, 0.3 * nw, 0.0
        score += s.length * (good + 0.3 * nw - 0.1 * o - 0.5 * lam * plain - lam * blank - 1.0 * b - 1.0 * bo)
        effs.append(min(1.0, max(0.0, good + 0.3 * nw + 0.6 * o - 0.5 * (blank + b + bo))))
        details.append({"support": raw, "not_wall": nw, "occluded": o, "busy": b, "plain": plain, "blank": blank,
                        "busy_out": bo, "swapped": bool(swapped)})
    perimeter = sum(s.length for s in sides_ok)
    phantoms = _phantom_corners(sides_ok, occluded_by_side)
    score -= 0.15 * perimeter * phantoms
    score = score / (2.0 * (w + h)) * texture
    lengths = np.array([s.length for s in sides_ok])
    eff = np.array(effs)
    mean_eff = float((eff * lengths).sum() / lengths.sum())
    conf = float(np.clip((0.6 * mean_eff + 0.4 * eff.min()) * min(1.0, texture / 0.8), 0, 1))
    return Candidate(quad=quad, score=score, confidence=conf,
                      details={"sides": details, "phantom_corners": phantoms, "texture": texture,
                               "bound": outline.bound})


def _median(colours: np.ndarray) -> np.ndarray:
    """Per-channel (upper) median; np.partition is far quicker than np.median here."""
    if len(colours) == 0:
        return np.full(3, np.nan, np.float32)
    k = len(colours) // 2
    # Each channel partitioned as one contiguous row: the same order statistic, twice as quick.
    return np.partition(np.ascontiguousarray(colours.T), k, axis=1)[:, k].copy()


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


def _far_each(colours: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """True where each colour is farther than the tolerance from its own reference (row by row)."""
    diff = (colours - refs) * _LAB_WEIGHTS
    return np.einsum("nc,nc->n", diff, diff) > _COLOUR_TOL ** 2


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
        if (_share(a.supported[-na:]) < 0.35 and _share(b.supported[:nb]) < 0.35
                and _share(occluded[(k - 1) % 4][-na:]) < 0.5 and _share(occluded[k][:nb]) < 0.5):
            count += 1
    return count


def _texture_factor(work: WorkImage, quad: np.ndarray, sides: list[_Side]) -> float:
    """Posters carry text and figures; the wall just outside them is plain.

    ~1 for "busy inside, calm outside"; lower for quads that enclose bare wall
    or sit inside a larger busy area (a figure within a poster).
    """
    w_tl, w_tr, w_br, w_bl = _TEXTURE_WEIGHTS
    tl, tr, br, bl = quad
    pts = w_tl * tl + w_tr * tr + w_br * br + w_bl * bl
    dens_in = float(sample_at(work.density, pts).mean())
    dens_out = float(np.concatenate([s.dens_out for s in sides]).mean())
    content = min(1.0, dens_in / 0.02)  # a page of text gives well over 2 % edge pixels
    calm = 1.0 / (1.0 + max(0.0, dens_out - 0.3 * dens_in) / max(dens_in, 1e-3) * 2.0)
    return float(0.3 + 0.7 * content * calm)

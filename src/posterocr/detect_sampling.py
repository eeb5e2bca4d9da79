"""Line hypotheses and what is sampled along them, for :mod:`posterocr.detect`.

Everything here is measured once per line across the whole (reduced) photo
and shared by every candidate quad that uses the line: edge support, the
colours either side, text-like texture, and how sharp the edge is (the
paper's edge is in focus, a nearby person's outline is not; measured only
for the lines of quads that are fully evaluated).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

# Pixel offsets (work scale) across a line within which edge evidence counts:
# the LSD fit and a curled paper edge can be a pixel or two off the true edge.
_SUPPORT_OFFSETS = (-2, -1, 0, 1, 2)
_COLOUR_OFFSET = 4.0  # work px either side of a line where "inside"/"outside" colours are read
_TEXTURE_OFFSET = 12.0  # work px outside a side where the wall's texture is read
_CALM_DENSITY = 0.06  # edge-pixel share below which a surface counts as calm (no text)
_PROFILE_HALF = 6  # work px either side of a line in the sharpness profile
_MIN_STEP = 10.0  # lightness step (0..255) below which edge sharpness is not judged


@dataclass
class EdgeLine:
    """A line n . x = c with unit normal n; direction d points right (H) or down (V)."""

    n: np.ndarray
    c: float
    weight: float  # root-sum-square length of the LSD segments merged into it

    @property
    def d(self) -> np.ndarray:
        return np.array([-self.n[1], self.n[0]])


@dataclass
class WorkImage:
    gray: np.ndarray  # uint8 L*
    lab: np.ndarray  # uint8 Lab, box-blurred, for colour comparisons
    lsd_inputs: tuple[np.ndarray, ...]  # uint8 images LSD runs on
    grads: tuple[tuple[np.ndarray, np.ndarray, float], ...]  # (gx, gy, edge threshold) per channel
    density: np.ndarray  # float32 share of Canny edge pixels in a 9x9 window
    scale: float  # work pixels per full-res pixel


@dataclass
class LineData:
    """Everything sampled once along a whole line (1 px steps), shared by all quads using it."""

    line: EdgeLine
    t0: float  # line parameter of sample 0
    support: np.ndarray  # bool: aligned edge evidence
    cum: np.ndarray  # cumulative support count, len = samples + 1
    calm: int  # supported samples with a calm (text-free) surface on at least one side
    # Filled in by add_colours for the lines that are kept:
    lab_pos: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T, 3) colour at +_COLOUR_OFFSET along n
    lab_neg: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T, 3) colour at -_COLOUR_OFFSET along n
    busy: np.ndarray = field(default_factory=lambda: np.zeros(0))  # bool: text-like texture on the line
    # Edge density at +_TEXTURE_OFFSET or 2.5x that along n, whichever is larger:
    dens_pos: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dens_neg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gray: np.ndarray | None = field(default=None, repr=False)  # the work image's L*, for sharp
    pts: np.ndarray | None = field(default=None, repr=False)  # (T, 2) sample positions, as sample_lines had them
    _sharp: np.ndarray | None = field(default=None, repr=False)
    _sharp_done: np.ndarray | None = field(default=None, repr=False)  # bool: samples whose _sharp is known

    def sharp_at(self, idx: np.ndarray) -> np.ndarray:
        """Edge sharpness at samples *idx*: measured where supported, NaN elsewhere (see _sharpness).

        Measured on first use, sample by sample: only the sides of quads that
        are fully evaluated need it, parts of a few of the kept lines.  (Each
        point is measured on its own, so the values are those of measuring
        whole lines at once.)
        """
        return sharp_at_lines([(self, idx)])[0]

    def _to_measure(self, idx: np.ndarray) -> np.ndarray:
        """Supported samples among *idx* whose sharpness is not known yet (marked known from now on)."""
        if self._sharp is None or self._sharp_done is None:
            self._sharp = np.full(len(self.support), np.nan, np.float32)
            self._sharp_done = np.zeros(len(self.support), bool)
        new = idx[~self._sharp_done[idx]]  # repeats are harmless: measured twice, the same value
        self._sharp_done[new] = True
        return new[self.support[new]] if self.gray is not None else new[:0]

    def _points(self, idx: np.ndarray) -> np.ndarray:
        if self.pts is not None:
            return self.pts[idx]
        ln = self.line
        return (ln.n * ln.c)[None, :] + (self.t0 + idx)[:, None] * ln.d[None, :]


def sharp_at_lines(requests: list[tuple[LineData, np.ndarray]]) -> list[np.ndarray]:
    """LineData.sharp_at for several lines, the missing samples measured in one go."""
    jobs = [(ld, ld._to_measure(idx)) for ld, idx in requests]
    jobs = [(ld, sup) for ld, sup in jobs if len(sup)]
    gray = jobs[0][0].gray if jobs else None
    groups = [jobs] if all(ld.gray is gray for ld, _ in jobs) else [[job] for job in jobs]
    for group in groups:
        if not group:
            continue
        pts = np.concatenate([ld._points(sup) for ld, sup in group])
        normals = np.concatenate([np.broadcast_to(ld.line.n, (len(sup), 2)) for ld, sup in group])
        values = _sharpness(group[0][0].gray, pts, normals)  # type: ignore[arg-type]
        for (ld, sup), v in zip(group, np.split(values, np.cumsum([len(sup) for _, sup in group])[:-1])):
            ld._sharp[sup] = v  # type: ignore[index]
    return [ld._sharp[idx] for ld, idx in requests]  # type: ignore[index]


def sample_lines(work: WorkImage, lines: list[EdgeLine], margin: float) -> list[LineData]:
    """Sample edge support along whole lines across the (margin-extended) image, all lines at once.

    A sample is supported when the gradient across the line, averaged over a
    few pixels along it, clearly exceeds both the noise floor and the gradient
    along the line (text and clutter have strong gradients in every direction).
    Colours and texture are added later, only for the lines that are kept.
    """
    if not lines:
        return []
    h, w = work.gray.shape
    n = np.array([ln.n for ln in lines])  # (L, 2)
    d = np.stack([-n[:, 1], n[:, 0]], axis=1)
    origin = n * np.array([ln.c for ln in lines])[:, None]
    box = np.array([[-margin, -margin], [w + margin, -margin], [w + margin, h + margin], [-margin, h + margin]])
    ts = d @ box.T  # (L, 4): parameters of the box corners (origin . d is 0)
    t0 = ts.min(axis=1)
    count = np.floor(ts.max(axis=1) - t0).astype(int) + 1
    t = t0[:, None] + np.arange(count.max())[None, :]  # (L, T), padded past each line's end
    # Sample positions origin + t d, x and y built separately: contiguous
    # arrays round and convert several times faster than interleaved ones.
    px = origin[:, 0, None] + t * d[:, 0, None]
    py = origin[:, 1, None] + t * d[:, 1, None]
    offs = np.array(_SUPPORT_OFFSETS, np.float64)[None, :, None]
    xi = px[:, None, :] + offs * n[:, 0, None, None]  # (L, O, T)
    xi = np.rint(xi, out=xi).astype(np.int32)
    yi = py[:, None, :] + offs * n[:, 1, None, None]
    yi = np.rint(yi, out=yi).astype(np.int32)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    np.clip(xi, 0, w - 1, out=xi)
    np.clip(yi, 0, h - 1, out=yi)
    flat_idx = (yi * w + xi).astype(np.intp)  # np.take would convert int32 indices on every call
    nx, ny = n[:, 0, None, None].astype(np.float32), n[:, 1, None, None].astype(np.float32)
    support = np.zeros(t.shape, bool)
    for gx_map, gy_map, thr in work.grads:
        gx, gy = np.take(gx_map, flat_idx), np.take(gy_map, flat_idx)
        # In place where possible: the same float32 operations, fewer temporaries.
        g_n = gx * nx
        g_n += gy * ny
        g_n = np.abs(_smooth_rows(g_n), out=g_n)
        g_t = gy * nx
        g_t -= gx * ny  # d = (-ny, nx)
        g_t = _smooth_rows(np.abs(g_t, out=g_t))
        g_t *= 1.5
        ok = g_n >= thr
        ok &= g_n >= g_t
        ok &= inside
        support |= ok.any(axis=1)
    # Edge evidence with a calm surface on at least one side: a poster's
    # outline has wall (or its own margin) beside it, while text baselines and
    # table rules have text on both sides. Used to rank lines, so an outline
    # half hidden by someone still beats a long run of text.
    # Only supported samples can count, so the texture is read only there.
    flat = np.flatnonzero(support & (np.arange(t.shape[1]) < count[:, None]))  # not past a line's end
    rows = flat // t.shape[1]
    at, n_at = np.stack([px.ravel()[flat], py.ravel()[flat]], axis=1), n[rows]
    dens = [sample_at(work.density, at + side * _TEXTURE_OFFSET * n_at) for side in (1.0, -1.0)]
    calms = np.bincount(rows[np.minimum(*dens) < _CALM_DENSITY], minlength=len(lines))
    # Counts for all lines at once (rows are padded past each line's end).
    cums = np.zeros((len(lines), t.shape[1] + 1))
    cums[:, 1:] = np.cumsum(support, axis=1)
    pts = np.stack([px, py], axis=-1)  # (L, T, 2)
    return [LineData(line=ln, t0=float(t0[i]), support=support[i, : count[i]], cum=cums[i, : count[i] + 1],
                     calm=int(calms[i]), pts=pts[i, : count[i]]) for i, ln in enumerate(lines)]


def add_colours(work: WorkImage, data: list[LineData]) -> None:
    """Colours either side of each kept line, texture on and beyond it (edge sharpness on demand).

    All lines are sampled in one go (a handful of large lookups instead of
    many small ones).
    """
    if not data:
        return
    pts = np.concatenate([ld._points(np.arange(len(ld.support))) if ld.pts is None else ld.pts for ld in data])
    n = np.concatenate([np.broadcast_to(ld.line.n, (len(ld.support), 2)) for ld in data])
    cuts = np.cumsum([len(ld.support) for ld in data])[:-1]

    def per_line(values: np.ndarray) -> list[np.ndarray]:
        return np.split(values, cuts)

    lab_pos = per_line(sample_at(work.lab, pts + _COLOUR_OFFSET * n).astype(np.float32))
    lab_neg = per_line(sample_at(work.lab, pts - _COLOUR_OFFSET * n).astype(np.float32))
    busy = per_line(sample_at(work.density, pts) > 0.12)
    # Texture a little and a good way outside: text rows have blank gaps between them.
    dens_pos = per_line(np.maximum(sample_at(work.density, pts + _TEXTURE_OFFSET * n),
                                   sample_at(work.density, pts + 2.5 * _TEXTURE_OFFSET * n)))
    dens_neg = per_line(np.maximum(sample_at(work.density, pts - _TEXTURE_OFFSET * n),
                                   sample_at(work.density, pts - 2.5 * _TEXTURE_OFFSET * n)))
    for k, ld in enumerate(data):
        ld.lab_pos, ld.lab_neg, ld.busy = lab_pos[k], lab_neg[k], busy[k]
        ld.dens_pos, ld.dens_neg = dens_pos[k], dens_neg[k]
        ld.gray = work.gray  # sharpness is measured when a quad needs it (LineData.sharp_at)


def _sharpness(gray: np.ndarray, pts: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Steepest one-pixel rise across the line as a share of the whole step (NaN where no clear step).

    The paper's edge is in focus: most of its step happens within a pixel or
    two (0.4..1 here). The outline of a person close to the camera is out of
    focus and a cast shadow's edge is soft: the step spreads over many pixels
    (well under 0.3).
    """
    offs = np.arange(-_PROFILE_HALF, _PROFILE_HALF + 1, dtype=np.float64)
    normals = np.broadcast_to(n, pts.shape)  # one normal, or one per point
    grid = pts[:, None, :] + offs[None, :, None] * normals[:, None, :]  # (T, O, 2)
    prof = _bilinear(gray, grid.reshape(-1, 2)).reshape(len(pts), len(offs))
    step = np.abs(prof[:, -2:].mean(1) - prof[:, :2].mean(1))
    rise = np.abs(np.diff(prof, axis=1)).max(1)
    return np.where(step >= _MIN_STEP, rise / np.maximum(step, 1.0), np.nan).astype(np.float32)


def _bilinear(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of a one-channel image at (N, 2) points, as float32 (edge pixels replicated)."""
    width = 1024  # cv2.remap wants maps under 32767 rows and columns: lay the points out in rows
    count = len(pts)
    rows = max(1, -(-count // width))
    grid = np.zeros((rows * width, 2), np.float32)
    grid[:count] = pts
    grid = grid.reshape(rows, width, 2)
    # One two-channel map: OpenCV would copy the strided x and y views.
    out = cv2.remap(img, grid, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1)[:count].astype(np.float32)


def _smooth_rows(a: np.ndarray, k: int = 7) -> np.ndarray:
    """Moving average of width k along the last axis."""
    shape = a.shape
    flat = np.ascontiguousarray(a.reshape(-1, shape[-1]), dtype=np.float32)
    return cv2.blur(flat, (k, 1), borderType=cv2.BORDER_REPLICATE).reshape(shape)


def sample_at(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Nearest-pixel samples of *img* at (N, 2) points (clamped to the image)."""
    h, w = img.shape[:2]
    xi = np.rint(pts[:, 0]).astype(np.int32)
    yi = np.rint(pts[:, 1]).astype(np.int32)
    # np.minimum/np.maximum: np.clip's values for integers, without its per-call overhead.
    np.minimum(np.maximum(xi, 0, out=xi), w - 1, out=xi)
    np.minimum(np.maximum(yi, 0, out=yi), h - 1, out=yi)
    # One flat take is several times quicker than 2-D fancy indexing.
    return np.take(img.reshape(h * w, -1) if img.ndim == 3 else img.reshape(-1), yi * w + xi, axis=0)


class CumTable:
    """Cumulative support of several lines padded into one array, for vectorised span lookups."""

    def __init__(self, data: list[LineData]) -> None:
        self.n = np.array([len(ld.cum) - 1 for ld in data])
        self.t0 = np.array([ld.t0 for ld in data])
        self.cum = np.zeros((len(data), int(self.n.max()) + 1))
        for k, ld in enumerate(data):
            self.cum[k, : len(ld.cum)] = ld.cum

    def support(self, line: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
        """Fraction of supported samples between parameters ta and tb on lines *line*."""
        n, t0 = self.n[line], self.t0[line]
        lo = np.clip(np.minimum(ta, tb) - t0, 0, n).astype(int)
        hi = np.clip(np.maximum(ta, tb) - t0, 0, n).astype(int)
        return (self.cum[line, hi] - self.cum[line, lo]) / np.maximum(np.abs(tb - ta), 1.0)

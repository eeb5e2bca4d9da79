"""Quadrilateral helpers shared by detection, evaluation and warping.

All points are (x, y) in pixels of the upright photo, y pointing down.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .records import Corners

# Opposite sides of a plausible poster quad are within this many degrees of
# parallel (a large poster shot at 20 degrees converges that much).
MAX_OPPOSITE_DEG = 35.0

# Anything that numpy can turn into a (4, 2) float array.
QuadLike = Sequence[Sequence[float]] | np.ndarray


def as_quad(points: QuadLike) -> np.ndarray:
    """Return *points* as a float64 (4, 2) array, or raise ValueError."""
    quad = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if quad.shape != (4, 2) or not np.all(np.isfinite(quad)):
        raise ValueError(f"expected four finite (x, y) points, got {quad.shape[0]}")
    return quad


def to_corners(points: QuadLike) -> Corners:
    """Convert a (4, 2) array to the ``Corners`` tuple type used in records."""
    q = as_quad(points)
    return tuple((float(x), float(y)) for x, y in q)  # type: ignore[return-value]


def order_corners(points: QuadLike) -> np.ndarray:
    """Order four points as top-left, top-right, bottom-right, bottom-left.

    Sorting by angle around the centroid keeps a valid cyclic order even for
    strongly rotated quads (the x+y / x-y trick breaks near 45 degrees); the
    cycle then starts at the point nearest the top-left (smallest x + y).
    """
    q = as_quad(points)
    centre = q.mean(axis=0)
    # With y pointing down, increasing atan2 goes clockwise on screen: TL, TR, BR, BL.
    angles = np.arctan2(q[:, 1] - centre[1], q[:, 0] - centre[0])
    cyc = q[np.argsort(angles)]
    start = int(np.argmin(cyc.sum(axis=1)))
    return np.roll(cyc, -start, axis=0)


def polygon_area(points: QuadLike) -> float:
    """Unsigned area of a simple polygon (shoelace formula)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def is_convex(points: QuadLike) -> bool:
    """True when the polygon turns the same way at every vertex (strictly)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    e = np.roll(p, -1, axis=0) - p
    cross = e[:, 0] * np.roll(e, -1, axis=0)[:, 1] - e[:, 1] * np.roll(e, -1, axis=0)[:, 0]
    return bool(np.all(cross > 0) or np.all(cross < 0))


def quad_iou(a: QuadLike, b: QuadLike) -> float:
    """Intersection over union of two quads (0..1).

    Exact polygon intersection via cv2.intersectConvexConvex; a non-convex quad
    is replaced by its convex hull first (posters are convex, so this only
    matters for degenerate detections, which then score generously low anyway).
    """
    pa = cv2.convexHull(np.asarray(a, dtype=np.float32).reshape(-1, 1, 2))
    pb = cv2.convexHull(np.asarray(b, dtype=np.float32).reshape(-1, 1, 2))
    area_a = float(cv2.contourArea(pa))
    area_b = float(cv2.contourArea(pb))
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    inter = max(0.0, float(inter))
    union = area_a + area_b - inter
    return float(min(1.0, inter / union)) if union > 0 else 0.0


def line_through(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Homogeneous line (a, b, c) with a*x + b*y + c = 0 through points p and q."""
    return np.cross(np.array([p[0], p[1], 1.0]), np.array([q[0], q[1], 1.0]))


def intersect_lines(l1: np.ndarray, l2: np.ndarray) -> np.ndarray | None:
    """Intersection point of two homogeneous lines, None when (nearly) parallel."""
    x = np.cross(l1, l2)
    if abs(x[2]) < 1e-12 * max(1.0, float(np.abs(x[:2]).max())):
        return None
    return x[:2] / x[2]


def corner_angles(points: QuadLike) -> np.ndarray:
    """Interior angle in degrees at each of the four corners."""
    q = as_quad(points)
    prev = np.roll(q, 1, axis=0) - q
    nxt = np.roll(q, -1, axis=0) - q
    cos = (prev * nxt).sum(axis=1) / (np.linalg.norm(prev, axis=1) * np.linalg.norm(nxt, axis=1) + 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def poster_aspect(corners: QuadLike, image_size: tuple[int, int]) -> float | None:
    """Estimate the true width/height ratio of the flat rectangle seen as *corners*.

    Uses the projective rectangle constraint (Zhang & He, "Whiteboard scanning
    and image enhancement") with the principal point at the image centre and
    square pixels, as phone cameras have. The focal length is solved from the
    quad itself; when the quad is (nearly) a parallelogram the focal length is
    unobservable and the ratio of mean side lengths is the right answer, which
    is what we return then. Returns None for degenerate input.

    *image_size* is (width, height) of the photo the corners refer to.
    """
    q = order_corners(corners)
    w_img, h_img = image_size
    u0, v0 = w_img / 2.0, h_img / 2.0
    # Zhang & He number the corners m1=TL, m2=TR, m3=BL, m4=BR.
    m1, m2, m4, m3 = (np.array([p[0], p[1], 1.0]) for p in q)
    k2 = np.dot(np.cross(m1, m4), m3) / np.dot(np.cross(m2, m4), m3)
    k3 = np.dot(np.cross(m1, m4), m2) / np.dot(np.cross(m3, m4), m2)
    n2 = k2 * m2 - m1
    n3 = k3 * m3 - m1
    width_mean = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    height_mean = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    if height_mean <= 0 or width_mean <= 0:
        return None
    fallback = float(width_mean / height_mean)
    denom = n2[2] * n3[2]
    if abs(denom) < 1e-9 or abs(k2 - 1) < 1e-3 or abs(k3 - 1) < 1e-3:
        return fallback
    f2 = -((n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
           + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)) / denom
    # A phone's focal length is roughly 0.6..2 image widths; outside that the
    # estimate is noise (near-fronto-parallel views), so trust side lengths.
    long_side = float(max(w_img, h_img))
    if not np.isfinite(f2) or f2 <= 0 or not (0.4 * long_side <= np.sqrt(f2) <= 3.0 * long_side):
        return fallback
    a_inv = np.array([[1 / f2, 0, -u0 / f2], [0, 1 / f2, -v0 / f2],
                      [-u0 / f2, -v0 / f2, 1 + (u0 * u0 + v0 * v0) / f2]])
    num = n2 @ a_inv @ n2
    den = n3 @ a_inv @ n3
    if num <= 0 or den <= 0:
        return fallback
    return float(np.sqrt(num / den))


def fit_line_tls(points: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weighted total-least-squares line n . x = c through points (n unit length).

    Closed form of the 2x2 eigenproblem (the normal is perpendicular to the
    direction of largest spread): detection fits hundreds of lines per photo.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    wt = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = wt @ pts / wt.sum()
    cen = pts - mean
    sxx, syy, sxy = wt @ (cen[:, 0] ** 2), wt @ (cen[:, 1] ** 2), wt @ (cen[:, 0] * cen[:, 1])
    theta = 0.5 * np.arctan2(2.0 * sxy, sxx - syy)  # direction of the largest spread
    n = np.array([-np.sin(theta), np.cos(theta)])
    return n, float(n @ mean)


def plausible_quads(quads: np.ndarray, image_size: tuple[int, int], *, margin: float,
                    min_area_frac: float) -> np.ndarray:
    """Vectorised sanity checks on candidate poster quads (N, 4, 2), TL TR BR BL.

    True where a quad lies within the image (give or take *margin*), is convex
    and clockwise on screen, covers at least *min_area_frac* of the image, has
    corner angles of 50..130 degrees, opposite sides within 35 degrees of
    parallel (a large poster shot at 20 degrees converges that much) and no side
    shorter than a tenth of the image's short side.
    """
    # Reductions over the short corner and x/y axes are spelled out column by
    # column: NumPy reduces a length-4 axis a row at a time, many times slower.
    # The same operations, so the same values (a sum of two is order-free).
    w, h = image_size
    x, y = quads[..., 0], quads[..., 1]
    inside = _all4((x >= -margin) & (x <= w + margin) & (y >= -margin) & (y <= h + margin))
    e = np.roll(quads, -1, axis=1) - quads
    e_next = np.roll(e, -1, axis=1)
    convex = _all4(e[:, :, 0] * e_next[:, :, 1] - e[:, :, 1] * e_next[:, :, 0] > 0)
    area = 0.5 * np.abs((x * np.roll(y, -1, 1) - y * np.roll(x, -1, 1)).sum(1))
    lens = side_lengths(quads, e)
    e_prev = -np.roll(e, 1, axis=1)
    cosang = (e[..., 0] * e_prev[..., 0] + e[..., 1] * e_prev[..., 1]) / (lens * np.roll(lens, 1, axis=1) + 1e-9)
    angles_ok = _all4(np.abs(cosang) <= np.cos(np.radians(50.0)))
    dirs = e / (lens[..., None] + 1e-9)
    par_tb = -(dirs[:, 0, 0] * dirs[:, 2, 0] + dirs[:, 0, 1] * dirs[:, 2, 1])
    par_lr = -(dirs[:, 1, 0] * dirs[:, 3, 0] + dirs[:, 1, 1] * dirs[:, 3, 1])
    cos_par = np.cos(np.radians(MAX_OPPOSITE_DEG))
    parallel = (par_tb >= cos_par) & (par_lr >= cos_par)
    short = _all4(lens >= 0.1 * min(w, h))
    return inside & convex & (area >= min_area_frac * w * h) & angles_ok & parallel & short


def side_lengths(quads: np.ndarray, edges: np.ndarray | None = None) -> np.ndarray:
    """(N, 4) lengths of the sides of quads (N, 4, 2) from corner k to k+1, as np.linalg.norm gives them.

    *edges* are the side vectors if already at hand.
    """
    e = np.roll(quads, -1, axis=1) - quads if edges is None else edges
    ex, ey = e[..., 0], e[..., 1]
    return np.sqrt(ex * ex + ey * ey)


def _all4(mask: np.ndarray) -> np.ndarray:
    """mask.all(axis=1) of an (N, 4) bool array."""
    return mask[:, 0] & mask[:, 1] & mask[:, 2] & mask[:, 3]


def refine_quad(image: np.ndarray, quad: np.ndarray, *, search: int) -> tuple[np.ndarray, bool]:
    """Re-fit each side of *quad* to the strongest edge within +-*search* px in *image*.

    Used at full resolution after detection on a reduced copy. Sides without
    a clear edge (hidden by someone) keep their line; returns the new corners
    and whether any side was re-fitted. If the corners move by more than a few
    search widths the fit latched onto something else and the input is kept.
    """
    quad = as_quad(quad)
    lines = []
    refined_any = False
    for k in range(4):
        p, q = quad[k], quad[(k + 1) % 4]
        fitted = _fit_side(image, p, q, search)
        if fitted is None:
            d = q - p
            n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-12)
            lines.append((n, float(n @ p)))
        else:
            lines.append(fitted)
            refined_any = True
    out = np.zeros((4, 2))
    for k in range(4):
        (n1, c1), (n2, c2) = lines[(k - 1) % 4], lines[k]
        a = np.array([n1, n2])
        if abs(np.linalg.det(a)) < 1e-9:
            return quad, False
        out[k] = np.linalg.solve(a, np.array([c1, c2]))
    if np.linalg.norm(out - quad, axis=1).max() > 4 * search:
        return quad, False
    return out, refined_any


def _fit_side(image: np.ndarray, p: np.ndarray, q: np.ndarray, half: int) -> tuple[np.ndarray, float] | None:
    """Line (n, c) through the strongest edge profile across the segment p-q, or None."""
    d = q - p
    length = float(np.linalg.norm(d))
    if length < 10:
        return None
    d = d / length
    n = np.array([-d[1], d[0]])
    n_bins = int(np.clip(length / 6, 30, 300))
    sub = 4  # samples averaged along the side per bin: suppresses sensor noise
    ts = np.linspace(0.04 * length, 0.96 * length, n_bins * sub)
    offs = np.arange(-half, half + 1, dtype=np.float64)
    # Sample positions p + t d + o n, x and y built separately (contiguous float32 maps for remap).
    map_x = ((p[0] + ts * d[0])[:, None] + offs[None, :] * n[0]).astype(np.float32)
    map_y = ((p[1] + ts * d[1])[:, None] + offs[None, :] * n[1]).astype(np.float32)
    strip = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lab = cv2.cvtColor(strip, cv2.COLOR_RGB2LAB).astype(np.float32)
    best_pts: np.ndarray | None = None
    best_strength = 0.0
    for channel in (lab[..., 0], lab[..., 2] * 2.0):  # lightness, and yellow-blue for beige walls
        prof = channel.reshape(n_bins, sub, -1).mean(1)
        prof = cv2.GaussianBlur(prof, (0, 0), sigmaX=max(1.0, half / 6), sigmaY=0.1)
        der = np.abs(np.diff(prof, axis=1))
        arg = der.argmax(1)
        peak = der[np.arange(n_bins), arg]
        good = (peak >= max(2.0, 0.5 * float(np.median(peak)))) & (arg > 0) & (arg < der.shape[1] - 1)
        if good.sum() < 0.3 * n_bins:
            continue
        rows, ia = np.flatnonzero(good), arg[good]
        y0, y1, y2 = der[rows, ia - 1], der[rows, ia], der[rows, ia + 1]
        denom = y0 - 2 * y1 + y2
        frac = np.where(np.abs(denom) > 1e-6, 0.5 * (y0 - y2) / np.where(denom == 0, 1, denom), 0.0)
        off = offs[0] + ia + 0.5 + np.clip(frac, -0.5, 0.5)  # parabolic sub-pixel peak
        tc = ts.reshape(n_bins, sub).mean(1)[rows]
        strength = float(np.median(peak[good])) * good.mean()
        if strength > best_strength:
            best_strength = strength
            best_pts = p[None, :] + tc[:, None] * d[None, :] + off[:, None] * n[None, :]
    if best_pts is None:
        return None
    # Robust fit: shrink the inlier band around the current line (occluders
    # and tape give stray peaks).
    nn, cc = n, float(n @ p)
    for tol in (3.0 * half, 1.0 * half, 0.4 * half):
        inl = best_pts[np.abs(best_pts @ nn - cc) <= max(tol, 1.5)]
        if len(inl) < 0.25 * n_bins:
            return None
        vx, vy, x0, y0_ = cv2.fitLine(inl.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        nn = np.array([-vy, vx], dtype=np.float64)
        if nn @ n < 0:
            nn = -nn
        cc = float(nn @ np.array([x0, y0_]))
    return nn, cc

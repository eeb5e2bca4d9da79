"""Quadrilateral helpers shared by detection, evaluation and warping.

All points are (x, y) in pixels of the upright photo, y pointing down.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .records import Corners

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
    """Weighted total-least-squares line n . x = c through points (n unit length)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    wt = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = (pts * wt[:, None]).sum(0) / wt.sum()
    cen = pts - mean
    cov = (cen * wt[:, None]).T @ cen
    _, evecs = np.linalg.eigh(cov)
    n = evecs[:, 0]  # eigenvector of the smallest eigenvalue is the normal
    return n, float(n @ mean)

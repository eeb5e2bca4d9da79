"""People between the camera and the poster: a pointing hand, a head, a sleeve.

They are close to the camera, hence out of focus: drawn at 1/4 resolution as
smooth shapes with rounded shading (distance transform), blurred, upscaled.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np

SKIN = [(224, 172, 140), (198, 144, 108), (241, 194, 167), (160, 108, 76), (120, 80, 56), (232, 185, 150)]
CLOTH = [(30, 36, 52), (60, 62, 70), (120, 30, 36), (34, 70, 110), (90, 90, 84), (20, 20, 22), (150, 140, 120)]
HAIR = [(28, 22, 18), (52, 36, 26), (80, 58, 38), (20, 20, 20), (110, 86, 60), (60, 60, 62)]

Q = 4  # working resolution divisor


class _Layer:
    """A low-resolution colour + alpha layer; shapes are painted front-most last."""

    def __init__(self, w: int, h: int) -> None:
        self.w, self.h = max(4, w // Q), max(4, h // Q)
        self.rgb = np.zeros((self.h, self.w, 3), np.float32)
        self.alpha = np.zeros((self.h, self.w), np.float32)

    def paint(self, mask: np.ndarray, colour: tuple[int, int, int], shade: np.ndarray) -> None:
        a = mask.astype(np.float32) / 255.0
        col = np.array(colour, np.float32)[None, None, :] * shade[..., None]
        self.rgb = self.rgb * (1 - a[..., None]) + col * a[..., None]
        self.alpha = np.maximum(self.alpha, a)


def _rounded_shade(mask: np.ndarray, depth: float, light: tuple[float, float], rng: random.Random) -> np.ndarray:
    """Shade a flat mask as a rounded body: darker at the rims, lit from one side."""
    dist = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    dome = np.sqrt(np.clip(dist / max(depth, 1.0), 0, 1))
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    side = (xx / w - 0.5) * light[0] + (yy / h - 0.5) * light[1]
    return np.clip(0.55 + 0.45 * dome + 0.25 * side + rng.uniform(-0.05, 0.05), 0.3, 1.2).astype(np.float32)


def _capsule(mask: np.ndarray, a: np.ndarray, b: np.ndarray, r_a: float, r_b: float) -> None:
    """A tapered limb from a to b (low-res pixel coordinates)."""
    d = b - a
    n = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-6)
    poly = np.array([a + n * r_a, b + n * r_b, b - n * r_b, a - n * r_a])
    cv2.fillPoly(mask, [np.round(poly * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    cv2.circle(mask, tuple(np.round(b * 4).astype(int)), int(r_b * 4), 255, -1, lineType=cv2.LINE_AA, shift=2)


def _hand(layer: _Layer, rng: random.Random, quad: np.ndarray) -> None:
    """An arm reaching in from the bottom or a side, index finger on the poster."""
    wts = [rng.random() + 0.2 for _ in range(4)]
    target = sum(q * wt for q, wt in zip(quad, wts)) / sum(wts) / Q
    edge = rng.choice(["bottom", "left", "right"])
    if edge == "bottom":
        entry = np.array([rng.uniform(0.2, 0.9) * layer.w, layer.h * 1.1])
    else:
        entry = np.array([-0.1 * layer.w if edge == "left" else 1.1 * layer.w, rng.uniform(0.55, 1.0) * layer.h])
    s = min(layer.w, layer.h)
    d = target - entry
    d /= np.linalg.norm(d)
    finger_len, hand_len = s * rng.uniform(0.05, 0.07), s * rng.uniform(0.09, 0.12)
    knuckle = target - d * finger_len
    wrist = knuckle - d * hand_len
    skin = rng.choice(SKIN)
    mask = np.zeros((layer.h, layer.w), np.uint8)
    _capsule(mask, entry - d * s * 0.3, wrist, s * rng.uniform(0.07, 0.09), s * 0.045)
    centre = (wrist + knuckle) / 2
    ang = math.degrees(math.atan2(d[1], d[0]))
    cv2.ellipse(mask, (tuple(centre), (hand_len * 1.15, s * rng.uniform(0.07, 0.085)), ang), 255, -1, cv2.LINE_AA)
    n = np.array([-d[1], d[0]]) * rng.choice([-1, 1])
    _capsule(mask, knuckle - d * s * 0.01 + n * s * 0.012, target, s * 0.016, s * 0.012)
    _capsule(mask, wrist + d * hand_len * 0.4 + n * s * 0.035, wrist + d * hand_len * 0.8 + n * s * 0.055,
             s * 0.016, s * 0.013)  # thumb
    layer.paint(mask, skin, _rounded_shade(mask, s * 0.04, (rng.uniform(-0.6, 0.6), -0.4), rng))
    if rng.random() < 0.65:  # long sleeve over the forearm
        sleeve = np.zeros_like(mask)
        _capsule(sleeve, entry - d * s * 0.3, wrist - d * s * rng.uniform(0.04, 0.15), s * 0.1, s * 0.065)
        layer.paint(sleeve, rng.choice(CLOTH), _rounded_shade(sleeve, s * 0.06, (0.5, -0.3), rng))


def _head(layer: _Layer, rng: random.Random, quad: np.ndarray) -> str:
    """Back of a head and shoulders rising from the bottom, over a bottom corner or edge; returns which."""
    s = min(layer.w, layer.h)
    spot = rng.choices(["bl", "br", "bottom"], weights=[0.3, 0.3, 0.4])[0]
    if spot == "bottom":
        # Someone further back: a smaller head over the bottom edge, corners usually clear.
        anchor = (quad[2] + quad[3]) / 2 + (quad[2] - quad[3]) * rng.uniform(-0.15, 0.15)
        r = s * rng.uniform(0.06, 0.09)
        centre = anchor / Q + np.array([0.0, rng.uniform(0.3, 1.0) * r])
    else:
        anchor = quad[3] if spot == "bl" else quad[2]
        r = s * rng.uniform(0.1, 0.15)
        centre = anchor / Q + np.array([rng.uniform(-0.5, 0.5) * r, rng.uniform(-0.2, 0.6) * r])
    shoulders = np.zeros((layer.h, layer.w), np.uint8)
    top = centre[1] + r * 1.1
    half = r * rng.uniform(2.0, 2.8)
    cv2.ellipse(shoulders, (int(centre[0]), int(top + r * 1.6)), (int(half), int(r * 1.8)), 0, 180, 360, 255, -1,
                cv2.LINE_AA)
    cv2.rectangle(shoulders, (int(centre[0] - half), int(top + r * 1.6)), (int(centre[0] + half), layer.h), 255, -1)
    layer.paint(shoulders, rng.choice(CLOTH), _rounded_shade(shoulders, r * 0.8, (0.4, -0.6), rng))
    neck = np.zeros_like(shoulders)
    cv2.ellipse(neck, (int(centre[0]), int(top + r * 0.5)), (int(r * 0.42), int(r * 0.9)), 0, 0, 360, 255, -1,
                cv2.LINE_AA)
    layer.paint(neck, rng.choice(SKIN), _rounded_shade(neck, r * 0.3, (0.5, 0.6), rng) * 0.8)
    head = np.zeros_like(shoulders)
    cv2.ellipse(head, (tuple(centre), (r * 1.65, r * 2.0), rng.uniform(-10, 10)), 255, -1, cv2.LINE_AA)
    # Hair is matte: a flat dark tone with a faint sheen on top and strands running down.
    shade = 0.85 + 0.25 * (_rounded_shade(head, r * 0.6, (0.3, -1.0), rng) - 0.8)
    streaks = cv2.resize(np.random.default_rng(rng.getrandbits(32)).standard_normal((6, 80)).astype(np.float32),
                         (layer.w, layer.h))
    layer.paint(head, rng.choice(HAIR), shade * (1 + 0.1 * streaks))
    return "head_bottom_edge" if spot == "bottom" else "head_corner"


def _sleeve(layer: _Layer, rng: random.Random) -> None:
    """A folded sleeve / jacket edge down one side of the frame."""
    left = rng.random() < 0.5
    width = layer.w * rng.uniform(0.06, 0.16)
    ys = np.arange(layer.h, dtype=np.float32)
    edge = width * (1 + 0.25 * np.sin(ys / layer.h * rng.uniform(2, 6) + rng.uniform(0, 6)))
    start = int(layer.h * rng.uniform(0.0, 0.5))
    mask = np.zeros((layer.h, layer.w), np.uint8)
    xs = np.arange(layer.w, dtype=np.float32)[None, :]
    dist = xs if left else (layer.w - 1 - xs)
    # The sleeve enters from below; its top end is rounded like a forearm seen edge-on.
    cap = np.sqrt(np.clip(1 - ((ys - start - width) / width) ** 2, 0, 1))
    reach = np.where(ys < start + width, edge * cap, edge)
    inside = (dist < reach[:, None]) & (ys[:, None] >= start)
    mask[inside] = 255
    folds = 0.85 + 0.15 * np.sin(ys[:, None] / layer.h * rng.uniform(15, 30) + dist / width * 2)
    layer.paint(mask, rng.choice(CLOTH),
                (_rounded_shade(mask, width * 0.5, (0.0, -0.5), rng) * folds).astype(np.float32))


def people(canvas: np.ndarray, rng: random.Random, nrng: np.random.Generator, quad: np.ndarray) -> list[str]:
    """Paint people in front of the poster (hard mode); return their phenomenon tags."""
    h, w = canvas.shape[:2]
    layer = _Layer(w, h)
    tags: list[str] = []
    if rng.random() < 0.3:
        _sleeve(layer, rng)
        tags.append("sleeve")
    if rng.random() < 0.45:
        tags += ["head", _head(layer, rng, quad)]
    if rng.random() < 0.5:
        _hand(layer, rng, quad)
        tags.append("hand")
    if not tags:
        return tags
    blur = rng.uniform(1.0, 3.0)  # close to the lens, so out of focus
    alpha = cv2.GaussianBlur(layer.alpha, (0, 0), blur)
    rgb = cv2.GaussianBlur(layer.rgb, (0, 0), blur)
    rgb = rgb / np.maximum(cv2.GaussianBlur(layer.alpha, (0, 0), blur), 1e-3)[..., None]  # un-premultiply
    rgb += nrng.standard_normal(rgb.shape).astype(np.float32) * 1.5
    alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR)
    canvas *= 1 - alpha[..., None]
    canvas += rgb * alpha[..., None]
    for x, y in quad:
        xi, yi = min(w - 1, max(0, int(round(x)))), min(h - 1, max(0, int(round(y))))
        if alpha[yi, xi] > 0.5:
            tags.append("occluded_corner")
            break
    return tags

"""The paper itself: wrinkles, fold creases, light on curled edges, glare; camera sharpening.

Applied to the poster array before it is warped (cheap: it is already
downscaled to its size in the photo) or to the photo at low resolution.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np


def paper(arr: np.ndarray, rng: random.Random, nrng: np.random.Generator,
          curl: list[float] | None) -> tuple[np.ndarray, list[str]]:
    """Shade the flat poster (h, w, 3 uint8) like real paper; return it and phenomenon tags."""
    h, w = arr.shape[:2]
    tags: list[str] = []
    q = 8
    sw, sh = max(4, w // q), max(4, h // q)
    small = cv2.resize(nrng.standard_normal((max(2, sh // 20), max(2, sw // 20))).astype(np.float32), (sw, sh),
                       interpolation=cv2.INTER_CUBIC)
    gain = 1 + small * rng.uniform(0.005, 0.02)  # paper never lies perfectly flat
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    s, t = xx / sw, yy / sh
    if curl:
        # A bent edge faces the light differently: brighter or darker in a strip along it.
        top, right, bottom, left = (c / max(abs(c) for c in curl) if any(curl) else 0 for c in curl)
        decay = 0.03
        gain += 0.05 * (top * np.sin(np.pi * s) * np.exp(-t / decay)
                        + bottom * np.sin(np.pi * s) * np.exp(-(1 - t) / decay)
                        + left * np.sin(np.pi * t) * np.exp(-s / decay)
                        + right * np.sin(np.pi * t) * np.exp(-(1 - s) / decay))
    if rng.random() < 0.15:
        # Fabric / folded posters: crease lines at halves or thirds, dark on one side, light on the other.
        for frac in rng.choice([[0.5], [1 / 3, 2 / 3], [0.25, 0.5, 0.75]]):
            pos = frac + rng.uniform(-0.01, 0.01)
            vertical = rng.random() < 0.5
            d = (s if vertical else t) - pos
            width = rng.uniform(0.002, 0.006)
            gain += (rng.uniform(0.04, 0.09) * np.tanh(d / width) * np.exp(-np.abs(d) / (width * 4))
                     - 0.04 * np.exp(-(d / width) ** 2))
        tags.append("creases")
    full = cv2.resize(gain.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    out = arr.astype(np.float32) * full[..., None]
    return np.clip(out, 0, 255).astype(np.uint8), tags


def glare(canvas: np.ndarray, rng: random.Random, alpha: np.ndarray, quad: np.ndarray) -> None:
    """A soft specular highlight of a ceiling light on glossy paper (poster pixels only)."""
    h, w = canvas.shape[:2]
    q = 8
    sw, sh = max(4, w // q), max(4, h // q)
    centre = quad.mean(axis=0) + (quad[rng.randrange(4)] - quad.mean(axis=0)) * rng.uniform(0.1, 0.7)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    rx, ry = rng.uniform(0.08, 0.2) * w / q, rng.uniform(0.03, 0.08) * h / q
    ang = rng.uniform(0, math.pi)
    dx, dy = xx - centre[0] / q, yy - centre[1] / q
    u = (dx * math.cos(ang) + dy * math.sin(ang)) / rx
    v = (-dx * math.sin(ang) + dy * math.cos(ang)) / ry
    blob = np.exp(-(u * u + v * v)) * rng.uniform(0.2, 0.45)  # broad and soft: a reflection, not a spot
    g = cv2.resize(blob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) * alpha
    for c in range(3):
        ch = canvas[..., c]
        ch += (250 - ch) * g


def sharpen(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Phone-style unsharp mask: slight halos around text and edges."""
    s = min(img.shape[:2]) / 3024
    blurred = cv2.GaussianBlur(img, (0, 0), max(0.6, 1.6 * s))
    amount = rng.uniform(0.25, 0.6)
    return cv2.addWeighted(img, 1 + amount, blurred, -amount, 0)

"""Synthetic phone photos of conference posters, with ground truth, for posterocr's tests.

``generate_set`` writes a folder of photos plus ``truth.json``; ``random_spec`` /
``render_poster`` make the flat poster; ``render_photo`` photographs it.
"""

from .generate import Sample, flat_poster, generate_set, load_truth, make_exif, qr_payloads, write_truth
from .photo import render_photo
from .poster import PosterSpec, random_spec, render_poster

__all__ = [
    "PosterSpec", "Sample", "flat_poster", "generate_set", "load_truth", "make_exif", "qr_payloads", "random_spec",
    "render_photo", "render_poster", "write_truth",
]

"""A Display P3 ICC profile, and sRGB pixels re-encoded in it, as an iPhone tags its photos.

iPhones have saved photos in Display P3 (JPEG and HEIC, with an embedded ICC
profile) since the iPhone 7. The same red is stored as other numbers than in
sRGB, so a program that drops the profile shows duller colours. No P3 profile
ships with Pillow or Debian's base packages, so this builds one: an ICC v2
matrix/TRC display profile (P3 primaries, D65 white, the sRGB tone curve), the
kind Apple embeds.
"""

from __future__ import annotations

import io
import struct
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

_P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
_D65 = (0.3127, 0.3290)
_D50_XYZ = (0.9642, 1.0, 0.8249)
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def _rgb_to_xyz_d50() -> np.ndarray:
    """Columns: the XYZ (D50, as ICC's connection space wants) of full red, green and blue."""
    primaries = np.stack([_xyz(p) for p in _P3_PRIMARIES], axis=1)
    white = _xyz(_D65)
    rgb_to_xyz = primaries * np.linalg.solve(primaries, white)  # scale so that R=G=B=1 is the white
    cone_src, cone_dst = _BRADFORD @ white, _BRADFORD @ np.array(_D50_XYZ)
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(cone_dst / cone_src) @ _BRADFORD
    return adapt @ rgb_to_xyz


def _s15f16(values: np.ndarray | tuple[float, ...]) -> bytes:
    return b"".join(struct.pack(">i", round(float(v) * 65536)) for v in values)


def _srgb_curve() -> bytes:
    v = np.linspace(0.0, 1.0, 1024)
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return b"curv" + bytes(4) + struct.pack(">I", len(v)) + np.round(linear * 65535).astype(">u2").tobytes()


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_ + bytes(4 + 4 + 2 + 1 + 67)


@lru_cache(maxsize=1)
def display_p3_profile() -> bytes:
    """The ICC profile's bytes."""
    matrix = _rgb_to_xyz_d50()
    curve = _srgb_curve()
    tags = [
        (b"desc", _desc("Display P3 (posterocr synth)")),
        (b"cprt", b"text" + bytes(4) + b"No copyright, use freely\0"),
        (b"wtpt", b"XYZ " + bytes(4) + _s15f16(_D50_XYZ)),
        (b"rXYZ", b"XYZ " + bytes(4) + _s15f16(matrix[:, 0])),
        (b"gXYZ", b"XYZ " + bytes(4) + _s15f16(matrix[:, 1])),
        (b"bXYZ", b"XYZ " + bytes(4) + _s15f16(matrix[:, 2])),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = [], b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)  # tags start on 4-byte boundaries
        table.append(struct.pack(">4sII", signature, offset + len(data), len(body)))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + bytes(4 + 4 + 4 + 4 + 8 + 4)
              + _s15f16(_D50_XYZ) + bytes(4 + 16 + 28))
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data


def srgb_to_display_p3(rgb: np.ndarray) -> np.ndarray:
    """The same colours as *rgb* (uint8 sRGB, HxWx3), stored as Display P3 numbers."""
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(display_p3_profile()))
    transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), p3, "RGB", "RGB",
                                        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    return np.asarray(ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgb), "RGB"), transform))

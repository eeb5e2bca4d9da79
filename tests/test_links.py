"""Links from the poster: QR codes (zxing-cpp on real generated photos) and printed URLs / arXiv ids / DOIs."""

from __future__ import annotations

import hashlib
import io
import math
import random
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import synth
import synth.figures
import synth.photo
from posterocr.detect import warp_poster
from posterocr.links import best_link, decode_qr, find_printed_links, link_rank, normalise_url
from posterocr.load import load_photo

PHOTO = (3024, 4032)  # 12 MP, as the phone takes it: small codes are only a few pixels per module


# --------------------------------------------------------------------------- printed links


def test_printed_links_in_poster_text() -> None:
    text = ("NeurIPS 2025 · github.com/lovelace/vllm\nPaper: arXiv:2401.12345v2 · see also\n"
            "https://arxiv.org/pdf/2310.01234v1.pdf, doi: 10.1145/3580305.3599123. e.g. model.py and i.e. "
            "www.lab.org; https://openreview.net/pdf?id=AbC_12.\n10.48550/arXiv.2305.14314 arXiv:hep-th/9901001")
    assert find_printed_links(text) == [
        "https://github.com/lovelace/vllm",
        "https://arxiv.org/abs/2401.12345",
        "https://arxiv.org/abs/2310.01234",
        "https://doi.org/10.1145/3580305.3599123",
        "https://www.lab.org",
        "https://openreview.net/forum?id=AbC_12",
        "https://arxiv.org/abs/2305.14314",  # arXiv's own DOI is the arXiv page
        "https://arxiv.org/abs/hep-th/9901001",
    ]


@pytest.mark.parametrize("text, expected", [
    ("arXiv: 24O1.O7731", ["https://arxiv.org/abs/2401.07731"]),  # OCR read 0 as O
    ("arXiv:2401.1234S", []),  # a misread digit: no link rather than a wrong one
    ("arXiv:2413.12345", []),  # no month 13
    ("arXiv:1312.6114", ["https://arxiv.org/abs/1312.6114"]),  # four digits before 2015
    ("see Fig. 3.2 and Table 10.5 for results; accuracy 91.2%", []),
    ("Results.We show e.g. that tokens.py works", []),
    ("(https://example.org/project).", ["https://example.org/project"]),
    ("DOI 10.18653/v1/2024.acl-long.12,", ["https://doi.org/10.18653/v1/2024.acl-long.12"]),
])
def test_printed_link_edge_cases(text: str, expected: list[str]) -> None:
    assert find_printed_links(text) == expected


def test_best_link_prefers_the_paper() -> None:
    lab, code = "https://lab.github.io/project", "https://github.com/lab/code"
    assert best_link([lab, "https://openreview.net/forum?id=xYz12AbC9d", code]) == (
        "https://openreview.net/forum?id=xYz12AbC9d", (lab, code))
    assert best_link(["https://doi.org/10.1/x", "https://aclanthology.org/2024.acl-long.1", "arxiv.org/abs/2401.00001"]
                     )[0] == "https://arxiv.org/abs/2401.00001"
    assert best_link([lab, code]) == (lab, (code,))  # no paper link: the first one
    assert best_link(["WIFI:S:guest;;", ""]) == ("", ())
    assert best_link([lab, lab + "/"]) == (lab, ())
    assert [link_rank(u) for u in ("https://www.arxiv.org/abs/1", "https://openreview.net/x",
                                   "https://aclanthology.org/x", "https://doi.org/x", "https://x.org")] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("payload, url", [
    ("https://arxiv.org/pdf/2405.04517v1", "https://arxiv.org/abs/2405.04517"),
    ("arXiv:2405.04517", "https://arxiv.org/abs/2405.04517"),
    ("openreview.net/pdf?id=abc123XYZ_", "https://openreview.net/forum?id=abc123XYZ_"),
    ("10.1145/3580305.3599123", "https://doi.org/10.1145/3580305.3599123"),
    ("hello world", None),
    ("BEGIN:VCARD", None),
])
def test_normalise_url(payload: str, url: str | None) -> None:
    assert normalise_url(payload) == url


# --------------------------------------------------------------------------- QR codes in synth's photos


def test_qr_codes_of_generated_photos(photo_set) -> None:  # type: ignore[no-untyped-def]
    """Every code synth printed is decoded, from the full photo and from the corrected poster."""
    folder, samples = photo_set("links-qr", 3, seed=7011, size=PHOTO)
    for index, sample in enumerate(samples, 1):
        payloads = synth.qr_payloads(7011, index)
        assert payloads and "qr" in sample["phenomena"]
        photo = load_photo(Path(sample["path"]))
        from_photo = decode_qr(photo)
        from_poster = decode_qr(warp_poster(photo, sample["corners"]))
        assert from_photo == payloads, (sample["path"], sample["phenomena"])
        assert from_poster == payloads, (sample["path"], sample["phenomena"])


# --------------------------------------------------------------------------- small codes, steep angles


def _pose(yaw_deg: float, fill: float):  # type: ignore[no-untyped-def]
    """A camera turned *yaw_deg* about the vertical axis, poster covering *fill* of the frame."""

    def pose(rng: random.Random, pw: int, ph: int, w: int, h: int, hard: bool) -> tuple[np.ndarray, float, float]:
        asp = pw / ph
        pts = np.array([[-asp / 2, -0.5, 0], [asp / 2, -0.5, 0], [asp / 2, 0.5, 0], [-asp / 2, 0.5, 0]])
        yaw = math.radians(yaw_deg)
        rot = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
        cam = pts @ rot.T + np.array([0, 0, 2.5])
        quad = 0.6 * math.hypot(w, h) * cam[:, :2] / cam[:, 2:3]
        area = 0.5 * abs(np.dot(quad[:, 0], np.roll(quad[:, 1], 1)) - np.dot(quad[:, 1], np.roll(quad[:, 0], 1)))
        quad *= math.sqrt(fill * w * h / area)
        quad += np.array([w / 2, h / 2]) - quad.mean(axis=0)
        return quad, abs(yaw_deg), fill

    return pose


def _qr_photo(cache: Path, urls: list[str], *, inches: float, yaw: float, fill: float,
              seed: int) -> tuple[np.ndarray, list[list[float]]]:
    """A synth poster carrying codes *inches* wide, photographed by synth at a forced angle, as JPEG.

    The pose is forced (synth picks its own at random) and synth's random
    defocus is off: a code of 2 px modules under 8 px of motion blur is
    unreadable for any decoder, which is not what this measures.  Cached on
    disk by parameters and generator version (a 12 MP render takes seconds).
    """
    key = hashlib.sha256(repr((urls, inches, yaw, fill, seed, _synth_version())).encode()).hexdigest()[:16]
    path = cache / f"qr-{key}.jpg"
    corners_path = path.with_suffix(".npy")
    if not path.exists():
        rng = random.Random(seed)
        spec = synth.random_spec(rng)
        spec.qr, spec.right_badges = False, [b for b in spec.right_badges if b != "qr"]
        poster = synth.render_poster(spec)
        side, pad = int(inches * spec.ppi), int(0.25 * spec.ppi)
        top = int(spec.height * 0.72)
        for k, url in enumerate(urls):  # away from the corners, where tape and number cards go
            left = int(spec.width * (0.6 + 0.18 * k))
            ImageDraw.Draw(poster).rectangle([left - pad, top - pad, left + side + pad, top + side + pad],
                                             fill=(255, 255, 255))
            synth.figures.qr_code(poster, (left, top, left + side, top + side), url)
        original = synth.photo._pose, synth.photo._blur
        synth.photo._pose, synth.photo._blur = _pose(yaw, fill), (lambda img, rng: img)
        try:
            photo, corners, _ = synth.photo.render_photo(poster, rng, size=PHOTO)
        finally:
            synth.photo._pose, synth.photo._blur = original
        # Write beside, then rename: a parallel worker making the same photo never sees half a file.
        tag = uuid.uuid4().hex
        tmp_photo, tmp_corners = cache / f".{tag}.jpg", cache / f".{tag}.npy"
        photo.save(tmp_photo, quality=88)
        np.save(tmp_corners, np.array(corners))
        tmp_corners.replace(corners_path)
        tmp_photo.replace(path)
    return np.asarray(Image.open(path).convert("RGB")), np.load(corners_path).tolist()


def _synth_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(synth.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="module")
def qr_cache(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("links-qr-photos"))


@pytest.mark.parametrize("inches, yaw, fill", [
    (3.0, 0, 0.45),  # a big code, head-on
    (1.5, 40, 0.3),  # a 4 cm code on a 122 cm poster filling 30 % of the frame: ~2 px per module, steep
    (1.5, -50, 0.3),  # the same, steeper, turned the other way (~1.5 px per module across)
])
def test_small_codes_at_an_angle(qr_cache: Path, inches: float, yaw: float, fill: float) -> None:
    # Measured over 5 seeds each: 1.5" codes at 40-50 degrees decode 5/5; 1.25" codes 3/5 (the limit).
    url = "https://arxiv.org/abs/2405.04517"
    photo, corners = _qr_photo(qr_cache, [url], inches=inches, yaw=yaw, fill=fill, seed=1)
    assert decode_qr(photo) == [url]
    assert decode_qr(warp_poster(photo, corners)) == [url]


def test_two_codes_paper_and_lab_site(qr_cache: Path) -> None:
    lab, paper = "https://lab.example.org/people", "https://openreview.net/forum?id=Xy12AbCd9_"
    photo, corners = _qr_photo(qr_cache, [lab, paper], inches=2.0, yaw=25, fill=0.35, seed=2)
    found = decode_qr(photo)
    assert sorted(found) == sorted([lab, paper])
    assert best_link(found) == (paper, (lab,))
    assert sorted(decode_qr(warp_poster(photo, corners))) == sorted([lab, paper])


def test_codes_outside_the_poster_are_left_out() -> None:
    """A photo often shows the neighbouring poster: *within* keeps only the codes on ours."""
    ours, theirs = "https://arxiv.org/abs/2405.04517", "https://openreview.net/forum?id=Neighbour01"
    wall = Image.new("RGB", (2400, 1200), (226, 220, 204))
    for k, url in enumerate((ours, theirs)):
        spec = synth.random_spec(random.Random(40 + k), width=1000)
        spec.qr, spec.right_badges = False, [b for b in spec.right_badges if b != "qr"]
        poster = synth.render_poster(spec)
        synth.figures.qr_code(poster, (700, 80, 900, 280), url)
        wall.paste(poster, (100 + 1200 * k, 100))
    photo = np.asarray(wall)
    w, h = poster.size
    corners = [[100, 100], [100 + w, 100], [100 + w, 100 + h], [100, 100 + h]]
    assert sorted(decode_qr(photo)) == sorted([ours, theirs])
    assert decode_qr(photo, within=corners) == [ours]


def test_no_code_no_link_and_cheap(photo_set) -> None:  # type: ignore[no-untyped-def]
    _, samples = photo_set("links-noqr", 1, seed=7001, size=PHOTO)
    assert "qr" not in samples[0]["phenomena"]
    photo = load_photo(Path(samples[0]["path"]))
    start = time.process_time()
    assert decode_qr(photo) == []
    # Budget 0.3 s on one core for a 12 MP photo; generous here for loaded CI machines.
    assert time.process_time() - start < 1.0


def test_grey_input_and_jpeg_round_trip() -> None:
    img = Image.new("RGB", (900, 700), (250, 250, 245))
    synth.figures.qr_code(img, (300, 200, 560, 460), "https://aclanthology.org/2024.acl-long.1")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    grey = np.asarray(Image.open(buf).convert("L"))
    assert decode_qr(grey) == ["https://aclanthology.org/2024.acl-long.1"]

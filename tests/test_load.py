"""Loading photos: formats, EXIF orientation, and files that are not photos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageOps

from posterocr.exceptions import PhotoError
import cv2

from posterocr.load import list_photos, load_photo, load_working


def _gradient(width: int, height: int) -> Image.Image:
    """An image whose top-left quadrant is red, so orientation mistakes show."""
    arr = np.full((height, width, 3), 200, np.uint8)
    arr[: height // 2, : width // 2] = (255, 0, 0)
    return Image.fromarray(arr)


def test_exif_orientation_applied_once(tmp_path: Path) -> None:
    # Stored landscape 400x300 with Orientation=6 (rotate 90° CW to view): upright is 300x400.
    stored = _gradient(400, 300)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, exif=exif, quality=95)
    upright = load_photo(path)
    assert upright.shape[:2] == (400, 300)
    # The red quadrant was top-left when stored; rotated 90° clockwise it is top-right.
    assert upright[50, 250, 0] > 200 and upright[50, 250, 1] < 60
    assert upright[50, 50, 1] > 150


def test_broken_orientation_tag_is_tolerated(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 99  # not a valid orientation
    path = tmp_path / "odd.jpg"
    _gradient(200, 100).save(path, exif=exif)
    assert load_photo(path).shape[:2] == (100, 200)


def test_heic_png_jpeg(tmp_path: Path) -> None:
    image = _gradient(320, 240)
    heif = pillow_heif.from_pillow(image)
    heif.save(tmp_path / "a.HEIC", quality=90)
    image.save(tmp_path / "b.png")
    image.save(tmp_path / "c.jpeg")
    for name in ("a.HEIC", "b.png", "c.jpeg"):
        loaded = load_photo(tmp_path / name)
        assert loaded.shape == (240, 320, 3) and loaded.dtype == np.uint8


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "empty file"),
        ("text.jpg", b"this is not a photo\n", "not a readable image"),
    ],
)
def test_not_a_photo(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PhotoError, match=message) as info:
        load_photo(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_jpeg_and_heic(tmp_path: Path) -> None:
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (600, 800, 3), np.uint8))
    image.save(tmp_path / "full.jpg", quality=90)
    pillow_heif.from_pillow(image).save(tmp_path / "full.heic", quality=80)
    for name in ("full.jpg", "full.heic"):
        data = (tmp_path / name).read_bytes()
        cut = tmp_path / f"cut-{name}"
        cut.write_bytes(data[: len(data) // 3])
        with pytest.raises(PhotoError) as info:
            load_photo(cut)
        assert str(cut) in str(info.value) and "\n" not in str(info.value)


def test_decompression_bomb_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (30000, 30000)).save(path)  # ~ 100 KB on disk, 900 MP decoded
    with pytest.raises(PhotoError, match="MP limit"):
        load_photo(path)


def test_list_photos_skips_videos_and_other_files(tmp_path: Path) -> None:
    for name in ("IMG_2.HEIC", "IMG_1.jpg", "shot.PNG", "clip.MOV", "notes.txt", ".DS_Store"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    listing = list_photos(tmp_path)
    assert [p.name for p in listing.photos] == ["IMG_1.jpg", "IMG_2.HEIC", "shot.PNG"]
    assert {p.name: why.split(",")[0] for p, why in listing.skipped} == {"clip.MOV": "video", "notes.txt": "not a photo (JPEG"}


def _pillow_reference(path: Path) -> np.ndarray:
    """What Pillow alone makes of a photo: the behaviour the fast decoders must match."""
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    # Asymmetric content and an odd size, so a wrong flip or transpose cannot go unnoticed.
    arr = np.random.default_rng(orientation).integers(0, 255, (37, 53, 3), np.uint8)
    arr[:8, :12] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    Image.fromarray(arr).save(path, exif=exif, quality=95)
    loaded = load_photo(path)
    expected = _pillow_reference(path)
    assert loaded.shape == expected.shape
    # Same libjpeg decode; only IDCT/upsampling differences are allowed.
    assert np.abs(loaded.astype(int) - expected).mean() < 1.0


def test_heic_orientation_matches_pillow(tmp_path: Path) -> None:
    stored = _gradient(400, 300)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.heic"
    stored.save(path, format="HEIF", exif=exif.tobytes(), quality=90)
    loaded = load_photo(path)
    expected = _pillow_reference(path)
    assert loaded.shape == expected.shape == (400, 300, 3)
    assert np.abs(loaded.astype(int) - expected).max() <= 2
    assert loaded[50, 250, 0] > 200 and loaded[50, 250, 1] < 60  # red quadrant now top-right


@pytest.mark.parametrize("suffix", [".avif", ".webp"])
def test_avif_and_webp_photos_are_read_upright(tmp_path: Path, suffix: str) -> None:
    """Some Android phones save AVIF; WebP comes from chats and the web. Both go through Pillow."""
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / f"rotated{suffix}"
    _gradient(400, 300).save(path, exif=exif.tobytes(), quality=90)
    assert list_photos(tmp_path).photos == (path,)
    loaded = load_photo(path)
    assert loaded.shape == (400, 300, 3)
    assert loaded[50, 250, 0] > 200 and loaded[50, 250, 1] < 60  # red quadrant now top-right
    assert loaded[50, 50, 1] > 150


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpeg_become_rgb(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"{mode}.jpg"
    _gradient(64, 48).convert(mode).save(path, quality=95)
    loaded = load_photo(path)
    assert loaded.shape == (48, 64, 3) and loaded.dtype == np.uint8
    assert np.abs(loaded.astype(int) - _pillow_reference(path)).mean() < 3.0


def test_jpeg_truncated_after_the_header_is_refused(tmp_path: Path) -> None:
    # libjpeg only warns about a missing end and fills grey rows: that must not pass as a photo.
    image = Image.fromarray(np.random.default_rng(1).integers(0, 255, (600, 800, 3), np.uint8))
    image.save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: int(len(data) * 0.9)])
    with pytest.raises(PhotoError, match="truncated"):
        load_photo(cut)


def test_loaded_photo_is_read_only(tmp_path: Path) -> None:
    _gradient(64, 48).save(tmp_path / "a.jpg")
    assert not load_photo(tmp_path / "a.jpg").flags.writeable


def test_limit_worker_resources_in_a_fresh_process() -> None:
    # A subprocess: the settings are process-wide and must not leak into other tests.
    code = ("import cv2, pillow_heif\nfrom posterocr.load import limit_worker_resources\n"
            "limit_worker_resources()\nprint(cv2.getNumThreads(), pillow_heif.options.DECODE_THREADS)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "1"]


@pytest.mark.parametrize("orientation", [1, 6, 8])
@pytest.mark.parametrize(("fmt", "work_pixels", "decoded_at"), [
    ("jpg", 400 * 300, 2),  # 4x the working size: libjpeg decodes at half size, nothing left to resize
    ("jpg", 600 * 400, 1),  # 2x: decoded whole (half would be too small), then downscaled
    ("heic", 400 * 300, 1),  # libheif has no reduced decode
])
def test_a_photo_over_the_working_size_is_downscaled_upright(
        tmp_path: Path, orientation: int, fmt: str, work_pixels: int, decoded_at: int) -> None:
    # Stands in for a 24 MP or 48 MP phone photo, at a size a test can afford: what matters
    # is the ratio to work_pixels, and that orientation and reduced decoding agree.
    rng = np.random.default_rng(orientation)
    arr = cv2.resize(rng.integers(0, 255, (60, 80, 3), np.uint8), (800, 600), interpolation=cv2.INTER_CUBIC)
    arr[:150, :200] = (255, 0, 0)  # top-left quadrant red, as stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"big.{fmt}"
    Image.fromarray(arr).save(path, format="HEIF" if fmt == "heic" else "JPEG", exif=exif.tobytes(), quality=92)

    working = load_working(path, work_pixels=work_pixels)
    full = load_photo(path)
    height, width = full.shape[:2]
    assert working.size == (width, height)
    h, w = working.pixels.shape[:2]
    assert w * h <= work_pixels * 1.1 and abs(w / h - width / height) < 0.01
    assert not working.pixels.flags.writeable
    # The same picture as the full decode area-averaged down: orientation applied once, in the same way.
    expected = cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA)
    assert np.abs(working.pixels.astype(int) - expected).mean() < 4.0
    assert decoded_at == 1 or (w, h) == (-(-width // 2), -(-height // 2))


def test_working_corners_map_to_the_photo_and_back(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.fromarray(np.full((600, 800, 3), 128, np.uint8)).save(path)
    working = load_working(path, work_pixels=400 * 300)
    assert working.pixels.shape[:2] == (300, 400) and working.scale == (2.0, 2.0)
    quad = ((10.0, 20.0), (390.0, 15.5), (380.0, 290.0), (12.0, 280.0))
    assert working.to_photo(quad) == ((20.0, 40.0), (780.0, 31.0), (760.0, 580.0), (24.0, 560.0))
    assert working.from_photo(working.to_photo(quad)) == quad
    # The whole working image is the whole photo, to the last pixel.
    whole = ((0.0, 0.0), (399.0, 0.0), (399.0, 299.0), (0.0, 299.0))
    assert working.to_photo(whole) == ((0.0, 0.0), (799.0, 0.0), (799.0, 599.0), (0.0, 599.0))


def test_a_photo_at_the_working_size_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (300, 400, 3), np.uint8)).save(path)
    working = load_working(path, work_pixels=300 * 400)
    assert working.scale == (1.0, 1.0) and np.array_equal(working.pixels, load_photo(path))

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
from posterocr.load import list_photos, load_photo


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

"""Files that are images, but not the 8-bit, full-size photos posterocr is made for: they load right, or fail alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posterocr import detect
from posterocr.load import load_photo
from posterocr.pipeline import ExtractSettings, extract, process_photo


def test_16_bit_grey_png_keeps_its_tones(tmp_path: Path) -> None:
    """Scanners and image tools write 16-bit grey PNGs; clipping them to 8 bits turned every pixel white."""
    ramp = np.tile(np.linspace(0, 255, 300).round().astype(np.uint8), (200, 1))
    Image.fromarray(ramp.astype(np.uint16) * 257).save(tmp_path / "grey16.png")
    with Image.open(tmp_path / "grey16.png") as im:
        assert im.mode.startswith("I")  # really stored as 16-bit
    rgb = load_photo(tmp_path / "grey16.png")
    assert rgb.shape == (200, 300, 3) and rgb.dtype == np.uint8
    assert np.abs(rgb[..., 1].astype(int) - ramp).max() <= 1


@pytest.mark.parametrize("size", [(1, 1), (48, 60)])
def test_a_thumbnail_is_refused_by_name(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "thumb.png"
    Image.new("RGB", size, "white").save(path)
    result = process_photo(path, "img/thumb.png", "", ExtractSettings())
    assert result.error == (f"{size[0]}x{size[1]} px is too small to hold a readable poster; "
                            "use the original photo, or remove this file from the folder")


def test_a_tiny_image_fails_alone_and_the_cli_says_which(photos: Path) -> None:
    """A 1x1 PNG once crashed the whole run with an OpenCV traceback."""
    Image.new("RGB", (1, 1)).save(photos / "pixel.png")
    proc = subprocess.run([sys.executable, "-m", "posterocr", "extract", str(photos), "-j", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "img/pixel.png: 1x1 px is too small" in proc.stderr
    assert "4 photos: " in proc.stderr and " flagged, 1 failed in " in proc.stderr, proc.stderr


def test_an_unexpected_error_on_one_photo_does_not_stop_the_others(
        photos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: a bug (here a ValueError from detection) on one photo; -j 1 runs in this process."""
    real = detect.find_poster
    calls = []

    def flaky(image: np.ndarray, *args, **kwargs):
        calls.append(image.shape)
        if len(calls) == 1:
            raise ValueError("operands could not be broadcast together")
        return real(image, *args, **kwargs)

    monkeypatch.setattr(detect, "find_poster", flaky)
    report = extract(photos, Path("posters.yaml"), ExtractSettings(jobs=1, use_cache=False))
    failed = [r for r in report.results if r.error]
    assert len(report.results) == 3 and len(failed) == 1  # the first photo handed out, whichever that is
    assert "ValueError: operands could not be broadcast together" in failed[0].error
    assert "report it as a bug" in failed[0].error
    assert all(r.title and r.title.text for r in report.results if not r.error)

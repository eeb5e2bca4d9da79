"""extract as a whole: cache, faults in Tesseract and in files, interrupts. Real photos, real Tesseract."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from posterocr import _tesseract
from posterocr.cli import main
from posterocr.pipeline import ExtractSettings, extract

pytestmark = pytest.mark.slow
REAL_TESSERACT = shutil.which("tesseract")


def _draft(path: Path):
    return YAML(typ="rt").load(path.read_text(encoding="utf-8"))


def _entries(path: Path) -> dict[str, dict]:
    return {e["photo"]: e for e in _draft(path)["posters"]}


def _fake_tesseract(tmp_path: Path, behaviour: str) -> Path:
    """A `tesseract` that misbehaves on its first call only, then runs the real one."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    script = bin_dir / "tesseract"
    counter = tmp_path / "calls"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{counter}"\n'
        f'if [ "$n" -eq 1 ]; then {behaviour}; fi\n'
        f'exec "{REAL_TESSERACT}" "$@"\n'
    )
    script.chmod(0o755)
    return bin_dir


def test_rerun_unchanged_folder_does_no_ocr_and_changed_photo_is_reread(photos: Path) -> None:
    settings = ExtractSettings(jobs=1)
    before = _tesseract.calls
    first = extract(photos, Path("posters.yaml"), settings)
    assert _tesseract.calls > before and first.cached == 0

    before = _tesseract.calls
    again = extract(photos, Path("posters.yaml"), settings)
    assert _tesseract.calls == before, "a re-run on unchanged photos must not start tesseract"
    assert again.cached == 3
    assert [r.title for r in again.results] == [r.title for r in first.results]

    # Change one photo's bytes (re-saved by some app): only that one is read again.
    changed = sorted(photos.iterdir())[0]
    with changed.open("ab") as f:
        f.write(b"\0" * 16)
    before = _tesseract.calls
    third = extract(photos, Path("posters.yaml"), settings)
    assert third.cached == 2
    assert _tesseract.calls > before


def test_corrupt_cache_is_ignored(photos: Path) -> None:
    extract(photos, Path("posters.yaml"), ExtractSettings(jobs=1))
    for entry in Path(".posterocr-cache").rglob("*.json"):
        entry.write_text("{ not json")
    report = extract(photos, Path("posters.yaml"), ExtractSettings(jobs=1))
    assert report.cached == 0 and not report.failed


def test_crashing_tesseract_fails_one_photo_and_the_rest_are_read(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _fake_tesseract(tmp_path, 'echo "Segmentation fault" >&2; kill -SEGV $$')
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    assert main(["extract", "img", "-j", "1"]) == 1
    err = capsys.readouterr().err
    entries = _entries(Path("posters.yaml"))
    statuses = sorted(e["measured"]["status"] for e in entries.values())
    assert statuses.count("failed") == 1, statuses
    failed = next(e for e in entries.values() if e["measured"]["status"] == "failed")
    assert "tesseract failed (killed by SIGSEGV)" in failed["measured"]["message"]
    assert "1 failed" in err and "SIGSEGV" in err
    # The failure is not cached: the next run (tesseract healthy again) reads that photo.
    assert main(["extract", "img", "-j", "1"]) == 0
    assert all(e["measured"]["status"] != "failed" for e in _entries(Path("posters.yaml")).values())


def test_hanging_tesseract_times_out(photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_tesseract(tmp_path, "sleep 60")
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    start = time.monotonic()
    report = extract(photos, Path("posters.yaml"), ExtractSettings(jobs=1, ocr_timeout=3))
    assert time.monotonic() - start < 45
    assert len(report.failed) == 1 and "timed out after 3 s" in report.failed[0].error
    assert len(report.results) == 3


def test_missing_tesseract_exits_3_with_install_hint(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert main(["extract", "img"]) == 3
    err = capsys.readouterr().err
    assert "apt-get install tesseract-ocr" in err and len(err.strip().splitlines()) == 1
    assert not Path("posters.yaml").exists()


def test_bad_files_are_listed_and_the_rest_processed(
    photos: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = sorted(photos.iterdir())[0]
    (photos / "empty.jpg").write_bytes(b"")
    (photos / "letter.jpg").write_text("Dear committee,\n")
    (photos / "cut.jpg").write_bytes(good.read_bytes()[: good.stat().st_size // 4]) if good.suffix == ".jpg" else None
    (photos / "clip.MOV").write_bytes(b"\0\0\0\x18ftypqt  ")
    assert main(["extract", "img", "-j", "2"]) == 1
    err = capsys.readouterr().err
    assert "clip.MOV: video, skipped" in err
    assert "empty.jpg: empty file (0 bytes)" in err
    assert "letter.jpg: not a readable image" in err
    assert "Traceback" not in err
    for name in ("empty.jpg", "letter.jpg", "clip.MOV"):  # one line each, naming the file once
        lines = [line for line in err.splitlines() if name in line]
        assert len(lines) == 1 and lines[0].count(name) == 1, lines
    entries = _entries(Path("posters.yaml"))
    ok = [p for p, e in entries.items() if e["measured"]["status"] in ("ok", "flagged")]
    assert len(ok) == 3


def test_many_skipped_files_of_one_kind_make_one_line(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An iPhone's Live Photos leave a .MOV beside every photo of the folder.
    for n in range(1, 7):  # (the photos are IMG_0001-0003; these MOVs stand for more photos' too)
        (photos / f"IMG_{n:04d}.MOV").write_bytes(b"\0\0\0\x18ftypqt  ")
    (photos / "notes.txt").write_text("to read\n")
    assert main(["extract", "img", "-j", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    videos = [line for line in err if ".MOV" in line]
    assert videos == ["posterocr: img: 6 files (IMG_0001.MOV, IMG_0002.MOV, ... IMG_0006.MOV): video, skipped"]
    assert any(line.endswith("notes.txt: not a photo (JPEG, PNG, HEIC/HEIF, AVIF or WebP), skipped") for line in err), err


def test_unreadable_file_and_folder(photos: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    victim = sorted(photos.iterdir())[0]
    if os.geteuid() != 0:
        victim.chmod(0)
    else:  # root reads anything: inject the fault the OS would raise
        real_open = Path.open

        def deny(self: Path, *args, **kwargs):
            if self.name == victim.name:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", deny)
    assert main(["extract", "img", "-j", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{victim.name}: permission denied; make the file readable" in err
    assert "2 read" in err or "1 read, 1 flagged" in err

    monkeypatch.undo()
    if os.geteuid() != 0:
        photos.chmod(0)
    else:
        monkeypatch.setattr(Path, "iterdir", lambda self: (_ for _ in ()).throw(PermissionError(13, "denied")))
    try:
        assert main(["extract", "img"]) == 2
    finally:
        photos.chmod(0o755)
    assert "img: permission denied; make the folder readable" in capsys.readouterr().err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_keeps_a_valid_draft_and_resumes(photos: Path, signum: int) -> None:
    draft = Path("posters.yaml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "posterocr", "extract", "img", "-j", "1"],
        stderr=subprocess.PIPE, text=True,
    )
    cache = Path(".posterocr-cache")
    deadline = time.monotonic() + 120
    while not list(cache.rglob("[0-9a-f]*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert 1 <= len(_draft(draft)["posters"]) < 3
    # The next run resumes: photos already read come from the cache.
    rerun = subprocess.run([sys.executable, "-m", "posterocr", "extract", "img", "-j", "1"],
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert len(_draft(draft)["posters"]) == 3
    assert "from cache" in rerun.stderr


def test_an_edit_saved_while_extract_runs_is_kept(photos: Path) -> None:
    """The user saves the draft in their editor while photos are still being read."""
    draft = Path("posters.yaml")
    extract(photos, draft, ExtractSettings(jobs=1))
    new_photo = photos / "IMG_9999.jpg"
    shutil.copy2(sorted(photos.iterdir())[0], new_photo)
    with new_photo.open("ab") as f:
        f.write(b"\0")  # new bytes: not in the cache, so a worker really runs

    def edit_midway(done: int, total: int, result) -> None:  # type: ignore[no-untyped-def]
        if done == 1:
            text = draft.read_text(encoding="utf-8")
            draft.write_text(text.replace('comment: ""', 'comment: "typed during the run"', 1), encoding="utf-8")

    extract(photos, draft, ExtractSettings(jobs=1), on_progress=edit_midway)
    entries = _draft(draft)["posters"]
    assert entries[0]["comment"] == "typed during the run"
    assert entries[-1]["photo"] == "img/IMG_9999.jpg"


def test_slowest_photos_are_handed_to_the_pool_first(tmp_path: Path) -> None:
    """Longest first: HEIC (several times a JPEG's decoding) before JPEG, bigger files before smaller."""
    from posterocr.pipeline import _expected_cost

    sizes = {"a.jpg": 10, "b.jpg": 1000, "c.HEIC": 5, "d.heif": 50}
    jobs = []
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
        jobs.append((tmp_path / name, name, ""))
    jobs.append((tmp_path / "gone.jpg", "gone.jpg", ""))  # vanished: cheapest, fails fast in its worker
    assert [j[1] for j in sorted(jobs, key=_expected_cost, reverse=True)] == ["d.heif", "c.HEIC", "b.jpg", "a.jpg",
                                                                                "gone.jpg"]


def test_photos_are_streamed_through_the_pool(tmp_path: Path, e2e_samples: list[dict],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A few photos queued per worker, never the whole folder: a finished photo's result holds ~1 MB of
    image bytes for as long as its future is referenced, so memory would grow with the folder."""
    from posterocr import workers

    img = tmp_path / "img"
    img.mkdir()
    for sample in e2e_samples:
        shutil.copy2(sample["path"], img)
    real_pool = workers.pool
    in_flight: list[int] = [0]
    most: list[int] = [0]

    class CountingPool:
        def __init__(self, pool) -> None:
            self.pool = pool

        def submit(self, *args, **kwargs):
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            future = self.pool.submit(*args, **kwargs)
            future.add_done_callback(lambda _: in_flight.__setitem__(0, in_flight[0] - 1))
            return future

        def shutdown(self, *args, **kwargs):
            return self.pool.shutdown(*args, **kwargs)

    monkeypatch.setattr(workers, "pool", lambda *args, **kwargs: CountingPool(real_pool(*args, **kwargs)))
    report = extract(img, tmp_path / "posters.yaml", ExtractSettings(jobs=2))
    assert len(report.results) == len(e2e_samples) == 7 and not report.failed
    assert most[0] <= 4, f"{most[0]} photos were in the pool at once"
    assert all(r.crop == b"" and r.previews is None for r in report.results)  # stored, then dropped
    assert len(list((tmp_path / ".posterocr-cache" / "crops").rglob("*.jpg"))) == 7


# Modules the measuring stages import that hold no measuring logic: data records, errors, storage.
_NOT_MEASURING = {"records.py", "exceptions.py", "cache.py", "yamlio.py", "__init__.py"}


def test_every_module_the_measuring_stages_use_is_in_the_cache_key() -> None:
    """A new module under detect/ocr/match (split off to keep files short) must change the cache key too.

    Otherwise a re-run after an upgrade would keep results measured by the old code.
    """
    import ast

    from posterocr import cache

    package = Path(cache.__file__).parent
    stages = ["load.py", "detect.py", "ocr.py", "match.py", "links.py", "papers.py"]
    seen: set[str] = set()
    while stages:
        name = stages.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(ast.parse((package / name).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
                stages += [f"{t}.py" for t in targets if (package / f"{t}.py").exists()]
    assert len(seen) >= 10  # the walk found the stages' helpers (layout, geometry, titletext, ...)
    assert seen - _NOT_MEASURING <= set(cache._MEASURING_MODULES)


def test_a_24_mp_photo_is_read_at_12_mp_and_measured_in_its_own_pixels(tmp_path: Path) -> None:
    # iPhone 15 Pro and later shoot 24 MP by default. extract works on 12 MP (a 48 MP photo would
    # hold 146 MB per copy, per worker): the title and outline must be those of the 12 MP photo,
    # with the corners in the 24 MP photo's own pixels, where the user edits them.
    import cv2
    import numpy as np
    from PIL import Image

    from posterocr import load, webimages
    from posterocr.pipeline import process_photo

    small = Path(__file__).resolve().parent.parent / "img" / "IMG_0001.jpg"  # 3024 x 4032
    big = tmp_path / "big" / "IMG_0001.jpg"
    big.parent.mkdir()
    upscaled = cv2.resize(load.load_photo(small), (4284, 5712), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(upscaled).save(big, quality=90)
    scale = 4284 / 3024

    at_12mp = process_photo(small, "IMG_0001.jpg", "", ExtractSettings())
    at_24mp = process_photo(big, "IMG_0001.jpg", "", ExtractSettings())
    assert at_24mp.error is None and at_24mp.size == (4284, 5712)
    assert at_24mp.title is not None and at_12mp.title is not None and at_12mp.title.confidence > 0.5
    assert at_24mp.title.text == at_12mp.title.text and abs(at_24mp.title.confidence - at_12mp.title.confidence) < 0.05
    assert at_24mp.detection is not None and at_12mp.detection is not None and at_24mp.detection.found
    shift = np.array(at_24mp.detection.corners) / scale - np.array(at_12mp.detection.corners)
    assert np.abs(shift).max() < 1.0, shift  # 12 MP pixels

    # render from the photo (no extract crop) straightens the same poster from the 24 MP corners
    def main_image(result, source: Path, out: str) -> np.ndarray:
        job = webimages.ImageJob(source=source, base=source.name, out_dir=tmp_path / out,
                                 settings=webimages.ImageSettings(), corners=result.detection.corners,
                                 draft_size=result.size, crop_cache=None)
        images, note, from_crop = webimages.make_images(job)
        assert note is None and not from_crop
        return load.load_photo(job.out_dir / images.main.file)

    from_big, from_small = main_image(at_24mp, big, "out24"), main_image(at_12mp, small, "out12")
    assert from_big.shape[1] == from_small.shape[1] == 1280 and abs(from_big.shape[0] - from_small.shape[0]) <= 2
    same = cv2.resize(from_big, from_small.shape[1::-1], interpolation=cv2.INTER_AREA)
    # 5.6 measured; the truth's corners, 5-9 px off the detected ones, already give 24
    assert np.abs(same.astype(int) - from_small).mean() < 10

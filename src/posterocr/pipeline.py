"""``extract``: the stages, in order, for every photo of a folder.

    list photos -> [worker, per photo: load -> detect -> warp -> read title]
                -> parent: merge results into the draft -> atomic save

Each worker returns an immutable :class:`PhotoResult`; only the parent
touches the draft, so a crash in one photo cannot corrupt shared state.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import detect, load, ocr
from .draft import MergeReport, load_or_new_draft, save_draft
from .exceptions import MissingDependency, PhotoError, PosterocrError
from .records import PhotoResult

# The corrected poster handed to OCR never needs more than this: a title's
# x-height is far above Tesseract's sweet spot long before 3000 px.
OCR_MAX_SIDE = 3000


@dataclass(frozen=True)
class ExtractSettings:
    jobs: int = 1  # 1 = no pool, everything in this process (easy to debug)
    ocr_timeout: float = 30.0  # seconds per Tesseract call


@dataclass(frozen=True)
class ExtractReport:
    results: tuple[PhotoResult, ...]
    skipped: tuple[tuple[Path, str], ...]  # files in the folder that are not photos
    merge: MergeReport
    seconds: float

    @property
    def failed(self) -> tuple[PhotoResult, ...]:
        return tuple(r for r in self.results if r.error)

    def summary(self) -> str:
        m = self.merge
        read = len(self.results) - m.failed - m.flagged
        count = len(self.results)
        return (
            f"{count} photo{'' if count == 1 else 's'}: {read} read, {m.flagged} flagged, "
            f"{m.failed} failed in {self.seconds:.1f} s"
        )


def process_photo(path: Path, photo: str, settings: ExtractSettings) -> PhotoResult:
    """The per-photo worker: never raises for a bad photo, it reports it in the result."""
    start = time.perf_counter()
    try:
        sha256 = load.file_sha256(path)
        image = load.load_photo(path)
        height, width = image.shape[:2]
        detection = detect.find_poster(image)
        poster = detect.warp_poster(image, detection.corners, max_side=OCR_MAX_SIDE)
        del image  # the full-resolution photo is the largest object alive; free it before OCR
        title = ocr.read_title(poster, timeout=settings.ocr_timeout)
    except PhotoError as exc:
        return PhotoResult(photo=photo, error=str(exc), seconds=time.perf_counter() - start)
    except OSError as exc:  # e.g. the file vanished or became unreadable mid-run
        return PhotoResult(photo=photo, error=f"{path}: {exc.strerror or exc}", seconds=time.perf_counter() - start)
    return PhotoResult(
        photo=photo,
        sha256=sha256,
        size=(width, height),
        detection=detection,
        title=title,
        seconds=time.perf_counter() - start,
    )


def relative_photo_path(path: Path, draft_dir: Path) -> str:
    """Photo path as written in the draft: relative to the draft's folder, POSIX separators."""
    return Path(os.path.relpath(path.resolve(), draft_dir.resolve())).as_posix()


def _run(
    jobs: list[tuple[Path, str]], settings: ExtractSettings
) -> Iterator[PhotoResult]:
    if settings.jobs <= 1 or len(jobs) <= 1:
        for path, photo in jobs:
            yield process_photo(path, photo, settings)
        return
    with ProcessPoolExecutor(max_workers=min(settings.jobs, len(jobs))) as pool:
        futures = [pool.submit(process_photo, path, photo, settings) for path, photo in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def check_dependencies() -> None:
    if shutil.which("tesseract") is None:
        raise MissingDependency(
            "tesseract not found on PATH; install it: sudo apt-get install tesseract-ocr "
            "(macOS: brew install tesseract)"
        )


def extract(
    photos_dir: Path,
    draft_path: Path,
    settings: ExtractSettings = ExtractSettings(),
    *,
    on_progress: Callable[[PhotoResult], None] | None = None,
) -> ExtractReport:
    """Process every photo in *photos_dir* and create or update the draft at *draft_path*.

    The draft is loaded (and so validated) before any photo is processed, and
    written once at the end - also when the run is interrupted, so the photos
    already read are not lost.
    """
    start = time.perf_counter()
    if not photos_dir.is_dir():
        raise PosterocrError(f"{photos_dir}: not a folder; give the folder that holds the photos")
    try:
        listing = load.list_photos(photos_dir)
    except PermissionError:
        raise PosterocrError(f"{photos_dir}: permission denied; make the folder readable") from None
    check_dependencies()
    draft_dir = draft_path.parent
    draft = load_or_new_draft(draft_path)

    jobs = [(path, relative_photo_path(path, draft_dir)) for path in listing.photos]
    results: list[PhotoResult] = []
    try:
        for result in _run(jobs, settings):
            results.append(result)
            if on_progress is not None:
                on_progress(result)
    finally:
        # Also on Ctrl-C: keep what was read so far (the merge never drops user edits).
        results.sort(key=lambda r: r.photo)
        merge = draft.merge(results, draft_dir=draft_dir)
        save_draft(draft, draft_path)
    return ExtractReport(
        results=tuple(results),
        skipped=listing.skipped,
        merge=merge,
        seconds=time.perf_counter() - start,
    )


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()

"""``extract``: the stages, in order, for every photo of a folder.

    list photos -> hash -> cached? -> [worker: load (<= 12 MP) -> detect -> warp -> crop -> QR codes -> read title
                                       (-> with --papers: OCR the poster -> match the list, printed links)]
                -> parent: cache result (+ previews for review.html, the corrected crop for render),
                           merge results into the draft -> atomic save

Each worker returns an immutable :class:`PhotoResult`; only the parent
touches the draft and the cache, so a crash in one photo cannot corrupt
shared state.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from . import _tesseract, crops, detect, links, load, match, ocr, papers, review, workers
from .cache import CACHE_DIR_NAME, ResultCache, prune
from .draft import MergeReport, load_or_new_draft, save_draft
from .exceptions import MissingDependency, OutputError, PhotoError, PosterocrError
from .records import PaperMatch, PhotoResult, TitleReading

# The corrected poster handed to OCR never needs more than this: a title's
# x-height is far above Tesseract's sweet spot long before 3000 px.
OCR_MAX_SIDE = 3000
# px, a photo's short side: below this no poster text is legible (a thumbnail, an icon, a
# tracking pixel), and detection's downscaling has nothing left to work on.
MIN_SIDE = 64

ProgressCallback = Callable[[int, int, PhotoResult], None]  # (done, total, latest result)


@dataclass(frozen=True)
class ExtractSettings:
    jobs: int = 1  # 1 = no pool, everything in this process (easy to debug)
    ocr_timeout: float = 30.0  # seconds per Tesseract call
    use_cache: bool = True
    paper_lists: tuple[Path, ...] = ()  # --papers: the conference's accepted-paper lists


def _cache_key(index: match.PaperIndex | None) -> str:
    """What changes what is measured besides the code (jobs and timeouts don't): the paper list's content."""
    if index is None:
        return f"ocr_max_side={OCR_MAX_SIDE}"
    digest = hashlib.sha256()
    for paper in index.papers:
        digest.update(repr((paper.title, paper.authors, paper.link)).encode())
    return f"ocr_max_side={OCR_MAX_SIDE};papers={digest.hexdigest()[:16]}"


@dataclass(frozen=True)
class ExtractReport:
    results: tuple[PhotoResult, ...]
    skipped: tuple[tuple[Path, str], ...]  # files in the folder that are not photos
    merge: MergeReport
    seconds: float
    cached: int = 0  # results taken from the cache
    review_sheet: Path | None = None  # review.html, when it could be written
    warnings: tuple[str, ...] = ()
    matched: int = 0  # posters matched to a paper of the list
    papers_given: bool = False  # extract ran with --papers

    @property
    def failed(self) -> tuple[PhotoResult, ...]:
        return tuple(r for r in self.results if r.error)

    def summary(self) -> str:
        m = self.merge
        count = len(self.results)
        read = count - m.failed - m.flagged
        cached = f" ({self.cached} unchanged, from cache)" if self.cached else ""
        matched = f", {self.matched} matched to the paper list" if self.matched or self.papers_given else ""
        return (
            f"{count} photo{'' if count == 1 else 's'}: {read} read, {m.flagged} flagged, "
            f"{m.failed} failed{matched} in {self.seconds:.1f} s{cached}"
        )


def process_photo(path: Path, photo: str, sha256: str, settings: ExtractSettings,
                  index: match.PaperIndex | None = None) -> PhotoResult:
    """The per-photo worker: never raises for a bad photo, it reports it in the result."""
    start = time.perf_counter()
    try:
        working = load.load_working(path)  # a photo over 12 MP comes downscaled to 12 MP
        image, (width, height) = working.pixels, working.size
        if min(height, width) < MIN_SIDE:
            raise PhotoError(f"{width}x{height} px is too small to hold a readable poster; "
                             "use the original photo, or remove this file from the folder")
        found = detect.find_poster(image)
        # Detection leaves ~50 MB of freed small arrays in the heap (12 MP): returned before the
        # warp allocates, they don't add to this worker's memory while another one is at its peak.
        load.release_memory()
        detection = replace(found, corners=working.to_photo(found.corners))  # the draft's: the photo's pixels
        poster = detect.warp_poster(image, found.corners, max_side=OCR_MAX_SIDE)
        previews = review.make_previews(image, poster, srgb=load.srgb_converter(path))  # shown in a browser
        # The photo (36 MB at 12 MP, the largest object alive) is not needed past here: freed
        # before anything else runs, as the RGB poster is once its crop is encoded (the rest reads grey).
        del image, working
        crop = crops.encode_crop(poster, detection.corners)  # render starts from it: no second decode + warp
        grey = cv2.cvtColor(poster, cv2.COLOR_RGB2GRAY)
        del poster
        # QR codes are read once, on the corrected poster: it holds only this poster (never the
        # neighbour's code), is half the photo's pixels, and its codes are square again. On 60
        # generated photos it read as many codes as the photo and poster together, in half the time.
        codes = links.decode_qr(grey)
        title = ocr.read_title(grey, timeout=settings.ocr_timeout)
        listed = _match_list(grey, title, index, settings.ocr_timeout) if index is not None else _NOT_LISTED
    except PhotoError as exc:
        # The result is this photo's: its name is said once, where the result is reported.
        error = str(exc).removeprefix(f"{path}: ")
        return PhotoResult(photo=photo, sha256=sha256, error=error, seconds=time.perf_counter() - start)
    except OSError as exc:  # e.g. the file vanished or became unreadable mid-run
        return PhotoResult(photo=photo, sha256=sha256, error=f"{exc.strerror or exc}; check the file and run again",
                           seconds=time.perf_counter() - start)
    except PosterocrError:
        raise  # MissingDependency and the like concern the whole run, not this photo
    except Exception as exc:  # noqa: BLE001 -- a bug tripped by one odd photo must not stop the others
        why = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        return PhotoResult(photo=photo, sha256=sha256, seconds=time.perf_counter() - start,
                           error=f"posterocr failed on this photo ({why}); please report it as a bug, with the photo")
    # The poster's own links first (a QR code is the author's choice), then the list's;
    # best_link prefers a paper host (arXiv, OpenReview, ...) over a lab or code site.
    paper = listed.paper
    link, others = links.best_link([*codes, *listed.printed_links, *([paper.link] if paper else [])])
    return PhotoResult(
        photo=photo,
        sha256=sha256,
        size=(width, height),
        detection=detection,
        title=_canonical_title(title, paper) if paper else title,
        seconds=time.perf_counter() - start,
        previews=(previews.photo_jpeg, previews.poster_jpeg),
        crop=crop,
        paper=paper,
        paper_candidates=listed.candidates,
        link=link,
        links=others,
    )


@dataclass(frozen=True)
class _Listed:
    """What the paper list says about one poster."""

    paper: PaperMatch | None = None  # the clear winner
    candidates: tuple[PaperMatch, ...] = ()  # else the close ones, for the user
    printed_links: tuple[str, ...] = ()  # arXiv ids, DOIs, URLs in the poster's text


_NOT_LISTED = _Listed()


def _match_list(grey: np.ndarray, title: TitleReading, index: match.PaperIndex, timeout: float) -> _Listed:
    """OCR the whole (grey) poster once; match its lines against the list; printed links come from the same text."""
    lines = match.ocr_lines(grey, timeout=timeout)
    found = match.match_poster(index, lines, title_guess=title.text)
    printed = tuple(links.find_printed_links("\n".join(lines)))
    if found.paper is not None:
        return _Listed(paper=_paper_match(found.paper, found.score), printed_links=printed)
    close = tuple(_paper_match(p, s) for p, s in found.candidates if s >= match.CANDIDATE_FLOOR)
    return _Listed(candidates=close, printed_links=printed)


def _paper_match(paper: papers.Paper, score: float) -> PaperMatch:
    return PaperMatch(title=paper.title, authors=paper.authors, link=paper.link, score=round(float(score), 3))


def _canonical_title(read: TitleReading, paper: PaperMatch) -> TitleReading:
    """The list's title replaces the OCR reading, which is kept first among the alternatives."""
    alternatives = tuple(dict.fromkeys(a for a in (read.text, *read.alternatives)
                                       if a.strip() and papers.normalise(a) != papers.normalise(paper.title)))
    return TitleReading(text=paper.title, confidence=max(read.confidence, paper.score), alternatives=alternatives)


def relative_photo_path(path: Path, draft_dir: Path) -> str:
    """Photo path as written in the draft: relative to the draft's folder, POSIX separators."""
    return Path(os.path.relpath(path.resolve(), draft_dir.resolve())).as_posix()


# The paper index of a pool worker: sent once per worker by the pool's initializer,
# not pickled again with every photo.
_worker_index: match.PaperIndex | None = None


def _init_worker(index: match.PaperIndex | None) -> None:
    global _worker_index
    _worker_index = index


def _process_in_worker(path: Path, photo: str, sha256: str, settings: ExtractSettings) -> PhotoResult:
    try:
        return process_photo(path, photo, sha256, settings, _worker_index)
    finally:
        load.release_memory()


def _run(jobs: list[tuple[Path, str, str]], settings: ExtractSettings,
         index: match.PaperIndex | None) -> Iterator[PhotoResult]:
    if settings.jobs <= 1 or len(jobs) <= 1:
        for path, photo, sha256 in jobs:
            yield process_photo(path, photo, sha256, settings, index)
        return
    # The fork server imports the stages (OpenCV, NumPy, Pillow, the QR reader: ~0.35 s CPU, ~60 MB)
    # once and every worker inherits them, instead of each importing its own copy.
    pool = workers.pool(min(settings.jobs, len(jobs)), initializer=_init_worker, initargs=(index,),
                        preload=(__name__, "zxingcpp"))
    try:
        # Longest first, so no worker is left alone with a slow photo at the end: HEIC decoding
        # costs several times a JPEG's, and within a format a bigger file is more to decode.
        order = iter(sorted(jobs, key=_expected_cost, reverse=True))
        # A few photos queued per worker, not the whole folder: a finished future holds its
        # result (~1 MB of crop and previews) for as long as it is referenced, so submitting
        # everything up front kept every photo's bytes alive until the end of the run.
        pending: set[Future[PhotoResult]] = set()
        for path, photo, sha256 in islice(order, 2 * settings.jobs):
            pending.add(pool.submit(_process_in_worker, path, photo, sha256, settings))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for path, photo, sha256 in islice(order, len(finished)):
                pending.add(pool.submit(_process_in_worker, path, photo, sha256, settings))
            for future in finished:
                yield future.result()
            del finished
    finally:
        # On Ctrl-C or an error: photos not yet started are dropped, running ones finish.
        pool.shutdown(wait=True, cancel_futures=True)


def _expected_cost(job: tuple[Path, str, str]) -> tuple[bool, int]:
    path = job[0]
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # it fails fast in its worker
    return path.suffix.lower() in load.HEIF_SUFFIXES, size


def check_dependencies() -> None:
    if shutil.which(_tesseract.EXECUTABLE) is None:
        raise MissingDependency(_tesseract.INSTALL_HINT)
    try:
        import zxingcpp  # noqa: F401  (links.decode_qr imports it in the workers)
    except ImportError:
        raise MissingDependency("the QR code reader is missing; install it: pip install zxing-cpp") from None


def extract(
    photos_dir: Path,
    draft_path: Path,
    settings: ExtractSettings = ExtractSettings(),
    *,
    on_progress: ProgressCallback | None = None,
) -> ExtractReport:
    """Process every photo in *photos_dir* and create or update the draft at *draft_path*.

    The draft is loaded (and so validated) before any photo is processed, and
    written once at the end - also when the run is interrupted, so the photos
    already read are kept; they are cached too, so the next run resumes.
    """
    start = time.perf_counter()
    if not photos_dir.is_dir():
        raise PosterocrError(f"{photos_dir}: not a folder; give the folder that holds the photos")
    try:
        listing = load.list_photos(photos_dir)
    except PermissionError:
        raise PosterocrError(f"{photos_dir}: permission denied; make the folder readable (chmod a+rx)") from None
    check_dependencies()
    draft_dir = draft_path.parent
    load_or_new_draft(draft_path)  # a broken draft stops the run before any photo is read
    warnings: list[str] = []
    index = None
    if settings.paper_lists:  # a bad list stops the run here too, before any photo is read
        paper_list = papers.load_many(settings.paper_lists)
        warnings.extend(paper_list.warnings)
        index = match.PaperIndex(paper_list.papers)
    cache_dir = draft_dir / CACHE_DIR_NAME
    cache = ResultCache(cache_dir, _cache_key(index)) if settings.use_cache else None

    total = len(listing.photos)
    results: list[PhotoResult] = []
    todo: list[tuple[Path, str, str]] = []
    cached = 0

    def done(result: PhotoResult) -> None:
        results.append(result)
        if on_progress is not None:
            on_progress(len(results), total, result)

    try:
        for path in listing.photos:
            photo = relative_photo_path(path, draft_dir)
            try:
                sha256 = load.file_sha256(path)
            except PhotoError as exc:
                done(PhotoResult(photo=photo, error=str(exc).removeprefix(f"{path}: ")))
                continue
            hit = cache.get(sha256) if cache else None
            made = [*review.preview_paths(sha256, cache_dir), crops.crop_path(cache_dir, sha256)]
            if hit is not None and all(p.exists() for p in made):
                cached += 1
                done(replace(hit, photo=photo))
            else:
                todo.append((path, photo, sha256))
        for result in _run(todo, settings, index):
            if result.previews:
                review.save_previews(review.Previews(*result.previews), result.sha256, cache_dir)
            if result.crop:
                crops.save_crop(cache_dir, result.sha256, result.crop)
            if cache:
                cache.put(result)
            # Stored: the image bytes (~1 MB a photo) are dropped, so the parent's memory does
            # not grow with the folder (300 photos kept ~300 MB of crops alive until the end).
            done(replace(result, previews=None, crop=b""))
    finally:
        # Also on Ctrl-C: keep what was read so far (the merge never drops user edits).
        # Load the draft again first: the user may have edited it while the photos were read.
        results.sort(key=lambda r: r.photo)
        draft = load_or_new_draft(draft_path)
        merge = draft.merge(results, draft_dir=draft_dir)
        save_draft(draft, draft_path)
    if settings.use_cache:  # the whole folder was listed (not interrupted): drop what no photo uses any more
        prune(cache_dir, {r.sha256 for r in results if r.sha256} | draft.photo_hashes())
    try:
        sheet: Path | None = review.write_review(draft, draft_path, cache_dir)
    except OutputError as exc:  # the draft is saved; the sheet is a convenience
        sheet = None
        warnings.append(str(exc))
    return ExtractReport(
        results=tuple(results),
        skipped=listing.skipped,
        merge=merge,
        seconds=time.perf_counter() - start,
        cached=cached,
        review_sheet=sheet,
        warnings=tuple(warnings),
        matched=sum(1 for r in results if r.paper is not None),
        papers_given=index is not None,
    )

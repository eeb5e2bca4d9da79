"""The immutable records that flow between the stages.

load -> detect -> ocr (-> match, links) produce one :class:`PhotoResult` per photo in a worker;
only the parent process merges results into the draft (``draft.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# A point in pixels of the *upright* photo (after EXIF rotation), (x, y).
Point = tuple[float, float]
# Four corners in order top-left, top-right, bottom-right, bottom-left.
Corners = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class Detection:
    """Where the poster is in the photo."""

    corners: Corners
    confidence: float  # 0..1; below ``found`` threshold we fell back to the whole photo
    found: bool  # False: no convincing quadrilateral, ``corners`` is the whole photo
    method: str = ""  # which detector produced the winning quad, for debugging


@dataclass(frozen=True)
class TitleReading:
    """What Tesseract read as the poster's title."""

    text: str  # joined, cleaned title ("" when nothing was read)
    confidence: float  # 0..1
    alternatives: tuple[str, ...] = ()  # other candidates (e.g. a tagline vs the paper title)


@dataclass(frozen=True)
class PaperMatch:
    """A paper of the conference's list that the poster was matched to (``extract --papers``)."""

    title: str  # canonical title, as the list spells it
    authors: tuple[str, ...]
    link: str  # the list's link to the paper ("" when it has none)
    score: float  # 0..1, see match.match_poster


@dataclass(frozen=True)
class PhotoResult:
    """Everything ``extract`` measured about one photo."""

    photo: str  # path relative to the draft's folder, POSIX separators
    sha256: str = ""
    size: tuple[int, int] = (0, 0)  # upright width, height
    detection: Detection | None = None
    title: TitleReading | None = None
    error: str | None = None  # one-line message when the photo could not be processed
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    # With a paper list: the accepted match, else the top candidates for the user (best first).
    paper: PaperMatch | None = None
    paper_candidates: tuple[PaperMatch, ...] = ()
    # Links found on the poster (QR codes, printed URLs / arXiv ids / DOIs) and the paper's
    # list link, the most likely paper link first ("" / () when none).
    link: str = ""
    links: tuple[str, ...] = ()
    # Small JPEGs of the photo and of the corrected poster for the review sheet
    # (made where the decoded photo already is; never cached in the JSON).
    previews: tuple[bytes, bytes] | None = field(default=None, repr=False, compare=False)
    # The corrected poster as crops.encode_crop made it, for render (stored beside the cache, not in it).
    crop: bytes = field(default=b"", repr=False, compare=False)

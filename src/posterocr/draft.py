"""The YAML draft: what ``extract`` measured plus what the user wrote.

``posterocr extract`` writes ``posters.yaml``; the user edits it; ``extract``
may run again (new photos, better detector) and ``render`` reads it. The draft
is loaded in ruamel.yaml round-trip mode and always mutated *in place*, so the
user's comments, key order, quoting and unknown keys survive a re-extract.

Ownership rules (what makes user edits safe):

* Measured values live in ``title`` and ``measured:``. posterocr rewrites them
  on every extract; edits there are overwritten.
* User values are ``caption``, ``comment``, ``link``, ``skip``, ``corners``,
  every key posterocr does not know, and YAML comments. They are written once
  when an entry is created and afterwards only while *unedited*. (``authors``
  is never written: when the user adds it, it replaces the matched paper's
  authors on the page.)

  - ``caption`` is unedited iff it is empty or equals the previous ``title``
    (raw or whitespace-normalised); only then it follows the new title.
  - ``corners`` is unedited iff it equals ``measured.corners`` numerically
    (or both are absent); only then it follows the new detection.
  - ``link`` is unedited iff empty or equal to ``measured.link``; it follows the
    link found on the poster (QR code, printed URL) or, with ``--papers``, the
    matched paper's (``measured.paper``, ``measured.links`` for the others).
  - ``title`` is the matched paper's canonical title when ``--papers`` found a
    clear match, else the OCR reading; the caption follows it while unedited.
  - ``comment`` and ``skip`` are never written after creation.
  - ``page.subtitle`` follows the poster count while it still has the
    prefilled form "Notes on N posters".
* Existing entries keep the user's order; new photos are appended in file-name
  order. An entry whose photo vanished keeps everything and gets
  ``measured.status: missing``; if a new photo with the vanished photo's sha256
  turns up in the same run, the photo was renamed: the entry moves to the new
  name (``measured.renamed_from``). A photo that failed keeps its previous
  measurements and gets ``status: failed``.
* Wrong value types are collected as one-line problems (:meth:`Draft.problems`),
  fall back to defaults when read, and are never overwritten: the user fixes them.
* The text the user typed is written back byte-for-byte wherever nothing changed,
  and saving is atomic (``yamlio``). YAML syntax errors raise :class:`DraftError`
  with line and column.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from . import yamlio
from .exceptions import DraftError
from .records import Corners, PaperMatch, PhotoResult
from .yamlio import flow as _flow
from .yamlio import set_in_place as _set_in_place
from .yamlio import write_atomic  # noqa: F401  (re-exported: render and webimages import it from here)

HEADER = ("posterocr draft — edit caption, comment, link, skip, corners; "
          "re-running `posterocr extract` keeps your edits.")
DEFAULT_TITLE = "Poster notes"
# Below this detection/title confidence an entry is "flagged" for the user to check.
FLAG_BELOW = 0.5
_AUTO_SUBTITLE = re.compile(r"Notes on (?:no|\d+) posters?")
_STATUSES = ("ok", "flagged", "failed", "missing")
_UNKNOWN = object()  # a draft built in memory: what is on disk is not its business


@dataclass(frozen=True)
class PosterEntry:
    """One poster as render sees it: validated, with defaults filled in."""

    photo: str
    title: str
    caption: str
    comment: str
    link: str
    corners: Corners | None  # user's if valid, else measured, else None (= whole photo)
    skip: bool
    status: str
    message: str
    authors: str = ""
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class MergeReport:
    added: int = 0
    updated: int = 0
    missing: int = 0
    failed: int = 0
    flagged: int = 0
    messages: tuple[str, ...] = ()  # "photo: why" for every flagged, failed, missing or renamed entry
    renamed: int = 0  # entries moved to a photo's new name (also counted in updated)
    problems: tuple[str, ...] = ()  # Draft.problems() after the merge: wrong types, duplicate entries


def auto_subtitle(count: int) -> str:
    """The prefilled subtitle; while the page's subtitle has this form it follows the count."""
    return f"Notes on {count or 'no'} poster{'' if count == 1 else 's'}"


def is_auto_subtitle(text: object) -> bool:
    return isinstance(text, str) and _AUTO_SUBTITLE.fullmatch(text.strip()) is not None


def caption_from_title(title: str) -> str:
    """The caption prefilled from an OCR title: the title with whitespace collapsed."""
    return " ".join(str(title).split())


# ---------------------------------------------------------------- values


def _corners_yaml(corners: Iterable[Iterable[float]]) -> CommentedSeq:
    return _flow(_flow([int(round(x)), int(round(y))]) for x, y in corners)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _parse_corners(value: Any) -> Corners | None:
    """Four finite [x, y] pairs, or None."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    if not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        return None
    points = [(_number(x), _number(y)) for x, y in value]
    if any(v is None for point in points for v in point):
        return None
    return tuple(points)  # type: ignore[return-value]


def _corner_problem(corners: Corners, size: tuple[int, int] | None) -> str | None:
    """Why a quad of the right shape is still unusable (crossed, mirrored, off the photo)."""
    crosses = []
    for i in range(4):
        (ax, ay), (bx, by), (cx, cy) = corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]
        crosses.append((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    if not all(c > 0 for c in crosses):
        if all(c < 0 for c in crosses):
            return "corners go counter-clockwise; list them top-left, top-right, bottom-right, bottom-left"
        return "corners do not form a convex quadrilateral; list them top-left, top-right, bottom-right, bottom-left"
    if size is not None:
        w, h = size
        for x, y in corners:
            if not (-1 <= x <= w + 1 and -1 <= y <= h + 1):
                return f"corner [{x:g}, {y:g}] lies outside the {w}x{h} photo"
    return None


def _same_corners(a: Any, b: Any) -> bool:
    pa, pb = _parse_corners(a), _parse_corners(b)
    if pa is None or pb is None:
        return (a is None or a == []) and (b is None or b == [])
    return all(abs(p - q) < 1e-6 for u, v in zip(pa, pb) for p, q in zip(u, v))


def _text(value: Any) -> str | None:
    """A YAML scalar as text (numbers are fine as captions); None for lists, maps, booleans."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value)


def _norm_photo(photo: str) -> str:
    """The key a photo is matched by. A backslash is a separator only where the OS says so:
    on Linux and macOS it is an ordinary character of a file name."""
    if os.sep == "\\" or os.altsep == "\\":
        photo = photo.replace("\\", "/")
    return posixpath.normpath(photo)


def _path_scalar(photo: str) -> str:
    """A file name as YAML: plain if printable, else double-quoted so every character is an
    escape (ruamel writes U+0085 raw in other styles and reads it back as a line break;
    an undecodable name's surrogates could not be written as UTF-8 at all)."""
    return photo if photo.isprintable() else DoubleQuotedScalarString(photo)


def _exists(folder: Path, photo: str) -> bool:
    """Whether the photo is there; False for names the OS rejects (too long, NUL) instead of raising."""
    return os.path.exists(os.path.join(folder, photo))


def _type_name(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value) if isinstance(value, (str, bool)) else type(value).__name__


# ---------------------------------------------------------------- the draft


class Draft:
    """A loaded (or new) draft. ``data`` is the live ruamel tree; mutate it in place only."""

    def __init__(self, data: CommentedMap, *, path: Path | None = None,
                 indent: tuple[int, int, int] = (2, 4, 2), source: yamlio.Source | None = None,
                 bom: bool = False) -> None:
        self.data = data
        self.path = path
        self.indent = indent
        self._source = source  # the text as loaded or last saved, to write back the user's bytes
        self._bom = bom
        self._disk: bytes | None | object = _UNKNOWN  # the file's bytes when loaded (None: absent)

    # -- construction

    @classmethod
    def new(cls, path: Path | None = None) -> Draft:
        data = CommentedMap()
        data.yaml_set_start_comment(HEADER)
        page = CommentedMap()
        page["title"] = DEFAULT_TITLE
        page["subtitle"] = auto_subtitle(0)
        page["author"] = DoubleQuotedScalarString("")
        for key, why in (("title", "the page heading"),
                         ("subtitle", "one line under the heading (it counts the posters until you edit it)"),
                         ("author", 'your name; Markdown allowed, e.g. "[Ada Lovelace](https://example.org)"')):
            page.yaml_set_comment_before_after_key(key, before=why, indent=2)
        data["page"] = page
        data["posters"] = CommentedSeq()
        return cls(data, path=path)

    def dump(self) -> str:
        """The text a save writes: the loaded text where nothing changed (see ``yamlio``)."""
        return yamlio.render(self.data, self.indent, self._source)[0]

    # -- structure

    def _posters_seq(self, *, create: bool) -> CommentedSeq | None:
        """The posters list (created if absent and *create*); DraftError if the user made it something else."""
        posters = self.data.get("posters")
        if posters is None and create:
            posters = CommentedSeq()
            self.data["posters"] = posters
        if posters is not None and not isinstance(posters, list):
            where = str(self.path or "draft")
            try:
                line, column = self.data.lc.value("posters")
                where += f":{line + 1}:{column + 1}"
            except (AttributeError, KeyError, TypeError):  # built in memory: no position
                pass
            raise DraftError(f"{where}: posters: must be a list of entries, got "
                             f"{_type_name(posters)}; fix the YAML (the draft was not changed)")
        return posters

    def check_mergeable(self) -> None:
        """DraftError now if a merge would be refused, so extract fails before reading any photo."""
        self._posters_seq(create=False)

    def _entries(self) -> list[tuple[int, str, CommentedMap]]:
        """(index, normalised photo, entry) for every well-formed entry."""
        posters = self.data.get("posters")
        if not isinstance(posters, list):
            return []
        out = []
        for i, entry in enumerate(posters):
            if isinstance(entry, dict) and isinstance(entry.get("photo"), str) and entry["photo"].strip():
                out.append((i, _norm_photo(entry["photo"]), entry))
        return out

    # -- merge

    def merge(self, results: Iterable[PhotoResult], *, draft_dir: Path) -> MergeReport:
        """Fold extract results into the draft (see the module docstring for the rules).

        Deterministic: the same draft and the same results, in any order, give the same bytes
        (only a photo listed twice depends on the order: its last result wins).
        """
        self._posters_seq(create=False)  # refuse before changing anything
        by_photo: dict[str, list[CommentedMap]] = {}  # in draft order
        for _, photo, entry in self._entries():
            by_photo.setdefault(photo, []).append(entry)  # an entry copied by the user is refreshed too
        latest: dict[str, PhotoResult] = {}
        for result in results:
            latest[_norm_photo(result.photo)] = result
        new = sorted((p for p in latest if p not in by_photo), key=lambda p: (posixpath.basename(p), p))
        gone = [p for p in by_photo if p not in latest and not _exists(draft_dir, p)]
        renamed = _pair_renames(gone, new, by_photo, latest)
        for old, photo in renamed.items():
            new.remove(photo)
            entries = by_photo.pop(old)
            for entry in entries:
                was = str(entry["photo"])  # as the user wrote it
                _set_in_place(entry, "photo", _path_scalar(photo))
                if not isinstance(entry.get("measured"), dict):
                    entry["measured"] = CommentedMap()
                _set_in_place(entry["measured"], "renamed_from", DoubleQuotedScalarString(was))
            by_photo[photo] = entries
        posters = self._posters_seq(create=bool(new))
        if new and isinstance(posters, CommentedSeq) and posters.fa.flow_style():
            posters.fa.set_block_style()  # "posters: []" filled: one entry per block, like the rest
        for photo in new:  # appended in file-name order, after the user's own order
            by_photo[photo] = [_new_entry(latest[photo])]
            posters.append(by_photo[photo][0])

        counts = dict(added=0, updated=0, missing=0, failed=0, flagged=0)
        why: dict[str, str] = {}  # photo -> message for the report
        for photo, result in latest.items():
            for entry in by_photo[photo]:
                status, message = _refresh(entry, result)
            counts["added" if photo in new else "updated" if status != "failed" else "failed"] += 1
            counts["failed"] += photo in new and status == "failed"
            counts["flagged"] += status == "flagged"
            if status != "ok" or photo in renamed.values():
                why[photo] = message
        missing = "photo file is gone: {photo}; restore it, or delete this entry / set skip: true"
        for photo in gone:
            if photo in renamed:
                continue
            message = missing.format(photo=photo)
            for entry in by_photo[photo]:
                if not isinstance(entry.get("measured"), dict):
                    entry["measured"] = CommentedMap()
                _set_in_place(entry["measured"], "status", "missing")
                _set_in_place(entry["measured"], "message", DoubleQuotedScalarString(message))
            counts["missing"] += 1
            if not all(entry.get("skip") is True for entry in by_photo[photo]):  # skip: true = acknowledged
                why[photo] = message
        self._refresh_subtitle()
        messages = [f"{photo}: {why[photo]}" for photo in by_photo if photo in why]
        messages += [p for p in self._duplicates() if p not in messages]
        return MergeReport(**counts, messages=tuple(messages), renamed=len(renamed),
                           problems=tuple(self.problems()))

    def _refresh_subtitle(self) -> None:
        page = self.data.get("page")
        if not isinstance(page, dict):
            return
        if is_auto_subtitle(page.get("subtitle")):
            _set_in_place(page, "subtitle", auto_subtitle(sum(1 for p in self.posters() if not p.skip)))

    def _duplicates(self) -> list[str]:
        """One line per photo that has more than one entry."""
        where: dict[str, list[int]] = {}
        for i, photo, _ in self._entries():
            where.setdefault(photo, []).append(i + 1)
        return [f"{photo}: listed {len(at)} times in posters (entries {', '.join(map(str, at))}); "
                "keep one entry and delete the others (extract refreshes every copy)"
                for photo, at in where.items() if len(at) > 1]

    # -- reading

    def page(self) -> dict[str, str]:
        """title / subtitle / author as text (invalid values become "", title defaults)."""
        page = self.data.get("page")
        out = {"title": "", "subtitle": "", "author": ""}
        if isinstance(page, dict):
            for key in out:
                out[key] = (_text(page.get(key)) or "").strip()
        out["title"] = out["title"] or DEFAULT_TITLE
        return out

    def posters(self) -> list[PosterEntry]:
        """Typed, validated view of the entries in draft order; malformed entries are left out."""
        return [self._entry_view(entry, photo, None) for _, photo, entry in self._entries()]

    def _entry_view(self, entry: dict, photo: str, problems: list[str] | None) -> PosterEntry:
        def complain(msg: str) -> None:
            if problems is not None:
                problems.append(f"{entry['photo']}: {msg}")

        measured = entry.get("measured")
        if measured is not None and not isinstance(measured, dict):
            complain("measured: must be a mapping (posterocr rewrites it on the next extract)")
        measured = measured if isinstance(measured, dict) else {}
        size = measured.get("size")
        size = (int(size[0]), int(size[1])) if (isinstance(size, list) and len(size) == 2 and
                                                all(_number(v) is not None for v in size)) else None
        fields: dict[str, str] = {}
        for key in ("title", "caption", "comment", "link", "authors"):
            value = _text(entry.get(key))
            if value is None:
                complain(f"{key}: must be text, got {_type_name(entry.get(key))}; it is ignored")
                value = ""
            fields[key] = value
        if "caption" not in entry:
            fields["caption"] = caption_from_title(fields["title"])
        skip = entry.get("skip") or False
        if not isinstance(skip, bool):
            complain(f"skip: must be true or false, got {_type_name(skip)}; the poster is shown")
            skip = False
        corners = None
        user = entry.get("corners")
        if user is not None:
            corners = _parse_corners(user)
            if corners is None:
                complain(f"corners: must be four [x, y] number pairs (top-left, top-right, bottom-right, "
                         f"bottom-left), got {_type_name(user)}; using the detected corners")
            elif (why := _corner_problem(corners, size)) is not None:
                complain(f"{why}; using the detected corners")
                corners = None
        if corners is None:
            corners = _parse_corners(measured.get("corners"))
        status = measured.get("status", "")
        status = status if status in _STATUSES else ""
        message = _text(measured.get("message")) or ""
        authors = fields["authors"] if "authors" in entry else _paper_authors(measured.get("paper"))
        return PosterEntry(photo=photo, title=fields["title"], caption=fields["caption"],
                           comment=fields["comment"], link=fields["link"].strip(), corners=corners,
                           skip=skip, status=status, message=message, authors=authors, size=size)

    def problems(self) -> list[str]:
        """One line per wrong value, naming the photo; [] for a clean draft."""
        where = str(self.path) if self.path else "draft"
        problems: list[str] = []
        page = self.data.get("page")
        if page is not None and not isinstance(page, dict):
            problems.append(f"{where}: page: must be a mapping with title, subtitle, author")
        elif isinstance(page, dict):
            for key in ("title", "subtitle", "author"):
                if _text(page.get(key)) is None:
                    problems.append(f"{where}: page.{key}: must be text, got {_type_name(page.get(key))}")
        posters = self.data.get("posters")
        if posters is None:
            return problems
        if not isinstance(posters, list):
            return problems + [f"{where}: posters: must be a list of entries, got {_type_name(posters)}"]
        good = {i: (photo, entry) for i, photo, entry in self._entries()}
        for i, entry in enumerate(posters):
            if i in good:
                self._entry_view(entry, good[i][0], problems)
            elif not isinstance(entry, dict):
                problems.append(f"{where}: posters entry {i + 1}: must be a mapping with photo:, caption:, "
                                f"…; got {_type_name(entry)}")
            else:
                problems.append(f"{where}: posters entry {i + 1}: photo: missing or not a file path")
        return problems + self._duplicates()

    def sha256_of(self, photo: str) -> str | None:
        photo = _norm_photo(photo)
        for _, p, entry in self._entries():
            measured = entry.get("measured")
            if p == photo and isinstance(measured, dict) and isinstance(measured.get("sha256"), str):
                return measured["sha256"] or None
        return None

    def photo_hashes(self) -> set[str]:
        """Content hashes of the photos the draft still refers to (entries whose photo is gone excluded)."""
        hashes = set()
        for _, _, entry in self._entries():
            measured = entry.get("measured")
            if isinstance(measured, dict) and measured.get("status") != "missing":
                sha = measured.get("sha256")
                if isinstance(sha, str) and sha:
                    hashes.add(sha)
        return hashes


# ---------------------------------------------------------------- entries


def _pair_renames(gone: list[str], new: list[str], by_photo: dict[str, list[CommentedMap]],
                  latest: dict[str, PhotoResult]) -> dict[str, str]:
    """old photo -> new photo, for vanished photos whose sha256 a new photo of this run has.

    Vanished photos are taken in draft order, new ones in file-name order, so two
    copies of one file renamed at once pair up the same way on every run.
    """
    waiting: dict[str, list[str]] = {}
    for photo in new:
        if latest[photo].sha256:
            waiting.setdefault(latest[photo].sha256, []).append(photo)
    pairs: dict[str, str] = {}
    for old in gone:
        shas = {e["measured"].get("sha256") for e in by_photo[old] if isinstance(e.get("measured"), dict)}
        for sha in sorted(s for s in shas if isinstance(s, str) and s):
            if waiting.get(sha):
                pairs[old] = waiting[sha].pop(0)
                break
    return pairs


def _new_entry(result: PhotoResult) -> CommentedMap:
    entry = CommentedMap()
    entry["photo"] = _path_scalar(_norm_photo(result.photo))
    title = result.title.text if result.title and not result.error else ""
    entry["title"] = DoubleQuotedScalarString(title)
    entry["caption"] = DoubleQuotedScalarString(caption_from_title(title))
    entry["comment"] = DoubleQuotedScalarString("")
    entry["link"] = DoubleQuotedScalarString("")
    entry["corners"] = None  # _refresh fills it: None counts as unedited
    entry["skip"] = False
    entry["measured"] = CommentedMap()
    return entry


def flag_reasons(det: Any, title: Any) -> list[str]:
    """Why an entry with this detection and title needs the user's eye (empty: it does not)."""
    reasons = []
    if det is None or not det.found:
        reasons.append("no poster outline found, whole photo used; check corners")
    elif det.confidence < FLAG_BELOW:
        reasons.append(f"poster outline uncertain (confidence {det.confidence:.2f}); check corners")
    if title is None or not title.text.strip():
        reasons.append("no title read; write the caption yourself")
    elif title.confidence < FLAG_BELOW:
        reasons.append(f"title uncertain (confidence {title.confidence:.2f}); check the caption")
    return reasons


def _refresh(entry: CommentedMap, result: PhotoResult) -> tuple[str, str]:
    """Apply one result to one entry; returns (status, message)."""
    measured = entry.get("measured")
    if not isinstance(measured, dict):
        measured = CommentedMap()
        entry["measured"] = measured
    renamed = measured.get("renamed_from")
    prefix = [f"renamed from {renamed}"] if isinstance(renamed, str) and renamed else []
    if result.error:
        # Keep what an earlier run measured; only say why this run failed.
        message = "; ".join(prefix + [" ".join(result.error.split())])
        if result.sha256:
            _set_in_place(measured, "sha256", DoubleQuotedScalarString(result.sha256))
        _set_in_place(measured, "status", "failed")
        _set_in_place(measured, "message", DoubleQuotedScalarString(message))
        return "failed", message

    old_title = entry.get("title")
    old_title = old_title if isinstance(old_title, str) else ""
    title = result.title.text.strip() if result.title else ""
    caption = entry.get("caption")
    if "caption" in entry and (caption is None or (isinstance(caption, str) and (
            not caption.strip() or caption == old_title or caption == caption_from_title(old_title)))):
        _set_in_place(entry, "caption", DoubleQuotedScalarString(caption_from_title(title)))
    _set_in_place(entry, "title", DoubleQuotedScalarString(title))

    det = result.detection
    if det is not None and _parse_corners(det.corners) is None:  # a degenerate fit (NaN): no outline
        det = None
    new_corners = _corners_yaml(det.corners) if det else None
    if new_corners is None and result.size[0] > 0:  # no detection at all: the whole photo
        w, h = result.size
        new_corners = _corners_yaml([(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)])
    if "corners" in entry and _same_corners(entry.get("corners"), measured.get("corners")):
        if new_corners is None:
            entry["corners"] = None
        else:
            # a separate object from measured.corners, else ruamel writes an &anchor/*alias pair
            _set_in_place(entry, "corners", _corners_yaml(_parse_corners(new_corners) or ()))

    # link follows what was found while the user has not edited it (empty, or the last measured link).
    link = entry.get("link")
    unedited = link is None or (isinstance(link, str) and (not link.strip() or link == measured.get("link")))
    if "link" in entry and unedited and (link or "") != result.link:
        _set_in_place(entry, "link", DoubleQuotedScalarString(result.link))

    reasons = flag_reasons(det, result.title)
    status = "flagged" if reasons else "ok"
    message = "; ".join(prefix + reasons + [" ".join(n.split()) for n in result.notes])
    values: dict[str, Any] = {
        "corners": new_corners,
        "found": bool(det and det.found),
        "confidence": round(float(det.confidence), 3) if det else 0.0,
        "method": DoubleQuotedScalarString(det.method if det else ""),
        "title_confidence": round(float(result.title.confidence), 3) if result.title else 0.0,
        "title_alternatives": _flow(DoubleQuotedScalarString(a) for a in result.title.alternatives)
        if result.title else _flow([]),
        "size": _flow([int(result.size[0]), int(result.size[1])]),
        "sha256": DoubleQuotedScalarString(result.sha256),
        "status": status,
        "message": DoubleQuotedScalarString(message),
    }
    values["link"] = DoubleQuotedScalarString(result.link)
    # Always written, one line each, and updated in place: a YAML comment the user put
    # beside them survives a run that finds nothing (removing a key would drop it).
    values["links"] = _flow(DoubleQuotedScalarString(u) for u in result.links)
    values["paper"] = _paper_yaml(result.paper) if result.paper else _flow_map()
    values["paper_candidates"] = _flow(_paper_yaml(p, brief=True) for p in result.paper_candidates)
    for key, value in values.items():
        _set_in_place(measured, key, value)
    return status, message


def _flow_map() -> CommentedMap:
    out = CommentedMap()
    out.fa.set_flow_style()
    return out


def _paper_authors(paper: Any) -> str:
    """The matched paper's authors as one line ("" when there is no match or it is malformed)."""
    authors = paper.get("authors") if isinstance(paper, dict) else None
    if not isinstance(authors, list):
        return ""
    return ", ".join(" ".join(a.split()) for a in authors if isinstance(a, str) and a.strip())


def _paper_yaml(paper: PaperMatch, *, brief: bool = False) -> CommentedMap:
    """measured.paper {title, authors, link, score}, or a candidate {title, score}; one line each."""
    out = _flow_map()
    out["title"] = DoubleQuotedScalarString(paper.title)
    if not brief:
        out["authors"] = _flow(DoubleQuotedScalarString(a) for a in paper.authors)
        out["link"] = DoubleQuotedScalarString(paper.link)
    out["score"] = paper.score
    return out


# ---------------------------------------------------------------- files


def _parse(text: str, path: Path, *, bom: bool = False) -> Draft:
    data = yamlio.parse(text, path)
    if data is None:  # empty, or only comments: a new draft below whatever the user wrote
        draft = Draft.new(path)
        if text.strip():
            base = yamlio.dump(draft.data, draft.indent)
            draft._source = yamlio.Source(text.rstrip("\r\n") + "\n" + base, base)
        return draft
    if not isinstance(data, CommentedMap):
        raise DraftError(f"{path}: the draft must be a mapping with page: and posters:, got {_type_name(data)}; "
                         "fix the YAML or delete the file to start over (the draft was not changed)")
    indent = yamlio.guess_indent(text, data)
    return Draft(data, path=path, indent=indent, source=yamlio.Source(text, yamlio.dump(data, indent)), bom=bom)


def load_draft(path: Path) -> Draft:
    """Load an existing draft; DraftError with a one-line message if it is missing or broken."""
    text, bom = yamlio.read_text(path)
    draft = _parse(text, path, bom=bom)
    draft._disk = yamlio.encode(text, bom)
    return draft


def load_or_new_draft(path: Path) -> Draft:
    """Load *path*, or start a new draft if it does not exist yet.

    For extract: also raises DraftError if the draft could not take a merge
    (``posters:`` is not a list), before any photo is read.
    """
    if not path.exists() and not path.is_symlink():
        draft = Draft.new(path)
        draft._disk = None
        return draft
    draft = load_draft(path)
    draft.check_mergeable()
    return draft


def save_draft(draft: Draft, path: Path) -> None:
    """Write the draft atomically, the user's bytes kept where nothing changed.

    OutputError if the file cannot be written; DraftError if the file changed on disk
    since this draft was loaded from it (edited while extract ran), or if the tree
    cannot be written so that it reads back the same. The file is then left as it is.
    """
    expected = draft._disk if path == draft.path else _UNKNOWN
    draft._source, draft._disk = yamlio.save(path, draft.data, draft.indent, draft._source, bom=draft._bom,
                                             expected=None if expected is _UNKNOWN else expected,
                                             check=expected is not _UNKNOWN)
    draft.path = path

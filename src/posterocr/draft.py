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
  when an entry is created and afterwards only while *unedited*:

  - ``caption`` is unedited iff it is empty or equals the previous ``title``
    (raw or whitespace-normalised); only then it follows the new title.
  - ``corners`` is unedited iff it equals ``measured.corners`` numerically
    (or both are absent); only then it follows the new detection.
  - ``link`` is unedited iff empty or equal to ``measured.link``.
  - ``comment`` and ``skip`` are never written after creation.
  - ``page.subtitle`` follows the poster count while it still has the
    prefilled form "Notes on N posters".
* Existing entries keep the user's order; new photos are appended in file-name
  order. An entry whose photo vanished keeps everything and gets
  ``measured.status: missing``; a photo that failed keeps its previous
  measurements and gets ``status: failed``.
* Saving is atomic (temp file in the same folder, fsync, ``os.replace``).
* YAML syntax errors raise :class:`DraftError`; wrong value types are collected
  as one-line problems (:meth:`Draft.problems`) and fall back to defaults.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .exceptions import DraftError, OutputError
from .records import Corners, PhotoResult

HEADER = ("posterocr draft — edit caption, comment, link, skip, corners; "
          "re-running `posterocr extract` keeps your edits.")
DEFAULT_TITLE = "Poster notes"
# Below this detection/title confidence an entry is "flagged" for the user to check.
FLAG_BELOW = 0.5
_AUTO_SUBTITLE = re.compile(r"Notes on (?:no|\d+) posters?")
_STATUSES = ("ok", "flagged", "failed", "missing")


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
    messages: tuple[str, ...] = ()  # "photo: why" for every flagged, failed or missing entry


def auto_subtitle(count: int) -> str:
    """The prefilled subtitle; while the page's subtitle has this form it follows the count."""
    return f"Notes on {count or 'no'} poster{'' if count == 1 else 's'}"


def is_auto_subtitle(text: object) -> bool:
    return isinstance(text, str) and _AUTO_SUBTITLE.fullmatch(text.strip()) is not None


def caption_from_title(title: str) -> str:
    """The caption prefilled from an OCR title: the title with whitespace collapsed."""
    return " ".join(str(title).split())


# ---------------------------------------------------------------- YAML I/O


def _yaml(indent: tuple[int, int, int] = (2, 4, 2)) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True  # keep the user's quoting byte-for-byte
    yaml.width = 4096  # never fold long titles or comments
    yaml.allow_unicode = True
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as the file uses them, so a save does not re-indent it."""
    mapping, sequence, offset = 2, 4, 2
    parent: int | None = None
    found_map = found_seq = False
    for line in text.splitlines():
        body = line.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        lead = len(line) - len(body)
        if body.startswith("- ") and parent is not None and not found_seq:
            after = len(body) - len(body[1:].lstrip(" ")) - 1  # spaces after the dash
            offset = lead - parent
            sequence = offset + 1 + after
            found_seq = True
        elif parent is not None and lead > parent and not found_map and not body.startswith("-"):
            mapping = lead - parent
            found_map = True
        parent = lead if body.rstrip().endswith(":") and not body.startswith("- ") else None
        if found_map and found_seq:
            break
    if sequence < offset + 2 or mapping < 1:  # ruamel cannot write what we mis-guessed
        return 2, 4, 2
    return mapping, sequence, offset


def write_atomic(path: Path, data: bytes) -> None:
    """Replace *path* with *data* so readers see the old or the new file, never half of one.

    Raises OSError; callers turn it into a user message. Keeps an existing file's mode.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # what open() would have given a new file
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    try:  # persist the rename itself; some filesystems refuse, the data is safe either way
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _flow(items: Iterable[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _corners_yaml(corners: Iterable[Iterable[float]]) -> CommentedSeq:
    return _flow(_flow([int(round(x)), int(round(y))]) for x, y in corners)


def _set_in_place(parent: Any, key: Any, value: Any) -> None:
    """parent[key] = value, but update an existing sequence element-wise.

    Replacing a container would drop the comments ruamel attached to it (a
    comment line under an entry is stored on its last value), so nested lists
    of the same shape are updated in place.
    """
    has = key in parent if isinstance(parent, dict) else 0 <= key < len(parent)
    old = parent[key] if has else None
    if isinstance(old, CommentedSeq) and isinstance(value, list):
        if len(old) == len(value):
            for i, item in enumerate(value):
                _set_in_place(old, i, item)
        else:
            old[:] = value
        return
    if isinstance(parent, CommentedMap) and isinstance(old, str) and isinstance(value, str) and old == value:
        return  # keep the scalar object, and with it the user's quoting
    parent[key] = value


# ---------------------------------------------------------------- value checks


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
    return posixpath.normpath(photo.replace("\\", "/"))


def _type_name(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value) if isinstance(value, (str, bool)) else type(value).__name__


# ---------------------------------------------------------------- the draft


class Draft:
    """A loaded (or new) draft. ``data`` is the live ruamel tree; mutate it in place only."""

    def __init__(self, data: CommentedMap, *, path: Path | None = None,
                 indent: tuple[int, int, int] = (2, 4, 2)) -> None:
        self.data = data
        self.path = path
        self.indent = indent

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
        stream = io.StringIO()
        _yaml(self.indent).dump(self.data, stream)
        return stream.getvalue()

    # -- structure

    def _posters_seq(self) -> CommentedSeq:
        """The posters list, created if absent; DraftError if the user made it something else."""
        posters = self.data.get("posters")
        if posters is None:
            posters = CommentedSeq()
            self.data["posters"] = posters
        if not isinstance(posters, list):
            raise DraftError(f"{self.path or 'draft'}: posters: must be a list of entries, got "
                             f"{_type_name(posters)}; fix the YAML (the draft was not changed)")
        if posters.fa.flow_style():  # "posters: []" would otherwise stay flow style when filled
            posters.fa.set_block_style()
        return posters

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
        """Fold extract results into the draft (see the module docstring for the rules)."""
        posters = self._posters_seq()
        by_photo: dict[str, list[CommentedMap]] = {}
        for _, photo, entry in self._entries():
            by_photo.setdefault(photo, []).append(entry)  # an entry copied by the user is refreshed too
        counts = dict(added=0, updated=0, missing=0, failed=0, flagged=0)
        messages: list[str] = []
        latest = {_norm_photo(r.photo): r for r in results}  # a photo listed twice: the last result wins
        new = sorted((p for p in latest if p not in by_photo), key=lambda p: (posixpath.basename(p), p))
        for photo in new:  # appended in file-name order, after the user's own order
            by_photo[photo] = [_new_entry(latest[photo])]
            posters.append(by_photo[photo][0])
        for photo, result in latest.items():
            for entry in by_photo[photo]:
                status, message = _refresh(entry, result)
            counts["added" if photo in new else "updated" if status != "failed" else "failed"] += 1
            counts["failed"] += photo in new and status == "failed"
            counts["flagged"] += status == "flagged"
            if status != "ok":
                messages.append(f"{photo}: {message}")
        for photo, entries in by_photo.items():
            if photo in latest or (draft_dir / photo).exists():
                continue
            message = f"photo not found at {photo}; put it back, or delete this entry (or set skip: true)"
            for entry in entries:
                if not isinstance(entry.get("measured"), dict):
                    entry["measured"] = CommentedMap()
                entry["measured"]["status"] = "missing"
                entry["measured"]["message"] = DoubleQuotedScalarString(message)
            counts["missing"] += 1
            messages.append(f"{photo}: {message}")
        self._refresh_subtitle()
        return MergeReport(**counts, messages=tuple(messages))

    def _refresh_subtitle(self) -> None:
        page = self.data.get("page")
        if not isinstance(page, dict):
            return
        if is_auto_subtitle(page.get("subtitle")):
            page["subtitle"] = auto_subtitle(sum(1 for p in self.posters() if not p.skip))

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
        for key in ("title", "caption", "comment", "link"):
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
        return PosterEntry(photo=photo, title=fields["title"], caption=fields["caption"],
                           comment=fields["comment"], link=fields["link"].strip(), corners=corners,
                           skip=skip, status=status, message=message, authors="", size=size)

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
        return problems

    validate = problems

    def sha256_of(self, photo: str) -> str | None:
        photo = _norm_photo(photo)
        for _, p, entry in self._entries():
            measured = entry.get("measured")
            if p == photo and isinstance(measured, dict) and isinstance(measured.get("sha256"), str):
                return measured["sha256"] or None
        return None


# ---------------------------------------------------------------- entries


def _new_entry(result: PhotoResult) -> CommentedMap:
    entry = CommentedMap()
    entry["photo"] = _norm_photo(result.photo)
    title = result.title.text if result.title and not result.error else ""
    entry["title"] = DoubleQuotedScalarString(title)
    entry["caption"] = DoubleQuotedScalarString(caption_from_title(title))
    entry["comment"] = DoubleQuotedScalarString("")
    entry["link"] = DoubleQuotedScalarString("")
    entry["corners"] = None  # _refresh fills it: None counts as unedited
    entry["skip"] = False
    entry["measured"] = CommentedMap()
    return entry


def _flag_reasons(result: PhotoResult) -> list[str]:
    reasons = []
    det, title = result.detection, result.title
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
    if result.error:
        # Keep what an earlier run measured; only say why this run failed.
        message = " ".join(result.error.split())
        if result.sha256:
            measured["sha256"] = result.sha256
        measured["status"] = "failed"
        measured["message"] = DoubleQuotedScalarString(message)
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

    new_link = str(getattr(result, "link", "") or "")  # no stage fills a link yet
    if new_link:
        link = entry.get("link")
        if link is None or (isinstance(link, str) and (not link.strip() or link == measured.get("link"))):
            _set_in_place(entry, "link", new_link)

    reasons = _flag_reasons(result)
    status = "flagged" if reasons else "ok"
    message = "; ".join(reasons + [" ".join(n.split()) for n in result.notes])
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
    if new_link:
        values["link"] = new_link
    for key, value in values.items():
        _set_in_place(measured, key, value)
    return status, message


# ---------------------------------------------------------------- files


def _parse(text: str, path: Path) -> Draft:
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if mark is None:
            raise DraftError(f"{path}: {problem}; fix the YAML (the draft was not changed)") from None
        raise DraftError(f"{path}:{mark.line + 1}:{mark.column + 1}: {problem}; "
                         "fix the YAML (the draft was not changed)") from None
    except YAMLError as exc:
        raise DraftError(f"{path}: {' '.join(str(exc).split())}; fix the YAML (the draft was not changed)") from None
    if data is None:  # an empty file: start over, keeping nothing to lose
        return Draft.new(path)
    if not isinstance(data, CommentedMap):
        raise DraftError(f"{path}: the draft must be a mapping with page: and posters:, got {_type_name(data)}; "
                         "fix the YAML or delete the file to start over (the draft was not changed)")
    return Draft(data, path=path, indent=_guess_indent(text))


def load_draft(path: Path) -> Draft:
    """Load an existing draft; DraftError with a one-line message if it is missing or broken."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DraftError(f"{path}: no such draft; run `posterocr extract` first") from None
    except IsADirectoryError:
        raise DraftError(f"{path}: is a folder, not a draft; pass the posters.yaml file") from None
    except OSError as exc:
        raise DraftError(f"{path}: cannot read the draft ({exc.strerror or exc}); check its permissions") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DraftError(f"{path}:{line}: not UTF-8 text; save the draft as UTF-8 "
                         "(the draft was not changed)") from None
    return _parse(text, path)


def load_or_new_draft(path: Path) -> Draft:
    """Load *path*, or start a new draft if it does not exist yet."""
    if not path.exists() and not path.is_symlink():
        return Draft.new(path)
    return load_draft(path)


def save_draft(draft: Draft, path: Path) -> None:
    """Write the draft atomically; OutputError (old file intact) if that is impossible."""
    text = draft.dump()
    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the draft ({exc.strerror or exc}); "
                          "free space or make the folder writable (the old draft is intact)") from None
    draft.path = path

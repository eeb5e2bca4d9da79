"""YAML I/O for the draft: parse with line numbers, write back the user's own bytes, save atomically.

ruamel.yaml's round trip keeps values, comments and quoting, but not every byte:
it re-indents, re-flows long plain scalars, normalises spacing in flow lists and
after colons, and moves comment columns. So a save does not simply write ruamel's
dump. It takes the text as loaded (*source*), ruamel's dump of the tree as loaded
(*base*) and ruamel's dump of the tree now (*new*), and applies only the base ->
new line changes to the source (a three-way merge, like ``diff3``): lines nobody
changed stay byte-for-byte as the user typed them. Where the user's reformatting
and a posterocr change touch the same lines, posterocr's layout wins for those
lines. The merged text is accepted only if it reads back to exactly the tree being
saved; otherwise the plain dump is written. An untouched draft is written back
byte-identical.
"""

from __future__ import annotations

import bisect
import datetime
import io
import math
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from difflib import SequenceMatcher
from collections import Counter
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .exceptions import DraftError, OutputError, PosterocrError

NOT_CHANGED = "fix the YAML (the draft was not changed)"


def make_yaml(indent: tuple[int, int, int] = (2, 4, 2)) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True  # keep the user's quoting byte-for-byte
    # Never fold a line: no long title splits over lines, and no double-quoted string
    # folds right after an escape (ruamel then reads back an extra space).
    yaml.width = 1 << 30
    yaml.allow_unicode = True
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _text_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) from the first nested lines of the text (no tree at hand)."""
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
    return mapping, sequence, offset


def _block_children(parent: CommentedMap) -> Iterator[tuple[int, Any]]:
    """(column of the key, value) for the block collections in a mapping, in file order."""
    for key, value in parent.items():
        if isinstance(value, (CommentedMap, CommentedSeq)) and value and not value.fa.flow_style():
            try:
                yield parent.lc.key(key)[1], value
            except (KeyError, TypeError, AttributeError):  # no position: built in memory
                continue


def guess_indent(text: str, data: Any = None) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as the file uses them, so new entries look like the old ones.

    Measured on the loaded tree where possible - the posters list first, as
    that is where extract appends - else guessed from the text.
    """
    mapping, sequence, offset = _text_indent(text)
    if isinstance(data, CommentedMap):
        lines = text.split("\n")
        seqs = [(col, v) for col, v in _block_children(data) if isinstance(v, CommentedSeq)]
        seqs.sort(key=lambda cv: cv[1] is not data.get("posters"))
        for col, seq in seqs:
            try:
                line, item = seq.lc.item(0)
            except (KeyError, TypeError, AttributeError):
                continue
            before = lines[line][:item].rstrip() if line < len(lines) else ""
            if before.endswith("-") and before.strip() == "-":
                offset, sequence = len(before) - 1 - col, item - col
                break
        maps = [(col, v) for col, v in _block_children(data) if isinstance(v, CommentedMap)]
        posters = data.get("posters")
        if isinstance(posters, CommentedSeq):  # an entry's measured: mapping is nested there
            maps = [(col, v) for e in posters if isinstance(e, CommentedMap) and not e.fa.flow_style()
                    for col, v in _block_children(e) if isinstance(v, CommentedMap)][:1] + maps
        for col, mapping_value in maps:
            try:
                first = next(iter(mapping_value))
                mapping = mapping_value.lc.key(first)[1] - col
                break
            except (StopIteration, KeyError, TypeError, AttributeError):
                continue
    if sequence < offset + 2 or mapping < 1 or offset < 0:  # ruamel cannot write what we mis-guessed
        return 2, 4, 2
    return mapping, sequence, offset


def dump(data: Any, indent: tuple[int, int, int]) -> str:
    stream = io.StringIO()
    make_yaml(indent).dump(data, stream)
    return stream.getvalue()


def parse(text: str, path: Path | str) -> Any:
    """The round-trip tree of *text*; DraftError "path:line:column: problem; fix ..." if it is not YAML."""
    try:
        return make_yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if mark is None:
            raise DraftError(f"{path}: {problem}; {NOT_CHANGED}") from None
        raise DraftError(f"{path}:{mark.line + 1}:{mark.column + 1}: {problem}; {NOT_CHANGED}") from None
    except YAMLError as exc:
        raise DraftError(f"{path}: {' '.join(str(exc).split())}; {NOT_CHANGED}") from None
    except RecursionError:  # e.g. thousands of nested "[" - ruamel's parser recurses per level
        raise DraftError(f"{path}: nested too deeply to read; {NOT_CHANGED}") from None


def read_text(path: Path, *, what: str = "draft", missing: str = "run `posterocr extract` first",
              unchanged: str = " (the draft was not changed)",
              error: type[PosterocrError] = DraftError) -> tuple[str, bool]:
    """(text, had a byte-order mark) of a file the user gave; *error* naming the file and the fix if it is unusable.

    The one reader of users' text files (the draft, paper lists). *what* names the file in the messages,
    *missing* says what to do when it does not exist, and *unchanged* reassures the user, for a file posterocr
    writes, that a bad encoding did not cost them the file. The defaults are the draft's.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what}; {missing}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what}; give the {what} file itself") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc}); check its permissions") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Line and byte let the user find it: 0xe9, 0xfc etc. are Latin-1 / Windows-1252 accents.
        line = raw[: exc.start].count(b"\n") + 1
        raise error(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                    f"re-save the {what} as UTF-8{unchanged}") from None
    return text, raw.startswith(b"\xef\xbb\xbf")


def plain(value: Any, _seen: frozenset[int] = frozenset()) -> Any:
    """A comparable copy of a loaded tree: builtin types only, NaN made equal to itself."""
    if id(value) in _seen:  # an alias that contains itself
        return ("<recursive>",)
    if isinstance(value, dict):
        seen = _seen | {id(value)}
        return ("map", tuple((plain(k, seen), plain(v, seen)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        seen = _seen | {id(value)}
        return ("seq", tuple(plain(v, seen) for v in value))
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date):
        return ("date", value.isoformat())
    if isinstance(value, AbstractSet):
        return ("set", tuple(sorted(repr(plain(v, _seen)) for v in value)))
    if hasattr(value, "tag") and hasattr(value, "value"):  # a !tagged scalar
        return ("tagged", str(getattr(value.tag, "value", value.tag)), plain(value.value, _seen))
    return (type(value).__name__, str(value))


def reads_as(text: str, data: Any) -> bool:
    """Whether *text* loads to the same values as *data* (comments and styles aside).

    The safe loader is the quick check; the round-trip loader settles what it
    reads differently or refuses (unknown !tags, !!omap).
    """
    expected = plain(data)
    for typ in ("safe", "rt"):
        try:
            if plain(YAML(typ=typ).load(text)) == expected:
                return True
        except (YAMLError, RecursionError, ValueError, TypeError):
            pass
    return False


# ---------------------------------------------------------------- editing the tree


def flow(items: Iterable[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def set_in_place(parent: Any, key: Any, value: Any) -> None:
    """parent[key] = value, but update an existing sequence or mapping element-wise.

    Replacing a container would drop the comments ruamel attached to it (a
    comment line under an entry is stored on its last value), so nested lists
    of the same shape are updated in place.
    """
    has = key in parent if isinstance(parent, dict) else 0 <= key < len(parent)
    old = parent[key] if has else None
    if isinstance(old, CommentedSeq) and isinstance(value, list):
        if len(old) == len(value):
            for i, item in enumerate(value):
                set_in_place(old, i, item)
        else:
            old[:] = value
        return
    if isinstance(old, CommentedMap) and isinstance(value, dict):  # the same for a mapping, keeping its style
        for gone in [k for k in old if k not in value]:
            del old[gone]
        for k, item in value.items():
            set_in_place(old, k, item)
        return
    if isinstance(parent, CommentedMap) and isinstance(old, str) and isinstance(value, str) and old == value:
        return  # keep the scalar object, and with it the user's quoting
    parent[key] = value


# ---------------------------------------------------------------- keeping the user's bytes


@dataclass(frozen=True)
class Source:
    """The file as loaded: its text and ruamel's dump of it, for :func:`render`."""

    text: str
    base: str


def _split(text: str) -> tuple[list[str], str, bool]:
    """(lines without line ends, the line end the file uses, ends with a line end)."""
    eol = "\r\n" if "\r\n" in text else "\n"
    lines = text.split("\n")
    final = lines[-1] == ""
    if final:
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines], eol, final


def _lis(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of (i, j) pairs increasing in j, for pairs sorted by i (patience sorting)."""
    tail_j: list[int] = []  # tail_j[k]: the smallest j that ends a run of length k + 1
    tails: list[int] = []  # ... and the index in pairs of that pair
    back: list[int] = []
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tail_j, j)
        back.append(tails[k - 1] if k else -1)
        if k == len(tails):
            tails.append(n)
            tail_j.append(j)
        else:
            tails[k], tail_j[k] = n, j
    run: list[tuple[int, int]] = []
    n = tails[-1] if tails else -1
    while n >= 0:
        run.append(pairs[n])
        n = back[n]
    return run[::-1]


def _matches(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Equal lines of *a* and *b* as (i, j) pairs, increasing: a patience diff.

    Lines unique in both (photo paths, sha256s, titles) anchor the match; the short
    stretches between anchors go to difflib. difflib alone is quadratic on a draft
    whose entries repeat the same lines ("skip: false") hundreds of times.
    """
    out: list[tuple[int, int]] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            out.append((alo, blo))
            alo, blo = alo + 1, blo + 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
            out.append((ahi, bhi))
        if alo == ahi or blo == bhi:
            continue
        count_a = Counter(a[alo:ahi])
        count_b = Counter(b[blo:bhi])
        where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
        pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and a[i] in where_b]
        anchors = _lis(pairs)
        if not anchors:
            matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            out.extend((alo + i + k, blo + j + k) for i, j, size in matcher.get_matching_blocks() for k in range(size))
            continue
        prev_i, prev_j = alo, blo
        for i, j in anchors:
            out.append((i, j))
            stack.append((prev_i, i, prev_j, j))
            prev_i, prev_j = i + 1, j + 1
        stack.append((prev_i, ahi, prev_j, bhi))
    return sorted(out)


def _hunks(base: list[str], other: list[str], side: int) -> list[tuple[int, int, list[str], int]]:
    """Changes base -> other as (first base line, end base line, replacement lines, side).

    A run of lines replaced one for one is split into one hunk per line, so the user
    re-spacing ``skip:`` does not conflict with posterocr refreshing ``corners:`` above it.
    """
    hunks = []
    i = j = 0
    for mi, mj in _matches(base, other) + [(len(base), len(other))]:
        if mi - i == mj - j > 1:
            hunks.extend((i + k, i + k + 1, [other[j + k]], side) for k in range(mi - i))
        elif mi > i or mj > j:
            hunks.append((i, mi, other[j:mj], side))
        i, j = mi + 1, mj + 1
    return hunks


def merge_lines(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """*ours* with the base -> *theirs* changes applied; where both changed the same lines, theirs."""
    hunks = sorted(_hunks(base, ours, 0) + _hunks(base, theirs, 1), key=lambda h: (h[0], h[1], h[3]))
    out: list[str] = []
    done = 0  # base lines before this index are emitted
    k = 0
    while k < len(hunks):
        lo, hi = hunks[k][0], hunks[k][1]
        group = [hunks[k]]
        k += 1
        # Hunks conflict when their base ranges overlap, or one inserts inside the other's range.
        # Lines inserted at one point by both sides are not a conflict: the user's come first.
        while k < len(hunks) and hunks[k][0] < hi:
            group.append(hunks[k])
            hi = max(hi, hunks[k][1])
            k += 1
        sides = {h[3] for h in group}
        keep = sides.pop() if len(sides) == 1 else 1  # a conflict: posterocr's lines win
        out.extend(base[done:lo])
        at = lo
        for i1, i2, lines, side in group:
            if side == keep:
                out.extend(base[at:i1])
                out.extend(lines)
                at = i2
        out.extend(base[at:hi])
        done = hi
    out.extend(base[done:])
    return out


def render(data: Any, indent: tuple[int, int, int], source: Source | None) -> tuple[str, str]:
    """(text to save for *data*, ruamel's dump of *data*): the text is the user's bytes where
    unchanged and always reads back as *data*; the dump is the base for the next save.

    Raises DraftError if even ruamel's own dump does not read back as *data* (a
    ruamel limitation with some comment placements): better no save than a draft
    that silently differs from what was merged.
    """
    new = dump(data, indent)
    if source is not None:
        if new == source.base:
            return source.text, new
        if source.text != source.base:
            ours, eol, final = _split(source.text)
            base, _, _ = _split(source.base)
            theirs, _, _ = _split(new)
            merged = eol.join(merge_lines(base, ours, theirs)) + (eol if final or not ours else "")
            if reads_as(merged, data):
                return merged, new
            # else the user's layout and posterocr's changes do not mix there: write ruamel's dump
    if not reads_as(new, data):
        raise DraftError("cannot write the draft so that it reads back the same (a YAML comment next to a "
                         "value posterocr replaced?); the old draft is intact - move that comment and run again")
    return new, new


def encode(text: str, bom: bool) -> bytes:
    return ("\ufeff" + text if bom else text).encode("utf-8")


def save(path: Path, data: Any, indent: tuple[int, int, int], source: Source | None, *, bom: bool,
         expected: bytes | None, check: bool) -> tuple[Source, bytes]:
    """Write *data* to *path* (see :func:`render`); returns the new (source, file bytes).

    With *check*, first make sure the file still holds *expected* (None: no file): a
    draft edited while extract ran is not replaced by the tree loaded before the edit.
    """
    if check:
        try:
            on_disk: bytes | None = path.read_bytes()
        except FileNotFoundError:
            on_disk = None
        except OSError:
            on_disk = expected  # unreadable now: the write below says why
        if on_disk != expected:
            raise DraftError(f"{path}: changed on disk since it was loaded (edited during the run?); "
                             "it was not overwritten - run the command again")
    try:
        text, base = render(data, indent, source)
    except DraftError as exc:
        raise DraftError(f"{path}: {exc}") from None
    raw = encode(text, bom)
    try:
        write_atomic(path, raw)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the draft ({exc.strerror or exc}); "
                          "free space or make the folder writable (the old draft is intact)") from None
    return Source(text, base), raw


# ---------------------------------------------------------------- atomic write

_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or not a pid: leave its file alone
    return True


def _sweep_stale_temps(path: Path) -> None:
    """Remove temp files that a killed writer (kill -9 between write and rename) left beside *path*."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        match = _TEMP.fullmatch(name)
        if match and match["name"] == path.name and not _alive(int(match["pid"])):
            try:
                os.unlink(path.parent / name)
            except OSError:
                pass


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace *path* with *data* so readers see the old or the new file, never half of one.

    Raises OSError; callers turn it into a user message. Keeps an existing file's mode.
    The temp file's name holds this process's id, so a later write can tell an
    abandoned temp file (its writer is dead) from one being written right now.
    ``durable=False`` skips the fsyncs, for files that are cheap to make again
    (cache entries, previews): they still never appear half-written.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # what open() would have given a new file
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
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
    if not durable:
        return
    try:  # persist the rename itself; some filesystems refuse, the data is safe either way
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    _sweep_stale_temps(path)

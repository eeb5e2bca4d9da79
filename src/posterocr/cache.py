"""Results cache: a re-run of ``extract`` on unchanged photos does no work.

One small JSON file per photo under ``.posterocr-cache/`` beside the draft,
keyed by the photo's content hash and a fingerprint of everything that
changes what extract measures (posterocr's version, the source of the
measuring stages, the settings that matter). Only successful results are
stored, so a photo that failed is retried on the next run. A cache that is
corrupt, unreadable or read-only is ignored, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__
from .records import Detection, PaperMatch, PhotoResult, TitleReading
from .yamlio import write_atomic

CACHE_DIR_NAME = ".posterocr-cache"
# The modules whose code decides what extract measures: any change to them
# (a better detector, a new OCR clean-up) invalidates cached results.
_MEASURING_MODULES = ("load.py", "detect.py", "detect_sampling.py", "detect_score.py", "geometry.py", "ocr.py",
                      "layout.py", "titletext.py", "_tesseract.py", "links.py", "match.py", "papers.py", "pipeline.py")


def source_fingerprint(salt: str, modules: Iterable[str]) -> str:
    """A short hash of *salt* and the source of posterocr's *modules*: it changes when their code does."""
    digest = hashlib.sha256(salt.encode())
    package = Path(__file__).parent
    for name in modules:
        path = package / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    return source_fingerprint(__version__, _MEASURING_MODULES)


def result_to_json(result: PhotoResult) -> dict[str, Any]:
    data = asdict(result)
    del data["previews"]  # stored as files beside the cache (review.py, crops.py), not as JSON
    del data["crop"]
    return data


def result_from_json(data: dict[str, Any]) -> PhotoResult:
    detection = data.get("detection")
    title = data.get("title")
    return PhotoResult(
        photo=str(data["photo"]),
        sha256=str(data["sha256"]),
        size=(int(data["size"][0]), int(data["size"][1])),
        detection=None if detection is None else Detection(
            corners=tuple((float(x), float(y)) for x, y in detection["corners"]),  # type: ignore[arg-type]
            confidence=float(detection["confidence"]),
            found=bool(detection["found"]),
            method=str(detection.get("method", "")),
        ),
        title=None if title is None else TitleReading(
            text=str(title["text"]),
            confidence=float(title["confidence"]),
            alternatives=tuple(str(a) for a in title.get("alternatives", ())),
        ),
        error=None,
        seconds=float(data.get("seconds", 0.0)),
        notes=tuple(str(n) for n in data.get("notes", ())),
        paper=None if data.get("paper") is None else _paper_from_json(data["paper"]),
        paper_candidates=tuple(_paper_from_json(p) for p in data.get("paper_candidates", ())),
        link=str(data.get("link", "")),
        links=tuple(str(u) for u in data.get("links", ())),
    )


def _paper_from_json(data: dict[str, Any]) -> PaperMatch:
    return PaperMatch(title=str(data["title"]), authors=tuple(str(a) for a in data["authors"]),
                      link=str(data["link"]), score=float(data["score"]))


class ResultCache:
    def __init__(self, root: Path, settings_key: str = "") -> None:
        self.root = root
        self.key_suffix = hashlib.sha256(f"{code_fingerprint()}|{settings_key}".encode()).hexdigest()[:16]

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}-{self.key_suffix}.json"

    def get(self, sha256: str) -> PhotoResult | None:
        """The cached result for this photo content, or None (missing, stale or corrupt)."""
        try:
            data = json.loads(self._path(sha256).read_text(encoding="utf-8"))
            result = result_from_json(data)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        return result if result.sha256 == sha256 else None

    def put(self, result: PhotoResult) -> None:
        if result.error or not result.sha256:
            return
        path = self._path(result.sha256)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(result_to_json(result)).encode("utf-8"), durable=False)
        except OSError:
            pass  # a read-only or full disk only costs the speed-up, never the run


# Every file the caches keep is named after the photo's content hash: results (NN/<sha>-<key>.json),
# crops (crops/NN/<sha>-<fingerprint>.jpg) and review previews (previews/<sha>-photo.jpg).
_HASH_NAMED = re.compile(r"^([0-9a-f]{64})-[^/]*\.(?:json|jpg)$")


def prune(cache_dir: Path, keep: set[str]) -> tuple[int, int]:
    """Delete what the caches hold for photos not in *keep* (content hashes); (files, bytes) freed.

    Called after an extract that listed the whole folder: a photo deleted or
    edited since leaves a crop of ~1 MB and previews behind, and without this a
    folder re-run for a whole conference would only ever grow. Only hash-named
    files are touched (nothing the user put there), and any OSError is skipped:
    the cache is a speed-up, never a reason to fail. A second draft sharing the
    folder loses its cached crops and re-reads its photos once.
    """
    files = freed = 0
    if not cache_dir.is_dir():
        return 0, 0
    for path in cache_dir.rglob("*"):
        match = _HASH_NAMED.match(path.name)
        if match is None or match.group(1) in keep:
            continue
        try:
            size = path.stat().st_size
            path.unlink()
        except OSError:
            continue
        files += 1
        freed += size
    return files, freed

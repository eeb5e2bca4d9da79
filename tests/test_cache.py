"""The caches beside the draft stay bounded: what no photo uses any more is deleted, what the draft uses is kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from posterocr import _tesseract
from posterocr.cache import CACHE_DIR_NAME, prune
from posterocr.pipeline import ExtractSettings, extract


def _cached_hashes(cache_dir: Path) -> dict[str, set[str]]:
    """kind -> content hashes with a file of that kind in the cache."""
    kinds: dict[str, set[str]] = {"result": set(), "crop": set(), "preview": set()}
    for path in cache_dir.rglob("*"):
        if not path.is_file() or len(path.name) < 64:
            continue
        sha = path.name[:64]
        if path.suffix == ".json":
            kinds["result"].add(sha)
        elif "crops" in path.parts:
            kinds["crop"].add(sha)
        elif "previews" in path.parts:
            kinds["preview"].add(sha)
    return kinds


@pytest.fixture()
def two_folders(photos: Path, e2e_samples: list[dict]) -> tuple[Path, Path]:
    """img/ with three generated photos, day2/ with one more; cwd = tmp."""
    day2 = photos.parent / "day2"
    day2.mkdir()
    shutil.copy2(e2e_samples[3]["path"], day2)
    return photos, day2


def test_deleted_and_changed_photos_leave_nothing_behind_and_other_folders_are_kept(
        two_folders: tuple[Path, Path]) -> None:
    img, day2 = two_folders
    draft = Path("posters.yaml")
    cache_dir = Path(CACHE_DIR_NAME)
    settings = ExtractSettings(jobs=1)
    extract(img, draft, settings)
    (cache_dir / "README-mine.txt").write_text("the user's own file")
    day2_report = extract(day2, draft, settings)  # the same draft, photos from another folder
    hashes = {Path(r.photo).name: r.sha256 for r in day2_report.results}

    first = extract(img, draft, settings)  # day2's photo is still in the draft: its caches stay
    hashes.update({Path(r.photo).name: r.sha256 for r in first.results})
    assert len(hashes) == 4
    for kind, held in _cached_hashes(cache_dir).items():
        assert held == set(hashes.values()), kind
    before = _tesseract.calls
    again = extract(day2, draft, settings)
    assert again.cached == 1 and _tesseract.calls == before

    deleted, changed = sorted(img.iterdir())[:2]
    deleted.unlink()
    with changed.open("ab") as f:
        f.write(b"\0" * 16)  # re-saved by some app: new content, new hash
    report = extract(img, draft, settings)
    assert report.cached == 1
    new_hash = next(r.sha256 for r in report.results if Path(r.photo).name == changed.name)
    expected = {hashes[name] for name in hashes if name not in (deleted.name, changed.name)} | {new_hash}
    for kind, held in _cached_hashes(cache_dir).items():
        assert held == expected, kind
    assert (cache_dir / "README-mine.txt").read_text() == "the user's own file"


def test_prune_deletes_only_other_photos_files_and_counts_them(tmp_path: Path) -> None:
    cache_dir = tmp_path / CACHE_DIR_NAME
    keep, drop = "a" * 64, "b" * 64
    files = [cache_dir / "aa" / f"{keep}-0123.json", cache_dir / "bb" / f"{drop}-0123.json",
             cache_dir / "crops" / "bb" / f"{drop}-4567.jpg", cache_dir / "previews" / f"{drop}-photo.jpg"]
    for i, path in enumerate(files):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (10 + i))
    assert prune(cache_dir, {keep}) == (3, 11 + 12 + 13)
    assert [p.exists() for p in files] == [True, False, False, False]
    assert prune(tmp_path / "nowhere", {keep}) == (0, 0)

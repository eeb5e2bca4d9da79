"""The YAML draft: round trips, merges that keep user edits, errors with line numbers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from posterocr.draft import (
    Draft,
    caption_from_title,
    load_draft,
    load_or_new_draft,
    save_draft,
)
from posterocr.exceptions import DraftError, OutputError
from posterocr.records import Detection, PhotoResult, TitleReading

QUAD_A = ((100.4, 200.0), (2900.0, 180.0), (2950.0, 3900.0), (80.0, 3950.0))
QUAD_B = ((120.0, 210.0), (2880.0, 190.0), (2930.0, 3880.0), (95.0, 3930.0))


def result(photo: str, title: str = "A Title", *, quad=QUAD_A, found: bool = True, conf: float = 0.9,
           title_conf: float = 0.9, sha: str = "0" * 64, error: str | None = None) -> PhotoResult:
    if error:
        return PhotoResult(photo=photo, sha256=sha, error=error)
    return PhotoResult(photo=photo, sha256=sha, size=(3024, 4032),
                       detection=Detection(quad, conf, found, "test"),
                       title=TitleReading(title, title_conf, ("alt",)))


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "img").mkdir()
    for name in ("IMG_1.HEIC", "IMG_2.jpg", "IMG_3.jpg"):
        (tmp_path / "img" / name).write_bytes(b"not decoded here")
    return tmp_path


def extract(folder: Path, results: list[PhotoResult]):
    """What pipeline.py does: load or create, merge, save."""
    path = folder / "posters.yaml"
    draft = load_or_new_draft(path)
    report = draft.merge(results, draft_dir=folder)
    save_draft(draft, path)
    return report, path


def test_new_draft_round_trip(folder: Path) -> None:
    report, path = extract(folder, [result("img/IMG_2.jpg", "Second  Poster\nTitle"),
                                    result("img/IMG_1.HEIC", "First: a #1 \"title\"", sha="a" * 64)])
    assert (report.added, report.updated, report.missing, report.failed, report.flagged) == (2, 0, 0, 0, 0)
    text = path.read_text()
    assert text.startswith("# posterocr draft — edit caption")
    draft = load_draft(path)
    assert draft.problems() == []
    posters = draft.posters()
    assert [p.photo for p in posters] == ["img/IMG_1.HEIC", "img/IMG_2.jpg"]  # file-name order
    first = posters[0]
    assert first.title == 'First: a #1 "title"' and first.caption == first.title
    assert posters[1].caption == "Second Poster Title"
    assert first.corners == ((100.0, 200.0), (2900.0, 180.0), (2950.0, 3900.0), (80.0, 3950.0))
    assert first.status == "ok" and first.skip is False and first.comment == "" and first.size == (3024, 4032)
    assert draft.sha256_of("img/IMG_1.HEIC") == "a" * 64
    assert draft.sha256_of("img/nope.jpg") is None
    assert draft.page()["subtitle"] == "Notes on 2 posters"
    # Saving what was loaded changes nothing.
    save_draft(draft, path)
    assert path.read_text() == text


EDITED = {
    "caption": 'caption: "My own *caption* — edited"',
    "comment": "comment: |\n      Line one of my note.\n      Line two with a [link](https://example.org).",
    "corners": "corners: [[90, 190], [2910, 170], [2960, 3910], [70, 3960]]",
    "skip": "skip: true",
}


def edited_draft(folder: Path) -> Path:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "Old Title One"), result("img/IMG_2.jpg", "Old Title Two")])
    text = path.read_text()
    first, second = text.split("  - photo: img/IMG_2.jpg\n")
    first = first.replace('caption: "Old Title One"', EDITED["caption"])
    first = first.replace('comment: ""', EDITED["comment"], 1)
    first = first.replace("corners: [[100, 200], [2900, 180], [2950, 3900], [80, 3950]]", EDITED["corners"], 1)
    first = first.replace("skip: false", EDITED["skip"])
    first = first.replace("    link: \"\"\n", "    link: \"\"\n    venue: COLM 2024   # my own key\n", 1)
    first = first.replace("page:\n", "# my comment above page\npage:\n")
    text = first + "  # a comment between entries\n  - photo: img/IMG_2.jpg\n" + second
    for snippet in EDITED.values():
        assert snippet in text
    path.write_text(text)
    return path


def test_merge_keeps_user_edits(folder: Path) -> None:
    path = edited_draft(folder)
    before = path.read_text()
    report, _ = extract(folder, [result("img/IMG_1.HEIC", "New Title One", quad=QUAD_B, sha="b" * 64),
                                 result("img/IMG_2.jpg", "New Title Two", quad=QUAD_B)])
    after = path.read_text()
    assert (report.added, report.updated) == (0, 2)
    for snippet in EDITED.values():
        assert snippet in after, snippet
    for line in ("# my comment above page", "  # a comment between entries",
                 "    venue: COLM 2024   # my own key"):
        assert line in after, line
    draft = load_draft(path)
    first, second = draft.posters()
    assert first.title == "New Title One"  # measured: refreshed
    assert first.caption == "My own *caption* — edited"
    assert first.comment.startswith("Line one") and first.skip is True
    assert first.corners == ((90, 190), (2910, 170), (2960, 3910), (70, 3960))
    assert draft.sha256_of("img/IMG_1.HEIC") == "b" * 64
    assert draft.data["posters"][0]["measured"]["corners"] == [[120, 210], [2880, 190], [2930, 3880], [95, 3930]]
    # The unedited entry follows the new measurement.
    assert second.caption == "New Title Two"
    assert second.corners == ((120, 210), (2880, 190), (2930, 3880), (95, 3930))
    # Only the measured lines changed: the user's text is the same, line by line, in the same order.
    changed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert all(line.lstrip().startswith(("title:", "corners:", "sha256:", "caption: \"Old Title Two\"",
                                         "subtitle: Notes on 2 posters"))
               for line in changed), changed


def test_merge_into_edited_draft_is_stable(folder: Path) -> None:
    path = edited_draft(folder)
    extract(folder, [result("img/IMG_1.HEIC", "Old Title One"), result("img/IMG_2.jpg", "Old Title Two")])
    once = path.read_text()
    extract(folder, [result("img/IMG_1.HEIC", "Old Title One"), result("img/IMG_2.jpg", "Old Title Two")])
    assert path.read_text() == once


def test_unedited_caption_follows_title_edited_does_not(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "First Reading"), result("img/IMG_2.jpg", "Other")])
    draft = load_draft(path)
    draft.data["posters"][1]["caption"] = "Mine"
    save_draft(draft, path)
    extract(folder, [result("img/IMG_1.HEIC", "Second   Reading"), result("img/IMG_2.jpg", "Other Again")])
    first, second = load_draft(path).posters()
    assert (first.title, first.caption) == ("Second   Reading", "Second Reading")
    assert (second.title, second.caption) == ("Other Again", "Mine")


def test_vanished_photo_keeps_entry_and_new_photo_is_appended(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_2.jpg", "Two", sha="2" * 64), result("img/IMG_3.jpg", "Three")])
    draft = load_draft(path)
    draft.data["posters"][0]["comment"] = "keep me"
    save_draft(draft, path)
    (folder / "img" / "IMG_2.jpg").unlink()  # deleted, not renamed: IMG_1 has other bytes
    report, _ = extract(folder, [result("img/IMG_3.jpg", "Three"), result("img/IMG_1.HEIC", "One", sha="1" * 64)])
    assert (report.added, report.updated, report.missing) == (1, 1, 1)
    posters = load_draft(path).posters()
    # Existing order kept, the new photo appended even though its name sorts first.
    assert [p.photo for p in posters] == ["img/IMG_2.jpg", "img/IMG_3.jpg", "img/IMG_1.HEIC"]
    gone = posters[0]
    assert gone.status == "missing" and "img/IMG_2.jpg" in gone.message
    assert gone.comment == "keep me" and gone.title == "Two" and gone.corners is not None
    # It comes back: refreshed normally.
    (folder / "img" / "IMG_2.jpg").write_bytes(b"back")
    report, _ = extract(folder, [result("img/IMG_2.jpg", "Two Again", sha="2" * 64)])
    back = load_draft(path).posters()[0]
    assert (back.status, back.message, back.title, back.comment) == ("ok", "", "Two Again", "keep me")
    assert report.missing == 0


def test_failed_photo_keeps_previous_measurements(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "One")])
    report, _ = extract(folder, [result("img/IMG_1.HEIC", error="img/IMG_1.HEIC: cannot decode image")])
    assert (report.failed, report.updated) == (1, 0)
    entry = load_draft(path).posters()[0]
    assert entry.status == "failed" and "cannot decode" in entry.message
    assert entry.title == "One" and entry.corners is not None


def test_flagged_results(folder: Path) -> None:
    report, path = extract(folder, [result("img/IMG_1.HEIC", "One", found=False),
                                    result("img/IMG_2.jpg", "Two", conf=0.3),
                                    result("img/IMG_3.jpg", "", title_conf=0.0)])
    assert report.flagged == 3
    messages = [p.message for p in load_draft(path).posters()]
    assert "no poster outline" in messages[0] and "0.30" in messages[1] and "no title" in messages[2]


def test_yaml_syntax_error_names_line_and_column(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "One")])
    broken = path.read_text().replace('comment: ""', 'comment: "unclosed', 1)
    path.write_text(broken)
    with pytest.raises(DraftError) as info:
        load_or_new_draft(path)
    message = str(info.value)
    line = broken.splitlines().index('    comment: "unclosed') + 1
    assert message.startswith(f"{path}:")
    assert f":{line}:" in message or f":{line + 1}:" in message  # ruamel marks where the string ends
    assert "fix the YAML (the draft was not changed)" in message
    assert path.read_text() == broken


def test_wrong_types_are_problems_not_crashes(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "One"), result("img/IMG_2.jpg", "Two")])
    text = path.read_text()
    text = text.replace("corners: [[100, 200], [2900, 180], [2950, 3900], [80, 3950]]", "corners: banana", 1)
    text = text.replace("skip: false", 'skip: "maybe"', 2)
    path.write_text(text + "  - just a string\n")
    draft = load_draft(path)
    problems = draft.problems()
    assert any(p.startswith("img/IMG_1.HEIC: corners:") and "banana" in p for p in problems), problems
    assert sum("skip:" in p and "'maybe'" in p for p in problems) == 2
    assert any("entry 3" in p for p in problems)
    first = draft.posters()[0]
    assert first.corners == ((100, 200), (2900, 180), (2950, 3900), (80, 3950))  # falls back to measured
    assert first.skip is False
    # A merge still works and keeps the bad value for the user to fix.
    draft.merge([result("img/IMG_1.HEIC", "One")], draft_dir=folder)
    assert draft.data["posters"][0]["corners"] == "banana"


def test_crossed_corners_are_a_problem(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "One")])
    draft = load_draft(path)
    draft.data["posters"][0]["corners"] = [[100, 200], [2950, 3900], [2900, 180], [80, 3950]]
    assert any("convex" in p for p in draft.problems())
    draft.data["posters"][0]["corners"] = [[100, 200], [80, 3950], [2950, 3900], [2900, 180]]
    assert any("counter-clockwise" in p for p in draft.problems())


def test_posters_not_a_list(folder: Path) -> None:
    path = folder / "posters.yaml"
    path.write_text("page:\n  title: x\nposters: banana\n")
    draft = load_draft(path)
    assert any("posters: must be a list" in p for p in draft.problems())
    assert draft.posters() == []
    with pytest.raises(DraftError):
        draft.merge([result("img/IMG_1.HEIC")], draft_dir=folder)


def test_missing_draft_is_an_error_for_load_only(folder: Path) -> None:
    with pytest.raises(DraftError, match="no such draft"):
        load_draft(folder / "posters.yaml")
    assert isinstance(load_or_new_draft(folder / "posters.yaml"), Draft)


def test_atomic_save_keeps_mode_and_leaves_no_temp_files(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "One")])
    os.chmod(path, 0o640)
    extract(folder, [result("img/IMG_1.HEIC", "One changed")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in folder.iterdir()) == ["img", "posters.yaml"]


def test_failed_save_keeps_old_draft(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "One")])
    before = path.read_bytes()
    draft = load_draft(path)
    draft.merge([result("img/IMG_1.HEIC", "Two")], draft_dir=folder)

    def no_space(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OutputError, match="No space left"):
        save_draft(draft, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["img", "posters.yaml"]


def test_user_indentation_is_kept(folder: Path) -> None:
    path = folder / "posters.yaml"
    path.write_text("page:\n    title: Mine\nposters:\n-   photo: img/IMG_1.HEIC\n    caption: Hand made\n"
                    "    comment: ''\n")
    extract(folder, [result("img/IMG_1.HEIC", "Read")])
    text = path.read_text()
    assert "page:\n    title: Mine\n" in text and "-   photo: img/IMG_1.HEIC\n    caption: Hand made\n" in text
    assert load_draft(path).posters()[0].caption == "Hand made"


def test_caption_from_title() -> None:
    assert caption_from_title("  Counting\n Transformers  ") == "Counting Transformers"


def test_comments_attached_to_refreshed_values_survive(folder: Path) -> None:
    _, path = extract(folder, [result("img/IMG_1.HEIC", "One"), result("img/IMG_2.jpg", "Two")])
    text = path.read_text()
    text = text.replace("corners: [[100, 200], [2900, 180], [2950, 3900], [80, 3950]]\n",
                        "corners: [[100, 200], [2900, 180], [2950, 3900], [80, 3950]]  # looks right\n", 1)
    text = text.replace("  - photo: img/IMG_2.jpg\n", "  # second poster below\n  - photo: img/IMG_2.jpg\n")
    path.write_text(text)
    # Everything measured changes: corners, status, message (the last key before the comment line).
    extract(folder, [result("img/IMG_1.HEIC", "One", quad=QUAD_B, found=False, title_conf=0.1),
                     result("img/IMG_2.jpg", "Two")])
    after = path.read_text()
    assert "    corners: [[120, 210], [2880, 190], [2930, 3880], [95, 3930]]  # looks right\n" in after
    assert "  # second poster below\n  - photo: img/IMG_2.jpg\n" in after
    first = load_draft(path).posters()[0]
    assert first.status == "flagged" and "no poster outline" in first.message

"""End to end, as a user runs it: generated photos -> extract -> edit YAML -> extract again -> render -> pandoc."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image, ImageOps
from ruamel.yaml import YAML

from posterocr.cli import main
from posterocr.geometry import quad_iou

from conftest import title_similarity

pytestmark = pytest.mark.slow


def _yaml_load(path: Path):
    return YAML(typ="rt").load(path.read_text(encoding="utf-8"))


@pytest.fixture()
def workdir(tmp_path: Path, photo_set, monkeypatch: pytest.MonkeyPatch):
    """A user's folder: img/ with 6 generated photos (2 HEIC, some EXIF-rotated), cwd set there."""
    folder, samples = photo_set("e2e", 7, seed=20241007, size=(1512, 2016), heic_every=3)
    img = tmp_path / "img"
    img.mkdir()
    held_back = samples[-1]  # added later, to check that a re-run picks up a new photo
    for sample in samples[:-1]:
        shutil.copy2(sample["path"], img)
    monkeypatch.chdir(tmp_path)
    return tmp_path, samples[:-1], held_back


def test_extract_edit_reextract_render(workdir, capsys: pytest.CaptureFixture[str]) -> None:
    root, samples, held_back = workdir
    assert any(Path(s["path"]).suffix.lower() == ".heic" for s in samples)
    assert any(s.get("orientation", 1) != 1 for s in samples), "the set must include an EXIF-rotated photo"

    assert main(["extract", "img", "-j", "2"]) == 0
    draft = _yaml_load(root / "posters.yaml")
    entries = {e["photo"]: e for e in draft["posters"]}
    assert sorted(entries) == sorted(f"img/{Path(s['path']).name}" for s in samples)

    similarities, ious = [], []
    for sample in samples:
        entry = entries[f"img/{Path(sample['path']).name}"]
        similarities.append(title_similarity(str(entry["title"]), sample["title"]))
        ious.append(quad_iou([list(map(float, p)) for p in entry["corners"]], sample["corners"]))
        assert entry["caption"] == entry["title"], "caption is prefilled from the title"
    assert min(ious) >= 0.90, ious
    assert sum(s >= 0.90 for s in similarities) >= len(samples) - 1, similarities

    # The user reviews: edits a caption, writes a comment, adds a YAML comment, skips one photo.
    text = (root / "posters.yaml").read_text(encoding="utf-8")
    first = samples[0]
    draft["posters"][0]["caption"] = "My short caption"
    draft["posters"][0]["comment"] = "Talked to the authors.\nWorth a *closer* read."
    draft["posters"][1]["skip"] = True
    yaml = YAML(typ="rt")
    with (root / "posters.yaml").open("w", encoding="utf-8") as f:
        yaml.dump(draft, f)
    text = (root / "posters.yaml").read_text(encoding="utf-8")
    (root / "posters.yaml").write_text(text.replace("posters:\n", "posters:  # reviewed on the train\n", 1),
                                       encoding="utf-8")

    shutil.copy2(held_back["path"], root / "img")
    assert main(["extract", "img", "-j", "1"]) == 0
    text = (root / "posters.yaml").read_text(encoding="utf-8")
    assert "# reviewed on the train" in text
    draft = _yaml_load(root / "posters.yaml")
    first_entry = draft["posters"][0]
    assert first_entry["photo"] == f"img/{Path(first['path']).name}"
    assert first_entry["caption"] == "My short caption"
    assert first_entry["comment"] == "Talked to the authors.\nWorth a *closer* read."
    assert draft["posters"][1]["skip"] is True
    assert draft["posters"][-1]["photo"] == f"img/{Path(held_back['path']).name}", "new photo appended"
    assert len(draft["posters"]) == len(samples) + 1

    assert main(["render"]) == 0
    # Every poster is made from the crop extract left in the cache: no photo decoded twice.
    assert f"{len(samples)} made from extract's crops" in capsys.readouterr().err
    out = root / "output"
    md = (out / "index.md").read_text(encoding="utf-8")
    assert md.startswith("---\n")
    images = re.findall(r"^!\[(.*)\]\((img/[^)]+)\)$", md, flags=re.M)
    assert len(images) == len(samples)  # one skipped, one added
    link = first_entry["link"]  # a QR code on the poster gives one: the caption is then that link
    assert images[0][0] == (f"[My short caption]({link})" if link else "My short caption")
    for _, rel in images:
        with Image.open(out / rel) as im:
            assert max(im.size) <= 1600
            assert not im.getexif(), f"{rel} still carries EXIF"
            assert "exif" not in im.info

    if shutil.which("pandoc"):
        html = subprocess.run(
            ["pandoc", "--standalone", "-f", "markdown+implicit_figures", str(out / "index.md")],
            check=True, capture_output=True, text=True, cwd=out,
        ).stdout
        assert html.count("<figure") == len(samples)
        assert "My short caption" in html

    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<figure") == len(samples)
    assert 'alt="My short caption"' in page


def test_cli_as_a_subprocess(workdir) -> None:
    """The console entry point: summary line on stderr, exit code 0, draft written."""
    root, samples, _ = workdir
    for extra in list((root / "img").iterdir())[1:]:
        extra.unlink()
    (root / "img" / "notes.txt").write_text("not a photo")
    proc = subprocess.run(
        [sys.executable, "-m", "posterocr", "extract", "img", "-o", "drafts/my posters.yaml", "-j", "1"],
        capture_output=True, text=True, cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"1 photo: 1 read, 0 flagged, 0 failed in [\d.]+ s", proc.stderr), proc.stderr
    assert "notes.txt" in proc.stderr
    draft = _yaml_load(root / "drafts" / "my posters.yaml")
    assert draft["posters"][0]["photo"].startswith("../img/")
    proc = subprocess.run(
        [sys.executable, "-m", "posterocr", "render", "drafts/my posters.yaml", "-o", "site"],
        capture_output=True, text=True, cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    assert (root / "site" / "index.html").exists()


def test_render_with_a_deleted_photo_warns_or_fails_when_strict(workdir) -> None:
    root, samples, _ = workdir
    assert main(["extract", "img", "-j", "2"]) == 0
    gone = sorted((root / "img").iterdir())[0]
    gone.unlink()
    proc = subprocess.run([sys.executable, "-m", "posterocr", "render"], capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if gone.name in line]
    assert len(lines) == 1 and lines[0].count(gone.name) == 1, proc.stderr  # one line, naming the photo once
    md = (root / "output" / "index.md").read_text(encoding="utf-8")
    assert md.count("![") == len(samples) - 1
    # The entry and its comment stay in the draft, flagged, for the user to decide.
    assert main(["extract", "img", "-j", "1"]) == 0
    entry = next(e for e in _yaml_load(root / "posters.yaml")["posters"] if e["photo"] == f"img/{gone.name}")
    assert entry["measured"]["status"] == "missing"
    strict = subprocess.run([sys.executable, "-m", "posterocr", "render", "--strict"],
                            capture_output=True, text=True, cwd=root)
    assert strict.returncode != 0
    assert gone.name in strict.stderr and len(strict.stderr.strip().splitlines()) == 1, strict.stderr


def test_same_stem_non_ascii_paths_and_a_draft_elsewhere(tmp_path: Path, photo_set, monkeypatch) -> None:
    """IMG_1.HEIC and IMG_1.jpg side by side, in a folder with a space and non-ASCII letters; the draft elsewhere."""
    import pillow_heif

    _, samples = photo_set("e2e", 7, seed=20241007, size=(1512, 2016), heic_every=3)
    photos = tmp_path / "Fotos Posterführung 2024"
    photos.mkdir()
    jpegs = [s for s in samples if Path(s["path"]).suffix.lower() == ".jpg"]
    shutil.copy2(jpegs[0]["path"], photos / "IMG_1.jpg")
    with Image.open(jpegs[1]["path"]) as im:
        upright = ImageOps.exif_transpose(im).convert("RGB")
        pillow_heif.from_pillow(upright).save(photos / "IMG_1.HEIC", quality=85)
    shutil.copy2(jpegs[2]["path"], photos / "Poster café.jpg")
    notes = tmp_path / "notes"
    monkeypatch.chdir(tmp_path)
    assert main(["extract", str(photos), "-o", str(notes / "posters.yaml"), "-j", "2"]) == 0
    draft = _yaml_load(notes / "posters.yaml")
    assert [e["photo"] for e in draft["posters"]] == [
        "../Fotos Posterführung 2024/IMG_1.HEIC", "../Fotos Posterführung 2024/IMG_1.jpg",
        "../Fotos Posterführung 2024/Poster café.jpg",
    ]
    assert main(["render", str(notes / "posters.yaml"), "-o", str(notes / "site")]) == 0
    md = (notes / "site" / "index.md").read_text(encoding="utf-8")
    targets = re.findall(r"^!\[.*\]\((.+)\)$", md, flags=re.M)
    assert len(targets) == len(set(targets)) == 3, targets
    for target in targets:  # Markdown links are URL-quoted
        assert (notes / "site" / unquote(target)).exists(), target

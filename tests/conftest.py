"""Shared fixtures: generated photo sets, cached across test runs and xdist workers."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _synth_fingerprint() -> str:
    """Generated sets are cached; any change to the generator invalidates them."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "synth").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="session")
def photo_set(request: pytest.FixtureRequest):
    """``photo_set(name, n, seed=..., **kwargs)`` -> (folder, samples), generated once and cached."""
    import synth

    cache_root = Path(request.config.cache.mkdir("synth-sets"))
    fingerprint = _synth_fingerprint()

    def make(name: str, n: int, *, seed: int, **kwargs):
        key = hashlib.sha256(json.dumps([name, n, seed, kwargs, fingerprint], sort_keys=True, default=str).encode())
        folder = cache_root / f"{name}-{key.hexdigest()[:12]}"
        if not (folder / "truth.json").exists():
            # Generate beside, then rename: a parallel worker racing us either
            # wins the rename or finds the finished folder.
            scratch = cache_root / f".tmp-{uuid.uuid4().hex}"
            synth.generate_set(scratch, n, seed=seed, **kwargs)
            try:
                os.rename(scratch, folder)
            except OSError:
                shutil.rmtree(scratch, ignore_errors=True)
        samples = load_truth(folder)
        return folder, samples

    return make


@pytest.fixture(scope="session")
def e2e_samples(photo_set) -> list[dict]:
    """The small end-to-end set: 7 generated photos of 3 MP, every 3rd a HEIC, with their truth."""
    return photo_set("e2e", 7, seed=20241007, size=(1512, 2016), heic_every=3)[1]


@pytest.fixture()
def photos(tmp_path: Path, e2e_samples: list[dict], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The first three of them in tmp/img, cwd = tmp."""
    img = tmp_path / "img"
    img.mkdir()
    for sample in e2e_samples[:3]:
        shutil.copy2(sample["path"], img)
    monkeypatch.chdir(tmp_path)
    return img


def load_truth(folder: Path) -> list[dict]:
    """truth.json as written by synth, with ``path`` made absolute."""
    samples = json.loads((folder / "truth.json").read_text())
    for sample in samples:
        sample["path"] = str(folder / Path(sample["path"]).name)
    return samples


def title_similarity(read: str, truth: str) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(" ".join(read.split()), " ".join(truth.split())) / 100

"""Paper-list matching, QR decoding and their cost, on generated photo sets.

    PYTHONPATH=src:. python bench/match_eval.py --generate 40 --seed 101 --out /tmp/n40
    PYTHONPATH=src:. python bench/match_eval.py --generate 40 --seed 202 --hard --out /tmp/h40
    PYTHONPATH=src:. python bench/match_eval.py --photos /tmp/n40 --photos /tmp/h40 [--corners detected]

Per photo it times the plain ``extract`` stages (load, detect unless
``--corners truth``, warp, read_title) and the extra ``--papers`` stages
(``match.ocr_lines`` on the corrected poster, ``links.decode_qr`` on the photo
within the poster's corners and, only when that finds nothing, on the
corrected poster), in CPU seconds of this process plus its Tesseract children.
The OCR results are cached beside truth.json, so re-running only redoes the
matching.

Matching is scored twice with the same OCR lines:

* in-list: the committed 300-entry list (tests/data/papers/iclr2025.json) plus
  every poster's true title and authors -> each poster must get exactly its title;
* not-in-list: the committed list without the posters' titles, plus ``--near``
  look-alikes of every poster title (one component swapped) -> no poster may match.

``--papers 3000`` grows the base list with generated titles (timing at scale).
QR: the payloads synth encoded are recovered by re-rendering each flat poster.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data" / "papers"))

import make_lists  # noqa: E402
import synth  # noqa: E402
from posterocr import detect, links, match, ocr  # noqa: E402
from posterocr.load import load_photo  # noqa: E402
from posterocr.papers import Paper, load_papers, normalise  # noqa: E402

CACHE_VERSION = 4  # bump when what is cached changes


def cpu() -> float:
    """CPU seconds of this process and its finished children (Tesseract)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(folder: Path, corners_from: str) -> list[dict]:
    """Run the stages on every photo of *folder* (cached in folder/match_eval_cache.json)."""
    truth = json.loads((folder / "truth.json").read_text())
    meta = json.loads((folder / "bench_meta.json").read_text()) if (folder / "bench_meta.json").exists() else {}
    cache_path = folder / "match_eval_cache.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    key_base = f"v{CACHE_VERSION}:{corners_from}:{match.OCR_LINES_SIDE}"
    rows = []
    for index, sample in enumerate(truth, 1):
        key = f"{key_base}:{sample['path']}"
        if key not in cache:
            t = [cpu()]
            photo = load_photo(folder / sample["path"])
            t.append(cpu())
            if corners_from == "truth":
                corners = sample["corners"]
            else:
                corners = [list(p) for p in detect.find_poster(photo).corners]
            t.append(cpu())
            poster = detect.warp_poster(photo, corners, max_side=3000)
            t.append(cpu())
            guess = ocr.read_title(poster, timeout=60).text
            t.append(cpu())
            lines = match.ocr_lines(poster, timeout=60)
            t.append(cpu())
            qr_photo = links.decode_qr(photo, within=corners)
            t.append(cpu())
            qr_poster = links.decode_qr(poster)
            t.append(cpu())
            d = np.diff(t)
            cache[key] = {
                "guess": guess, "lines": lines, "qr_photo": qr_photo, "qr_poster": qr_poster,
                "printed": links.find_printed_links("\n".join(lines)),
                "sec": {"load": d[0], "detect": d[1], "warp": d[2], "title": d[3], "ocr_lines": d[4],
                        "qr_photo": d[5], "qr_poster": d[6]},
            }
            cache_path.write_text(json.dumps(cache))
            print(f"  measured {folder.name}/{sample['path']}", file=sys.stderr, flush=True)
        row = dict(cache[key])
        row.update(sample=sample, folder=str(folder), index=index, seed=meta.get("seed"), hard=meta.get("hard"))
        rows.append(row)
    return rows


def base_list(n: int) -> list[Paper]:
    papers = list(load_papers(ROOT / "tests" / "data" / "papers" / "iclr2025.json").papers)
    seen = {normalise(p.title) for p in papers}
    seed = 90_000
    rng = random.Random(7)
    while len(papers) < n:
        for title in make_lists.make_titles(seed):
            if len(papers) < n and normalise(title) not in seen:
                seen.add(normalise(title))
                papers.append(Paper(title, tuple(make_lists.make_authors(rng)), "", "generated"))
        seed += 1
    return papers


def evaluate_matching(rows: list[dict], n_papers: int, near: int, verbose: bool) -> None:
    posters = {normalise(r["sample"]["title"]) for r in rows}
    base = [p for p in base_list(n_papers) if normalise(p.title) not in posters]
    rng = random.Random(3)
    looks: list[Paper] = []
    for r in rows:
        for _ in range(near):
            t = make_lists._near_duplicate(rng, r["sample"]["title"])
            if normalise(t) not in posters:
                looks.append(Paper(t, tuple(make_lists.make_authors(rng)), "", "look-alike"))
    true_papers = {normalise(r["sample"]["title"]):
                   Paper(r["sample"]["title"], tuple(r["sample"]["authors"].split(", ")), "", "poster")
                   for r in rows}
    t0 = time.perf_counter()
    idx_in = match.PaperIndex(base + looks + list(true_papers.values()))
    build = time.perf_counter() - t0
    idx_out = match.PaperIndex(base + looks)
    blob = pickle.dumps(idx_in)
    t0 = time.perf_counter()
    pickle.loads(blob)
    unpickle = time.perf_counter() - t0
    ok = miss = wrong = false = 0
    secs: list[float] = []
    scores_in: list[float] = []
    scores_out: list[float] = []
    for r in rows:
        title = r["sample"]["title"]
        t0 = time.process_time()
        got = match.match_poster(idx_in, r["lines"], title_guess=r["guess"])
        secs.append(time.process_time() - t0)
        t0 = time.process_time()
        out = match.match_poster(idx_out, r["lines"], title_guess=r["guess"])
        secs.append(time.process_time() - t0)
        scores_in.append(got.score)
        scores_out.append(out.score)
        tag = "ok" if got.paper and got.paper.title == title else ("MISS" if got.paper is None else "WRONG")
        ok += tag == "ok"
        miss += tag == "MISS"
        wrong += tag == "WRONG"
        false += out.paper is not None
        if verbose and (tag != "ok" or out.paper is not None):
            print(f"  {tag:5} {Path(r['folder']).name}/{r['sample']['path']} {title!r} guess={r['guess']!r} "
                  f"in={[(p.title, s) for p, s in got.candidates[:2]]} out={out.paper.title if out.paper else None}")
    n = len(rows)
    print(f"papers={len(idx_in)} (+{len(looks)} look-alikes): in-list exact {ok}/{n}, missed {miss}, wrong {wrong}; "
          f"not-in-list false matches {false}/{n}")
    print(f"  scores in-list p5/p50 {np.percentile(scores_in, 5):.2f}/{np.percentile(scores_in, 50):.2f}; "
          f"not-in-list best max {max(scores_out):.2f} (accept >= {match.ACCEPT}, margin {match.MARGIN})")
    print(f"  match_poster {1000 * np.mean(secs):.1f} ms mean, {1000 * max(secs):.1f} ms max; index build "
          f"{1000 * build:.0f} ms, pickled {len(blob) / 1e6:.2f} MB, unpickle {1000 * unpickle:.0f} ms")


def evaluate_qr(rows: list[dict]) -> None:
    counts = {"photo": 0, "poster": 0, "either": 0, "codes": 0, "extra": 0}
    for r in rows:
        if r["seed"] is None:
            return  # not a set made by --generate: payloads unknown
        payloads = [links.normalise_url(p) for p in synth.qr_payloads(r["seed"], r["index"], hard=bool(r["hard"]))]
        found = set(r["qr_photo"]) | set(r["qr_poster"])
        counts["extra"] += len(found - set(payloads))
        for url in payloads:
            counts["codes"] += 1
            counts["photo"] += url in r["qr_photo"]
            counts["poster"] += url in r["qr_poster"]
            counts["either"] += url in found
    c = counts
    print(f"QR codes {c['codes']}: decoded from photo {c['photo']}, corrected poster {c['poster']}, "
          f"either {c['either']}; links not on the poster {c['extra']}")


def evaluate_cost(rows: list[dict]) -> None:
    sec = {k: np.array([r["sec"][k] for r in rows]) for k in rows[0]["sec"]}
    plain = sec["load"] + sec["detect"] + sec["warp"] + sec["title"]
    # The pipeline reads the poster's codes only when the photo gave none.
    qr = sec["qr_photo"] + np.array([s if not r["qr_photo"] else 0.0 for s, r in zip(sec["qr_poster"], rows)])
    extra = sec["ocr_lines"] + qr
    print("CPU s per photo (mean / max): " + ", ".join(f"{k} {v.mean():.2f}/{v.max():.2f}" for k, v in sec.items()))
    print(f"  plain extract {plain.mean():.2f} s; --papers adds {extra.mean():.2f} s "
          f"(ocr_lines {sec['ocr_lines'].mean():.2f}, qr {qr.mean():.2f}) "
          f"-> {(plain + extra).mean() / plain.mean():.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, action="append", default=[], help="synth set folder (repeatable)")
    ap.add_argument("--generate", type=int, help="generate this many photos into --out first")
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--hard", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--corners", choices=["truth", "detected"], default="truth")
    ap.add_argument("--papers", type=int, nargs="+", default=[300, 3000], help="list sizes to score against")
    ap.add_argument("--near", type=int, default=3, help="look-alike titles per poster in the lists")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    if args.generate:
        if args.out is None:
            ap.error("--generate needs --out")
        synth.generate_set(args.out, args.generate, seed=args.seed, hard=args.hard)
        (args.out / "bench_meta.json").write_text(json.dumps({"seed": args.seed, "hard": args.hard}))
        args.photos.append(args.out)
    if not args.photos:
        ap.error("give --photos or --generate")
    rows = [r for folder in args.photos for r in measure(folder, args.corners)]
    print(f"{len(rows)} photos from {', '.join(str(p) for p in args.photos)}; corners: {args.corners}; "
          f"whole-poster OCR at {match.OCR_LINES_SIDE} px")
    for n in args.papers:
        evaluate_matching(rows, n, args.near, args.verbose)
    evaluate_qr(rows)
    evaluate_cost(rows)


if __name__ == "__main__":
    main()

"""A thin wrapper around the ``tesseract`` executable.

We call the executable directly (image piped through stdin, TSV read from
stdout) rather than through pytesseract: no temporary files, and we control
the child's environment, timeout and error mapping.  Measured on this
machine, one call costs ~0.11 s of start-up (loading ``eng.traineddata``) plus
the recognition itself, so callers should run Tesseract as few times as they
can -- ``ocr.read_title`` runs it once per poster.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from dataclasses import dataclass

import cv2
import numpy as np

from .exceptions import MissingDependency, OcrError

EXECUTABLE = "tesseract"
INSTALL_HINT = ("tesseract not found on PATH; install it: sudo apt-get install tesseract-ocr "
                "(macOS: brew install tesseract)")

# How many times Tesseract was started in this process.  Tests read it to
# check that a cached re-run does no OCR at all.
calls = 0


@dataclass(frozen=True)
class Word:
    """One word of Tesseract's TSV output (level 5)."""

    text: str
    conf: float  # 0..100 as Tesseract reports it
    left: int
    top: int
    width: int
    height: int
    block: int
    par: int
    line: int


def _encode(image: np.ndarray) -> bytes:
    """Encode as uncompressed PNM: cheaper than PNG and read by leptonica from memory."""
    if image.ndim == 3:
        # Our images are RGB; PNM/OpenCV expect BGR channel order.
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        ext = ".ppm"
    else:
        ext = ".pgm"
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(image, dtype=np.uint8))
    if not ok:
        raise OcrError("could not encode the image for tesseract")
    return buf.tobytes()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Tesseract's OpenMP threads would fight our worker processes for cores.
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def _run(image: np.ndarray, *, psm: int, timeout: float, lang: str, config: str, output: str) -> str:
    """Run tesseract once on *image* and return its stdout as text."""
    global calls
    if image.size == 0:
        raise OcrError("cannot run tesseract on an empty image")
    # ``--dpi`` only silences the "Invalid resolution 0 dpi" warning: the
    # caller already scaled the text to a size Tesseract likes.
    args = [EXECUTABLE, "stdin", "stdout", "-l", lang, "--psm", str(psm), "--dpi", "300",
            *shlex.split(config)]
    if output:
        args.append(output)
    data = _encode(image)
    calls += 1
    try:
        # A new session so a timeout kills the whole process group (a wrapper
        # script's children included), not just the direct child.
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_child_env(), start_new_session=True)
    except FileNotFoundError:
        raise MissingDependency(INSTALL_HINT) from None
    except OSError as exc:
        raise OcrError(f"could not start tesseract: {exc.strerror or exc}") from exc
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise OcrError(f"tesseract timed out after {timeout:g} s; run extract again (this photo is retried)") from None
    if proc.returncode != 0:
        raise OcrError(f"tesseract failed ({_describe_exit(proc.returncode)}): {_last_line(err)}; "
                       "check that `tesseract --version` runs, then run extract again (this photo is retried)")
    return out.decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already gone
    proc.communicate()


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no error message"


def parse_tsv(tsv: str) -> list[Word]:
    """Parse Tesseract's TSV output into its words (empty words dropped)."""
    words: list[Word] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        try:
            words.append(Word(text=text, conf=float(cols[10]), left=int(cols[6]), top=int(cols[7]),
                              width=int(cols[8]), height=int(cols[9]), block=int(cols[2]),
                              par=int(cols[3]), line=int(cols[4])))
        except ValueError:
            continue  # a malformed row: skip it rather than lose the whole reading
    return words


def image_to_data(image: np.ndarray, *, psm: int, timeout: float, lang: str = "eng", config: str = "") -> list[Word]:
    """OCR *image* (grey or RGB uint8) and return its words with boxes and confidences."""
    return parse_tsv(_run(image, psm=psm, timeout=timeout, lang=lang, config=config, output="tsv"))


def image_to_string(image: np.ndarray, *, psm: int, timeout: float, lang: str = "eng", config: str = "") -> str:
    """OCR *image* and return Tesseract's plain text."""
    return _run(image, psm=psm, timeout=timeout, lang=lang, config=config, output="")

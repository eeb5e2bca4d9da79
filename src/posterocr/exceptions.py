"""Errors and exit codes.

Library code raises these; only ``cli.py`` turns them into exit codes, so a
caller using posterocr as a library never sees ``sys.exit``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    ok = 0
    some_photos_failed = 1  # the draft was written, but some photos could not be read
    bad_input = 2  # usage error or a draft that cannot be parsed
    missing_dependency = 3  # e.g. no tesseract on PATH
    interrupted = 130


class PosterocrError(Exception):
    """Base class: ``str(exc)`` is a one-line message meant for the user."""

    exit_code = ExitCode.bad_input


class PhotoError(PosterocrError):
    """One photo cannot be used; the run goes on with the others."""

    exit_code = ExitCode.some_photos_failed


class OcrError(PhotoError):
    """Tesseract failed or timed out on one photo."""


class DraftError(PosterocrError):
    """The YAML draft cannot be read or has wrong values."""

    exit_code = ExitCode.bad_input


class MissingDependency(PosterocrError):
    exit_code = ExitCode.missing_dependency


class OutputError(PosterocrError):
    """Render could not write its output (disk full, read-only folder)."""

    exit_code = ExitCode.bad_input

"""Command line: ``posterocr extract`` and ``posterocr render``.

This is the one place where exceptions become exit codes (see ``main``).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from . import __version__
from .exceptions import ExitCode, PosterocrError
from .pipeline import ExtractSettings, extract
from .records import PhotoResult
from .render import RenderSettings, render
from .workers import default_jobs


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def _skipped_lines(skipped: tuple[tuple[Path, str], ...], *, listed: int = 3) -> list[str]:
    """A line per skipped file, or one per reason when more than *listed* files share it:
    Live Photos leave a .MOV beside every photo, and 300 lines would hide the ones that matter."""
    by_why: dict[str, list[Path]] = {}
    for path, why in skipped:
        by_why.setdefault(why, []).append(path)
    lines = []
    for why, paths in by_why.items():
        if len(paths) <= listed:
            lines += [f"{path}: {why}" for path in paths]
        else:
            names = ", ".join(p.name for p in paths[:2]) + f", ... {paths[-1].name}"
            lines.append(f"{paths[0].parent}: {len(paths)} files ({names}): {why}")
    return lines


@click.group()
@click.version_option(__version__, prog_name="posterocr")
def cli() -> None:
    """Turn phone photos of conference posters into a notes page."""


@cli.command("extract")
@click.argument("photos_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("-o", "--output", "draft", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("posters.yaml"), show_default=True, help="The YAML draft to create or update.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel workers [default: number of CPUs; 1 = no pool].")
@click.option("--papers", "paper_lists", type=click.Path(path_type=Path, dir_okay=False), multiple=True,
              metavar="FILE", help="The conference's accepted-paper list (JSON, CSV or BibTeX; may be repeated): "
                                   "matched posters get the exact title, the authors and a link.")
def extract_command(photos_dir: Path, draft: Path, jobs: int | None, paper_lists: tuple[Path, ...]) -> None:
    """Find the poster in every photo of PHOTOS_DIR, read its title, write the draft."""
    settings = ExtractSettings(jobs=jobs or default_jobs(), paper_lists=paper_lists)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        report = extract(photos_dir, draft, settings, on_progress=progress.step if progress else None)
    finally:
        if progress:
            progress.close()
    for line in _skipped_lines(report.skipped):
        _echo_err(f"posterocr: {line}")
    for message in report.merge.messages:  # flagged, failed and missing photos, one line each
        _echo_err(f"posterocr: {message}")
    for problem in report.merge.problems:  # wrong types or duplicates in the draft: the user's to fix
        _echo_err(f"posterocr: warning: {problem}")
    for warning in report.warnings:
        _echo_err(f"posterocr: warning: {warning}")
    review = f"; review: {report.review_sheet}" if report.review_sheet else ""
    _echo_err(f"posterocr: {report.summary()}; draft: {draft}{review}")
    if report.failed:
        raise _Exit(ExitCode.some_photos_failed)


@cli.command("render")
@click.argument("draft", type=click.Path(path_type=Path, dir_okay=False), default=Path("posters.yaml"))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("output"), show_default=True, help="Folder for index.md, index.html and img/.")
@click.option("--template", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Your own Jinja2 page template (it may {% extends \"posterocr/page.html.j2\" %}).")
@click.option("--widths", default="640,1280", show_default=True, metavar="PX,PX,...",
              help="Image sizes (long side) offered to browsers; add 2048 for a sharper enlarged view "
                   "(about 2.5x the bytes). 1280 px is always written: index.md shows it.")
@click.option("--webp", is_flag=True, help="Also write WebP copies, which browsers prefer (more bytes on disk).")
@click.option("--keep-exif", is_flag=True,
              help="Keep the photos' EXIF (GPS position, device, time) in the published images.")
@click.option("--include-originals", is_flag=True,
              help="Also publish each full photo under originals/ (metadata removed unless --keep-exif).")
@click.option("--strict", is_flag=True,
              help="Fail on a missing or unreadable photo or a draft problem instead of skipping it with a warning.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel workers making images [default: number of CPUs; 1 = no pool].")
def render_command(draft: Path, out_dir: Path, template: Path | None, widths: str, webp: bool,
                   keep_exif: bool, include_originals: bool, strict: bool, jobs: int | None) -> None:
    """Write the page (index.md, index.html, img/) from the reviewed DRAFT."""
    try:
        sizes = tuple(int(w) for w in widths.replace(" ", "").split(",") if w)
    except ValueError:
        sizes = ()
    if not sizes or any(not 64 <= w <= 8192 for w in sizes):
        raise click.BadParameter(f"{widths!r}: give pixel sizes between 64 and 8192, e.g. 640,1280,2048",
                                 param_hint="--widths")
    settings = RenderSettings(widths=sizes, webp=webp, keep_exif=keep_exif,
                              include_originals=include_originals, template=template, strict=strict,
                              jobs=jobs or default_jobs())
    report = render(draft, out_dir, settings=settings)
    for problem in report.problems:
        _echo_err(f"posterocr: warning: {problem}")
    for photo, why in report.skipped:
        _echo_err(f"posterocr: skipped {photo}: {why}")
    hidden = f" ({len(report.hidden)} marked skip)" if report.hidden else ""
    _echo_err(f"posterocr: {report.rendered} posters{hidden} rendered to {out_dir / 'index.html'} "
              f"and {out_dir / 'index.md'}")
    if report.photo_bytes:
        reused = f"; {report.reused} up to date, not re-made" if report.reused else ""
        reused += f"; {report.from_crops} made from extract's crops" if report.from_crops else ""
        _echo_err(f"posterocr: page and images weigh {report.output_bytes / 1e6:.1f} MB, "
                  f"{report.output_bytes / report.photo_bytes:.1%} of the photos' "
                  f"{report.photo_bytes / 1e6:.1f} MB{reused}")


class _Exit(Exception):
    def __init__(self, code: ExitCode) -> None:
        self.code = code


class _Progress:
    """A progress line on stderr, only used when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = False

    def step(self, done: int, total: int, result: PhotoResult) -> None:
        width = 30
        bar = "#" * (width * done // max(total, 1))
        line = f"\r[{bar:<{width}}] {done}/{total} {Path(result.photo).name}"
        click.echo(line[:79].ljust(79), err=True, nl=False)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("\r" + " " * 79 + "\r", err=True, nl=False)


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (e.g. a closed terminal, `kill`) stops a run like Ctrl-C does: the draft is saved first.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point: the one place where exceptions become exit codes."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        cli.main(args=argv, prog_name="posterocr", standalone_mode=False)
    except _Exit as exc:
        return int(exc.code)
    except PosterocrError as exc:
        _echo_err(f"posterocr: error: {exc}")
        return int(exc.exit_code)
    except click.exceptions.Abort:
        _echo_err("posterocr: interrupted")
        return int(ExitCode.interrupted)
    except KeyboardInterrupt:
        _echo_err("posterocr: interrupted; the draft keeps what was read so far, run again to resume")
        return int(ExitCode.interrupted)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.bad_input)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return int(ExitCode.ok)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

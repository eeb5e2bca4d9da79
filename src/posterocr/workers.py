"""The process pool that extract and render share for per-photo work.

Workers come from a fork server, not from ``fork``: a forked copy of a process
whose OpenCV or libheif threads were busy can inherit their locks held and
hang (seen: ``cv2.setNumThreads`` in a forked worker hung forever). Each worker
leaves Ctrl-C to the parent, which stops handing out work and saves what it
has, and uses one thread (see ``load.limit_worker_resources``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from . import load


def default_jobs() -> int:
    """Workers when the user gives no -j: one per CPU this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    load.limit_worker_resources()
    if initializer is not None:
        initializer(*initargs)


def pool(max_workers: int, *, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
         preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A pool of *max_workers*; *preload* modules are imported once by the fork server, not by every worker."""
    context = multiprocessing.get_context("forkserver")
    if preload:
        context.set_forkserver_preload(list(preload))
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context, initializer=_start,
                               initargs=(initializer, initargs))

"""Publish content without a restart: a changed content/ folder is loaded and validated, and
only a fully valid library replaces the one in use. A broken edit is logged with the same
messages `line check` prints, and callers keep hearing the last good version.

Every worker process checks the folder on its own (a cheap scan of file sizes and times, at
most once per interval), so it works the same with one worker or many, on one host or several
that share the folder.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from .content import Library, load_library
from .yaml_source import ContentError

log = logging.getLogger(__name__)


def fingerprint(folder: Path) -> tuple:
    """Every file's path, size and modification time: changes whenever anything is saved."""
    found = []
    stack = [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file():
                    st = entry.stat()
                    found.append((entry.path, st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


class LiveLibrary:
    """The library in use, replaced atomically when a valid new version is saved."""

    def __init__(self, folder: Path, interval: float = 1.0):
        self.folder = Path(folder)
        self.interval = interval
        self._fingerprint = fingerprint(self.folder)
        self.current: Library = load_library(self.folder)
        self.last_problems: list = []
        self._next_check = time.monotonic() + interval
        self._lock = threading.Lock()

    def get(self) -> Library:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.interval
            self.refresh()
        return self.current

    def refresh(self) -> bool:
        """Load the folder if it changed. True when a new version was published."""
        if not self._lock.acquire(blocking=False):
            return False  # another thread is loading it; serve the current version meanwhile
        try:
            try:
                seen = fingerprint(self.folder)
            except OSError as exc:
                log.error("content folder %s cannot be read (%s); keeping version %s", self.folder, exc, self.current.version)
                return False
            if seen == self._fingerprint:
                return False
            self._fingerprint = seen
            try:
                library = load_library(self.folder)
            except ContentError as exc:
                self.last_problems = exc.problems
                log.error(
                    "the changed content was NOT published; callers keep hearing version %s:\n%s",
                    self.current.version, "\n".join(str(p) for p in exc.problems),
                )
                return False
            self.last_problems = []
            if library.version != self.current.version:
                log.info("published content version %s (was %s)", library.version, self.current.version)
                self.current = library
                return True
            return False
        finally:
            self._lock.release()

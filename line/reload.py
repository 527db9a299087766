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
import shutil
import threading
import time
from pathlib import Path

from .content import Library, load_library
from .content import ContentError
from .private import private_tree

log = logging.getLogger(__name__)
KEEP_SNAPSHOTS = 5  # published versions kept in the data folder
# In content/ while the staff console writes a release into it (line/staff/releases.py): every
# worker waits for the whole release rather than load a folder half old, half new. A marker
# older than MARKER_STALE_SECONDS was left by a crash and is ignored.
PUBLISHING = ".publishing"
MARKER_STALE_SECONDS = 30


def publishing(folder: Path) -> bool:
    """A release is being written into `folder` now."""
    try:
        age = time.time() - (folder / PUBLISHING).stat().st_mtime
    except OSError:
        return False
    return age < MARKER_STALE_SECONDS


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


def _describe(exc: Exception) -> str:
    if isinstance(exc, ContentError):
        return "\n".join(str(p) for p in exc.problems)
    log.exception("loading content/ failed unexpectedly")
    return f"{type(exc).__name__}: {exc}"


class LiveLibrary:
    """The library in use, replaced atomically when a valid new version is saved.

    Each published version is also kept as a snapshot (`snapshots`, in the data folder), so a
    worker that starts while a broken edit sits in content/ (after a crash, say) serves the
    last good version like the others instead of failing to boot."""

    def __init__(self, folder: Path, interval: float = 1.0, snapshots: Path | None = None):
        self.folder = Path(folder)
        self.interval = interval
        self.snapshots = Path(snapshots) if snapshots else None
        self._fingerprint = fingerprint(self.folder)
        self.last_problems: list = []
        try:
            self.current: Library = load_library(self.folder)
        except Exception as exc:  # a ContentError, or a loader bug an odd edit set off
            last_good = self._last_snapshot()
            if last_good is None:
                raise
            try:
                self.current = load_library(last_good)
            except Exception:
                raise exc from None
            self.last_problems = getattr(exc, "problems", [])
            log.error("content/ cannot be published, so this worker serves the last published version %s:\n%s",
                      self.current.version, _describe(exc))
        else:
            self._snapshot()
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
            if seen == self._fingerprint or publishing(self.folder):
                return False  # unchanged, or a release half written: the next check sees it whole
            self._fingerprint = seen
            try:
                library = load_library(self.folder)
            except Exception as exc:  # a ContentError, or a loader bug an odd edit set off
                self.last_problems = getattr(exc, "problems", [])
                log.error("the changed content was NOT published; callers keep hearing version %s:\n%s",
                          self.current.version, _describe(exc))
                return False
            self.last_problems = []
            if library.version != self.current.version:
                log.info("published content version %s (was %s)", library.version, self.current.version)
                self.current = library
                self._snapshot()
                return True
            return False
        finally:
            self._lock.release()

    # -- snapshots of published versions ------------------------------------------------------
    def _last_snapshot(self) -> Path | None:
        if self.snapshots is None:
            return None
        current = self.snapshots / "current"
        return current if current.is_dir() else None

    def _snapshot(self) -> None:
        """Keep a copy of the version just published; point `current` at it atomically. The copy
        is kept only if it is that very version: content/ is as it was when that version was read
        (the same fingerprint, every file's path, size and time, that a change is found by), so an
        edit saved meanwhile is not kept under its name. Checked so, not by loading the copy
        again: that doubled the time every worker took to publish an edit."""
        if self.snapshots is None:
            return
        try:
            self.snapshots.mkdir(parents=True, exist_ok=True)
            target = self.snapshots / self.current.version
            if not target.is_dir():
                tmp = self.snapshots / f".{self.current.version}.{os.getpid()}"
                shutil.rmtree(tmp, ignore_errors=True)
                shutil.copytree(self.folder, tmp, ignore=shutil.ignore_patterns(".*"))
                private_tree(tmp)  # copytree kept content/'s modes; the data folder is the line's alone
                try:
                    same = fingerprint(self.folder) == self._fingerprint
                except OSError:
                    same = False
                if not same:  # content/ changed while it was copied: the next check publishes it
                    shutil.rmtree(tmp, ignore_errors=True)
                    return
                try:
                    os.rename(tmp, target)
                    os.utime(target)  # copytree kept content/'s time; pruning goes by this one
                except OSError:  # another worker kept the same version first
                    shutil.rmtree(tmp, ignore_errors=True)
            link = self.snapshots / f".current.{os.getpid()}"
            link.unlink(missing_ok=True)
            link.symlink_to(target.name)
            os.replace(link, self.snapshots / "current")
            for old in sorted(self.snapshots.iterdir(), key=lambda p: p.stat().st_mtime)[:-KEEP_SNAPSHOTS]:
                if old.is_dir() and not old.is_symlink() and old.name != self.current.version and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:  # a snapshot helps a later start; it never stops this one
            log.warning("could not keep a copy of content version %s: %s", self.current.version, exc)

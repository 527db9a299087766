"""A database outage in the log, as one story however many parts of the line meet it.

Every part of the line that uses the database (opt-outs, replay ids, texts from calls, usage
events, the purge, /healthz, the schema made on start) tells `Outage` of a failure, and of a
success. When the failure is the database being away (`covers`), the outage is logged:

- once when it starts (ERROR): what is unreachable (the kind of database) and why, as a short
  category (connection refused, timed out, ...), with where it failed first: the line's own frames,
  outermost first, and the exceptions' type names. Never the URL nor the driver's message: both
  can name the host, the port and the user.
- while it lasts, at most one line a minute (WARNING): how many failures, and how many texts and
  call steps were answered without it;
- once when it ends (WARNING): how long it lasted, and the same counts.

Each worker process tells its own (each line names its pid): gunicorn's workers share no memory.

Failures that are not the database being away are not counted here: their callers log them as
before. The clock is `time.monotonic` unless given (tests give their own).
"""
from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from sqlalchemy import exc as sqlalchemy_exc

log = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parent.parent  # line/: whose frames the first failure names
UNNAMED_FRAMES = {(str(PACKAGE / "store" / "database.py"), "guarded_method")}  # a wrapper: its method is named
KINDS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}

# What a driver's message says, read (never logged) for the category, in this order.
REASON_WORDS = (
    ("host name not found", ("could not translate host name", "name or service not known", "nodename nor servname",
                             "name resolution", "no address associated")),
    ("authentication failed", ("authentication failed", "no password supplied", 'role "', "pg_hba.conf")),
    ("database does not exist", ("does not exist",)),
    ("connection refused", ("connection refused",)),
    ("timed out", ("timeout", "timed out", "database is locked")),
    ("connection lost", ("server closed the connection", "terminating connection", "consuming input failed",
                         "connection already closed", "connection is closed", "connection is lost", "eof detected",
                         "connection reset", "broken pipe", "ssl syscall error", "server conn crashed")),
)
REASON_TYPES = ((socket.gaierror, "host name not found"), (ConnectionRefusedError, "connection refused"),
                (TimeoutError, "timed out"), (ConnectionResetError, "connection lost"), (BrokenPipeError, "connection lost"))


class StoreUnavailable(RuntimeError):
    """The database timed out a moment ago: answer without it rather than wait again."""


class FirstFailure(Exception):
    """What the start of an outage carries as its exception: where the first failure happened (the
    line's own frames) and the exceptions' type names, without their messages."""


def chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from, outermost first."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def category(exc: BaseException) -> str:
    """Why the database is away, as one of a few safe words, read from the error and its causes."""
    errors = chain(exc)
    for error in errors:
        if isinstance(error, StoreUnavailable):
            return "timed out"
        for kind, name in REASON_TYPES:
            if isinstance(error, kind):
                return name
    said = " ".join(str(error) for error in errors).lower()
    for name, words in REASON_WORDS:
        if any(word in said for word in words):
            return name
    return "other"


def type_names(exc: BaseException) -> str:
    """'sqlalchemy.exc.OperationalError from psycopg.OperationalError': the types, no messages."""
    return " from ".join(f"{type(e).__module__}.{type(e).__qualname__}" for e in chain(exc))


def where(exc: BaseException, caught_in) -> str:
    """The line's own frames `exc` went through, outermost first: those that called the frame it
    was caught in (`caught_in`), then those it was raised through."""
    frames = []
    outer = caught_in
    while outer is not None:
        frames.append((outer.f_code, outer.f_lineno))
        outer = outer.f_back
    frames.reverse()
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame is caught_in:
        del frames[-1]  # raised there: its traceback names it at the line that failed
    while tb is not None:
        frames.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    named = []
    for code, line in frames:
        path = Path(code.co_filename)
        if path.is_relative_to(PACKAGE) and (code.co_filename, code.co_name) not in UNNAMED_FRAMES:
            named.append(f"{path.relative_to(PACKAGE.parent)}:{line} {code.co_qualname}")
    return " > ".join(named) or "(outside the line's code)"


class Outage:
    """One worker's view of the database being away: when it began, and what it has cost."""

    SUMMARY_SECONDS = 60.0

    def __init__(self, dialect: str, dbapi, clock: Callable[[], float] = time.monotonic):
        kinds = [StoreUnavailable, sqlalchemy_exc.OperationalError, sqlalchemy_exc.InterfaceError]
        kinds += [getattr(dbapi, name) for name in ("OperationalError", "InterfaceError") if hasattr(dbapi, name)]
        self.kinds = tuple(kinds)
        self.database = f"the {KINDS.get(dialect, dialect)} database"
        self.clock = clock
        self.since: float | None = None  # when the outage began (by `clock`), None while the database is up
        self.failures = 0
        self.answered = {"texts": 0, "call steps": 0}  # answered without the database, this outage
        self._summary_at = 0.0
        self._lock = threading.Lock()
        self._request = threading.local()  # whether this thread's request met the outage

    def covers(self, exc: BaseException) -> bool:
        """Whether `exc` is the database being unreachable (logged here, not by the caller)."""
        return any(isinstance(error, self.kinds) for error in chain(exc))

    def failed(self, exc: BaseException) -> bool:
        """A use of the database failed with `exc`: counted and logged here if it is the database
        being away (True), else left to the caller to log (False)."""
        if not self.covers(exc):
            return False
        self._request.met = True
        with self._lock:
            now = self.clock()
            self.failures += 1
            if self.since is None:
                self.since, self._summary_at = now, now + self.SUMMARY_SECONDS
                first = FirstFailure(f"first failed in {where(exc, sys._getframe(1))}: {type_names(exc)}")
                log.error("the database is unreachable (%s, %s); worker %d answers without it until it is back",
                          self.database, category(exc), os.getpid(), exc_info=(FirstFailure, first, None))
            else:
                self._summarize(now)
        return True

    def succeeded(self) -> None:
        """A use of the database worked: an outage, if there was one, is over."""
        if self.since is None:  # the usual case: no lock
            return
        with self._lock:
            if self.since is not None:
                log.warning("the database is back after %.0f s (worker %d): %s", self.clock() - self.since, os.getpid(),
                            self._counts())
                self.since, self.failures = None, 0
                self.answered = dict.fromkeys(self.answered, 0)

    def request_began(self) -> None:
        """A text or a call step is being answered in this thread."""
        self._request.met = False

    def request_answered(self, what: str) -> None:
        """It has been answered (`what`: 'texts' or 'call steps'): counted if it met the outage."""
        if not getattr(self._request, "met", False):
            return
        self._request.met = False
        with self._lock:
            if self.since is not None:
                self.answered[what] += 1

    def _summarize(self, now: float) -> None:
        if now >= self._summary_at:
            self._summary_at = now + self.SUMMARY_SECONDS
            log.warning("the database is still unreachable: %d failures in %.0f s; %s (worker %d)",
                        self.failures, now - self.since, self._counts(failures=False), os.getpid())

    def _counts(self, failures: bool = True) -> str:
        answered = " and ".join(f"{n} {what if n != 1 else what[:-1]}" for what, n in self.answered.items())
        return (f"{self.failures} failures; " if failures else "") + f"{answered} answered without it"

"""When to try a shared storage (Redis) again after it could not be reached: the line answers
without it meanwhile (the rate limits count in each worker, replay ids go to the database), and
one request tries it again after 1, 2, 4 ... 32 seconds. Its loss is logged once, its return once."""
from __future__ import annotations

import logging
import time

MAX_RETRY_SECONDS = 32


class Backoff:
    def __init__(self, log: logging.Logger, lost: str, back: str):
        """`lost`: the warning when it cannot be reached (formatted with the error's kind); `back`:
        the line logged when it answers again."""
        self.log, self.lost, self.back = log, lost, back
        self.retry_at = 0.0
        self.pause = 1.0
        self.failing = False

    def due(self) -> bool:
        """Whether to ask the storage now (always, unless it failed a moment ago)."""
        return time.monotonic() >= self.retry_at

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            self.log.warning(self.lost, type(exc).__name__)
        self.failing = True
        self.retry_at = time.monotonic() + self.pause
        self.pause = min(MAX_RETRY_SECONDS, self.pause * 2)

    def succeeded(self) -> None:
        if self.failing:
            self.log.info(self.back)
        self.failing, self.pause = False, 1.0

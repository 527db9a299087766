"""A child process that speaks files with pyttsx3, so an espeak-ng crash never takes down
`line audio`: the parent starts a fresh worker and tries again.

Protocol: one JSON request a line on stdin ({"text", "voice", "rate", "path"}); one line back
on stdout, "done" or "error: ...".
"""
from __future__ import annotations

import json
import sys
import threading
import time

WAIT_SECONDS = 30


class Saved:
    """Stands in for sys.stdout: pyttsx3's espeak driver prints "Audio saved to PATH" from
    espeak's own thread once a file is complete, sometimes after runAndWait has returned."""

    def __init__(self):
        self.text = ""
        self.changed = threading.Condition()

    def write(self, s: str) -> int:
        with self.changed:
            self.text += s
            self.changed.notify_all()
        return len(s)

    def flush(self) -> None:
        pass

    def wait_for(self, path: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while f"Audio saved to {path}" not in self.text:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            self.text = ""
            return True


def main() -> None:
    out = sys.stdout
    saved = Saved()
    sys.stdout = saved  # keep pyttsx3's prints out of the protocol
    import pyttsx3

    engine = pyttsx3.init()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            engine.setProperty("voice", request["voice"])
            engine.setProperty("rate", request["rate"])
            # One save_to_file, then runAndWait, per file: queuing several writes only the last.
            engine.save_to_file(request["text"], request["path"])
            engine.runAndWait()
            answer = "done" if saved.wait_for(request["path"], WAIT_SECONDS) else "error: no file was written"
        except Exception as exc:  # reported to the parent, which retries
            answer = f"error: {type(exc).__name__}: {exc}"
        out.write(answer + "\n")
        out.flush()


if __name__ == "__main__":
    main()

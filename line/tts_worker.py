"""A child process that speaks files with pyttsx3, so an espeak-ng crash never takes down
`line audio`: the parent starts a fresh worker and tries again.

Protocol: the speaking rate as the one argument (`python -m line.tts_worker 150`); then one JSON
request a line on stdin ({"text", "voice", "rate", "path"}, the rate the worker's own); one line
back on stdout, "done" or "error: ...".

A worker speaks at one rate, set once before anything is said. pyttsx3's espeak driver sends a
new rate to espeak-ng's queue, and its next runAndWait may cancel what is queued while espeak-ng
finishes the last file: the rate was lost, and most slow clips came out as long as their twins.
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
    rate = int(sys.argv[1])
    out = sys.stdout
    saved = Saved()
    sys.stdout = saved  # keep pyttsx3's prints out of the protocol
    import pyttsx3

    engine = pyttsx3.init()
    engine.setProperty("rate", rate)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["rate"] != rate:
                raise ValueError(f"this worker speaks at rate {rate}, not {request['rate']}")
            engine.setProperty("voice", request["voice"])
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

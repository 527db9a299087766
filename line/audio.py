"""Spoken prompts as audio files: rendered offline with pyttsx3 (espeak-ng), phone quality.

`line audio` renders every prompt and summary the phone menu can say, in each language and
each pace, to 8 kHz mono WAV files named by a hash of the words and the voice settings, so
only what changed is rendered again. The line plays them with <Play> when LINE_AUDIO=files,
and falls back to <Say> for any prompt without a file.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import selectors
import subprocess
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from flask import Blueprint, abort, current_app, send_from_directory

log = logging.getLogger(__name__)

RATES = {False: 175, True: 150}  # words a minute setting for pyttsx3: normal and slower pace
SLOWER_BY = 1.10  # a slow clip lasts at least this much longer than its twin at the normal pace
PHONE_RATE = 8000
ATTEMPTS = 4


def clip_name(text: str, espeak_voice: str, slow: bool) -> str:
    key = f"{espeak_voice}|{RATES[slow]}|{PHONE_RATE}|{text}".encode()
    return hashlib.sha256(key).hexdigest()[:32] + ".wav"


def duration(path: Path) -> float:
    """Seconds of audio in a WAV file; 0 when the file is missing, empty or not a WAV."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnframes() <= 0 or w.getframerate() <= 0:
                return 0.0
            return w.getnframes() / w.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0


class AudioFiles:
    """The rendered clips the running line may play; looks at the folder at most every few seconds."""

    def __init__(self, folder: Path, enabled: bool, rescan_seconds: float = 5.0):
        self.folder = Path(folder)
        self.enabled = enabled
        self.rescan_seconds = rescan_seconds
        self._names: frozenset[str] = frozenset()
        self._next_scan = 0.0

    def names(self) -> frozenset[str]:
        """The clips there are (one set object while they stay the same: answers are remembered by it)."""
        now = time.monotonic()
        if now >= self._next_scan:
            self._next_scan = now + self.rescan_seconds
            try:
                names = frozenset(p.name for p in os.scandir(self.folder) if p.name.endswith(".wav"))
            except OSError:
                names = frozenset()
            if names != self._names:
                self._names = names
        return self._names


@dataclass
class Rendered:
    name: str
    text: str
    seconds: float
    status: str  # "rendered", "cached" or "failed"
    attempts: int = 0
    slower: float | None = None  # a slow clip: how many times as long as its twin at the normal pace
    why: str = ""  # why it failed


class Speaker:
    """pyttsx3 with espeak-ng, in a child process (line/tts_worker.py): espeak-ng can crash
    its process, and pyttsx3 cannot safely start a second engine in the same one."""

    TIMEOUT = 60

    def __init__(self, rate: int = RATES[False]):
        self.rate = rate  # a worker speaks at one rate (line/tts_worker.py says why)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "line.tts_worker", str(rate)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=str(Path(__file__).resolve().parent.parent),
        )

    def save(self, text: str, espeak_voice: str, rate: int, path: Path) -> None:
        request = {"text": text, "voice": espeak_voice, "rate": rate, "path": str(path)}
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise OSError("the speech worker stopped") from exc
        # selectors (epoll or poll), not select.select: a web server's worker may hold more than
        # 1024 descriptors, past which select() refuses (the staff console renders in the server).
        with selectors.DefaultSelector() as waiting:
            waiting.register(self.proc.stdout, selectors.EVENT_READ)
            ready = waiting.select(self.TIMEOUT)
        answer = self.proc.stdout.readline() if ready else ""
        if answer.strip() != "done":
            self.close()
            raise OSError(f"the speech worker failed: {answer.strip() or 'no answer'}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def to_phone_quality(source: Path, target: Path) -> None:
    """Any WAV pyttsx3 wrote (22 kHz, 16-bit) -> 8 kHz mono 16-bit, about a fifth of the size."""
    import soxr

    with wave.open(str(source), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"expected 16-bit audio, got {8 * width}-bit")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    phone = soxr.resample(samples, rate, PHONE_RATE) if rate != PHONE_RATE else samples
    pcm = (np.clip(phone, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    tmp = target.with_suffix(".part")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(PHONE_RATE)
        out.writeframes(pcm)
    os.replace(tmp, target)


def render(pieces: Iterable[tuple[str, str, bool]], folder: Path, speaker_factory: Callable[[int], Speaker] = Speaker,
           progress: Callable[[int, int, Rendered], None] | None = None) -> list[Rendered]:
    """Render (text, espeak_voice, slow) pieces that have no valid file yet; verify each, retry.

    Valid: a WAV with a duration, and for a slow piece, at least SLOWER_BY times as long as its
    twin at the normal pace (rendered just before it); a slow clip that is not is rendered again,
    and after ATTEMPTS tries it fails and is removed, so that Twilio's slower voice says it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = sorted(set(pieces))  # each text's normal pace (False) comes just before its slow one
    speakers: dict[bool, Speaker] = {}  # one worker per pace: a worker speaks at one rate
    results = []

    def drop(slow: bool) -> None:
        speaker = speakers.pop(slow, None)
        if speaker is not None and hasattr(speaker, "close"):
            speaker.close()

    for i, (text, espeak_voice, slow) in enumerate(wanted, start=1):
        name = clip_name(text, espeak_voice, slow)
        target = folder / name
        twin = duration(folder / clip_name(text, espeak_voice, False)) if slow else 0.0

        def slow_enough(seconds: float) -> bool:
            return not slow or not twin or seconds >= SLOWER_BY * twin

        seconds = duration(target)
        if seconds > 0 and slow_enough(seconds):
            result = Rendered(name, text, seconds, "cached")
        else:
            result = Rendered(name, text, 0.0, "failed")
            raw = folder / f".raw-{os.getpid()}.wav"
            for attempt in range(1, ATTEMPTS + 1):
                result.attempts = attempt
                try:
                    if slow not in speakers:
                        speakers[slow] = speaker_factory(RATES[slow])
                    raw.unlink(missing_ok=True)
                    speakers[slow].save(text, espeak_voice, RATES[slow], raw)
                    if duration(raw) <= 0:
                        raise OSError("pyttsx3 left an empty or missing file")
                    if not slow_enough(duration(raw)):
                        raise OSError(f"the slow clip is {duration(raw) / twin:.2f} times as long as its twin, "
                                      f"not {SLOWER_BY:.2f}")
                    to_phone_quality(raw, target)
                    seconds = duration(target)
                    if seconds > 0:
                        result.seconds, result.status, result.why = seconds, "rendered", ""
                        break
                except Exception as exc:  # espeak-ng hiccups: start a fresh worker and try again
                    log.warning("rendering a clip failed (attempt %d): %s", attempt, exc)
                    result.why = str(exc)
                    drop(slow)
            raw.unlink(missing_ok=True)
            if result.status == "failed":
                target.unlink(missing_ok=True)  # never a slow clip that is not slower
        if slow and twin and result.seconds:
            result.slower = result.seconds / twin
        results.append(result)
        if progress:
            progress(i, len(wanted), result)
    for slow in list(speakers):
        drop(slow)
    return results


def prune(folder: Path, keep: set[str]) -> int:
    """Remove clips no prompt uses any more."""
    removed = 0
    for path in Path(folder).glob("*.wav"):
        if path.name not in keep:
            path.unlink()
            removed += 1
    return removed


# -- serving ---------------------------------------------------------------------------------
bp = Blueprint("audio", __name__)
_CLIP = re.compile(r"^[0-9a-f]{32}\.wav$")


@bp.get("/audio/<name>")
def clip(name: str):
    """A rendered clip. Names are hashes of their words, so a name's audio never changes."""
    if not _CLIP.match(name):
        abort(404)
    folder = current_app.extensions["line"].audio.folder
    response = send_from_directory(folder, name, mimetype="audio/wav", max_age=31536000)
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response

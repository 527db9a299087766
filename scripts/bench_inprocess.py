"""The same kind of signed requests as scripts/bench, sent straight into the WSGI app in this process:
no server, no network, no load generator sharing the CPU. Steadier than the server benchmark on
a busy machine, so it is the one that says what each part of an answer costs.

    .venv/bin/python scripts/bench_inprocess.py            # the line, bare Flask, each part off
    .venv/bin/python scripts/bench_inprocess.py --rounds 9 # more rounds, steadier minimums
    .venv/bin/python scripts/bench_inprocess.py --new-message  # a never-seen 10-word message understood

Prints microseconds per request (the best of the rounds) for each; with --new-message, how long
the engine takes to answer a 10-word text it has never seen (its memo and the matcher's word
caches cannot have it: every message is new, from words of both languages, some misspelt, some
the content never uses), median and 99th percentile.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORT = 8000


def environs(requests: Path) -> list[tuple[dict, bytes]]:
    """WSGI environs as gunicorn makes them (RAW_URI included) for each line of a request file."""
    out = []
    for row in requests.read_text().splitlines():
        path, signature, body = row.split("\t")
        data = body.encode()
        out.append(({
            "REQUEST_METHOD": "POST", "PATH_INFO": path.partition("?")[0], "QUERY_STRING": path.partition("?")[2],
            "RAW_URI": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(PORT), "HTTP_HOST": f"127.0.0.1:{PORT}",
            "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(data)), "HTTP_X_TWILIO_SIGNATURE": signature, "REMOTE_ADDR": "127.0.0.1",
            "SCRIPT_NAME": "", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        }, data))
    return out


def replay(app, requests: list[tuple[dict, bytes]]) -> tuple[float, dict[str, int]]:
    """Seconds per request for one pass over `requests`, and the statuses answered."""
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    for environ, data in requests:
        environ = dict(environ, **{"wsgi.input": io.BytesIO(data)})
        answer = app(environ, start_response)
        for _ in answer:
            pass
        getattr(answer, "close", lambda: None)()  # as a server does: usage is written on close
    return (time.perf_counter() - started) / len(requests), statuses


# Words people write, in both languages, with some the content never uses and some misspelt.
WORDS = {
    "en": ("my mom has cancer and the doctor said she might get immunotherapy next month is it safe "
           "what are side efects how long does treatment take do you need a port will insurance pay "
           "clinical trial near me kidney melanoma lung breast colon liver tired fever worried scared "
           "grandson appointment pharmacy yesterday wednesday honestly confused about cells pills cream "
           "vein bladder experimental results nih research rosenberg interleukin needle rash").split(),
    "es": ("mi mamá tiene cáncer y el doctor dijo que quizás reciba inmunoterapia el próximo mes es seguro "
           "cuáles son los efectos secundarios cuánto dura el tratamiento necesita un puerto pagará el seguro "
           "ensayo clínico cerca riñón melanoma pulmón mama colon hígado cansada fiebre preocupada miedo "
           "nieto cita farmacia ayer miércoles sinceramente confundida células pastillas crema vena vejiga "
           "experimental resultados investigación aguja sarpullido").split(),
}


def new_messages(n: int, length: int = 10) -> list[tuple[str, str]]:
    """`n` distinct messages of `length` words, never seen by the line, alternating languages."""
    import random

    rng = random.Random(1905)
    out, seen = [], set()
    while len(out) < n:
        code = ("en", "es")[len(out) % 2]
        words = rng.sample(WORDS[code], length)
        if rng.random() < 0.3:  # a slip of the finger in one word
            i = rng.randrange(length)
            w = words[i]
            if len(w) > 4:
                j = rng.randrange(1, len(w) - 1)
                words[i] = w[:j] + w[j + 1:]
        message = " ".join(words)
        if message not in seen:
            seen.add(message)
            out.append((code, message))
    return out


def never_seen(rounds: int) -> None:
    """The engine's answer (compliance, understanding, the reply) to never-seen 10-word texts."""
    import statistics

    from line.content import load_library
    from line.engine.texts import Texter, answer

    library = load_library(ROOT / "content")
    messages = new_messages(2000 * (rounds + 1))
    for _, message in messages[:2000]:  # warm up: the library's own first-use work
        answer(library, Texter(), message)
    times = []
    for code, message in messages[2000:]:
        started = time.perf_counter()
        answer(library, Texter(language=code), message)
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    p99 = times[int(len(times) * 0.99)]
    print(f"a never-seen 10-word message understood and answered in-process: median "
          f"{statistics.median(times):.0f} µs, p99 {p99:.0f} µs ({len(times)} messages, English and Spanish)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the 2,000 requests (default 5)")
    parser.add_argument("--new-message", action="store_true",
                        help="only the never-seen 10-word message figure (median and p99)")
    args = parser.parse_args()
    if args.new_message:
        never_seen(args.rounds)
        return

    work = Path(tempfile.mkdtemp(prefix="line-bench-"))
    for name in [k for k in os.environ if k.startswith(("LINE_", "TWILIO_")) or k == "DATABASE_URL"]:
        del os.environ[name]
    os.environ.update(TWILIO_AUTH_TOKEN="bench-auth-token", LINE_SECRET="bench-secret", LINE_LOG_LEVEL="WARNING",
                      LINE_SMS_RATE="100000000/minute", LINE_VOICE_RATE="100000000/minute")

    from scripts.bench import requests_file
    from scripts.bench_bare import app as bare_app
    from scripts.bench_parts import PARTS, make

    passes = []  # the warm-up's, then each round's: every text its own MessageSid (a replay is answered empty)
    for n in range(args.rounds + 1):
        requests_file(PORT, work / f"requests-{n}.tsv", 2000, salt=f"pass{n}")
        passes.append(environs(work / f"requests-{n}.tsv"))
    apps = [("bare Flask", lambda: bare_app), ("the line", lambda: make(None))]
    apps += [(f"without {part}", lambda part=part: make(part)) for part in PARTS]
    results = {}
    for i, (name, build) in enumerate(apps):
        os.environ["LINE_DATA_DIR"] = str(work / f"data-{i}")
        app = build()
        replay(app, passes[0])  # warm up: caches, connections, the first flush
        best, statuses = min((replay(app, requests) for requests in passes[1:]), key=lambda r: r[0])
        if set(statuses) != {"200 OK"}:
            raise SystemExit(f"{name}: not every request was answered: {statuses}")
        results[name] = best * 1e6
    line = results["the line"]
    print(f"in-process, best of {args.rounds} passes over 2,000 requests (µs per request)")
    for name, us in results.items():
        note = "" if name in ("bare Flask", "the line") else f"  (the part costs {line - us:.0f} µs)"
        print(f"  {name:28} {us:6.0f}{note}")


if __name__ == "__main__":
    main()

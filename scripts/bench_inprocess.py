"""The same kind of signed requests as scripts/bench, sent straight into the WSGI app in this process:
no server, no network, no load generator sharing the CPU. Steadier than the server benchmark on
a busy machine, so it is the one that says what each part of an answer costs.

    .venv/bin/python scripts/bench_inprocess.py            # the line, bare Flask, each part off
    .venv/bin/python scripts/bench_inprocess.py --rounds 9 # more rounds, steadier minimums

Prints microseconds per request (the best of the rounds) for each.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the 2,000 requests (default 5)")
    args = parser.parse_args()

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

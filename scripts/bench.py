"""Measure the line under load against the Flask ceiling.

Starts, on loopback and with the same gunicorn settings, the line (`line:create_app()`, with
signature checks, opt-out checks and usage events all on) and a bare Flask app that answers a
constant TwiML reply; drives each with the same signed, realistic Twilio requests from wrk (a
mix of texts, typos, menu steps, STOP/START, Spanish), in rounds so that each ratio compares two
runs made side by side; prints the medians of requests per second, p50, p99 and the server's CPU
time per request for each, and the ratio. Also measures start-up and content reload times. With
--parts, also the line with each of its parts switched off (scripts/bench_parts.py); for steadier
per-part costs, scripts/bench_inprocess.py replays the same requests in one process.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

TOKEN = "bench-auth-token"
REQUESTS_PER_SECOND_AT_MOST = 8000  # more than this machine serves: the requests file never wraps
LINE_NUMBER = "+15555550100"

TEXTS = [
    "side effects", "SIDE", "side efects", "Side effects??", "how is it given", "where do I get it",
    "clinical trials", "clinical trails", "TRIALS", "referral", "phone number", "what is immunotherapy",
    "MENU", "HELP", "hello", "what are the side effects of immunotherapy?", "needle", "IL2",
    "efectos secundarios", "ensayos clinicos", "qwerty asdf", "is it for me", "results", "cancer",
]
VOICE = [
    ("/voice", {}),
    ("/voice/choose?at=main&lang=en", {"Digits": "2"}),
    ("/voice/choose?at=treatment&lang=en", {"Digits": "3"}),
    ("/voice/choose?at=side-effects&lang=en", {"Digits": "*"}),
    ("/voice/choose?at=side-effects&lang=en", {"Digits": "8"}),
    ("/voice/choose?at=main&lang=en", {"SpeechResult": "side effects", "Confidence": "0.9"}),
    ("/voice/choose?at=main&lang=en", {"Digits": "6"}),
    ("/voice/choose?at=research&lang=es", {"Digits": "1"}),
    ("/voice/silence?at=main&lang=en&s=1", {}),
    ("/voice/choose?at=main&lang=en", {"Digits": "0"}),
    ("/voice/dialed?at=main&lang=en", {"DialCallStatus": "busy"}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_file(port: int, path: Path, count: int, salt: str = "") -> None:
    """A mix of signed requests: 70% texts (some STOP/START), 30% call steps. Each text has its own
    MessageSid (`salt` keeps them apart between files): the line answers a MessageSid once, and a
    text sent again (a replay) gets an empty answer, which is not what this measures."""
    validator = RequestValidator(TOKEN)
    lines = []
    for i in range(count):
        number = f"+1555010{i % 100:04d}"
        if i % 10 < 7:
            body = TEXTS[i % len(TEXTS)]
            if i % 50 == 7:
                body = "STOP"
            elif i % 50 == 8:
                body = "START"
            url_path, form = "/sms", {"Body": body, "From": number, "To": LINE_NUMBER, "MessageSid": f"SM{salt:>08}{i:024d}"}
        else:
            url_path, extra = VOICE[i % len(VOICE)]
            form = {"CallSid": f"CA{i % 40:032d}", "From": number, "To": LINE_NUMBER, **extra}
        signature = validator.compute_signature(f"http://127.0.0.1:{port}{url_path}", form)
        lines.append(f"{url_path}\t{signature}\t{urlencode(form)}")
    path.write_text("\n".join(lines) + "\n")


class Server:
    def __init__(self, app: str, port: int, workers: int, worker_class: str, threads: int, env: dict, log: Path):
        cmd = [str(Path(sys.executable).parent / "gunicorn"), app, "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
               "--backlog", "2048"]
        self.port = port
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.wait()

    def wait(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except Exception as exc:  # 404 from the bare app means it is up too
                if getattr(exc, "code", None) in (404, 405):
                    return
                time.sleep(0.1)
        raise SystemExit("gunicorn did not start in 20 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by every process in a process group (the gunicorn
    master and its workers). Other work on the machine moves it less than requests per second,
    so it is a second, steadier way to compare two apps (still not a perfectly steady one)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[2]) == group:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def run_wrk(port: int, requests: Path, connections: int, seconds: int, threads: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
           "-s", str(ROOT / "scripts" / "bench.lua"), f"http://127.0.0.1:{port}", "--", str(requests), str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    result = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    result["rps"] = result["requests"] / result["seconds"]
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return result


def startup_and_reload(env: dict) -> tuple[list[float], list[float]]:
    code = (
        "import time; t = time.perf_counter(); from line import create_app; app = create_app(); "
        "start = time.perf_counter() - t; rt = app.extensions['line']; from line.content import load_library; "
        "import statistics; times = []\n"
        "for _ in range(7):\n"
        "    t = time.perf_counter(); load_library(rt.settings.content_dir); times.append(time.perf_counter() - t)\n"
        "print(start, statistics.median(times))"
    )
    starts, reloads = [], []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        start, reload = map(float, out.stdout.split())
        starts.append(start)
        reloads.append(reload)
    return starts, reloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="load per server and round (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of bare Flask then the line (default 3): each ratio is taken within a "
                             "round, so a machine that slows down or speeds up skews no comparison")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", help="as gunicorn.conf.py serves the line")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (as gunicorn.conf.py)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a fresh data folder")
    parser.add_argument("--rate-limit-storage", default=None, help="e.g. redis://127.0.0.1:6379 (default memory://)")
    parser.add_argument("--parts", action="store_true",
                        help="then run the line again with each part switched off in turn (signature check, "
                             "rate limit, opt-out read, usage events), to say what each costs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/bench installs it: apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="line-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TWILIO_")) and k != "DATABASE_URL"}
    env.update(LINE_DATA_DIR=str(work / "data"), TWILIO_AUTH_TOKEN=TOKEN, LINE_SECRET="bench-secret",
               # The limits stay on and count every request, but so high that none is cut off:
               # the benchmark measures full answers, not cheap refusals.
               LINE_SMS_RATE="100000000/minute", LINE_VOICE_RATE="100000000/minute")
    if args.rate_limit_storage:
        env["LINE_RATE_LIMIT_STORAGE"] = args.rate_limit_storage
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    runs = [("bare Flask", "scripts.bench_bare:app"), ("the line", "line:create_app()")]
    if args.parts:
        from scripts.bench_parts import PARTS

        runs += [(f"without {part}", f"scripts.bench_parts:make({part!r})") for part in PARTS]
    rounds: list[dict[str, dict]] = []
    try:
        for _ in range(args.rounds):
            results = {}
            for name, app in runs:
                port = free_port()
                requests, warm_up = work / f"requests-{port}.tsv", work / f"warm-up-{port}.tsv"
                # Enough requests that no text is sent twice in a run (each MessageSid once).
                requests_file(port, requests, max(2000, args.seconds * REQUESTS_PER_SECOND_AT_MOST), f"{port}r")
                requests_file(port, warm_up, 2 * REQUESTS_PER_SECOND_AT_MOST, f"{port}w")
                server = Server(app, port, args.workers, args.worker_class, args.threads, env, work / "gunicorn.log")
                try:
                    run_wrk(port, warm_up, args.connections, 2, args.wrk_threads)  # warm up
                    cpu = cpu_seconds(server.proc.pid)
                    results[name] = run_wrk(port, requests, args.connections, args.seconds, args.wrk_threads)
                    results[name]["cpu_us"] = (cpu_seconds(server.proc.pid) - cpu) / results[name]["requests"] * 1e6
                finally:
                    server.stop()
            rounds.append(results)
        starts, reloads = startup_and_reload(env)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(name: str, key: str) -> float:
        return statistics.median(r[name][key] for r in rounds)

    def share(name: str) -> float:
        """The median, over rounds, of `name`'s requests per second over bare Flask's in that round."""
        return statistics.median(r[name]["rps"] / r["bare Flask"]["rps"] for r in rounds)

    print(f"gunicorn {args.workers} workers ({args.worker_class}, {args.threads} threads), wrk {args.connections} "
          f"connections, {args.rounds} rounds of {args.seconds} s each, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}; medians over the rounds")
    print(f"{'':12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'server CPU µs/request':>22}")
    for name in ("bare Flask", "the line"):
        errors = sum(r[name]["errors"] for r in rounds)
        print(f"{name:12} {median(name, 'rps'):>9.0f} {median(name, 'p50_ms'):>8.2f} "
              f"{median(name, 'p99_ms'):>8.2f} {errors:>7} {median(name, 'cpu_us'):>22.0f}")
    each = ", ".join(f"{r['the line']['rps'] / r['bare Flask']['rps']:.0%}" for r in rounds)
    print(f"the line serves {share('the line'):.0%} of bare Flask's requests per second "
          f"(rounds: {each}; docs/speed.md has the figures to compare), p99 {median('the line', 'p99_ms'):.1f} ms "
          f"(target under 20 ms)")
    print(f"server CPU per request: the line {median('the line', 'cpu_us'):.0f} µs, bare Flask "
          f"{median('bare Flask', 'cpu_us'):.0f} µs (less moved by other work on the machine)")
    if args.parts:
        print("what each part costs: the line with that part switched off")
        print(f"  {'':28} {'share of bare rate':>18} {'p99 ms':>8} {'server CPU µs/request':>22} {'the part costs':>15}")
        for name, _ in runs[2:]:
            saved = median("the line", "cpu_us") - median(name, "cpu_us")
            print(f"  {name:28} {share(name):>18.0%} {median(name, 'p99_ms'):>8.1f} "
                  f"{median(name, 'cpu_us'):>22.0f} {saved:>12.0f} µs")
    print(f"start-up (import + create_app): {statistics.median(starts) * 1000:.0f} ms; "
          f"content reload (load + validate): {statistics.median(reloads) * 1000:.0f} ms")
    if args.json:
        print(json.dumps({"rounds": rounds, "startup_s": starts, "reload_s": reloads}))


if __name__ == "__main__":
    main()

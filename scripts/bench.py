"""Measure the line under load against the Flask ceiling, on the shipped production setup.

Starts, on loopback, the line (`line:create_app()`, with signature checks, opt-out reads, rate
limits, replay checks and usage events all on) and a bare Flask app that answers a constant
TwiML reply, each under gunicorn with the project's gunicorn.conf.py (its sync workers) and
behind nginx with the site `line nginx` prints, as docs/operations.md serves it in production
(`--direct`: gunicorn alone). Drives each with the same signed, realistic Twilio requests from
wrk (a mix of texts, typos, menu steps, STOP/START, Spanish; each text its own MessageSid), in
rounds so that each ratio compares runs made side by side; prints the medians of requests per
second, p50, p99 and the server's CPU time per request for each, the ratio to bare Flask, and
the start-up and content reload times. With --compare REV, the line at git revision REV (or in
the checkout at that path) is measured in the same rounds, before the line as it is now. With
--parts, the line with each of its parts switched off (scripts/bench_parts.py).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-auth-token"
REQUESTS_PER_SECOND_AT_MOST = 8000  # more than this machine serves: the requests file never wraps
LINE_NUMBER = "+15555550100"
BARE = "bare Flask"
# The targets (issue 19): a share of bare Flask's requests per second (SQLite; PostgreSQL with
# Redis), a p99 at 16 connections, start-up and content reload, in ms.
TARGET_SHARE = {"SQLite": 0.60, "PostgreSQL": 0.45}
TARGET_P99_MS, TARGET_START_MS, TARGET_RELOAD_MS = 20, 1000, 100

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
    text sent again (a replay) gets an empty answer, which is not what this measures. Signed over
    http://127.0.0.1:`port`, the URL the load is sent to (nginx's, when nginx is in front)."""
    from twilio.request_validator import RequestValidator

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


# -- what is measured --------------------------------------------------------------------------
@dataclass
class Checkout:
    """A checkout of the line: its folder (gunicorn's working directory) and its own environment."""
    label: str
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / ".venv" / "bin"


def describe(root: Path) -> str:
    """The commit a checkout is at, short, with '+' when its files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return str(root)
    return commit + ("+" if git("status", "--porcelain", "--untracked-files=no") else "")


def checkout(rev: str, work: Path, log: Path) -> Checkout:
    """The line at `rev`: a folder holding a checkout (used as it is), or a git revision of this
    repository, exported into `work` (no worktree is registered in the repository). Either is set
    up by its own scripts/setup (its own .venv, as that revision installs it)."""
    if Path(rev).is_dir():
        root = Path(rev).resolve()
        label = f"before ({describe(root)})"
    else:
        found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                               capture_output=True, text=True)
        if found.returncode != 0:
            raise SystemExit(f"--compare {rev}: neither a folder nor a git revision of {ROOT}")
        commit = found.stdout.strip()
        root = work / f"line-{commit[:7]}"
        root.mkdir()
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", commit], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(root)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {commit} failed")
        label = f"before ({commit[:7]})"
    print(f"setting up {label} in {root} (its scripts/setup; log in {log.name})...", file=sys.stderr, flush=True)
    with log.open("ab") as out:
        subprocess.run([str(root / "scripts" / "setup")], cwd=root, stdout=out, stderr=subprocess.STDOUT, check=True)
    return Checkout(label, root)


@dataclass
class Run:
    """One server to measure in each round: an app of a checkout."""
    name: str
    where: Checkout
    app: str
    line: bool = True  # the line (its database, Redis prefix, start-up), not bare Flask


# -- servers -----------------------------------------------------------------------------------
class Server:
    """gunicorn with the project's gunicorn.conf.py (options given win over it), in a session of
    its own, started in its checkout's folder with its checkout's environment."""

    def __init__(self, run: Run, port: int, options: list[str], env: dict, log: Path):
        cmd = [str(run.where.bin / "gunicorn"), run.app, "--config", str(ROOT / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--backlog", "2048", *options]
        self.port = port
        self.proc = subprocess.Popen(cmd, cwd=run.where.root, env=env, stdout=log.open("ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.wait()

    def wait(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 30
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
        raise SystemExit("gunicorn did not start in 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def front(folder: Path, upstream: int):
    """nginx with the shipped site (plain HTTP on a free loopback port) in front of `upstream`: the
    same runner as tests/test_nginx.py. Its `port` is where the load goes."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from loadgen import Nginx

    return Nginx(folder, upstream, tls=False)


def answers(port: int, salt: str, work: Path) -> None:
    """One signed text through `port` must get 200: a wrong URL behind nginx would make every request
    of the load a 403, a cheap refusal, measured as if it were an answer."""
    import urllib.request

    one = work / f"check-{port}.tsv"
    requests_file(port, one, 1, salt)
    path, signature, body = one.read_text().rstrip("\n").split("\t")
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(), headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            if b"<Response" in response.read():
                return
    except Exception as exc:
        raise SystemExit(f"a signed text through 127.0.0.1:{port} was not answered: {exc}") from None
    raise SystemExit(f"a signed text through 127.0.0.1:{port} got no TwiML")


def cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by every process in a process group (the gunicorn
    master and its workers, or nginx's). Other work on the machine moves it less than requests
    per second, so it is a second, steadier way to compare two apps (still not a perfectly steady one)."""
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


# -- the databases each line gets --------------------------------------------------------------
class Databases:
    """A fresh PostgreSQL database for each line measured (made on the server --database-url names,
    dropped at the end), so two revisions never share a schema and nobody else's tables are touched."""

    def __init__(self, url: str):
        import psycopg

        self.url = url
        parts = urlsplit(url)
        self.admin = None
        errors = []
        for name in dict.fromkeys([parts.path.lstrip("/") or "postgres", "postgres"]):
            try:
                self.admin = psycopg.connect(urlunsplit(("postgresql", parts.netloc, "/" + name, parts.query, "")),
                                             autocommit=True, connect_timeout=5)
                break
            except psycopg.Error as exc:
                errors.append(str(exc).strip())
        if self.admin is None:
            raise SystemExit(f"--database-url: PostgreSQL unreachable: {'; '.join(errors)}")
        self.made: list[str] = []

    def fresh(self) -> str:
        name = f"line_bench_{os.getpid()}_{len(self.made) + 1}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))

    def drop(self) -> None:
        for name in self.made:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.close()


def forget_keys(url: str, prefixes: list[str]) -> None:
    """Delete the rate limits' counts and the replay ids a bench run left in Redis under its prefixes."""
    import redis

    client = redis.Redis.from_url(url)
    for prefix in prefixes:
        batch = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for i in range(0, len(batch), 1000):
            client.delete(*batch[i:i + 1000])
    client.close()


# -- start-up and content reload -----------------------------------------------------------------
TIMES = r"""
import os, shutil, statistics, sys, tempfile, time, uuid
from pathlib import Path
t = time.perf_counter()
from line import create_app
app = create_app()
start = time.perf_counter() - t
from twilio.request_validator import RequestValidator
client, validator = app.test_client(), RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
def text():
    form = {"Body": "side effects", "From": "+15555550142", "To": "+15555550100", "MessageSid": "SM" + uuid.uuid4().hex}
    signature = validator.compute_signature("http://localhost/sms", form)
    t = time.perf_counter()
    response = client.post("/sms", data=form, headers={"X-Twilio-Signature": signature})
    took = time.perf_counter() - t
    assert response.status_code == 200 and b"<Message>" in response.data, response.data
    return took
edited = Path(os.environ["LINE_CONTENT_DIR"]) / sys.argv[1]
text(); text()
reloads = []
for n in range(7):
    plain = text()
    with edited.open("a") as f:
        f.write(f"\n# an edit {n}\n")
    reloads.append(text() - plain)
print(start, statistics.median(reloads))
"""


def startup_and_reload(where: Checkout, env: dict, work: Path) -> tuple[list[float], list[float]]:
    """Start-up: importing the line and create_app(). Content reload: what an edit costs the first
    text answered after it (LINE_RELOAD_SECONDS=0: that request finds the change, loads, validates
    and publishes it, keeps its snapshot and answers with it), over a text answered without one."""
    starts, reloads = [], []
    for n in range(3):
        content = work / f"content-{where.root.name}-{n}"
        shutil.copytree(where.root / "content", content)
        edited = sorted(p.relative_to(content) for p in content.rglob("*.yaml"))[0]
        run_env = dict(env, LINE_DATA_DIR=str(work / f"times-{where.root.name}-{n}"), LINE_CONTENT_DIR=str(content),
                       LINE_RELOAD_SECONDS="0", LINE_LOG_LEVEL="WARNING")
        out = subprocess.run([str(where.bin / "python"), "-c", TIMES, str(edited)], cwd=where.root, env=run_env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"start-up and reload of {where.label} failed:\n{out.stderr[-2000:]}")
        start, reload = map(float, out.stdout.split()[-2:])
        starts.append(start)
        reloads.append(reload)
    return starts, reloads


def inprocess(where: Checkout) -> str | None:
    """The in-process figure for a never-seen message, where scripts/bench_inprocess.py gives one
    (its --new-message); None where it does not."""
    script = where.root / "scripts" / "bench_inprocess.py"
    if not script.is_file() or "--new-message" not in script.read_text():
        return None
    out = subprocess.run([str(where.bin / "python"), str(script), "--new-message"], cwd=where.root,
                         capture_output=True, text=True)
    if out.returncode != 0:
        return f"scripts/bench_inprocess.py --new-message failed: {out.stderr.strip()[-300:]}"
    return out.stdout.strip()


# -- the table -----------------------------------------------------------------------------------
def percent(ratio: float, decimals: int = 0) -> str:
    """A ratio as a percentage, cut (not rounded) to `decimals`: 59.96% is never shown as the 60% it misses."""
    scale = 10 ** decimals
    return f"{math.floor(ratio * 100 * scale + 1e-6) / scale:.{decimals}f}%"


def median(rounds: list[dict], name: str, key: str) -> float:
    return statistics.median(r[name][key] for r in rounds)


def share(rounds: list[dict], name: str) -> float:
    """The median, over rounds, of `name`'s requests per second over bare Flask's in that round."""
    return statistics.median(r[name]["rps"] / r[BARE]["rps"] for r in rounds)


def verdict(rounds: list[dict], times: dict, name: str, store: str) -> str:
    """Which of the targets `name` meets, in these results."""
    start, reload = (statistics.median(t) * 1000 for t in times[name]) if name in times else (None, None)
    ratio, p99 = share(rounds, name), median(rounds, name, "p99_ms")
    checks = [(f"{TARGET_SHARE[store]:.0%} of bare Flask ({percent(ratio, 1)})", ratio >= TARGET_SHARE[store]),
              (f"p99 under {TARGET_P99_MS} ms ({p99:.1f})", p99 < TARGET_P99_MS)]
    if start is not None:
        checks += [(f"start-up under {TARGET_START_MS / 1000:g} s ({start:.0f} ms)", start < TARGET_START_MS),
                   (f"content reload under {TARGET_RELOAD_MS} ms ({reload:.0f})", reload < TARGET_RELOAD_MS)]
    met = [what for what, ok in checks if ok]
    missed = [what for what, ok in checks if not ok]
    return f"{name}, targets met: {', '.join(met) or 'none'}; not met: {', '.join(missed) or 'none'}"


def table(setup: str, rounds: list[dict], times: dict[str, tuple[list[float], list[float]]], parts: list[str] = (),
          store: str = "SQLite") -> str:
    """The results as text: one row per app measured (medians over the rounds), each line's ratio
    to bare Flask (median of the rounds' ratios, and each round's), start-up and content reload,
    and which of the targets each line meets (`store`: "SQLite" or "PostgreSQL", whose targets)."""
    names = list(rounds[0])
    wide = max(len(name) for name in names)
    lines = [setup + f"; {len(rounds)} rounds, medians over them",
             f"{'':{wide}} {'req/s':>7} {'of bare':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} {'CPU µs/req':>11} "
             f"{'start-up ms':>12} {'reload ms':>10}"]
    for name in names:
        ratio = "" if name == BARE else percent(share(rounds, name))
        start = reload = ""
        if name in times:
            start = f"{statistics.median(times[name][0]) * 1000:.0f}"
            reload = f"{statistics.median(times[name][1]) * 1000:.0f}"
        errors = sum(r[name]["errors"] for r in rounds)
        lines.append(f"{name:{wide}} {median(rounds, name, 'rps'):>7.0f} {ratio:>8} {median(rounds, name, 'p50_ms'):>7.1f} "
                     f"{median(rounds, name, 'p99_ms'):>7.1f} {errors:>7} {median(rounds, name, 'cpu_us'):>11.0f} "
                     f"{start:>12} {reload:>10}")
    for name in names:
        if name != BARE and name not in parts:
            each = ", ".join(percent(r[name]['rps'] / r[BARE]['rps']) for r in rounds)
            lines.append(f"{name}: {percent(share(rounds, name))} of bare Flask's requests per second (rounds: {each})")
    if parts:
        now = next(name for name in names if name != BARE and name not in parts and name.startswith("now"))
        lines.append(f"what each part costs: {now} with that part switched off, in server CPU a request")
        for name in parts:
            lines.append(f"  {name:28} {median(rounds, now, 'cpu_us') - median(rounds, name, 'cpu_us'):>6.0f} µs")
    if "nginx_cpu_us" in rounds[0][BARE]:
        spent = ", ".join(f"{name} {median(rounds, name, 'nginx_cpu_us'):.0f}" for name in names)
        lines.append(f"nginx's own CPU µs a request (not in the column above): {spent}")
    lines += [verdict(rounds, times, name, store) for name in names if name != BARE and name not in parts]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", metavar="REV", default=None,
                        help="also measure the line at git revision REV (exported and set up in a temporary "
                             "folder), or in the checkout at the path REV, in the same rounds: before / now")
    parser.add_argument("--seconds", type=int, default=10, help="load per server and round (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of bare Flask then the line (default 3): each ratio is taken within a "
                             "round, so a machine that slows down or speeds up skews no comparison")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn.conf.py's, (2 x cores) + 1")
    parser.add_argument("--worker-class", default=None, help="default: gunicorn.conf.py's (sync)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker (default: gunicorn.conf.py's, 1; more runs gthread workers)")
    parser.add_argument("--direct", action="store_true",
                        help="send the load straight to gunicorn, without nginx in front (default: through nginx, "
                             "as in production)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server (each line gets a fresh database there, dropped at the end); "
                             "default: SQLite in a fresh data folder")
    parser.add_argument("--rate-limit-storage", default=None, help="e.g. redis://127.0.0.1:6379 (default memory://)")
    parser.add_argument("--parts", action="store_true",
                        help="then run the line again with each part switched off in turn (signature check, "
                             "rate limit, opt-out read, usage events, replay check), to say what each costs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    return parser.parse_args(argv)


def gunicorn_options(args: argparse.Namespace) -> list[str]:
    options = []
    for flag, value in (("--workers", args.workers), ("--worker-class", args.worker_class), ("--threads", args.threads)):
        if value is not None:
            options += [flag, str(value)]
    return options


def describe_setup(args: argparse.Namespace) -> str:
    namespace: dict = {"__file__": str(ROOT / "gunicorn.conf.py")}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
    workers = args.workers or namespace.get("workers", 1)
    threads = args.threads or namespace.get("threads", 1)
    worker_class = args.worker_class or ("gthread" if threads > 1 else namespace.get("worker_class", "sync"))
    served = "gunicorn alone" if args.direct else "nginx (the shipped site) in front of gunicorn"
    store = "PostgreSQL" if args.database_url else "SQLite"
    limits = "Redis" if args.rate_limit_storage and args.rate_limit_storage.startswith(("redis", "rediss")) else "memory"
    return (f"{served}, {workers} {worker_class} workers{f' of {threads} threads' if threads > 1 else ''} "
            f"(gunicorn.conf.py{' and ' + ' '.join(gunicorn_options(args)) if gunicorn_options(args) else ''}); "
            f"{store}, rate limits in {limits}; wrk {args.connections} connections, {args.seconds} s a run")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/bench installs it: apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="line-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TWILIO_")) and k != "DATABASE_URL"}
    env.update(TWILIO_AUTH_TOKEN=TOKEN, LINE_SECRET="bench-secret", LINE_RETENTION_DAYS="1",
               # The limits stay on and count every request, but so high that none is cut off:
               # the benchmark measures full answers, not cheap refusals.
               LINE_SMS_RATE="100000000/minute", LINE_VOICE_RATE="100000000/minute")
    if not args.direct:
        env["LINE_PROXY_COUNT"] = "1"  # as behind the shipped nginx site: the URL signed is nginx's
    if args.rate_limit_storage:
        env["LINE_RATE_LIMIT_STORAGE"] = args.rate_limit_storage
    now = Checkout(f"now ({describe(ROOT)})", ROOT)
    runs = [Run(BARE, now, "scripts.bench_bare:app", line=False)]
    databases = Databases(args.database_url) if args.database_url else None
    prefixes: list[str] = []
    rounds: list[dict[str, dict]] = []
    times: dict[str, tuple[list[float], list[float]]] = {}
    try:
        if args.compare:
            before = checkout(args.compare, work, work / "setup.log")
            runs.append(Run(before.label, before, "line:create_app()"))
        runs.append(Run(now.label, now, "line:create_app()"))
        if args.parts:
            from scripts.bench_parts import PARTS

            runs += [Run(f"without {part}", now, f"scripts.bench_parts:make({part!r})") for part in PARTS]
        envs = {}
        for i, run in enumerate(runs):
            envs[run.name] = dict(env, LINE_DATA_DIR=str(work / f"data-{i}"))
            if run.line:
                prefixes.append(f"line-bench-{os.getpid()}-{i}")
                envs[run.name]["LINE_RATE_LIMIT_PREFIX"] = prefixes[-1]
                if databases:
                    envs[run.name]["DATABASE_URL"] = databases.fresh()
        for n in range(args.rounds):
            results = {}
            lines = runs[1:] if n % 2 == 0 else runs[:0:-1]  # each line first in every other round
            for run in [runs[0], *lines]:
                gunicorn_port = free_port()
                server = Server(run, gunicorn_port, gunicorn_options(args), envs[run.name], work / "gunicorn.log")
                proxy = None
                try:
                    port = gunicorn_port
                    if not args.direct:
                        proxy = front(work / f"nginx-{gunicorn_port}", gunicorn_port)
                        port = proxy.port
                    requests, warm_up = work / f"requests-{port}.tsv", work / f"warm-up-{port}.tsv"
                    # Enough requests that no text is sent twice in a run (each MessageSid once).
                    requests_file(port, requests, max(2000, args.seconds * REQUESTS_PER_SECOND_AT_MOST), f"{port}r")
                    requests_file(port, warm_up, 2 * REQUESTS_PER_SECOND_AT_MOST, f"{port}w")
                    answers(port, f"{port}c", work)
                    run_wrk(port, warm_up, args.connections, 2, args.wrk_threads)  # warm up
                    cpu = cpu_seconds(server.proc.pid)
                    nginx_cpu = cpu_seconds(proxy.proc.pid) if proxy else 0.0
                    result = run_wrk(port, requests, args.connections, args.seconds, args.wrk_threads)
                    result["cpu_us"] = (cpu_seconds(server.proc.pid) - cpu) / result["requests"] * 1e6
                    if proxy:
                        result["nginx_cpu_us"] = (cpu_seconds(proxy.proc.pid) - nginx_cpu) / result["requests"] * 1e6
                    results[run.name] = result
                finally:
                    if proxy:
                        proxy.stop()
                    server.stop()
            rounds.append({run.name: results[run.name] for run in runs})
        for run in runs:
            if run.line and not run.name.startswith("without"):
                times[run.name] = startup_and_reload(run.where, envs[run.name], work)
        figures = {run.where.label: inprocess(run.where) for run in runs if run.line and not run.name.startswith("without")}
    finally:
        if databases:
            databases.drop()
        if args.rate_limit_storage and prefixes:
            forget_keys(args.rate_limit_storage, prefixes)
        shutil.rmtree(work, ignore_errors=True)

    parts = [run.name for run in runs if run.name.startswith("without")]
    print(table(describe_setup(args), rounds, times, parts, "PostgreSQL" if args.database_url else "SQLite"))
    for label, figure in figures.items():
        if figure:
            print(f"in-process, {label}: {figure}")
    if args.json:
        print(json.dumps({"setup": describe_setup(args), "rounds": rounds, "times": times, "inprocess": figures}))


if __name__ == "__main__":
    main()

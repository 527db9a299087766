"""Helpers for tests/test_faults.py: the real line under gunicorn, a private PostgreSQL cluster,
and a bounded load of signed texts whose every answer is judged against a model of each number.

Everything here binds to 127.0.0.1 only, is bounded in time and count, and is stopped by the
test that started it (process groups and clusters this module made, nothing else).
"""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from xml.etree import ElementTree

import requests

from conftest import ROOT, TOKEN, twilio_signature

GUNICORN = Path(sys.executable).parent / "gunicorn"
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The child processes of `pid`, from /proc (Linux 3.5+): gunicorn's workers of its master."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:  # the task ended meanwhile
            pass
    return sorted(found)


def wait_until(proc: subprocess.Popen, name: str, condition: Callable[[], bool], timeout: float, what: str,
               log_tail: Callable[[], str]) -> None:
    """Wait for `condition` while `proc` (named `name`) runs; fail with its log if it ends or it times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode} ({what}):\n{log_tail()}")
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{name}: no {what} within {timeout} s:\n{log_tail()}")


def end_session(proc: subprocess.Popen) -> None:
    """SIGTERM `proc`, then SIGKILL the session it leads (started with start_new_session by the
    test): its children too, and nothing this test did not start."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(timeout=5)


# -- the line --------------------------------------------------------------------------------------
class Line:
    """`gunicorn 'line:create_app()'` with 2 workers on 127.0.0.1:<free port>, env as tests/test_server.py.

    Started in a session of its own, so stop() can end the master and every worker it made."""

    def __init__(self, data_dir: Path, log: Path, worker_class: str | None = None, **extra_env: str):
        """`worker_class`: gunicorn's (one thread each), where a test needs it; by default the
        project's gunicorn.conf.py."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/sms"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LINE_", "TWILIO_")) and k != "DATABASE_URL"}
        env.update(LINE_DATA_DIR=str(data_dir), TWILIO_AUTH_TOKEN=TOKEN, LINE_SECRET="test-secret",
                   # The load sends hundreds of texts from each number: the per-number rate limit
                   # (line/limits.py) would answer them with an empty <Response/>, not the fault.
                   LINE_SMS_RATE="1000000/minute", **extra_env)
        self.log = log
        self.access_log = log.with_name(log.name + ".access")  # "<pid> status": which worker answered
        self.proc = subprocess.Popen(
            [str(GUNICORN), "line:create_app()", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
             "--graceful-timeout", "5", "--access-logfile", str(self.access_log),
             "--access-logformat", "%(p)s %(s)s", *(["--worker-class", worker_class, "--threads", "1"] if worker_class else [])],
            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            self.wait_until(lambda: len(self.workers()) == 2 and self.healthy(), START_TIMEOUT, "start")
        except BaseException:
            self.stop()
            raise

    def healthy(self) -> bool:
        try:
            return requests.get(self.base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:  # not listening yet, or no worker ready to answer
            return False

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        wait_until(self.proc, "gunicorn", condition, timeout, what, self.log_tail)

    def workers(self) -> list[int]:
        return children(self.proc.pid) if self.proc.poll() is None else []

    def answered_by(self) -> set[int]:
        """The workers that have answered a request (from gunicorn's access log)."""
        try:
            text = self.access_log.read_text(errors="replace")
        except OSError:
            return set()
        return {int(pid) for pid in re.findall(r"^<(\d+)>", text, re.M)}

    def wait_for_a_new_worker(self, before: list[int], timeout: float = 20.0) -> int:
        """Wait until a worker started after `before` has booted and answered a request (gunicorn
        counts a worker as started when it forks it, before it has loaded the line)."""
        new: list[int] = []

        def answering() -> bool:
            self.healthy()
            new[:] = [pid for pid in self.workers() if pid not in before and pid in self.answered_by()]
            return bool(new)

        self.wait_until(answering, timeout, "new worker answering in place of the killed one")
        return new[0]

    def kill_worker(self) -> int:
        """SIGKILL one worker, as the OOM killer would; gunicorn's master starts another."""
        victim = self.workers()[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM the master (workers finish what they are doing), then SIGKILL the group it leads."""
        end_session(self.proc)


# -- nginx in front ------------------------------------------------------------------------------
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """Debian's nginx with the site `line nginx` prints (line/nginx.py), in front of a gunicorn on
    127.0.0.1:`upstream_port`: a child process (not a daemon) of this test, with a prefix of its
    own in `folder` (its nginx.conf, pid file, logs and temporary files), listening on a free
    loopback port. With `tls`, it presents a self-signed certificate for 127.0.0.1 (made with
    openssl; `self.certificate` is what a client trusts) and `self.base` is https://."""

    def __init__(self, folder: Path, upstream_port: int, env: dict[str, str] | None = None, tls: bool = True):
        from line.config import Settings
        from line.nginx import site

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.certificate = folder / "cert.pem" if tls else None
        key = folder / "key.pem"
        if tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", str(key), "-out", str(self.certificate)],
                           check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        (folder / "site.conf").write_text(site(
            Settings.from_env(env or {}), listen=f"127.0.0.1:{self.port}", upstream=f"127.0.0.1:{upstream_port}",
            certificate=str(self.certificate) if tls else None, certificate_key=str(key) if tls else None))
        # The main context Debian's /etc/nginx/nginx.conf would give, with every path in the folder.
        temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")  # as root, workers would be nobody's: no way into the folder
            + f"worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} info;\n"
            + "events { worker_connections 512; }\n"
            + f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n    include {folder / 'site.conf'};\n}}\n")
        self.error_log = folder / "error.log"
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(self.error_log), "-g", "daemon off;"],
            stdout=(folder / "stdout.log").open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
            stdin=subprocess.DEVNULL)
        try:
            wait_until(self.proc, "nginx", self.listening, START_TIMEOUT, "listening", self.log_tail)
        except BaseException:
            self.stop()
            raise

    def listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for name in ("stdout.log", "error.log"):
            try:
                text += "\n".join((self.folder / name).read_text(errors="replace").splitlines()[-lines:]) + "\n"
            except OSError:
                pass
        return text or "(no log)"

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown), then SIGKILL its workers too."""
        end_session(self.proc)


# -- a private PostgreSQL ------------------------------------------------------------------------
class PostgresUnavailable(Exception):
    """No PostgreSQL binaries, or no way to run initdb here."""


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb into a temporary folder, its own port,
    loopback and a socket in that folder): the test may stop and start it at will without touching
    the machine's shared server. As root, every PostgreSQL command runs as the `postgres` user
    (initdb refuses root); the folder is made in /tmp (pytest's own folders are closed to others)."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: [int(x) for x in p.parent.parent.name.split(".") if x.isdigit()])
        if not bins:
            found = shutil.which("initdb")
            if not found:
                raise PostgresUnavailable("no initdb in /usr/lib/postgresql/*/bin or on PATH")
            bins = [Path(found)]
        self.bin = bins[-1].parent
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser:
                self.as_user = [runuser, "-u", "postgres", "--"]
            else:
                raise PostgresUnavailable("running as root without runuser: initdb would refuse")
        self.dir = Path(tempfile.mkdtemp(prefix="line-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.started = False
        try:
            if os.geteuid() == 0:
                import pwd

                pw = pwd.getpwnam("postgres")
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                      "-E", "UTF8", "--locale=C")
            self.start()
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "line")
        except BaseException as exc:
            self.cleanup()
            if isinstance(exc, (OSError, subprocess.CalledProcessError, KeyError)):
                raise PostgresUnavailable(f"could not start a private PostgreSQL: {exc}") from exc
            raise

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/line"

    def _run(self, tool: str, *args: str, timeout: float = 30) -> str:
        done = subprocess.run([*self.as_user, str(self.bin / tool), *args], cwd=self.dir, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, [tool, *args], done.stdout, done.stderr)
        return done.stdout

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c full_page_writes=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"), "-w",
                  "-t", "20", "start")
        self.started = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "20", "stop")
        self.started = False

    def cleanup(self) -> None:
        """Always: stop the cluster (by its own pid if pg_ctl cannot) and delete its folder."""
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists():
            try:
                self.stop("immediate")
            except Exception:
                try:
                    os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)  # the postmaster we started
                except (OSError, ValueError, IndexError):
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the load ------------------------------------------------------------------------------------
def parse(response: requests.Response) -> list[str] | None:
    """The texts of a valid MessagingResponse, or None when it is not one."""
    if response.status_code != 200 or not response.headers.get("Content-Type", "").startswith("text/xml"):
        return None
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        return None
    if root.tag != "Response" or any(child.tag != "Message" for child in root):
        return None
    return [m.text or "" for m in root]


@dataclass
class Sent:
    """One request as the load saw it. outcome: ok | failed (no valid TwiML, or the error text
    when the database was up) | error_reply (the error text while the database was down) | wrong."""
    thread: int
    number: str
    body: str
    start: float
    end: float
    outcome: str
    detail: str = ""
    replies: list[str] | None = None


@dataclass
class Fault:
    name: str
    at: float  # when it began (monotonic)
    in_flight: int  # requests sent and not yet answered at that moment
    done_at: float = 0.0  # when the fault's action returned (e.g. the database is back)


@dataclass
class Words:
    """What the load sends, and what the line answers each body with no fault: `answers` for a
    number that is opted in (an opted-out one gets an empty <Response/>, except for `always`),
    `confirm` for a STOP or START word the line recorded, `again` for one that changed nothing."""
    questions: list[tuple[str, float]]  # body, weight
    stop: list[str]
    start: list[str]
    confirm: dict[str, list[str]]  # the line's reply to each STOP/START word when it changes the state
    answers: dict[str, list[str]]  # the reply to each question for a number that is opted in
    always: set[str] = field(default_factory=set)  # answered even when opted out (HELP)
    # ... and to a STOP/START word when the number was already so (a second ALTO is not confirmed
    # again; START from a number that never opted out gets the menu); missing: the same as `confirm`
    again: dict[str, list[str]] = field(default_factory=dict)
    error_text: str = ""
    opt_weight: float = 0.25
    # Each number's first text, sent before the load: a number the line has never answered gets
    # `first` (the first_text notice, then the answer); `answers` hold from then on.
    first_body: str = ""
    first: list[str] = field(default_factory=list)


class Load:
    """A few threads, each with numbers of its own, texting the line for a bounded time.

    Each thread keeps the last STOP or START the line confirmed for each of its numbers. A STOP or
    START whose answer does not say it was recorded (no answer, or the error text) is sent again
    until one does, as a texter who got no answer would; so each number's last word is known.
    """

    def __init__(self, url: str, words: Words, *, threads: int = 8, numbers_per_thread: int = 3,
                 seconds: float = 5.0, max_per_thread: int = 2000, seed: int = 7,
                 prefix: str = "+1555701", accept: Callable[[str, list[str], float], str | None] | None = None,
                 error_ok: Callable[[float, float], bool] | None = None, retry_for: float = 15.0):
        self.url, self.words = url, words
        self.threads, self.seconds, self.max_per_thread = threads, seconds, max_per_thread
        self.numbers = [[f"{prefix}{t:02d}{n:02d}" for n in range(numbers_per_thread)] for t in range(threads)]
        self.model: dict[str, bool | None] = {n: False for group in self.numbers for n in group}
        self.seed = seed
        # accept(body, replies, start), for an opted-in number: None to judge by `answers`, "" when
        # the reply is fine, else what is wrong with it (the content test accepts old or new text).
        self.accept = accept
        # error_ok(start, end): may a request sent then get the error text? (the database was down)
        self.error_ok = error_ok or (lambda start, end: False)
        self.retry_for = retry_for
        self.sent: list[Sent] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self.t0 = 0.0

    # -- one request -------------------------------------------------------------------------
    def _post(self, session: requests.Session, thread: int, number: str, body: str) -> tuple[Sent, list[str] | None]:
        data = {"Body": body, "From": number, "To": "+15555550100", "MessageSid": "SM" + uuid.uuid4().hex}
        headers = {"X-Twilio-Signature": twilio_signature(TOKEN, self.url, data)}
        with self._lock:
            self._in_flight += 1
        start = time.monotonic()
        replies, detail = None, ""
        try:
            response = session.post(self.url, data=data, headers=headers, timeout=10)
            replies = parse(response)
            if replies is None:
                detail = f"HTTP {response.status_code} {response.headers.get('Content-Type')}: {response.text[:80]!r}"
        except requests.RequestException as exc:
            detail = type(exc).__name__
        finally:
            end = time.monotonic()
            with self._lock:
                self._in_flight -= 1
        return Sent(thread, number, body, start, end, "failed" if replies is None else "ok", detail, replies), replies

    def _error_reply(self, sent: Sent) -> None:
        """The line's error text: promised while the database is down, a failure any other time
        (settled after the run, once the fault's window is known)."""
        sent.outcome = "error_reply"

    def _judge(self, sent: Sent, replies: list[str], expected: list[str]) -> None:
        if self.words.error_text and replies == [self.words.error_text]:
            self._error_reply(sent)
            return
        if self.accept is not None and expected:
            verdict = self.accept(sent.body, replies, sent.start)
            if verdict is not None:
                if verdict:
                    sent.outcome, sent.detail = "wrong", verdict
                return
        if replies != expected:
            sent.outcome = "wrong"
            state = "opted out" if self.model[sent.number] else "opted in"
            lost = "AN OPT-OUT LOST: " if self.model[sent.number] and replies else ""
            sent.detail = f"{lost}{sent.body!r} from a number {state}: got {replies!r}, expected {expected!r}"

    def _record(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)

    def _opt(self, session, thread: int, number: str, body: str, give_up: float) -> None:
        value = body in self.words.stop
        confirm = self.words.confirm[body]
        again = self.words.again.get(body, confirm)
        expected = [confirm if self.model[number] != value else again]
        while True:
            sent, replies = self._post(session, thread, number, body)
            self._record(sent)
            if replies in expected:
                self.model[number] = value
                return
            expected = [confirm, again]  # sent again: the first may have been recorded unanswered
            if replies is not None and replies != [self.words.error_text]:
                sent.outcome, sent.detail = "wrong", f"{body!r} got {replies!r}"
                self.model[number] = None  # unknown from here on
                return
            if replies is not None:
                self._error_reply(sent)
            # Not recorded (the line said so), or no answer at all (in doubt): send it again.
            if time.monotonic() > give_up:
                self.model[number] = None
                return
            time.sleep(0.05)

    def _run_thread(self, thread: int, deadline: float) -> None:
        rng = random.Random(self.seed * 1000 + thread)
        w = self.words
        bodies = [b for b, _ in w.questions]
        weights = [wt for _, wt in w.questions]
        with requests.Session() as session:
            for _ in range(self.max_per_thread):
                if time.monotonic() >= deadline:
                    return
                number = rng.choice(self.numbers[thread])
                if self.model[number] is None:
                    continue  # an opt word that never got through: judged at the end
                if rng.random() < w.opt_weight:
                    body = rng.choice(w.start if self.model[number] else w.stop) if rng.random() < 0.7 else \
                        rng.choice(w.stop + w.start)
                    self._opt(session, thread, number, body, deadline + self.retry_for)
                    continue
                body = rng.choices(bodies, weights)[0]
                sent, replies = self._post(session, thread, number, body)
                if replies is not None:
                    expected = [] if self.model[number] and body not in w.always else w.answers[body]
                    self._judge(sent, replies, expected)
                self._record(sent)

    # -- the run -------------------------------------------------------------------------------
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def introduce(self) -> None:
        """Each number's first text (`words.first_body`), one after another before the load: the
        line's first answer to a number leads with the first_text notice, and only the first."""
        with requests.Session() as session:
            for number in (n for group in self.numbers for n in group):
                sent, replies = self._post(session, -1, number, self.words.first_body)
                if replies is not None:
                    self._judge(sent, replies, self.words.first)
                self._record(sent)

    def run(self, faults: list[tuple[float, str, Callable[[], object]]]) -> None:
        """Text for `seconds`; at each (offset, name, action), note what is in flight and act."""
        if self.words.first_body:
            self.introduce()
        self.t0 = time.monotonic()
        deadline = self.t0 + self.seconds
        workers = [threading.Thread(target=self._run_thread, args=(t, deadline), daemon=True)
                   for t in range(self.threads)]
        for w in workers:
            w.start()
        try:
            for offset, name, action in sorted(faults, key=lambda f: f[0]):
                time.sleep(max(0.0, self.t0 + offset - time.monotonic()))
                fault = Fault(name, time.monotonic(), self.in_flight())
                self.faults.append(fault)
                action()
                fault.done_at = time.monotonic()
        finally:
            for w in workers:
                w.join(timeout=self.seconds + self.retry_for + 30)
        assert not any(w.is_alive() for w in workers), "the load did not stop by itself"
        for sent in self.sent:
            if sent.outcome == "error_reply" and not self.error_ok(sent.start, sent.end):
                sent.outcome, sent.detail = "failed", "the error text outside the database's downtime"

    # -- what happened -------------------------------------------------------------------------
    def counts(self) -> Counter:
        return Counter(s.outcome for s in self.sent)

    def failed(self) -> list[Sent]:
        return [s for s in self.sent if s.outcome == "failed"]

    def problems(self) -> list[str]:
        """Wrong answers (a topic to an opted-out number, a mixed or unexpected text, a STOP or
        START answered as if recorded differently), and opt words never confirmed."""
        found = [f"{s.number} at {s.start - self.t0:.2f}s: {s.detail}" for s in self.sent if s.outcome == "wrong"]
        found += [f"{n}: its last STOP/START was never confirmed" for n, v in self.model.items() if v is None]
        return found

    def final_states(self, topic: str, topic_reply: list[str]) -> list[str]:
        """Text `topic` from every number: an opted-out number gets an empty <Response/>, an
        opted-in one the topic. Returns the numbers whose state is not the model's last word."""
        wrong = []
        with requests.Session() as session:
            for group in self.numbers:
                for number in group:
                    expected = [] if self.model[number] else topic_reply
                    _, replies = self._post(session, -1, number, topic)
                    if replies != expected:
                        last = "STOP" if self.model[number] else "START (or nothing)"
                        wrong.append(f"{number}: last confirmed word {last}, but {topic!r} got {replies!r}")
        return wrong

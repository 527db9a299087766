"""A database that is away: texters and callers still get the referral number at once, and the
log tells the outage as one short story (issue 22), however many texts and calls meet it.

A database that times out (a host that is down drops packets) must not make texters wait. One
that goes away while the line runs is PostgreSQL behind a small TCP forwarder the test stops
(closing every connection through it, as a database that stops does) and starts again. The log
is read as the server writes it: a handler on the root logger with the line's format."""
import io
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from xml.etree import ElementTree

import pytest
from sqlalchemy import exc as sqlalchemy_exc

from conftest import MOBILE, Twilio, make_settings, message_sid
from line import LOG_FORMAT, create_app
from line.store.outage import StoreUnavailable, category
from phone import Caller
from test_store import PG_HOST, PG_PORT, postgres_server  # noqa: F401 (a fixture)

REFERRAL = "1-866-820-4505"
SPOKEN_REFERRAL = "one. eight, six, six. eight, two, zero. four, five, zero, five"
PASSWORD = "pw-never-in-the-log"
SID = "AC" + "7" * 32  # texting from calls set up (Twilio is never reached: the store fails first)


class SilentServer:
    """Accepts connections on loopback and never answers, like a host that has gone away."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def test_after_one_slow_failure_texts_are_answered_at_once(tmp_path):
    server = SilentServer()
    try:
        url = f"postgresql://line@127.0.0.1:{server.port}/line?connect_timeout=1"
        app, took = timed(lambda: create_app(make_settings(tmp_path, database_url=url)))
        assert took < 5  # the line starts even so
        twilio = Twilio(app)
        replies = []
        for _ in range(5):
            reply, took = timed(lambda: twilio.text("side effects"))
            replies.append((reply, took))
        for reply, _ in replies:
            assert len(reply) == 1 and "1-866-820-4505" in reply[0]  # the referral number, every time
        assert all(took < 0.3 for _, took in replies[1:]), replies  # no second wait on the database
        stop, took = timed(lambda: twilio.text("STOP"))
        assert took < 0.3 and "1-866-820-4505" in stop[0]  # not claimed: it could not be recorded
    finally:
        server.close()


# -- an outage while the line runs --------------------------------------------------------------
class Forwarder:
    """A port on loopback that forwards to PostgreSQL. `stop()` closes it and every connection
    through it (pooled connections break, new ones are refused); `start()` opens it again."""

    def __init__(self, target=(PG_HOST, PG_PORT)):
        self.target, self.port, self.live = target, 0, []
        self.start()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # the same port each time
        listener.listen(64)
        self.listener, self.port = listener, listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
                server = socket.create_connection(self.target)
            except OSError:
                return
            self.live += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        for sock in [self.listener, *self.live]:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads waiting on it
            except OSError:
                pass
            sock.close()
        self.live = []


class Clock:
    """The outage log's clock, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Database:
    """A PostgreSQL database of its own, owned by a user of its own, reached through a Forwarder."""

    def __init__(self, server):
        self.server, self.name, self.user = server, server.new_name(), server.prefix + "_operator"
        server.admin.execute(f"CREATE ROLE {self.user} LOGIN PASSWORD '{PASSWORD}'")
        server.admin.execute(f'CREATE DATABASE "{self.name}" OWNER {self.user}')
        self.forwarder = Forwarder()
        self.url = f"postgresql://{self.user}:{PASSWORD}@127.0.0.1:{self.forwarder.port}/{self.name}"

    def leaked(self, log: str) -> list[str]:
        """What of who, with what password, where, the log holds (each line names the worker's pid,
        which is no secret: left out, in case it has the port's digits)."""
        log = log.replace(f"worker {os.getpid()}", "worker")
        return [s for s in (self.user, PASSWORD, "127.0.0.1", str(self.forwarder.port), self.name) if s in log]

    def close(self):
        self.forwarder.stop()
        self.server.drop(self.name)
        self.server.admin.execute(f"DROP ROLE IF EXISTS {self.user}")


@pytest.fixture(autouse=True)
def replays_not_quiet(monkeypatch):
    """line/replays.py says it could not check for replays once a minute: here, as a fresh worker."""
    monkeypatch.setattr("line.replays._quiet_until", 0.0)


@pytest.fixture
def database(postgres_server):  # noqa: F811 (the fixture imported above)
    db = Database(postgres_server)
    yield db
    db.close()


@contextmanager
def server_log():
    """The log as the server writes it (INFO and up, the line's format), each physical line."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: out.getvalue().splitlines()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def line_on(tmp_path, database, clock=None):
    app = create_app(make_settings(tmp_path, database_url=database.url, twilio_account_sid=SID))
    if clock is not None:
        app.extensions["line"].store.outage.clock = clock
    return app


def text(app, number: str, body: str = "side effects") -> list[str]:
    """A text as Twilio sends it; the texts of the TwiML answer (parsed: it must be valid)."""
    twilio = Twilio(app, returning=False)  # the test itself writes nothing to the database
    response = twilio.post("/sms", {"Body": body, "From": number, "To": "+15555550100", "MessageSid": message_sid()})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [message.text or "" for message in root.iter("Message")]


def answered_with_the_referral_number(app, number: str, body: str = "side effects") -> bool:
    messages = text(app, number, body)
    return bool(messages) and all(REFERRAL in m for m in messages)


def done(app):
    """Write what the line has queued while the database is up, and let go of it (so no thread of
    this line's tries a database gone with the test)."""
    store = app.extensions["line"].store
    assert store.flush() >= 0
    store.dispose()


def starts(log: list[str]) -> list[str]:
    return [line for line in log if "the database is unreachable" in line]


def test_with_the_database_stopped_100_texts_add_a_few_lines_and_each_gets_the_referral_number(tmp_path, database):
    clock = Clock()
    with server_log() as log:
        app = line_on(tmp_path, database, clock)
        assert "Side effects are different" in " ".join(text(app, "+15555550001"))  # the database is up
        before = len(log())
        database.forwarder.stop()  # gone away while the line runs: its connections break
        answered = [answered_with_the_referral_number(app, f"+1555555{i:04d}") for i in range(100)]
        assert answered == [True] * 100
        assert app.extensions["line"].store.flush() == -1  # usage events kept for later, nothing logged
        database.forwarder.start()
        assert "Side effects are different" in " ".join(text(app, "+15555550001"))  # back: topics again
        added = log()[before:]
        whole = "\n".join(log())
        done(app)
    assert len(added) < 10, "\n".join(added)
    [start] = starts(added)
    assert "ERROR" in start and "the PostgreSQL database, connection lost" in start
    [first] = [line for line in added if "FirstFailure" in line]  # where, in the line's own code
    assert "first failed in line/sms.py" in first and "line/store/" in first and "OperationalError" in first
    [end] = [line for line in added if "the database is back after" in line]
    assert "100 texts and 0 call steps answered without it" in end
    assert len(added) == 3, "\n".join(added)  # the start, where it failed first, the end: nothing else
    assert database.leaked(whole) == []


def test_a_call_during_an_outage_gets_the_referral_number_and_is_counted(tmp_path, database):
    with server_log() as log:
        app = line_on(tmp_path, database, Clock())
        database.forwarder.stop()
        caller = Caller(app, number=MOBILE)  # each step is checked: valid TwiML that leads somewhere
        greeting = caller.call()
        assert greeting.gather is not None and "N C I referral office, press zero" in greeting.said
        caller.say("side effects")
        texting = caller.press("7")  # "get this by text" needs the database: the number instead
        assert SPOKEN_REFERRAL in texting.said
        assert caller.wait().gather is not None  # then the main menu again
        assert caller.press("0").root.find("Dial") is not None  # put through to the referral office
        database.forwarder.start()
        assert "Side effects are different" in " ".join(text(app, "+15555550002"))
        done(app)
    [end] = [line for line in log() if "the database is back after" in line]
    assert "0 texts and 1 call step answered without it" in end


def test_the_start_names_the_kind_of_database_and_why_never_who_or_where(tmp_path, database):
    database.forwarder.stop()
    with server_log() as log:
        app = line_on(tmp_path, database, Clock())  # starts without it
        at_start = log()
        assert answered_with_the_referral_number(app, "+15555550003", "STOP")  # not claimed: not recorded
        health = app.test_client().get("/healthz")
        assert health.status_code == 503
        assert Caller(app).call().gather is not None  # the menu, and a usage event queued
        store = app.extensions["line"].store
        store.purge.quietly()
        assert store.flush() == -1
        assert log() == at_start  # the opt-out write, /healthz, the purge, usage events: the same story
        database.forwarder.start()
        assert app.test_client().get("/healthz").status_code == 200  # its schema made now
        whole = "\n".join(log())
        done(app)
    [start] = starts(at_start)
    assert "(the PostgreSQL database, connection refused)" in start
    assert "first failed in line/__init__.py" in whole and "Store.create" in whole  # on start
    assert "the database is back after" in log()[-1]
    assert database.leaked(whole) == []
    assert "Traceback" not in whole and "server at" not in whole  # nor the driver's own words


def test_while_it_lasts_a_summary_at_most_once_a_minute_of_the_clock(tmp_path, database):
    clock = Clock()
    with server_log() as log:
        app = line_on(tmp_path, database, clock)
        database.forwarder.stop()
        summaries = lambda: [line for line in log() if "still unreachable" in line]  # noqa: E731
        for i in range(12):  # a text every 5 s for a minute
            assert answered_with_the_referral_number(app, f"+1555556{i:04d}")
            clock.now += 5
        assert summaries() == []
        assert answered_with_the_referral_number(app, "+15555570000")  # at 60 s
        [summary] = summaries()
        assert "WARNING" in summary and "failures in 60 s; 12 texts and 0 call steps answered without it" in summary
        for i in range(11):  # 55 s more: no second summary yet
            clock.now += 5
            assert answered_with_the_referral_number(app, f"+1555557{i + 1:04d}")
        assert len(summaries()) == 1
        clock.now += 5
        assert answered_with_the_referral_number(app, "+15555580000")  # at 120 s
        assert len(summaries()) == 2 and "in 120 s; 24 texts" in summaries()[1]
        database.forwarder.start()
        clock.now += 5
        text(app, "+15555580001")
        done(app)
    [end] = [line for line in log() if "the database is back after" in line]
    assert "back after 125 s" in end and "25 texts" in end


def test_a_second_outage_is_logged_again_with_where_it_first_failed(tmp_path, database):
    with server_log() as log:
        app = line_on(tmp_path, database, Clock())
        before = len(log())
        for outage in range(2):
            database.forwarder.stop()
            for i in range(5):
                assert answered_with_the_referral_number(app, f"+155555{outage}{i:04d}")
            database.forwarder.start()
            assert "Side effects are different" in " ".join(text(app, f"+155555{outage}9999"))
        done(app)
        added = log()[before:]
    assert len(starts(added)) == 2 and len([line for line in added if "FirstFailure" in line]) == 2
    assert len([line for line in added if "the database is back" in line]) == 2
    assert len(added) == 6, "\n".join(added)


def test_a_database_that_times_out_is_logged_once_not_at_each_pause(tmp_path, monkeypatch):
    """Each slow failure used to log "the database is timing out; answering without it for 2 s"."""
    monkeypatch.setattr("line.store.database.PAUSE_AFTER_SLOW_FAILURE", 0.0)  # every text waits again
    server = SilentServer()
    try:
        with server_log() as log:
            url = f"postgresql://line@127.0.0.1:{server.port}/line?connect_timeout=1"
            app = create_app(make_settings(tmp_path, database_url=url))
            at_start = log()
            for i in range(2):
                assert answered_with_the_referral_number(app, f"+1555559{i:04d}")
            assert log() == at_start
        [start] = starts(at_start)
        assert "(the PostgreSQL database, timed out)" in start
    finally:
        server.close()


def refused_by(message: str) -> sqlalchemy_exc.OperationalError:
    """A driver's error as SQLAlchemy raises it, with `message` as the driver's words."""
    try:
        try:
            raise OSError(message)
        except OSError as driver:
            raise sqlalchemy_exc.OperationalError("SELECT 1", None, driver) from driver
    except sqlalchemy_exc.OperationalError as exc:
        return exc


@pytest.mark.parametrize("message, reason", [
    ('connection to server at "db.example.org" (10.0.0.5), port 5432 failed: Connection refused', "connection refused"),
    ('connection to server at "10.0.0.5", port 5432 failed: timeout expired', "timed out"),
    ('connection to server at "10.0.0.5", port 5432 failed: FATAL:  password authentication failed for user "line"',
     "authentication failed"),
    ('connection to server at "10.0.0.5", port 5432 failed: FATAL:  role "line" does not exist', "authentication failed"),
    ('connection to server at "10.0.0.5", port 5432 failed: FATAL:  database "line" does not exist',
     "database does not exist"),
    ('failed to resolve host \'db.example.org\': [Errno -2] Name or service not known', "host name not found"),
    ("consuming input failed: server closed the connection unexpectedly", "connection lost"),
    ("terminating connection due to administrator command", "connection lost"),
    ("disk I/O error", "other"),
])
def test_why_the_database_is_away_is_read_from_the_drivers_words_into_a_few_safe_ones(message, reason):
    assert category(refused_by(message)) == reason


def test_why_is_read_from_the_error_itself_too():
    assert category(StoreUnavailable("the database timed out a moment ago")) == "timed out"
    assert category(ConnectionRefusedError()) == "connection refused"
    assert category(socket.gaierror(-2, "Name or service not known")) == "host name not found"


def test_failures_that_are_not_the_database_being_away_are_logged_as_before(tmp_path, monkeypatch):
    with server_log() as log:
        app = create_app(make_settings(tmp_path))  # SQLite, up
        store = app.extensions["line"].store
        assert Caller(app).call().gather is not None  # a usage event, queued

        @contextmanager
        def broken_write():
            raise ValueError("a bug, not an outage")
            yield

        monkeypatch.setattr(store.db, "write", broken_write)
        assert store.flush() == -1
        assert store.outage.since is None  # no outage begun
        monkeypatch.undo()
        assert store.flush() == 1
    warned = [line for line in log() if "usage events" in line]
    assert len(warned) == 2 and "could not write usage events (ValueError)" in warned[0]
    assert "usage events are being written again" in warned[1]
    assert starts(log()) == []


def test_line_db_status_says_which_database_and_logs_no_outage():
    from click.testing import CliRunner

    from line.cli import main as cli

    env = {"DATABASE_URL": f"postgresql://operator:{PASSWORD}@127.0.0.1:1/line"}
    with server_log() as log:
        result = CliRunner().invoke(cli, ["db", "status"], env=env)
    assert result.exit_code == 1
    assert "postgresql://127.0.0.1:1/line: database unreachable: OperationalError" in result.output
    assert PASSWORD not in result.output and log() == []

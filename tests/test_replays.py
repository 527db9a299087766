"""Replays: a captured signed request sent again changes nothing again. Attacked as the issue
describes (a START replayed after a STOP), on SQLite and PostgreSQL, with texts' ids in the
database or in Redis (`kept_in`), on the running app and on a real gunicorn; a text by its
MessageSid or Twilio's idempotency token, a call step that sends a text by its CallSid and step;
and with Redis unreachable or silent."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import redis
import requests
from sqlalchemy import func, select, update

from conftest import (CONTENT, MOBILE, NUMBER, TOKEN, answered_before, make_settings, message_sid, replies,
                      twilio_signature)
from fake_twilio import FakeTwilio, fake_twilio  # noqa: F401 (a fixture)
from line import create_app
from line.content import load_library
from line.store import Store, numbers, seen_requests
from test_limits import REDIS_URL, UNREACHABLE, redis_prefix  # noqa: F401 (a fixture)
from test_outage import SilentServer
from test_server import Server
from test_store import db_url, pg_url, postgres_server  # noqa: F401 (fixtures)

EN = load_library(CONTENT).language("en")
SIDE = EN.topics["side-effects"].text
LINE_NUMBER = "+15555550100"
SID = "AC" + "4" * 32
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["database", "redis"])
def kept_in(request):
    """Where texts' ids are kept: the settings for the database (the default), or for Redis (the
    real one on 127.0.0.1:6379, under a prefix of this test's own, deleted afterwards)."""
    if request.param == "database":
        return {}
    return {"rate_limit_storage": REDIS_URL, "rate_limit_prefix": request.getfixturevalue("redis_prefix")}


def seen_rows(app) -> int:
    with store_of(app).engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(seen_requests)).scalar_one()


def redis_keys(prefix: str) -> list[str]:
    return sorted(k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"{prefix}/seen/*"))


class Captured:
    """Signed requests as Twilio sent them, kept so they can be sent again, byte for byte."""

    def __init__(self, app, base: str = "http://localhost"):
        self.app = app
        self.base = base

    def text(self, body: str, number: str = NUMBER, sid: str | None = None, token: str | None = None):
        answered_before(self.app, number)  # about replays, not a first answer: a number the line has answered
        form = {"Body": body, "From": number, "To": LINE_NUMBER}
        if sid is not False:
            form["MessageSid"] = sid or message_sid()
        headers = {"X-Twilio-Signature": twilio_signature(TOKEN, self.base + "/sms", form)}
        if token:
            headers["I-Twilio-Idempotency-Token"] = token
        return form, headers

    def send(self, captured, client=None) -> list[str]:
        form, headers = captured
        response = (client or self.app.test_client()).post("/sms", data=form, headers=headers, base_url=self.base)
        assert response.status_code == 200, response.data
        return replies(response)


def store_of(app):
    return app.extensions["line"].store


def usage(app, step: str | None = None) -> list:
    return [e for e in store_of(app).events_since(EPOCH) if step is None or e.step == step]


def test_a_start_replayed_after_a_stop_subscribes_nobody_again(tmp_path, db_url, kept_in):  # noqa: F811
    app = create_app(make_settings(tmp_path, database_url=db_url, **kept_in))
    line = Captured(app)
    stop, start, stop_again = line.text("STOP"), line.text("START"), line.text("STOP")
    line.send(stop)
    assert line.send(start) == [EN.sms["opted_in"]]
    line.send(stop_again)
    assert store_of(app).is_opted_out(NUMBER)
    with store_of(app).engine.connect() as conn:
        writes = conn.execute(select(numbers.c.revision)).scalar_one()
    counted = [e.step for e in usage(app)]
    for _ in range(3):
        for captured in (start, stop, stop_again):
            assert line.send(captured) == []  # the replay: no reply, no change
    assert store_of(app).is_opted_out(NUMBER)
    with store_of(app).engine.connect() as conn:
        assert conn.execute(select(numbers.c.revision)).scalar_one() == writes
    assert [e.step for e in usage(app)] == counted == ["stop", "start", "stop"]  # each counted once
    assert line.send(line.text("side effects")) == []  # and the line keeps quiet as promised


def test_a_replayed_question_gets_no_reply_and_is_counted_once(tmp_path, kept_in):
    app = create_app(make_settings(tmp_path, **kept_in))
    line = Captured(app)
    question = line.text("side effects")
    assert line.send(question) == [SIDE]
    assert [line.send(question) for _ in range(5)] == [[]] * 5  # a replay costs no text
    assert len(usage(app)) == 1
    assert line.send(line.text("side effects")) == [SIDE]  # the same words in a new message: answered


def test_twilios_idempotency_token_is_honoured(tmp_path, kept_in):
    app = create_app(make_settings(tmp_path, **kept_in))
    line = Captured(app)
    assert line.send(line.text("side effects", token="tok-1")) == [SIDE]
    assert line.send(line.text("side effects", token="tok-1")) == []  # another MessageSid, the same token
    assert line.send(line.text("trials", sid=False, token="tok-2")) == [EN.topics["trials"].text]
    assert line.send(line.text("trials", sid=False, token="tok-2")) == []
    assert line.send(line.text("side effects", sid=False)) == [SIDE]  # neither: always new
    assert line.send(line.text("side effects", sid=False)) == [SIDE]
    assert len(usage(app)) == 4


def test_one_stop_sent_many_times_at_once_is_written_once(tmp_path, db_url, kept_in):  # noqa: F811
    app = create_app(make_settings(tmp_path, database_url=db_url, **kept_in))
    line = Captured(app)
    stop, threads = line.text("STOP"), 8
    barrier, local = threading.Barrier(threads), threading.local()

    def replay(_):
        local.client = getattr(local, "client", None) or app.test_client()
        barrier.wait()
        return line.send(stop, local.client)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        assert list(pool.map(replay, range(threads), timeout=60)) == [[]] * threads
    with store_of(app).engine.connect() as conn:
        assert conn.execute(select(numbers.c.revision)).scalar_one() == 1
    assert len(usage(app, "stop")) == 1


def test_seen_ids_are_keyed_hashes_deleted_after_the_retention_period(tmp_path):
    app = create_app(make_settings(tmp_path, retention_days=30))
    line, sid = Captured(app), message_sid()
    line.send(line.text("side effects", sid=sid, token="tok-secret"))
    store = store_of(app)
    with store.engine.connect() as conn:
        kept = [row.key_hash for row in conn.execute(select(seen_requests))]
    assert sorted(kept) == sorted([store.hash("seen:message:" + sid), store.hash("seen:token:tok-secret")])
    assert not any(sid in k or "tok" in k for k in kept)
    with store.engine.begin() as conn:
        conn.execute(update(seen_requests).values(at=datetime.now(timezone.utc) - timedelta(days=31)))
    assert store.purge()["seen request ids deleted"] == 2
    assert line.send(line.text("side effects", sid=sid)) == [SIDE]  # forgotten: answered as new


def test_every_seen_id_past_the_retention_period_is_deleted_a_few_hundred_at_a_time(db_url):  # noqa: F811
    """The purge finds old ids by reading the table through (no index on `at`) and deletes them in
    short writes: every old one goes, whatever the count, and none of the recent ones."""
    store = Store(db_url, b"k" * 32, retention_days=30)
    store.upgrade()
    old, recent = datetime.now(timezone.utc) - timedelta(days=31), datetime.now(timezone.utc)
    with store.engine.begin() as conn:
        conn.execute(seen_requests.insert(), [{"key_hash": f"old{i:061d}", "at": old} for i in range(1234)])
        conn.execute(seen_requests.insert(), [{"key_hash": f"new{i:061d}", "at": recent} for i in range(7)])
    assert store.purge()["seen request ids deleted"] == 1234
    with store.engine.connect() as conn:
        assert sorted(conn.execute(select(seen_requests.c.key_hash)).scalars()) == [f"new{i:061d}" for i in range(7)]
    store.dispose()


def test_a_replayed_call_step_sends_no_second_text_and_is_counted_once(tmp_path, fake_twilio, kept_in):  # noqa: F811
    """A call step's ids stay in the database with Redis too: written with the text's reservation."""
    app = create_app(make_settings(tmp_path, twilio_account_sid=SID, twilio_api_url=fake_twilio.url, **kept_in))
    client = app.test_client()

    def press(path: str, token: str | None = None) -> str:
        form = {"CallSid": "CA" + "9" * 32, "From": MOBILE, "To": LINE_NUMBER, "Digits": "7"}
        headers = {"X-Twilio-Signature": twilio_signature(TOKEN, "http://localhost" + path, form)}
        if token:
            headers["I-Twilio-Idempotency-Token"] = token
        response = client.post(path, data=form, headers=headers)
        assert response.status_code == 200 and b"<Gather" in response.data, response.data
        return response.get_data(as_text=True)

    first = press("/voice/choose?at=side-effects&lang=en", token="tok-a")
    assert "We sent a text message" in first and "t=1" in first  # the next press is a new step
    for _ in range(3):
        assert press("/voice/choose?at=side-effects&lang=en") == first  # the same words, nothing sent
    assert "We sent a text message" in press("/voice/choose?at=side-effects&lang=en&t=1", token="tok-a")  # same token
    assert fake_twilio.sent == 1
    assert "We sent a text message" in press("/voice/choose?at=side-effects&lang=en&t=1", token="tok-b")
    assert fake_twilio.sent == 2
    assert [e.outcome for e in usage(app, "side-effects")] == ["texted", "texted"]


def test_a_replay_over_http_on_a_real_gunicorn_changes_nothing(tmp_path, db_url, kept_in):  # noqa: F811
    env = {"LINE_RATE_LIMIT_STORAGE": kept_in["rate_limit_storage"],
           "LINE_RATE_LIMIT_PREFIX": kept_in["rate_limit_prefix"]} if kept_in else {}
    server = Server(tmp_path / "data", tmp_path / "gunicorn.log", DATABASE_URL=db_url, **env)
    try:
        captured = {}
        for name, body in (("stop", "STOP"), ("start", "START"), ("stop again", "STOP"), ("question", "side effects")):
            form = {"Body": body, "From": NUMBER, "To": LINE_NUMBER, "MessageSid": message_sid()}
            captured[name] = (form, {"X-Twilio-Signature": twilio_signature(TOKEN, server.base + "/sms", form)})

        def send(name: str) -> list[str]:
            form, headers = captured[name]
            response = requests.post(server.base + "/sms", data=form, headers=headers, timeout=10)
            assert response.status_code == 200, response.text
            return replies_of(response.content)

        send("stop")
        assert send("start") == [EN.sms["opted_in"]]
        send("stop again")
        assert send("start") == []  # replayed after the STOP
        assert send("question") == []  # still opted out: the line keeps quiet
    finally:
        server.stop()


def replies_of(xml: bytes) -> list[str]:
    from xml.etree import ElementTree

    return [m.text or "" for m in ElementTree.fromstring(xml).iter("Message")]


# -- Redis: where the rate limits count there, texts' ids are kept there too ----------------------
def test_with_redis_a_texts_ids_are_keyed_hashes_there_for_the_retention_period_and_none_in_the_database(
        tmp_path, redis_prefix):
    app = create_app(make_settings(tmp_path, retention_days=30, rate_limit_storage=REDIS_URL,
                                   rate_limit_prefix=redis_prefix))
    line, sid = Captured(app), message_sid()
    assert line.send(line.text("side effects", sid=sid, token="tok-secret")) == [SIDE]
    store = store_of(app)
    keys = redis_keys(redis_prefix)
    assert keys == sorted(f"{redis_prefix}/seen/{store.hash(k)}" for k in ("seen:message:" + sid, "seen:token:tok-secret"))
    assert not any(sid in k or "tok" in k for k in keys)
    client = redis.Redis.from_url(REDIS_URL)
    assert all(30 * 86400 - 60 < client.ttl(k) <= 30 * 86400 for k in keys)  # Redis forgets them by itself
    assert seen_rows(app) == 0  # no database write for it
    client.delete(*keys)  # forgotten (as after the retention period): answered as new
    assert line.send(line.text("side effects", sid=sid)) == [SIDE]


def test_with_redis_unreachable_the_database_refuses_replays_and_the_line_answers(tmp_path, caplog):
    app = create_app(make_settings(tmp_path, rate_limit_storage=UNREACHABLE))
    line = Captured(app)
    stop, start, stop_again = line.text("STOP"), line.text("START"), line.text("STOP")
    line.send(stop)
    assert line.send(start) == [EN.sms["opted_in"]]
    line.send(stop_again)
    assert line.send(start) == []  # the replay after the STOP: refused
    assert store_of(app).is_opted_out(NUMBER)
    assert seen_rows(app) == 3  # kept in the database meanwhile
    lost = [r for r in caplog.records if "could not reach Redis" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING  # once, not per text


def test_when_redis_is_back_texts_ids_go_there_again(tmp_path, redis_prefix):
    app = create_app(make_settings(tmp_path, rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix))
    line, replays = Captured(app), app.extensions["line"].replays
    reachable, replays.redis.client = replays.redis.client, redis.Redis.from_url(UNREACHABLE)
    during = line.text("side effects")
    assert line.send(during) == [SIDE]
    assert seen_rows(app) == 1 and redis_keys(redis_prefix) == []
    replays.redis.client, replays.backoff.retry_at = reachable, 0.0  # back, and its pause over
    after = line.text("trials")
    assert line.send(after) == [EN.topics["trials"].text]
    assert seen_rows(app) == 1 and len(redis_keys(redis_prefix)) == 1
    assert line.send(after) == []
    # What each place knows is its own: the text seen during the outage is answered as new once more.
    assert line.send(during) == [SIDE]
    assert line.send(during) == []


def test_a_silent_redis_holds_one_text_half_a_second_and_the_next_ones_not_at_all(tmp_path):
    server = SilentServer()  # accepts and never answers, like a host gone away
    try:
        app = create_app(make_settings(tmp_path, rate_limit_storage=f"redis://127.0.0.1:{server.port}"))
        app.extensions["line_limits"].check = lambda channel: False  # the limits wait on it too (test_limits)
        line, took = Captured(app), []
        for _ in range(5):
            started = time.monotonic()
            assert line.send(line.text("side effects")) == [SIDE]
            took.append(time.monotonic() - started)
        assert took[0] < 2 and all(t < 0.3 for t in took[1:]), took
        assert seen_rows(app) == 5
    finally:
        server.close()


def test_with_redis_and_the_database_unreachable_a_text_is_answered_as_new_with_valid_twiml(tmp_path):
    app = create_app(make_settings(tmp_path, rate_limit_storage=UNREACHABLE,
                                   database_url="postgresql://line@127.0.0.1:1/line?connect_timeout=1"))
    form = {"Body": "side effects", "From": NUMBER, "To": LINE_NUMBER, "MessageSid": message_sid()}
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, "http://localhost/sms", form)}
    for _ in range(2):  # nothing can be recorded, so the same text is answered each time
        response = app.test_client().post("/sms", data=form, headers=headers)
        assert response.status_code == 200
        said = replies(response)
        assert len(said) >= 1 and "1-866-820-4505" in said[-1]

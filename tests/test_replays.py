"""Replays: a captured signed request sent again changes nothing again. Attacked as the issue
describes (a START replayed after a STOP), on SQLite and PostgreSQL, on the running app and on a
real gunicorn; a text by its MessageSid or Twilio's idempotency token, a call step that sends a
text by its CallSid and step."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import select, update

from conftest import (CONTENT, MOBILE, NUMBER, TOKEN, answered_before, make_settings, message_sid, replies,
                      twilio_signature)
from fake_twilio import FakeTwilio, fake_twilio  # noqa: F401 (a fixture)
from line import create_app
from line.content import load_library
from line.store import Store, numbers, seen_requests
from test_server import Server
from test_store import db_url, pg_url, postgres_server  # noqa: F401 (fixtures)

EN = load_library(CONTENT).language("en")
SIDE = EN.topics["side-effects"].text
LINE_NUMBER = "+15555550100"
SID = "AC" + "4" * 32
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


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


def test_a_start_replayed_after_a_stop_subscribes_nobody_again(tmp_path, db_url):  # noqa: F811
    app = create_app(make_settings(tmp_path, database_url=db_url))
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


def test_a_replayed_question_gets_no_reply_and_is_counted_once(tmp_path):
    app = create_app(make_settings(tmp_path))
    line = Captured(app)
    question = line.text("side effects")
    assert line.send(question) == [SIDE]
    assert [line.send(question) for _ in range(5)] == [[]] * 5  # a replay costs no text
    assert len(usage(app)) == 1
    assert line.send(line.text("side effects")) == [SIDE]  # the same words in a new message: answered


def test_twilios_idempotency_token_is_honoured(tmp_path):
    app = create_app(make_settings(tmp_path))
    line = Captured(app)
    assert line.send(line.text("side effects", token="tok-1")) == [SIDE]
    assert line.send(line.text("side effects", token="tok-1")) == []  # another MessageSid, the same token
    assert line.send(line.text("trials", sid=False, token="tok-2")) == [EN.topics["trials"].text]
    assert line.send(line.text("trials", sid=False, token="tok-2")) == []
    assert line.send(line.text("side effects", sid=False)) == [SIDE]  # neither: always new
    assert line.send(line.text("side effects", sid=False)) == [SIDE]
    assert len(usage(app)) == 4


def test_one_stop_sent_many_times_at_once_is_written_once(tmp_path, db_url):  # noqa: F811
    app = create_app(make_settings(tmp_path, database_url=db_url))
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


def test_a_replayed_call_step_sends_no_second_text_and_is_counted_once(tmp_path, fake_twilio):  # noqa: F811
    app = create_app(make_settings(tmp_path, twilio_account_sid=SID, twilio_api_url=fake_twilio.url))
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


def test_a_replay_over_http_on_a_real_gunicorn_changes_nothing(tmp_path, db_url):  # noqa: F811
    server = Server(tmp_path / "data", tmp_path / "gunicorn.log", DATABASE_URL=db_url)
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

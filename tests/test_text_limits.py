"""The limits on "get this by text" hold under a race: per call, per number and for the whole line,
and once per step. Attacked as the issue describes: 20 presses at the same moment (8 from threads on
the running app, as many as a worker has threads; 20 over HTTP on a real gunicorn with several workers and threads), on SQLite and on
the PostgreSQL on 127.0.0.1:5432, with a fake Twilio REST API on loopback that counts the texts it
is asked to send (it answers slowly, so the presses overlap while a text is on its way)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests

from conftest import TOKEN, fictional_numbers, make_settings, twilio_signature
from fake_twilio import FakeTwilio
from line import create_app
from test_server import Server
from test_store import db_url, pg_url, postgres_server  # noqa: F401 (fixtures)

SID = "AC" + "6" * 32
LINE_NUMBER = "+15555550100"
PRESSES = 20
PER_CALL, PER_DAY, TOTAL = 2, 3, 10
LIMITS = dict(texts_per_call=PER_CALL, texts_per_day=PER_DAY, texts_per_day_total=TOTAL, text_me_rate="1000/hour")
ENV = {"TWILIO_ACCOUNT_SID": SID, "LINE_TEXTS_PER_CALL": str(PER_CALL), "LINE_TEXTS_PER_DAY": str(PER_DAY),
       "LINE_TEXTS_PER_DAY_TOTAL": str(TOTAL), "LINE_TEXT_ME_RATE": "1000/hour"}
SAID = {"We sent a text message": "sent", "already sent texts": "limit", "cannot send a text message": "refused",
        "could not send the text": "failed"}


def press_seven(base: str, post, number: str, call_sid: str, texts: int = 0) -> str:
    """A signed press of 7 at a topic, as Twilio posts it; what the caller heard of the text."""
    query = {"at": "side-effects", "lang": "en", **({"t": texts} if texts else {})}
    path = "/voice/choose?" + urlencode(query)
    form = {"CallSid": call_sid, "From": number, "To": LINE_NUMBER, "Digits": "7", "AccountSid": SID}
    status, body = post(path, form, {"X-Twilio-Signature": twilio_signature(TOKEN, base + path, form)})
    assert status == 200, body
    heard = [outcome for words, outcome in SAID.items() if words in body]
    assert len(heard) == 1, body
    return heard[0]


def attack(base: str, post, fake: FakeTwilio, presses: int = PRESSES) -> None:
    """Four races of `presses` presses each; exactly the allowed number of texts arrives every time."""
    pool = ThreadPoolExecutor(max_workers=presses)  # the same threads for every race, as a server's

    def all_at_once(jobs) -> list:
        """Run every job in its own thread, all released together; their results in order."""
        barrier = threading.Barrier(len(jobs))

        def run(job):
            barrier.wait()
            return job()

        return list(pool.map(run, jobs, timeout=120))

    try:
        races(base, post, fake, presses, all_at_once)
    finally:
        pool.shutdown()


def races(base: str, post, fake: FakeTwilio, presses: int, all_at_once) -> None:
    PRESSES = presses  # noqa: N806 (the module's default, for this attack)
    numbers = fictional_numbers()
    one_step, steps, calls = next(numbers), next(numbers), next(numbers)
    # 1. The same press 20 times (a replayed step): one text.
    heard = all_at_once([lambda: press_seven(base, post, one_step, "CA" + "1" * 32)] * PRESSES)
    assert heard == ["sent"] * PRESSES and len(fake.to(one_step)) == 1
    # 2. 20 different presses in one call: the per-call limit.
    heard = all_at_once([lambda t=t: press_seven(base, post, steps, "CA" + "2" * 32, texts=t) for t in range(PRESSES)])
    assert sorted(heard) == ["limit"] * (PRESSES - PER_CALL) + ["sent"] * PER_CALL
    assert len(fake.to(steps)) == PER_CALL
    # 3. 20 calls from one number: the per-number limit.
    heard = all_at_once([lambda c=c: press_seven(base, post, calls, f"CA{c:032d}") for c in range(PRESSES)])
    assert sorted(heard) == ["limit"] * (PRESSES - PER_DAY) + ["sent"] * PER_DAY
    assert len(fake.to(calls)) == PER_DAY
    # 4. 20 numbers at once: the line's daily cap (1 + 2 + 3 texts are already sent today).
    many = [next(numbers) for _ in range(PRESSES)]
    left = TOTAL - 1 - PER_CALL - PER_DAY
    heard = all_at_once([lambda n=n: press_seven(base, post, n, "CA" + n[2:].rjust(32, "0")) for n in many])
    assert sorted(heard) == ["refused"] * (PRESSES - left) + ["sent"] * left
    assert fake.sent == TOTAL


@pytest.fixture
def fake():
    fake = FakeTwilio(delay=0.1)
    yield fake
    fake.stop()


def test_twenty_presses_at_once_on_the_running_app(tmp_path, db_url, fake):  # noqa: F811
    app = create_app(make_settings(tmp_path, database_url=db_url, twilio_account_sid=SID,
                                   twilio_api_url=fake.url, **LIMITS))
    local = threading.local()

    def post(path, form, headers):
        if not hasattr(local, "client"):
            local.client = app.test_client()
        response = local.client.post(path, data=form, headers=headers, base_url="http://localhost")
        return response.status_code, response.get_data(as_text=True)

    # As many threads as a gthread worker has: each keeps a database connection for its reads,
    # and the pool holds 15 (SQLite) or 20 (PostgreSQL).
    attack("http://localhost", post, fake, presses=8)


def test_twenty_presses_at_once_on_a_real_gunicorn(tmp_path, db_url, fake):  # noqa: F811
    server = Server(tmp_path / "data", tmp_path / "gunicorn.log", "--workers", "2", "--threads", "4",
                    DATABASE_URL=db_url, LINE_TWILIO_API_URL=fake.url, **ENV)
    try:
        def post(path, form, headers):
            response = requests.post(server.base + path, data=form, headers=headers, timeout=30)
            return response.status_code, response.text

        attack(server.base, post, fake)
    finally:
        server.stop()


def test_a_text_twilio_refused_gives_its_reservation_back_and_one_that_may_have_gone_keeps_it(tmp_path):
    fake = FakeTwilio(status=400)  # Twilio answered: it created no message
    try:
        app = create_app(make_settings(tmp_path, twilio_account_sid=SID, twilio_api_url=fake.url, **LIMITS))
        client = app.test_client()

        def post(path, form, headers):
            response = client.post(path, data=form, headers=headers, base_url="http://localhost")
            return response.status_code, response.get_data(as_text=True)

        def press(number, call, t):
            return press_seven("http://localhost", post, number, call, texts=t)

        refused, unknown = fictional_numbers("CA"), "CA" + "7" * 32
        number = next(refused)
        assert [press(number, "CA" + "5" * 32, t) for t in range(3)] == ["failed"] * 3
        fake.status = 201
        assert [press(number, "CA" + "5" * 32, t) for t in range(3, 6)] == ["sent", "sent", "limit"]
        fake.status = 500  # Twilio's outage: the text may or may not have gone out
        other = next(refused)
        assert [press(other, unknown, t) for t in range(3)] == ["failed", "failed", "limit"]
        assert fake.sent == 2
    finally:
        fake.stop()


def test_the_daily_cap_refuses_the_rest_and_is_logged_once_without_a_number(tmp_path, caplog):
    fake = FakeTwilio()
    try:
        app = create_app(make_settings(tmp_path, twilio_account_sid=SID, twilio_api_url=fake.url,
                                       **{**LIMITS, "texts_per_day_total": 1}))
        client = app.test_client()

        def post(path, form, headers):
            response = client.post(path, data=form, headers=headers, base_url="http://localhost")
            return response.status_code, response.get_data(as_text=True)

        numbers = fictional_numbers()
        callers = [next(numbers) for _ in range(4)]
        assert [press_seven("http://localhost", post, n, "CA" + n[2:].rjust(32, "0")) for n in callers] == \
            ["sent", "refused", "refused", "refused"]
        assert fake.sent == 1
        capped = [r.getMessage() for r in caplog.records if "LINE_TEXTS_PER_DAY_TOTAL" in r.getMessage()]
        assert len(capped) == 1
        assert not any(n[1:] in caplog.text or n[-7:] in caplog.text for n in callers)
    finally:
        fake.stop()

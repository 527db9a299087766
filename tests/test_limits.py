"""Rate limits per number (issue 7): a flood from one number is cut off with valid TwiML, nobody
else is held up, opt-outs always go through, and the counts are shared through Redis.

The Redis tests use the real server on 127.0.0.1:6379 (as the store's tests use PostgreSQL), each
under its own key prefix, and delete their keys afterwards.
"""
from __future__ import annotations

import logging
import os
import statistics
import threading
import time
import uuid
from itertools import count
from pathlib import Path
from xml.etree import ElementTree

import pytest
import redis
import responses

from conftest import MOBILE, NUMBER, TOKEN, Twilio, make_settings, message_sid, replies, twilio_signature
from line import create_app
from line.content import load_library
from line.simulator import Simulator
from line.store import NumberState
from phone import Caller

LIB = load_library("content")
EN, ES = LIB.language("en"), LIB.language("es")
SIDE = EN.topics["side-effects"].text
OTHER = "+15555550199"
OTHER_MOBILE = "+12015550199"  # one the line may text
REDIS_URL = "redis://127.0.0.1:6379"
UNREACHABLE = "redis://127.0.0.1:1"
SID = "AC" + "7" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
COMPLIANCE = sorted({w for lang in LIB.languages.values()
                     for w in (*lang.opt_out_words, *lang.opt_in_words, *lang.help_words)})
OPT_OUT = {w for lang in LIB.languages.values() for w in lang.opt_out_words}


def limited_app(tmp_path, **overrides):
    return create_app(make_settings(tmp_path, **overrides))


def post_sms(twilio: Twilio, body: str, number: str = NUMBER, **extra):
    """A signed text (from a number the line has answered before, unless the phone is not
    `returning`); the response must be valid TwiML with status 200 whatever happens."""
    response = twilio.post("/sms", {"Body": body, "From": twilio.from_number(number), "To": "+15555550100", "MessageSid": message_sid(), **extra})
    assert response.status_code == 200, response.data
    return replies(response)


def store_of(app):
    return app.extensions["line"].store


# -- a flood from one number ---------------------------------------------------------------
def test_a_flood_from_one_number_is_cut_off_after_the_limit_with_an_empty_response(tmp_path):
    app = limited_app(tmp_path, sms_rate="5/minute")
    twilio = Twilio(app)
    answered = [post_sms(twilio, "side effects") for _ in range(5)]
    assert answered == [[SIDE]] * 5
    for _ in range(20):
        response = twilio.post("/sms", {"Body": "side effects", "From": NUMBER})
        assert response.status_code == 200  # never a 429: Twilio would call the fallback URL
        assert response.mimetype == "text/xml"
        root = ElementTree.fromstring(response.data)
        assert root.tag == "Response" and list(root) == []  # nothing sent: a flood costs no texts
        assert "Retry-After" not in response.headers


def test_counting_in_memory_starts_no_threads(tmp_path, monkeypatch):
    """limits' own memory storage starts a timer thread again and again to drop old counts;
    the line's (QuietMemoryStorage) sweeps them in the request that finds them due."""
    app = limited_app(tmp_path, sms_rate="1000/minute;10000/day")
    twilio = Twilio(app)
    post_sms(twilio, "side effects")  # the store's one background writer starts here
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self.name), real_start(self))[1])
    for i in range(200):
        assert post_sms(twilio, "side effects", f"+1555555{i:04d}") == [SIDE]
    assert started == []


def test_expired_counts_are_swept_from_memory(monkeypatch):
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    from line.limits import QuietMemoryStorage

    monkeypatch.setattr(QuietMemoryStorage, "SWEEP_SECONDS", 0.5)
    storage = QuietMemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    two_a_second = parse("2/second")
    assert [limiter.hit(two_a_second, "line", "a") for _ in range(3)] == [True, True, False]
    assert len(storage.counts) == 1
    time.sleep(1.1)
    assert limiter.hit(two_a_second, "line", "b")  # due: every expired count is dropped first
    assert len(storage.counts) == 1  # only b's
    assert limiter.hit(two_a_second, "line", "a")  # a new window for a


def test_the_default_limits(tmp_path):
    settings = make_settings(tmp_path)
    assert (settings.sms_rate, settings.voice_rate, settings.text_me_rate) == ("20/minute;200/day", "120/minute",
                                                                               "3/hour")
    assert settings.rate_limit_storage == "memory://"
    twilio = Twilio(create_app(settings))
    assert [post_sms(twilio, "side effects") for _ in range(21)] == [[SIDE]] * 20 + [[]]


def test_another_number_is_answered_normally_during_the_flood(tmp_path):
    app = limited_app(tmp_path, sms_rate="5/minute")
    twilio = Twilio(app)
    for i in range(30):
        assert post_sms(twilio, "side effects") == ([SIDE] if i < 5 else [])
        if i % 6 == 5:  # 5 texts from another number, in the middle of the flood
            assert post_sms(twilio, "trials", OTHER) == [EN.topics["trials"].text]
    assert post_sms(twilio, "how is it given", "+15555550198") == [EN.topics["how-given"].text]


def test_stop_and_start_from_the_flooding_number_are_honoured(tmp_path):
    app = limited_app(tmp_path, sms_rate="3/minute")
    twilio, store = Twilio(app), store_of(app)
    for _ in range(10):
        post_sms(twilio, "side effects")
    assert post_sms(twilio, "side effects") == []  # limited
    assert post_sms(twilio, "STOP") == []  # Twilio confirms STOP itself ...
    assert store.is_opted_out(NUMBER)  # ... and the line recorded it, past the limit
    [welcome] = post_sms(twilio, "start")
    assert "Welcome back" in welcome
    assert not store.is_opted_out(NUMBER)
    [confirmed] = post_sms(twilio, "¡Alto!")  # Spanish: the line confirms it itself
    assert confirmed == ES.sms["opted_out"]
    assert store.is_opted_out(NUMBER)
    assert post_sms(twilio, "INICIO") == [ES.sms["opted_in"]]
    assert not store.is_opted_out(NUMBER)
    assert post_sms(twilio, "Help") == [EN.sms["help"]]
    assert post_sms(twilio, "ayuda") == [ES.sms["help"]]


@pytest.mark.parametrize("word", COMPLIANCE)
def test_no_compliance_word_is_ever_limited_nor_counted(tmp_path, word):
    app = limited_app(tmp_path, sms_rate="2/minute")
    twilio, store = Twilio(app), store_of(app)
    for _ in range(6):
        response = twilio.post("/sms", {"Body": f" {word.lower()}. ", "From": NUMBER})
        assert response.status_code == 200
        assert store.is_opted_out(NUMBER) == (word in OPT_OUT)
    post_sms(twilio, "START")  # texts flow again (START is itself exempt)
    # none of those counted: the number still has its 2 texts
    assert post_sms(twilio, "side effects") == [SIDE]
    assert post_sms(twilio, "side effects") == [SIDE]
    assert post_sms(twilio, "side effects") == []


def test_unsigned_requests_are_refused_first_and_never_count_against_a_number(tmp_path):
    app = limited_app(tmp_path, sms_rate="2/minute")
    twilio = Twilio(app)
    for _ in range(10):
        forged = twilio.post("/sms", {"Body": "side effects", "From": NUMBER}, sign=False)
        assert forged.status_code == 403
    assert post_sms(twilio, "side effects") == [SIDE]
    assert post_sms(twilio, "side effects") == [SIDE]
    assert post_sms(twilio, "side effects") == []


def test_texts_without_a_number_share_a_key_by_address(tmp_path):
    app = limited_app(tmp_path, sms_rate="2/minute")
    client = app.test_client()

    def anonymous(address: str):
        data = {"Body": "side effects"}
        headers = {"X-Twilio-Signature": twilio_signature(TOKEN, "http://localhost/sms", data)}
        response = client.post("/sms", data=data, headers=headers, environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200
        return replies(response)

    assert anonymous("10.0.0.1") == [SIDE]
    assert anonymous("10.0.0.1") == [SIDE]
    assert anonymous("10.0.0.1") == []
    assert anonymous("10.0.0.2") == [SIDE]  # another address has its own count
    assert post_sms(Twilio(app), "side effects") == [SIDE]  # and a number its own


def test_staff_previews_are_never_limited_and_count_nothing(tmp_path, redis_prefix):
    """Not a count, not a replay id: Redis holds nothing of a preview. The same texts from a
    phone are counted there."""
    app = limited_app(tmp_path, sms_rate="2/minute", voice_rate="2/minute", rate_limit_storage=REDIS_URL,
                      rate_limit_prefix=redis_prefix)
    simulator = Simulator(app, NumberState(answered=True))
    assert all(simulator.text("side effects") == [SIDE] for _ in range(6))
    assert all(simulator.voice().waiting_for_caller for _ in range(6))
    client = redis.Redis.from_url(REDIS_URL)
    assert list(client.scan_iter(f"*{redis_prefix}*")) == []
    assert post_sms(Twilio(app), "side effects") == [SIDE]
    assert list(client.scan_iter(f"*{redis_prefix}*"))  # the check above could see them


# -- calls -----------------------------------------------------------------------------------
def test_a_flood_of_call_steps_hears_the_number_and_goodbye_then_a_hangup(tmp_path):
    app = limited_app(tmp_path, voice_rate="6/minute")
    caller = Caller(app)
    for _ in range(6):
        step = caller.post("/voice/menu?at=main&lang=en")  # Step checks: 200, TwiML, leads somewhere
        assert step.gather is not None
    step = caller.post("/voice/menu?at=main&lang=en")
    assert step.gather is None and step.hung_up
    assert "The N C I referral office phone number is" in step.said
    assert "one. eight, six, six. eight, two, zero. four, five, zero, five" in step.said
    assert "Goodbye." in step.said
    # in the call's language, on any step
    spanish = caller.post("/voice/choose?at=main&lang=es", Digits="1")
    assert spanish.hung_up and "Este es el número de teléfono" in spanish.said and "Adiós." in spanish.said
    # another caller is answered as usual
    other = Caller(app, number=OTHER)
    assert other.call().gather is not None
    assert other.press("2").gather is not None


def test_text_me_is_limited_per_number_per_hour(tmp_path):
    app = limited_app(tmp_path, twilio_account_sid=SID, text_me_rate="2/hour",
                      texts_per_call=100, texts_per_day=100)  # so the rate limit is what stops it
    with responses.RequestsMock() as twilio_api:
        twilio_api.add(responses.POST, MESSAGES_URL, status=201, json={"sid": "SM123", "status": "queued"})
        caller = Caller(app, number=MOBILE)
        caller.call()
        caller.say("side effects")
        assert "We sent" in caller.press("7").said
        assert "We sent" in caller.press("7").said
        limited = caller.press("7")
        assert "already sent texts" in limited.said  # the text_limit prompt; the call goes on
        assert limited.gather is not None
        second_call = Caller(app, number=MOBILE, call_sid="CA0002")
        second_call.call()
        second_call.say("trials")
        assert "already sent texts" in second_call.press("7").said
        assert len(twilio_api.calls) == 2
        other = Caller(app, number=OTHER_MOBILE, call_sid="CA0003")
        other.call()
        other.say("trials")
        assert "We sent" in other.press("7").said
        assert len(twilio_api.calls) == 3


def test_text_me_tries_twilio_refuses_count_too(tmp_path):
    """The store counts only texts sent; the rate limit also bounds tries Twilio keeps refusing."""
    app = limited_app(tmp_path, twilio_account_sid=SID, text_me_rate="3/hour")
    with responses.RequestsMock() as twilio_api:
        twilio_api.add(responses.POST, MESSAGES_URL, status=400,
                       json={"code": 21610, "message": "unsubscribed", "status": 400})
        caller = Caller(app, number=MOBILE)
        caller.call()
        caller.say("side effects")
        for _ in range(3):
            assert "could not send the text" in caller.press("7").said
        assert "already sent texts" in caller.press("7").said
        assert len(twilio_api.calls) == 3  # the fourth try never reached Twilio


# -- what is logged and stored: never the number -----------------------------------------------
def test_a_breach_is_logged_once_with_the_channel_and_never_the_number(tmp_path, caplog):
    app = limited_app(tmp_path, sms_rate="3/minute", voice_rate="3/minute")
    caplog.set_level(logging.DEBUG)
    twilio = Twilio(app)
    for _ in range(12):
        post_sms(twilio, "side effects")
    caller = Caller(app)
    for _ in range(6):
        caller.post("/voice/menu?at=main&lang=en")
    logged = [r.getMessage() for r in caplog.records]
    digits = NUMBER.lstrip("+")
    assert not [line for line in logged if digits in line or digits[1:] in line], "a log line holds the number"
    ours = [r for r in caplog.records if r.name == "line.limits" and r.levelno >= logging.WARNING]
    assert [r.getMessage().split()[0] for r in ours] == ["sms", "voice"]  # once each, however long the flood


def test_the_key_is_a_keyed_hash_of_the_number(tmp_path):
    limits = limited_app(tmp_path).extensions["line_limits"]
    key = limits.key_for(NUMBER)
    assert NUMBER.lstrip("+") not in key and len(key) == 65
    assert key == limits.key_for(f" {NUMBER} ") != limits.key_for(OTHER)
    other_secret = create_app(make_settings(tmp_path / "b", secret="another-secret")).extensions["line_limits"]
    assert other_secret.key_for(NUMBER) != key


def test_a_rate_that_does_not_parse_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="LINE_SMS_RATE"):
        limited_app(tmp_path, sms_rate="lots")
    with pytest.raises(ValueError, match="LINE_TEXT_ME_RATE"):
        limited_app(tmp_path / "b", text_me_rate="3 an hour")


# -- Redis: shared across workers and hosts -----------------------------------------------------
@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the real Redis; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"these tests need Redis on 127.0.0.1:6379 ({exc})")
    prefix = f"line-test-{uuid.uuid4().hex}"
    yield prefix
    keys = [*client.scan_iter(f"LIMITS:LIMITER/{prefix}/*"), *client.scan_iter(f"{prefix}/seen/*")]  # counts, replay ids
    if keys:
        client.delete(*keys)
    assert not list(client.scan_iter(f"*{prefix}*"))
    client.close()


def test_two_apps_on_redis_share_one_count(tmp_path, redis_prefix):
    """Two create_app (two workers, or two hosts) with one Redis: one count per number."""
    settings = dict(rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix, sms_rate="4/minute")
    first = Twilio(limited_app(tmp_path / "a", **settings))
    second = Twilio(limited_app(tmp_path / "b", **settings))
    assert post_sms(first, "side effects") == [SIDE]
    assert post_sms(second, "side effects") == [SIDE]
    assert post_sms(first, "side effects") == [SIDE]
    assert post_sms(second, "side effects") == [SIDE]
    assert post_sms(first, "side effects") == []
    assert post_sms(second, "side effects") == []
    assert post_sms(second, "trials", OTHER) == [EN.topics["trials"].text]
    # and the text-me count too
    texting = dict(settings, twilio_account_sid=SID, text_me_rate="1/hour")
    apps = [limited_app(tmp_path / "c", **texting), limited_app(tmp_path / "d", **texting)]
    with responses.RequestsMock() as twilio_api:
        twilio_api.add(responses.POST, MESSAGES_URL, status=201, json={"sid": "SM123", "status": "queued"})
        said = []
        for app in apps:
            caller = Caller(app, number=MOBILE)
            caller.call()
            caller.say("side effects")
            said.append(caller.press("7").said)
        assert "We sent" in said[0] and "already sent texts" in said[1]
        assert len(twilio_api.calls) == 1


def test_redis_holds_only_hashed_keys(tmp_path, redis_prefix):
    app = limited_app(tmp_path, rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix)
    post_sms(Twilio(app), "side effects")
    Caller(app).call()
    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"LIMITS:LIMITER/{redis_prefix}/*")]
    key = app.extensions["line_limits"].key_for(NUMBER)
    assert sorted(k.split("/")[3] for k in keys) == ["sms", "sms", "voice"]  # 20/minute, 200/day; 120/minute
    assert all(k.split("/")[2] == key for k in keys)
    assert not [k for k in keys if NUMBER.lstrip("+") in k]


def test_past_the_limit_a_flood_costs_no_storage_round_trip(tmp_path, redis_prefix):
    """Once a worker has seen a number over its limit it answers it at once until the window
    resets: the count in Redis stops at the limit plus the one request that broke it."""
    app = limited_app(tmp_path, rate_limit_storage=REDIS_URL, rate_limit_prefix=redis_prefix, sms_rate="3/minute")
    twilio = Twilio(app)
    assert [post_sms(twilio, "side effects") for _ in range(50)] == [[SIDE]] * 3 + [[]] * 47
    key = app.extensions["line_limits"].key_for(NUMBER)
    assert redis.Redis.from_url(REDIS_URL).get(f"LIMITS:LIMITER/{redis_prefix}/{key}/sms/3/1/minute") == b"4"


def test_with_redis_unreachable_the_line_keeps_answering_and_limits_in_memory(tmp_path, caplog):
    app = limited_app(tmp_path, rate_limit_storage=UNREACHABLE, sms_rate="3/minute", voice_rate="50/minute",
                      twilio_account_sid=SID)
    twilio = Twilio(app)
    assert [post_sms(twilio, "side effects") for _ in range(4)] == [[SIDE]] * 3 + [[]]
    assert post_sms(twilio, "trials", OTHER) == [EN.topics["trials"].text]
    assert post_sms(twilio, "STOP") == [] and store_of(app).is_opted_out(NUMBER)
    assert any("storage unreachable" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    with responses.RequestsMock() as twilio_api:
        twilio_api.add(responses.POST, MESSAGES_URL, status=201, json={"sid": "SM123", "status": "queued"})
        caller = Caller(app, number=OTHER_MOBILE)
        assert caller.call().gather is not None
        caller.say("side effects")
        assert "We sent" in caller.press("7").said


# -- a real server: does the flood slow anyone else? -----------------------------------------------
FLOOD_SECONDS = 4.0
FLOOD_CONNECTIONS = 3  # the flood's requests in flight at once (gunicorn has 2 sync workers)
FLOOD_EVERY = 1 / 100  # each connection sends 100 a second: 300 a second, limited or not alike
OTHERS_EVERY = 0.05  # the other texters: one text every 50 ms (20 a second), each from a new number
TOPICS = [("side effects", "side-effects"), ("clinical trials", "trials"), ("how is it given", "how-given"),
          ("what is cancer", "cancer")]
_others = count(3000)


def _others_loop(server, seconds: float, out: list) -> None:
    """Texts from many numbers, paced; each latency with the answer it got."""
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        body, topic = TOPICS[i % len(TOPICS)]
        number = f"+1555555{next(_others):04d}"
        start = time.perf_counter()
        response = server.post(body, number)
        out.append((time.perf_counter() - start, response.status_code, response.content, topic))
        i += 1
        time.sleep(max(0.0, OTHERS_EVERY - (time.perf_counter() - start)))


def _flood_loop(server, seconds: float, out: list, stop: threading.Event) -> None:
    """One connection's share of the flood, at a fixed pace (it falls behind if the line does)."""
    deadline = time.monotonic() + seconds
    due = time.monotonic()
    while time.monotonic() < deadline and not stop.is_set():
        start = time.perf_counter()
        response = server.post("side effects", "+15555550111")
        out.append((time.perf_counter() - start, response.status_code, response.content))
        due += FLOOD_EVERY
        time.sleep(max(0.0, due - time.monotonic()))


def _messages(content: bytes) -> list[str]:
    root = ElementTree.fromstring(content)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


def _ms(values) -> str:
    values = sorted(values)
    if not values:
        return "n/a"
    p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
    return f"n={len(values):4d}  median {statistics.median(values) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"


def _workers_cpu(server) -> float:
    """CPU seconds (user + system) the server's gunicorn workers have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that just ended
            continue
        if int(fields[1]) == server.proc.pid:  # ppid: a worker of this server's arbiter
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _run_phase(server, flood: bool) -> tuple[list, list]:
    others, flooded, stop = [], [], threading.Event()
    cpu = _workers_cpu(server)
    threads = [threading.Thread(target=_others_loop, args=(server, FLOOD_SECONDS, others))]
    if flood:
        threads += [threading.Thread(target=_flood_loop, args=(server, FLOOD_SECONDS, flooded, stop))
                    for _ in range(FLOOD_CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=FLOOD_SECONDS + 30)
    stop.set()
    server.cpu_per_request = (_workers_cpu(server) - cpu) / max(1, len(others) + len(flooded))
    return others, flooded


def _check_others(others: list) -> None:
    assert others
    for _, status, content, topic in others:
        assert status == 200
        assert _messages(content) == [EN.sms["first_text"], EN.topics[topic].text]  # each a new number's first text


def test_a_flood_does_not_hold_up_anyone_else_on_a_real_server(tmp_path, redis_prefix):
    """gunicorn, 2 workers of 8 threads, Redis storage: others' latency without and with a flood from one number.
    Timings are printed (pytest -s), not asserted: this machine's load decides them."""
    from test_server import Server

    report = []
    server = Server(tmp_path / "data", tmp_path / "gunicorn.log", LINE_RATE_LIMIT_STORAGE=REDIS_URL,
                    LINE_RATE_LIMIT_PREFIX=redis_prefix, LINE_LOG_LEVEL="WARNING")
    try:
        server.text("MENU", "+15555550112")  # warm both workers' content and connections
        server.text("MENU", "+15555550113")
        server.answered_before("+15555550111")  # the flooding number: about the limit, not a first answer
        baseline, _ = _run_phase(server, flood=False)
        during, flooded = _run_phase(server, flood=True)
        cpu_limited = server.cpu_per_request
    finally:
        server.stop()
    _check_others(baseline)
    _check_others(during)
    answers = [_messages(content) for _, status, content in flooded if status == 200]
    assert len(answers) == len(flooded)  # every flooded request got valid TwiML with status 200
    assert answers.count([SIDE]) == 20  # LINE_SMS_RATE's 20/minute, counted once for both workers
    assert answers.count([]) == len(answers) - 20  # past the limit: an empty <Response/>, nothing sent
    # and the storage was asked once more per worker thread at most (gunicorn.conf.py: 2 workers of
    # 8 threads, each of which may ask before its worker knows), not once per flooded request
    counts = redis.Redis.from_url(REDIS_URL).mget(
        list(redis.Redis.from_url(REDIS_URL).scan_iter(f"LIMITS:LIMITER/{redis_prefix}/*/sms/20/1/minute")))
    assert max(int(c) for c in counts) <= 20 + 2 * 8
    answered_ms = [t for (t, _, _), a in zip(flooded, answers) if a]
    limited_ms = [t for (t, _, _), a in zip(flooded, answers) if not a]
    report += [
        f"others, no flood:          {_ms([t for t, *_ in baseline])}",
        f"others, during the flood:  {_ms([t for t, *_ in during])}",
        f"flood, answered (first 20): {_ms(answered_ms)}",
        f"flood, limited:            {_ms(limited_ms)}  ({len(limited_ms) / FLOOD_SECONDS:.0f} a second)",
        f"workers' CPU per request during the limited flood: {cpu_limited * 1000:.2f} ms",
    ]

    # For comparison: the same flood with a limit it never reaches.
    unlimited = Server(tmp_path / "data2", tmp_path / "gunicorn2.log", LINE_RATE_LIMIT_STORAGE=REDIS_URL,
                       LINE_RATE_LIMIT_PREFIX=redis_prefix, LINE_SMS_RATE="1000000/minute",
                       LINE_LOG_LEVEL="WARNING")
    try:
        unlimited.text("MENU", "+15555550114")
        unlimited.text("MENU", "+15555550115")
        during_unlimited, flooded_unlimited = _run_phase(unlimited, flood=True)
    finally:
        unlimited.stop()
    _check_others(during_unlimited)
    report += [
        f"others, flood NOT limited: {_ms([t for t, *_ in during_unlimited])}",
        f"flood NOT limited:         {_ms([t for t, *_ in flooded_unlimited])}",
        f"workers' CPU per request during the flood NOT limited: {unlimited.cpu_per_request * 1000:.2f} ms",
    ]
    print("\n" + "\n".join(report))


def test_hidden_callers_are_limited_call_by_call_not_all_together(tmp_path):
    from phone import Caller

    app = limited_app(tmp_path, voice_rate="5/minute")
    first = Caller(app, number="+266696687", call_sid="CA-hidden-1")
    for _ in range(5):
        assert first.post("/voice/menu?at=main&lang=en").gather is not None
    assert first.post("/voice/menu?at=main&lang=en").hung_up  # this call is over its limit
    other = Caller(app, number="+266696687", call_sid="CA-hidden-2")  # another hidden caller
    assert other.post("/voice/menu?at=main&lang=en").gather is not None


def test_the_limits_import_no_channel_and_only_create_app_wires_hooks():
    """limits.py counts; what a limited text or call hears is each channel's, wired by create_app.
    Nothing in the line reaches into Flask's hook lists (`before_request_funcs`) either."""
    from test_engine_imports import LINE, imports, reached_from

    channels = {"line.sms", "line.voice", "line.whatsapp"}
    used = imports(LINE / "limits.py") | set(reached_from(LINE / "limits.py"))
    assert not used & channels, sorted(used & channels)
    assert "line.runtime" in used  # the check follows the line's own modules
    touching = [p.name for p in LINE.rglob("*.py") if "before_request_funcs" in p.read_text()]
    assert touching == []

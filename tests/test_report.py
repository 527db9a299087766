"""`line report`: usage counted from a store filled with known events, on SQLite and PostgreSQL."""
from __future__ import annotations

import struct
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from conftest import CONTENT, Twilio
from line import report
from line.cli import main as cli
from line.content import load_library
from line.store import Store, events, unmatched
from phone import Caller
from test_store import SECRET, app_on, db_url, pg_url, postgres_server  # noqa: F401  (fixtures)

LIB = load_library(CONTENT)
EN = LIB.language("en")


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc)


def call(key: str, day: int, *steps: tuple[str, str]) -> list[dict]:
    """One call: it comes in, then goes through `steps` (step, outcome), a minute apart."""
    rows = [("call", "answered"), *steps]
    return [{"at": at(day).replace(minute=i), "channel": "voice", "language": "en", "step": step,
             "outcome": outcome, "call_hash": key * 64 if key else None} for i, (step, outcome) in enumerate(rows)]


def text(day: int, step: str, outcome: str = "answered", hour: int = 12) -> dict:
    return {"at": at(day, hour), "channel": "sms", "language": "en", "step": step, "outcome": outcome, "call_hash": None}


KNOWN_EVENTS = [
    text(1, "side-effects"), text(1, "side-effects"), text(1, "side-effects", hour=23),
    text(1, "trials"), text(1, "not_understood", "not_understood"), text(1, "not_understood", "not_understood"),
    text(1, "stop", "opted_out"), text(2, "help"), text(2, "where", hour=0),
    *call("a", 1, ("treatment", "menu"), ("side-effects", "answered"), ("referral", "transferred")),
    *call("b", 2),
    *call("c", 2, ("about", "menu"), ("who", "answered"), ("who", "texted")),
    *call("d", 2, ("main", "not_understood"), ("main", "silent")),
    *call("e", 2, ("side-effects", "answered")),
    *call("", 2, ("trials", "answered")),  # recorded before calls had a key
    # outside the period
    {**text(1, "trials"), "at": datetime(2026, 2, 28, 23, 59, tzinfo=timezone.utc)},
    {**text(1, "trials"), "at": datetime(2026, 3, 4, 0, 0, tzinfo=timezone.utc)},
]
KNOWN_UNMATCHED = [
    {"at": at(1), "channel": "sms", "language": "en", "text": "nausea after treatment"},
    {"at": at(1), "channel": "sms", "language": "en", "text": "Nausea pills [number]"},
    {"at": at(2), "channel": "voice", "language": "en", "text": "side effect nausea"},
    {"at": datetime(2026, 3, 5, tzinfo=timezone.utc), "channel": "sms", "language": "en", "text": "later words"},
]

EXPECTED = """\
The information line: usage from 2026-03-01 to 2026-03-03 (3 days, UTC)

Texts and calls per day
  day         texts  calls
  2026-03-01      7      1
  2026-03-02      2      5
  2026-03-03      0      0
  total           9      6

Safety replies per day (counts only): an emergency (911 and the health care provider), a crisis (988)
  day         emergency  crisis
  2026-03-01          0       0
  2026-03-02          0       0
  2026-03-03          0       0
  total               0       0

Top topics by text
  topic         times
  side-effects      3
  trials            1
  where             1

Top topics by phone
  topic         times
  side-effects      2
  trials            1
  who               1

What happened
  outcome                                texts  calls
  answered                                   6     10
  reached a menu                             0      2
  not understood                             2      1
  opted out (or texted while opted out)      1      0
  silent until goodbye                       0      1
  put through to the referral office         0      1
  topic sent by text                         0      1

Not understood: words to consider as keywords or synonyms (* already one)
  word       times
  nausea         3
  effect         1
  pills          1
  side           1
  treatment      1

  Whole messages not understood (digits, emails and numbers removed)
    message                 times
    nausea after treatment      1
    nausea pills                1
    side effect nausea          1

Where callers leave the menu (the last step of each call)
  place            how                       calls
  main menu        before choosing anything      1
  main menu        silent until goodbye          1
  referral office  put through                   1
  side-effects     after hearing it              1
  who              after getting it by text      1
  (1 of 6 calls have no per-call record: older than the retention period, or recorded before it was kept)

Transfers and text-me requests
  what                                 times
  put through to the referral office       1
  transfer busy, unanswered or failed      0
  topic sent by text                       1
  text not sent: not allowed               0
  text not sent: number opted out          0
  text not sent: limit reached             0
  text not sent: failed                    0
"""


@pytest.fixture
def store(db_url):  # noqa: F811
    store = Store(db_url, SECRET)
    store.upgrade()
    with store.engine.begin() as conn:
        conn.execute(events.insert(), KNOWN_EVENTS)
        conn.execute(unmatched.insert(), KNOWN_UNMATCHED)
    yield store
    store.dispose()


def test_the_report_counts_known_events(store):
    usage = report.build(store, date(2026, 3, 1), date(2026, 3, 3))
    assert report.render_text(usage) == EXPECTED


def test_the_report_counts_safety_replies_per_day_by_text_and_by_phone(db_url):  # noqa: F811
    store = Store(db_url, SECRET)
    store.upgrade()
    with store.engine.begin() as conn:
        conn.execute(events.insert(), [
            text(1, "emergency"), text(1, "emergency", hour=23), text(1, "crisis"), text(3, "crisis"),
            text(2, "side-effects"), text(2, "person"),
            *call("f", 2, ("emergency", "answered"), ("main", "menu")),
        ])
    try:
        usage = report.build(store, date(2026, 3, 1), date(2026, 3, 3), LIB)
    finally:
        store.dispose()
    assert usage.safety == [(date(2026, 3, 1), 2, 1), (date(2026, 3, 2), 1, 0), (date(2026, 3, 3), 0, 1)]
    out = report.render_text(usage)
    assert "  2026-03-01          2       1\n  2026-03-02          1       0\n  2026-03-03          0       1\n  total               3       2" in out
    # An intent is not a topic: it is not in the top topics.
    assert "person" not in out.split("Top topics by text")[1].split("What happened")[0]


def test_the_report_names_topics_and_menus_as_the_content_does(store):
    out = report.render_text(report.build(store, date(2026, 3, 1), date(2026, 3, 3), LIB))
    assert out.startswith(f"{EN.line_name}: usage from 2026-03-01 to 2026-03-03")
    side, who = EN.topics["side-effects"].label, EN.topics["who"].label
    assert f"  {side}  " in out.split("Top topics by text")[1].split("Top topics by phone")[0]
    exits = out.split("Where callers leave the menu")[1].split("Transfers")[0]
    assert "main menu" in exits and "referral office" in exits and f"{who}" in exits
    assert "  side-effects  " not in out  # ids only where the content has no label
    assert "nausea" in out and "side *" in out  # "side" is already a keyword word


def test_periods():
    today = date(2026, 3, 10)
    assert report.period(None, None, None, today) == (date(2026, 2, 9), today)
    assert report.period(7, None, None, today) == (date(2026, 3, 4), today)
    assert report.period(1, None, None, today) == (today, today)
    assert report.period(None, date(2026, 3, 1), date(2026, 3, 3), today) == (date(2026, 3, 1), date(2026, 3, 3))
    assert report.period(None, date(2026, 3, 1), None, today) == (date(2026, 3, 1), today)
    for bad in [(7, date(2026, 3, 1), None), (None, date(2026, 3, 5), date(2026, 3, 1)), (0, None, None)]:
        with pytest.raises(ValueError):
            report.period(*bad, today=today)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_line_report_prints_the_period_and_draws_it(store, tmp_path):
    env = {"DATABASE_URL": store.url, "LINE_DATA_DIR": str(tmp_path / "data"), "LINE_CONTENT_DIR": str(CONTENT)}
    png = tmp_path / "usage.png"
    result = CliRunner().invoke(cli, ["report", "--since", "2026-03-01", "--until", "2026-03-03", "--png", str(png)], env=env)
    assert result.exit_code == 0, result.output
    assert f"{EN.line_name}: usage from 2026-03-01 to 2026-03-03 (3 days, UTC)" in result.output
    assert "2026-03-02      2      5" in result.output
    assert png.stat().st_size > 10_000
    assert png_size(png) == (1920, 1080)  # 16:9, the size of a slide

    result = CliRunner().invoke(cli, ["report", "--days", "3", "--since", "2026-03-01"], env=env)
    assert result.exit_code == 2 and "not both" in result.output


def test_line_report_on_an_empty_store_and_a_database_that_is_down(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "LINE_DATA_DIR": str(tmp_path / "data")}
    png = tmp_path / "empty.png"
    result = CliRunner().invoke(cli, ["report", "--days", "7", "--png", str(png)], env=env)
    assert result.exit_code == 0, result.output
    assert "total           0      0" in result.output and "(no calls with a per-call record)" in result.output
    assert png_size(png) == (1920, 1080)

    env["DATABASE_URL"] = "postgresql://postgres:hunter2@127.0.0.1:1/none"
    result = CliRunner().invoke(cli, ["report"], env=env)
    assert result.exit_code == 1
    assert "the database at postgresql://127.0.0.1:1/none cannot be used (connection refused)" in result.output
    assert "hunter2" not in result.output


def test_the_report_reads_what_the_line_recorded(db_url, tmp_path):  # noqa: F811
    app = app_on(tmp_path, db_url)
    twilio = Twilio(app)
    twilio.text("side effects")
    twilio.text("qwerty uiop")
    caller = Caller(app, call_sid="CA" + "1" * 32)
    caller.call()
    caller.press("2")  # treatment
    caller.press("3")  # side effects
    caller.press("0")  # the referral office
    Caller(app, call_sid="CA" + "2" * 32).call()  # hangs up at the main menu
    today = datetime.now(timezone.utc).date()
    app.extensions["line"].store.flush()  # usage is written in batches, at most half a second late
    usage = report.build(app.extensions["line"].store, today, today, LIB)
    out = report.render_text(usage)
    side = EN.topics["side-effects"].label
    assert f"{today}      2      2" in out.split("Texts and calls per day")[1]
    assert side in out.split("Top topics by text")[1].split("Top topics by phone")[0]
    assert side in out.split("Top topics by phone")[1].split("What happened")[0]
    assert sorted(usage.exits) == [("main menu", "before choosing anything", 1), ("referral office", "put through", 1)]
    assert "qwerty uiop" in out
    app.extensions["line"].store.dispose()

"""scripts/bench's options and the table it prints, from made-up results (no server is started and
nothing is timed here: speed is measured by the bench, never asserted in a test)."""
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))
from scripts import bench  # noqa: E402


def result(rps: float, p99: float, cpu: float, errors: int = 0, nginx: float | None = None) -> dict:
    out = {"rps": rps, "p50_ms": p99 / 3, "p99_ms": p99, "cpu_us": cpu, "errors": errors}
    if nginx is not None:
        out["nginx_cpu_us"] = nginx
    return out


ROUNDS = [
    {"bare Flask": result(1000, 5, 300, nginx=50), "before (55d525f)": result(700, 12, 500, nginx=60),
     "now (abc1234)": result(500, 25, 700, nginx=70)},
    {"bare Flask": result(2000, 4, 310, nginx=50), "before (55d525f)": result(1300, 14, 520, nginx=60),
     "now (abc1234)": result(1100, 22, 690, errors=2, nginx=70)},
    {"bare Flask": result(1500, 6, 305, nginx=50), "before (55d525f)": result(900, 13, 510, nginx=60),
     "now (abc1234)": result(800, 30, 710, nginx=70)},
]
TIMES = {"before (55d525f)": ([0.9, 0.8, 0.95], [0.05, 0.06, 0.07]), "now (abc1234)": ([1.2, 1.1, 1.3], [0.2, 0.3, 0.25])}


def row(text: str, name: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return line[len(name):].split()


def test_the_defaults_are_the_shipped_production_setup():
    args = bench.parse_args([])
    assert (args.compare, args.direct, args.workers, args.worker_class, args.threads) == (None, False, None, None, None)
    assert bench.gunicorn_options(args) == []  # gunicorn.conf.py alone says how gunicorn serves
    setup = bench.describe_setup(args)
    assert setup.startswith("nginx (the shipped site) in front of gunicorn, ")
    assert " sync workers (gunicorn.conf.py); SQLite, rate limits in memory; wrk 16 connections" in setup


def test_every_option_the_docs_show_is_taken():
    args = bench.parse_args(["--compare", "55d525f", "--rounds", "5", "--seconds", "4", "--worker-class", "sync",
                             "--threads", "1", "--workers", "2", "--parts", "--json", "--direct",
                             "--database-url", "postgresql://127.0.0.1:5432/test",
                             "--rate-limit-storage", "redis://127.0.0.1:6379"])
    assert (args.compare, args.rounds, args.seconds, args.parts, args.json) == ("55d525f", 5, 4, True, True)
    assert bench.gunicorn_options(args) == ["--workers", "2", "--worker-class", "sync", "--threads", "1"]
    setup = bench.describe_setup(args)
    assert setup.startswith("gunicorn alone, 2 sync workers (gunicorn.conf.py and --workers 2 --worker-class sync")
    assert "PostgreSQL, rate limits in Redis" in setup
    threaded = bench.describe_setup(bench.parse_args(["--threads", "8"]))
    assert "gthread workers of 8 threads" in threaded
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "three"])


def test_the_table_shows_before_and_now_beside_bare_flask():
    text = bench.table("the setup", ROUNDS, TIMES)
    assert text.splitlines()[0] == "the setup; 3 rounds, medians over them"
    assert row(text, "bare Flask") == ["1500", "1.7", "5.0", "0", "305"]  # no ratio, no start-up of its own
    # req/s, the median of the rounds' ratios, p50, p99, errors (all rounds), CPU, start-up, reload
    assert row(text, "before (55d525f)") == ["900", "65%", "4.3", "13.0", "0", "510", "900", "60"]
    assert row(text, "now (abc1234)") == ["800", "53%", "8.3", "25.0", "2", "700", "1200", "250"]
    assert "now (abc1234): 53% of bare Flask's requests per second (rounds: 50%, 55%, 53%)" in text
    assert "nginx's own CPU µs a request (not in the column above): bare Flask 50, before (55d525f) 60, now (abc1234) 70" in text


def test_the_table_says_which_targets_are_met():
    text = bench.table("the setup", ROUNDS, TIMES)
    assert ("before (55d525f), targets met: 60% of bare Flask (65.0%), p99 under 20 ms (13.0), start-up under 1 s "
            "(900 ms), content reload under 100 ms (60); not met: none") in text
    assert ("now (abc1234), targets met: none; not met: 60% of bare Flask (53.3%), p99 under 20 ms (25.0), "
            "start-up under 1 s (1200 ms), content reload under 100 ms (250)") in text
    assert "now (abc1234), targets met: 45% of bare Flask (53.3%); not met: p99" in bench.table(
        "the setup", ROUNDS, TIMES, store="PostgreSQL")


def test_parts_are_shown_as_what_each_costs():
    rounds = [dict(r, **{"without replay check": result(r["now (abc1234)"]["rps"] * 1.1, 20, 650, nginx=70)}) for r in ROUNDS]
    text = bench.table("the setup", rounds, TIMES, parts=["without replay check"])
    assert "what each part costs: now (abc1234) with that part switched off, in server CPU a request" in text
    assert "  without replay check" in text and text.split("  without replay check")[1].split()[0:2] == ["50", "µs"]
    assert "without replay check, targets" not in text


def test_compare_refuses_what_is_neither_a_folder_nor_a_revision(tmp_path):
    with pytest.raises(SystemExit, match="neither a folder nor a git revision"):
        bench.checkout("no-such-revision-anywhere", tmp_path, tmp_path / "setup.log")


def test_a_share_just_under_a_target_is_never_shown_as_the_target():
    assert (bench.percent(0.5996), bench.percent(0.5996, 1), bench.percent(0.6), bench.percent(0.29)) == \
        ("59%", "59.9%", "60%", "29%")

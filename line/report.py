"""`line report`: what callers and texters asked for, from the store, as text or a chart.

Everything is counted in the database (GROUP BY), so a long period on a busy line stays cheap;
only the not-understood texts are read one by one, to count their words. Days are UTC days.

Where callers leave the menu: the line is not told when a caller hangs up, so a call's exit is
the last step the line recorded for it (by the keyed hash of its CallSid): the menu or topic
it last reached, a transfer, or silence until goodbye. Calls recorded before the schema kept
that key, or older than the retention period (the key is then cleared), have no exit.
"""
from __future__ import annotations

import re
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import Date, and_, cast, func, or_, select

from .store import Store, events, unmatched

# Steps the line records that are not topics (used when the content cannot be read).
TEXT_CHANNELS = ("sms", "whatsapp")  # the report's "texts": SMS and WhatsApp messages together
NOT_TOPICS = {"main", "help", "call", "slower", "start", "stop", "blocked", "not_understood", "_number",
              "emergency", "crisis", "feelings", "personal", "person", "not_covered", "thanks", "language"}
# The safety replies, counted per day: an emergency (911 and the health care provider), a crisis (988).
SAFETY_STEPS = ("emergency", "crisis")

OUTCOMES = [  # (outcome, what staff read), in the order shown
    ("answered", "answered"),
    ("menu", "reached a menu"),
    ("not_understood", "not understood"),
    ("opted_out", "opted out (or texted while opted out)"),
    ("opted_in", "opted back in"),
    ("silent", "silent until goodbye"),
    ("transferred", "put through to the referral office"),
    ("transfer_failed", "transfer busy, unanswered or failed"),
    ("texted", "topic sent by text"),
    ("text_refused", "text not sent: not allowed"),
    ("text_opted_out", "text not sent: number opted out"),
    ("text_limit", "text not sent: limit reached"),
    ("text_failed", "text not sent: failed"),
]
TRANSFERS_AND_TEXTS = ["transferred", "transfer_failed", "texted", "text_refused", "text_opted_out", "text_limit",
                       "text_failed"]
EXIT_HOW = {
    "answered": "after hearing it",
    "menu": "at this menu",
    "not_understood": "after a key or words not understood",
    "silent": "silent until goodbye",
    "transferred": "put through",
    "transfer_failed": "transfer failed, heard the number",
    "texted": "after getting it by text",
    "text_refused": "after a text not sent",
    "text_opted_out": "after a text not sent",
    "text_limit": "after a text not sent",
    "text_failed": "after a text not sent",
}
STOPWORDS = set("""
a about after again all am an and any are as at be been before being but by can could did do does
doing for from get got had has have having he her here hi hello him his how i if im i'm in into is it
it's its just know like may me more my no not now of on or our out please she should so some tell than
thank thanks that the their them then there they this to too up us very want was we were what when where
which who why will with would yes you your
""".split())
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_PLACEHOLDER = re.compile(r"\[(?:number|email)\]")


@dataclass
class Usage:
    line_name: str
    since: date
    until: date  # the last day, included
    per_day: list[tuple[date, int, int]]  # (day, texts, calls), every day of the period
    topics: dict[str, list[tuple[str, int]]]  # channel -> [(topic label, times)], most first
    outcomes: dict[str, dict[str, int]]  # outcome -> channel -> times
    words: list[tuple[str, int, bool]]  # (word, times, already a keyword or synonym word)
    phrases: list[tuple[str, int]]  # (whole redacted text, times)
    exits: list[tuple[str, str, int]]  # (place, how, calls)
    calls: int = 0
    calls_with_exit: int = 0
    transfers: list[tuple[str, int]] = field(default_factory=list)  # (what, times)
    safety: list[tuple[date, int, int]] = field(default_factory=list)  # (day, emergency, crisis) replies

    @property
    def texts(self) -> int:
        return sum(t for _, t, _ in self.per_day)


def period(days: int | None, since: date | None, until: date | None, today: date | None = None) -> tuple[date, date]:
    """(first day, last day) from --days N, or --since/--until; 30 days by default."""
    today = today or datetime.now(timezone.utc).date()
    if days is not None and (since or until):
        raise ValueError("give --days, or --since and --until, not both")
    if since or until:
        until = until or today
        since = since or until - timedelta(days=29)
        if since > until:
            raise ValueError(f"--since {since} is after --until {until}")
        return since, until
    days = 30 if days is None else days
    if days < 1:
        raise ValueError("--days must be 1 or more")
    return today - timedelta(days=days - 1), today


def _day(store: Store, column):
    if store.dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC times as text: 'YYYY-MM-DD ...'


def _as_texts(channel: str) -> str:
    """A WhatsApp message counts with the texts ("sms"); calls stay "voice"."""
    return "sms" if channel in TEXT_CHANNELS else channel


def _as_date(value) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


class _Names:
    """Labels for steps, from the content when it can be read."""

    def __init__(self, library):
        self.items: dict[str, str] = {}
        self.topics: set[str] = set()
        self.known_words: set[str] = set()
        if library is None:
            return
        for lang in library.languages.values():
            for topic in lang.topics.values():
                self.items.setdefault(topic.id, topic.label)
                self.topics.add(topic.id)
            for menu in lang.menus.values():
                self.items.setdefault(menu.id, "main menu" if menu.id == "main" else menu.label)
            for item in [*lang.topics.values(), *lang.menus.values()]:
                for phrase in [item.keyword or "", *item.synonyms]:
                    self.known_words.update(_WORD.findall(phrase.lower()))

    def is_topic(self, step: str) -> bool:
        return step in self.topics if self.topics else step not in NOT_TOPICS

    def place(self, step: str, outcome: str) -> str:
        if step in ("call", "main"):
            return "main menu"
        if step == "_number":
            return "the referral number"
        if outcome in ("transferred", "transfer_failed"):
            return "referral office"
        if step == "slower":
            return "slower voice"
        return self.items.get(step, step)


def build(store: Store, since: date, until: date, library=None, top: int = 10) -> Usage:
    """Count the usage of the days from `since` to `until` (both included, UTC)."""
    store.upgrade()
    start = datetime.combine(since, time(), timezone.utc)
    end = datetime.combine(until + timedelta(days=1), time(), timezone.utc)
    names = _Names(library)
    in_period = and_(events.c.at >= start, events.c.at < end)
    day = _day(store, events.c.at)
    c = events.c
    with store.engine.connect() as conn:
        daily = conn.execute(
            select(day.label("day"), c.channel, func.count().label("n"))
            .where(in_period, or_(c.channel.in_(TEXT_CHANNELS), and_(c.channel == "voice", c.step == "call")))
            .group_by(day, c.channel)
        ).all()
        answered = conn.execute(
            select(c.channel, c.step, func.count().label("n")).where(in_period, c.outcome == "answered")
            .group_by(c.channel, c.step)
        ).all()
        outcome_rows = conn.execute(
            select(c.outcome, c.channel, func.count().label("n")).where(in_period).group_by(c.outcome, c.channel)
        ).all()
        last = (select(func.max(c.id).label("id"))
                .where(in_period, c.channel == "voice", c.call_hash.is_not(None))
                .group_by(c.call_hash).subquery())
        exit_rows = conn.execute(
            select(c.step, c.outcome, func.count().label("n")).select_from(events.join(last, c.id == last.c.id))
            .group_by(c.step, c.outcome)
        ).all()
        texts = conn.execute(
            select(unmatched.c.text).where(unmatched.c.at >= start, unmatched.c.at < end)
        ).scalars().all()
        safety_rows = conn.execute(
            select(day.label("day"), c.step, func.count().label("n"))
            .where(in_period, c.step.in_(SAFETY_STEPS)).group_by(day, c.step)
        ).all()

    by_day: dict[date, list[int]] = {}
    for row in daily:
        counts = by_day.setdefault(_as_date(row.day), [0, 0])
        counts[0 if row.channel in TEXT_CHANNELS else 1] += row.n
    per_day = []
    d = since
    while d <= until:
        texts_n, calls_n = by_day.get(d, (0, 0))
        per_day.append((d, texts_n, calls_n))
        d += timedelta(days=1)

    topics: dict[str, Counter] = {"sms": Counter(), "voice": Counter()}
    for row in answered:
        if names.is_topic(row.step):
            topics.setdefault(_as_texts(row.channel), Counter())[names.items.get(row.step, row.step)] += row.n
    outcomes: dict[str, dict[str, int]] = {}
    for row in outcome_rows:
        by_channel = outcomes.setdefault(row.outcome, {})
        by_channel[_as_texts(row.channel)] = by_channel.get(_as_texts(row.channel), 0) + row.n

    exits: Counter = Counter()
    for row in exit_rows:
        how = "before choosing anything" if row.step == "call" else EXIT_HOW.get(row.outcome, row.outcome)
        exits[(names.place(row.step, row.outcome), how)] += row.n

    words: Counter = Counter()
    phrases: Counter = Counter()
    for t in texts:
        clean = " ".join(_PLACEHOLDER.sub(" ", t.lower()).split())
        if clean:
            phrases[clean] += 1
        words.update(w for w in _WORD.findall(clean) if w not in STOPWORDS and len(w) > 1)

    safety_by_day: dict[date, list[int]] = {}
    for row in safety_rows:
        safety_by_day.setdefault(_as_date(row.day), [0, 0])[SAFETY_STEPS.index(row.step)] += row.n
    safety = [(d, *safety_by_day.get(d, (0, 0))) for d, _, _ in per_day]

    transfers = [(label, sum(outcomes.get(o, {}).values())) for o, label in OUTCOMES if o in TRANSFERS_AND_TEXTS]
    calls = sum(n for _, _, n in per_day)
    line_name = library.language(None).line_name if library is not None else "The information line"
    return Usage(
        line_name=line_name, since=since, until=until, per_day=per_day,
        topics={ch: _top(counter, top) for ch, counter in topics.items()},
        outcomes=outcomes,
        words=[(w, n, w in names.known_words) for w, n in _top(words, top)],
        phrases=_top(phrases, top),
        exits=[(place, how, n) for (place, how), n in _top(exits, top)],
        calls=calls, calls_with_exit=sum(exits.values()), transfers=transfers, safety=safety,
    )


def _top(counter: Counter, n: int) -> list:
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]


# -- as text -----------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list], indent: str = "  ") -> list[str]:
    cells = [[str(h) for h in headers]] + [[str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(isinstance(row[i], int) for row in rows) and rows != [] for i in range(len(headers))]
    out = []
    for r in cells:
        parts = [v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(r)]
        out.append(indent + "  ".join(parts).rstrip())
    return out


def render_text(u: Usage) -> str:
    days = (u.until - u.since).days + 1
    lines = [f"{u.line_name}: usage from {u.since} to {u.until} ({days} day{'s' if days != 1 else ''}, UTC)", ""]

    lines.append("Texts and calls per day")
    rows = [[d.isoformat(), t, c] for d, t, c in u.per_day]
    rows.append(["total", u.texts, u.calls])
    lines += _table(["day", "texts", "calls"], rows) + [""]

    lines.append("Safety replies per day (counts only): an emergency (911 and the health care provider), a crisis (988)")
    rows = [[d.isoformat(), e, c] for d, e, c in u.safety]
    rows.append(["total", sum(e for _, e, _ in u.safety), sum(c for _, _, c in u.safety)])
    lines += _table(["day", "emergency", "crisis"], rows) + [""]

    for channel, title in (("sms", "Top topics by text"), ("voice", "Top topics by phone")):
        lines.append(title)
        found = u.topics.get(channel, [])
        lines += _table(["topic", "times"], [[label, n] for label, n in found]) if found else ["  (none)"]
        lines.append("")

    lines.append("What happened")
    rows = [[label, u.outcomes.get(o, {}).get("sms", 0), u.outcomes.get(o, {}).get("voice", 0)]
            for o, label in OUTCOMES if o in u.outcomes]
    rows += [[o, ch.get("sms", 0), ch.get("voice", 0)] for o, ch in sorted(u.outcomes.items())
             if o not in dict(OUTCOMES)]
    lines += (_table(["outcome", "texts", "calls"], rows) if rows else ["  (none)"]) + [""]

    lines.append("Not understood: words to consider as keywords or synonyms (* already one)")
    if u.words:
        lines += _table(["word", "times"], [[w + (" *" if known else ""), n] for w, n, known in u.words])
        lines += ["", "  Whole messages not understood (digits, emails and numbers removed)"]
        lines += _table(["message", "times"], [[p, n] for p, n in u.phrases], indent="    ")
    else:
        lines.append("  (none)")
    lines.append("")

    lines.append("Where callers leave the menu (the last step of each call)")
    if u.exits:
        lines += _table(["place", "how", "calls"], [[p, h, n] for p, h, n in u.exits])
    else:
        lines.append("  (no calls with a per-call record)")
    if u.calls > u.calls_with_exit:
        lines.append(f"  ({u.calls - u.calls_with_exit} of {u.calls} calls have no per-call record: "
                     "older than the retention period, or recorded before it was kept)")
    lines.append("")

    lines.append("Transfers and text-me requests")
    lines += _table(["what", "times"], [[label, n] for label, n in u.transfers])
    return "\n".join(lines) + "\n"


# -- as a chart --------------------------------------------------------------------------------
def render_png(u: Usage, path: Path | str) -> None:
    """The same report as one 16:9 picture (1920 x 1080) for a slide."""
    from matplotlib.figure import Figure

    text_colour, call_colour = "#1f6fb4", "#e07b00"
    fig = Figure(figsize=(12.8, 7.2), dpi=150, layout="constrained")
    days = (u.until - u.since).days + 1
    fig.suptitle(f"{u.line_name}: usage {u.since} to {u.until} ({days} days, UTC)", fontsize=15, fontweight="bold")
    grid = fig.subplots(2, 3)

    def empty(ax, title):
        ax.set_title(title, fontsize=12, loc="left")
        ax.text(0.5, 0.5, "none in this period", ha="center", va="center", color="grey", fontsize=11,
                transform=ax.transAxes)
        ax.set_axis_off()

    def hbars(ax, title, labels, series):
        """Horizontal bars, the biggest on top; `series` is [(name, values, colour)]."""
        if not labels:
            return empty(ax, title)
        ax.set_title(title, fontsize=12, loc="left")
        y = list(range(len(labels)))[::-1]
        height = 0.8 / len(series)
        for i, (name, values, colour) in enumerate(series):
            offset = (i - (len(series) - 1) / 2) * height
            bars = ax.barh([v - offset for v in y], values, height=height, color=colour, label=name)
            ax.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=2, fontsize=8)
        ax.set_yticks(y, [_wrap(label) for label in labels], fontsize=9)
        ax.xaxis.set_visible(False)
        ax.spines[["top", "right", "bottom"]].set_visible(False)
        ax.margins(x=0.15)
        if len(series) > 1:
            ax.legend(fontsize=8, loc="lower right", frameon=False)

    # 1. texts and calls per day
    ax = grid[0][0]
    if u.texts or u.calls:
        ax.set_title("Texts and calls per day", fontsize=12, loc="left")
        x = list(range(len(u.per_day)))
        ax.bar([i - 0.2 for i in x], [t for _, t, _ in u.per_day], width=0.4, color=text_colour, label=f"texts ({u.texts})")
        ax.bar([i + 0.2 for i in x], [c for _, _, c in u.per_day], width=0.4, color=call_colour, label=f"calls ({u.calls})")
        step = -(-len(x) // 7)  # at most 7 dates under the bars
        ax.set_xticks(x[::step], [d.strftime("%b %d") for d, _, _ in u.per_day][::step], fontsize=8,
                      rotation=30, ha="right")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(top=max(max(t, c) for _, t, c in u.per_day) * 1.25)  # room for the legend
        ax.legend(fontsize=8, frameon=False, loc="upper left", ncols=2)
    else:
        empty(ax, "Texts and calls per day")

    # 2. top topics by channel
    sms, voice = dict(u.topics.get("sms", [])), dict(u.topics.get("voice", []))
    labels = sorted(set(sms) | set(voice), key=lambda t: (-(sms.get(t, 0) + voice.get(t, 0)), t))[:8]
    hbars(grid[0][1], "Top topics", labels,
          [("by text", [sms.get(t, 0) for t in labels], text_colour),
           ("by phone", [voice.get(t, 0) for t in labels], call_colour)])

    # 3. not-understood words
    words = u.words[:8]
    hbars(grid[0][2], "Words not understood", [w + (" *" if k else "") for w, _, k in words],
          [("times", [n for _, n, _ in words], "#7a5195")])
    if any(k for _, _, k in words):
        grid[0][2].text(1.0, -0.04, "* already a keyword or synonym", transform=grid[0][2].transAxes,
                        ha="right", va="top", fontsize=8, color="grey")

    # 4. where callers leave the menu
    exits = u.exits[:8]
    hbars(grid[1][0], "Where callers leave the menu", [f"{p}:\n{h}" for p, h, _ in exits],
          [("calls", [n for _, _, n in exits], call_colour)])

    # 5. transfers and text-me requests
    shown = [(label, n) for label, n in u.transfers if n]
    hbars(grid[1][1], "Transfers and text-me", [label for label, _ in shown],
          [("times", [n for _, n in shown], "#2a9d8f")])

    # 6. what happened
    rows = [(label, u.outcomes.get(o, {}).get("sms", 0), u.outcomes.get(o, {}).get("voice", 0))
            for o, label in OUTCOMES if o in u.outcomes][:8]
    hbars(grid[1][2], "What happened", [r[0] for r in rows],
          [("texts", [r[1] for r in rows], text_colour), ("calls", [r[2] for r in rows], call_colour)])

    fig.savefig(path, format="png")


def _wrap(label: str, width: int = 24) -> str:
    """A bar's label on at most two lines."""
    lines = [line for part in label.split("\n") for line in textwrap.wrap(part, width)] or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")]
    return "\n".join(lines)

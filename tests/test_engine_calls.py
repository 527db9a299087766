"""The engine's call steps, as a table: (where the caller is, what happened, whether a text can
reach them) -> (what happens next, where the call is then, the words said first, the keys
offered, the usage recorded). Every step of a call is here: the arrival, each key at each kind
of place, the reserved keys * 0 9 8 7 6 #, speech, silence, wrong keys, transfers, text me."""
import pytest

from line.content import fill, load_library
from line.engine.calls import NUMBER, Call, Event, Said, e164, phrases, step
from line.engine.changes import Unmatched, Usage

LIB = load_library("content")
EN, ES = LIB.language("en"), LIB.language("es")
LIMIT = 12


def P(name: str, lang=EN, **values) -> str:
    """A spoken prompt, filled in: P("wrong_key", key="seven")."""
    return fill(lang.voice_prompts[name], **values)


def U(step_: str, outcome: str, lang: str = "en") -> Usage:
    return Usage("voice", lang, step_, outcome)


MAIN = Call("main", "en")
ABOUT = Call("about", "en")
TOPIC = Call("side-effects", "en")
NUM = Call(NUMBER, "en")
TEXTED = Call("side-effects", "en", texts=1)
OFFER_ES = P("language_switch", ES, key="seis")
MAIN_KEYS, SUB_KEYS, NUMBER_KEYS = "123450*#", "12340*89", "*09"


def topic_keys(texting: bool) -> str:
    return "*8" + ("7" if texting else "") + "90"


TABLE = [
    # call, event, texting -> then, the call after, first words, keys offered, changes
    # -- arrival, and returning to a place
    (MAIN, Event("call"), False, "listen", MAIN, [OFFER_ES, P("greeting")], MAIN_KEYS, [U("call", "answered")]),
    (Call("trials", "es"), Event("menu"), False, "listen", Call("trials", "es"), [ES.topics["trials"].speech], topic_keys(False), []),
    (Call("main", "en", errors=1), Event("menu"), False, "listen", Call("main", "en", errors=1), [OFFER_ES], MAIN_KEYS, []),
    # -- option keys
    (MAIN, Event("choose", digits="1"), False, "listen", ABOUT, [P("submenu_intro", label=EN.menus["about"].spoken_label)],
     SUB_KEYS, [U("about", "menu")]),
    (Call("treatment", "en"), Event("choose", digits="3"), False, "listen", TOPIC, [EN.topics["side-effects"].speech],
     topic_keys(False), [U("side-effects", "answered")]),
    (Call("treatment", "en", wrong=2, silences=3), Event("choose", digits="3"), True, "listen", TOPIC,
     [EN.topics["side-effects"].speech], topic_keys(True), [U("side-effects", "answered")]),  # counts cleared
    (MAIN, Event("choose", digits="5"), False, "listen", Call("referral", "en"), [EN.topics["referral"].speech],
     topic_keys(False), [U("referral", "answered")]),
    (MAIN, Event("choose", digits="12"), False, "listen", ABOUT, None, SUB_KEYS, [U("about", "menu")]),  # the first key counts
    # -- reserved keys
    (TOPIC, Event("choose", digits="*"), False, "listen", TOPIC, [EN.topics["side-effects"].speech], topic_keys(False), []),
    (NUM, Event("choose", digits="*"), False, "listen", NUM, [P("number")], NUMBER_KEYS, []),
    (TOPIC, Event("choose", digits="0"), False, "transfer", TOPIC, [P("transfer")], "", [U("referral", "transferred")]),
    (TOPIC, Event("choose", digits="9"), False, "listen", MAIN, [OFFER_ES], MAIN_KEYS, [U("main", "menu")]),
    (TOPIC, Event("choose", digits="8"), False, "listen", Call("treatment", "en"), None, SUB_KEYS, [U("treatment", "menu")]),
    (ABOUT, Event("choose", digits="8"), False, "listen", MAIN, [OFFER_ES], MAIN_KEYS, [U("main", "menu")]),
    (NUM, Event("choose", digits="8"), False, "listen", MAIN, [OFFER_ES], MAIN_KEYS, [U("main", "menu")]),
    (MAIN, Event("choose", digits="8"), False, "listen", Call("main", "en", wrong=1), [P("wrong_key", key="eight")],
     MAIN_KEYS, [U("main", "not_understood")]),  # no back from the main menu
    (TOPIC, Event("choose", digits="7"), True, "send_text", TOPIC, [], "", []),
    (TOPIC, Event("choose", digits="7"), False, "listen", Call("side-effects", "en", wrong=1), [P("wrong_key", key="seven")],
     topic_keys(False), [U("side-effects", "not_understood")]),  # texting not offered: not an option
    (MAIN, Event("choose", digits="7"), True, "listen", MAIN, [P("text_no_topic")], MAIN_KEYS, []),
    (MAIN, Event("choose", digits="6"), False, "listen", Call("main", "es"), [P("language_switch", key="six"), P("greeting", ES)],
     None, [U("language", "answered", "es")]),
    (Call("main", "es"), Event("choose", digits="6"), False, "listen", MAIN, [OFFER_ES, P("greeting")], MAIN_KEYS,
     [U("language", "answered")]),
    (ABOUT, Event("choose", digits="#"), False, "listen", Call("about", "en", slow=True), [P("slower_on")], SUB_KEYS,
     [U("slower", "answered")]),
    (Call("main", "en", slow=True), Event("choose", digits="1"), False, "listen", Call("about", "en", slow=True), None,
     SUB_KEYS, [U("about", "menu")]),  # the pace is kept
    # -- wrong keys, and after three the referral office
    (ABOUT, Event("choose", digits="5"), False, "listen", Call("about", "en", wrong=1), [P("wrong_key", key="five")],
     SUB_KEYS, [U("about", "not_understood")]),
    (Call("about", "en", wrong=2, silences=2), Event("choose", digits="5"), False, "listen", Call("about", "en", wrong=3),
     [P("wrong_key", key="five"), P("offer_referral", key="zero")], SUB_KEYS, [U("about", "not_understood")]),
    (ABOUT, Event("choose", digits="x"), False, "listen", Call("about", "en", wrong=1), [P("not_understood")], SUB_KEYS,
     [U("about", "not_understood")]),
    (ABOUT, Event("choose"), False, "listen", Call("about", "en", wrong=1), [P("not_understood")], SUB_KEYS,
     [U("about", "not_understood")]),
    # -- speech
    (MAIN, Event("choose", speech="side effects"), False, "listen", TOPIC, [EN.topics["side-effects"].speech],
     topic_keys(False), [U("side-effects", "answered")]),
    (MAIN, Event("choose", speech="Clinical trails"), False, "listen", Call("trials", "en"), None, topic_keys(False),
     [U("trials", "answered")]),
    (MAIN, Event("choose", speech="two"), False, "listen", Call("treatment", "en"), None, SUB_KEYS, [U("treatment", "menu")]),
    (MAIN, Event("choose", speech="star"), False, "listen", MAIN, [OFFER_ES], MAIN_KEYS, []),
    (TOPIC, Event("choose", speech="go back"), False, "listen", Call("treatment", "en"), None, SUB_KEYS, [U("treatment", "menu")]),
    (TOPIC, Event("choose", speech="repeat"), False, "listen", TOPIC, [EN.topics["side-effects"].speech], topic_keys(False), []),
    (TOPIC, Event("choose", speech="main menu"), False, "listen", MAIN, [OFFER_ES], MAIN_KEYS, [U("main", "menu")]),
    (TOPIC, Event("choose", speech="operator"), False, "transfer", TOPIC, [P("transfer")], "", [U("referral", "transferred")]),
    (TOPIC, Event("choose", speech="text me"), True, "send_text", TOPIC, [], "", []),
    (TOPIC, Event("choose", speech="slower"), False, "listen", Call("side-effects", "en", slow=True), [P("slower_on")],
     topic_keys(False), [U("slower", "answered")]),
    (MAIN, Event("choose", speech="español"), False, "listen", Call("main", "es"), None, None, [U("language", "answered", "es")]),
    (ABOUT, Event("choose", speech="purple elephants"), False, "listen", Call("about", "en", wrong=1), [P("not_understood")],
     SUB_KEYS, [Unmatched("voice", "en", "purple elephants"), U("about", "not_understood")]),
    # -- silence: a reprompt, more time, and only at the limit the number and goodbye
    (Call("about", "en", silences=1), Event("silence"), False, "listen", Call("about", "en", silences=1), [P("silence")],
     SUB_KEYS, []),
    (Call("about", "en", silences=2), Event("silence"), False, "listen", Call("about", "en", silences=2), [P("more_time")],
     "", []),
    (Call("about", "en", silences=4, wrong=1), Event("silence"), False, "listen", Call("about", "en", silences=4, wrong=1),
     [P("more_time")], SUB_KEYS, []),
    (Call("about", "en", silences=LIMIT), Event("silence"), False, "hang_up", Call("about", "en", silences=LIMIT),
     [P("number"), P("goodbye")], "", [U("about", "silent")]),
    # -- the transfer ends
    (TOPIC, Event("dialed", status="completed"), False, "hang_up", TOPIC, [P("goodbye")], "", []),
    (TOPIC, Event("dialed", status="answered"), False, "hang_up", TOPIC, [P("goodbye")], "", []),
    *[(TOPIC, Event("dialed", status=status), False, "listen", NUM, [P("transfer_failed"), P("number")], NUMBER_KEYS,
       [U("referral", "transfer_failed")]) for status in ("busy", "no-answer", "failed", "canceled", "")],
    # -- text me: what the caller hears after the channel tried to send it
    # (the call then counts the texts asked for, so the next press is another step, not a replay of this one)
    *[(Call("side-effects", "en", wrong=1, silences=2), Event("texted", outcome=outcome), True, "listen", TEXTED, [P(said)],
       topic_keys(True), [U("side-effects", recorded)])
      for outcome, said, recorded in [("sent", "text_sent", "texted"), ("opted_out", "text_opted_out", "text_opted_out"),
                                      ("limit", "text_limit", "text_limit"), ("failed", "text_failed", "text_failed")]],
    # refused (the line's daily cap): the way forward is the referral number, never the reason
    (Call("side-effects", "en", wrong=1, texts=1), Event("texted", outcome="refused"), True, "listen",
     Call("side-effects", "en", texts=2),
     [P("text_refused"), P("number")], topic_keys(True), [U("side-effects", "text_refused")]),
    # -- a failure: the number, back to the main menu once; a second one in a row says goodbye
    (TOPIC, Event("failed"), False, "retry", TOPIC, [P("error"), P("number")], "", []),
    (Call("main", "en", errors=1), Event("failed"), False, "hang_up", Call("main", "en", errors=1),
     [P("error"), P("number"), P("goodbye")], "", []),
    # -- a number over its rate limit
    (Call("trials", "es"), Event("limited"), False, "hang_up", Call("trials", "es"), [P("number", ES), P("goodbye", ES)], "", []),
]


def then(result) -> str:
    kinds = [name for name, on in [("listen", result.listen), ("hang_up", result.hang_up),
                                   ("transfer", result.transfer is not None), ("retry", result.retry is not None),
                                   ("send_text", result.send_text is not None)] if on]
    assert len(kinds) == 1, kinds  # one way forward, never none
    return kinds[0]


@pytest.mark.parametrize("call, event, texting, kind, after, first, keys, changes", TABLE)
def test_call_steps(call, event, texting, kind, after, first, keys, changes):
    result = step(LIB, call, event, texting, LIMIT)
    assert then(result) == kind
    assert result.call == after
    if first is not None:
        assert [s.words for s in result.said[:len(first)]] == first
    if keys is not None:
        assert "".join(k.key for k in result.keys) == keys
    assert list(result.changes) == changes
    for piece in result.said:
        assert piece.words and piece.lang in LIB.languages
    if result.listen:
        assert result.on_silence == type(call)(**{**after.__dict__, "silences": after.silences + 1})
        assert result.on_input.silences == 0


def test_every_said_words_are_ones_line_audio_renders():
    """Each piece the steps say (other than an option line made of two) is in phrases()."""
    known = phrases(LIB)
    for call, event, texting, *_ in TABLE:
        for piece in step(LIB, call, event, texting, LIMIT).said:
            assert (piece.lang, piece.words) in known, piece


def test_the_main_menu_offers_each_other_language_in_its_own_voice():
    result = step(LIB, MAIN, Event("call"))
    assert result.said[0] == Said(OFFER_ES, "es")
    assert all(s.lang == "en" for s in result.said[1:])


def test_the_transfer_dials_the_referral_office_and_text_me_sends_the_topic():
    assert step(LIB, TOPIC, Event("choose", digits="0")).transfer == e164(LIB.referral_phone) == "+18668204505"
    body = step(LIB, TOPIC, Event("choose", digits="7"), texting=True).send_text
    assert body == fill(EN.sms["from_call"], topic=EN.topics["side-effects"].body, citation=EN.topics["side-effects"].citation)


@pytest.mark.parametrize("call, event", [(TOPIC, Event("choose", digits="7")), (TOPIC, Event("choose", speech="text me")),
                                         (MAIN, Event("choose", digits="7")), (NUM, Event("choose", digits="7"))])
def test_a_caller_the_line_may_not_text_hears_so_kindly_wherever_they_ask(call, event):
    """Texting is set up, but the caller's number is not one the line texts (another region, a
    premium-rate line ...): not offered, and asking gets the refusal and the referral number."""
    assert "7" not in "".join(k.key for k in step(LIB, TOPIC, Event("menu"), False, LIMIT, text_refused=True).keys)
    result = step(LIB, call, event, False, LIMIT, text_refused=True)
    assert result.send_text is None and result.listen and result.call.at == call.at
    assert [s.words for s in result.said[:2]] == [P("text_refused"), P("number")]
    assert list(result.changes) == [U(call.at, "text_refused")]


def test_a_failure_goes_back_to_the_main_menu_counting_it():
    assert step(LIB, TOPIC, Event("failed")).retry == Call("main", "en", errors=1)


@pytest.mark.parametrize("args, expected", [
    ({}, Call("main", "en")),
    ({"at": "side-effects", "lang": "es", "pace": "slow", "s": "2", "w": "1", "e": "1"}, Call("side-effects", "es", True, 2, 1, 1)),
    ({"at": "nowhere", "lang": "xx"}, Call("main", "en")),
    ({"at": NUMBER, "s": "9999999", "w": "-1", "e": "²", "t": "x"}, Call(NUMBER, "en")),
    ({"at": "side-effects", "t": "2"}, Call("side-effects", "en", texts=2)),
])
def test_the_call_state_in_the_url(args, expected):
    call = Call.from_args(LIB, args)
    assert call == expected
    assert Call.from_args(LIB, {k: str(v) for k, v in call.args().items()}) == call


def test_the_memo_gives_what_the_engine_gives_for_every_input():
    """line/engine/memo.py remembers answers keyed by every input of the engine's pure function:
    the same inputs, the same (remembered) answer; any input changed, the engine's own answer."""
    from line.engine import memo

    for call, event, texting, *_ in TABLE:
        first = memo.step(LIB, call, event, texting, LIMIT)
        assert first == step(LIB, call, event, texting, LIMIT)
        assert memo.step(LIB, call, event, texting, LIMIT) is first
    topic = Event("choose", digits="3")
    offered = memo.step(LIB, Call("treatment", "en"), topic, True, LIMIT)
    assert "7" in "".join(k.key for k in offered.keys)
    assert "7" not in "".join(k.key for k in memo.step(LIB, Call("treatment", "en"), topic, False, LIMIT).keys)
    other = load_library("content")  # another load is another version of the content, kept apart
    assert hash(other) != hash(LIB) and other != LIB
    assert memo.step(other, MAIN, Event("call"), False, LIMIT) is not memo.step(LIB, MAIN, Event("call"), False, LIMIT)

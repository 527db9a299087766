"""The conversation: what the line says and does, given the content, what it knows of the texter
or caller, and what they sent, pressed or said.

- `texts.answer(library, texter, body, channel)`: a text message (SMS or WhatsApp) -> `TextAnswer`.
- `calls.step(library, call, event, texting, silence_limit)`: one step of a call -> `CallStep`.
- `understand.understand(library, lang, words, channel)`: free words -> a `Meaning` (a topic, a
  menu, a spoken command, a language, or nothing).
- `compliance.judge(library, body)`: opt-out, opt-in and help, judged in this one place.
- `memo.step`, `memo.answer`, `memo.judge`: the same, remembered (keyed by every input; the
  channels and the rate limits call these).

Results are plain frozen objects: the words, the keys offered, a transfer, a text to send and
the state changes to record (`changes.py`). The engine imports no web library: the channels
(line/sms.py, line/voice.py) decode Twilio's requests, ask it, record its changes through the
store and encode TwiML. tests/test_engine_imports.py fails if Flask, werkzeug or twilio appear here.
"""

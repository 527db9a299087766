"""One language folder (content/en/, content/es/ ...) -> a `Language`, or its problems.

In order, each step taking what the earlier ones made and nothing else:
  language.yaml  -> `Settings` (the voice, the words for digits, the facts as this language says them)
  prompts.yaml   -> the prompts, filled in
  topics/*.yaml  -> the topics
  menu.yaml      -> the menus (they list topics)
  intents.yaml   -> what people mean beyond the topics (an emergency, a crisis, thanks ...)
and the phrases a texter may send, gathered on the way (`Phrases`, one phrase for one target),
with the examples, make the matcher.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..match import Entry, Target, normalize
from ..optout import FIELDS as PLAIN_FIELDS, PlainWords
from ..optout import problems as optout_problems
from ..readability import FORMULAS
from ..speech import MAX_SPOKEN_SECONDS, WORD_DOMAINS, WORDS_PER_MINUTE, Spoken, misread, spoken_seconds
from .model import (ALPHABETS, FACTS, INTENT_IDS, KEYWORD, MAX_HINTS, MAX_MENU_OPTIONS, PLACEHOLDER,
                    SAFETY_INTENTS, SAFETY_NUMBERS, SMS_PROMPTS, SPOKEN_COMMANDS, THEN, THEN_REQUIRED, TRANSLATION_STATES,
                    VOICE_PROMPTS, Avoid, Example, Intent, Intents, Language, Menu, PlainLanguage, Source,
                    TextBudget, Topic, Voice, Written, fill)
from .reader import Reader
from .yaml_source import Lines


@dataclass(frozen=True)
class Shared:
    """What shared.yaml gives every language."""

    facts: Mapping[str, str]  # phone, email, office
    sources: Mapping[str, Source]


@dataclass(frozen=True)
class Settings:
    """What a language's language.yaml says, which its other files lean on."""

    code: str
    folder: Path
    file: str  # language.yaml, as problems name it
    lines: Lines
    fields: Mapping[str, object]  # language.yaml's top-level fields, checked
    facts: Mapping[str, str]  # shared.yaml's phone, email and office
    sources: Mapping[str, Source]  # shared.yaml's sources
    budget: TextBudget  # what one text may cost
    voice: Mapping[str, str]
    spoken: Spoken
    line_name: str
    text_facts: Mapping[str, str]  # {phone}, {email} ... as a text writes them
    voice_facts: Mapping[str, str]  # ... and as a voice says them
    citations: Mapping[str, str]
    joiner: str
    words: Mapping[str, list]  # sms_words
    voice_words: Mapping[str, list]
    plain: PlainLanguage

    def label(self, name: str) -> str:
        """How problems name a file of this language ('content/en/topics/x.yaml')."""
        return str(Path(self.file).parent / name)

    def text_fill(self, template: str) -> str:
        return fill(template, **self.text_facts)

    def voice_fill(self, template: str) -> str:
        return fill(self.spoken.say(template), **self.voice_facts)


class Phrases:
    """The words a texter may send for each topic, menu or command, gathered as they are read:
    one phrase, one target."""

    def __init__(self, reader: Reader):
        self.reader = reader
        self.targets: dict[str, Target] = {}
        self.where: dict[str, str] = {}

    def add(self, phrase: str, target: Target, where: str, line: int = 0) -> None:
        norm = normalize(phrase)
        if not norm:
            self.reader.error(where, line, f"'{phrase}' has no letters or digits")
            return
        self.reader.phrase_lines.setdefault((where, norm), line)
        if norm in self.targets and self.targets[norm] != target:
            other = self.targets[norm]
            self.reader.error(where, line, f"'{phrase}' is also a keyword or synonym of {other.kind} '{other.id}' ({self.where[norm]})")
            return
        self.targets[norm] = target
        self.where[norm] = f"{where}:{line}" if line else where


def load_language(reader: Reader, folder: Path, shared: Shared) -> Language | None:
    """The language in `folder`, or None when it has problems (they are in `reader.problems`)."""
    before = len(reader.problems)
    settings = read_settings(reader, folder, shared)
    if settings is None:
        return None
    sms, voice_prompts, prompts_written = read_prompts(reader, settings)
    if sms.keys() != SMS_PROMPTS.keys():  # reported in prompts.yaml; topics and menus need them all
        return None
    phrases = Phrases(reader)
    topics, broken_topics = read_topics(reader, settings, sms, phrases)
    menus = read_menus(reader, settings, sms, topics, broken_topics, phrases)
    avoid = read_glossary(reader, settings)
    intents = read_intents(reader, settings, [*topics.values(), *(m for m in menus.values() if m.keyword)], phrases)

    label, lines = settings.file, settings.lines
    for i, w in enumerate(settings.fields["menu_words"]):
        phrases.add(w, Target("command", "menu"), label, lines.at("menu_words", i))
    voice_phrases: dict[str, Target] = {}
    for name, ws in settings.voice_words.items():
        for w in ws:
            norm = normalize(w)
            if norm in voice_phrases and voice_phrases[norm].id != name:
                reader.error(label, lines.at("voice_words", name), f"'{w}' is also a word for {voice_phrases[norm].id}")
            voice_phrases[norm] = Target("command", name)
    keywords = {Target("topic", t.id): t.keyword for t in topics.values()}
    keywords.update({Target("menu", m.id): m.keyword for m in menus.values() if m.keyword})
    keywords[Target("command", "menu")] = "MENU"
    for i, w in enumerate(settings.fields.get("help_phrases", [])):
        phrases.add(w, Target("command", "help"), label, lines.at("help_phrases", i))
    if len(reader.problems) > before:
        return None
    # The matcher is made once every language is read (load.py): each also understands a request
    # for any other language.
    recipe = (entries(settings, topics, menus, intents), voice_phrases, keywords,
              intents.small_words if intents else (), intents.subject_words if intents else ())

    words = settings.words
    # The words of an emergency or a crisis are the ones the speech recognizer must not miss.
    safety = [i for i in INTENT_IDS if i in SAFETY_INTENTS]  # in the file's order: emergency first
    safety_hints = list(dict.fromkeys(c for i in safety for c in intents[i].cues)) if intents else []
    language = Language(
        code=settings.code, name=settings.fields["name"], line_name=settings.line_name, voice=Voice(**settings.voice),
        spoken=settings.spoken, topics=MappingProxyType(topics), menus=MappingProxyType(menus),
        sms=MappingProxyType(sms), voice_prompts=MappingProxyType(voice_prompts),
        opt_out_words=frozenset(w.upper() for w in words["opt_out"]),
        opt_in_words=frozenset(w.upper() for w in words["opt_in"]),
        help_words=frozenset(w.upper() for w in words["help"]),
        confirmed_by_twilio=frozenset(w.upper() for w in words["confirmed_by_twilio"]),
        # Then the names of the topics and menus and the phone's words, then the topics' other
        # words, as many as Twilio takes: a long list of danger words never crowds out "side effects".
        speech_hints=", ".join(list(dict.fromkeys([*safety_hints, *sorted({
            *(t.label for t in topics.values()), *(m.label for m in menus.values() if m.keyword),
            *(w for ws in settings.voice_words.values() for w in ws)}),
            *sorted({s for t in topics.values() for s in t.synonyms})]))[:MAX_HINTS]),
        matcher=None,
        matcher_recipe=recipe,
        language_words=frozenset(normalize(w) for w in settings.fields.get("language_words", [])),
        text_budget=settings.budget, avoid=avoid, text_facts=settings.text_facts,
        plain=settings.plain,
        prompts_written=prompts_written,
        opt_out_phrases=read_plain_words(reader, settings, "opt-out.yaml"),
        opt_in_phrases=read_plain_words(reader, settings, "opt-in.yaml"),
        intents=intents,
        language_phrases=tuple(settings.fields.get("language_phrases", ())),
    )
    # The longest "not understood" reply must still fit.
    longest = max(keywords.values(), key=len)
    worst = " ".join([sms["not_understood"], fill(sms["suggestion"], keyword=longest), intents.then_menu if intents else ""])
    reader.check_sms(worst, settings.label("prompts.yaml"), 0,
                     "the reply to a text that is not understood (with the longest suggestion)", settings.budget)
    for word in words["confirmed_by_twilio"]:
        if word.upper() not in language.opt_out_words:
            reader.error(label, lines.at("sms_words", "confirmed_by_twilio"), f"'{word}' is not an opt-out word")
    return language if len(reader.problems) == before else None


def read_plain_words(reader: Reader, settings: Settings, name: str) -> PlainWords:
    """opt-out.yaml or opt-in.yaml: the plain words for "stop texting me" or "start texting me
    again" (a language without the file has only its sms_words)."""
    path = settings.folder / name
    if not path.is_file():
        return PlainWords()
    data, lines, label = reader.read(path)
    fields = reader.fields(data, lines, label, (), {}, {field: "list" for field in PLAIN_FIELDS})
    words = PlainWords.build(**fields)
    for name, problem in optout_problems(words):
        reader.error(label, lines.at(name), problem)
    return words


def read_glossary(reader: Reader, settings: Settings) -> tuple[Avoid, ...]:
    """glossary.yaml, if the language has one: the terms it prefers (for translators) and the
    words to avoid, each with what to write instead and why (which `line check` looks for)."""
    path = settings.folder / "glossary.yaml"
    if not path.is_file():
        return ()
    data, lines, label = reader.read(path)
    data = reader.fields(data, lines, label, (), {"avoid": "entries"}, {"preferred": "words"})
    avoid = []
    for i, entry in enumerate(data.get("avoid", [])):
        f = reader.fields(entry, lines, label, ("avoid", i), {"words": "list", "use": "text", "why": "text"})
        if len(f) == 3:
            avoid.append(Avoid(tuple(f["words"]), f["use"], f["why"]))
    return tuple(avoid)


def entries(settings: Settings, topics: dict[str, Topic], menus: dict[str, Menu], intents: Intents | None) -> list[Entry]:
    """What the matcher knows of each target. A keyword means its topic or menu as the whole
    message; inside a sentence, the synonyms do."""
    found = [Entry(Target("topic", t.id), t.synonyms, examples=tuple(e.text for e in t.examples), alone=(t.keyword,))
             for t in topics.values()]
    found += [Entry(Target("menu", m.id), m.synonyms, examples=tuple(e.text for e in m.examples), alone=(m.keyword,))
              for m in menus.values() if m.keyword]
    found.append(Entry(Target("command", "menu"), tuple(settings.fields["menu_words"])))
    # HELP said as the whole of what a caller says (a texter's HELP is the keyword rule's).
    help_words = tuple(w.lower() for w in (settings.fields.get("sms_words") or {}).get("help", ()))
    found.append(Entry(Target("command", "help"), tuple(settings.fields.get("help_phrases", ())), alone=help_words))
    found += [intent.entry for intent in (intents.items.values() if intents else ())]
    return found


def read_settings(reader: Reader, folder: Path, shared: Shared) -> Settings | None:
    """language.yaml, checked; None when it has problems."""
    p = reader
    before = len(p.problems)
    data, lines, label = p.read(folder / "language.yaml")
    if label in p.unreadable:
        return None
    lang = p.fields(data, lines, label, (), {
        "name": "text", "line_name": "text", "voice": "map", "spoken": "map", "citations": "words",
        "sms_words": "map", "menu_words": "list", "voice_words": "map",
    }, {"citation_joiner": "text", "plain_language": "map", "office_name": "text", "sms_alphabet": "text",
        "language_words": "list", "sms_segments": "text", "language_phrases": "list", "help_phrases": "list"})
    alphabet = lang.get("sms_alphabet", TextBudget.alphabet)
    if alphabet not in ALPHABETS:
        p.error(label, lines.at("sms_alphabet"), f"sms_alphabet must be one of {', '.join(ALPHABETS)}")
    segments = lang.get("sms_segments", str(TextBudget.segments))
    if not re.fullmatch(r"[1-9]", segments.strip()):
        p.error(label, lines.at("sms_segments"), "sms_segments must be a number of text segments from 1 to 9, like \"4\"")
        segments = str(TextBudget.segments)
    voice = p.fields(lang.get("voice", {}), lines, label, ("voice",), {
        "twilio_voice": "text", "twilio_language": "text", "speech_language": "text", "espeak_voice": "text"})
    spoken_raw = p.fields(lang.get("spoken", {}), lines, label, ("spoken",), {
        "digits": "list", "star": "text", "pound": "text", "at": "text", "dot": "text", "dash": "text"},
        {"spell": "list", "say_instead": "words", "word_domains": "list"})
    plain = p.fields(lang.get("plain_language", {}), lines, label, ("plain_language",), {},
                     {"formula": "text", "target": "text", "terms": "list"})
    formula = plain.get("formula", PlainLanguage.formula)
    if formula not in FORMULAS:
        p.error(label, lines.at("plain_language", "formula"), f"plain_language formula must be one of {', '.join(FORMULAS)}")
    try:
        target = float(plain.get("target", "7"))
    except ValueError:
        target = PlainLanguage.target
        p.error(label, lines.at("plain_language", "target"), "plain_language target must be a number, like \"7\"")
    if len(spoken_raw.get("digits", [])) != 10:
        p.error(label, lines.at("spoken", "digits"), "'digits' must list the ten words for 0 to 9")
    citations = lang.get("citations", {})
    for sid in shared.sources:
        if sid not in citations:
            p.error(label, lines.at("citations"), f"no citation for source '{sid}'")
    for sid in citations:
        if sid not in shared.sources:
            p.error(label, lines.at("citations", sid), f"citation for unknown source '{sid}'")
    words = p.fields(lang.get("sms_words", {}), lines, label, ("sms_words",), {
        "opt_out": "list", "opt_in": "list", "help": "list", "confirmed_by_twilio": "list"})
    voice_words = p.fields(lang.get("voice_words", {}), lines, label, ("voice_words",),
                           {name: "list" for name in SPOKEN_COMMANDS})
    if len(p.problems) > before:
        return None

    spoken = Spoken(
        digits=tuple(spoken_raw["digits"]), star=spoken_raw["star"], pound=spoken_raw["pound"],
        at=spoken_raw["at"], dot=spoken_raw["dot"], dash=spoken_raw["dash"],
        spell=tuple(spoken_raw.get("spell", ())),
        say_instead=tuple(spoken_raw.get("say_instead", {}).items()),
        word_domains=tuple(w.lower() for w in spoken_raw.get("word_domains", WORD_DOMAINS)),
    )
    facts = shared.facts
    line_name = lang["line_name"]
    office = lang.get("office_name", facts["office"])
    return Settings(
        code=folder.name, folder=folder, file=label, lines=lines, fields=MappingProxyType(lang),
        facts=facts, sources=shared.sources, budget=TextBudget(alphabet, int(segments)), voice=MappingProxyType(voice), spoken=spoken, line_name=line_name,
        text_facts=MappingProxyType({**facts, "line_name": line_name, "office": office}),
        voice_facts=MappingProxyType({
            "line_name": spoken.say(line_name), "office": spoken.say(office),
            "phone": spoken.phone(facts["phone"]), "email": spoken.email(facts["email"]),
        }),
        citations=MappingProxyType(citations), joiner=lang.get("citation_joiner", " and "),
        words=MappingProxyType(words), voice_words=MappingProxyType(voice_words),
        plain=PlainLanguage(formula, target, tuple(t.lower() for t in plain.get("terms", []))),
    )


def check_written(reader: Reader, settings: Settings, written: Written) -> None:
    """What staff wrote: the referral office's number and email only through {phone} and
    {email} (said once, the same everywhere), and nothing a voice would misread."""
    label, line, name, text, spoken = written.file, written.line, written.name, written.text, written.spoken
    bare = PLACEHOLDER.sub(" ", text)
    digits = re.sub(r"\D", "", settings.facts["phone"])[-10:]
    if digits and digits in re.sub(r"\D", "", bare):
        reader.error(label, line, f"'{name}' writes the referral number out; write {{phone}} so it is said once, the same everywhere")
    if settings.facts["email"] and settings.facts["email"].lower() in bare.lower():
        reader.error(label, line, f"'{name}' writes the referral email out; write {{email}}")
    if spoken and text.count("{phone}") == 1:
        reader.error(label, line, f"'{name}' says {{phone}} once; on the phone say it twice, so a caller "
                                  "can catch it (\"The number is {phone}. Again, the number is {phone}.\")")
    if spoken:
        for why in misread(bare):
            reader.error(label, line, f"'{name}' has {why}, which a voice would misread; write it as it should be said")


def read_prompts(reader: Reader, settings: Settings) -> tuple[dict, dict, tuple[Written, ...]]:
    """prompts.yaml -> the text prompts and the spoken prompts, facts filled in, and both as written."""
    p = reader
    data, lines, label = p.read(settings.folder / "prompts.yaml")
    data = p.fields(data, lines, label, (), {"sms": "map", "voice": "map"})
    sms_raw = p.fields(data.get("sms", {}), lines, label, ("sms",), {n: "text" for n in SMS_PROMPTS})
    voice_raw = p.fields(data.get("voice", {}), lines, label, ("voice",), {n: "text" for n in VOICE_PROMPTS})
    sms, voice, written = {}, {}, []
    for channel, raw, known in (("sms", sms_raw, SMS_PROMPTS), ("voice", voice_raw, VOICE_PROMPTS)):
        for name, template in raw.items():
            line = lines.at(channel, name)
            p.places(template, FACTS | known[name], label, line, name)
            w = Written(label, line, name, template, spoken=channel == "voice")
            check_written(p, settings, w)
            written.append(w)
            if channel == "sms":
                sms[name] = settings.text_fill(template)
                if not known[name]:
                    p.check_sms(sms[name], label, line, f"the text '{name}'", settings.budget)
            else:
                voice[name] = settings.voice_fill(template)
    return sms, voice, tuple(sorted(written, key=lambda w: (not w.spoken, w.line)))


def read_translation(reader: Reader, fields: dict, lines: Lines, label: str) -> str:
    """A topic's or intents.yaml's translation state, checked ("" when the file does not say): one
    marked reviewed says in 'review' what was checked, sentence by sentence, and when."""
    translation = fields.get("translation", "")
    if "translation" in fields and translation not in TRANSLATION_STATES:
        reader.error(label, lines.at("translation"), f"translation must be one of {', '.join(TRANSLATION_STATES)}")
    elif translation == "reviewed" and "review" not in fields:
        reader.error(label, lines.at("translation"), "a translation marked reviewed needs a 'review' note: "
                                                     "what was checked, sentence by sentence, and when")
    return translation


def read_topics(reader: Reader, settings: Settings, sms: dict, phrases: Phrases) -> tuple[dict[str, Topic], set[str]]:
    """topics/*.yaml -> the topics, and the ids of topic files with problems (reported there)."""
    p = reader
    folder = settings.folder / "topics"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        p.error(settings.label("topics/"), 0, "there are no topics (one .yaml file per topic)")
    topics, broken = {}, set()
    for path in files:
        before = len(p.problems)
        data, lines, label = p.read(path)
        f = p.fields(data, lines, label, (), {
            "keyword": "text", "label": "text", "sources": "list", "reviewed": "text",
            "text": "text", "speech": "text"}, {"synonyms": "list", "translation": "text", "review": "text",
                                                "examples": "list"})
        translation = read_translation(p, f, lines, label)
        tid = path.stem
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", tid):
            p.error(label, 0, "a topic's file name must be lower-case letters, digits and dashes")
        keyword = f.get("keyword", "")
        if keyword and not KEYWORD.match(keyword):
            p.error(label, lines.at("keyword"), f"keyword '{keyword}' must be one word of 2 to 15 capital letters or digits")
        for sid in f.get("sources", []):
            if sid not in settings.sources:
                p.error(label, lines.at("sources"), f"unknown source '{sid}' (sources are listed in shared.yaml)")
        if "sources" in f and not f["sources"]:
            p.error(label, lines.at("sources"), "name at least one source")
        reviewed = p.date(f.get("reviewed"), label, lines.at("reviewed"))
        if reviewed and reviewed > date.today():
            p.error(label, lines.at("reviewed"), f"reviewed date {reviewed} is in the future")
        written = {}
        for name in ("text", "speech", "label"):
            if name in f:
                p.places(f[name], FACTS, label, lines.at(name), name)
                written[name] = Written(label, lines.at(name), name, f[name], spoken=name != "text")
                check_written(p, settings, written[name])
        if len(p.problems) > before:
            broken.add(tid)
            continue
        citation = settings.joiner.join(settings.citations[s] for s in f["sources"])
        body = settings.text_fill(f["text"])
        text = body + " " + fill(sms["topic_footer"], citation=citation)
        p.check_sms(text, label, lines.at("text"), "the text (with its source line)", settings.budget)
        p.check_sms(fill(sms["from_call"], topic=body, citation=citation), label, lines.at("text"),
                    "the text sent to a caller (with the referral office's contact)", settings.budget)
        speech = settings.voice_fill(f["speech"])
        seconds = spoken_seconds(speech)
        if seconds > MAX_SPOKEN_SECONDS:
            p.error(label, lines.at("speech"), f"the spoken summary takes about {seconds:.0f} s; keep it under "
                                               f"{MAX_SPOKEN_SECONDS} s (about {MAX_SPOKEN_SECONDS * WORDS_PER_MINUTE // 60} words)")
        topic = Topic(
            id=tid, keyword=keyword, label=f["label"], spoken_label=settings.voice_fill(f["label"]),
            synonyms=tuple(f.get("synonyms", ())), sources=tuple(f["sources"]), reviewed=reviewed,
            body=body, citation=citation, text=text, speech=speech, file=label,
            written=MappingProxyType(written), lines=MappingProxyType({name: lines.at(name) for name in data}),
            translation=translation, examples=read_examples(f, lines, label, ()),
        )
        topics[tid] = topic
        target = Target("topic", tid)
        for i, phrase in enumerate([keyword, *topic.synonyms]):
            phrases.add(phrase, target, label, lines.at("synonyms", i - 1) if i else lines.at("keyword"))
    return topics, broken


def read_menus(reader: Reader, settings: Settings, sms: dict, topics: dict[str, Topic], broken_topics: set[str],
               phrases: Phrases) -> dict[str, Menu]:
    """menu.yaml -> the menus (empty when it or any topic has problems)."""
    p = reader
    data, lines, label = p.read(settings.folder / "menu.yaml")
    if label in p.unreadable:
        return {}
    data = p.fields(data, lines, label, (), {"main": "map", "menus": "map"})
    raw = {"main": data.get("main", {})}
    for mid, m in data.get("menus", {}).items():
        if mid == "main" or mid in topics:
            p.error(label, lines.at("menus", mid), f"menu '{mid}' has the name of {'the main menu' if mid == 'main' else 'a topic'}")
            continue
        raw[mid] = m
    shapes = {}
    for mid, m in raw.items():
        path = ("main",) if mid == "main" else ("menus", mid)
        if not isinstance(m, dict):
            p.error(label, lines.at(*path), f"menu '{mid}' must be a set of 'name: value' lines")
            continue
        if mid == "main":
            f = p.fields(m, lines, label, path, {"options": "list"})
        else:
            f = p.fields(m, lines, label, path, {"keyword": "text", "label": "text", "options": "list"},
                         {"synonyms": "list", "examples": "list"})
        options = f.get("options", [])
        if not options:
            p.error(label, lines.at(*path), f"menu '{mid}' has no options")
        if len(options) > MAX_MENU_OPTIONS:
            p.error(label, lines.at(*path, "options"), f"menu '{mid}' has {len(options)} options; callers can follow {MAX_MENU_OPTIONS} at most")
        for o in options:
            if o not in topics and o not in raw and o not in broken_topics:
                p.error(label, lines.at(*path, "options"), f"menu '{mid}' lists '{o}', which is neither a topic nor a menu")
            if o == "main":
                p.error(label, lines.at(*path, "options"), "the main menu cannot be an option; every menu offers it already")
        if len(set(options)) != len(options):
            p.error(label, lines.at(*path, "options"), f"menu '{mid}' lists an option twice")
        kw = f.get("keyword")
        if kw and not KEYWORD.match(kw):
            p.error(label, lines.at(*path, "keyword"), f"keyword '{kw}' must be one word of 2 to 15 capital letters or digits")
        shapes[mid] = f
    check_tree(reader, shapes, topics, label)
    if broken_topics or any(pr.file == label for pr in p.problems):
        return {}

    def option_lines(options) -> str:
        rows = []
        for o in options:
            item = topics.get(o) or shapes[o]
            rows.append(f"{item['keyword'] if isinstance(item, dict) else item.keyword}: {item['label'] if isinstance(item, dict) else item.label}")
        return "\n".join(rows)

    menus = {}
    for mid, f in shapes.items():
        if mid == "main":
            text = fill(sms["main_menu"], options=option_lines(f["options"]))
            label_text = settings.line_name
        else:
            text = fill(sms["submenu"], label=f["label"], options=option_lines(f["options"]))
            label_text = f["label"]
        path = ("main",) if mid == "main" else ("menus", mid)
        p.check_sms(text, label, lines.at(*path), f"the text for menu '{mid}'", settings.budget)
        menus[mid] = Menu(
            id=mid, keyword=f.get("keyword"), label=label_text, spoken_label=settings.voice_fill(label_text),
            synonyms=tuple(f.get("synonyms", ())), options=tuple(f["options"]), text=text, file=label,
            examples=read_examples(f, lines, label, path),
        )
        if f.get("keyword"):
            for i, phrase in enumerate([f["keyword"], *f.get("synonyms", [])]):
                line = lines.at(*path, "synonyms", i - 1) if i else lines.at(*path, "keyword")
                phrases.add(phrase, Target("menu", mid), label, line)
    return menus


def check_tree(reader: Reader, shapes: dict, topics: dict, label: str) -> None:
    """Every topic and menu is reachable from the main menu, once, without loops."""
    seen: dict[str, str] = {}
    stack = [("main", ())]
    while stack:
        mid, trail = stack.pop()
        for o in shapes.get(mid, {}).get("options", []):
            if o in trail or o == mid:
                reader.error(label, 0, f"menu '{o}' lists itself (through {' > '.join(trail + (mid,))})")
                continue
            if o in seen and seen[o] != mid:
                reader.error(label, 0, f"'{o}' is listed in both menu '{seen[o]}' and menu '{mid}'; list it once, so 'back' is clear")
            seen[o] = mid
            if o in shapes:
                stack.append((o, trail + (mid,)))
    for tid in topics:
        if tid not in seen:
            reader.error(topics[tid].file, 0, "this topic is in no menu, so callers cannot reach it; add it to menu.yaml")
    for mid in shapes:
        if mid != "main" and mid not in seen:
            reader.error(label, 0, f"menu '{mid}' is in no other menu, so callers cannot reach it")


def read_examples(fields: dict, lines: Lines, label: str, path: tuple) -> tuple[Example, ...]:
    return tuple(Example(e, label, lines.at(*path, "examples", i)) for i, e in enumerate(fields.get("examples", ()))
                 if e.strip())


NUMBER = re.compile(r"\d+(?:[-. ]\d+)*")


def read_intents(reader: Reader, settings: Settings, named: list, phrases: Phrases) -> Intents | None:
    """intents.yaml -> the intents (None when it has problems). `named` is every topic and menu
    with a keyword, for the longest text (an intent's text may name one after it)."""
    p = reader
    data, lines, label = p.read(settings.folder / "intents.yaml")
    if label in p.unreadable:
        return None
    before = len(p.problems)
    top = p.fields(data, lines, label, (), {"then_topic": "text", "then_menu": "text", "intents": "map"},
                   {"small_words": "list", "subject_words": "list", "translation": "text", "review": "text",
                    "then_never": "list"})
    translation = read_translation(p, top, lines, label)
    for name, allowed in (("then_topic", {"label", "keyword"}), ("then_menu", set())):
        if name in top:
            p.places(top[name], allowed, label, lines.at(name), name)
    raw = top.get("intents", {})
    for missing in (i for i in INTENT_IDS if i not in raw):
        p.error(label, lines.at("intents"), f"intent '{missing}' is missing (every language has {', '.join(INTENT_IDS)})")
    for unknown in (i for i in raw if i not in INTENT_IDS):
        p.error(label, lines.at("intents", unknown), f"unknown intent '{unknown}' (the intents are {', '.join(INTENT_IDS)})")
    ids = {n.id for n in named}
    for i, tid in enumerate(top.get("then_never", ())):
        if tid not in ids and not (settings.folder / "topics" / f"{tid}.yaml").exists():  # (a broken one says why)
            p.error(label, lines.at("then_never", i), f"then_never: '{tid}' is not a topic or menu with a keyword")
    if len(p.problems) > before:
        return None
    then_topic, then_menu = settings.text_fill(top["then_topic"]), settings.text_fill(top["then_menu"])
    longest_named = max((fill(then_topic, label=n.label, keyword=n.keyword) for n in named), key=len, default="")

    items = {}
    for iid in INTENT_IDS:
        path = ("intents", iid)
        if not isinstance(raw[iid], dict):
            p.error(label, lines.at(*path), f"intent '{iid}' must be a set of 'name: value' lines")
            continue
        # On the phone a person is put through, with the words of the referral key (prompts.yaml).
        required = {"label": "text", "text": "text", "then": "text", "cues": "list", "examples": "list",
                    **({} if iid == "person" else {"speech": "text"})}
        f = p.fields(raw[iid], lines, label, path, required, {"pairs": "items", "alone": "list"})
        if len(f) < len(required):
            continue
        allowed = THEN_REQUIRED.get(iid, THEN)
        if f["then"] not in allowed:
            p.error(label, lines.at(*path, "then"), f"'then' of {iid} must be {' or '.join(allowed)}")
            continue
        written = {}
        for name in ("text", "speech") if "speech" in f else ("text",):
            line = lines.at(*path, name)
            p.places(f[name], FACTS, label, line, name)
            written[name] = Written(label, line, f"{iid} {name}", f[name], spoken=name == "speech")
            check_written(p, settings, written[name])
            for number in NUMBER.findall(PLACEHOLDER.sub(" ", f[name])):
                if number not in SAFETY_NUMBERS:
                    p.error(label, line, f"the {iid} {name} gives the number {number}: the only numbers the line "
                                         "gives are 911, 988 and the referral office's {phone}")
        text = settings.text_fill(f["text"])
        line = lines.at(*path, "text")
        p.check_sms(text, label, line, f"the {iid} text", settings.budget)
        if f["then"] == "topic" and longest_named:
            p.check_sms(f"{text} {longest_named}", label, line, f"the {iid} text (with the longest topic after it)",
                        settings.budget)
        if f["then"] in ("topic", "menu"):
            p.check_sms(f"{text} {then_menu}", label, line, f"the {iid} text (with the menu line after it)", settings.budget)
        pairs = []
        for i, pair in enumerate(f.get("pairs", [])):
            if not (isinstance(pair, dict) and set(pair) == {"one_of", "and_one_of"}
                    and all(isinstance(v, list) and v and all(isinstance(w, str) for w in v) for v in pair.values())):
                p.error(label, lines.at(*path, "pairs", i), "each of 'pairs' has two lists of words: one_of: [...] and and_one_of: [...]")
                continue
            pairs.append((tuple(pair["one_of"]), tuple(pair["and_one_of"])))
        target = Target("intent", iid)
        for i, cue in enumerate(f["cues"]):
            phrases.add(cue, target, label, lines.at(*path, "cues", i))
        items[iid] = Intent(
            id=iid, label=f["label"], text=text, speech=settings.voice_fill(f.get("speech", "")), then=f["then"],
            cues=tuple(f["cues"]), pairs=tuple(pairs), examples=read_examples(f, lines, label, path), file=label,
            written=MappingProxyType(written), alone=tuple(f.get("alone", ())),
        )
    if len(p.problems) > before:
        return None
    return Intents(MappingProxyType(items), then_topic, then_menu, tuple(top.get("small_words", ())), label,
                   translation, subject_words=tuple(top.get("subject_words", ())),
                   then_never=frozenset(top.get("then_never", ())))

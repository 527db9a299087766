"""The words staff edit in content/, loaded into an immutable, validated Library.

    model.py        what the content is once loaded (Library > Language > Topic, Menu ...)
    yaml_source.py  one YAML file -> plain values, with the line of every value
    reader.py       reading files once and collecting problems (file and line)
    language.py     one language folder -> a Language: settings, prompts, topics, menus
    load.py         content/ -> Loaded(library, problems): shared.yaml, each language, the checks
    checks.py       checks over the built library (reading level, long sentences ...)
    report.py       what `line check` prints

A new kind of content: its record in model.py, a `read_...` step in language.py (or load.py for
something every language shares) that reads its file and reports problems through the Reader.
A new check: a function in checks.py, listed in CHECKS. Staff edit the YAML; this package is
its only reader, and a broken edit never reaches callers or texters.
"""
from .load import Loaded, load, load_library
from .model import (FACTS, PHONE_KEYS, PLACEHOLDER, SMS_PROMPTS, SPOKEN_COMMANDS, VOICE_PROMPTS, Language,
                    Library, Menu, PlainLanguage, Source, Topic, Voice, Written, fill)
from .report import Report, TopicRow, check_folder
from .yaml_source import ContentError, Problem

__all__ = [
    "FACTS", "PHONE_KEYS", "PLACEHOLDER", "SMS_PROMPTS", "SPOKEN_COMMANDS", "VOICE_PROMPTS", "ContentError",
    "Language", "Library", "Loaded", "Menu", "PlainLanguage", "Problem", "Report", "Source", "Topic",
    "TopicRow", "Voice", "Written", "check_folder", "fill", "load", "load_library",
]

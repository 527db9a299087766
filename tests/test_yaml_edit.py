"""line/staff/yaml_edit.py: the staff console's reading and writing of one content file.

Staff change words, and reviewers read the diff: an edit must change only its field's lines,
keep every comment, key and style, and give a file both YAML readers read back."""
from __future__ import annotations

import difflib
import re
import textwrap
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from line.staff import yaml_edit
from line.staff.yaml_edit import EditError, Field, fields, key, parse_key, replace, value_at

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
FILES = sorted(CONTENT.rglob("*.yaml"))
IDS = [str(f.relative_to(CONTENT)) for f in FILES]


def read(name: str) -> str:
    return (CONTENT / name).read_text(encoding="utf-8")


def field(text: str, path: tuple) -> Field:
    return next(f for f in fields(text) if f.path == path)


def changed_lines(old: str, new: str) -> set[float]:
    """The lines of `old` (1-based) that `new` changes: all between the lines both begin with
    and the lines both end with. Lines only inserted after line n are {n + 0.5}."""
    a, b = old.split("\n"), new.split("\n")
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    if head + tail == len(a):
        return set() if len(a) == len(b) else {head + 0.5}
    return set(range(head + 1, len(a) - tail + 1))


def comments(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.lstrip().startswith("#")]


def safe_data(text: str | object, path: tuple):
    """The value at `path` as ruamel's safe loader reads the text (or an already loaded value)."""
    data = YAML(typ="safe", pure=True).load(text) if isinstance(text, str) else text
    for part in path:
        data = data[part]
    return data


def check_edit(text: str, path: tuple, words: str, want: str | None = None) -> str:
    """Make one edit and check what every edit must do: both readers read the result, the
    field holds the new words, only its lines changed, and every other field and comment is
    as it was, in the same order."""
    old_fields, result = fields(text), replace(text, {path: words})
    before = next(f for f in old_fields if f.path == path)
    yaml.safe_load(result)
    want = words if want is None else want
    got = safe_data(result, path)
    assert ("\n".join(got) if before.is_list else got) == want
    new_fields = fields(result)
    assert next(f.value for f in new_fields if f.path == path) == want  # what value_at says
    lines = changed_lines(text, result)
    assert lines, "nothing changed"
    assert all(before.line - 0.5 <= n <= before.end_line + 0.5 for n in lines), (sorted(lines), before)
    assert comments(result) == comments(text)
    assert [(f.path, f.value) for f in new_fields if f.path != path] == \
        [(f.path, f.value) for f in old_fields if f.path != path]
    return result


# --- 1. every file, as it is ----------------------------------------------------------------


@pytest.mark.parametrize("file", FILES, ids=IDS)
def test_every_file_round_trips_byte_identical(file: Path):
    text = file.read_text(encoding="utf-8")
    assert replace(text, {}) == text
    # writing back every field's own words changes nothing either
    assert replace(text, {f.path: f.value for f in fields(text)}) == text


@pytest.mark.parametrize("file", FILES, ids=IDS)
def test_every_field_reads_as_the_yaml_readers_read_it(file: Path):
    text = file.read_text(encoding="utf-8")
    found = fields(text)
    assert found
    assert [f.line for f in found] == sorted(f.line for f in found)  # document order
    loaded = YAML(typ="safe", pure=True).load(text)
    for f in found:
        assert f.line <= f.end_line
        data = safe_data(loaded, f.path)
        assert ("\n".join(data) if f.is_list else data) == f.value
        assert f.is_list == f.style.endswith("-list")
        assert parse_key(key(f.path)) == f.path


@pytest.mark.parametrize("file", FILES, ids=IDS)
def test_an_edit_in_every_file(file: Path):
    """A few fields spread over each file: a scalar gets more words, a list a changed first
    item and a new last one."""
    text = file.read_text(encoding="utf-8")
    found = fields(text)
    for f in found[:: max(1, len(found) // 3)]:
        if f.is_list:
            items = f.value.split("\n") if f.value else []
            new = ["changed " + items[0]] + items[1:] + ["one more"] if items else ["one more"]
            check_edit(text, f.path, "\n".join(new))
        else:
            check_edit(text, f.path, f.value + " Ask your health care provider.")


# --- 2 and 3. each kind of field ------------------------------------------------------------

FLU = ("Side effects are different for each patient and each cancer. Some common ones are fever, "
       "chills, weakness, dizziness, nausea, aches, and other flu-like symptoms. Ask your health "
       "care provider about any.")


def test_a_topics_folded_text_is_refolded_at_76_columns_never_at_a_dash():
    text = read("en/topics/side-effects.yaml")
    # a wrapper that breaks at hyphens would write "flu-" at the end of a line here
    assert any(line.endswith("flu-") for line in textwrap.wrap(FLU, width=74, break_on_hyphens=True))
    result = check_edit(text, ("text",), FLU)
    f = field(result, ("text",))
    assert f.style == "folded"
    lines = result.split("\n")
    assert lines[f.line - 1] == "text: >-"
    body = lines[f.line:f.end_line]
    assert all(line.startswith("  ") and not line.startswith("   ") for line in body)
    assert all(len(line) <= 76 for line in body)
    assert not any(line.endswith("-") for line in body)
    assert any("flu-like" in line for line in body)
    assert all(len(line) + len(nxt.split()[0]) + 1 > 76 for line, nxt in zip(body, body[1:]))  # filled


def test_a_prompt_nested_under_sms():
    text = read("en/prompts.yaml")
    words = "The {line_name} gives general information. It is not medical advice. In an emergency, call 911."
    result = check_edit(text, ("sms", "first_text"), words)
    f = field(result, ("sms", "first_text"))
    assert f.style == "folded"
    assert result.split("\n")[f.line].startswith("    The {line_name}")  # the same indentation


def test_a_folded_value_with_a_line_break_becomes_literal():
    text = read("en/topics/side-effects.yaml")
    words = "First line: a fever.\n\n  Indented second line."
    result = check_edit(text, ("speech",), words)
    assert field(result, ("speech",)).style == "literal"


def test_a_literal_value_stays_literal():
    text = read("en/prompts.yaml")
    result = check_edit(text, ("sms", "main_menu"), "{line_name}. Reply with one word:\n{options}")
    assert field(result, ("sms", "main_menu")).style == "literal"


def test_a_double_quoted_one_line_value():
    text = read("en/prompts.yaml")
    words = 'Source: MedlinePlus, {citation}. Reply "MENU" \\ more: topics.'
    result = check_edit(text, ("sms", "topic_footer"), words)
    f = field(result, ("sms", "topic_footer"))
    assert f.style == "double" and f.line == f.end_line
    assert len(changed_lines(text, result)) == 1


def test_a_quoted_value_keeps_its_spaces():
    text = read("en/language.yaml")
    result = check_edit(text, ("citation_joiner",), " or ")
    assert 'citation_joiner: " or "' in result


@pytest.mark.parametrize("words", [
    "side effects: risks", "* star", "- dash", "? mark", "yes", "No", "on", "null", "~", "2026-12-02",
    "123", "1.5", "# hash", "a #b", "@at", "`tick", "'quoted'", '"double"', "[x]", "{y}", "%p",
    "!tag", "&anchor", "a, b", "back\\slash", "ends with colon:", "  spaced ", "sí, señor",
])
def test_a_plain_value_is_quoted_when_it_must_be(words):
    text = read("en/topics/side-effects.yaml")
    result = check_edit(text, ("label",), words)
    f = field(result, ("label",))
    assert f.line == f.end_line == 2
    assert f.style in ("plain", "double")


def test_a_plain_value_stays_plain():
    text = read("en/topics/side-effects.yaml")
    result = check_edit(text, ("keyword",), "SIDES")
    assert result.startswith("keyword: SIDES\n")


def test_a_line_break_in_a_one_line_value_is_kept_on_one_line():
    text = read("en/topics/side-effects.yaml")
    result = check_edit(text, ("label",), "side\neffects")
    assert 'label: "side\\neffects"\n' in result


def test_a_single_quoted_value_stays_single_quoted():
    text = "a: 'it''s'  # why\nb: 1\n"
    result = replace(text, {("a",): "that's it"})
    assert result == "a: 'that''s it'  # why\nb: 1\n"


def test_an_item_of_a_flow_list():
    text = read("en/topics/side-effects.yaml")
    old = field(text, ("synonyms",))
    words = old.value.replace("\nfever\n", "\nhigh fever\n")
    result = check_edit(text, ("synonyms",), words)
    assert changed_lines(text, result) == {old.line}
    assert result.split("\n")[old.line - 1] == text.split("\n")[old.line - 1].replace(" fever,", " high fever,")
    assert field(result, ("synonyms",)).style == "flow-list"


def test_an_item_of_a_flow_list_over_several_lines():
    text = read("en/intents.yaml")
    old = field(text, ("small_words",))
    result = check_edit(text, ("small_words",), old.value.replace("shall", "should"))
    (n,) = changed_lines(text, result)
    assert result.split("\n")[n - 1] == text.split("\n")[n - 1].replace("shall", "should")
    # more items than fit: new lines, aligned with the others, none longer than the old ones
    result = check_edit(text, ("small_words",), old.value + "\nanother\nand another\nyet another\nmore")
    f = field(result, ("small_words",))
    lines = result.split("\n")[f.line - 1:f.end_line]
    assert all(len(line) <= max(len(old) for old in text.split("\n")[old.line - 1:old.end_line]) for line in lines)
    assert all(line.startswith(" " * 14) and line[14] != " " for line in lines[1:])


def test_comments_among_a_flow_lists_items_stay():
    text = read("es/intents.yaml")
    f = next(f for f in fields(text) if f.is_list and "k por qu" in "\n".join(text.split("\n")[f.line - 1:f.end_line]))
    items = f.value.split("\n")
    lines = text.split("\n")
    commented = next(n for n in range(f.line, f.end_line + 1) if "# k por qu" in lines[n - 1])
    # an item on the commented line changes: only that line, its comment kept
    word = next(w for w in items if w in lines[commented - 1])
    result = check_edit(text, f.path, "\n".join("x " + w if w == word else w for w in items))
    assert changed_lines(text, result) == {commented}
    # the items around a comment line go: the comment stays, on a line of its own
    text = read("en/intents.yaml")
    path = ("intents", "personal", "cues")
    items = value_at(text, path).split("\n")
    result = check_edit(text, path, "\n".join(items[:1] + items[-1:]))
    assert "# Cure and the odds: the articles never say cure; who can answer is" in result


def test_a_quoted_flow_item_keeps_its_quotes():
    text = read("en/intents.yaml")
    path = ("intents", "emergency", "cues")
    result = check_edit(text, path, value_at(text, path).replace("ambulance", "an ambulance"))
    assert '"911", "9 1 1"' in result


def test_a_block_list_item_changed_added_and_removed():
    text = read("en/topics/side-effects.yaml")
    old = field(text, ("examples",))
    items = old.value.split("\n")
    lines = text.split("\n")
    result = check_edit(text, ("examples",), "\n".join(items[:2] + ["is fever normal"] + items[3:]))
    assert changed_lines(text, result) == {old.line + 2}
    assert result.split("\n")[old.line + 1] == "  - is fever normal"
    result = check_edit(text, ("examples",), old.value + "\ncan it make me sick")
    assert changed_lines(text, result) == {old.end_line + 0.5}
    assert result.split("\n")[old.end_line] == "  - can it make me sick"
    result = check_edit(text, ("examples",), "\n".join(items[:1] + items[2:]))
    assert result.split("\n") == lines[:old.line] + lines[old.line + 1:]
    assert field(result, ("examples",)).style == "block-list"


def test_a_list_drops_blank_lines_and_the_browsers_cr_lf():
    text = read("en/topics/side-effects.yaml")
    old = field(text, ("examples",))
    words = "\r\n".join(old.value.split("\n")) + "\r\n\r\n   \r\n  is it safe  \r\n"
    check_edit(text, ("examples",), words, want=old.value + "\nis it safe")


def test_a_list_inside_a_list_of_mappings():
    text = read("en/intents.yaml")
    path = ("intents", "emergency", "pairs", 0, "one_of")
    f = field(text, path)
    assert f.style == "flow-list"
    result = check_edit(text, path, f.value.replace("ive got", "i have got"))
    assert len(changed_lines(text, result)) == 1
    assert ("intents", "emergency", "pairs", 0, "and_one_of") in {g.path for g in fields(text)}


def test_a_field_of_a_list_of_mappings():
    text = "options:\n  - label: one  # first\n    words: [a, b]\n  - label: two\n"
    assert [f.path for f in fields(text)] == [("options", 0, "label"), ("options", 0, "words"), ("options", 1, "label")]
    result = replace(text, {("options", 1, "label"): "three: 3"})
    assert result == 'options:\n  - label: one  # first\n    words: [a, b]\n  - label: "three: 3"\n'


def test_an_empty_flow_list():
    text = read("es/language.yaml")
    path = ("sms_words", "confirmed_by_twilio")
    assert field(text, path).value == ""
    result = check_edit(text, path, "STOP\nBAJA")
    assert "confirmed_by_twilio: [STOP, BAJA]\n" in result
    assert replace(result, {path: ""}) == text


def test_dates_numbers_and_groups_are_not_fields():
    text = read("en/topics/side-effects.yaml")
    paths = {f.path for f in fields(text)}
    assert ("reviewed",) not in paths
    assert paths >= {("keyword",), ("label",), ("examples",), ("synonyms",), ("text",), ("speech",)}
    shared = read("shared.yaml")
    shared_paths = {f.path for f in fields(shared)}
    assert ("sources", "fighting-cancer-2018", "date") not in shared_paths
    assert ("sources",) not in shared_paths and ("referral_office",) not in shared_paths
    assert field(shared, ("referral_office", "phone")).style == "double"


def test_several_changes_at_once():
    text = read("en/topics/side-effects.yaml")
    result = replace(text, {("keyword",): "SIDES", ("text",): FLU, ("sources",): "own-immune-system-2019"})
    assert value_at(result, ("keyword",)) == "SIDES"
    assert value_at(result, ("text",)) == FLU
    assert value_at(result, ("sources",)) == "own-immune-system-2019"
    assert value_at(result, ("speech",)) == value_at(text, ("speech",))


def test_the_module_reads_and_writes_no_files():
    source = Path(yaml_edit.__file__).read_text(encoding="utf-8")
    assert not re.search(r"\bopen\(|read_text|write_text|Path\(", source)


# --- 4. what is refused ---------------------------------------------------------------------


@pytest.mark.parametrize("path, why", [
    (("nope",), "no field nope"),
    (("sms", "nope"), "no field sms/nope"),
    (("sms",), "sms is a group"),
    (("examples", 0), "examples/0 is one item of the list examples"),
    (("reviewed",), "reviewed is not words (a number, a date"),
    (("examples", "x"), "no field examples/x"),
])
def test_a_path_that_is_no_field_is_refused(path, why):
    text = read("en/prompts.yaml") if path[0] == "sms" else read("en/topics/side-effects.yaml")
    with pytest.raises(EditError, match=re.escape(why)):
        replace(text, {path: "words"})
    assert value_at(text, path) is None


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\t", "\x1b", "\r", "\x7f", "\x85", "\u2028", "\ufeff"])
def test_characters_that_cannot_be_written_are_refused(bad):
    text = read("en/topics/side-effects.yaml")
    for path in [("text",), ("label",), ("examples",)]:
        with pytest.raises(EditError, match=re.escape("/".join(path)) + ".*cannot be saved"):
            replace(text, {path: f"fever{bad}chills"})


def test_words_longer_than_5000_characters_are_refused():
    text = read("en/topics/side-effects.yaml")
    check_edit(text, ("text",), "word " * 999 + "word")  # 4999
    with pytest.raises(EditError, match="text: a field is at most 5000 characters"):
        replace(text, {("text",): "word " * 1000 + "word"})


def test_words_that_are_not_text_are_refused():
    text = read("en/topics/side-effects.yaml")
    with pytest.raises(EditError, match="label"):
        replace(text, {("label",): 5})


def test_emptying_a_block_list_is_refused():
    text = read("en/topics/side-effects.yaml")
    with pytest.raises(EditError, match="examples: this list needs at least one item"):
        replace(text, {("examples",): "\n \n"})


@pytest.mark.parametrize("text, line", [
    ("a: b\nc: [d, e\nf: g\n", 3),
    ("a: b\n  c: d\n", 2),
    ("a: b\na: c\n", 2),
    ("a: 'b\n", 2),
    ("a: b\nc: \x07\n", 2),
])
def test_a_file_that_is_not_yaml_is_refused_with_its_line(text, line):
    for call in (lambda: fields(text), lambda: replace(text, {}), lambda: value_at(text, ("a",))):
        with pytest.raises(EditError, match=f"line {line}\\b"):
            call()


# --- field names ----------------------------------------------------------------------------


def test_key_examples():
    assert key(("sms", "first_text")) == "sms/first_text"
    assert key(("intents", 3, "text")) == "intents/3/text"
    assert parse_key("intents/3/text") == ("intents", 3, "text")
    assert key(()) == "" and parse_key("") == ()


@pytest.mark.parametrize("path", [
    ("3",), (3,), ("",), ("a/b", 0), ("~x",), ("Msg&data",), ("Dr.",), ("sí ñ", "día"), ("100%",),
    ("a b", "c?d=e#f"), (0, 10, "10"), ("-1",), ("007",),
])
def test_keys_round_trip_and_are_safe_in_forms_and_urls(path):
    s = key(path)
    assert parse_key(s) == path
    assert re.fullmatch(r"[A-Za-z0-9._~%/-]*", s)


def test_a_string_and_an_index_never_share_a_key():
    assert key(("3",)) != key((3,))
    assert key(("",)) != key(())


@pytest.mark.parametrize("bad", ["a//b", "/", "a/", "01", "sms/0001"])
def test_a_name_no_key_makes_is_refused(bad):
    with pytest.raises(EditError):
        parse_key(bad)


def test_value_at_a_path_that_is_not_a_path():
    text = read("en/prompts.yaml")
    assert value_at(text, ("sms", "help")) is not None
    for path in [("sms",), (True,), ("sms", -1), "sms/help", ("sms", "help", 0)]:
        assert value_at(text, path) is None


def test_odd_yaml_is_read_safely():
    assert fields("") == [] and replace("", {}) == ""
    text = "---\na: &x one\nb: *x\nc: !!str two\nd: >-  # why\n  three\n  four\ne: [p, q]  # after\n"
    assert [(f.path, f.style) for f in fields(text)] == [(("d",), "folded"), (("e",), "flow-list")]
    with pytest.raises(EditError, match="a has a YAML tag or anchor"):
        replace(text, {("a",): "uno"})
    result = replace(text, {("d",): "tres cuatro", ("e",): "p\nr"})
    assert result == "---\na: &x one\nb: *x\nc: !!str two\nd: >-  # why\n  tres cuatro\ne: [p, r]  # after\n"
    with pytest.raises(EditError, match="line 2: expected a single document"):
        fields("a: 1\n---\nb: 2\n")

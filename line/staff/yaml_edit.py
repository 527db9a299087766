"""The words of one content YAML file, and the file written back with only some of them changed.

Staff edit the line's words, never its YAML, and a reviewer reads the diff. Re-dumping a file,
even with ruamel's round trip at its closest settings (preserve_quotes, width 4096, indent 2/4/2),
gives back only 35 of the 43 content files unchanged: the others have [lists] broken over lines
by hand, which a dump joins or re-breaks, so a one-word edit would be a diff of the whole list.
So ruamel here only *reads*: it finds each value's node, its style and where it starts and
ends, and `replace` rewrites just those characters. Everything else stays byte for byte.

Each rewrite is then read back (ruamel, and PyYAML, which the line itself loads content with) and
compared value by value with what was asked for: a mistake here refuses the edit (EditError)
instead of writing a file the line cannot read.

Pure functions on text: the caller reads and writes the files.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote, unquote

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path_ = tuple[str | int, ...]

WIDTH = 76  # folded text is wrapped to this many columns, as the content files are
MAX_CHARS = 5000  # the most one field may hold (drafts.MAX_FIELD says the same to the form)
_STR = "tag:yaml.org,2002:str"
_STYLES = {None: "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}
_INDEX = re.compile(r"0|[1-9][0-9]*")
# Where folded text may break: a single space between two non-spaces. Never at a dash, so
# "flu-like" is never written as "flu- like"; never at a double space, which folding would lose.
_FOLD_POINT = re.compile(r"(?<=\S) (?=\S)")
_MISSING = object()
_BASE_LOADER = getattr(pyyaml, "CBaseLoader", pyyaml.BaseLoader)


@dataclass(frozen=True)
class Field:
    path: Path_  # keys and list indexes from the document root to the value
    value: str  # the words (a list: its items, one per line)
    line: int  # 1-based line where the value starts
    end_line: int  # 1-based last line of the value
    is_list: bool
    style: str  # plain, folded, literal, single, double, flow-list or block-list


class EditError(ValueError):
    """An edit that cannot be made; the message says which field and why, for staff."""


@dataclass(frozen=True)
class _Found:
    field: Field
    node: Node
    flow: bool  # inside [...] or {...}: no block scalars, and "," ends a plain value
    start: int  # character span of the value in the text
    end: int


# --- reading ---------------------------------------------------------------------------------


def fields(text: str) -> list[Field]:
    """Every string value and every list of strings, in the order of the file."""
    return [found.field for found in _parse(text)[1]]


def value_at(text: str, path: Path_) -> str | None:
    """The words of the field at `path`, or None if the file has no such field."""
    path = _as_path(path)
    return next((f.field.value for f in _parse(text)[1] if f.field.path == path), None)


def _parse(text: str) -> tuple[Node | None, list[_Found]]:
    root = _compose(text)
    return root, list(_walk(text, root, (), False, set())) if root is not None else []


def _compose(text: str) -> Node | None:
    if not isinstance(text, str):
        raise EditError("The file's contents are not text.")
    try:
        return YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise EditError(f"The file is not valid YAML{_where(exc, text)}.") from None


def _where(exc: Exception, text: str) -> str:
    """ ' at line N: what is wrong', from a ruamel or PyYAML error, for the message."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line = mark.line + 1
    elif isinstance(getattr(exc, "position", None), int):  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
    else:
        return f": {exc}"
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "it cannot be read"
    if problem.startswith("but ") and getattr(exc, "context", None):  # "expected a single document ..., but found another"
        problem = f"{exc.context}, {problem}"
    return f" at line {line}: {problem}"


def _walk(text: str, node: Node, path: Path_, flow: bool, seen: set[int]) -> Iterator[_Found]:
    if id(node) in seen:  # an alias (*name): its words are edited where the anchor is
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        keys: set[str] = set()
        for key_node, value in node.value:
            if not isinstance(key_node, ScalarNode):
                continue  # a complex key: nothing staff write
            if key_node.value in keys:
                raise EditError(f"The file is not valid YAML at line {key_node.start_mark.line + 1}: "
                                f"the key {key_node.value!r} appears twice.")
            keys.add(key_node.value)
            yield from _walk(text, value, path + (key_node.value,), flow or bool(node.flow_style), seen)
    elif isinstance(node, SequenceNode):
        inner = flow or bool(node.flow_style)
        if _is_word_list(text, node):
            yield _found(text, node, path, inner)
        else:  # a list of mappings (intents' pairs), or of odd items: its string items are fields
            for i, item in enumerate(node.value):
                yield from _walk(text, item, path + (i,), inner, seen)
    elif _is_words(text, node):
        yield _found(text, node, path, flow)


def _is_words(text: str, node: Node) -> bool:
    """A string scalar, not tagged (!!str) or anchored (&name): those are edited by hand."""
    return (isinstance(node, ScalarNode) and getattr(node.tag, "value", node.tag) == _STR
            and text[node.start_mark.index:node.start_mark.index + 1] not in ("!", "&"))


def _is_word_list(text: str, node: SequenceNode) -> bool:
    """A list of one-line strings, so that it can be shown and edited one item per line."""
    if text[node.start_mark.index:node.start_mark.index + 1] not in ("[", "-"):
        return False
    values = [_value(item) if _is_words(text, item) else None for item in node.value]
    return all(v and v == v.strip() and "\n" not in v for v in values)


def _found(text: str, node: Node, path: Path_, flow: bool) -> _Found:
    start, end = _span(text, node)
    line = node.start_mark.line + 1
    is_list = isinstance(node, SequenceNode)
    style = ("flow-list" if node.flow_style else "block-list") if is_list else _STYLES[node.style]
    field = Field(path, _value(node), line, line + text.count("\n", start, end), is_list, style)
    return _Found(field, node, flow, start, end)


def _value(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "\n".join(_value(item) for item in node.value)
    # ruamel's round-trip reader marks where folded text was broken with \a; it is not in the words
    return node.value.replace("\a", "") if node.style == ">" else node.value


def _span(text: str, node: Node) -> tuple[int, int]:
    """Where a value's characters start and end. A block scalar (>- or |-) ends at the end of
    its last line with words, not (as ruamel's mark says) after the blank lines that follow it;
    a block list at the end of its last item."""
    start, end = node.start_mark.index, node.end_mark.index
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        last = start + len(text[start:end].rstrip())
        end = _line_end(text, last)
    elif isinstance(node, SequenceNode) and not node.flow_style and node.value:
        end = _span(text, node.value[-1])[1]
    return start, end


def _line_end(text: str, index: int) -> int:
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline


# --- field names -----------------------------------------------------------------------------


def key(path: Path_) -> str:
    """A field's name for forms and URLs: "sms/first_text", "intents/3/text". A list index is
    its digits; a key that is all digits (or empty) starts with "~", so "3" and 3 stay apart;
    anything but letters, digits and "-._" is %-escaped, "/" and "~" too."""
    checked = _as_path(path)
    if checked is None:
        raise EditError(f"Not a field path: {path!r}.")
    parts = []
    for part in checked:
        if isinstance(part, int):
            parts.append(str(part))
        else:
            quoted = quote(part, safe="").replace("~", "%7E")
            parts.append("~" + quoted if not quoted or quoted.isdigit() else quoted)
    return "/".join(parts)


def parse_key(s: str) -> Path_:
    """The path a `key` names. A name that no path has (it came from a URL) is an EditError."""
    if not isinstance(s, str):
        raise EditError("A field name is text.")
    if s == "":
        return ()
    path: list[str | int] = []
    for part in s.split("/"):
        if _INDEX.fullmatch(part):
            path.append(int(part))
        elif part.startswith("~"):
            path.append(unquote(part[1:]))
        elif part and not part.isdigit():
            path.append(unquote(part))
        else:
            raise EditError(f"{s!r} is not the name of a field.")
    return tuple(path)


def _as_path(path: object) -> Path_ | None:
    if isinstance(path, (tuple, list)) and all(
            isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool) and p >= 0) for p in path):
        return tuple(path)
    return None


def _name(path: object) -> str:
    """How a message names a field: sms/first_text."""
    return "/".join(map(str, path)) if isinstance(path, (tuple, list)) else repr(path)


# --- writing ---------------------------------------------------------------------------------


def replace(text: str, changes: dict[Path_, str]) -> str:
    """The file's text with the fields in `changes` holding their new words, and nothing else
    changed. A list's new words are its items, one per line (blank lines dropped, each item
    trimmed). Line breaks may come as CR LF; line breaks at either end are not part of the words."""
    root, found = _parse(text)
    by_path = {f.field.path: f for f in found}
    splices: list[tuple[int, int, str]] = []
    expected: dict[Path_, str | list[str]] = {}
    for raw_path, words in changes.items():
        path = _as_path(raw_path)
        where = by_path.get(path) if path is not None else None
        if where is None:
            raise EditError(_why_not_a_field(text, root, raw_path))
        words = _clean(path, words)
        if where.field.is_list:
            items = [line.strip() for line in words.split("\n") if line.strip()]
            if items == [_value(item) for item in where.node.value]:
                continue
            splices.append(_list_splice(text, where, items))
            expected[path] = items
        elif words != where.field.value:
            splices.append(_scalar_splice(text, where.node, words, where.flow))
            expected[path] = words
    if not splices:
        return text
    result = text
    for start, end, new in sorted(splices, reverse=True):
        result = result[:start] + new + result[end:]
    _check(root, result, expected)
    return result


def _why_not_a_field(text: str, root: Node | None, path: object) -> str:
    name = _name(path)
    node, parent = root, None
    for part in _as_path(path) or [object()]:
        parent = node
        if isinstance(node, MappingNode):
            node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == part), None)
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            return f"There is no field {name} in this file."
    if isinstance(node, MappingNode):
        return f"{name} is a group of fields, not one field: change the fields inside it."
    if isinstance(parent, SequenceNode) and _is_word_list(text, parent):
        return f"{name} is one item of the list {_name(path[:-1])}: change the list, one item per line."
    if isinstance(node, SequenceNode):
        return f"{name} is a list whose items are not all words: change the items one by one."
    if _is_words(text, node) or getattr(node.tag, "value", node.tag) == _STR:
        return f"{name} has a YAML tag or anchor: it can only be changed in the file itself."
    return f"{name} is not words (a number, a date, yes/no or nothing): it can only be changed in the file itself."


def _clean(path: Path_, words: object) -> str:
    """The words as they will be written. Browsers send a textarea's lines with CR LF and often
    a newline at the end: both are only how the form sent them. Anything YAML cannot hold as
    text, or that no one can see (control characters, tabs), is refused."""
    if not isinstance(words, str):
        raise EditError(f"{_name(path)}: the new words are not text.")
    words = words.replace("\r\n", "\n").strip("\n")
    if len(words) > MAX_CHARS:
        raise EditError(f"{_name(path)}: a field is at most {MAX_CHARS} characters; this is {len(words)}.")
    for ch in words:
        if not _writable(ch):
            what = {"\t": "a tab", "\r": "a carriage return"}.get(ch, f"the invisible character U+{ord(ch):04X}")
            raise EditError(f"{_name(path)}: the words contain {what}, which cannot be saved. Remove it and try again.")
    return words


def _writable(ch: str) -> bool:
    """YAML's printable characters, less the ones PyYAML or a text editor would take for a line
    break (U+2028, U+2029) or a byte-order mark (U+FEFF)."""
    return (ch == "\n" or " " <= ch <= "~" or ("\xa0" <= ch <= "\ufffd" and not "\ud800" <= ch <= "\udfff"
            and ch not in "\u2028\u2029\ufeff") or ch >= "\U00010000")


def _scalar_splice(text: str, node: ScalarNode, words: str, flow: bool) -> tuple[int, int, str]:
    """A value written in its own style: folded text folded again at the same indentation
    (literal |- if the words have a line break, to keep it); plain or quoted text on one line."""
    start, end = _span(text, node)
    if node.style not in ("|", ">"):
        return start, end, _one_line(words, node.style, flow)
    header = re.match(r"[|>][-+0-9]*", text[start:])
    tail = text[start + header.end():min(_line_end(text, start), end)]  # e.g. a comment after >-
    if not words or words[0] in " \n" or words[-1] in " \n":
        return start, end, _double(words) + tail  # a block scalar cannot start or end with a space
    indent = _content_indent(text, start, end)
    if "\n" in words or node.style == "|":
        body = [indent + line if line else "" for line in words.split("\n")]
        return start, end, "|-" + tail + "\n" + "\n".join(body)
    return start, end, ">-" + tail + "\n" + "\n".join(_fold(words, indent))


def _content_indent(text: str, start: int, end: int) -> str:
    """The indentation of a block scalar's lines, as it was (or two more than its key's line)."""
    for line in text[start:end].split("\n")[1:]:
        if line.strip():
            return line[:len(line) - len(line.lstrip(" "))]
    key_line = text[text.rfind("\n", 0, start) + 1:start]
    return " " * (len(key_line) - len(key_line.lstrip(" ")) + 2)


def _fold(words: str, indent: str) -> list[str]:
    """Folded-scalar lines of at most WIDTH columns where the words allow (a long word stays whole)."""
    lines: list[str] = []
    line = ""
    for word in _FOLD_POINT.split(words):
        if line and len(indent) + len(line) + 1 + len(word) > WIDTH:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [indent + line for line in lines + [line]]


def _one_line(words: str, style: str | None, flow: bool) -> str:
    """Plain if it reads back as the same text in both YAML readers, else quoted: single quotes
    stay single; anything else needing quotes (": ", a leading "*", "yes", a date) gets double."""
    if "\n" not in words:
        if style is None and _reads_plain(words, flow):
            return words
        if style == "'":
            return "'" + words.replace("'", "''") + "'"
    return _double(words)


def _reads_plain(words: str, flow: bool) -> bool:
    if not words or words != words.strip():
        return False
    doc, want = (f"[{words}]\n", [words]) if flow else (f"k: {words}\n", {"k": words})
    try:
        return pyyaml.safe_load(doc) == want and YAML(typ="safe", pure=True).load(doc) == want
    except Exception:  # any failure to read it back just means: quote it
        return False


def _double(words: str) -> str:
    return '"' + words.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _list_splice(text: str, where: _Found, items: list[str]) -> tuple[int, int, str]:
    """A list rewritten with its items in their old places: unchanged items keep their exact
    text, a changed one is rewritten where it was, new ones join the item before them."""
    node: SequenceNode = where.node
    old = [_value(item) for item in node.value]
    plan: list[tuple[int | None, str]] = []  # (the old item it takes the place of, words)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, items, autojunk=False).get_opcodes():
        for k in range(j2 - j1):
            plan.append((i1 + k if op != "insert" and k < i2 - i1 else None, items[j1 + k]))

    def render(index: int | None, words: str) -> str:
        if index is not None and old[index] == words:
            start, end = _span(text, node.value[index])
            return text[start:end]
        return _one_line(words, node.value[index].style if index is not None else None, True)

    if node.flow_style:
        return _flow_splice(text, where, plan, render)
    return _block_splice(text, where, plan)


def _flow_splice(text: str, where: _Found, plan: list[tuple[int | None, str]], render) -> tuple[int, int, str]:
    """A [list]: on one line it stays on one line. Over several lines each item stays on the
    line it was on (so a diff shows only that line), a line grown too long is split, and the
    comments among the items stay: a comment line above the items that followed it, a comment
    at the end of a line after that line's items."""
    node, start, end = where.node, where.start, where.end
    if node.start_mark.line == node.end_mark.line or not node.value:
        return start, end, "[" + ", ".join(render(*step) for step in plan) + "]"
    line_of = [item.start_mark.line for item in node.value]
    spans = [_span(text, item) for item in node.value]
    above: dict[int, list[str]] = {}  # an old line -> the comment (or blank) lines above it
    trailing: dict[int, str] = {}  # an old line -> the comment at its end
    for i in range(1, len(spans)):
        first, *between = text[spans[i - 1][1]:spans[i][0]].split("\n")
        if between:  # item i starts a line; between[-1] is its indentation
            if "#" in first:
                trailing[line_of[i - 1]] = re.search(r"\s*#.*", first).group()
            above[line_of[i]] = between[:-1]
    if "#" in text[start:spans[0][0]] + text[spans[-1][1]:end]:
        raise EditError(f"{_name(where.field.path)}: this list has a comment next to its brackets, "
                        "so it can only be changed in the file itself.")
    cont = " " * next((col for col, line in zip([n.start_mark.column for n in node.value], line_of)
                       if line != node.start_mark.line), node.start_mark.column + 1)
    limit = max([WIDTH] + [item.end_mark.column + 1 for item in node.value])  # the widest line of items
    pieces: dict[int, list[str]] = {}  # an old line -> the items written on it
    last = node.start_mark.line
    for index, words in plan:  # a new item goes on the line of the item before it
        last = line_of[index] if index is not None else last
        pieces.setdefault(last, []).append(render(index, words))
    rows: list[tuple[list[str], str]] = []  # (items, the comment after them); ([], line): a comment line
    for line in sorted(set(line_of)):
        rows += [([], comment) for comment in above.get(line, [])]
        if line not in pieces:
            if line in trailing:  # its items are gone, not its comment
                rows.append(([], cont + trailing[line].lstrip()))
            continue
        first = node.start_mark.column + 1 if not any(items for items, _ in rows) else len(cont)
        rows += [(row, "") for row in _pack(pieces[line], first, len(cont), limit)]
        rows[-1] = (rows[-1][0], trailing.get(line, ""))
    return start, end, _flow_lines(rows, cont)


def _pack(items: list[str], first: int, offset: int, limit: int) -> list[list[str]]:
    """Items on as few lines as fit in `limit` columns (the first line starting at column `first`)."""
    rows: list[list[str]] = [[]]
    for item in items:
        if rows[-1] and (first if len(rows) == 1 else offset) + len(", ".join(rows[-1] + [item])) + 1 > limit:
            rows.append([])
        rows[-1].append(item)
    return rows


def _flow_lines(rows: list[tuple[list[str], str]], cont: str) -> str:
    """The text of a list over several lines, from "[" to "]"."""
    with_items = [i for i, (items, _) in enumerate(rows) if items]
    if not with_items:
        return "\n".join(["[]"] + [comment for _, comment in rows])
    first = with_items[0]  # the text starts at "[": a comment line cannot come before it
    rows = [rows[first]] + rows[:first] + rows[first + 1:]
    last = max(i for i, (items, _) in enumerate(rows) if items)
    out = []
    for i, (items, comment) in enumerate(rows):
        if items:
            comment = ("[" if i == 0 else cont) + ", ".join(items) + ("]" if i == last else ",") + comment
        out.append(comment)
    return "\n".join(out)


def _block_splice(text: str, where: _Found, plan: list[tuple[int | None, str]]) -> tuple[int, int, str]:
    """Each "- item" line (with the comment lines above it) is a chunk: kept, changed in place,
    dropped with its item, or a new "- item" line."""
    node = where.node
    dash = node.start_mark.index
    line_start = text.rfind("\n", 0, dash) + 1
    pos = line_start if not text[line_start:dash].strip() else dash
    region_start, chunks = pos, []
    for item in node.value:
        chunk_end = _line_end(text, _span(text, item)[1])
        chunks.append((pos, chunk_end))
        pos = chunk_end + 1
    out = []
    for index, words in plan:
        if index is None:
            out.append(" " * node.start_mark.column + "- " + _one_line(words, None, False))
            continue
        chunk_start, chunk_end = chunks[index]
        item = node.value[index]
        if _value(item) == words:
            out.append(text[chunk_start:chunk_end])
        else:
            start, end, new = _scalar_splice(text, item, words, False)
            out.append(text[chunk_start:start] + new + text[end:chunk_end])
    if not out:
        raise EditError(f"{_name(where.field.path)}: this list needs at least one item.")
    return region_start, chunks[-1][1], "\n".join(out)


# --- checking --------------------------------------------------------------------------------


def _check(before: Node, after: str, expected: dict[Path_, str | list[str]]) -> None:
    """Refuse a rewrite that does not read back as exactly the old file with the new words:
    every value, key and structure compared (ruamel), and the new words as the line reads them
    (PyYAML's BaseLoader, line/content/yaml_source.py); PyYAML's safe_load must read it too."""
    try:
        YAML(typ="safe", pure=True).load(after)
        pyyaml.safe_load(after)
        data = pyyaml.load(after, Loader=_BASE_LOADER)  # as the line reads content: every scalar a string
    except Exception as exc:
        raise EditError(f"These words would break the file{_where(exc, after)}; nothing was changed.") from None
    want = dict(_leaves(before, (), set()))
    for path, words in expected.items():
        if isinstance(words, list):
            for p in [p for p in want if len(p) > len(path) and p[:len(path)] == path]:
                del want[p]
            want.update({path + (i,): (_STR, item) for i, item in enumerate(words)})
        else:
            want[path] = (_STR, words)
    got = dict(_leaves(_compose(after), (), set()))
    wrong = [p for p in expected if _dig(data, p) not in (_MISSING, expected[p])]
    if got != want or wrong:
        bad = wrong or [p for p in set(got) | set(want) if got.get(p) != want.get(p)]
        raise EditError(f"{_name(sorted(bad, key=str)[0])}: these words could not be saved exactly as "
                        "written; nothing was changed.")


def _leaves(node: Node, path: Path_, seen: set[int]) -> Iterator[tuple[Path_, tuple[str, str | None]]]:
    tag = getattr(node.tag, "value", node.tag)
    if id(node) in seen:
        yield path, ("alias", None)
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        yield path, (tag, None)
        for key_node, value in node.value:
            yield from _leaves(value, path + (key_node.value if isinstance(key_node, ScalarNode) else "?",), seen)
    elif isinstance(node, SequenceNode):
        yield path, (tag, None)
        for i, item in enumerate(node.value):
            yield from _leaves(item, path + (i,), seen)
    else:
        yield path, (tag, _value(node))


def _dig(data: object, path: Path_) -> object:
    """The value at a path in PyYAML's reading, or _MISSING if its keys read differently there."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return _MISSING
    return data

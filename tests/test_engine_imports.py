"""The engine imports no web library: not directly, nor through a module of the line it uses."""
import ast
from pathlib import Path

LINE = Path(__file__).resolve().parent.parent / "line"
WEB = {"flask", "werkzeug", "twilio"}


def imports(path: Path, package: list[str] | None = None) -> set[str]:
    """The modules a file imports, as absolute names (line.xxx for the line's own)."""
    if package is None:
        package = ["line", *path.relative_to(LINE).parts[:-1]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def source(module: str) -> Path | None:
    """The file of one of the line's modules (None for a name that is not a module of the line)."""
    parts = module.split(".")[1:]
    candidate = LINE.joinpath(*parts)
    if candidate.with_suffix(".py").is_file():
        return candidate.with_suffix(".py")
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py"
    return None


def reached_from(start: Path) -> dict[str, Path]:
    """Every module of the line the engine's files import, directly or not (the package `line`
    itself, the app factory that every submodule's import runs first, does not count)."""
    seen: dict[str, Path] = {}
    todo = [start]
    while todo:
        for name in imports(todo.pop()):
            if name.startswith("line.") and name not in seen and (path := source(name)):
                seen[name] = path
                todo.append(path)
    return seen


def engine_files() -> list[Path]:
    return sorted((LINE / "engine").glob("*.py"))


def test_the_engine_imports_no_web_library():
    assert engine_files()
    for path in engine_files():
        for module_path in [path, *reached_from(path).values()]:
            web = {name for name in imports(module_path) if name.split(".")[0] in WEB}
            assert not web, f"{module_path.relative_to(LINE.parent)} imports {sorted(web)}"


def test_the_check_sees_web_imports_and_follows_the_lines_own_modules(tmp_path):
    sneaky = tmp_path / "x.py"
    sneaky.write_text("import os\nimport werkzeug.exceptions\nfrom flask import request\n"
                      "from ..runtime import runtime\nfrom . import texts\n")
    found = imports(sneaky, ["line", "engine"])
    assert {"werkzeug.exceptions", "flask", "line.runtime", "line.engine.texts"} <= found
    assert "flask" in {n.split(".")[0] for n in imports(LINE / "runtime.py")}  # runtime would be caught


def test_the_simulator_and_the_preview_read_no_twiml():
    """They show the engine's results (handed over by the channels), never the XML read back."""
    for name in ("simulator.py", "preview.py", "cli.py"):
        parsers = {m for m in imports(LINE / name) if m.split(".")[0] in {"xml", "lxml", "defusedxml"}}
        assert not parsers, (name, parsers)

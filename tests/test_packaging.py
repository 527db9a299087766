"""The line as an operator installs it: a wheel built from pyproject.toml, installed without -e.

An editable install (scripts/setup) reads the source tree and hides what a wheel leaves out; a package
list written by hand once shipped line/ without line/engine, line/content and line/store. So this builds
the real wheel from a copy of the source (the build writes nothing in the worktree), installs it into a
folder of its own, and runs the installed line from there.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

def shipped_source() -> set[str]:
    """Every file under line/ (modules, templates, static files), as paths inside the wheel
    ('line/store/optouts.py'): whatever the line reads at run time lives there and must ship."""
    return {path.relative_to(ROOT).as_posix() for path in (ROOT / "line").rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from pyproject.toml, as `pip wheel .` would, from a copy of the source."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    shutil.copytree(ROOT / "line", source / "line", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    out = tmp / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                   check=True, capture_output=True, timeout=120)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_carries_every_module_and_template_of_the_line(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = shipped_source()
    assert {"line/engine/texts.py", "line/content/model.py", "line/store/optouts.py",
            "line/templates/preview.html"} <= expected  # the walk found the subpackages
    assert sorted(expected - names) == []
    # and nothing but the line: no tests, no content copies, no scripts
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"line"}


def test_the_installed_line_answers_a_text_and_serves_the_preview_page(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(target), str(wheel)], check=True, capture_output=True, timeout=120)
    program = """
import importlib, pkgutil, sys
import line
assert line.__file__.startswith(sys.argv[1]), line.__file__
for module in pkgutil.walk_packages(line.__path__, "line."):
    imported = importlib.import_module(module.name)
    assert imported.__file__.startswith(sys.argv[1]), imported.__file__
app = line.create_app()
for name, module in list(sys.modules.items()):
    if name == "line" or name.startswith("line."):
        assert module.__file__.startswith(sys.argv[1]), module.__file__
client = app.test_client()
print(client.post("/sms", data={"From": "+15555550123", "Body": "menu", "MessageSid": "SM1"}).status_code)
page = client.get("/preview")
print(page.status_code, b"<html" in page.data.lower())
"""
    # -S: not this venv's site.py, so not its .pth files, one of which serves line/ from the source tree
    # (the editable install); its libraries (flask, twilio, ...) come from its site-packages folder.
    libraries = sysconfig.get_paths()
    path = os.pathsep.join(dict.fromkeys([str(target), libraries["purelib"], libraries["platlib"]]))
    env = {**os.environ, "PYTHONPATH": path, "LINE_CONTENT_DIR": str(ROOT / "content"),
           "LINE_DATA_DIR": str(tmp_path / "data"), "LINE_SECRET": "test-secret", "LINE_ALLOW_UNSIGNED": "1",
           "TWILIO_AUTH_TOKEN": "test-auth-token"}
    env.pop("LINE_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-S", "-c", program, str(target)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["200", "200", "True"]

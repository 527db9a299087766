"""The texter's view through a real server: gunicorn with two workers on loopback, signed posts over HTTP."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from conftest import CONTENT, ROOT, TOKEN, message_sid, store_answered_before, twilio_signature
from line.content import load_library

GUNICORN = Path(sys.executable).parent / "gunicorn"
EN = load_library(CONTENT).language("en")
START_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`gunicorn 'line:create_app()'` on 127.0.0.1, started and always stopped by the test."""

    def __init__(self, data_dir: Path, log: Path, *args: str, **extra_env: str):
        """`args`: gunicorn's options, instead of its default here (two workers)."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LINE_", "TWILIO_")) and k != "DATABASE_URL"}
        env.update(LINE_DATA_DIR=str(data_dir), TWILIO_AUTH_TOKEN=TOKEN, LINE_SECRET="test-secret", **extra_env)
        self.env = env
        self.known: set[str] = set()  # numbers made ones the line has answered before
        self.log = log
        self.proc = subprocess.Popen(
            [str(GUNICORN), "line:create_app()", "--bind", f"127.0.0.1:{self.port}", *(args or ("--workers", "2"))],
            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            self.wait_until_healthy()
        except BaseException:
            self.stop()
            raise

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or no worker ready to answer
                pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not answer /healthz within {START_TIMEOUT} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this test started, nothing else
                self.proc.wait(timeout=5)

    def post(self, body: str, number: str, sign: bool = True) -> requests.Response:
        data = {"Body": body, "From": number, "To": "+15555550100", "MessageSid": message_sid()}
        headers = {"X-Twilio-Signature": twilio_signature(TOKEN, self.base + "/sms", data)} if sign else {}
        return requests.post(self.base + "/sms", data=data, headers=headers, timeout=10)

    def answered_before(self, *numbers: str) -> None:
        """conftest.answered_before, in this server's database: their replies come without the
        first_text notice (for tests about something other than a first reply)."""
        from line.config import Settings
        from line.store import Store, load_secret

        settings = Settings.from_env(self.env)
        store = Store(settings.database_url, load_secret(settings))
        try:
            assert store_answered_before(store, *numbers)
        finally:
            store.dispose()
        self.known.update(numbers)

    def text(self, body: str, number: str = "+15555550142") -> list[str]:
        """A text from a number the line has answered before; its replies."""
        if number not in self.known:
            self.answered_before(number)
        response = self.post(body, number)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/xml")
        root = ElementTree.fromstring(response.content)
        assert root.tag == "Response"
        assert all(child.tag == "Message" for child in root)
        return [m.text or "" for m in root]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    running = Server(tmp / "data", tmp / "gunicorn.log")
    yield running
    running.stop()


@pytest.mark.parametrize("body, topic", [
    ("SIDE", "side-effects"),
    ("side efects", "side-effects"),
    ("clinical trails", "trials"),
    ("How is it given?", "how-given"),
])
def test_a_topic_by_keyword_or_with_a_typo(server, body, topic):
    [reply] = server.text(body)
    assert reply == EN.topics[topic].text
    assert "Source: MedlinePlus magazine" in reply


def test_menu_lists_the_topics(server):
    [reply] = server.text("MENU")
    assert reply == EN.menus["main"].text
    assert "TRIALS: clinical trials" in reply


def test_help_says_how_to_stop_and_whom_to_call(server):
    [reply] = server.text("HELP")
    assert "Cancer Immunotherapy Info Line" in reply
    assert "STOP" in reply and "1-866-820-4505" in reply


def test_unsigned_and_forged_posts_are_refused(server):
    unsigned = server.post("side effects", "+15555550143", sign=False)
    assert unsigned.status_code == 403
    assert "Side effects" not in unsigned.text
    forged = requests.post(server.base + "/sms", data={"Body": "side effects", "From": "+15555550143"},
                           headers={"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}, timeout=10)
    assert forged.status_code == 403


def test_an_opt_out_outlasts_a_restart_until_start(tmp_path):
    data, log = tmp_path / "data", tmp_path / "gunicorn.log"
    number = "+15555550177"
    first = Server(data, log)
    try:
        assert first.text("STOP", number) == []  # an empty <Response/>: Twilio confirms STOP itself
        assert first.text("side effects", number) == []
        assert first.text("side effects", "+15555550178") == [EN.topics["side-effects"].text]
    finally:
        first.stop()
    assert first.proc.returncode is not None

    second = Server(data, log)
    try:
        assert second.text("side effects", number) == []
        assert second.text("MENU", number) == []
        [welcome] = second.text("START", number)
        assert "Welcome back" in welcome and "get texts again" in welcome
        assert second.text("side effects", number) == [EN.topics["side-effects"].text]
    finally:
        second.stop()


def test_every_worker_publishes_a_good_edit_and_none_a_broken_one(tmp_path, content_copy):
    server = Server(tmp_path / "data", tmp_path / "gunicorn.log", LINE_CONTENT_DIR=str(content_copy),
                    LINE_RELOAD_SECONDS="0", LINE_SMS_RATE="1000/minute")  # 21 texts from one number
    try:
        topic = content_copy / "en" / "topics" / "cancer.yaml"
        old = server.text("CANCER")
        assert "mass called a tumor" in old[0]
        text = topic.read_text()
        topic.write_text(text.replace("keyword: CANCER", "keyword: CANCER\nkeyword: TWICE"))  # broken
        assert all(server.text("CANCER") == old for _ in range(10))
        topic.write_text(text.replace("mass called a tumor", "lump called a tumor"))  # good
        replies = [server.text("CANCER")[0] for _ in range(10)]
        assert all("lump called a tumor" in reply for reply in replies)
    finally:
        server.stop()

"""A database that times out (a host that is down drops packets) must not make texters wait."""
import socket
import threading
import time

from conftest import Twilio, make_settings
from line import create_app


class SilentServer:
    """Accepts connections on loopback and never answers, like a host that has gone away."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def test_after_one_slow_failure_texts_are_answered_at_once(tmp_path):
    server = SilentServer()
    try:
        url = f"postgresql://line@127.0.0.1:{server.port}/line?connect_timeout=1"
        app, took = timed(lambda: create_app(make_settings(tmp_path, database_url=url)))
        assert took < 5  # the line starts even so
        twilio = Twilio(app)
        replies = []
        for _ in range(5):
            reply, took = timed(lambda: twilio.text("side effects"))
            replies.append((reply, took))
        for reply, _ in replies:
            assert len(reply) == 1 and "1-866-820-4505" in reply[0]  # the referral number, every time
        assert all(took < 0.3 for _, took in replies[1:]), replies  # no second wait on the database
        stop, took = timed(lambda: twilio.text("STOP"))
        assert took < 0.3 and "1-866-820-4505" in stop[0]  # not claimed: it could not be recorded
    finally:
        server.close()

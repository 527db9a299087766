"""The production setup, for real: Debian's nginx with the site `line nginx` prints (https, a
self-signed certificate for 127.0.0.1), in front of gunicorn with the project's gunicorn.conf.py
(sync workers, two of them here) and LINE_PROXY_COUNT=1. What Twilio sees through nginx, and
what slow or oversized clients cost the texters beside them: sync workers serve one connection
each, so nginx must never hand them a client that is still sending."""
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from conftest import TOKEN, message_sid, twilio_signature
from loadgen import Nginx
from test_server import EN, Server

BODY_SECONDS = "3"  # LINE_BODY_TIMEOUT: gunicorn's line and nginx's timeouts alike (10 by default)
ENV = {"LINE_PROXY_COUNT": "1", "LINE_BODY_TIMEOUT": BODY_SECONDS}
MAX_BODY = 64 * 1024  # LINE_MAX_BODY_BYTES's default: nginx's client_max_body_size is rendered from it


class Proxied:
    """nginx in front of a gunicorn; `texts()` are what gunicorn's access log says it handled."""

    def __init__(self, tmp):
        self.access = tmp / "gunicorn.access"
        self.line = Server(tmp / "data", tmp / "gunicorn.log", "--workers", "2", "--access-logfile", str(self.access),
                           "--access-logformat", "%(m)s %(U)s %(s)s", **ENV)
        try:
            self.nginx = Nginx(tmp / "nginx", self.line.port, env=ENV)
        except BaseException:
            self.line.stop()
            raise
        self.url = self.nginx.base + "/sms"  # the public URL: the one Twilio signs

    def stop(self):
        self.nginx.stop()
        self.line.stop()

    def post(self, form: dict, signed_url: str | None = None, **headers) -> requests.Response:
        headers.setdefault("X-Twilio-Signature", twilio_signature(TOKEN, signed_url or self.url, form))
        return requests.post(self.url, data=form, headers=headers, timeout=10, verify=str(self.nginx.certificate))

    def handled(self, quiet: float = 0.5, most: float = 5.0) -> list[str]:
        """What gunicorn answered: "POST /sms 200" for each request nginx handed it. A worker
        writes its access line after the answer has gone out, so a client can hold the answer
        before the line is there (under load, a test's last line came after the next test had
        started): read until the log has not changed for `quiet` seconds."""
        def read() -> list[str]:
            try:
                return self.access.read_text().splitlines()
            except FileNotFoundError:
                return []

        seen, since, deadline = read(), time.monotonic(), time.monotonic() + most
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = read()
            if now != seen:
                seen, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return seen

    def timed_out(self) -> int:
        """How many requests nginx gave up as too slow (408 in its access log; it sends nothing)."""
        return (self.nginx.folder / "access.log").read_text().count('" 408 ')

    def connect(self):
        import ssl

        context = ssl.create_default_context(cafile=str(self.nginx.certificate))
        raw = socket.create_connection(("127.0.0.1", self.nginx.port), timeout=10)
        return context.wrap_socket(raw, server_hostname="127.0.0.1")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    running = Proxied(tmp_path_factory.mktemp("nginx"))
    running.line.answered_before("+15555550142")
    yield running
    running.stop()


def text_form(body: str = "side effects", **more) -> dict:
    return {"Body": body, "From": "+15555550142", "To": "+15555550100", "MessageSid": message_sid(), **more}


def answered(proxied) -> None:
    """A signed text through nginx gets the line's answer."""
    response = proxied.post(text_form())
    assert response.status_code == 200, response.text
    assert b"<Message>" + EN.topics["side-effects"].text.encode()[:40] in response.content


def test_the_shipped_gunicorn_runs_sync_workers(proxied):
    assert "Using worker: sync" in proxied.line.log.read_text()


def test_a_signed_text_through_nginx_is_answered_over_https(proxied):
    before = len(proxied.handled())
    response = proxied.post(text_form())
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert EN.topics["side-effects"].text in response.text
    assert proxied.handled()[before:] == ["POST /sms 200"]  # gunicorn answered it, through nginx


def test_the_signature_over_the_public_url_validates_and_no_other_does(proxied):
    """Twilio signs https://YOUR-HOST/sms; gunicorn gets http://127.0.0.1:8000/sms from nginx. The
    line checks the public URL, rebuilt from nginx's X-Forwarded-* headers, which nginx writes
    itself whatever the client sent."""
    assert proxied.post(text_form()).status_code == 200
    internal = f"http://127.0.0.1:{proxied.line.port}/sms"
    assert proxied.post(text_form(), signed_url=internal).status_code == 403  # what gunicorn sees
    assert proxied.post(text_form(), signed_url=proxied.url.replace("https:", "http:")).status_code == 403
    forged = "http://evil.example/sms"  # a client's own forwarding headers change nothing
    assert proxied.post(text_form(), signed_url=forged, **{"X-Forwarded-Proto": "http", "X-Forwarded-Host":
                        "evil.example", "X-Forwarded-Port": "80"}).status_code == 403
    assert proxied.post(text_form(), **{"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}).status_code == 403


def head(proxied, length: int | None, chunked: bool = False, signature: str = "anything") -> bytes:
    lines = ["POST /sms HTTP/1.1", f"Host: 127.0.0.1:{proxied.nginx.port}",
             "Content-Type: application/x-www-form-urlencoded", f"X-Twilio-Signature: {signature}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer_on(sock) -> bytes:
    """What nginx sends on `sock` until it closes it (b"" when it closes it with nothing, as it does
    a request it timed out, or resets it). Fails if it has not closed it within 10 s."""
    data = b""
    try:
        while piece := sock.recv(65536):
            data += piece
    except socket.timeout:
        raise AssertionError(f"nginx kept the connection open for 10 s (sent {data[:60]!r})") from None
    except OSError:  # reset (reset_timedout_connection), or the TLS session cut short
        pass
    return data


class Trickle:
    """Sends `piece()` on every socket every half second, from a thread, until stopped or nginx
    closes them all: clients that keep a connection busy without ever finishing a request."""

    def __init__(self, socks, piece):
        self.socks, self.piece = socks, piece
        self.done = threading.Event()
        self.closed_while_sending: set[int] = set()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.wait(0.5):
            for i, sock in enumerate(self.socks):
                if i in self.closed_while_sending:
                    continue
                try:
                    sock.sendall(self.piece())
                except OSError:
                    self.closed_while_sending.add(i)
            if len(self.closed_while_sending) == len(self.socks):
                return

    def stop(self):
        self.done.set()
        self.thread.join(timeout=10)


def test_slow_bodies_do_not_hold_up_other_texters(proxied):
    """Slow-drip: six clients (three times the workers) send their headers, then a byte of their
    body every half second. Texters are answered meanwhile, and gunicorn never sees the slow
    requests: nginx holds them. Once they stop, nginx gives them up after LINE_BODY_TIMEOUT (408)."""
    before, timed_out = len(proxied.handled()), proxied.timed_out()
    socks = [proxied.connect() for _ in range(6)]
    try:
        for sock in socks:
            sock.sendall(head(proxied, 500) + b"Body=he")
        drip = Trickle(socks, lambda: b"e")
        try:
            time.sleep(1.0)
            for _ in range(3):
                answered(proxied)
            assert not drip.closed_while_sending  # still sending, still unanswered
        finally:
            drip.stop()
        assert proxied.handled()[before:] == ["POST /sms 200"] * 3  # only the texters reached gunicorn
        for sock in socks:
            assert answer_on(sock) == b""  # closed: nginx gave it up, and gunicorn never saw it
        assert proxied.timed_out() == timed_out + 6
        assert proxied.handled()[before:] == ["POST /sms 200"] * 3
        answered(proxied)
    finally:
        for sock in socks:
            sock.close()


def test_slowloris_does_not_hold_up_other_texters(proxied):
    """Slowloris: six clients send a header line a byte at a time and never finish their
    headers. Texters are answered meanwhile; nginx closes each one after LINE_BODY_TIMEOUT (its
    client_header_timeout) although it is still sending, and gunicorn never sees them."""
    before, timed_out = len(proxied.handled()), proxied.timed_out()
    socks = [proxied.connect() for _ in range(6)]
    try:
        for sock in socks:
            sock.sendall(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        trickle = Trickle(socks, lambda: b"a")
        try:
            time.sleep(1.0)
            for _ in range(3):
                answered(proxied)
            deadline = time.monotonic() + 20  # far past the 3 s bound: nginx must have closed them all
            while len(trickle.closed_while_sending) < len(socks) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(trickle.closed_while_sending) == len(socks)  # closed while still trickling
        finally:
            trickle.stop()
        assert proxied.timed_out() == timed_out + 6
        assert proxied.handled()[before:] == ["POST /sms 200"] * 3
    finally:
        for sock in socks:
            sock.close()


def test_a_body_over_the_bound_is_refused_by_nginx_and_one_at_it_is_answered(proxied):
    """client_max_body_size is LINE_MAX_BODY_BYTES: over it, nginx answers 413 from the headers
    alone (or while a chunked body comes) and gunicorn sees nothing; a signed text of exactly
    that size is the line's to answer."""
    before = len(proxied.handled())
    with proxied.connect() as sock:
        sock.sendall(head(proxied, 50 * 1024 * 1024))  # 50 MB announced, none of it sent
        assert answer_on(sock).startswith(b"HTTP/1.1 413 ")
    with proxied.connect() as sock:
        sock.sendall(head(proxied, None, chunked=True))
        piece = b"a" * 16384
        status = b""
        for _ in range(64):  # up to 1 MB, if nginx kept reading
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except OSError:
                break
        status = answer_on(sock)
        assert status.startswith(b"HTTP/1.1 413 ")
    assert proxied.handled()[before:] == []  # neither reached gunicorn

    form = text_form()
    form["Pad"] = ""
    form["Pad"] = "a" * (MAX_BODY - len(urlencode(form)))
    assert len(urlencode(form)) == MAX_BODY
    response = proxied.post(form)
    assert response.status_code == 200 and EN.topics["side-effects"].text in response.text
    form = dict(form, Pad=form["Pad"] + "a", MessageSid=message_sid())
    assert proxied.post(form).status_code == 413
    assert proxied.handled()[before:] == ["POST /sms 200"]

"""Attacks on the running line over real sockets, with no proxy in front: bodies too big to hold,
bodies that never end, clients that stall. gunicorn starts in the project folder, so it serves
with the project's own gunicorn.conf.py, as an operator's gunicorn does, with its threaded
workers (`--threads 8`), the option where no buffering proxy stands in front. The shipped
setup, nginx in front of sync workers, meets the same clients in tests/test_nginx.py."""
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from conftest import TOKEN, message_sid, twilio_signature
from test_server import Server

def text_form() -> dict:
    """A text as Twilio posts it, each with its own MessageSid (the line answers one only once)."""
    return {"Body": "side effects", "From": "+15555550142", "To": "+15555550100", "MessageSid": message_sid()}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bounds")
    running = Server(tmp / "data", tmp / "gunicorn.log", "--workers", "2", "--threads", "8", LINE_BODY_TIMEOUT="3")
    yield running
    running.stop()


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def head(server, path: str, length: int | None, signature: str | None = "anything", chunked: bool = False) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Content-Type: application/x-www-form-urlencoded"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if signature is not None:
        lines.append(f"X-Twilio-Signature: {signature}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(sock: socket.socket) -> int:
    """The status code of the answer on `sock` (its first line)."""
    data = b""
    while b"\r\n" not in data:
        piece = sock.recv(4096)
        if not piece:
            break
        data += piece
    return int(data.split(b" ", 2)[1])


def everything(sock: socket.socket) -> bytes:
    """All the line sends on `sock` until it closes the connection (fails after 10 s)."""
    data = b""
    while piece := sock.recv(65536):
        data += piece
    return data


def waiting_answer(sock: socket.socket) -> bool:
    """Whether an answer is waiting on `sock`, without waiting for one."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def signed_text(server) -> requests.Response:
    form = text_form()
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, server.base + "/sms", form)}
    return requests.post(server.base + "/sms", data=form, headers=headers, timeout=5)


def test_threads_on_the_command_line_are_threaded_workers(server):
    assert "Using worker: gthread" in server.log.read_text()


@pytest.mark.parametrize("signature", ["anything", None], ids=["any signature", "unsigned"])
def test_a_50_mb_body_is_refused_before_it_is_sent(server, signature):
    """The attack: a 50 MB form with any X-Twilio-Signature took a worker to 2 GB. Now the answer
    comes from the headers alone (413, or 403 unsigned), while the body has not been sent."""
    with connect(server) as sock:
        sock.sendall(head(server, "/sms", 50 * 1024 * 1024, signature))
        assert status_of(sock) == (413 if signature else 403)
    assert signed_text(server).status_code == 200


def test_a_chunked_body_is_cut_off_at_the_bound(server):
    """No Content-Length to refuse by: the line stops reading at LINE_MAX_BODY_BYTES (64 KB) and
    refuses, while the client is still sending."""
    with connect(server) as sock:
        sock.sendall(head(server, "/sms", None, chunked=True))
        piece = b"a" * 16384
        for _ in range(50 * 64):  # up to 50 MB, if the line kept reading
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            if waiting_answer(sock):
                break
        status = status_of(sock)
    assert status == 413


def test_a_body_longer_than_its_content_length_is_read_no_further(server):
    """A lying Content-Length: the line reads what it said, not the megabytes that follow."""
    form = text_form()
    data = urlencode(form).encode()
    with connect(server) as sock:
        sock.sendall(head(server, "/sms", len(data), twilio_signature(TOKEN, server.base + "/sms", form)))
        sender = threading.Thread(target=send_quietly, args=(sock, data + b"&Body=" + b"a" * (4 * 1024 * 1024)))
        sender.start()
        assert status_of(sock) == 200  # the text as signed: what followed it was not read as its body
        try:
            sock.shutdown(socket.SHUT_RDWR)  # stops the sender, if the line has not closed it already
        except OSError:
            pass
        sender.join(timeout=10)


def send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:  # the line closed the connection: it read what it needed
        pass


def test_stalled_bodies_do_not_stall_the_line(server):
    """The attack: connections that send their headers and a few bytes of body, then wait, held
    both sync workers for 30 s. Now a texter is answered while they wait, and each stalled body
    is given up after LINE_BODY_TIMEOUT (3 s here) with 408."""
    stalled = []
    try:
        for _ in range(6):
            sock = connect(server)
            sock.sendall(head(server, "/sms", 500) + b"Body=he")
            stalled.append(sock)
        time.sleep(0.5)  # every one of them is now waiting in a worker
        for _ in range(3):
            response = signed_text(server)
            assert response.status_code == 200
            assert b"<Message>" in response.content
        # ... answered while every stalled client was still waiting, not after they were given up
        assert not any(waiting_answer(sock) for sock in stalled)
        for sock in stalled:
            answer = everything(sock)  # until the line closes the connection
            assert answer.startswith(b"HTTP/1.1 408 ")
    finally:
        for sock in stalled:
            sock.close()


def test_silent_connections_do_not_stall_the_line(server):
    """Connections that open and say nothing take a thread each for at most 5 s (gunicorn's
    gthread), then wait in the worker's poller: a few of them leave threads to answer with."""
    silent = [connect(server) for _ in range(8)]
    try:
        time.sleep(0.5)
        assert signed_text(server).status_code == 200
    finally:
        for sock in silent:
            sock.close()


@pytest.mark.parametrize("path, field", [("/sms", "Body"), ("/voice/choose?at=main", "SpeechResult")])
def test_a_60000_character_word_is_answered_and_kills_no_worker(server, path, field):
    """The attack: a 60,000-character word nobody understands took redact() 21 s, and gunicorn
    killed the worker. The line reads at most MAX_TEXT_CHARS (1,600) of a text or of speech."""
    data = dict(text_form(), **{field: "a" * 60_000}, CallSid="CA0060000")
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, server.base + path, data)}
    response = requests.post(server.base + path, data=data, headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert signed_text(server).status_code == 200
    assert "WORKER TIMEOUT" not in server.log.read_text()

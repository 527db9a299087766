"""How gunicorn serves the line. gunicorn reads this file by itself when it is started in this
folder (`.venv/bin/gunicorn 'line:create_app()'`); options on its command line win over it.

Sync workers, behind nginx, as gunicorn's own documentation advises ("Deploying Gunicorn": a
buffering proxy in front of the default sync workers). A sync worker serves one connection at a
time, and gives all of it to one request: no threads take turns on the interpreter's lock, no
thread pool to size, the fastest per request. Alone, it is at the mercy of slow clients: two
clients that sent their headers and a few bytes of body, then waited, held both workers until
gunicorn killed them 30 s later, and every texter waited with them. nginx takes that: it reads
each request whole (within LINE_MAX_BODY_BYTES and LINE_BODY_TIMEOUT), and only then hands it to
a worker, and takes the answer at once. `.venv/bin/line nginx` prints its site
(docs/operations.md, "Serving behind nginx"); gunicorn listens on 127.0.0.1:8000, for nginx only.

Threaded workers, where no buffering proxy stands in front: `--threads 8` on gunicorn's command
line (gunicorn then runs its gthread workers by itself). Each worker serves many connections
with threads: a connection that has sent nothing waits in the worker's poller and is closed after
`keepalive` seconds, a body that stops coming is given up after LINE_BODY_TIMEOUT (the line bounds
each wait for the next piece of a body), and the other threads answer meanwhile; but a client
that trickles its headers holds a thread until it stops.
"""
import os

worker_class = "sync"
# WEB_CONCURRENCY is how hosts say how many processes to run (gunicorn's own convention); the
# command line's --workers wins over both. gunicorn's advice: (2 x cores) + 1.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 20
keepalive = 5  # threaded workers: seconds an idle kept-alive (or silent new) connection may wait
# Twilio's requests are small: a request line of a URL with a few parameters, about 20 headers.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
# gunicorn's control socket (gunicornc) is one path per user, shared by every gunicorn on the
# host; the line needs none of it.
control_socket_disable = True

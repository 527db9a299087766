"""How gunicorn serves the line. gunicorn reads this file by itself when it is started in this
folder (`.venv/bin/gunicorn 'line:create_app()'`); options on its command line win over it.

Slow clients must not starve the line. gunicorn's default (sync) workers serve one connection
each: two clients that send their headers and a few bytes of body, then wait, held both workers
until gunicorn killed them 30 s later, and every caller waited with them. Here each worker serves
many connections with threads:
- a connection that has sent nothing waits in the worker's poller, not in a thread, and is
  closed after `keepalive` seconds;
- a body that stops coming is given up after LINE_BODY_TIMEOUT seconds (10 by default; the line
  bounds each wait for the next piece of a body it reads), and a body of more than
  LINE_MAX_BODY_BYTES is refused before it is read (see docs/operations.md);
- the rest of the threads keep answering meanwhile.
A buffering proxy in front (nginx, a cloud load balancer) that hands gunicorn only whole
requests is good practice too.
"""
import os

worker_class = "gthread"
# WEB_CONCURRENCY is how hosts say how many processes to run (gunicorn's own convention); the
# command line's --workers and --threads win over both.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = 8  # each keeps a database connection for its reads: line/store/database.py's pool has room for 8 and writes
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 20
keepalive = 5  # seconds an idle kept-alive (or silent new) connection may wait
# Twilio's requests are small: a request line of a URL with a few parameters, about 20 headers.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
# gunicorn's control socket (gunicornc) is one path per user, shared by every gunicorn on the
# host; the line needs none of it.
control_socket_disable = True

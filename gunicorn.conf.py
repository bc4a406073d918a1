"""gunicorn settings for the web process, from VideoShare's configuration.

gunicorn manages the processes (restarts a dead one, graceful shutdown); each process is a
uvicorn event loop running the ASGI application of config/asgi.py. Uploads are anonymous and
may come over slow links, or from someone who sends one byte a second on purpose: with
threaded workers each such client held a thread until its body ended, and 8 of them stopped
the site. An event loop reads every body as it arrives and hands the request to a thread only
once the body is complete, so slow clients cost sockets, not threads.

Started the same way everywhere (`make run`, `make web`, the tests):
    gunicorn config.asgi:application
Other gunicorn settings can be changed at start with GUNICORN_CMD_ARGS (e.g.
"--worker-connections 2000").
"""

import logging
import resource
from pathlib import Path

from uvicorn_worker import UvicornWorker

from config import cleanup, loader
from config.logs import JsonFormatter

_config = loader.load()

bind = f"0.0.0.0:{loader.as_int(_config, 'web_port')}"
workers = loader.as_int(_config, "web_workers")
# Open connections per process; a request beyond them is answered 503 at once.
worker_connections = 1000
# Longer than a load balancer's idle timeout (AWS ALB: 60 s), so the balancer never reuses a
# connection this side has just closed (a 502 for that request).
keepalive = 65
# Seconds a process may go without telling the master it is alive (its event loop is stuck).
timeout = 60
# On SIGTERM: stop accepting, let requests in progress (an upload being received) finish for
# web_drain_seconds, then stop. The uvicorn side gives up a little earlier, so requests still
# running are cancelled cleanly (temporary files removed) before the master kills the process.
# Give it the time a large upload takes on your participants' links.
graceful_timeout = loader.as_int(_config, "web_drain_seconds")
# Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (the load balancer's addresses
# or networks, e.g. 10.0.0.0/16). From anyone else they are ignored: the client address is
# the peer's, which the rate limits key on.
forwarded_allow_ips = _config.get("forwarded_allow_ips") or "127.0.0.1"
accesslog = "-"
# No runtime control socket (gunicornc): one fixed path per user, which several instances on
# one machine would share, and nothing here uses it.
control_socket_disable = True


class Worker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "asyncio",
        # Pure Python; request heads over 16 KiB are refused. httptools would receive a body
        # with less CPU (docs/PERFORMANCE.md), but uvicorn's protocol for it takes heads of
        # any size.
        "http": "h11",
        "lifespan": "off",  # Django has no startup or shutdown hooks
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What uvicorn-worker does not take from gunicorn's settings:
        self.config.limit_concurrency = self.cfg.worker_connections
        self.config.timeout_graceful_shutdown = max(self.cfg.graceful_timeout - 10, 1)
        # Access lines (where accesslog says) as the app's other logs: one JSON object a line.
        for handler in logging.getLogger("uvicorn.access").handlers:
            handler.setFormatter(JsonFormatter())


worker_class = Worker


def on_starting(server):
    """Uploads a crash left half-received are removed. Every connection and every upload being
    received holds a file descriptor: allow as many as the system lets this process have (the
    soft limit is often 1024)."""
    uploads = Path(_config["data_dir"]).resolve() / "tmp"
    removed = cleanup.remove_stale(uploads, older_than=cleanup.UPLOAD_IDLE_SECONDS)
    if removed:
        server.log.info("removed %s stale upload files from %s", removed, uploads)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as error:  # e.g. an unlimited hard limit (macOS)
        server.log.warning("open files limit stays %s: %s", soft, error)
    else:
        server.log.info("open files limit raised from %s to %s", soft, hard)

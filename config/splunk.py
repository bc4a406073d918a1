"""Log events to Splunk's HTTP Event Collector (HEC), never slowing or breaking the app.

HEC is one JSON POST to /services/collector/event with `Authorization: Splunk <token>`, several
events one after the other in a body. The stdlib does that in a page, so no package (the
splunk-handler package was last released in 2021).

emit() only puts the event on a bounded queue; a background thread posts batches with a short
timeout. When the queue is full or Splunk refuses, fails or hangs, events are dropped and
counted (`dropped`), never raised, and the trouble is written once to stderr.
"""

import contextlib
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

from config.logs import record_fields

_STOP = object()  # tells the sender thread to finish


class HecHandler(logging.Handler):
    def __init__(
        self,
        url: str,
        token: str,
        index: str = "",
        source: str = "",
        sourcetype: str = "",
        queue_size: int = 10_000,
        batch_size: int = 100,
        timeout: float = 3.0,
        flush_timeout: float = 5.0,
    ):
        super().__init__()
        self.url = url
        self.token = token
        # HEC uses the token's defaults for what is not sent.
        metadata = {"index": index, "source": source, "sourcetype": sourcetype}
        self.metadata = {key: value for key, value in metadata.items() if value}
        self.host = socket.gethostname()
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.timeout = timeout
        self.flush_timeout = flush_timeout
        self._pid = None  # the process that owns the queue and the sender thread
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._reset_counts()

    def _reset_counts(self) -> None:
        self.sent = 0
        self.dropped_full = 0  # written under the handler's lock only: emit(), close()
        self.dropped_failed = 0  # written by the sender thread only
        self.failing = ""  # the error that began the current outage; "" while Splunk answers

    @property
    def dropped(self) -> int:
        return self.dropped_full + self.dropped_failed

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._pid != os.getpid():
                self._start()
            event = {"time": record.created, "host": self.host, **self.metadata}
            event["event"] = record_fields(record)
            # Serialized here, so the event is what it was when logged.
            self._queue.put_nowait(json.dumps(event, default=str).encode())
        except queue.Full:
            self.dropped_full += 1
        except Exception:
            self.handleError(record)  # writes to stderr, never raises

    def _start(self) -> None:
        """The first event in this process starts the sender. After a fork (Celery's pool,
        gunicorn's workers) the parent's thread does not exist here and its queue's lock may
        be held forever, so a child starts afresh with its own queue and thread."""
        self._pid = os.getpid()
        self._reset_counts()
        self._queue = queue.Queue(self.queue_size)
        self._thread = threading.Thread(
            target=self._send_forever, args=(self._queue,), name="splunk-hec", daemon=True
        )
        self._thread.start()

    def _send_forever(self, events: queue.Queue) -> None:
        while True:
            batch = [events.get()]  # waits for the first; takes what else is already there
            while len(batch) < self.batch_size:
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            bodies = [item for item in batch if item is not _STOP]
            if bodies:
                self._post(bodies)
            if len(bodies) < len(batch):
                return

    def _post(self, bodies: list[bytes]) -> None:
        request = urllib.request.Request(
            self.url,
            data=b"\n".join(bodies),
            headers={"Authorization": f"Splunk {self.token}", "Content-Type": "application/json"},
        )
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                response.read()
        except Exception as error:
            self.dropped_failed += len(bodies)
            if not self.failing:
                _warn(f"cannot send log events to {self.url} ({_describe(error)}); dropping them")
                self.failing = str(error) or type(error).__name__
        else:
            self.sent += len(bodies)
            if self.failing:
                _warn(f"sending log events to {self.url} again")
                self.failing = ""

    def close(self) -> None:
        """Send what is queued, waiting at most flush_timeout. logging.shutdown() calls this at
        exit (it is an atexit hook); Celery's pool processes call it as they end."""
        thread = self._thread
        if self._pid == os.getpid() and thread.is_alive():
            deadline = time.monotonic() + self.flush_timeout
            try:
                self._queue.put(_STOP, timeout=self.flush_timeout)
                thread.join(max(0.0, deadline - time.monotonic()))
            except queue.Full:
                pass
            if thread.is_alive():  # Splunk hangs: what is still queued is lost
                with self._queue.mutex:
                    self.dropped_full += sum(1 for item in self._queue.queue if item is not _STOP)
            if self.dropped:
                _warn(f"{self.dropped} log events were not delivered to {self.url}")
        super().close()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an error: the token is never sent anywhere else


_opener = urllib.request.build_opener(_NoRedirects)


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, urllib.error.HTTPError):
        with contextlib.suppress(Exception):  # HEC's answer says why, e.g. "Invalid token"
            text += " " + error.read(200).decode(errors="replace")
    return text


def _warn(text: str) -> None:
    # Not through logging: it would come back to this handler.
    with contextlib.suppress(Exception):  # stderr closed: nowhere left to say it
        print(f"splunk log handler: {text}", file=sys.stderr, flush=True)

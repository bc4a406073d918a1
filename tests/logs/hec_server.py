"""A local Splunk HTTP Event Collector for the tests, on a free port.

It checks what a real HEC checks (the path, `Authorization: Splunk <token>`, events as JSON
objects one after the other, each with an `event`) and keeps the events it accepts.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/services/collector/event"


class HecServer:
    def __init__(self, token: str = "hec-test-token"):
        self.token = token
        self.events: list[dict] = []
        self.refused: list[tuple[int, str]] = []  # (status, HEC's text)
        # Cleared, every request waits until the test sets it again: a Splunk that hangs.
        self.answering = threading.Event()
        self.answering.set()
        self.changed = threading.Condition()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.hec = self
        self.port = self.httpd.server_address[1]

    def start(self) -> "HecServer":
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.answering.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def environ(self, token: str | None = None) -> dict[str, str]:
        return environ(self.port, token or self.token)

    def wait_for(self, condition, what: str, seconds: float = 60) -> list[dict]:
        """Wait until condition(events) holds; the events. A bound, not a measurement."""
        with self.changed:
            if not self.changed.wait_for(lambda: condition(self.events), seconds):
                raise AssertionError(f"the HEC server never received {what}: {self.events}")
            return list(self.events)

    def record(self, events: list[dict] | None, refused: tuple[int, str] | None) -> None:
        with self.changed:
            self.events.extend(events or [])
            if refused:
                self.refused.append(refused)
            self.changed.notify_all()


def environ(port: int, token: str) -> dict[str, str]:
    """The seed's splunk_* keys, as VIDEOSHARE_* environment variables, for a local HEC."""
    return {
        "VIDEOSHARE_SPLUNK_API_URL": "127.0.0.1",
        "VIDEOSHARE_SPLUNK_API_PORT": str(port),
        "VIDEOSHARE_SPLUNK_API_PROTOCOL": "http",
        "VIDEOSHARE_SPLUNK_API_TOKEN": token,
        "VIDEOSHARE_SPLUNK_INDEX": "videoshare",
        "VIDEOSHARE_SPLUNK_SOURCE": "videoshare-tests",
        "VIDEOSHARE_SPLUNK_SOURCETYPE": "_json",
    }


def parse_events(body: bytes) -> list[dict]:
    """HEC's batch format: JSON objects one after the other. ValueError when malformed."""
    text, decoder, events, at = body.decode(), json.JSONDecoder(), [], 0
    while text[at:].strip():
        while text[at].isspace():
            at += 1
        event, at = decoder.raw_decode(text, at)
        if not isinstance(event, dict) or not isinstance(event.get("event"), dict):
            raise ValueError(f"not an event: {event!r}")
        if not isinstance(event.get("time"), int | float) or not event.get("host"):
            raise ValueError(f"no time or host: {event!r}")
        events.append(event)
    if not events:
        raise ValueError("no events")
    return events


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        hec: HecServer = self.server.hec
        hec.answering.wait()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != PATH:
            return self.answer(hec, 404, "The requested URL was not found on this server.", 404)
        if self.headers.get("Authorization") != f"Splunk {hec.token}":
            return self.answer(hec, 403, "Invalid token", 4)
        try:
            events = parse_events(body)
        except ValueError:
            return self.answer(hec, 400, "Invalid data format", 6)
        hec.record(events, None)
        self.answer(hec, 200, "Success", 0)

    def answer(self, hec: HecServer, status: int, text: str, code: int) -> None:
        if status != 200:
            hec.record(None, (status, text))
        payload = json.dumps({"text": text, "code": code}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass  # quiet test output

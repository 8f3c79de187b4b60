import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Push:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict:
        return json.loads(self.raw)

    def signature_ok(self, secret: str) -> bool:
        """Verify Moneybird-Signature as a receiver would (Stripe's recipe)."""
        parts = dict(item.split("=", 1) for item in self.headers["Moneybird-Signature"].split(","))
        expected = hmac.new(
            secret.encode(), f"{parts['t']}.".encode() + self.raw, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])


@dataclass
class Receiver:
    """A real HTTP server on a free port that records every POST and answers with the queued
    (status, headers) in turn, then `default`."""

    url: str
    pushes: list[Push] = field(default_factory=list)
    answers: deque = field(default_factory=deque)
    default: tuple[int, dict[str, str]] = (200, {})
    delay: float = 0.0  # seconds before answering

    def answer(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.answers.append((status, headers or {}))

    def events(self) -> list[Push]:
        """The pushes of events, without registration test pushes."""
        return [p for p in self.pushes if p.body["action"] != "test_webhook"]


@pytest.fixture
def receiver():
    holder: dict[str, Receiver] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rec = holder["receiver"]
            with lock:
                rec.pushes.append(Push(dict(self.headers.items()), raw))
                status, headers = rec.answers.popleft() if rec.answers else rec.default
            if rec.delay:
                time.sleep(rec.delay)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the pusher gave up waiting (the timeout test)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_port}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_hosts(settings):
    """The receiver runs on loopback, which only WEBHOOK_ALLOW_PRIVATE_HOSTS allows."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    return settings

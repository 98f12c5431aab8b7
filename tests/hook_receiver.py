"""A real HTTP receiver of webhooks for the tests: a threaded http.server on a loopback port
that checks each delivery's signature with the standardwebhooks library (a receiver's own
implementation of the spec, not ours) and records what it got. It can answer 503 to the
first N deliveries, or hold deliveries until released (to kill a sender mid-delivery)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from tests.conftest import free_port

MAX_BODY = 10_000_000


class Receiver:
    def __init__(self, secret: str | bytes, port: int | None = None):
        self.webhook = Webhook(secret)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/spp"
        self.got: list[dict] = []  # verified deliveries: id, at, body
        self.refused: list[str] = []  # why a delivery failed verification
        self.arrivals: list[float] = []  # monotonic time of every request, answered or not
        self.held = 0  # verified deliveries that waited for ``release``
        self.fail_first = 0
        self.release = threading.Event()
        self.release.set()
        self.cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- life --------------------------------------------------------------------------
    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                receiver._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.release.set()
        self.stop()

    # -- requests ----------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.cond:
            self.arrivals.append(time.monotonic())
            self.cond.notify_all()
        length = int(h.headers.get("content-length", "0"))
        body = h.rfile.read(min(length, MAX_BODY))
        headers = {k: v for k, v in h.headers.items()}
        try:
            doc = self.webhook.verify(body, headers)
        except Exception as exc:  # a bad signature is a test failure, reported by the test
            with self.cond:
                self.refused.append(f"{type(exc).__name__}: {exc}")
                self.cond.notify_all()
            self._answer(h, 401)
            return
        with self.cond:
            failing = self.fail_first > 0
            if failing:
                self.fail_first -= 1
        if failing:
            self._answer(h, 503, b"receiver busy")
            return
        with self.cond:
            if not self.release.is_set():
                self.held += 1
                self.cond.notify_all()
        self.release.wait(120)
        with self.cond:
            self.got.append({"id": headers.get("webhook-id") or headers.get("Webhook-Id"),
                             "at": time.monotonic(), "body": doc})
            self.cond.notify_all()
        self._answer(h, 204)

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, body: bytes = b"") -> None:
        try:
            h.send_response(status)
            h.send_header("content-length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except OSError:  # the sender is gone (killed mid-delivery)
            pass

    def wait_for(self, predicate, timeout: float = 60, what: str = "") -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise AssertionError(f"receiver: timed out waiting for {what}; got "
                                     f"{[g['id'] for g in self.got]}, refused {self.refused}")

    def ids(self) -> list[str]:
        return [g["id"] for g in self.got]

    def dump(self) -> str:
        return json.dumps([g["body"] for g in self.got], indent=1, default=str)

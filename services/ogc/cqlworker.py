"""CQL2 parsing in a child process, so a crash of the native ``cql2`` parser costs a 400, not
the server.

``cqlscan`` bounds what reaches the parser, far below the depth that overflowed its stack, but
the parser is native code fed by anonymous callers: a crash we have not found yet (or a hang)
must not take the worker and every request in flight with it. Each server process keeps one
child (``python -m services.ogc.cqlworker``) speaking one JSON line per request on its pipes;
a child that dies or takes longer than PARSE_TIMEOUT_S is replaced and the filter refused.
Parsed filters are cached (a client repeats the same filter page after page), so the round
trip (~0.1 ms) is paid once per distinct filter; requests make it in a thread
(``cql.prepare_filter``), never on the event loop.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
from collections import OrderedDict

from services.ogc.errors import InvalidParameter

log = logging.getLogger("services")
PARSE_TIMEOUT_S = 2.0
START_TIMEOUT_S = 30.0  # a loaded machine may take a while to start Python
CACHE_SIZE = 1024


class FilterParser:
    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._cache: OrderedDict[tuple[str, str], tuple[bool, object]] = OrderedDict()

    def parse(self, text: str, lang: str) -> dict:
        """CQL2 JSON of ``text``; InvalidParameter (400) when it does not parse."""
        key = (lang, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                hit = self._ask(lang, text)
                # give-ups too: a filter that hung or crashed the parser is refused from the
                # cache when repeated, never fed to it again while it stays cached
                self._cache[key] = hit
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
        ok, value = hit
        if ok:
            return json.loads(value)
        raise InvalidParameter(f"filter ({lang}) cannot be parsed: {value}")

    def warm(self) -> None:
        """Start the child now rather than on the first filter (blocking: run off the loop)."""
        with self._lock:
            self._child()

    def _ask(self, lang: str, text: str) -> tuple[bool | None, str]:
        proc = self._child()
        try:
            proc.stdin.write(json.dumps([lang, text]).encode() + b"\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], PARSE_TIMEOUT_S)
            line = proc.stdout.readline() if ready else b""
        except OSError:
            line = b""
        if not line:
            why = "timed out" if proc.poll() is None else f"exited ({proc.poll()})"
            log.error("CQL2 parser process %s on a %d-character %s filter; restarted",
                      why, len(text), lang)
            self._stop()
            return None, ("the parser gave up on this filter; simplify it (fewer nested "
                          "parentheses or operators)")
        answer = json.loads(line)
        return bool(answer[0]), answer[1]

    def _child(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "services.ogc.cqlworker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": _root()})
            ready, _, _ = select.select([self._proc.stdout], [], [], START_TIMEOUT_S)
            if not ready or self._proc.stdout.readline() != b"ready\n":
                self._stop()
                raise RuntimeError("the CQL2 parser process did not start")
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None


def _root() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(here))


PARSER = FilterParser()


def main() -> None:  # the child: one [lang, text] line in, one [ok, tree or message] line out
    import cql2

    sys.stdout.buffer.write(b"ready\n")
    sys.stdout.buffer.flush()
    for line in sys.stdin.buffer:
        lang, text = json.loads(line)
        try:
            expr = cql2.parse_text(text) if lang == "cql2-text" else cql2.parse_json(text)
            answer = [True, json.dumps(expr.to_json())]
        except Exception as exc:  # noqa: BLE001 - every parser complaint is the client's
            answer = [False, " ".join(str(exc).split())[:500]]
        sys.stdout.buffer.write(json.dumps(answer).encode() + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()

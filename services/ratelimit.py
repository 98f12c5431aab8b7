"""Rate limits (one ASGI middleware), token buckets in this process.

A request presenting a credential seen valid lately (``services.auth.known_valid``) draws from
that credential's bucket (``SPP_RATE_KEY_*``); any other request, anonymous or with a
credential not (yet) known valid, on any route, from its client address's
(``SPP_RATE_IP_*``), so made-up keys do not escape the address limit. The address is the TCP
peer unless ``SPP_TRUSTED_PROXIES`` names it (``gis serve``). An empty bucket → 429 with
Retry-After.
"""

from __future__ import annotations

import math
import time

from gis.settings import get_settings
from services.auth import credential_hash, known_valid, presented
from services.limits import header_values
from services.ogc.errors import error_response


class TokenBuckets:
    """Per-key token buckets: ``rate`` tokens a second up to ``burst``; 0 = unlimited."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000):
        self.rate = rate
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self._state: dict[str, tuple[float, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._state.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._state[key] = (tokens - 1, now)
            if len(self._state) > self.max_keys:
                self._prune(now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1 - tokens) / self.rate

    def peek(self, key: str, now: float | None = None) -> float:
        """Like ``take`` without taking: seconds until a token is available."""
        if not self.enabled or key not in self._state:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._state[key]
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = [k for k, (t, last) in self._state.items()
                if t + (now - last) * self.rate >= self.burst]
        for k in full:
            del self._state[k]
        if len(self._state) > self.max_keys:  # still too many: forget the oldest half
            for k in sorted(self._state, key=lambda k: self._state[k][1])[: self.max_keys // 2]:
                del self._state[k]


class RateLimit:
    def __init__(self, app):
        self.app = app
        s = get_settings()
        self.ip = TokenBuckets(s.rate_ip_per_s, s.rate_ip_burst)
        self.keys = TokenBuckets(s.rate_key_per_s, s.rate_key_burst)
        self.reports = TokenBuckets(s.submission_rate_per_hour / 3600, s.submission_rate_burst)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        wait = self.wait(scope)
        if wait:
            retry = max(1, math.ceil(wait))
            resp = error_response(429, "TooManyRequests",
                                  f"rate limit reached; retry after {retry} s")
            resp.headers["Retry-After"] = str(retry)
            return await resp(scope, receive, send)
        if scope["path"] == "/submissions" and scope.get("method") == "POST":
            wait = self.reports.take(_address(scope))
            if wait:
                retry = max(1, math.ceil(wait))
                resp = error_response(
                    429, "TooManyRequests", f"too many reports from this address; retry "
                    f"after {retry} s", f"địa chỉ này đã gửi quá nhiều báo cáo; hãy thử lại "
                    f"sau {retry} giây")
                resp.headers["Retry-After"] = str(retry)
                return await resp(scope, receive, send)
        await self.app(scope, receive, send)

    def wait(self, scope) -> float:
        """0 when the request may go on (a token taken), else seconds until it may."""
        auth, key = header_values(scope, b"authorization", b"x-api-key")
        cred = presented(auth, key)
        h = credential_hash(cred) if cred else None
        if h is not None and known_valid(h):
            return self.keys.take("k:" + h[:32])
        # anonymous, or a credential not (yet) seen valid: the address pays
        return self.ip.take(_address(scope))


def _address(scope) -> str:
    return (scope.get("client") or ("unknown", 0))[0]

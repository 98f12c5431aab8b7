"""Request limits (one ASGI middleware, outermost but telemetry):

- a URL (path + query) longer than ``SPP_MAX_URL_LENGTH`` → 414;
- a body announced or streamed beyond ``SPP_MAX_BODY_BYTES`` → 413;
- the time to the response's first byte bounded by ``SPP_REQUEST_TIMEOUT_S`` → 503 (a streamed
  download then continues, each query bounded by the statement timeout).
"""

from __future__ import annotations

import asyncio

from gis.settings import get_settings
from services.ogc.errors import OGCError, error_response, ogc_error_response


class BodyTooLarge(OGCError):
    """Raised by the limited ``receive`` wherever a body is read: an OGCError, so FastAPI's
    handler answers it as a 413 (not a logged 500) when a route is reading the body."""

    status = 413
    code = "PayloadTooLarge"

    def __init__(self, limit: int):
        super().__init__(f"the request body is larger than {limit} bytes")


class RequestLimits:
    def __init__(self, app):
        self.app = app
        self.s = get_settings()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        s = self.s
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        # An answer sent before the whole body was read closes the connection: otherwise
        # the server would go on reading (and discarding) an unwanted, maybe huge, body
        # to find the next request on it
        body_done = headers.get("content-length", "0") == "0" and (
            "transfer-encoding" not in headers)
        plain_send = send

        async def send(msg):
            if msg["type"] == "http.response.start" and not body_done:
                msg = {**msg, "headers": [*msg.get("headers", ()), (b"connection", b"close")]}
            await plain_send(msg)

        url_len = len(scope.get("raw_path") or scope["path"].encode()) + len(
            scope.get("query_string") or b"")
        if url_len > s.max_url_length:
            return await error_response(414, "URITooLong", f"the URL has {url_len} bytes; at "
                                        f"most {s.max_url_length} are accepted (use fewer or "
                                        "shorter parameters)")(scope, receive, send)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return await error_response(400, "InvalidRequest", "Content-Length is not a "
                                            "number")(scope, receive, send)
            if int(length) > s.max_body_bytes:
                return await self._too_large(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received, body_done
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > s.max_body_bytes:  # a chunked body has no length to check
                    raise BodyTooLarge(s.max_body_bytes)
                body_done = not msg.get("more_body", False)
            return msg

        started = False
        try:
            async with asyncio.timeout(s.request_timeout_s or None) as deadline:
                async def timed_send(msg):
                    nonlocal started
                    if msg["type"] == "http.response.start":
                        started = True
                        deadline.reschedule(None)  # the body may stream for longer
                    await send(msg)

                await self.app(scope, limited_receive, timed_send)
        except TimeoutError:
            if started:
                raise
            await error_response(503, "Timeout", f"the request took longer than "
                                 f"{s.request_timeout_s:g} s; narrow it with bbox, filter or "
                                 "limit")(scope, receive, send)
        except BodyTooLarge:  # raised outside FastAPI's handlers (which answer it alike)
            if started:
                raise
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope, receive, send):
        await ogc_error_response(BodyTooLarge(self.s.max_body_bytes))(scope, receive, send)

"""Request limits (one ASGI middleware, outermost but telemetry):

- a URL (path + query) longer than ``SPP_MAX_URL_LENGTH`` → 414;
- a body announced or streamed beyond ``SPP_MAX_BODY_BYTES`` → 413; a report from the public
  (``POST /submissions``, which may carry a photo) alone may reach ``SPP_SUBMISSION_PHOTO_BYTES``
  and 64 KiB of form;
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

    def __init__(self, limit: int, vi: bool = False):
        super().__init__(f"the request body is larger than {limit} bytes")
        # the public's report form shows it in Vietnamese too
        self.description_vi = f"nội dung yêu cầu lớn hơn {limit} byte" if vi else None


FORM_OVERHEAD = 64 * 1024  # a report's fields, message and multipart boundaries


def is_report(scope) -> bool:
    return scope["path"] == "/submissions" and scope.get("method") == "POST"


def header_values(scope, *names: bytes) -> list[str | None]:
    """The values of the request's headers ``names`` (lower case), the last of each when
    repeated, None when absent: one pass over the headers, decoding only those."""
    out: list[str | None] = [None] * len(names)
    for k, v in scope.get("headers", ()):
        k = k.lower()
        if k in names:
            out[names.index(k)] = v.decode("latin-1")
    return out


def body_limit(scope, s) -> int:
    """The largest body of this request: a photo's worth more on POST /submissions only."""
    if is_report(scope):
        return max(s.max_body_bytes, s.submission_photo_bytes + FORM_OVERHEAD)
    return s.max_body_bytes


class RequestLimits:
    def __init__(self, app):
        self.app = app
        self.s = get_settings()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        s = self.s
        length, chunked = header_values(scope, b"content-length", b"transfer-encoding")
        url_len = len(scope.get("raw_path") or scope["path"].encode()) + len(
            scope.get("query_string") or b"")
        # An answer sent before the whole body was read closes the connection: otherwise
        # the server would go on reading (and discarding) an unwanted, maybe huge, body
        # to find the next request on it
        body_done = (length is None or length == "0") and chunked is None
        plain_send = send
        if not body_done:
            async def send(msg):
                if msg["type"] == "http.response.start" and not body_done:
                    msg = {**msg, "headers": [*msg.get("headers", ()),
                                              (b"connection", b"close")]}
                await plain_send(msg)

        if url_len > s.max_url_length:
            return await error_response(414, "URITooLong", f"the URL has {url_len} bytes; at "
                                        f"most {s.max_url_length} are accepted (use fewer or "
                                        "shorter parameters)")(scope, receive, send)
        limit = body_limit(scope, s)
        if length is not None:
            if not length.isdigit():
                return await error_response(400, "InvalidRequest", "Content-Length is not a "
                                            "number")(scope, receive, send)
            if int(length) > limit:
                return await self._too_large(scope, receive, send, limit)
        received = 0

        async def limited_receive():
            nonlocal received, body_done
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:  # a chunked body has no length to check
                    raise BodyTooLarge(limit, is_report(scope))
                body_done = not msg.get("more_body", False)
            return msg

        started = expired = False
        task = asyncio.current_task()

        def expire():  # a timer of the loop's own (asyncio.timeout costs ~4x more a request)
            nonlocal expired
            expired = True
            task.cancel()

        timer = asyncio.get_running_loop().call_later(s.request_timeout_s, expire) \
            if s.request_timeout_s else None

        async def timed_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                if timer is not None:
                    timer.cancel()  # the body may stream for longer
            await send(msg)

        try:
            # a request without a body has nothing to bound on the way in
            await self.app(scope, receive if body_done else limited_receive, timed_send)
        except asyncio.CancelledError:
            if not expired or started:
                raise
            task.uncancel()
            await error_response(503, "Timeout", f"the request took longer than "
                                 f"{s.request_timeout_s:g} s; narrow it with bbox, filter or "
                                 "limit")(scope, receive, send)
        except BodyTooLarge:  # raised outside FastAPI's handlers (which answer it alike)
            if started:
                raise
            await self._too_large(scope, receive, send, limit)
        finally:
            if timer is not None:
                timer.cancel()

    async def _too_large(self, scope, receive, send, limit: int):
        await ogc_error_response(BodyTooLarge(limit, is_report(scope)))(scope, receive, send)

"""OGC-style JSON exceptions: ``{"code": ..., "description": ...}`` with the right status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("services")


class OGCError(Exception):
    """An error the client can act on; the description names the parameter and the fix."""

    status = 400
    code = "InvalidParameterValue"

    def __init__(self, description: str, *, status: int | None = None, code: str | None = None):
        super().__init__(description)
        self.description = description
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers (a 401 adds its WWW-Authenticate challenge)."""
        return {}


class InvalidParameter(OGCError):
    pass


class NotFound(OGCError):
    status = 404
    code = "NotFound"


class NotAcceptable(OGCError):
    status = 406
    code = "NotAcceptable"


def error_response(status: int, code: str, description: str,
                   description_vi: str | None = None) -> JSONResponse:
    """``description_vi``: the same in Vietnamese, for answers the public reads (reports)."""
    doc = {"code": code, "description": description}
    if description_vi:
        doc["description_vi"] = description_vi
    return JSONResponse(doc, status_code=status, headers={"Cache-Control": "no-store"})


def ogc_error_response(exc: OGCError) -> JSONResponse:
    resp = error_response(exc.status, exc.code, exc.description,
                          getattr(exc, "description_vi", None))
    resp.headers.update(exc.headers)
    return resp


def unexpected_error_response(exc: Exception, path: str) -> JSONResponse:
    """A database timeout is a 503, a value the column type refuses a 400, anything else a
    logged 500 that shows the client no traceback."""
    if isinstance(exc, OGCError):
        return ogc_error_response(exc)
    state = getattr(exc, "sqlstate", None) or ""  # psycopg's and asyncpg's errors alike
    if _database_unreachable(exc, state):
        log.warning("database unavailable on %s: %s", path,
                                              str(exc).splitlines()[0] if str(exc) else exc)
        resp = error_response(503, "ServiceUnavailable", "the database is unavailable just "
                              "now; retry in a few seconds")
        resp.headers["Retry-After"] = "5"
        return resp
    if state == "57014":  # query_canceled: the statement timeout
        return error_response(503, "Timeout", "the query took longer than the service's "
                              "statement timeout; narrow it with bbox, filter or limit")
    if state.startswith("22") or _is_client_data_error(exc):  # data exception
        return error_response(400, "InvalidParameterValue",
                              f"a value does not fit the property's type: "
                              f"{str(exc).splitlines()[0]}")
    log.error("unexpected error on %s", path, exc_info=exc)
    return error_response(500, "ServerError", "internal error; it was logged")


FILESYSTEM_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
                     LookupError)


def _database_unreachable(exc: Exception, state: str) -> bool:
    """A lost or refused connection (the database restarting, a broken link), not a bug."""
    import psycopg

    if state.startswith("08") or state in ("57P01", "57P02", "57P03"):  # connection, shutdown
        return True
    if isinstance(exc, psycopg.OperationalError) and not state:  # incl. the pool's timeout
        return True
    # refused or reset while connecting (asyncpg); a missing file or template (jinja2's
    # TemplateNotFound is an OSError too) is a broken installation, not a database outage
    return isinstance(exc, OSError) and not isinstance(exc, FILESYSTEM_ERRORS)


def _is_client_data_error(exc: Exception) -> bool:
    """asyncpg or psycopg refusing to encode a query argument (no SQLSTATE: it never reached
    the server), e.g. a NUL character in text."""
    import psycopg
    from asyncpg.exceptions._base import DataError  # the client's, not SQLSTATE 22's

    return isinstance(exc, DataError | psycopg.DataError)


def install(app: FastAPI) -> None:
    """Every error leaves the service as an OGC exception document, never a traceback."""

    @app.exception_handler(OGCError)
    async def _ogc(request: Request, exc: OGCError):
        return ogc_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{loc}: {err.get('msg')}")
        return error_response(400, "InvalidParameterValue", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        desc = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and desc == "Not Found":
            desc = f"no resource at {request.url.path}"
        return error_response(exc.status_code, code, desc)

    async def _unexpected(request: Request, exc: Exception):
        return unexpected_error_response(exc, request.url.path)

    # database errors answered without Starlette re-raising them to the server log (it does
    # for the catch-all below): a database restart is a 503, not a traceback a request
    import psycopg

    app.exception_handler(psycopg.Error)(_unexpected)
    app.exception_handler(OSError)(_unexpected)
    app.exception_handler(Exception)(_unexpected)

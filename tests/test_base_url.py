"""The absolute links' base URL is built from the ASGI scope exactly as Starlette builds
``Request.base_url`` (the items hot path skips Starlette's URL parsing)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from services.ogc.http import base_url

SCOPES = [
    ("http", ("127.0.0.1", 8000), "", [(b"host", b"example.org:8080")]),
    ("https", ("10.0.0.1", 443), "/spp", []),
    ("http", ("10.0.0.1", 80), "", [(b"accept", b"*/*")]),
    ("http", ("10.0.0.1", 8080), "/spp/", [(b"accept", b"*/*")]),
    ("https", ("10.0.0.1", 8443), "", [(b"host", b"quyhoach.cantho.gov.vn")]),
]


@pytest.mark.parametrize("scheme,server,root,headers", SCOPES)
def test_base_url_is_starlettes(scheme, server, root, headers):
    scope = {"type": "http", "scheme": scheme, "server": server, "path": "/ogc/x",
             "root_path": root, "headers": headers, "query_string": b"a=1"}
    assert base_url(scope) == str(Request(scope).base_url).rstrip("/")

"""Request bodies against a real `gis serve`: a chunked body (no Content-Length) beyond
SPP_MAX_BODY_BYTES (default 1 MB) is a 413 on a route that reads bodies, and an answer sent
before the whole body was read says `Connection: close` and closes (seen on a raw socket)."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

pytest_plugins = ["tests.ogc_fixtures", "tests.raster_fixtures"]
ZONAL = "/api/rasters/flood_depth_100y/zonal"  # reads a GeoJSON body
POLYGON = (b'{"type":"Polygon","coordinates":[[[105.77,10.02],[105.78,10.02],'
           b'[105.78,10.03],[105.77,10.02]]]}')


@pytest.fixture(scope="module")
def root(ogc_server, raster_data):
    return ogc_server.removesuffix("/ogc")


def test_an_oversized_chunked_body_to_a_route_that_reads_it_is_a_413(root):
    with httpx.Client(base_url=root, timeout=60) as c:
        assert c.post(ZONAL, content=POLYGON).status_code == 200  # the route works
        r = c.post(ZONAL, content=(b" " * 65536 for _ in range(48)))  # 3 MB, chunked
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert r.json()["code"] == "PayloadTooLarge"
    assert r.headers["connection"] == "close"


def _raw(root: str, head: bytes, body_parts, pause: float = 0.0) -> tuple[bytes, bool]:
    """Send a request head and body parts (no more after them), then read until the server
    closes; the answer and whether it closed within 10 s. The server closes with part of our
    body unread (uvicorn has no lingering close), so the end may be a reset rather than a
    FIN; the answer must have arrived whole before it."""
    host, port = urlsplit(root).hostname, urlsplit(root).port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(head)
        try:
            for part in body_parts:
                s.sendall(part)
        except (BrokenPipeError, ConnectionResetError):  # it answered and closed first
            pass
        time.sleep(pause)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
            return answer, True
        except TimeoutError:
            return answer, False
        except ConnectionResetError:  # closed with our unread bytes in its buffer: a reset
            return answer, True


def _head(path: str, extra: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/geo+json\r\n"
            f"{extra}\r\n").encode()


def test_a_413_in_the_middle_of_a_chunked_body_closes_the_connection(root):
    chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    # 1.25 MB sent of a body that does not end: the server must answer and hang up
    answer, closed = _raw(root, _head(ZONAL, "Transfer-Encoding: chunked\r\n"), [chunk] * 20)
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 413 Request Entity Too Large", answer[:300]
    assert b"\r\nconnection: close\r\n" in rest.lower()
    assert answer.endswith(b'"code":"PayloadTooLarge","description":"the request body is '
                           b'larger than 1000000 bytes"}'), answer
    assert closed


def test_an_early_answer_to_an_unread_body_closes_the_connection(root):
    # Content-Length promises 500 kB, 1 kB comes: a route that never reads a body (405)
    # answers at once and must not wait on this connection for the rest
    answer, closed = _raw(root, _head("/ogc/collections", "Content-Length: 500000\r\n"),
                          [b" " * 1000])
    assert answer.startswith(b"HTTP/1.1 405"), answer[:300]
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert closed
    # a body read to its end keeps the connection for the next request
    with httpx.Client(base_url=root, timeout=30) as c:
        r = c.post(ZONAL, content=POLYGON)
        assert r.status_code == 200 and r.headers.get("connection") != "close"

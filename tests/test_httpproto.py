"""The server's HTTP protocol (services/httpproto.py): a response's head and body leave in one
write, nothing waits past the event loop's turn, close sends what is held first; and real
uvicorn with it answers keep-alive, pipelined and streamed requests whole."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
import uvicorn

from services.httpproto import JoinedWritesProtocol, _JoinedWrites


class Wire:
    """A transport that records what reaches the socket, call by call."""

    def __init__(self):
        self.calls: list[tuple[str, bytes]] = []

    def write(self, data):
        self.calls.append(("write", bytes(data)))

    def writelines(self, chunks):
        self.calls.append(("writev", b"".join(chunks)))

    def close(self):
        self.calls.append(("close", b""))

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 1) if name == "peername" else default


def test_head_and_body_leave_together_and_nothing_waits_past_the_turn():
    async def run():
        wire = Wire()
        t = _JoinedWrites(wire, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert wire.calls == []  # held for the body
        t.write(b"body")
        assert wire.calls == [("writev", b"HTTP/1.1 200 OK\r\n\r\nbody")]
        t.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # a response without a body
        await asyncio.sleep(0)  # the end of the turn sends it
        assert wire.calls[-1] == ("write", b"HTTP/1.1 204 No Content\r\n\r\n")
        t.write(b"last")
        t.close()  # what is held goes before the close
        assert wire.calls[-2:] == [("write", b"last"), ("close", b"")]
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest passes through
        await asyncio.sleep(0)
        assert len(wire.calls) == 4  # nothing sent twice

    asyncio.run(run())


async def _app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(3):
            await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": b"part%d;" % i,
                        "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = scope["path"].encode() * 2000
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, http=JoinedWritesProtocol,
                            ws="none", lifespan="off", log_level="warning", loop="uvloop")
    srv = uvicorn.Server(config)
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        threading.Event().wait(0.02)
    yield port
    srv.should_exit = True
    th.join(10)


def _read_response(f) -> tuple[bytes, dict, bytes]:
    status = f.readline()
    headers = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        return status, headers, f.read(int(headers["content-length"]))
    body = b""
    while (size := int(f.readline(), 16)) > 0:
        body += f.read(size)
        f.readline()
    f.readline()
    return status, headers, body


def test_pipelined_keep_alive_and_streamed_responses_arrive_whole(server):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as s:
        paths = ["/a", "/bb", "/stream", "/c"]
        s.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p.encode() for p in paths))
        f = s.makefile("rb")
        got = [_read_response(f) for _ in paths]
    for path, (status, headers, body) in zip(paths, got, strict=True):
        assert status.startswith(b"HTTP/1.1 200")
        if path == "/stream":
            assert headers["transfer-encoding"] == "chunked" and body == b"part0;part1;part2;"
        else:
            assert body == path.encode() * 2000

"""Paging cursors of /items: the last row's sort key, signed and encrypted (AES-GCM).

A ``next`` link ends up in browser histories, proxies and the audit log; with
``sortby=owner_name`` a key in clear would put a person's name there. The token is
``base64url(nonce | ciphertext | tag)``; the collection and the sort order are the associated
data, so a token of another collection or sortby does not open. The key comes from
SPP_CURSOR_SECRET or a random key kept in $SPP_DATA_DIR/cursor.key (0600), made once and
shared by every worker on the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.catalog import Column
from services.ogc.errors import InvalidParameter
from services.ogc.values import parse_instant

MAX_TOKEN_CHARS = 4096
FOREIGN = ("cursor: not a token from a 'next' link of this collection and sortby (tampered, "
           "from another query or made with another key); start again from the first page")


def _key_file(path: Path) -> bytes:
    """The machine's key, made atomically on first use (link() fails when another worker won
    the race, and then its complete file is read)."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


@lru_cache(maxsize=1)
def _aead() -> AESGCM:
    from gis.settings import get_settings

    s = get_settings()
    if s.cursor_secret:
        key = hashlib.sha256(b"spp-cursor\x00" + s.cursor_secret.encode()).digest()
    else:
        key = _key_file(s.data_dir / "cursor.key")
    return AESGCM(key)


def _scope(layer_id: str, sortby: list[tuple[str, bool]]) -> bytes:
    return _scope_of(layer_id, tuple(map(tuple, sortby)))


@lru_cache(maxsize=1024)
def _scope_of(layer_id: str, sortby: tuple[tuple[str, bool], ...]) -> bytes:
    return json.dumps([layer_id, sortby]).encode()  # tokens already out depend on this text


def encode_cursor(key: list, layer_id: str, sortby: list[tuple[str, bool]]) -> str:
    nonce = secrets.token_bytes(12)
    plain = orjson.dumps(key)  # compact JSON, read back by json.loads
    token = nonce + _aead().encrypt(nonce, plain, _scope(layer_id, sortby))
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(value: str, layer_id: str, sortby: list[tuple[str, bool]],
                  columns: dict[str, Column]) -> list:
    """The key of a token: sort values typed as their columns, then the fid; else a 400."""
    if len(value) > MAX_TOKEN_CHARS:
        raise InvalidParameter(FOREIGN)
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4))
        plain = _aead().decrypt(raw[:12], raw[12:], _scope(layer_id, sortby))
        key = json.loads(plain)
    except (ValueError, InvalidTag, UnicodeError):
        raise InvalidParameter(FOREIGN) from None
    if not isinstance(key, list) or len(key) != len(sortby) + 1:
        raise InvalidParameter(FOREIGN)
    # the key was made by this service, but the layer may have changed type since
    out = [_typed(v, columns[name].type) for v, (name, _d) in zip(key, sortby, strict=False)]
    fid = key[-1]
    if isinstance(fid, bool) or not isinstance(fid, int) or not -(2**63) <= fid < 2**63:
        raise InvalidParameter(FOREIGN)
    return [*out, fid]


def _typed(v, type_: str):
    if v is None:
        return None
    ok = {"string": isinstance(v, str), "boolean": isinstance(v, bool),
          "integer": isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63,
          "number": isinstance(v, int | float) and not isinstance(v, bool),
          "date": isinstance(v, str), "datetime": isinstance(v, str)}.get(type_, False)
    if not ok:
        raise InvalidParameter(FOREIGN)
    if type_ in ("date", "datetime"):
        t = parse_instant(v, "cursor")
        if type_ == "date":
            return t.astimezone(UTC).date() if isinstance(t, datetime) else t
        return t if isinstance(t, datetime) else datetime.combine(t, datetime.min.time(), UTC)
    return v


"""API keys of departments and applications: made, listed and revoked by `gis keys`.

A key is ``spp_<prefix>_<secret>``: the prefix (8 hex digits) is public and finds the row, the
secret is 32 random bytes. Only the SHA-256 of the whole key is stored; the key itself is shown
once, when it is made. Checking a presented key compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, date, datetime

import psycopg

from gis.errors import SPPError

ROLES = ("staff", "admin")
KEY_RE = re.compile(r"^spp_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
FIELD_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
DEPARTMENT_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class KeyRequestError(SPPError):
    """A bad `gis keys` request (exit code 2)."""

    exit_code = 2


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    m = KEY_RE.match(key)
    return m.group(1) if m else None


def matches(key: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(digest(key).encode(), stored_sha256.encode())


def new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return f"spp_{prefix}_{secrets.token_urlsafe(32)}", prefix


def _check_personal(fields: list[str]) -> list[str]:
    from gis.layerdef import VectorLayerDef, load_layer_defs

    defs = load_layer_defs()
    out = []
    for item in fields:
        if not FIELD_RE.match(item):
            raise KeyRequestError(f"--personal {item!r}: write LAYER.FIELD, e.g. "
                            "cadastral_parcels.owner_name")
        layer_id, name = item.split(".", 1)
        layer = defs.get(layer_id)
        if layer is None:
            raise KeyRequestError(f"--personal {item!r}: no layer {layer_id!r} in layers/")
        fdef = layer.field.get(name) if isinstance(layer, VectorLayerDef) else None
        if fdef is None or not fdef.personal:
            personal = [f.name for f in layer.fields if f.personal]
            raise KeyRequestError(f"--personal {item!r}: not a personal field of {layer_id}; its "
                            f"personal fields are: {', '.join(personal) or '(none)'}")
        out.append(item)
    return sorted(set(out))


def create(conn: psycopg.Connection, name: str, department: str, role: str = "staff",
           personal: list[str] | None = None, expires: date | datetime | None = None,
           created_by: str | None = None) -> tuple[str, dict]:
    """Store a new key; returns (the key, shown once; its row)."""
    if role not in ROLES:
        raise KeyRequestError(f"--role {role!r}: use staff or admin")
    if not DEPARTMENT_RE.match(department):
        raise KeyRequestError(f"--department {department!r}: a department code such as sxd or "
                        "cantho_wasuco (lower case letters, digits, _)")
    if not name.strip():
        raise KeyRequestError("--name must not be empty")
    fields = _check_personal(personal or [])
    if isinstance(expires, date) and not isinstance(expires, datetime):
        expires = datetime.combine(expires, datetime.min.time(), tzinfo=UTC)
    if expires is not None and expires <= datetime.now(UTC):
        raise KeyRequestError(f"--expires {expires:%Y-%m-%d}: already in the past")
    for _ in range(5):
        key, prefix = new_key()
        try:
            row = conn.execute(
                "INSERT INTO spp.api_keys (name, prefix, key_sha256, department, role, "
                "personal_fields, expires_at, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " RETURNING id, name, prefix, department, role, personal_fields, created_at, "
                "expires_at", (name.strip(), prefix, digest(key), department, role, fields,
                               expires, created_by)).fetchone()
            return key, row
        except psycopg.errors.UniqueViolation:  # prefix taken: draw again
            continue
    raise KeyRequestError("could not draw a free key prefix; try again")


def list_keys(conn: psycopg.Connection) -> list[dict]:
    return conn.execute(
        "SELECT id, name, 'spp_' || prefix || '_…' AS key, department, role, personal_fields, "
        "created_at, created_by, expires_at, revoked_at FROM spp.api_keys ORDER BY id"
    ).fetchall()


def revoke(conn: psycopg.Connection, key_id: int) -> dict:
    row = conn.execute(
        "UPDATE spp.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s "
        "RETURNING id, name, revoked_at", (key_id,)).fetchone()
    if row is None:
        raise KeyRequestError(f"no API key with id {key_id}; `gis keys list` shows them")
    return row

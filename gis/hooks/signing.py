"""Standard Webhooks signatures (see gis/hooks/__init__.py for the header format)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from gis.errors import SPPError

PREFIX = "whsec_"
MIN_KEY_BYTES = 16


class SecretError(SPPError):
    exit_code = 2


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key_bytes(secret: str) -> bytes:
    """The HMAC key of a secret: ``whsec_<base64>`` decoded, any other text as UTF-8."""
    if secret.startswith(PREFIX):
        try:
            key = base64.b64decode(secret[len(PREFIX):] + "==", validate=False)
        except (binascii.Error, ValueError):
            raise SecretError("--secret: text after whsec_ is not base64") from None
    else:
        key = secret.encode()
    if len(key) < MIN_KEY_BYTES:
        raise SecretError(f"--secret: at least {MIN_KEY_BYTES} bytes are needed (got "
                          f"{len(key)}); leave it out and a random one is made")
    return key


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    mac = hmac.new(key_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode()}

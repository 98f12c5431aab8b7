"""Webhook subscribers (`gis hooks add|list|remove|status|retry`): rows of ``spp.webhooks``
and what their outbox holds."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg

from gis import versions
from gis.catalog import sync_layer
from gis.errors import SPPError
from gis.hooks.signing import key_bytes, new_secret
from gis.layerdef import get_layer_def

MAX_URL = 2048


class HookError(SPPError):
    exit_code = 2


def check_url(url: str) -> str:
    """An http(s) URL with a host and no credentials (the secret authenticates instead)."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise HookError(f"URL longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError as exc:
        raise HookError(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise HookError(f"{url!r}: only http:// and https:// URLs can be subscribed")
    if not parts.hostname:
        raise HookError(f"{url!r} has no host name")
    if parts.username or parts.password:
        raise HookError(f"{url!r} carries a user name or password: leave them out; the "
                        "receiver checks the webhook-signature header (--secret) instead")
    if parts.fragment:
        raise HookError(f"{url!r}: a #fragment is never sent; leave it out")
    return url


def add(conn: psycopg.Connection, url: str, layer_id: str, secret: str | None,
        with_operator: bool, actor: str) -> tuple[int, str]:
    """Subscribe ``url`` to the changes of a vector layer from now on; (id, secret)."""
    url = check_url(url)
    layer = get_layer_def(layer_id)
    if getattr(layer, "kind", "vector") != "vector":
        raise HookError(f"layer {layer_id!r} is a raster layer: it has no features to "
                        "announce; subscribe to a vector layer")
    secret = secret or new_secret()
    key_bytes(secret)  # refuses a short or malformed one
    with conn.transaction():
        sync_layer(conn, layer)  # the catalog row the hook refers to
        hook = conn.execute(
            "INSERT INTO spp.webhooks (url, layer_id, secret, with_operator, created_by) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (url, layer.id, secret, with_operator, actor)).fetchone()["id"]
        versions.audit(conn, actor, "hook_add", layer.id,
                       {"hook": hook, "url": url, "with_operator": with_operator},
                       role="admin")
    return hook, secret


def hooks(conn: psycopg.Connection, include_removed: bool = False) -> list[dict]:
    return conn.execute(
        "SELECT h.id, h.url, h.layer_id, h.with_operator, h.created_at, h.created_by, "
        "h.removed_at FROM spp.webhooks h WHERE %s OR h.removed_at IS NULL ORDER BY h.id",
        (include_removed,)).fetchall()


def remove(conn: psycopg.Connection, hook_id: int, actor: str) -> int:
    """Unsubscribe; its undelivered rows are cancelled. Returns how many were."""
    with conn.transaction():
        row = conn.execute("UPDATE spp.webhooks SET removed_at = now() WHERE id = %s AND "
                           "removed_at IS NULL RETURNING layer_id, url", (hook_id,)).fetchone()
        if row is None:
            raise HookError(f"no active hook {hook_id} (see `gis hooks list`)")
        n = conn.execute("UPDATE spp.webhook_outbox SET status = 'cancelled' WHERE hook_id = %s "
                         "AND status = 'pending'", (hook_id,)).rowcount
        versions.audit(conn, actor, "hook_remove", row["layer_id"],
                       {"hook": hook_id, "url": row["url"], "cancelled": n}, role="admin")
    return n


def status(conn: psycopg.Connection) -> list[dict]:
    """Per active hook: deliveries pending (and how many of them are waiting out a back-off),
    failed (given up), delivered, the last delivery and the last error."""
    return conn.execute("""
        SELECT h.id, h.url, h.layer_id,
               count(o.id) FILTER (WHERE o.status = 'pending') AS pending,
               count(o.id) FILTER (WHERE o.status = 'pending' AND o.attempts > 0) AS retrying,
               count(o.id) FILTER (WHERE o.status = 'failed') AS failed,
               count(o.id) FILTER (WHERE o.status = 'delivered') AS delivered,
               max(o.delivered_at) AS last_delivered,
               min(o.next_attempt_at) FILTER (WHERE o.status = 'pending') AS next_attempt,
               (SELECT e.last_error FROM spp.webhook_outbox e WHERE e.hook_id = h.id AND
                e.last_error IS NOT NULL ORDER BY e.last_attempt_at DESC LIMIT 1) AS last_error,
               (SELECT max(e.last_attempt_at) FROM spp.webhook_outbox e WHERE e.hook_id = h.id
                AND e.last_error IS NOT NULL) AS last_error_at
        FROM spp.webhooks h LEFT JOIN spp.webhook_outbox o ON o.hook_id = h.id
        WHERE h.removed_at IS NULL GROUP BY h.id ORDER BY h.id""").fetchall()


def retry(conn: psycopg.Connection, hook_id: int | None, actor: str) -> int:
    """Queue the given-up deliveries (of one hook, or all) again; how many."""
    with conn.transaction():
        n = conn.execute(
            "UPDATE spp.webhook_outbox o SET status = 'pending', attempts = 0, "
            "next_attempt_at = now() FROM spp.webhooks h WHERE h.id = o.hook_id AND "
            "h.removed_at IS NULL AND o.status = 'failed' AND (%s::int IS NULL OR o.hook_id = %s)",
            (hook_id, hook_id)).rowcount
        versions.audit(conn, actor, "hook_retry", None, {"hook": hook_id, "queued": n},
                       role="admin")
    return n


def prune(conn: psycopg.Connection, days: float, actor: str) -> int:
    """Delete delivered and cancelled deliveries older than ``days`` (the change feed keeps
    the changes themselves); how many."""
    with conn.transaction():
        n = conn.execute("DELETE FROM spp.webhook_outbox WHERE status IN ('delivered', "
                         "'cancelled') AND coalesce(delivered_at, created_at) < now() - "
                         "make_interval(secs => %s)", (days * 86400,)).rowcount
        versions.audit(conn, actor, "hook_prune", None, {"days": days, "deleted": n},
                       role="admin")
    return n

"""The webhook delivery worker: posts the outbox rows, oldest first, one at a time.

One worker delivers at a time, whatever the number of processes and machines: it holds a
session advisory lock (released by PostgreSQL when its process dies). A delivery is claimed
with ``FOR UPDATE SKIP LOCKED`` in a transaction that stays open while the POST runs and is
committed with the outcome: a process killed mid-delivery leaves the row pending (its
transaction rolls back), so it is posted again later: at least once, never lost. A delivery
is 'delivered' only after a 2xx; otherwise it is tried again after an exponential back-off
with jitter, and given up ('failed') after SPP_HOOKS_MAX_ATTEMPTS. The deliveries of one hook
go in order: a later one waits while an earlier one is pending.

Outbound care: http/https only, no redirect followed, no proxy from the environment, a
timeout on every phase, the response body never read beyond 1 KiB (for the error message).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass

import httpx
import orjson
import psycopg
from psycopg.rows import dict_row

from gis.changefeed import NOTIFY_CHANNEL
from gis.hooks import signing
from gis.settings import get_settings

log = logging.getLogger("gis.hooks")
LEADER_LOCK = 732_100_002  # pg_advisory_lock key: one delivering worker
ERROR_BYTES = 1024
USER_AGENT = "spp-cantho-webhooks/1"

CLAIM = """
SELECT o.id, o.hook_id, o.payload, o.attempts, h.url, h.secret
FROM spp.webhook_outbox o JOIN spp.webhooks h ON h.id = o.hook_id
WHERE o.status = 'pending' AND o.next_attempt_at <= now() AND h.removed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM spp.webhook_outbox e WHERE e.hook_id = o.hook_id
                  AND e.status = 'pending' AND e.id < o.id)
ORDER BY o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED"""


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


def backoff(attempt: int) -> float:
    """Seconds before attempt ``attempt`` + 1: base * 2^(attempt-1), capped, with "equal
    jitter" (half fixed, half random), so waits grow and retries of many hooks spread."""
    s = get_settings()
    d = min(s.hooks_backoff_max_s, s.hooks_backoff_s * 2 ** min(attempt - 1, 30))
    return d / 2 + random.uniform(0, d / 2)


class Worker:
    def __init__(self, url: str, name: str = "gis hooks"):
        self.url = url
        self.name = name
        s = get_settings()
        self.client = httpx.Client(follow_redirects=False, trust_env=False,
                                   timeout=httpx.Timeout(s.hooks_timeout_s),
                                   headers={"user-agent": USER_AGENT})

    def close(self) -> None:
        self.client.close()

    # -- the loop ---------------------------------------------------------------------
    def run(self, stop: threading.Event, once: bool = False) -> int:
        """Deliver until ``stop`` is set (``once``: until nothing is due). Survives the
        database going away: reconnects. Returns how many attempts it made."""
        attempts, warned = 0, False
        poll = get_settings().hooks_poll_s
        while not stop.is_set():
            try:
                with self._connect() as conn:
                    if not self._lead(conn, stop, once):
                        return attempts
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not stop.is_set():
                        if self.deliver_one(conn):
                            attempts += 1
                        elif once:
                            return attempts
                        else:
                            self._idle(conn, poll)
                        warned = False  # working again: a new failure is logged again
            except psycopg.Error as exc:  # the database went away (or the connection did)
                if not warned:
                    log.warning("%s: database unreachable (%s); retrying every %.0f s",
                                self.name, str(exc).strip().splitlines()[0], poll)
                    warned = True
                if once:
                    raise
                stop.wait(poll)
        return attempts

    @staticmethod
    def _idle(conn: psycopg.Connection, poll: float) -> None:
        """Wait for a new outbox row (NOTIFY), the next back-off to end, or ``poll``."""
        due = conn.execute(
            "SELECT extract(epoch FROM min(o.next_attempt_at) - now())::float8 AS s "
            "FROM spp.webhook_outbox o JOIN spp.webhooks h ON h.id = o.hook_id "
            "WHERE o.status = 'pending' AND h.removed_at IS NULL").fetchone()["s"]
        wait = poll if due is None else min(poll, max(due, 0.05))
        for _ in conn.notifies(timeout=wait, stop_after=1):
            pass

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row,
                               connect_timeout=max(1, int(get_settings().db_connect_timeout_s)),
                               application_name="spp-hooks")
        # the web role may default to read-only transactions; this worker updates the outbox
        conn.execute("SET default_transaction_read_only = off")
        return conn

    def _lead(self, conn: psycopg.Connection, stop: threading.Event, once: bool) -> bool:
        """Wait to be the one delivering worker (False: stopped first)."""
        waited = False
        while not stop.is_set():
            if conn.execute("SELECT pg_try_advisory_lock(%s) AS ok",
                            (LEADER_LOCK,)).fetchone()["ok"]:
                if waited:
                    log.info("%s: now the delivering worker", self.name)
                return True
            if not waited:
                log.info("%s: another worker is delivering; standing by", self.name)
                waited = True
            stop.wait(get_settings().hooks_poll_s)
        return False

    # -- one delivery -----------------------------------------------------------------
    def deliver_one(self, conn: psycopg.Connection) -> bool:
        """Post the oldest due delivery and record the outcome; False if none was due."""
        with conn.transaction():
            row = conn.execute(CLAIM).fetchone()
            if row is None:
                return False
            outcome = self.post(row)
            attempt = row["attempts"] + 1
            if outcome.ok:
                conn.execute("UPDATE spp.webhook_outbox SET status = 'delivered', attempts = %s,"
                             " last_status = %s, last_attempt_at = now(), delivered_at = now() "
                             "WHERE id = %s", (attempt, outcome.status, row["id"]))
                return True
            give_up = attempt >= get_settings().hooks_max_attempts
            conn.execute(
                "UPDATE spp.webhook_outbox SET status = %s, attempts = %s, last_status = %s, "
                "last_error = %s, last_attempt_at = now(), "
                "next_attempt_at = clock_timestamp() + make_interval(secs => %s) WHERE id = %s",
                ("failed" if give_up else "pending", attempt, outcome.status,
                 outcome.error[:1000], 0 if give_up else backoff(attempt), row["id"]))
            log.warning("%s: delivery %s to hook %s failed (attempt %s%s): %s", self.name,
                        row["id"], row["hook_id"], attempt, ", given up" if give_up else "",
                        outcome.error)
        return True

    def post(self, row: dict) -> Outcome:
        url = row["url"]
        if not url.lower().startswith(("http://", "https://")):
            return Outcome(False, None, "not an http(s) URL")
        body = orjson.dumps(row["payload"])
        try:
            head = signing.headers(row["secret"], f"spp-{row['id']}", int(time.time()), body)
        except signing.SecretError as exc:
            return Outcome(False, None, str(exc))
        try:
            with self.client.stream("POST", url, content=body, headers={
                    **head, "content-type": "application/json"}) as resp:
                if 200 <= resp.status_code < 300:
                    return Outcome(True, resp.status_code)
                text = b""
                for chunk in resp.iter_raw(ERROR_BYTES):
                    text = chunk[:ERROR_BYTES]
                    break
                why = f"HTTP {resp.status_code}"
                if 300 <= resp.status_code < 400:
                    why += (" (redirects are not followed: subscribe the final URL; Location: "
                            f"{resp.headers.get('location', '')[:200]})")
                elif text:
                    why += ": " + text.decode("utf-8", "replace").strip()[:300]
                return Outcome(False, resp.status_code, why)
        except httpx.TimeoutException as exc:
            return Outcome(False, None, f"timed out ({type(exc).__name__})")
        except Exception as exc:  # refused, reset, bad URL...: an outcome, recorded
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])


def start_background(url_fn, name: str) -> tuple[threading.Thread, threading.Event]:
    """The worker in a daemon thread (``gis serve``): returns it and the event that stops it."""
    stop = threading.Event()

    def main():
        worker = None
        try:
            worker = Worker(url_fn(), name)
            worker.run(stop)
        except Exception:  # a bug must not take the web service down with it
            log.exception("%s: the webhook delivery worker stopped", name)
        finally:
            if worker is not None:
                worker.close()

    thread = threading.Thread(target=main, name="spp-hooks", daemon=True)
    thread.start()
    return thread, stop

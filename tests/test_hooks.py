"""Webhooks end to end: `gis hooks add`, real loads and rollbacks (and a simulated edit through
gis.changefeed.record), the delivery worker as `gis hooks run` and inside `gis serve`, and a
real HTTP receiver that checks every signature with the standardwebhooks library. A receiver
that is down or failing is retried with growing back-off; a worker killed (SIGKILL) in the
middle of a delivery loses nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import geopandas as gpd
import pytest
import shapely

from gis import changefeed
from gis.catalog import sync_layer
from gis.layerdef import get_layer_def
from tests.builders import write
from tests.conftest import GIS, ROOT, free_port, run_gis, web_role_url
from tests.hook_receiver import Receiver

LAYER = "fire_hydrants"
SECRET = "test-secret-of-the-operations-centre"
SECRET_KEY = SECRET.encode()  # a secret not of the whsec_ form keys the HMAC as UTF-8
FAST = {"SPP_HOOKS_BACKOFF_S": "0.2", "SPP_HOOKS_POLL_S": "0.5", "SPP_HOOKS_TIMEOUT_S": "5"}


@pytest.fixture
def hooks_db(own_conn):
    """The module's database with no active hook left by an earlier test."""
    sync_layer(own_conn, get_layer_def(LAYER))
    own_conn.execute("UPDATE spp.webhook_outbox SET status = 'cancelled' WHERE status = "
                     "'pending'")
    own_conn.execute("UPDATE spp.webhooks SET removed_at = now() WHERE removed_at IS NULL")
    return own_conn


def hook_status(hook: int) -> dict:
    lines = run_gis("hooks", "status", "--json", check=True).stdout.splitlines()
    return next(r for r in map(json.loads, lines) if r["id"] == hook)


def add_hook(url: str, *extra: str) -> tuple[int, str]:
    proc = run_gis("hooks", "add", url, "--layer", LAYER, *extra, check=True)
    hook = int(re.search(r"Hook (\d+)", proc.stdout).group(1))
    m = re.search(r"(whsec_\S+)", proc.stdout)
    return hook, m.group(1) if m else None


def runner(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([*GIS, "hooks", "run", *args], cwd=ROOT,
                            env={**os.environ, **FAST, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    out, _ = proc.communicate(timeout=30)
    return (out or b"").decode(errors="replace")


def outbox(conn, hook: int) -> list[dict]:
    return conn.execute("SELECT * FROM spp.webhook_outbox WHERE hook_id = %s ORDER BY id",
                        (hook,)).fetchall()


def wait_db(conn, query: str, params, check, timeout: float = 60, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute(query, params).fetchone()
        if check(row):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {row}")
        time.sleep(0.1)


def simulated_edits(conn, n: int, first_fid: int = 1000) -> list[int]:
    """n edit transactions (what `edits` does through OGC API Part 4), each recorded by
    gis.changefeed.record in its own transaction; their change set ids."""
    sets = []
    for i in range(n):
        with conn.transaction():
            sets.append(changefeed.record(conn, LAYER, 100 + i, "an.nguyen",
                                          updated=[first_fid + i]))
    return sets


# -- loads and rollbacks emit ---------------------------------------------------------------
def hydrants(folder, rows: list[tuple[str, int, float, float]], name: str):
    frame = gpd.GeoDataFrame(
        {"MaTru": [r[0] for r in rows], "LoaiTru": ["trụ nổi"] * len(rows),
         "DuongKinh": [r[1] for r in rows]},
        geometry=[shapely.Point(r[2], r[3]) for r in rows], crs="OGC:CRS84")
    return str(write(frame, folder / name))


def fids(conn) -> dict[str, int]:
    return {r["hydrant_code"]: r["fid"] for r in conn.execute(
        "SELECT hydrant_code, fid FROM data.fire_hydrants").fetchall()}


def test_loads_and_a_rollback_are_delivered_signed(hooks_db, open_tmp):
    conn = hooks_db
    port = free_port()
    hook, secret = add_hook(f"http://127.0.0.1:{port}/hooks/spp")
    assert secret and secret.startswith("whsec_")
    listed = run_gis("hooks", "list", "--json", check=True).stdout
    assert f"127.0.0.1:{port}" in listed and secret not in listed  # never shown again
    assert run_gis("hooks", "list", check=True).stdout.count("\n") > 3
    v1 = [("TN-1", 100, 105.780, 10.030), ("TN-2", 125, 105.781, 10.031),
          ("TN-3", 100, 105.782, 10.032)]
    run_gis("load", hydrants(open_tmp, v1, "v1.geojson"), "--layer", LAYER, "--force",
            check=True)
    first = fids(conn)
    v2 = [v1[0], ("TN-2", 150, 105.781, 10.031), ("TN-4", 100, 105.783, 10.033)]
    run_gis("load", hydrants(open_tmp, v2, "v2.geojson"), "--layer", LAYER, "--allow-shrink",
            check=True)
    second = fids(conn)
    run_gis("layer", "rollback", LAYER, check=True)
    with Receiver(secret, port) as rx:
        out = run_gis("hooks", "run", "--once", env=FAST, check=True).stdout
        assert "3 delivery attempts" in out
    assert rx.refused == [] and len(rx.got) == 3, rx.dump()
    load1, load2, back = (g["body"] for g in rx.got)
    versions = [r["version"] for r in conn.execute(
        "SELECT version FROM spp.change_sets WHERE layer_id = %s ORDER BY id DESC LIMIT 3",
        (LAYER,)).fetchall()][::-1]
    # the module's first load of the layer, or a replace of whatever an earlier test left
    assert load1["action"] == "load" and load1["version"] == versions[0]
    assert set(first.values()) <= set(load1["created"]) | set(load1["updated"])
    assert load2 == {**load2, "action": "load", "version": versions[1],
                     "created": [second["TN-4"]], "updated": [second["TN-2"]],
                     "deleted": [first["TN-3"]], "complete": True,
                     "counts": {"created": 1, "updated": 1, "deleted": 1}}
    assert back == {**back, "action": "rollback", "version": versions[0],
                    "created": [first["TN-3"]], "updated": [first["TN-2"]],
                    "deleted": [second["TN-4"]]}
    assert "operator" not in back
    assert rx.ids() == sorted(rx.ids(), key=lambda i: int(i.split("-")[1]))
    assert all(r["status"] == "delivered" and r["attempts"] == 1 for r in outbox(conn, hook))
    st = hook_status(hook)
    assert (st["pending"], st["failed"], st["delivered"], st["last_error"]) == (0, 0, 3, None)


def test_large_change_set_payload_points_at_the_feed(hooks_db):
    port = free_port()
    hook, _ = add_hook(f"http://127.0.0.1:{port}/x", "--secret", SECRET, "--with-operator")
    with hooks_db.transaction():
        changefeed.record(hooks_db, LAYER, 50, "an.nguyen", created=range(1, 2501))
    body = outbox(hooks_db, hook)[0]["payload"]
    assert body["complete"] is False and body["counts"]["created"] == 2500
    assert body["created"] == list(range(1, 1001))  # SPP_HOOKS_PAYLOAD_IDS
    assert re.fullmatch(rf"ogc/collections/{LAYER}/changes\?cursor=\d+", body["feed"])
    assert body["operator"] == "an.nguyen"  # added --with-operator


def test_bad_subscriptions_are_refused_clearly(hooks_db):
    for url, why in (("ftp://example.org/x", "only http:// and https://"),
                     ("http://user:pw@127.0.0.1/x", "user name or password"),
                     ("http:///nohost", "no host"),
                     ("http://127.0.0.1:99999/", "Port out of range")):
        proc = run_gis("hooks", "add", url, "--layer", LAYER)
        assert proc.returncode == 2 and why in proc.stderr, (url, proc.stderr)
    proc = run_gis("hooks", "add", "http://127.0.0.1/x", "--layer", LAYER, "--secret", "short")
    assert proc.returncode == 2 and "at least 16 bytes" in proc.stderr
    proc = run_gis("hooks", "add", "http://127.0.0.1/x", "--layer", "no_such_layer")
    assert proc.returncode != 0 and "unknown layer id" in proc.stderr
    assert hooks_db.execute("SELECT count(*) AS n FROM spp.webhooks WHERE removed_at IS NULL"
                            ).fetchone()["n"] == 0


# -- failures: retried with back-off, given up, queued again ----------------------------------
def test_receiver_down_is_retried_until_it_comes_up(hooks_db):
    port = free_port()  # nothing listens there yet
    hook, _ = add_hook(f"http://127.0.0.1:{port}/hooks/spp", "--secret", SECRET)
    simulated_edits(hooks_db, 2)
    proc = runner()
    try:
        row = wait_db(hooks_db, "SELECT attempts, last_error FROM spp.webhook_outbox WHERE "
                      "hook_id = %s ORDER BY id LIMIT 1", (hook,),
                      lambda r: r["attempts"] >= 3, what="three failed attempts")
        assert "ConnectError" in row["last_error"]
        # the second waits for the first: per-hook order
        assert outbox(hooks_db, hook)[1]["attempts"] == 0
        st = hook_status(hook)
        assert "ConnectError" in st["last_error"] and (st["pending"], st["retrying"]) == (2, 1)
        assert "ConnectError" in run_gis("hooks", "status", check=True).stdout
        with Receiver(SECRET_KEY, port) as rx:
            rx.wait_for(lambda r: len(r.got) == 2, 30, "both deliveries")
            wait_db(hooks_db, "SELECT count(*) FILTER (WHERE status = 'delivered') AS n FROM "
                    "spp.webhook_outbox WHERE hook_id = %s", (hook,), lambda r: r["n"] == 2)
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out  # SIGTERM: stops between deliveries
    assert rx.refused == [] and [g["body"]["updated"] for g in rx.got] == [[1000], [1001]]


def test_backoff_grows_then_gives_up_and_retry_queues_again(hooks_db):
    with Receiver(SECRET_KEY) as rx:
        hook, _ = add_hook(rx.url, "--secret", SECRET)
        rx.fail_first = 4
        simulated_edits(hooks_db, 1)
        proc = runner(SPP_HOOKS_MAX_ATTEMPTS="4")
        try:
            wait_db(hooks_db, "SELECT status FROM spp.webhook_outbox WHERE hook_id = %s",
                    (hook,), lambda r: r["status"] == "failed", what="given up")
        finally:
            stop(proc)
        gaps = [b - a for a, b in zip(rx.arrivals, rx.arrivals[1:], strict=False)]
        assert len(rx.arrivals) == 4, rx.arrivals
        for k, gap in enumerate(gaps, start=1):  # base 0.2 s x 2^(k-1), half of it jittered
            assert 0.2 * 2 ** (k - 1) / 2 <= gap <= 0.2 * 2 ** (k - 1) + 1.5, gaps
        assert gaps[2] > gaps[0]
        st = hook_status(hook)
        assert st["last_error"] == "HTTP 503: receiver busy" and (
            st["pending"], st["failed"], st["delivered"]) == (0, 1, 0), st
        assert "1 deliveries queued again" in run_gis("hooks", "retry", check=True).stdout
        run_gis("hooks", "run", "--once", env=FAST, check=True)
        assert len(rx.got) == 1 and rx.refused == []
        row = outbox(hooks_db, hook)[0]
        assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 1, 204)
    assert "0 old deliveries deleted" in run_gis("hooks", "prune", check=True).stdout
    assert "deleted" in run_gis("hooks", "prune", "--older-than", "0", check=True).stdout
    assert outbox(hooks_db, hook) == []


def test_redirects_are_not_followed(hooks_db):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    with Receiver(SECRET_KEY) as rx:
        class Moved(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.send_response(307)
                self.send_header("location", rx.url)
                self.send_header("content-length", "0")
                self.end_headers()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Moved)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            hook, _ = add_hook(f"http://127.0.0.1:{server.server_port}/", "--secret", SECRET)
            simulated_edits(hooks_db, 1)
            run_gis("hooks", "run", "--once", env=FAST, check=True)
        finally:
            server.shutdown()
            server.server_close()
        row = outbox(hooks_db, hook)[0]
        assert row["status"] == "pending" and row["last_status"] == 307
        assert "redirects are not followed" in row["last_error"] and rx.arrivals == []


# -- killed mid-delivery: nothing lost --------------------------------------------------------
def test_hooks_run_killed_mid_delivery_standby_delivers_everything(hooks_db):
    with Receiver(SECRET_KEY) as rx:
        hook, _ = add_hook(rx.url, "--secret", SECRET)
        simulated_edits(hooks_db, 3)
        rx.release.clear()  # the first delivery hangs in the receiver
        first = runner()
        second = None
        try:
            rx.wait_for(lambda r: r.held == 1, 30, "the first delivery to arrive")
            second = runner()  # stands by: one worker delivers at a time
            time.sleep(2)
            assert len(rx.arrivals) == 1
            stop(first, signal.SIGKILL)  # in the middle of the POST
            assert outbox(hooks_db, hook)[0]["status"] == "pending"
            rx.wait_for(lambda r: len(r.arrivals) >= 2, 30, "the standby to take over")
            rx.release.set()
            rx.wait_for(lambda r: len(set(r.ids())) == 3, 60, "all three deliveries")
            wait_db(hooks_db, "SELECT count(*) FILTER (WHERE status = 'delivered') AS n FROM "
                    "spp.webhook_outbox WHERE hook_id = %s", (hook,), lambda r: r["n"] == 3)
        finally:
            stop(first, signal.SIGKILL)
            if second is not None:
                stop(second)
    rows = outbox(hooks_db, hook)
    assert sorted(set(rx.ids())) == sorted(f"spp-{r['id']}" for r in rows)
    assert len(rx.arrivals) >= 4 and rx.refused == []  # the killed POST was sent again
    # per-hook order held across the take-over
    order = [int(i.split("-")[1]) for i in dict.fromkeys(rx.ids())]
    assert order == sorted(order)


def serve_proc(database_url: str, port: int, log) -> subprocess.Popen:
    env = {**os.environ, **FAST, "DATABASE_URL": database_url,
           "SPP_WEB_DATABASE_URL": web_role_url(database_url)}
    return subprocess.Popen([*GIS, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def test_gis_serve_killed_mid_delivery_delivers_after_restart(hooks_db, own_database,
                                                              open_tmp):
    """The worker inside `gis serve` (as the web role spp_web) is SIGKILLed with a POST in
    flight; after a restart every change is delivered at least once."""
    with Receiver(SECRET_KEY) as rx, open(open_tmp / "serve.log", "wb") as log:
        hook, _ = add_hook(rx.url, "--secret", SECRET)
        simulated_edits(hooks_db, 3)
        rx.release.clear()
        proc = serve_proc(own_database, free_port(), log)
        try:
            # read whole and held (a sender killed while sending is refused, rightly)
            rx.wait_for(lambda r: r.held == 1, 60, "gis serve's first delivery")
            stop(proc, signal.SIGKILL)
            assert [r["status"] for r in outbox(hooks_db, hook)] == ["pending"] * 3
            rx.release.set()
            proc = serve_proc(own_database, free_port(), log)
            rx.wait_for(lambda r: len(set(r.ids())) == 3, 60, "all three after the restart")
            wait_db(hooks_db, "SELECT count(*) FILTER (WHERE status = 'delivered') AS n FROM "
                    "spp.webhook_outbox WHERE hook_id = %s", (hook,), lambda r: r["n"] == 3)
        finally:
            stop(proc)
    rows = outbox(hooks_db, hook)
    assert sorted(set(rx.ids())) == sorted(f"spp-{r['id']}" for r in rows), \
        (open_tmp / "serve.log").read_text()
    assert rx.refused == [] and len(rx.arrivals) >= 4  # the killed POST was sent again


def test_backoff_doubles_with_jitter_and_a_cap(monkeypatch):
    from gis.hooks.worker import backoff
    from gis.settings import get_settings

    monkeypatch.setenv("SPP_HOOKS_BACKOFF_S", "5")
    monkeypatch.setenv("SPP_HOOKS_BACKOFF_MAX_S", "3600")
    get_settings.cache_clear()
    try:
        for attempt in (1, 2, 3, 8):
            waits = [backoff(attempt) for _ in range(200)]
            d = min(3600, 5 * 2 ** (attempt - 1))
            assert all(d / 2 <= w <= d for w in waits) and len(set(waits)) > 150
        assert all(1800 <= backoff(40) <= 3600 for _ in range(50))
    finally:
        get_settings.cache_clear()


def test_edits_through_the_api_are_delivered_by_gis_serve(hooks_db, own_database, open_tmp):
    """OGC API Part 4 edits (create, patch, delete) on a real `gis serve`: each edit version
    reaches the subscriber through the worker inside that server, signed, in order; the feed
    lists the same changes."""
    import httpx

    run_gis("load", hydrants(open_tmp, [("E-1", 100, 105.780, 10.030)], "e.geojson"),
            "--layer", LAYER, "--force", "--allow-shrink", check=True)
    loaded = hooks_db.execute("SELECT current_version AS v FROM spp.layers WHERE id = %s",
                              (LAYER,)).fetchone()["v"]
    ca = run_gis("keys", "create", "--name", "PCCC", "--department", "ca",
                 check=True).stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {ca}"}
    with Receiver(SECRET_KEY) as rx, open(open_tmp / "serve.log", "wb") as log:
        add_hook(rx.url, "--secret", SECRET)
        port = free_port()
        proc = serve_proc(own_database, port, log)
        try:
            base = f"http://127.0.0.1:{port}/ogc/collections/{LAYER}"
            for _ in range(300):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with httpx.Client(timeout=30) as c:
                r = c.post(f"{base}/items", headers={**headers, "Content-Type":
                           "application/geo+json"}, content=json.dumps({
                               "type": "Feature", "properties": {"hydrant_code": "E-2"},
                               "geometry": {"type": "Point", "coordinates": [105.7811,
                                                                             10.0311]}}))
                assert r.status_code == 201, r.text
                fid = r.json()["id"]
                etag = c.get(f"{base}/items/{fid}", headers=headers).headers["etag"]
                r = c.patch(f"{base}/items/{fid}", headers={
                    **headers, "Content-Type": "application/merge-patch+json",
                    "If-Match": etag}, content=json.dumps({"properties": {"diameter": 150}}))
                assert r.status_code == 200, r.text
                r = c.delete(f"{base}/items/{fid}", headers={**headers,
                                                             "If-Match": r.headers["etag"]})
                assert r.status_code in (200, 204), r.text
                rx.wait_for(lambda r: len(r.got) == 3, 60, "three edit deliveries")
                feed = c.get(f"{base}/changes", headers=headers,
                             params={"since": loaded}).json()["changes"]
        finally:
            stop(proc)
    bodies = [g["body"] for g in rx.got]
    assert [(b["action"], b["created"], b["updated"], b["deleted"]) for b in bodies] == [
        ("edit", [fid], [], []), ("edit", [], [fid], []), ("edit", [], [], [fid])]
    assert [b["version"] for b in bodies] == sorted({b["version"] for b in bodies})
    assert rx.refused == []
    assert [(f["change"], f["featureId"], f["action"]) for f in feed] == [
        (c, fid, "edit") for c in ("created", "updated", "deleted")]
    assert all(f["operator"].endswith("PCCC") for f in feed)  # the editor's key, to staff

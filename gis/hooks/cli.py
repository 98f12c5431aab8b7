"""`gis hooks ...`: subscribe systems to a layer's changes and watch their deliveries."""

from __future__ import annotations

import getpass
import logging
import signal
import threading

import typer
from rich.table import Table

from gis import db
from gis.cli import console, user_errors
from gis.settings import get_settings

hooks_app = typer.Typer(help="Webhooks: systems told of each change of a layer (signed, "
                             "retried, at least once).", no_args_is_help=True)


def _actor() -> str:
    return get_settings().operator or getpass.getuser()


def _json_lines(rows: list[dict]) -> None:
    import orjson

    for r in rows:
        print(orjson.dumps(r).decode())


def _when(t) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else "-"


@hooks_app.command("add")
@user_errors
def hooks_add(url: str = typer.Argument(..., help="http(s) URL that receives the POSTs"),
              layer: str = typer.Option(..., "--layer", help="Layer id whose changes it gets"),
              secret: str = typer.Option(None, "--secret", help="Signing secret (at least 16 "
                                         "bytes; whsec_<base64> is decoded). Default: a "
                                         "random one, printed once"),
              with_operator: bool = typer.Option(False, "--with-operator", help="Payloads "
                                                 "name who made the change (a person)")):
    """Subscribe a system to the changes of a layer from now on."""
    from gis.hooks import subscribers

    with db.ready_connection() as conn:
        hook, used = subscribers.add(conn, url, layer, secret, with_operator, _actor())
    console.print(f"Hook {hook}: {url} gets the changes of {layer} / nhận thay đổi của lớp.")
    if secret is None:
        console.print(f"Secret (shown once; give it to the receiver) / khoá bí mật: {used}",
                      highlight=False)


@hooks_app.command("list")
@user_errors
def hooks_list(all_: bool = typer.Option(False, "--all", help="Removed hooks too"),
               as_json: bool = typer.Option(False, "--json", help="JSON lines")):
    """The hooks (never their secrets)."""
    from gis.hooks import subscribers

    with db.ready_connection() as conn:
        rows = subscribers.hooks(conn, all_)
    if as_json:
        return _json_lines(rows)
    t = Table(title="Webhooks / móc web")
    for col in ("id", "url", "layer", "operator", "added", "by", "removed"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), r["url"], r["layer_id"], "yes" if r["with_operator"] else "no",
                  _when(r["created_at"]), r["created_by"] or "-", _when(r["removed_at"]))
    console.print(t)


@hooks_app.command("remove")
@user_errors
def hooks_remove(hook_id: int = typer.Argument(..., help="Hook id (see gis hooks list)")):
    """Unsubscribe a hook; its undelivered deliveries are cancelled."""
    from gis.hooks import subscribers

    with db.ready_connection() as conn:
        n = subscribers.remove(conn, hook_id, _actor())
    console.print(f"Hook {hook_id} removed / đã gỡ ({n} undelivered cancelled).")


@hooks_app.command("status")
@user_errors
def hooks_status(as_json: bool = typer.Option(False, "--json", help="JSON lines (for "
                                              "monitoring)")):
    """Deliveries per hook: pending (retrying), failed, delivered, the last error."""
    from gis.hooks import subscribers

    with db.ready_connection() as conn:
        rows = subscribers.status(conn)
    if as_json:
        return _json_lines(rows)
    t = Table(title="Webhook deliveries / gửi móc web")
    for col in ("id", "layer", "pending", "retrying", "failed", "delivered", "last delivered",
                "next attempt"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), r["layer_id"], str(r["pending"]), str(r["retrying"]),
                  str(r["failed"]), str(r["delivered"]), _when(r["last_delivered"]),
                  _when(r["next_attempt"]))
    console.print(t)
    for r in rows:  # below the table: URLs and errors are too wide for its columns
        console.print(f"hook {r['id']}: {r['url']}", highlight=False)
        if r["last_error"]:
            console.print(f"  last error / lỗi gần nhất ({_when(r['last_error_at'])}): "
                          f"{r['last_error']}", highlight=False, markup=False)


@hooks_app.command("retry")
@user_errors
def hooks_retry(hook_id: int = typer.Option(None, "--hook", help="Only this hook's")):
    """Queue the given-up ('failed') deliveries again."""
    from gis.hooks import subscribers

    with db.ready_connection() as conn:
        n = subscribers.retry(conn, hook_id, _actor())
    console.print(f"{n} deliveries queued again / đã xếp lại.")


@hooks_app.command("prune")
@user_errors
def hooks_prune(days: float = typer.Option(30, "--older-than", min=0, help="Days")):
    """Delete delivered and cancelled deliveries older than that (the feed keeps the changes)."""
    from gis.hooks import subscribers

    with db.ready_connection() as conn:
        n = subscribers.prune(conn, days, _actor())
    console.print(f"{n} old deliveries deleted / đã xoá.")


@hooks_app.command("run")
@user_errors
def hooks_run(once: bool = typer.Option(False, "--once", help="Deliver what is due, then "
                                        "stop")):
    """The delivery worker on its own (`gis serve` runs one too): Ctrl-C or SIGTERM stops it
    between deliveries."""
    from gis.hooks.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    db.ready_connection().close()  # migrated, reachable
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = Worker(db.database_url(), "gis hooks run")
    try:
        n = worker.run(stop, once=once)
    except KeyboardInterrupt:
        n = None
    finally:
        worker.close()
    if n is not None:
        console.print(f"{n} delivery attempts / lần gửi.")

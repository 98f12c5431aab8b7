"""`gis submissions list | show | approve | reject`: staff review the reports of the public."""

from __future__ import annotations

import json

import typer
from rich.table import Table
from rich.text import Text

from gis import db
from gis.settings import get_settings

app = typer.Typer(help="Reports from citizens and businesses: review the moderation queue.",
                  no_args_is_help=True)


def _actor() -> str:
    import getpass

    return get_settings().operator or getpass.getuser()


from gis.cli import console, user_errors  # noqa: E402  (gis.cli adds this app at its end)


def _props(row: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in (row["properties"] or {}).items()) or "-"


@app.command("list")
@user_errors
def list_cmd(status: str = typer.Option("pending", "--status",
                                        help="pending | approved | rejected | all"),
             layer: str = typer.Option(None, "--layer", help="Layer id"),
             limit: int = typer.Option(200, "--limit", help="Rows shown at most")):
    """The queue, oldest first: id, layer, kind, place, fields, message, photo, state."""
    from gis.submissions import queue

    q, params = queue.list_sql(None if status == "all" else status, layer, None, limit)
    with db.ready_connection() as conn:
        rows = conn.execute(q, params).fetchall()
    table = Table(title=f"{len(rows)} submissions / báo cáo ({status})")
    for col in ("id", "received", "layer", "kind", "lon, lat", "fields", "message", "photo",
                "status"):
        table.add_column(col)
    for r in rows:  # the public's text as text: never read as console markup
        table.add_row(str(r["id"]), f"{r['created_at']:%Y-%m-%d %H:%M}", r["layer_id"],
                      r["kind"], f"{r['lon']:.6f}, {r['lat']:.6f}", Text(_props(r)),
                      Text((r["message"] or "-")[:80]), "yes" if r["has_photo"] else "-",
                      Text(r["status"] + (f" ({r['reason']})" if r["reason"] else "")))
    console.print(table)


@app.command("show")
@user_errors
def show_cmd(sid: int = typer.Argument(..., help="Submission id")):
    """One report in full (JSON)."""
    from gis.submissions import queue

    with db.ready_connection() as conn:
        row = queue.get(conn, sid)
        photo = conn.execute("SELECT media_type, width, height, bytes FROM "
                             "spp.submission_photos WHERE submission_id = %s",
                             (sid,)).fetchone()
    doc = {**row, "photo": photo}
    print(json.dumps(doc, ensure_ascii=False, indent=1, default=str))


def _values(items: list[str]) -> dict:
    from gis.submissions import SubmissionError

    out = {}
    for item in items:
        if "=" not in item:
            raise SubmissionError(f"--set {item!r}: write FIELD=VALUE, e.g. --set "
                                  "light_code=DCS-0101", f"--set {item!r}: ghi TRƯỜNG=GIÁ_TRỊ")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@app.command("approve")
@user_errors
def approve_cmd(sid: int = typer.Argument(..., help="Submission id"),
                note: str = typer.Option(None, "--note", help="Note kept with the decision"),
                set_: list[str] = typer.Option([], "--set", help="FIELD=VALUE the report "
                                               "lacks, e.g. the asset's code (repeatable)")):
    """Approve a report: it becomes a feature of its layer through the edit path (same
    validation as loads and edits), a new layer version with lineage submission:<id>."""
    from gis.submissions import queue

    with db.ready_connection() as conn:
        row = queue.approve(conn, sid, _actor(), note, _values(set_))
    console.print(f"Submission {sid} approved: feature {row['feature_id']} of "
                  f"{row['layer_id']}, version {row['layer_version']} (lineage "
                  f"submission:{sid}).", highlight=False)


@app.command("reject")
@user_errors
def reject_cmd(sid: int = typer.Argument(..., help="Submission id"),
               reason: str = typer.Option(..., "--reason", help="Why (kept with the report)")):
    """Reject a report with the reason; nothing is published."""
    from gis.submissions import queue

    with db.ready_connection() as conn:
        row = queue.reject(conn, sid, reason, _actor())
    console.print(Text(f"Submission {sid} rejected ({row['reason']})."))

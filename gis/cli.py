"""The `gis` command line for GIS staff (typer + rich)."""

from __future__ import annotations

import sys
from functools import wraps

import typer
from rich.console import Console
from rich.table import Table

from gis import db
from gis.errors import SPPError
from gis.settings import get_settings

app = typer.Typer(help="SPP Cần Thơ: load, version and serve the city's spatial layers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database: embedded PostGIS cluster or DATABASE_URL.",
                     no_args_is_help=True)
layer_app = typer.Typer(help="One layer: history and rollback.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(layer_app, name="layer")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def user_errors(func):
    """Print SPPError as a clear message and exit non-zero, never with a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SPPError as exc:
            err_console.print(f"[bold red]Error / Lỗi:[/] {exc}", markup=True, highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("[red]Interrupted / Đã dừng.[/] Nothing was changed by this run.")
            raise typer.Exit(130) from None

    return wrapper


# -- gis db -----------------------------------------------------------------------------
@db_app.command("up")
@user_errors
def db_up():
    """Start the database (embedded cluster unless DATABASE_URL is set) and migrate it."""
    url = db.database_url()
    applied = db.migrate()
    where = "DATABASE_URL" if get_settings().database_url else "embedded cluster"
    console.print(f"Database ready ({where}): {db._safe(url)}")
    if applied:
        console.print(f"Applied migrations: {', '.join(applied)}")


@db_app.command("status")
@user_errors
def db_status():
    """Report which database is used and whether it runs."""
    s = get_settings()
    if s.database_url:
        with db.connect() as conn:
            version = conn.execute("SELECT postgis_full_version() AS v").fetchone()["v"]
        console.print(f"Using DATABASE_URL {db._safe(s.database_url)}: reachable\n{version}")
        return
    st = db.embedded_cluster().status()
    state = "[green]running[/]" if st.running else "[yellow]stopped[/]"
    console.print(f"Embedded PostgreSQL {st.version or '(not initialised)'}: {state}")
    console.print(f"  data folder: {st.data_dir}")
    if st.port:
        console.print(f"  port: {st.port}  url: {st.url or '-'}")
    if not st.running:
        raise typer.Exit(1)


@db_app.command("down")
@user_errors
def db_down():
    """Stop the embedded cluster (nothing to do with DATABASE_URL set)."""
    if get_settings().database_url:
        console.print("DATABASE_URL is set: that server is not ours to stop.")
        return
    stopped = db.embedded_cluster().down()
    console.print("Embedded PostgreSQL stopped." if stopped else "Embedded PostgreSQL was not "
                  "running.")


# -- gis layers -------------------------------------------------------------------------
@app.command("layers")
@user_errors
def layers_list():
    """List the layers defined in layers/ with their load state."""
    from gis.catalog import layer_states, sync_catalog
    from gis.layerdef import load_layer_defs

    defs = load_layer_defs()
    with db.ready_connection() as conn:
        sync_catalog(conn, defs)
        states = layer_states(conn)
    table = Table(title=f"{len(defs)} layers / lớp dữ liệu")
    for col in ("id", "tên / title", "domain", "owner", "access", "version", "features",
                "updated"):
        table.add_column(col)
    for layer in defs.values():
        st = states.get(layer.id, {})
        version = st.get("current_version")
        table.add_row(
            layer.id, f"{layer.title.vi}\n[dim]{layer.title.en}[/]", layer.domain,
            layer.owner_code, layer.access.level,
            str(version) if version else "[yellow]not loaded[/]",
            f"{st['feature_count']:,}" if st.get("feature_count") is not None else "-",
            st["updated_at"].strftime("%Y-%m-%d %H:%M") if st.get("updated_at") else "-",
        )
    console.print(table)


def main() -> None:  # pragma: no cover - entry point convenience
    app(sys.argv[1:])

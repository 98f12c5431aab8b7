"""The `gis` command line for GIS staff (typer + rich)."""

from __future__ import annotations

import os
from functools import wraps
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gis import db
from gis.errors import SetupError, SPPError
from gis.settings import get_settings

app = typer.Typer(help="SPP Cần Thơ: load, version and serve the city's spatial layers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database: embedded PostGIS cluster or DATABASE_URL.",
                     no_args_is_help=True)
layer_app = typer.Typer(help="One layer: history and rollback.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(layer_app, name="layer")

console = Console(soft_wrap=True)
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
        except (typer.Exit, SystemExit):
            raise
        except Exception as exc:  # a bug, not bad input: still no traceback unless asked
            if os.environ.get("SPP_DEBUG"):
                raise
            err_console.print(f"[bold red]Internal error / Lỗi hệ thống:[/] "
                              f"{type(exc).__name__}: {exc}\nNothing was changed by this run. "
                              "Run again with SPP_DEBUG=1 for the details and report them.",
                              markup=True, highlight=False)
            raise typer.Exit(70) from None

    return wrapper


# -- gis db -----------------------------------------------------------------------------
@db_app.command("up")
@user_errors
def db_up():
    """Start the database (embedded cluster unless DATABASE_URL is set) and migrate it."""
    url = db.database_url()
    applied = db.migrate()
    where = "DATABASE_URL" if get_settings().database_url else "embedded cluster"
    console.print(f"Database ready ({where}): {db.safe_url(url)}")
    if applied:
        console.print(f"Applied migrations: {', '.join(applied)}")


@db_app.command("migrate")
@user_errors
def db_migrate():
    """Apply pending schema migrations (as the owner role); a deployment runs it once."""
    applied = db.migrate()
    console.print(f"Migrations applied: {', '.join(applied)}" if applied
                  else "The database schema is current; nothing to apply.")
    if password := get_settings().web_db_password:
        db.set_web_password(password)
        console.print("Password of the web role spp_web set (SPP_WEB_DB_PASSWORD).")


@db_app.command("status")
@user_errors
def db_status():
    """Report which database is used and whether it runs."""
    s = get_settings()
    if s.database_url:
        with db.connect() as conn:
            version = conn.execute("SELECT postgis_full_version() AS v").fetchone()["v"]
        console.print(f"Using DATABASE_URL {db.safe_url(s.database_url)}: reachable\n{version}")
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
    from gis.loader import searchindex

    defs = load_layer_defs()
    with db.ready_connection() as conn:
        sync_catalog(conn, defs)
        searchindex.ensure_current(conn, defs)  # versions loaded before search fields were set
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


# -- gis load ---------------------------------------------------------------------------
def _parse_maps(maps: list[str]) -> dict[str, str]:
    from gis.loader.load import LoadError

    out = {}
    for item in maps:
        if "=" not in item:
            raise LoadError(f"--map {item!r}: write SOURCE_FIELD=LAYER_FIELD, e.g. "
                            "--map SHBANDO=sheet_no")
        src, dst = item.split("=", 1)
        out[src.strip()] = dst.strip()
    return out


@app.command("load")
@user_errors
def load_cmd(
    source: Path = typer.Argument(..., help="Delivery: .shp/.zip/.gpkg/.geojson/.csv/.gdb/"
                                  ".tab/.kml/.dxf/.dgn"),
    layer: str = typer.Option(..., "--layer", "-l", help="Layer id (a file in layers/)"),
    source_crs: str = typer.Option(None, help="EPSG code, preset (vn2000-cantho, "
                                   "vn2000-soctrang, vn2000-utm48, ...) or .prj/WKT"),
    encoding: str = typer.Option(None, help="Force the text encoding: utf-8, tcvn3, vni, "
                                 "cp1258, cp1252 (default: detected per field)"),
    mode: str = typer.Option("replace", help="replace | append | upsert (by natural key)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Do everything but the swap"),
    force: bool = typer.Option(False, "--force", help="Load even if identical to current"),
    source_layer: str = typer.Option(None, help="Layer inside a multi-layer source"),
    map_: list[str] = typer.Option([], "--map", help="SOURCE_FIELD=LAYER_FIELD (repeatable)"),
    axis_order: str = typer.Option(None, help="CSV: auto | xy | yx (yx: X column is northing)"),
    x_field: str = typer.Option(None, help="CSV: first coordinate column"),
    y_field: str = typer.Option(None, help="CSV: second coordinate column"),
    allow_shrink: bool = typer.Option(False, "--allow-shrink", help="Accept a replace that "
                                      "removes more than checks.max_removed_share of the "
                                      "current features"),
    allow_shift: bool = typer.Option(False, "--allow-shift", help="Skip the check that "
                                     "features kept their place against the current version "
                                     "(when the current version is the misplaced one)"),
    profile: str = typer.Option(None, "--profile", "-p", help="Delivery profile of the layer "
                                "(sources.NAME in its layer file); the options above still "
                                "override it"),
):
    """Load one department delivery into a layer, atomically, as a new version."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gis.loader.load import LoadOptions, load
    from gis.loader.report import print_summary

    options = LoadOptions(source_crs=source_crs, encoding=encoding, mode=mode, dry_run=dry_run,
                          force=force, source_layer=source_layer, field_map=_parse_maps(map_),
                          axis_order=axis_order, x_field=x_field, y_field=y_field,
                          allow_shrink=allow_shrink, allow_shift=allow_shift, profile=profile)
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(f"{source.name} → {layer}", total=None, rate="")
        import time as _time

        t0 = _time.monotonic()

        def progress(n: int, total: int | None) -> None:
            bar.update(task, advance=n, total=total)
            done = bar.tasks[0].completed
            rate = done / max(_time.monotonic() - t0, 1e-6)
            bar.update(task, rate=f"{rate:,.0f} features/s")

        result = load(source, layer, options, progress,
                      notify=lambda m: bar.console.print(f"[yellow]{m}[/]", highlight=False))
    print_summary(console, result)


profile_app = typer.Typer(help="Delivery profiles: how a department's deliveries map onto a "
                          "layer (sources: in the layer file).", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@profile_app.command("suggest")
@user_errors
def profile_suggest(
    source: Path = typer.Argument(..., help="A delivery of the kind the profile is for"),
    layer: str = typer.Option(..., "--layer", "-l", help="Layer id (a file in layers/)"),
    name: str = typer.Option(None, "--name", help="Profile name (default: from the file "
                             "name)"),
    out: Path = typer.Option(None, "--out", "-o", help="Write the YAML here instead of "
                             "standard output"),
    source_layer: str = typer.Option(None, help="Layer inside a multi-layer source"),
):
    """Write a starting delivery profile (YAML) from the file's fields, for review."""
    from gis.loader.suggest import suggest_profile

    text, collected = suggest_profile(source, layer, name, source_layer)
    if out:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"Profile written to {out}: review the lines marked REVIEW.",
                          highlight=False)
    else:
        typer.echo(text, nl=False)
    _print_library_warnings(collected)


@profile_app.command("list")
@user_errors
def profile_list(layer: str = typer.Option(None, "--layer", "-l", help="Only this layer")):
    """The delivery profiles of the layer files (what --profile accepts)."""
    from gis.layerdef import VectorLayerDef, get_layer_def, load_layer_defs

    defs = {layer: get_layer_def(layer)} if layer else load_layer_defs()
    table = Table(title="delivery profiles / hồ sơ giao nộp")
    for col in ("layer", "profile", "description", "CRS", "mapped", "derived", "constants",
                "value maps", "dropped"):
        table.add_column(col)
    for lid, d in defs.items():
        for name, p in (d.sources.items() if isinstance(d, VectorLayerDef) else ()):
            table.add_row(lid, name, p.description.vi if p.description else "",
                          (p.crs or "") + (" (replaces the file's)" if p.crs_overrides_file
                                           else ""),
                          ", ".join(f"{a}→{b}" for a, b in p.field_map.items()),
                          ", ".join(p.derived), ", ".join(p.constants),
                          ", ".join(p.value_maps), ", ".join(p.drop))
    console.print(table)


def _print_library_warnings(collected) -> None:
    """GDAL and other library warnings, one line each on stderr, in both languages."""
    for w in collected.lines():
        times = f" (×{w['count']})" if w["count"] > 1 else ""
        err_console.print(f"[yellow]library / thư viện:[/] {w['vi']} / {w['en']}{times}",
                          highlight=False)


@layer_app.command("history")
@user_errors
def layer_history(layer_id: str = typer.Argument(..., help="Layer id")):
    """Every load of a layer: version, status, source and its SHA-256, CRS operation, counts."""
    from gis import versions
    from gis.layerdef import get_layer_def
    from gis.loader.report import print_history

    if get_layer_def(layer_id).kind == "raster":
        return raster_history(layer_id)
    with db.ready_connection() as conn:
        rows = versions.history(conn, layer_id)
    print_history(console, layer_id, rows)


def _rollback(layer, to: int | None) -> dict:
    import getpass

    from gis import versions

    actor = get_settings().operator or getpass.getuser()
    with db.ready_connection() as conn:
        row = versions.rollback(conn, versions.storage_for(layer), layer.id, to, actor)
    if layer.kind == "raster":
        console.print(f"Raster layer {layer.id}: v{row['version']} is current again "
                      f"(source {row['source_name']}, file {row['raster_path']}).")
    else:
        console.print(f"Layer {layer.id}: v{row['version']} is current again "
                      f"({row['feature_count']:,} features, source {row['source_name']}).")
    return row


@layer_app.command("rollback")
@user_errors
def layer_rollback(layer_id: str = typer.Argument(..., help="Layer id"),
                   to: int = typer.Option(None, "--to", help="Version to restore "
                                          "(default: the one before the current)")):
    """Make an earlier kept version of a layer (vector or raster) current again, atomically."""
    from gis.layerdef import get_layer_def

    _rollback(get_layer_def(layer_id), to)


# -- gis sample -------------------------------------------------------------------------
@app.command("sample")
@user_errors
def sample_cmd(
    outdir: Path = typer.Argument(..., help="Folder to write the sample delivery set into"),
    parcels: int = typer.Option(3000, "--parcels", help="Cadastral parcels in the Cần Thơ "
                                "shapefile (the Sóc Trăng one gets 15 % of that)"),
    seed: int = typer.Option(20250701, "--seed", help="Same seed, same bytes"),
):
    """Write a synthetic Cần Thơ delivery set (parcels, planning, utilities, addresses, units)
    in the formats departments send, with a README.txt of load commands."""
    import time as _time

    from gis.sample import write_sample

    t0 = _time.monotonic()
    written = write_sample(outdir, parcels=parcels, seed=seed)
    table = Table(title=f"Sample delivery set / bộ dữ liệu mẫu: {outdir}")
    for col in ("dataset", "file", "size"):
        table.add_column(col, no_wrap=col == "file")
    for name, main in written.items():
        parts = sorted(main.parent.glob(main.stem + ".*")) if main.suffix == ".shp" else [main]
        for part in parts:
            table.add_row(name, str(part.relative_to(outdir)), f"{part.stat().st_size:,} B")
    console.print(table)
    console.print(f"Written in {_time.monotonic() - t0:.1f} s. Load commands: "
                  f"{written['readme']}")


# -- gis serve --------------------------------------------------------------------------
@app.command("serve")
@user_errors
def serve_cmd(host: str = typer.Option(None, help="Address to listen on (default SPP_HOST)"),
              port: int = typer.Option(None, help="Port (default SPP_PORT)"),
              workers: int = typer.Option(1, help="Worker processes")):
    """Serve the OGC API - Features (/ogc) over HTTP with uvicorn."""
    import uvicorn

    s = get_settings()
    host = host or s.host
    port = port or s.port
    from services.assets import check_assets

    check_assets()  # an incomplete installation is named now, not answered as a 500 later
    if s.migrate_on_start:
        db.ready_connection().close()  # fail early, clearly, if the DB is unreachable
    console.print(f"Web map / bản đồ: http://{host}:{port}/   OGC API: http://{host}:{port}/ogc"
                  "   (Ctrl-C stops / dừng)")
    if workers > 1:  # metrics of all workers added up (prometheus-client multiprocess mode)
        _fresh_metrics_dir(s.data_dir / "metrics")
        os.environ["SPP_MIGRATE_ON_START"] = "false"  # migrated above, once, not per worker
    from services.telemetry import log_config

    # X-Forwarded-For decides whose rate bucket a request draws from: believed only when the
    # peer is a configured proxy (uvicorn's own default would trust any loopback peer)
    proxies = s.trusted_proxies.strip()
    from services.httpproto import JoinedWritesProtocol

    uvicorn.run("services.app:create_app", factory=True, host=host, port=port, workers=workers,
                http=JoinedWritesProtocol, ws="none", log_level="warning", access_log=False,
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
                log_config=log_config())


def _fresh_metrics_dir(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)  # counters of an earlier run are not ours
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


# -- gis demo ---------------------------------------------------------------------------
@app.command("demo")
@user_errors
def demo_cmd(parcels: int = typer.Option(3000, help="Parcels in the sample Ninh Kiều file "
                                          "(300000: the city at scale)"),
             serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve afterwards"),
             host: str = typer.Option(None, help="Address to listen on (default SPP_HOST)"),
             port: int = typer.Option(None, help="Port (default SPP_PORT)")):
    """The main job: embedded PostGIS up, sample Cần Thơ layers loaded, API and map served."""
    from gis.demo import ensure_sample, load_sample

    url = db.database_url()
    db.migrate()
    console.print(f"Database: {db.safe_url(url)}")
    outdir = ensure_sample(get_settings().data_dir / "sample", parcels)
    console.print(f"Sample delivery set: {outdir}")

    def report(rel, r):
        state = {"current": "[green]loaded[/]", "unchanged": "[dim]unchanged[/]"}.get(
            r.status, r.status)
        if hasattr(r, "raster"):  # a raster layer: its grid, not features
            size = (f"{r.raster['width']:,} × {r.raster['height']:,} cells" if r.raster
                    else "raster")
            what = f"{size:>17}, {r.raster.get('bands', '')} band(s)" if r.raster else size
        else:
            what = f"{r.feature_count or 0:>8,} features, {r.count_rejected} rejected"
        console.print(f"  {rel:45} → {r.layer_id:26} {state} v{r.version} {what}")

    load_sample(outdir, report)
    if serve:
        serve_cmd(host=host, port=port, workers=1)


# -- gis keys ---------------------------------------------------------------------------
keys_app = typer.Typer(help="API keys of departments and applications.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _parse_date(value: str | None, option: str):
    from datetime import UTC, date, datetime

    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        t = datetime.fromisoformat(value)
        return t if t.tzinfo else t.replace(tzinfo=UTC)
    except ValueError:
        from gis.keys import KeyRequestError

        raise KeyRequestError(f"{option} {value!r}: write a date as YYYY-MM-DD (or an ISO "
                              "date and time)") from None


@keys_app.command("create")
@user_errors
def keys_create(
    name: str = typer.Option(..., "--name", help="Who holds the key, e.g. 'SXD planning GIS'"),
    department: str = typer.Option(..., "--department", help="Department code, e.g. sxd"),
    role: str = typer.Option("staff", "--role", help="staff | admin"),
    personal: list[str] = typer.Option([], "--personal", help="Personal field granted, "
                                       "LAYER.FIELD (repeatable)"),
    expires: str = typer.Option(None, "--expires", help="Last day of validity, YYYY-MM-DD"),
):
    """Make an API key; it is printed once and stored only as its SHA-256."""
    import getpass

    from gis import keys

    when = _parse_date(expires, "--expires")
    extra = [p for item in personal for p in item.split(",") if p]  # also LAYER.F1,LAYER.F2
    actor = get_settings().operator or getpass.getuser()
    with db.ready_connection() as conn:
        key, row = keys.create(conn, name, department, role, extra, when, actor)
    err_console.print(f"API key {row['id']} for {row['name']} ({row['department']}, "
                      f"{row['role']}"
                      + (f", personal: {', '.join(row['personal_fields'])}"
                         if row["personal_fields"] else "")
                      + (f", expires {row['expires_at']:%Y-%m-%d}" if row["expires_at"] else "")
                      + "). Keep it now; it is not shown again. Send it as "
                        "'Authorization: Bearer <key>' or 'X-API-Key: <key>'.", highlight=False)
    print(key)


@keys_app.command("list")
@user_errors
def keys_list():
    """Every API key (never the key itself): holder, department, role, grants, state."""
    from datetime import UTC, datetime

    from gis import keys

    with db.ready_connection() as conn:
        rows = keys.list_keys(conn)
    table = Table(title=f"{len(rows)} API keys")
    for col in ("id", "name", "key", "department", "role", "personal fields", "created",
                "expires", "state"):
        table.add_column(col)
    now = datetime.now(UTC)
    for r in rows:
        state = ("[red]revoked[/]" if r["revoked_at"] else "[yellow]expired[/]"
                 if r["expires_at"] and r["expires_at"] <= now else "[green]active[/]")
        table.add_row(str(r["id"]), r["name"], r["key"], r["department"], r["role"],
                      ", ".join(r["personal_fields"]) or "-",
                      f"{r['created_at']:%Y-%m-%d} {r['created_by'] or ''}".strip(),
                      f"{r['expires_at']:%Y-%m-%d}" if r["expires_at"] else "-", state)
    console.print(table)


@keys_app.command("revoke")
@user_errors
def keys_revoke(key_id: int = typer.Argument(..., help="Key id (see gis keys list)")):
    """Revoke an API key: refused (401) from now on (after SPP_AUTH_CACHE_S at most)."""
    from gis import keys

    with db.ready_connection() as conn:
        row = keys.revoke(conn, key_id)
    console.print(f"API key {row['id']} ({row['name']}) revoked at "
                  f"{row['revoked_at']:%Y-%m-%d %H:%M:%S %Z}.")


# -- gis audit --------------------------------------------------------------------------
@app.command("audit")
@user_errors
def audit_cmd(layer: str = typer.Option(None, "--layer", help="Layer id"),
              actor: str = typer.Option(None, "--actor", help="Principal (substring), e.g. "
                                        "key:3 or oidc:an.nguyen"),
              since: str = typer.Option(None, "--since", help="From this date, YYYY-MM-DD"),
              action: str = typer.Option(None, "--action", help="read | export | load | "
                                         "rollback | ..."),
              limit: int = typer.Option(200, "--limit", help="Newest rows shown")):
    """Who read or exported which internal/restricted layer or personal field, and loads and
    rollbacks: newest first."""
    from gis.keys import KeyRequestError

    when = _parse_date(since, "--since")
    where, params = [], []
    if layer:
        where.append("layer_id = %s")
        params.append(layer)
    if actor:
        where.append("actor ILIKE %s")
        params.append(f"%{actor}%")
    if when is not None:
        where.append("at >= %s")
        params.append(when)
    if action:
        where.append("action = %s")
        params.append(action)
    if limit < 1:
        raise KeyRequestError("--limit must be at least 1")
    sql = ("SELECT id, at, actor, role, action, layer_id, fields, detail, client_addr "
           "FROM spp.audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY at DESC, id DESC LIMIT %s")
    with db.ready_connection() as conn:
        rows = conn.execute(sql, (*params, limit)).fetchall()
    table = Table(title=f"Audit log: {len(rows)} rows (newest first)")
    for col in ("at", "actor", "role", "action", "layer", "fields", "client", "detail"):
        table.add_column(col)
    import json

    for r in rows:
        detail = r["detail"] or {}
        table.add_row(f"{r['at']:%Y-%m-%d %H:%M:%S}", r["actor"], r["role"] or "-",
                      r["action"], r["layer_id"] or "-", ", ".join(r["fields"] or []) or "-",
                      r["client_addr"] or "-", json.dumps(detail, ensure_ascii=False))
    console.print(table)


# -- gis load-raster, gis raster history | rollback ---------------------------------------
raster_app = typer.Typer(help="One raster layer: history and rollback.", no_args_is_help=True)
app.add_typer(raster_app, name="raster")


@app.command("load-raster")
@user_errors
def load_raster_cmd(
    source: Path = typer.Argument(..., help="Grid: GeoTIFF, ASCII grid (.asc + .prj), "
                                  "JPEG2000..."),
    layer: str = typer.Option(..., "--layer", "-l", help="Raster layer id (kind: raster)"),
    source_crs: str = typer.Option(None, help="EPSG code, preset (vn2000-cantho, "
                                   "vn2000-soctrang, vn2000-utm48, ...) or .prj/WKT; default: "
                                   "the file's own CRS"),
    force: bool = typer.Option(False, "--force", help="Load even if identical to current"),
):
    """Load a grid into a raster layer: warped to WGS 84 (VN-2000 through EPSG:6960), stored
    as a Cloud-Optimised GeoTIFF, as a new version (atomic)."""
    from gis.loader.libwarnings import caught
    from gis.raster.load import load_raster

    with caught() as collected:  # GDAL/rasterio warnings: one clean line each, after
        r = load_raster(source, layer, source_crs=source_crs, force=force)
    _print_library_warnings(collected)
    if r.status == "unchanged":
        console.print(f"{r.layer_id}: unchanged, v{r.version} is current. {r.message}")
        return
    i = r.raster
    console.print(f"{r.layer_id}: v{r.version} is current — {r.path}\n"
                  f"  source {r.source_name} sha256 {r.source_sha256[:16]}… "
                  f"{i['source_size'][0]}×{i['source_size'][1]} cells, {r.source_crs[:60]}\n"
                  f"  operation {r.operation}\n"
                  f"  COG {i['width']}×{i['height']} cells of {i['res_deg'][0]:.3e}° "
                  f"({i['dtype']}, nodata {i['nodata']}), {i['resampling']}, overviews "
                  f"{i['overviews']}, valid COG: {i['cog_valid']}, {r.seconds:.1f} s")


@raster_app.command("history")
@user_errors
def raster_history(layer_id: str = typer.Argument(..., help="Raster layer id")):
    """Every load of a raster layer: version, status, source SHA-256, CRS operation, grid."""
    from gis import versions
    from gis.raster.load import raster_layer

    raster_layer(layer_id)
    with db.ready_connection() as conn:
        rows = versions.history(conn, layer_id)
    t = Table(title=f"{layer_id}: {len(rows)} versions / phiên bản")
    for col in ("v", "status", "source", "sha256", "CRS → operation", "grid", "file",
                "finished", "operator"):
        t.add_column(col)
    for r in rows:
        g = r["raster"] or {}
        t.add_row(str(r["version"]), r["status"], r["source_name"] or "",
                  (r["source_sha256"] or "")[:12],
                  f"{r['source_crs'] or ''} → {r['operation'] or ''}"[:70],
                  f"{g.get('width', '-')}×{g.get('height', '-')}",
                  r["raster_path"] or ("(pruned)" if r["status"] != "failed" else "-"),
                  r["finished_at"].strftime("%Y-%m-%d %H:%M:%S") if r["finished_at"] else "-",
                  r["operator"] or "")
        if r["status"] == "failed" and r["message"]:
            t.add_row("", f"[red]{r['message'][:200]}[/]", *[""] * 7)
    console.print(t)


@raster_app.command("rollback")
@user_errors
def raster_rollback(layer_id: str = typer.Argument(..., help="Raster layer id"),
                    to: int = typer.Option(None, "--to", help="Version to restore "
                                           "(default: the one before the current)")):
    """Make an earlier kept version of a raster layer current again, atomically."""
    from gis.raster.load import raster_layer

    _rollback(raster_layer(layer_id), to)


# -- gis hooks (gis/hooks/cli.py) --------------------------------------------------------
from gis.hooks.cli import hooks_app  # noqa: E402  (it uses this module's console)

app.add_typer(hooks_app, name="hooks")


# -- gis fonts build ---------------------------------------------------------------------
fonts_app = typer.Typer(help="The label fonts of the map (glyph PBFs served at /fonts).",
                        no_args_is_help=True)


@fonts_app.command("build")
@user_errors
def fonts_build(out: Path = typer.Option(None, help="Folder (default: the package's "
                                                    "gis/bundled/fonts)"),
                force: bool = typer.Option(False, help="Make them even when current")):
    """Make the glyph PBFs (SDF) of the label fonts from the Debian font files."""
    from gis import fonts

    try:
        r = fonts.build(out or fonts.BUILT, force=force)
    except FileNotFoundError as e:
        raise SetupError(str(e)) from None
    if r.get("current"):
        console.print(f"label fonts are current in {r['folder']}")
    else:
        console.print(f"{r['files']} glyph files of {r['fonts']} fonts in {r['folder']} "
                      f"({r['seconds']} s)")


app.add_typer(fonts_app, name="fonts")


# -- gis submissions list | show | approve | reject ---------------------------------------
def _submissions_app():
    from gis.submissions.cli import app as submissions_app

    return submissions_app


app.add_typer(_submissions_app(), name="submissions")

"""Operations endpoints: /health (the process answers), /ready (it can serve: database
reachable, schema current, layer files and web assets found) and /metrics (Prometheus)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from services import telemetry

router = APIRouter(include_in_schema=False)
READY_DB_TIMEOUT_S = 2.0


@router.get("/health")
async def health():
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def _database_problems(request: Request) -> list[str]:
    from gis.db import migration_names

    try:
        async with asyncio.timeout(READY_DB_TIMEOUT_S):
            async with request.app.state.pool.connection(timeout=READY_DB_TIMEOUT_S) as conn:
                cur = await conn.execute("SELECT name FROM spp.schema_migrations")
                applied = {r["name"] for r in await cur.fetchall()}
    except Exception as exc:  # any failure to reach it is the reason, not a 500
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return [f"database unreachable: {first or type(exc).__name__}"]
    pending = sorted(set(migration_names()) - applied)
    return [f"migrations not applied: {', '.join(pending)} (run gis db migrate)"] if pending \
        else []


def _file_problems() -> list[str]:
    from gis.errors import SPPError
    from gis.layerdef import layers_folder
    from services.assets import missing_assets

    problems = []
    try:
        folder = layers_folder()
        if not any(folder.glob("*.y*ml")):
            problems.append(f"no layer definitions in {folder} (SPP_LAYERS_DIR)")
    except SPPError as exc:
        problems.append(str(exc))
    if missing := missing_assets():
        problems.append("installation lacks " + ", ".join(map(str, missing)))
    return problems


@router.get("/ready")
async def ready(request: Request):
    problems = _file_problems() + await _database_problems(request)
    body = {"status": "ready" if not problems else "not ready", "problems": problems,
            "databases": request.app.state.pool.states()}
    headers = {"Cache-Control": "no-store"}
    if problems:
        headers["Retry-After"] = "5"
    return JSONResponse(body, status_code=503 if problems else 200, headers=headers)


@router.get("/metrics")
async def metrics(request: Request):
    await telemetry.observe_state(request.app)
    body, content_type = telemetry.exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

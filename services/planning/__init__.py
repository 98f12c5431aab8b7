"""Planning information API (/api/...) and the web map (/ and /static/...)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from gis.settings import get_settings
from services.ogc.errors import InvalidParameter, NotFound
from services.ogc.http import Ctx, cache_headers, conditional, ctx, etag_for, negotiate
from services.ogc.paramspec import Param, Params, text
from services.ogc.paramspec import openapi as openapi_params
from services.planning import export as export_mod
from services.planning import info
from services.planning import search as search_mod
from services.planning.common import PARCEL_FID
from services.raster.zonal import is_flood_depth

router = APIRouter(tags=["Planning"])
HERE = Path(__file__).resolve().parent
WEB = HERE.parent / "web"
# an installed package carries MapLibre's and jsPDF's builds and the PDF font in web/vendor
# (setup.py); a source checkout
# serves it from npm's folder
VENDOR = {name: next((p for p in (WEB / "vendor" / name, *dev) if p.is_dir()),
                     WEB / "vendor" / name)
          for name, dev in (("maplibre-gl", (WEB / "node_modules" / "maplibre-gl" / "dist",)),
                            ("jspdf", (WEB / "node_modules" / "jspdf" / "dist",)),
                            # the PDF font (Vietnamese coverage) from Debian's fonts-dejavu-core
                            ("dejavu", (Path("/usr/share/fonts/truetype/dejavu"),)))}
WEB_FILES = {"app.js", "app.css", "index.html", "report.js", "basemap.js", "lists.js",
             "panel.js", "signin.js", "print.js"}
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))


def _versions(c: Ctx) -> list:
    return sorted((lyr.id, lyr.current_version, lyr.definition_sha) for lyr in c.layers.values())


@router.get("/api/parcels/{fid}/planning", summary="Planning information of a parcel",
            openapi_extra=openapi_params(PARCEL_FID))
async def parcel_planning(request: Request, f: str | None = Query(
        None, description="json | html"), c: Ctx = Depends(ctx)):
    fid = request.path_params["fid"]
    fmt = negotiate(request, {"json", "html"}, default="json")
    try:
        fid_i = int(fid)
    except ValueError:
        raise NotFound(f"no parcel {fid!r}: feature ids are integers") from None
    if not -(2**63) <= fid_i < 2**63:
        raise NotFound(f"no parcel {fid!r}")
    rasters = c.raster_layers()  # flood depth: the flood rasters' versions too
    floods = sorted((r.id, r.current_version, r.definition_sha) for r in rasters.values()
                    if is_flood_depth(r))
    etag = etag_for("planning", fid_i, fmt, c.who.cache_scope, _versions(c), floods)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    doc = await info.parcel_planning(c, fid_i)
    parcels = doc["layer"]
    doc["links"] = [
        {"rel": "self", "type": "application/json",
         "href": c.url(f"/api/parcels/{fid_i}/planning", {"f": "json"})},
        {"rel": "alternate", "type": "text/html", "title": "Printable page / Trang in",
         "href": c.url(f"/api/parcels/{fid_i}/planning", {"f": "html"})},
        {"rel": "item", "type": "application/geo+json", "title": "The parcel feature",
         "href": c.url(f"/ogc/collections/{parcels}/items/{fid_i}")},
        {"rel": "map", "type": "text/html", "title": "On the map / Trên bản đồ",
         "href": c.url("/") + f"#parcel={fid_i}"},
    ]
    headers = cache_headers(c.who, etag)
    if fmt == "html":
        lang = request.query_params.get("lang", "vi")
        return TEMPLATES.TemplateResponse(request, "planning.html", {
            "doc": doc, "lang": "en" if lang == "en" else "vi",
            "svg": _svg(doc)}, headers=headers)
    return JSONResponse(doc, headers=headers)


def _svg(doc: dict) -> dict | None:
    """Path data of the parcel outline for a small sketch on the printable page."""
    g = doc.get("geometry") or {}
    polys = g.get("coordinates", []) if g.get("type") == "MultiPolygon" else (
        [g.get("coordinates", [])] if g.get("type") == "Polygon" else [])
    if not polys:
        return None
    x0, y0, x1, y1 = doc["bbox"]
    w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    pad = max(w, h) * 0.08
    d = " ".join("M " + " L ".join(f"{x:.8f} {-y:.8f}" for x, y in ring) + " Z"
                 for poly in polys for ring in poly)
    return {"viewbox": f"{x0 - pad} {-y1 - pad} {w + 2 * pad} {h + 2 * pad}", "d": d,
            "stroke": max(w, h) / 150}


@router.get("/api/search", summary="Search parcels, addresses, wards and coordinates")
async def search(request: Request, q: str = Query("", description="Text typed in the search "
                 "box"), limit: int = Query(10, ge=1, le=search_mod.MAX_RESULTS),
                 c: Ctx = Depends(ctx)):
    if len(q) > 200:
        raise InvalidParameter("q: at most 200 characters")
    etag = etag_for("search", q, limit, c.who.cache_scope, _versions(c))
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    doc = await search_mod.search(c, q, limit)
    return JSONResponse(doc, headers=cache_headers(c.who, etag))


EXPORT = Params(
    text("layer", "Layer id: a collection id of /ogc/collections"),
    Param("fids", "Feature ids, comma-separated",
          {"type": "array", "minItems": 1, "maxItems": export_mod.MAX_FIDS,
           "items": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}},
          extra={"style": "form", "explode": False, "required": True}),
    text("f", "geojson | csv", default="geojson"), strict=False)


@router.get("/api/export", summary="Export selected features as GeoJSON or CSV",
            openapi_extra=EXPORT.openapi())
async def export(request: Request, c: Ctx = Depends(ctx)):
    q = request.query_params
    return await export_mod.export(c, q.get("layer"), q.get("fids"),
                                   q.get("f", "geojson").lower())


# -- the web map ------------------------------------------------------------------------------
@router.get("/api/auth/config", summary="How the web map signs staff in (public OIDC client)")
async def auth_config():
    s = get_settings()
    oidc = None
    if s.oidc_issuer and s.oidc_client_id:
        oidc = {"issuer": s.oidc_issuer, "client_id": s.oidc_client_id, "scopes": s.oidc_scopes}
    return JSONResponse({"oidc": oidc, "api_key": True}, headers={"Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False)
async def web_map():
    return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/static/vendor/{package}/{path:path}", include_in_schema=False)
async def vendor(package: str, path: str):
    root = VENDOR.get(package)
    if root is None:
        raise NotFound(f"no vendored package {package!r}")
    return _file(root, path, "public, max-age=86400")


@router.get("/static/{path:path}", include_in_schema=False)
async def static(path: str):
    if path not in WEB_FILES:
        raise NotFound(f"no static file {path!r}")
    return _file(WEB, path, "no-cache")


def _file(root: Path, path: str, cache: str) -> Response:
    if "\x00" in path:  # the OS refuses such a name (ValueError), so no file has one
        raise NotFound(f"no static file {path!r}")
    target = (root / path).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        if not root.exists():
            raise NotFound(f"{root} is missing: run ./spp setup (npm ci in services/web)")
        raise NotFound(f"no static file {path!r}")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix in (".js", ".mjs"):
        media = "text/javascript; charset=utf-8"
    return FileResponse(target, media_type=media, headers={"Cache-Control": cache})

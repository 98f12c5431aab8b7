"""The OpenAPI 3.0 document of the real routes (/ogc/openapi) and Swagger UI (/ogc/docs)
served from the swagger-ui-bundle package, never from a CDN."""

from __future__ import annotations

import copy
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from services.ogc.http import OPENAPI

router = APIRouter(prefix="/ogc", include_in_schema=False)


def _to_30(node):
    """FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12); make it valid 3.0."""
    if isinstance(node, dict):
        any_of = node.get("anyOf")
        if isinstance(any_of, list) and any(s == {"type": "null"} for s in any_of):
            rest = [s for s in any_of if s != {"type": "null"}]
            node.pop("anyOf")
            if len(rest) == 1:
                node.update(rest[0])
            else:
                node["anyOf"] = rest
            node["nullable"] = True
        if "examples" in node and isinstance(node["examples"], list):
            node["example"] = node.pop("examples")[0] if node["examples"] else None
        for v in node.values():
            _to_30(v)
    elif isinstance(node, list):
        for v in node:
            _to_30(v)
    return node


def openapi_document(app) -> dict:
    if getattr(app.state, "openapi30", None) is None:
        doc = get_openapi(title="SPP Cần Thơ — OGC API - Features", version="1.0.0",
                          description="Spatial data of Cần Thơ city (WGS 84; VN-2000 output "
                                      "through EPSG:6960).", routes=app.routes)
        doc = _to_30(copy.deepcopy(doc))
        doc["openapi"] = "3.0.3"
        app.state.openapi30 = doc
    return app.state.openapi30


@router.get("/openapi")
async def openapi(request: Request, f: str | None = None):
    if f == "html":
        return docs(request)
    return JSONResponse(openapi_document(request.app), media_type=OPENAPI,
                        headers={"Cache-Control": "public, max-age=3600"})


def swagger_dir() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


@router.get("/docs")
def docs(request: Request):
    base = str(request.base_url).rstrip("/")
    spec = f"{base}/ogc/openapi"
    if swagger_dir() is None:
        return HTMLResponse(f'<!doctype html><meta charset="utf-8"><title>API</title>'
                            f'<p>The API definition: <a href="{spec}">{spec}</a></p>')
    return HTMLResponse(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>SPP Cần Thơ — OGC API - Features</title>
<link rel="stylesheet" href="{base}/ogc/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="{base}/ogc/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{spec}", dom_id: "#ui"}});</script>
</body></html>""")

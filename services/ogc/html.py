"""HTML pages: Jinja2 templates, with a small inline SVG preview of the geometries (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


def page(request, template: str, title: str, doc: dict, json_url: str, headers: dict,
         crumbs: list | None = None, **extra) -> HTMLResponse:
    home = str(request.base_url).rstrip("/") + "/ogc"
    return TEMPLATES.TemplateResponse(request, template, {
        "title": title, "doc": doc, "json_url": json_url, "home": home,
        "crumbs": crumbs or [], **extra}, headers=headers)


def svg_preview(rows: list[dict]) -> dict | None:
    """ViewBox and shapes from rows holding ST_AsSVG output and each geometry's bounds."""
    if not rows:
        return None
    x0 = min(r["xmin"] for r in rows)
    x1 = max(r["xmax"] for r in rows)
    y0 = min(r["ymin"] for r in rows)
    y1 = max(r["ymax"] for r in rows)
    w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    pad = max(w, h) * 0.03
    shapes = [{"id": r["fid"], "href": r["href"], "d": r["svg"], "point": r["svg"].startswith(
        ("cx=", "x="))} for r in rows]
    for s in shapes:  # a point is 'cx="…" cy="…"'; MultiPoint is 'M … ' path data
        s["point"] = s["d"].startswith("cx=")
    return {"viewbox": f"{x0 - pad} {-y1 - pad} {w + 2 * pad} {h + 2 * pad}",
            "shapes": shapes, "r": max(w, h) / 150}

"""Glyph PBFs for the map's labels (``/fonts/{fontstack}/{range}.pbf``), the ``glyphs`` URL
of our MapLibre styles: made from a Debian font by ``gis fonts build`` (``gis/fonts.py``).

The font stack is MapLibre's comma-separated list: the first font we have is served, none
known is a 404. The range must be one block of 256 code points (``0-255``, ``256-511``...).
The bytes change only with the font package, so they are public and cacheable for a day.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gis import fonts
from services.ogc.errors import NotFound
from services.ogc.http import etag_for, not_modified

router = APIRouter()
PBF = "application/x-protobuf"
MAX_AGE = 86400


def _headers(etag: str) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={MAX_AGE}", "ETag": etag,
            "Access-Control-Allow-Origin": "*"}


@router.get("/fonts/{fontstack}/{fontrange}.pbf",
            summary="Label glyphs (SDF, MapLibre glyph PBF) of a font stack and 256 code points",
            description="`fontstack`: comma-separated font names, the first one served wins ("
                        + ", ".join(fonts.FONTS) + "); `fontrange`: `N-(N+255)` with N a "
                        "multiple of 256 (e.g. `7680-7935`, Latin Extended Additional).",
            responses={200: {"content": {PBF: {"schema": {"type": "string",
                                                           "format": "binary"}}},
                             "description": "The glyphs (protobuf)"},
                       304: {"description": "Not modified (If-None-Match)"},
                       404: {"description": "No such font or range"}})
async def glyphs(request: Request, fontstack: str, fontrange: str):
    name = fonts.first_known(fontstack[:1000])
    start = fonts.parse_range(fontrange)
    if name is None:
        raise NotFound(f"no font among {fontstack[:200]!r}; fonts: {', '.join(fonts.FONTS)}")
    if start is None:
        raise NotFound(f"no glyph range {fontrange[:40]!r}: ranges are N-(N+255), N a "
                       "multiple of 256 up to 65280")
    etag = etag_for("glyphs", name, start, fonts.stamp(name))
    if not_modified(request, etag):
        return Response(status_code=304, headers=_headers(etag))
    data = await asyncio.to_thread(fonts.pbf, name, start)
    if data is None:
        raise NotFound(f"the font file of {name!r} is missing on this server "
                       f"(Debian package {fonts.FONTS[name][0]})")
    return Response(data, media_type=PBF, headers=_headers(etag))

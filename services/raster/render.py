"""Cell values → RGBA with a raster layer's classes, ramp or RGB bands; PNG / WebP encoding."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from gis.layerdef import RasterLayerDef

MEDIA = {"png": "image/png", "webp": "image/webp"}


def _rgba(hex_colour: str) -> tuple[int, int, int, int]:
    h = hex_colour.lstrip("#")
    a = int(h[6:8], 16) if len(h) == 8 else 255
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), a


def colour(layer: RasterLayerDef, data: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """RGBA (h, w, 4) uint8 of ``data`` (bands, h, w); ``valid`` (h, w) marks cells with data."""
    h, w = data.shape[1:]
    out = np.zeros((h, w, 4), dtype=np.uint8)
    if layer.render == "rgb":
        out[..., :3] = np.moveaxis(data[:3], 0, -1)
        out[..., 3] = np.where(valid, data[3] if data.shape[0] > 3 else 255, 0)
        return out
    v = data[0].astype(np.float64, copy=False)
    show = valid & np.isfinite(v)
    cut = layer.style.transparent_at_or_below
    if cut is not None:
        show &= v > cut
    if layer.render == "classes":
        for cls in layer.classes:
            m = show.copy()
            if cls.min is not None:
                m &= v >= cls.min
            if cls.max is not None:
                m &= v < cls.max
            out[m] = _rgba(cls.color)
        return out
    stops = np.array([s.value for s in layer.ramp])
    cols = np.array([_rgba(s.color) for s in layer.ramp], dtype=np.float64)
    vv = v[show]
    for k in range(4):
        out[..., k][show] = np.interp(vv, stops, cols[:, k]).round().astype(np.uint8)
    return out


def encode(rgba: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    img = Image.fromarray(rgba, "RGBA")
    if fmt == "webp":
        img.save(buf, "WEBP", quality=85, method=2)
    else:
        img.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def legend(layer: RasterLayerDef) -> list[dict]:
    if layer.render == "classes":
        return [{"min": c.min, "max": c.max, "color": c.color,
                 "label": c.label.model_dump()} for c in layer.classes]
    if layer.render == "ramp":
        return [{"value": s.value, "color": s.color,
                 "label": s.label.model_dump() if s.label else None} for s in layer.ramp]
    return []

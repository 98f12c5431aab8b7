"""A vector layer's map style, made from its definition's ``style`` key: MapLibre style layers
on the source ``spp`` (``source-layer`` = layer id) and a legend.

A style is ``{"id", "title", "geometry", "metadata": {"legend": [...]}, "layers": [...]}``;
``metadata.legend`` holds the classes (label vi/en, colour, kind, property and values) from
which the services also write SLD 1.1 and QGIS QML, so every client draws the same colours.
``styles/build.py`` writes these to ``styles/<id>.json``; a layer without a file is served
the style made here, so a new layer file is drawn without any other step.

A layer with ``style.extrude`` also gets a ``fill-extrusion`` layer (``<id>-3d``, hidden,
``metadata["spp:3d"]``) that the web map's 3D view shows. ``base_layers`` and ``compose_base``
make the city base map (the ``base`` style) from the layers whose ``map.base`` is set.
"""

from __future__ import annotations

import re

from gis.codelists import CODELISTS
from gis.layerdef import VectorLayerDef

OTHER = {"vi": "Khác", "en": "Other"}
# the label fonts /fonts serves (gis.fonts, made from Debian's fonts-dejavu-core)
FONTS = {"regular": ["DejaVu Sans Regular"], "bold": ["DejaVu Sans Bold"]}
GLYPHS_PATH = "/fonts/{fontstack}/{range}.pbf"
LEGEND_KIND = {"fill": "fill", "boundary": "outline", "line": "line", "circle": "circle"}
GEOMETRY = {"fill": "polygon", "boundary": "polygon", "line": "line", "circle": "point"}


def labels_at_points(layer: VectorLayerDef) -> bool:
    """A polygon layer's label is drawn at one point a feature, which its tiles carry
    (services.tiles.labels), not on each tile's piece of the polygon."""
    lb = layer.style.label
    return lb is not None and not lb.along_line and layer.geometry.endswith("Polygon")


def symbol_of(layer: VectorLayerDef) -> str:
    if layer.style.symbol:
        return layer.style.symbol
    g = layer.geometry
    return "fill" if g.endswith("Polygon") else "line" if g.endswith("LineString") else "circle"


def classes(layer: VectorLayerDef) -> list[dict]:
    """The style classes: ``{vi, en, color, values[, width]}``, from the code list or listed."""
    st = layer.style
    if st.classes_from:
        cf = st.classes_from
        return [{"vi": f"{e.code} — {e.vi}" if cf.show_code else e.vi,
                 "en": f"{e.code} — {e.en}" if cf.show_code else e.en,
                 "color": e.color.upper(), "values": [e.code]}
                for e in CODELISTS[cf.codelist] if e.color]
    return [{"vi": c.label.vi, "en": c.label.en, "color": c.color.upper(),
             "values": list(c.values), **({"width": c.width} if c.width is not None else {})}
            for c in st.classes]


def _match(prop: str, rules: list[dict], key: str, default):
    """A MapLibre ``match`` on the property, or the constant when every class agrees."""
    pairs: list = []
    for r in rules:
        pairs += [r["values"], r.get(key, default)]
    if all(v == default for v in pairs[1::2]):
        return default
    return ["match", ["get", prop], *pairs, default]


def base_layers(layers) -> list[VectorLayerDef]:
    """The vector layers of the city base map, in their ``map.base`` order (then by id)."""
    return sorted((d for d in layers if isinstance(d, VectorLayerDef) and d.map.base is not None),
                  key=lambda d: (d.map.base, d.id))


def compose_base(styles: list[dict]) -> list[dict]:
    """The style layers of the base map from its layers' styles, given in base order: every
    layer's drawing in that order, then the 3D layers, then every label (names stay on top)."""
    def part(kind):
        return [lyr for s in styles for lyr in s["layers"] if _part(lyr) == kind]
    return part("draw") + part("3d") + part("label")


def _part(lyr: dict) -> str:
    if lyr["type"] == "symbol":
        return "label"
    return "3d" if lyr["type"] == "fill-extrusion" else "draw"


def extrusion_height(layer: VectorLayerDef) -> list:
    """The MapLibre expression of a feature's height (m): the height field, else floors x
    floor height, else 0 (tiles leave empty values out)."""
    ex = layer.style.extrude
    expr: list = ["case"]
    if ex.height:
        expr += [["has", ex.height], ["max", 0, ["to-number", ["get", ex.height]]]]
    if ex.floors:
        expr += [["has", ex.floors],
                 ["*", ["max", 0, ["to-number", ["get", ex.floors]]], ex.floor_height]]
    return [*expr, 0]


def build(layer: VectorLayerDef) -> dict:
    st, lid = layer.style, layer.id
    kind, prop = symbol_of(layer), st.property
    rules = classes(layer) if prop else []
    default = st.color.upper()
    width = st.width if st.width is not None else 1.5
    minzoom = layer.tiles.min_zoom
    base = {"source": "spp", "source-layer": lid, "minzoom": minzoom}
    lk = LEGEND_KIND[kind]
    legend = [{"vi": r["vi"], "en": r["en"], "color": r["color"], "kind": lk, "property": prop,
               "values": r["values"], **({"width": r["width"]} if "width" in r else {})}
              for r in rules]
    single = st.legend or (None if rules else layer.title)
    legend.append({"vi": single.vi if single else OTHER["vi"],
                   "en": single.en if single else OTHER["en"], "color": default, "kind": lk,
                   "property": None, "values": None,
                   **({"width": width} if kind == "line" else {})})
    color = _match(prop, rules, "color", default) if prop else default
    layers: list[dict] = []
    if kind == "fill":
        layers.append({"id": f"{lid}-fill", "type": "fill", **base,
                       "paint": {"fill-color": color, "fill-opacity": _or(st.opacity, 0.7)}})
        if st.outline:
            ow = _or(st.outline_width, 0.5)
            layers.append({"id": f"{lid}-outline", "type": "line", **base,
                           "paint": {"line-color": st.outline.upper(), "line-width": ow}})
            legend.append({"vi": "Ranh giới", "en": "Boundary", "color": st.outline.upper(),
                           "kind": "outline", "property": None, "values": None, "width": ow})
    elif kind == "boundary":
        layers.append({"id": f"{lid}-outline", "type": "line", **base,
                       "layout": {"line-join": "round"},
                       "paint": {"line-color": default,
                                 "line-width": _or(st.outline_width, 1.0),
                                 "line-dasharray": [4, 2]}})
    elif kind == "line":
        layers.append({"id": f"{lid}-line", "type": "line", **base,
                       "layout": {"line-cap": "round", "line-join": "round"},
                       "paint": {"line-color": color,
                                 "line-width": _match(prop, rules, "width", width)
                                 if prop else width}})
    else:
        layers.append({"id": f"{lid}-circle", "type": "circle", **base,
                       "paint": {"circle-color": color, "circle-radius": _or(st.radius, 4),
                                 "circle-stroke-color": "#FFFFFF",
                                 "circle-stroke-width": 1}})
    if st.extrude and kind == "fill":
        layers.append({"id": f"{lid}-3d", "type": "fill-extrusion", **base,
                       "metadata": {"spp:3d": True}, "layout": {"visibility": "none"},
                       "paint": {"fill-extrusion-color": st.extrude.color.upper()
                                 if st.extrude.color else color,
                                 "fill-extrusion-height": extrusion_height(layer),
                                 "fill-extrusion-opacity": st.extrude.opacity}})
    if st.label:
        lb = st.label
        layout = {"text-field": label_text(lb), "text-font": FONTS[lb.font],
                  "text-size": lb.size}
        if lb.along_line:
            layout |= {"symbol-placement": "line", "symbol-spacing": 350,
                       "text-max-angle": 30}
        elif kind == "circle":  # beside the point, not over it
            layout |= {"text-anchor": "top", "text-offset": [0, 0.6], "text-max-width": 8}
        else:
            layout |= {"text-max-width": 8, "text-padding": 2}
        points = {"filter": ["==", ["geometry-type"], "Point"]} if labels_at_points(layer) else {}
        layers.append({"id": f"{lid}-label", "type": "symbol", **base, **points,
                       "minzoom": max(minzoom, lb.min_zoom), "layout": layout,
                       "paint": {"text-color": lb.color.upper(),
                                 "text-halo-color": lb.halo.upper(), "text-halo-width": 1.2}})
        legend.append({"vi": "Nhãn", "en": "Label", "color": lb.color.upper(),
                       "kind": "label", "property": lb.field or lb.text, "values": None})
    for entry in legend:
        entry["geometry"] = GEOMETRY[kind]
    return {"id": lid, "title": {"vi": layer.title.vi, "en": layer.title.en},
            "geometry": GEOMETRY[kind], "metadata": {"legend": legend,
                                                     "generator": "styles/build.py"},
            "layers": layers}


def label_text(lb) -> list:
    """The MapLibre expression of a label's text: a field's value, or the template's pieces
    joined (``"{sheet_no}/{parcel_no}"`` -> ``["concat", sheet_no, "/", parcel_no]``)."""
    if lb.field:
        return ["to-string", ["get", lb.field]]
    parts = re.split(r"\{([a-z][a-z0-9_]*)\}", lb.text)
    pieces = [["to-string", ["coalesce", ["get", p], ""]] if i % 2 else p
              for i, p in enumerate(parts) if p]
    return ["concat", *pieces]


def _or(value, default):
    return default if value is None else value

"""SLD 1.1 (Symbology Encoding) and QGIS QML from a style file's legend classes.

Both are written from ``metadata.legend`` of ``styles/<id>.json`` — the classes the MapLibre
layers were generated from (``styles/build.py``) — so GeoServer and QGIS draw the colours the
web map draws. Classes: ``property`` + ``values`` (equality on any of the values), or no
property (the symbol of everything else / the single symbol); ``kind`` fill, line, circle,
outline (a polygon's boundary) or label.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

SLD_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
            'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld '
            'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">\n')


def _css(name: str, value: object) -> str:
    return f'<se:SvgParameter name="{name}">{escape(str(value))}</se:SvgParameter>'


def _equals(prop: str, values: list) -> list[str]:
    return [f"<ogc:PropertyIsEqualTo><ogc:PropertyName>{escape(prop)}</ogc:PropertyName>"
            f"<ogc:Literal>{escape(str(v))}</ogc:Literal></ogc:PropertyIsEqualTo>"
            for v in values]


def _any(tests: list[str]) -> str:
    return tests[0] if len(tests) == 1 else f"<ogc:Or>{''.join(tests)}</ogc:Or>"


def _filter(entry: dict) -> str:
    prop, values = entry.get("property"), entry.get("values")
    if not prop or not values:
        return ""
    return f"<ogc:Filter>{_any(_equals(prop, values))}</ogc:Filter>"


def _else_filter(classified: list[dict]) -> str:
    """What no class matched, written out: the property empty or none of the classes' values.
    Not ``se:ElseFilter``: QGIS 3.22 reads that as a rule without a filter and paints the
    "other" symbol over every feature."""
    prop = classified[0]["property"]
    values = [v for e in classified for v in e["values"]]
    null = (f"<ogc:PropertyIsNull><ogc:PropertyName>{escape(prop)}</ogc:PropertyName>"
            "</ogc:PropertyIsNull>")
    return (f"<ogc:Filter><ogc:Or>{null}<ogc:Not>{_any(_equals(prop, values))}</ogc:Not>"
            "</ogc:Or></ogc:Filter>")


def _stroke(color: str, width: float) -> str:
    return f"<se:Stroke>{_css('stroke', color)}{_css('stroke-width', width)}</se:Stroke>"


def _symbolizer(entry: dict, style: dict) -> str:
    kind = entry["kind"]
    color = entry["color"]
    if kind == "fill":
        opacity = _fill_opacity(style)
        return (f"<se:PolygonSymbolizer><se:Fill>{_css('fill', color)}"
                f"{_css('fill-opacity', opacity)}</se:Fill></se:PolygonSymbolizer>")
    if kind == "outline":
        return (f"<se:PolygonSymbolizer>{_stroke(color, entry.get('width', 1))}"
                "</se:PolygonSymbolizer>")
    if kind == "line":
        return f"<se:LineSymbolizer>{_stroke(color, entry.get('width', 1))}</se:LineSymbolizer>"
    if kind == "circle":
        size = 2 * _circle_radius(style)
        return ("<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle"
                f"</se:WellKnownName><se:Fill>{_css('fill', color)}</se:Fill>"
                f"{_stroke('#FFFFFF', 1)}</se:Mark><se:Size>{size:g}</se:Size></se:Graphic>"
                "</se:PointSymbolizer>")
    if kind == "label":
        return (f"<se:TextSymbolizer><se:Label><ogc:PropertyName>{escape(entry['property'])}"
                "</ogc:PropertyName></se:Label><se:Font>"
                f"{_css('font-family', 'Noto Sans')}{_css('font-size', 11)}</se:Font>"
                f"<se:Halo><se:Radius>1</se:Radius><se:Fill>{_css('fill', '#FFFFFF')}"
                f"</se:Fill></se:Halo><se:Fill>{_css('fill', color)}</se:Fill>"
                "</se:TextSymbolizer>")
    raise ValueError(f"unknown legend kind {kind!r}")


def _fill_opacity(style: dict) -> float:
    for lyr in style["layers"]:
        if lyr["type"] == "fill":
            return float(lyr["paint"].get("fill-opacity", 1))
    return 1.0


def _circle_radius(style: dict) -> float:
    for lyr in style["layers"]:
        if lyr["type"] == "circle":
            r = lyr["paint"].get("circle-radius", 4)
            return float(r) if isinstance(r, int | float) else 4.0
    return 4.0



def _rules(style: dict) -> str:
    out = []
    classified = [e for e in style["metadata"]["legend"] if e.get("values")]
    for entry in style["metadata"]["legend"]:
        title = f"{entry['vi']} / {entry['en']}"
        if entry.get("values"):
            flt = _filter(entry)
        elif entry["kind"] == entry_kind(classified) and classified:
            flt = _else_filter(classified)  # what no class matched
        else:
            flt = ""  # boundary, label or single symbol: every feature
        out.append(f"<se:Rule><se:Name>{escape(title)}</se:Name><se:Description><se:Title>"
                   f"{escape(title)}</se:Title></se:Description>{flt}"
                   f"{_symbolizer(entry, style)}</se:Rule>")
    return "".join(out)


def entry_kind(classified: list[dict]) -> str | None:
    return classified[0]["kind"] if classified else None


def sld(styles: list[dict], name: str) -> str:
    """One StyledLayerDescriptor with a NamedLayer per style (layer)."""
    parts = [SLD_HEAD]
    for style in styles:
        title = f"{style['title']['vi']} / {style['title']['en']}"
        parts.append(f"<NamedLayer><se:Name>{escape(style['id'])}</se:Name><UserStyle>"
                     f"<se:Name>{escape(name)}</se:Name><se:Description><se:Title>"
                     f"{escape(title)}</se:Title></se:Description><se:FeatureTypeStyle>"
                     f"{_rules(style)}</se:FeatureTypeStyle></UserStyle></NamedLayer>\n")
    parts.append("</StyledLayerDescriptor>\n")
    return "".join(parts)


# -- QGIS QML ---------------------------------------------------------------------------------
def _rgba(color: str, alpha: float = 1.0) -> str:
    c = color.lstrip("#")
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    return f"{r},{g},{b},{round(alpha * 255)}"


def _opt(name: str, value: object) -> str:
    return f'<Option type="QString" name={quoteattr(name)} value={quoteattr(str(value))}/>'


def _qml_symbol(name: str, style: dict, fill: dict | None, outline: dict | None) -> str:
    """A QGIS symbol: fill (+ boundary) for polygons, a line, or a circle marker."""
    geometry = style["geometry"]
    if geometry == "polygon":
        color = fill["color"] if fill else "#000000"
        alpha = _fill_opacity(style) if fill else 0.0
        ocolor = outline["color"] if outline else color
        owidth = outline.get("width", 0.26) if outline else 0
        props = [_opt("color", _rgba(color, alpha)), _opt("style", "solid" if fill else "no"),
                 _opt("outline_color", _rgba(ocolor)),
                 _opt("outline_style", "solid" if outline else "no"),
                 _opt("outline_width", owidth), _opt("outline_width_unit", "Pixel")]
        return (f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
                'force_rhr="0"><layer class="SimpleFill" enabled="1" locked="0" pass="0">'
                f'<Option type="Map">{"".join(props)}</Option></layer></symbol>')
    if geometry == "line":
        props = [_opt("line_color", _rgba(fill["color"])),
                 _opt("line_width", fill.get("width", 1)), _opt("line_width_unit", "Pixel"),
                 _opt("capstyle", "round"), _opt("joinstyle", "round")]
        return (f'<symbol type="line" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
                'force_rhr="0"><layer class="SimpleLine" enabled="1" locked="0" pass="0">'
                f'<Option type="Map">{"".join(props)}</Option></layer></symbol>')
    props = [_opt("name", "circle"), _opt("color", _rgba(fill["color"])),
             _opt("outline_color", _rgba("#FFFFFF")), _opt("outline_width", 1),
             _opt("outline_width_unit", "Pixel"), _opt("size", 2 * _circle_radius(style)),
             _opt("size_unit", "Pixel")]
    return (f'<symbol type="marker" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            'force_rhr="0"><layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
            f'<Option type="Map">{"".join(props)}</Option></layer></symbol>')


def qml(style: dict) -> str:
    legend = style["metadata"]["legend"]
    draw = [e for e in legend if e["kind"] in ("fill", "line", "circle")]
    outline = next((e for e in legend if e["kind"] == "outline"), None)
    label = next((e for e in legend if e["kind"] == "label"), None)
    classified = [e for e in draw if e.get("values")]
    default = next((e for e in draw if not e.get("values")), None)
    if style["geometry"] == "polygon" and not draw:  # a boundary only
        symbols = [_qml_symbol("0", style, None, outline)]
        renderer = ('<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" '
                    f'enableorderby="0"><symbols>{"".join(symbols)}</symbols></renderer-v2>')
    elif not classified:
        symbols = [_qml_symbol("0", style, default, outline)]
        renderer = ('<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" '
                    f'enableorderby="0"><symbols>{"".join(symbols)}</symbols></renderer-v2>')
    else:
        cats, symbols = [], []
        for i, e in enumerate(classified):
            symbols.append(_qml_symbol(str(i), style, e, outline))
            for v in e["values"]:
                cats.append(f'<category symbol="{i}" value={quoteattr(str(v))} '
                            f'label={quoteattr(e["vi"])} render="true"/>')
        if default is not None:
            n = len(classified)
            symbols.append(_qml_symbol(str(n), style, default, outline))
            cats.append(f'<category symbol="{n}" value="" label={quoteattr(default["vi"])} '
                        'render="true"/>')
        renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(classified[0]["property"])} '  # noqa: E501
                    'symbollevels="0" forceraster="0" enableorderby="0">'
                    f'<categories>{"".join(cats)}</categories>'
                    f'<symbols>{"".join(symbols)}</symbols></renderer-v2>')
    labeling = ""
    if label is not None:
        labeling = ('<labeling type="simple"><settings calloutType="simple">'
                    f'<text-style fieldName={quoteattr(label["property"])} fontFamily="Noto Sans" '
                    f'fontSize="9" textColor={quoteattr(_rgba(label["color"]))} '
                    'isExpression="0"><text-buffer bufferDraw="1" bufferSize="1" '
                    'bufferColor="255,255,255,255"/></text-style></settings></labeling>')
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.28.0" styleCategories="Symbology|Labeling">'
            f"{renderer}{labeling}"
            f'<layerGeometryType>{ {"point": 0, "line": 1}.get(style["geometry"], 2) }'
            "</layerGeometryType></qgis>\n")

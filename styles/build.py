"""Writes styles/<layer id>.json: each layer's MapLibre style layers and its legend.

    .venv/bin/python styles/build.py          # rewrite every file
    .venv/bin/python styles/build.py --check  # exit 1 when a committed file is out of date

A style file is ``{"id", "title", "geometry", "metadata": {"legend": [...]}, "layers": [...]}``.
``layers`` are MapLibre style layers on the source ``spp`` with ``source-layer`` = layer id;
``metadata.legend`` holds the classes (label vi/en, colour, kind, property and values) from
which the services also write SLD 1.1 and QGIS QML, so every client draws the same colours.
Land-use colours come from ``gis.codelists`` (the ministry's land-use map convention), flood
depth colours from the flood code list; the rest is chosen here. Run after changing a code
list colour or a layer's ``tiles`` settings, and commit the output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.codelists import FLOOD_DEPTH_CLASSES, LAND_USE  # noqa: E402
from gis.layerdef import LayerDef  # noqa: E402

OTHER = {"vi": "Khác", "en": "Other"}
FONT = ["Noto Sans Regular"]


def rule(vi: str, en: str, color: str, values: list | None = None, **extra) -> dict:
    r = {"vi": vi, "en": en, "color": color.upper()}
    if values is not None:
        r["values"] = values
    r.update(extra)
    return r


def land_use_rules(label_codes: bool = True) -> list[dict]:
    return [rule(f"{e.code} — {e.vi}" if label_codes else e.vi, f"{e.code} — {e.en}", e.color,
                 [e.code]) for e in LAND_USE if e.color]


# Each entry: geometry kind, the classified property (None: one symbol), classes, default
# colour of what no class matches, and options (outline, widths, radius, labels, opacity).
SPECS: dict[str, dict] = {
    "cadastral_parcels": dict(
        kind="polygon", property="land_use_code", rules=land_use_rules(), default="#F2F2F2",
        outline="#6E6E6E", outline_width=0.6, opacity=0.75,
        label={"property": "parcel_no", "min_zoom": 17, "color": "#333333", "size": 11}),
    "land_use_current": dict(
        kind="polygon", property="land_use_code", rules=land_use_rules(), default="#F2F2F2",
        outline="#9A9A9A", outline_width=0.4, opacity=0.8),
    "land_use_plan_zones": dict(
        kind="polygon", property="plan_land_use_code", rules=land_use_rules(),
        default="#F2F2F2", outline="#C0392B", outline_width=0.8, opacity=0.7),
    "construction_plan_zones": dict(
        kind="polygon", property="function_code", default="#EEEEEE", outline="#7F3F00",
        outline_width=0.7, opacity=0.75, rules=[
            rule("OHT — Đất ở hiện hữu chỉnh trang", "OHT — Existing residential", "#FFD8A8",
                 ["OHT"]),
            rule("ONM — Đất ở mới", "ONM — New residential", "#FFB070", ["ONM"]),
            rule("HH — Đất hỗn hợp", "HH — Mixed use", "#D9A6E6", ["HH"]),
            rule("TM — Đất thương mại dịch vụ", "TM — Commercial and services", "#FF8C8C",
                 ["TM"]),
            rule("CC — Đất công trình công cộng", "CC — Public facilities", "#FF5A5A", ["CC"]),
            rule("GD — Đất giáo dục", "GD — Education", "#FF9E6E", ["GD"]),
            rule("YT — Đất y tế", "YT — Health", "#FFA6C9", ["YT"]),
            rule("CX — Đất cây xanh", "CX — Green space", "#8FD98F", ["CX"]),
        ], label={"property": "lot_code", "min_zoom": 16, "color": "#5A2D00", "size": 11}),
    "investment_projects": dict(
        kind="polygon", property=None, default="#F5B041", outline="#C0392B",
        outline_width=1.5, opacity=0.45, single=("Dự án kêu gọi đầu tư",
                                                  "Project open for investment"),
        label={"property": "name", "min_zoom": 13, "color": "#922B21", "size": 12}),
    "flood_risk_zones": dict(
        kind="polygon", property="depth_class", default="#DEEBF7", outline=None, opacity=0.6,
        rules=[rule(e.vi, e.en, e.color, [e.code]) for e in FLOOD_DEPTH_CLASSES]),
    "admin_units": dict(
        kind="boundary", property=None, default="#7B2D8E", outline_width=1.6,
        single=("Ranh giới xã, phường", "Ward or commune boundary"),
        label={"property": "name", "min_zoom": 10, "color": "#5B1F6B", "size": 13}),
    "roads": dict(
        kind="line", property="road_class", default="#BDBDBD", width=1.5, rules=[
            rule("Quốc lộ", "National road", "#E74C3C", ["Quốc lộ"], width=5),
            rule("Đường tỉnh", "Provincial road", "#F39C12", ["Đường tỉnh", "Tỉnh lộ"],
                 width=4),
            rule("Đường đô thị chính", "Urban arterial", "#F5B041",
                 ["Đường chính đô thị", "Đường đô thị chính", "Đường chính"], width=3.5),
            rule("Đường khu vực", "District road", "#F7DC6F", ["Đường khu vực"], width=2.5),
            rule("Đường phân khu vực", "Local road", "#FAF3C0", ["Đường phân khu vực"],
                 width=2),
            rule("Đường xã", "Commune road", "#E0E0E0", ["Đường xã", "Đường huyện"],
                 width=1.5),
            rule("Hẻm", "Alley", "#EEEEEE", ["Hẻm", "Kiệt"], width=1),
        ], label={"property": "name", "min_zoom": 14, "color": "#424242", "size": 11,
                  "line": True}),
    "water_pipes": dict(
        kind="line", property="pipe_class", default="#5DADE2", width=1.5, rules=[
            rule("Ống truyền tải", "Transmission main", "#1F4E9E", ["Ống truyền tải"],
                 width=3),
            rule("Ống phân phối", "Distribution pipe", "#2E86DE", ["Ống phân phối"], width=2),
            rule("Ống dịch vụ", "Service pipe", "#85C1E9", ["Ống dịch vụ"], width=1),
        ]),
    "drainage_lines": dict(
        kind="line", property="line_type", default="#8D6E63", width=1.5, rules=[
            rule("Cống tròn", "Pipe sewer", "#6D4C41", ["Cống tròn", "TN_CONG_TRON"], width=2),
            rule("Cống hộp", "Box culvert", "#4E342E", ["Cống hộp", "TN_CONG_HOP"], width=3),
            rule("Mương hở", "Open drain", "#26A69A", ["Mương hở", "TN_MUONG_HO"], width=2),
            rule("Mương nắp đan", "Covered drain", "#00796B",
                 ["Mương nắp đan", "Rãnh xây", "TN_RANH_XAY"], width=1.5),
        ]),
    "power_lines": dict(
        kind="line", property="line_type", default="#E67E22", width=1.5, rules=[
            rule("Đường dây trên không", "Overhead line", "#D35400",
                 ["Đường dây trên không", "Trên không", "DDK"], width=2),
            rule("Cáp ngầm", "Underground cable", "#8E44AD", ["Cáp ngầm", "Ngầm"], width=2),
        ]),
    "telecom_lines": dict(
        kind="line", property="cable_type", default="#7F8C8D", width=1.2, rules=[
            rule("Cáp quang", "Fibre", "#16A085", ["Cáp quang"], width=1.5),
            rule("Cáp đồng", "Copper pair", "#B9770E", ["Cáp đồng"], width=1.2),
            rule("Cáp đồng trục", "Coaxial", "#6C3483", ["Cáp đồng trục"], width=1.2),
        ]),
    "fire_hydrants": dict(
        kind="point", property="hydrant_type", default="#C0392B", radius=5, rules=[
            rule("Trụ nổi", "Pillar hydrant", "#E74C3C", ["Trụ nổi", "trụ nổi"]),
            rule("Trụ âm", "Underground hydrant", "#922B21", ["Trụ âm", "trụ âm", "Họng âm"]),
            rule("Bến lấy nước", "Water intake", "#2874A6", ["Bến lấy nước"]),
        ]),
    "street_lights": dict(kind="point", property=None, default="#F4D03F", radius=3,
                          single=("Đèn chiếu sáng", "Street light")),
    "trees": dict(kind="point", property=None, default="#27AE60", radius=3.5,
                  single=("Cây xanh", "Tree")),
    "telecom_poles": dict(kind="point", property=None, default="#8E44AD", radius=4,
                          single=("Cột viễn thông", "Telecom pole")),
    "address_points": dict(
        kind="point", property=None, default="#566573", radius=2.5,
        single=("Điểm địa chỉ", "Address point"),
        label={"property": "house_number", "min_zoom": 18, "color": "#34495E", "size": 10}),
    "social_welfare_facilities": dict(
        kind="point", property=None, default="#2E86C1", radius=6,
        single=("Cơ sở trợ giúp xã hội", "Social welfare facility"),
        label={"property": "name", "min_zoom": 15, "color": "#1B4F72", "size": 11}),
}


def _match(prop: str, rules: list[dict], key: str, default):
    """A MapLibre ``match`` on the property, or the constant when every class agrees."""
    pairs: list = []
    for r in rules:
        value = r.get(key, default)
        pairs += [r["values"], value]
    if all(v == default for v in pairs[1::2]):
        return default
    return ["match", ["get", prop], *pairs, default]


def build(layer: LayerDef) -> dict:
    spec = SPECS[layer.id]
    lid, kind, prop = layer.id, spec["kind"], spec["property"]
    rules = spec.get("rules", []) if prop else []
    default = spec["default"].upper()
    minzoom = layer.tiles.min_zoom
    base = {"source": "spp", "source-layer": lid, "minzoom": minzoom}
    legend: list[dict] = []
    layers: list[dict] = []
    legend_kind = {"polygon": "fill", "boundary": "outline", "line": "line",
                   "point": "circle"}[kind]
    for r in rules:
        entry = {"vi": r["vi"], "en": r["en"], "color": r["color"], "kind": legend_kind,
                 "property": prop, "values": r["values"]}
        if "width" in r:
            entry["width"] = r["width"]
        legend.append(entry)
    single = spec.get("single")
    legend.append({"vi": single[0] if single else OTHER["vi"],
                   "en": single[1] if single else OTHER["en"], "color": default,
                   "kind": legend_kind, "property": None, "values": None,
                   **({"width": spec["width"]} if "width" in spec else {})})
    color = _match(prop, rules, "color", default) if prop else default
    if kind == "polygon":
        layers.append({"id": f"{lid}-fill", "type": "fill", **base,
                       "paint": {"fill-color": color,
                                 "fill-opacity": spec.get("opacity", 0.7)}})
        if spec.get("outline"):
            layers.append({"id": f"{lid}-outline", "type": "line", **base,
                           "paint": {"line-color": spec["outline"].upper(),
                                     "line-width": spec.get("outline_width", 0.5)}})
            legend.append({"vi": "Ranh giới", "en": "Boundary",
                           "color": spec["outline"].upper(), "kind": "outline",
                           "property": None, "values": None,
                           "width": spec.get("outline_width", 0.5)})
    elif kind == "boundary":
        layers.append({"id": f"{lid}-outline", "type": "line", **base,
                       "layout": {"line-join": "round"},
                       "paint": {"line-color": default,
                                 "line-width": spec.get("outline_width", 1.0),
                                 "line-dasharray": [4, 2]}})
    elif kind == "line":
        width = _match(prop, rules, "width", spec["width"]) if prop else spec["width"]
        layers.append({"id": f"{lid}-line", "type": "line", **base,
                       "layout": {"line-cap": "round", "line-join": "round"},
                       "paint": {"line-color": color, "line-width": width}})
    else:
        layers.append({"id": f"{lid}-circle", "type": "circle", **base,
                       "paint": {"circle-color": color, "circle-radius": spec["radius"],
                                 "circle-stroke-color": "#FFFFFF",
                                 "circle-stroke-width": 1}})
    label = spec.get("label")
    if label:
        layout = {"text-field": ["to-string", ["get", label["property"]]],
                  "text-font": FONT, "text-size": label["size"]}
        if label.get("line"):
            layout["symbol-placement"] = "line"
        layers.append({"id": f"{lid}-label", "type": "symbol", **base,
                       "minzoom": max(minzoom, label["min_zoom"]), "layout": layout,
                       "paint": {"text-color": label["color"].upper(),
                                 "text-halo-color": "#FFFFFF", "text-halo-width": 1.2}})
        legend.append({"vi": "Nhãn", "en": "Label", "color": label["color"].upper(),
                       "kind": "label", "property": label["property"], "values": None})
    for entry in legend:
        entry["geometry"] = {"polygon": "polygon", "boundary": "polygon", "line": "line",
                             "point": "point"}[kind]
    return {"id": lid, "title": {"vi": layer.title.vi, "en": layer.title.en},
            "geometry": {"boundary": "polygon"}.get(kind, kind),
            "metadata": {"legend": legend, "generator": "styles/build.py"},
            "layers": layers}


def layer_defs() -> list[LayerDef]:
    import yaml

    out = []
    for path in sorted((ROOT / "layers").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc.get("kind", "vector") != "vector":  # raster layers are not vector tiles
            continue
        out.append(LayerDef.model_validate(doc))
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for layer in layer_defs():
        if layer.id not in SPECS:
            print(f"no style spec for layer {layer.id}: add one to SPECS", file=sys.stderr)
            return 1
        text = json.dumps(build(layer), ensure_ascii=False, indent=1) + "\n"
        path = ROOT / "styles" / f"{layer.style or layer.id}.json"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run styles/build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The layer definitions in layers/ and the code lists they use (no database needed)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from gis import codelists
from gis.codelists import CODELISTS, LAND_USE, lookup, validate
from gis.layerdef import LayerDefinitionError, load_layer_defs, parse_layer_file

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ROOT / "layers"

REQUIRED = {
    "cadastral_parcels", "land_use_current", "land_use_plan_zones", "construction_plan_zones",
    "investment_projects", "admin_units", "roads", "water_pipes", "drainage_lines",
    "power_lines", "street_lights", "trees", "fire_hydrants", "telecom_poles", "telecom_lines",
    "address_points", "social_welfare_facilities", "flood_risk_zones",
}
DEPARTMENTS = {"snnmt", "sxd", "skhcn", "stc", "syt", "snv", "ca", "pc_cantho", "cantho_wasuco"}
VI_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)


@pytest.fixture(scope="module")
def all_defs():
    return load_layer_defs(LAYERS)


@pytest.fixture(scope="module")
def defs(all_defs):
    """The vector layers (raster layers, `kind: raster`, are checked in test_raster_defs)."""
    return {k: d for k, d in all_defs.items() if d.kind == "vector"}


def _texts(layer):
    yield "title", layer.title
    if layer.description:
        yield "description", layer.description
    yield "owner", layer.owner
    for f in layer.fields:
        yield f"field {f.name} label", f.label
        if f.description:
            yield f"field {f.name} description", f.description


def _key(name: str) -> str:
    """Field-name matching key as the loader uses it: case, accents, spaces, _ ignored."""
    s = unicodedata.normalize("NFD", name).replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", s.lower())


# -- the shipped files ----------------------------------------------------------------------
def test_every_shipped_file_parses(all_defs):
    files = sorted(p.stem for p in LAYERS.glob("*.y*ml"))
    assert files and sorted(all_defs) == files
    for path in LAYERS.glob("*.y*ml"):
        assert parse_layer_file(path).id == path.stem


def test_required_layers_exist(defs):
    assert REQUIRED <= set(defs), f"missing: {sorted(REQUIRED - set(defs))}"


def test_titles_and_labels_are_vietnamese_and_english(defs):
    for layer in defs.values():
        assert layer.description is not None, layer.id
        for what, text in _texts(layer):
            where = f"{layer.id}: {what}"
            assert text.vi.strip() and text.en.strip(), where
            assert unicodedata.is_normalized("NFC", text.vi), f"{where}: not NFC"
        assert VI_LETTERS.search(layer.title.vi), f"{layer.id}: title.vi without diacritics"
        assert not VI_LETTERS.search(layer.title.en), f"{layer.id}: title.en is Vietnamese"
        for f in layer.fields:
            assert VI_LETTERS.search(f.label.vi), f"{layer.id}.{f.name}: label.vi {f.label.vi!r}"
            assert f.label.vi != f.label.en, f"{layer.id}.{f.name}: same vi and en label"


# the ISO topic categories that fit a domain (a flood layer is inlandWaters, a tree biota...)
TOPICS = {"land": {"planningCadastre", "imageryBaseMapsEarthCover", "elevation", "structure"},
          "planning": {"planningCadastre", "economy"}, "boundary": {"boundaries"},
          "utility": {"utilitiesCommunication"}, "transport": {"transportation"},
          "address": {"location"}, "social": {"society", "health"},
          "environment": {"environment", "biota", "inlandWaters", "elevation",
                          "climatologyMeteorologyAtmosphere"}}


def test_catalogue_metadata_is_specific(all_defs):
    """Every layer, vector and raster, carries its own catalogue metadata: a topic that fits
    its domain, a contact in the owner's organisation, lineage in both languages saying how
    the data is delivered."""
    lineages = set()
    for layer in all_defs.values():
        md, where = layer.metadata, layer.id
        assert md.topic in TOPICS[layer.domain], f"{where}: topic {md.topic} for {layer.domain}"
        assert layer.owner.vi in md.contact.name.vi, f"{where}: contact outside the owner"
        assert layer.owner.en in md.contact.name.en, f"{where}: contact outside the owner"
        assert VI_LETTERS.search(md.lineage.vi) and md.lineage.vi != md.lineage.en, where
        assert len(md.lineage.en) > 80 and md.lineage.en not in lineages, f"{where}: lineage"
        lineages.add(md.lineage.en)
        assert re.search(r"deliver|export", md.lineage.en), f"{where}: how is it delivered?"
        assert layer.keywords and layer.description.vi != layer.description.en, where
        assert unicodedata.is_normalized("NFC", md.lineage.vi + md.contact.name.vi), where


def test_owners_are_2025_departments(defs):
    for layer in defs.values():
        assert layer.owner_code in DEPARTMENTS, layer.id
    owner = {lid: d.owner_code for lid, d in defs.items()}
    assert owner["cadastral_parcels"] == owner["land_use_current"] == "snnmt"
    assert owner["construction_plan_zones"] == owner["roads"] == "sxd"
    assert owner["drainage_lines"] == owner["street_lights"] == owner["trees"] == "sxd"
    assert owner["telecom_poles"] == owner["address_points"] == "skhcn"
    assert owner["investment_projects"] == "stc"
    assert owner["social_welfare_facilities"] == "syt"
    assert owner["fire_hydrants"] == "ca"
    assert owner["power_lines"] == "pc_cantho"
    assert owner["water_pipes"] == "cantho_wasuco"
    assert defs["flood_risk_zones"].domain == "environment"


def test_codelists_used_exist(defs):
    for layer in defs.values():
        for f in layer.fields:
            if f.codelist:
                assert f.codelist in CODELISTS, f"{layer.id}.{f.name}: {f.codelist}"
                assert f.type == "string", f"{layer.id}.{f.name}"
            if "land_use" in f.name and not f.name.endswith("_name"):
                assert f.codelist == "land_use", f"{layer.id}.{f.name} must use land_use"
    assert defs["admin_units"].field["unit_type"].codelist == "ward_type"


def test_access_rules(defs):
    for layer in defs.values():
        if layer.access.level == "restricted":
            assert layer.access.departments, layer.id
            assert layer.owner_code in layer.access.departments, f"{layer.id}: owner not listed"
            assert set(layer.access.departments) <= DEPARTMENTS, layer.id
        else:
            assert not layer.access.departments, f"{layer.id}: departments only for restricted"
    for lid in ("power_lines", "water_pipes"):
        assert defs[lid].access.level == "restricted"
        assert "sxd" in defs[lid].access.departments
    public = [d for d in defs.values() if d.access.level == "public"]
    assert len(public) > len(defs) / 2


def test_parcel_owner_fields_are_personal(defs):
    parcels = defs["cadastral_parcels"]
    assert set(parcels.personal_fields) == {"owner_name", "owner_id_no"}
    assert parcels.natural_key == ["commune_code", "sheet_no", "parcel_no"]
    for layer in defs.values():
        tile_fields = set(layer.tiles.fields or [])
        assert not tile_fields & set(layer.personal_fields), f"{layer.id}: personal in tiles"


def test_geometry_types(defs):
    lines = {"roads", "water_pipes", "drainage_lines", "power_lines", "telecom_lines",
             "waterways"}
    points = {"street_lights", "trees", "fire_hydrants", "telecom_poles", "address_points",
              "social_welfare_facilities", "flood_observations", "place_names"}
    for lid, layer in defs.items():
        expected = ("MultiLineString" if lid in lines else "Point" if lid in points
                    else "MultiPolygon")
        assert layer.geometry == expected, lid
        if layer.is_polygon:
            assert layer.plane_area, f"{lid}: polygon layers compute the VN-2000 plane area"


def test_keys_time_fields_and_tiles_are_consistent(defs):
    for layer in defs.values():
        fields = layer.field
        for key in layer.natural_key:
            assert fields[key].required, f"{layer.id}: natural key {key} must be required"
        if layer.time_field:
            assert fields[layer.time_field].type in ("date", "datetime"), layer.id
        assert 0 <= layer.tiles.min_zoom <= layer.tiles.max_zoom, layer.id
        for name in layer.tiles.fields or []:
            assert name in fields, f"{layer.id}: tile field {name}"
        assert layer.style_name == layer.id
        assert 0 < layer.checks.margin_m <= 20_000, layer.id
    keys = {lid: d.natural_key for lid, d in defs.items()}
    assert keys["address_points"] == ["address_code"]
    assert keys["fire_hydrants"] == ["hydrant_code"]
    assert keys["admin_units"] == ["code"]
    assert defs["construction_plan_zones"].time_field == "decision_date"


def test_aliases_are_unambiguous(defs):
    """Under the loader's matching (case, accents, _ ignored) no source name may mean two
    fields of one layer."""
    for layer in defs.values():
        seen: dict[str, str] = {}
        for f in layer.fields:
            for name in dict.fromkeys(_key(a) for a in (f.name, *f.aliases)):
                assert seen.setdefault(name, f.name) == f.name, \
                    f"{layer.id}: {name!r} names both {seen[name]} and {f.name}"


def test_common_vietnamese_aliases(defs):
    def keys(lid, field):
        return {_key(a) for a in defs[lid].field[field].aliases}

    assert {"soto", "shbando"} <= keys("cadastral_parcels", "sheet_no")
    assert {"sothua", "shthua"} <= keys("cadastral_parcels", "parcel_no")
    assert {"dientich", "dtpl"} <= keys("cadastral_parcels", "legal_area")
    assert {"mucdich", "khmdsd", "loaidat"} <= keys("cadastral_parcels", "land_use_code")
    assert "tenduong" in keys("roads", "name")
    assert {"duongkinh", "dk"} <= keys("water_pipes", "diameter")
    assert "vatlieu" in keys("water_pipes", "material")
    assert "namxd" in keys("drainage_lines", "year_built")
    assert "chieudai" in keys("power_lines", "length")


def test_source_defaults(defs):
    for lid, layer in defs.items():
        expected = "vn2000-utm48" if lid == "land_use_plan_zones" else "vn2000-cantho"
        assert layer.source.crs == expected, lid
    src = defs["address_points"].source
    assert (src.format, src.crs, src.axis_order, src.x_field, src.y_field) == \
        ("CSV", "vn2000-cantho", "yx", "X", "Y")
    for name in ("X", "Y"):  # coordinate columns become the geometry, not fields
        assert name.lower() not in defs["address_points"].field
    for name in ("old_ward_name", "ward_name", "street_name", "house_number"):
        assert name in defs["address_points"].field
    for name in ("old_names", "old_codes", "old_district"):
        assert name in defs["admin_units"].field


def test_source_crs_defaults_resolve(defs):
    from gis.crs.source import resolve_crs

    for crs in {d.source.crs for d in defs.values() if d.source.crs}:
        resolve_crs(crs)


def test_readme_documents_every_layer_and_its_example_parses(all_defs, tmp_path):
    text = (LAYERS / "README.md").read_text(encoding="utf-8")
    for lid in all_defs:
        assert f"`{lid}`" in text, f"README does not list {lid}"
    for key in ("personal", "aliases", "restricted", "internal", "axis_order", "x_field",
                "margin_m", "min_zoom", "style", "Decree 13/2023"):
        assert key in text
    example = re.search(r"```yaml\n(# Public benches.*?)```", text, re.S).group(1)
    (tmp_path / "benches.yaml").write_text(example, encoding="utf-8")
    layer = parse_layer_file(tmp_path / "benches.yaml")
    assert layer.id == "benches" and layer.natural_key == ["bench_code"]


# -- malformed definitions ------------------------------------------------------------------
GOOD = """\
# A small valid layer used to build broken ones.
id: {id}
title:
  vi: Thử nghiệm
  en: Test
description:
  vi: Lớp thử nghiệm dùng để tạo các định nghĩa lỗi.
  en: A test layer broken ones are made from.
domain: land
owner: {{vi: Sở Xây dựng, en: Department of Construction}}
owner_code: sxd
keywords: [thử nghiệm, test]
metadata:
  topic: planningCadastre
  update_frequency: asNeeded
  contact:
    name: {{vi: Phòng Hạ tầng kỹ thuật, en: Technical Infrastructure Division}}
    email: sxd@cantho.gov.vn
    phone: "+84 292 3820 000"
  lineage:
    vi: Tạo bằng tay cho bộ kiểm thử.
    en: Written by hand for the test suite.
geometry: Point
natural_key: [code]
fields:
  - name: code
    label: {{vi: Mã, en: Code}}
    required: true
  - name: note
    label: {{vi: Ghi chú, en: Note}}
source:
  crs: vn2000-cantho
"""


def _write(tmp_path, text: str, name: str = "demo") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, marker: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, f"marker {marker!r} must be on exactly one line"
    return lines[0]


def _error(path: Path) -> str:
    with pytest.raises(LayerDefinitionError) as exc:
        parse_layer_file(path)
    return str(exc.value)


def test_good_base_is_valid(tmp_path):
    assert parse_layer_file(_write(tmp_path, GOOD.format(id="demo"))).id == "demo"


BROKEN = {
    # case: (transform of the good text, marker of the offending line, words of the message)
    "yaml_syntax": (lambda t: t.replace("    label: {vi: Ghi chú", "     label: {vi: Ghi chú"),
                    "label: {vi: Ghi chú", ["invalid YAML"]),
    "unknown_key": (lambda t: t.replace("geometry: Point", "geometry: Point\ncolour: red"),
                    "colour: red", ["colour", "Extra inputs are not permitted"]),
    "wrong_domain": (lambda t: t.replace("domain: land", "domain: traffic"),
                     "domain: traffic", ["domain", "Input should be"]),
    "missing_label": (lambda t: t.replace("    label: {vi: Ghi chú, en: Note}\n", ""),
                      "- name: note", ["fields.1.label", "Field required"]),
    "bad_field_name": (lambda t: t.replace("- name: note", "- name: Ghi-Chu"),
                       "- name: Ghi-Chu", ["fields.1.name", "lower_snake_case"]),
    "restricted_without_departments": (
        lambda t: t.replace("geometry: Point", "access:\n  level: restricted\ngeometry: Point"),
        "access:", ["access", "departments"]),
    "id_not_file_name": (lambda t: t.replace("id: demo", "id: other_name"),
                         "id: other_name", ["other_name", "file name", "demo"]),
    # catalogue metadata (item 1 of issue 19): required, and every value checked
    "missing_metadata": (lambda t: _drop_block(t, "metadata:"), "id: demo",
                         ["metadata", "Field required"]),
    "missing_description": (lambda t: _drop_block(t, "description:"), "id: demo",
                            ["description", "Field required"]),
    "missing_keywords": (lambda t: t.replace("keywords: [thử nghiệm, test]\n", ""),
                         "id: demo", ["keywords", "Field required"]),
    "empty_keywords": (lambda t: t.replace("[thử nghiệm, test]", "[]"), "keywords: []",
                       ["keywords", "at least 1 item"]),
    "blank_keyword": (lambda t: t.replace("[thử nghiệm, test]", '[thử nghiệm, ""]'),
                      "keywords: [thử nghiệm", ["keywords.1", "at least 1 character"]),
    "unknown_topic": (lambda t: t.replace("topic: planningCadastre", "topic: cadastre"),
                      "topic: cadastre", ["metadata.topic", "planningCadastre"]),
    "unknown_frequency": (lambda t: t.replace("update_frequency: asNeeded",
                                              "update_frequency: sometimes"),
                          "update_frequency: sometimes",
                          ["metadata.update_frequency", "irregular"]),
    "bad_email": (lambda t: t.replace("email: sxd@cantho.gov.vn", "email: sxd@cantho"),
                  "email: sxd@cantho", ["metadata.contact.email", "not a valid email"]),
    "bad_phone": (lambda t: t.replace('"+84 292 3820 000"', "gọi Sở"), "phone: gọi Sở",
                  ["metadata.contact.phone", "pattern"]),
    "missing_contact": (lambda t: _drop_block(t, "  contact:"), "metadata:",
                        ["metadata.contact", "Field required"]),
    "lineage_english_missing": (lambda t: t.replace(
        "    en: Written by hand for the test suite.\n", ""), "  lineage:",
        ["metadata.lineage.en", "Field required"]),
    "lineage_empty": (lambda t: t.replace("vi: Tạo bằng tay cho bộ kiểm thử.", 'vi: ""'),
                      'vi: ""', ["metadata.lineage.vi", "at least 1 character"]),
    "metadata_typo": (lambda t: t.replace("update_frequency:", "frequency:"), "  frequency:",
                      ["metadata.frequency", "Extra inputs"]),
    "catalogue_id_reserved": (lambda t: t.replace("id: demo", "id: catalog"), "id: catalog",
                              ["id", "reserved", "catalogue"]),
}


def _drop_block(text: str, head: str) -> str:
    """``text`` without the line starting with ``head`` and the more indented lines under it."""
    lines = text.splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if line.startswith(head))
    indent = len(head) - len(head.lstrip())
    j = i + 1
    while j < len(lines) and len(lines[j]) - len(lines[j].lstrip()) > indent:
        j += 1
    return "".join(lines[:i] + lines[j:])


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_definition_names_file_line_and_problem(tmp_path, case):
    transform, marker, words = BROKEN[case]
    text = transform(GOOD.format(id="demo"))
    path = _write(tmp_path, text)
    message = _error(path)
    assert f"{path}:{_line_of(text, marker)}:" in message, message
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"


# Cross-field checks (LayerDef._consistent, a model validator) are reported with the file and
# the problem, but pydantic gives model-level errors no location, so gis/layerdef.py reports
# them at line 1 "(top level)". The line tests below say what should be reported; they are
CROSS = {
    "duplicate_field": (lambda t: t.replace("  - name: note", "  - name: code"),
                        ["duplicate field names: code"], "- name: code"),
    "natural_key_not_in_fields": (lambda t: t.replace("natural_key: [code]",
                                                      "natural_key: [code, sheet]"),
                                  ["natural_key", "'sheet'", "not among the fields"],
                                  "natural_key:"),
    "time_field_not_in_fields": (lambda t: t.replace("natural_key: [code]",
                                                     "natural_key: [code]\ntime_field: day"),
                                 ["time_field", "'day'"], "time_field: day"),
}


@pytest.mark.parametrize("case", sorted(CROSS))
def test_cross_field_errors_name_file_and_problem(tmp_path, case):
    transform, words, _ = CROSS[case]
    path = _write(tmp_path, transform(GOOD.format(id="demo")))
    message = _error(path)
    assert str(path) in message
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"


@pytest.mark.parametrize("case", sorted(CROSS))
def test_cross_field_errors_point_to_offending_line(tmp_path, case):
    transform, _, marker = CROSS[case]
    text = transform(GOOD.format(id="demo"))
    if case == "duplicate_field":  # the second occurrence is the offending one
        line = [i for i, s in enumerate(text.splitlines(), 1) if marker in s][-1]
    else:
        line = _line_of(text, marker)
    assert f"{_write(tmp_path, text)}:{line}:" in _error(tmp_path / "demo.yaml")


def test_load_layer_defs_reports_every_bad_file(tmp_path):
    good = GOOD.format(id="good")
    _write(tmp_path, good, "good")
    _write(tmp_path, good.replace("id: good", "id: bad_one").replace("domain: land",
                                                                     "domain: x"), "bad_one")
    _write(tmp_path, "id: [unclosed\n", "bad_two")
    with pytest.raises(LayerDefinitionError) as exc:
        load_layer_defs(tmp_path)
    message = str(exc.value)
    assert "bad_one.yaml:9:" in message and "bad_two.yaml" in message
    assert "good.yaml" not in message


def test_not_utf8_is_refused(tmp_path):
    path = tmp_path / "demo.yaml"
    # TCVN3 bytes ("Thµnh phè CÇn Th¬"), as legacy tools wrote them
    path.write_bytes(b"id: demo\ntitle:\n  vi: Th\xb5nh ph\xe8 C\xc7n Th\xac\n")
    assert "UTF-8" in _error(path)


# -- code lists -----------------------------------------------------------------------------
TT08_CODES = ("LUC LUK HNK CLN RSX RPH RDD NTS CNT LMU NKH ONT ODT TSC CQP CAN DGD DYT DVH TMD "
              "SKC SKK DGT DTL DNL TON NTD SON MNC PNK BCS DCS").split()


def test_land_use_holds_the_tt08_2024_codes_with_groups():
    for code in TT08_CODES:
        entry = LAND_USE[code]
        assert codelists.TT08_2024 in entry.versions, code
        assert entry.vi.strip() and entry.en.strip() and VI_LETTERS.search(entry.vi), code
    groups = {"LUC": "agricultural", "CNT": "agricultural", "NTS": "agricultural",
              "ODT": "non_agricultural", "DGT": "non_agricultural", "SON": "non_agricultural",
              "BCS": "unused", "DCS": "unused"}
    for code, group in groups.items():
        assert LAND_USE[code].group == group
    for entry in LAND_USE:
        assert entry.group in ("agricultural", "non_agricultural", "unused"), entry.code
        assert entry.versions and set(entry.versions) <= set(codelists.LAND_USE_VERSIONS)
        assert re.fullmatch(r"#[0-9A-F]{6}", entry.color or ""), entry.code
        assert entry.parent is None or entry.parent in LAND_USE, entry.code
    assert LAND_USE["CNT"].versions == ("TT08/2024",)  # new in 2024


def test_land_use_colours_follow_the_map_convention():
    assert LAND_USE["LUC"].color == "#FFFC8C"
    assert LAND_USE["ODT"].color == "#FFA0FF"
    assert LAND_USE["ONT"].color == "#FFD0FF"
    assert LAND_USE["CLN"].color == "#FFD2A0"
    assert LAND_USE["RSX"].color == "#B4FFB4"
    assert LAND_USE["NTS"].color == "#AAFFFF"
    assert LAND_USE["SON"].color == "#A0FFFF"
    assert LAND_USE["DGT"].color == "#FFAA32"


def test_lookup_real_codes_case_and_space_insensitive():
    assert lookup("land_use", "ODT").en == "Urban residential land"
    assert lookup("land_use", " odt ").code == "ODT"
    assert lookup("land_use", "Luc\t").vi == "Đất chuyên trồng lúa"
    nfd = unicodedata.normalize("NFD", "Đất ở tại nông thôn")
    assert lookup("land_use", nfd).code == "ONT"  # by name, NFD text
    assert lookup(LAND_USE, "cnt").version == "TT08/2024"
    assert lookup("ward_type", "Phường").code == "phuong"
    assert lookup("ward_type", "XÃ").code == "xa"
    assert lookup("plan_level", "1/500").code == "chi_tiet"


def test_lookup_old_codes_keep_their_version():
    bhk = lookup("land_use", "bhk")
    assert bhk.code == "BHK" and bhk.versions == ("TT27/2018", "TT28/2014")
    assert bhk.version == "TT27/2018" and "TT08/2024" not in bhk.versions
    for code in ("LUN", "NHK", "RST", "DDT", "DTS"):
        assert lookup("land_use", code).versions == ("TT27/2018", "TT28/2014"), code
    assert "TT28/2014" in lookup("land_use", "LUA").versions


def test_lookup_invalid_codes():
    for value in ("XYZ", "", "   ", None, float("nan"), "LU C", "ODT+", "ODTX"):
        assert lookup("land_use", value) is None, value
    with pytest.raises(KeyError, match="unknown code list"):
        lookup("no_such_list", "ODT")
    with pytest.raises(KeyError):
        LAND_USE["XYZ"]


def test_validate_is_vectorised_and_reports_versions_and_invalid_values():
    values = ["LUC", " odt", "BHK", "LUN", "xyz", None, "", float("nan"), "ONT+CLN", "xyz",
              "BHK+CNT", "Q9"]
    codes, versions, invalid = validate("land_use", values)
    assert codes == ["LUC", "ODT", "BHK", "LUN", None, None, None, None, "ONT+CLN", None, None,
                     None]
    assert versions == ["TT08/2024", "TT08/2024", "TT27/2018", "TT27/2018", None, None, None,
                        None, "TT08/2024", None, None, None]
    assert invalid == ["xyz", "BHK+CNT", "Q9"]  # distinct, as given; BHK+CNT mixes versions


def test_validate_keeps_a_pandas_index():
    series = pd.Series(["luk", pd.NA, "NHK"], index=[10, 11, 12], dtype="string")
    result = validate("land_use", series)
    assert list(result.codes.index) == [10, 11, 12]
    assert result.codes.tolist() == ["LUK", None, "NHK"]
    assert result.versions.tolist() == ["TT08/2024", None, "TT27/2018"]
    assert result.invalid == []


def test_validate_unversioned_list():
    codes, versions, invalid = validate("ward_type", ["Phường", "xa", "Đặc khu", "Quận"])
    assert codes == ["phuong", "xa", "dac_khu", None]
    assert versions == [None, None, None, None]
    assert invalid == ["Quận"]  # districts no longer exist


def test_codelists_registry():
    assert set(CODELISTS) >= {"land_use", "ward_type", "plan_level", "flood_depth_class"}
    for name, cl in CODELISTS.items():
        assert cl.name == name and len(cl) > 0
        assert len({e.code for e in cl}) == len(cl)
    assert len(codelists.WARD_TYPES) == 3


# -- the map, search and planning keys: refused at their line ------------------------------
LAYER_KEYS = {
    "style_property_unknown": ("style:\n  property: colour\n", "property: colour",
                               ["style.property", "'colour'", "not among the fields"]),
    "style_property_not_tiled": ("tiles: {fields: [code]}\nstyle:\n  property: note\n",
                                 "property: note", ["style.property", "tiles.fields"]),
    "tiles_full_zoom_outside": ("tiles: {min_zoom: 12, max_zoom: 20, full_zoom: 8}\n",
                                "tiles:", ["tiles.full_zoom 8", "min_zoom 12"]),
    "tiles_budget_zero": ("tiles: {full_zoom: 14, max_features: 0}\n", "tiles:",
                          ["tiles.max_features", "greater than or equal to 1"]),
    "label_field_unknown": ("style:\n  label: {field: name}\n", "label: {field: name}",
                            ["style.label.field", "'name'"]),
    "bad_class_colour": ("style:\n  property: note\n  classes:\n    - {values: [a], "
                         "color: red, label: {vi: A, en: A}}\n", "color: red",
                         ["style.classes.0.color", "colour 'red'"]),
    "unknown_codelist": ("style:\n  property: note\n  classes_from: colours\n",
                         "classes_from: colours", ["unknown code list 'colours'"]),
    "search_field_unknown": ("search: {fields: [code, address]}\n", "search:",
                             ["search.fields", "'address'"]),
    "overlap_without_section": ("planning: {role: overlap}\n", "planning:",
                                ["planning", "section and a title"]),
    "raster_role_on_vector": ("planning: {role: flood_depth}\n", "planning:",
                              ["raster layers"]),
    "map_typo": ("map: {visble: true}\n", "visble", ["map.visble", "Extra inputs"]),
    "submission_field_unknown": (
        "submissions:\n  kinds:\n    - kind: k\n      title: {vi: K, en: K}\n"
        "      fields: [note, colour]\n", "fields: [note, colour]",
        ["submissions.fields", "'colour'"]),
    "submission_required_not_listed": (
        "submissions:\n  kinds:\n    - kind: k\n      title: {vi: K, en: K}\n"
        "      fields: [note]\n      required: [code]\n", "- kind: k",
        ["required ['code']", "listed in fields"]),
    "submission_kind_name": (
        "submissions:\n  kinds:\n    - kind: Bad Kind\n      title: {vi: K, en: K}\n",
        "- kind: Bad", ["lower_snake_case"]),
    "submission_photo_typo": (
        "submissions:\n  kinds:\n    - kind: k\n      title: {vi: K, en: K}\n"
        "      photos: true\n", "photos:", ["photos", "Extra inputs"]),
}


@pytest.mark.parametrize("case", sorted(LAYER_KEYS))
def test_map_search_and_planning_keys_are_checked_at_their_line(tmp_path, case):
    extra, marker, words = LAYER_KEYS[case]
    text = GOOD.format(id="demo") + extra
    message = _error(_write(tmp_path, text))
    if case not in ("raster_role_on_vector", "submission_required_not_listed"):
        # a model-level problem is reported at the top
        assert f"{tmp_path / 'demo.yaml'}:{_line_of(text, marker)}:" in message, message
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"


def test_one_layer_per_single_role(tmp_path):
    for name in ("one", "two"):
        _write(tmp_path, GOOD.format(id=name) + "planning: {role: parcels}\n", name)
    with pytest.raises(LayerDefinitionError) as exc:
        load_layer_defs(tmp_path)
    assert f"{tmp_path / 'two.yaml'}:" in str(exc.value) and "'parcels'" in str(exc.value)


SUBMIT = ("submissions:\n  kinds:\n    - kind: k\n      title: {vi: K, en: K}\n"
          "      fields: [note]\n")


@pytest.mark.parametrize("change, words", [
    (("level: public", "level: internal"), ["only a public layer"]),
    (("geometry: Point", "geometry: MultiPolygon"), ["tied to a point"]),
    (("label: {{vi: Ghi chú, en: Note}}", "label: {{vi: Ghi chú, en: Note}}\n    personal: true"),
     ["personal data"]),
])
def test_submissions_only_on_public_point_layers_without_personal_fields(tmp_path, change,
                                                                          words):
    text = (GOOD.replace("owner_code: sxd", "owner_code: sxd\naccess: {{level: public}}")
            .replace(*change).format(id="demo") + SUBMIT)
    message = _error(_write(tmp_path, text))
    for word in words:
        assert word in message, message


def test_shipped_submission_kinds():
    defs = load_layer_defs(ROOT / "layers")
    kinds = {k.kind: (lid, k) for lid, d in defs.items()
             if getattr(d, "submissions", None) for k in d.submissions.kinds}
    assert {"flood_observation", "missing_light", "address_correction"} <= set(kinds)
    lid, flood = kinds["flood_observation"]
    assert lid == "flood_observations" and flood.required == ["depth_cm", "observed_at"]
    assert defs[lid].field["observed_at"].type == "datetime" and flood.photo

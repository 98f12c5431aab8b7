"""Delivery profiles as definitions: the expression language is small, safe and bounded; a
profile that names a wrong field, an invalid constant or a value map to an unknown code is
refused with the file and the line, like every other definition error. No database."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from gis.layerdef import LayerDefinitionError, get_layer_def, parse_layer_file
from gis.layerdef.expression import (
    MAX_DEPTH,
    MAX_LENGTH,
    EvaluationError,
    ExpressionError,
    parse_expression,
)
from gis.loader.fieldmatch import best_matches
from gis.loader.load import LoadOptions, _pick, with_key_rule
from gis.loader.schema import SchemaError, map_fields
from tests.conftest import ROOT

TYPE = ('"phuong" if startswith(TEN, "Phường", "P.") else "xa" if startswith(TEN, "Xã") '
        'else None')


@pytest.mark.parametrize(("text", "row", "expected"), [
    (TYPE, {"TEN": "Phường An Bình"}, "phuong"),
    (TYPE, {"TEN": "  P. Cái Khế"}, "phuong"),
    (TYPE, {"TEN": "Xã Mỹ Khánh"}, "xa"),
    (TYPE, {"TEN": "Thị trấn Một Ngàn"}, None),
    (TYPE, {"TEN": None}, None),
    # NFD input (macOS) compares equal to the NFC text of the expression
    (TYPE, {"TEN": "Phu\u031bo\u031b\u0300ng An Bình"}, "phuong"),
    ('removeprefix(TEN, "Phường")', {"TEN": "Phường An Bình"}, "An Bình"),
    ('concat(SoNha, " ", TenDuong)', {"SoNha": 12, "TenDuong": "Trần Hưng Đạo"},
     "12 Trần Hưng Đạo"),
    ('concat(SoNha, " ", TenDuong)', {"SoNha": None, "TenDuong": "Trần Hưng Đạo"},
     " Trần Hưng Đạo"),
    ('SoNha + "/" + Hem', {"SoNha": "12", "Hem": "3"}, "12/3"),
    ("int(SO_TO) * 1000 + int(SO_THUA)", {"SO_TO": "12", "SO_THUA": 7.0}, 12007),
    ('number(DT) / 10000', {"DT": "1234,5"}, 0.12345),
    ('"lớn" if number(DT) >= 1000 else "nhỏ"', {"DT": "999"}, "nhỏ"),
    ('LOAI in ("P", "Phường")', {"LOAI": "P"}, True),
    ('not endswith(TEN, "cũ") and contains(TEN, "Ninh")', {"TEN": "Ninh Kiều"}, True),
    ('field("Tên đường")', {"Tên đường": "Lê Lợi"}, "Lê Lợi"),
    ('coalesce(A, B, "?")', {"A": "", "B": None}, "?"),
    ('upper(strip(A))', {"A": "  ab "}, "AB"),
])
def test_expressions_compute_what_they_say(text, row, expected):
    assert parse_expression(text)(row) == expected


def test_expressions_name_the_fields_they_read():
    assert parse_expression(TYPE).fields == ("TEN",)
    assert parse_expression('concat(A, field("B c"), A)').fields == ("A", "B c")


@pytest.mark.parametrize(("text", "message"), [
    ('__import__("os").system("true")', "no methods"),
    ('__import__("os")', "unknown function __import__()"),
    ('TEN.startswith("P")', "no methods"),
    ("TEN[0]", "indexing"),
    ("(lambda: 1)()", "no methods"),
    ("[x for x in TEN]", "comprehension"),
    ("open('/etc/passwd')", "unknown function open()"),
    ("eval('1')", "unknown function eval()"),
    ('startswith(TEN)', "startswith() takes 2 to 20 arguments, not 1"),
    ('int(A, base=2)', "keyword arguments"),
    ('A ** 2', "not allowed"),
    ('A if B', "not a valid expression"),
    ('f"{A}"', "f-string"),
    ("x := 1", "not a valid expression"),
    ("startswith", "is a function"),
    ("", "empty"),
    ("1 +" + " 1 +" * 400 + " 1", "longer than"),
    ("(" * 30 + "A" + ")" * 30 + " + 1" + " + 1" * 30, "nested"),
    ("not " * 40 + "A", "nested"),
])
def test_anything_outside_the_language_is_refused(text, message):
    with pytest.raises(ExpressionError) as exc:
        parse_expression(text)
    assert message in str(exc.value)


def test_limits_are_bounded():
    assert MAX_LENGTH <= 1000 and MAX_DEPTH <= 32
    # a hostile nesting far past Python's own parser limits is refused, not a crash
    with pytest.raises(ExpressionError):
        parse_expression("(" * 5000 + "A" + ")" * 5000)


@pytest.mark.parametrize(("text", "row", "message"), [
    ("int(A)", {"A": "12a"}, "int('12a'): not a number"),
    ("int(A)", {"A": "1.5"}, "not a whole number"),
    ("number(A) / number(B)", {"A": "1", "B": "0"}, "division by zero"),
    ("number(A) * 10", {"A": 1e308}, "the result is too large"),
    ("int(A)", {"A": "1e300"}, "int('1e300'): too large"),
])
def test_values_the_expression_cannot_use_are_errors(text, row, message):
    with pytest.raises(EvaluationError, match=re.escape(message)):
        parse_expression(text)(row)


# -- profiles in layer files -----------------------------------------------------------------
@pytest.fixture
def layers(tmp_path) -> Path:
    folder = tmp_path / "layers"
    shutil.copytree(ROOT / "layers", folder)
    return folder


def with_profile(folder: Path, profile: dict, name: str = "p") -> Path:
    path = folder / "admin_units.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["sources"] = {name: profile}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def line_of(path: Path, startswith: str) -> int:
    """The line of the first key starting so, under `sources:`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("sources:")
    return next(n for n, t in enumerate(lines, 1) if n > start and
                t.strip().startswith(startswith))


@pytest.mark.parametrize(("profile", "key_line", "message"), [
    ({"derived": {"unit_type": 'TEN.startswith("P")'}}, "unit_type:",
     "sources.p.derived.unit_type: derived expression: only the functions"),
    ({"derived": {"unit_type": '"xa" if'}}, "unit_type:",
     "derived expression: not a valid expression"),
    ({"field_map": {"TENPHUONG": "ward"}}, "TENPHUONG:",
     "sources.p.field_map field 'ward' is not among the fields"),
    ({"constants": {"province_code": "925"}}, "province_code:",
     "constant of province_code: '925' is longer than the field's max_length 2"),
    ({"constants": {"population": "nhiều"}}, "population:",
     "constant of population: 'nhiều' is not a integer"),
    ({"constants": {"unit_type": "thi_tran"}}, "unit_type:",
     "constant of unit_type: 'thi_tran' is not a code of the code list 'ward_type'"),
    ({"value_maps": {"unit_type": {"P": "phuong", "TT": "thi_tran"}}}, "TT:",
     "sources.p.value_maps.unit_type.TT: value map of unit_type: 'TT' -> 'thi_tran' is not "
     "a code"),
    ({"derived": {"unit_type": '"xa"'}, "constants": {"unit_type": "xa"}}, "unit_type:",
     "is both derived and a constant"),
    ({"crs_overrides_file": "maybe"}, "crs_overrides_file:", "valid boolean"),
    ({"keys": {"merge_segments_by": ["code"]}}, "merge_segments_by:",
     "merge_segments_by is for line layers"),
    ({"keys": {"match_fields": ["nothing"]}}, "- nothing",
     "sources.p.keys.match_fields field 'nothing' is not among the fields"),
    ({"unknown_key": 1}, "unknown_key:", "Extra inputs are not permitted"),
    ({"encoding": "windows-vn"}, "encoding:", "unknown text encoding 'windows-vn'"),
    ({"crs": "vn2000-cantto"}, "crs:", "Did you mean vn2000-cantho"),
])
def test_profile_mistakes_are_refused_with_file_and_line(layers, profile, key_line, message):
    path = with_profile(layers, profile)
    with pytest.raises(LayerDefinitionError) as exc:
        parse_layer_file(path)
    text = str(exc.value)
    assert message in text, text
    if "merge_segments_by is for" not in message:  # whole-model checks carry no location
        assert f"{path}:{line_of(path, key_line)}:" in text, text


def test_profile_names_are_lower_snake_case(layers):
    path = with_profile(layers, {"crs": "vn2000-cantho"}, name="Sở Nội vụ")
    with pytest.raises(LayerDefinitionError, match="must be lower_snake_case"):
        parse_layer_file(path)


def test_value_map_keys_are_text_and_targets_may_be_code_names(layers):
    path = with_profile(layers, {"value_maps": {"unit_type": {1: "Phường", 2: "xa"}}})
    layer = parse_layer_file(path)
    assert layer.sources["p"].value_maps == {"unit_type": {"1": "Phường", "2": "xa"}}


def test_shipped_profiles_parse():
    layer = get_layer_def("admin_units", ROOT / "layers")
    p = layer.sources["snv_mapinfo"]
    assert p.crs == "vn2000-cantho" and p.crs_overrides_file
    assert p.expression("unit_type")({"TEN": "Xã Mỹ Khánh"}) == "xa"
    assert p.expression("name")({"TEN": "Xã Mỹ Khánh"}) == "Mỹ Khánh"


def test_precedence_command_line_then_profile_then_layer(layers):
    path = with_profile(layers, {"encoding": "tcvn3", "layer": "xa", "field_map": {"MA": "code"},
                                 "keys": {"generated": "allow"}})
    layer = parse_layer_file(path)
    profile = layer.sources["p"]
    pick = _pick(LoadOptions(), profile, layer)
    assert pick("encoding") == "tcvn3" and pick("source_layer", "layer") == "xa"
    assert pick("axis_order") == "auto"  # the layer's own default
    pick = _pick(LoadOptions(encoding="vni", source_layer="phuong"), profile, layer)
    assert pick("encoding") == "vni" and pick("source_layer", "layer") == "phuong"
    # --map wins over the profile's field map, which wins over aliases
    m = map_fields(["MA", "MaDVHC", "Ten", "Loai"], layer, None, "f.tab", profile=profile,
                   profile_name="p")
    assert m.to_layer["MA"] == "code" and m.how["MA"] == "profile p"
    assert "MaDVHC" in m.extra
    m = map_fields(["MA", "MaDVHC", "Ten", "Loai"], layer, {"MaDVHC": "code"}, "f.tab",
                   profile=profile, profile_name="p")
    assert m.to_layer["MaDVHC"] == "code" and m.how["MaDVHC"] == "--map"
    # the profile's key rule is the layer's for its deliveries
    assert with_key_rule(layer, profile.keys).keys.generated == "allow"
    assert layer.keys.generated == "off"


def test_a_derived_field_reading_a_missing_source_field_is_refused(layers):
    path = with_profile(layers, {"derived": {"unit_type": 'lower(LOAI_DV)'}})
    layer = parse_layer_file(path)
    with pytest.raises(SchemaError, match="reads the source field 'LOAI_DV', which this "
                                          "delivery lacks"):
        map_fields(["MA", "Ten"], layer, None, "f.tab", profile=layer.sources["p"],
                   profile_name="p")


@pytest.mark.parametrize(("source", "samples", "expected"), [
    ("PHUONG", ["Ninh Kiều", "Cái Khế"], "ward_name"),
    ("PHUONG_CU", None, "old_ward_name"),
    ("SO_NHA", None, "house_number"),
    ("Tên đường", None, "street_name"),
    ("HUYEN", None, "old_district"),
])
def test_fuzzy_matches_of_source_field_names(source, samples, expected):
    layer = get_layer_def("address_points", ROOT / "layers")
    assert best_matches(source, layer, samples)[0].field == expected


def test_no_match_for_what_is_no_field():
    layer = get_layer_def("address_points", ROOT / "layers")
    assert best_matches("GHI_CHU", layer) == []
    assert best_matches("OBJECTID", layer) == []


def test_the_readme_example_profile_parses(layers):
    text = (ROOT / "layers" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(sources:\n  snv_mapinfo:.*?)```", text, re.S).group(1)
    profile = yaml.safe_load(block)["sources"]["snv_mapinfo"]
    layer = parse_layer_file(with_profile(layers, profile, "snv_mapinfo"))
    p = layer.sources["snv_mapinfo"]
    assert p.value_maps == {"unit_type": {"1": "phuong", "2": "xa"}}
    assert p.keys.generated == "allow" and p.drop == ["OBJECTID"]
    assert p.expression("unit_type")({"TEN": "Phường Tân An"}) == "phuong"


def test_profile_mappings_a_delivery_does_not_use_are_reported(layers):
    layer = parse_layer_file(with_profile(layers, {"field_map": {"MA": "code", "TEN": "name"},
                                                   "drop": ["objectid"]}))
    m = map_fields(["MaDVHC", "TEN", "Loai", "OBJECTID", "X"], layer, None, "f.tab",
                   ignore=("X",), profile=layer.sources["p"], profile_name="p")
    assert m.absent == {"MA": "code"}  # said in the summary, not silently skipped
    assert m.to_layer == {"TEN": "name", "MaDVHC": "code", "Loai": "unit_type"}
    assert m.dropped == ["OBJECTID"] and m.coordinates == ["X"] and m.extra == []


def test_profile_list_names_the_shipped_profiles():
    from tests.conftest import run_gis

    proc = run_gis("profile", "list", env={"COLUMNS": "400"})
    assert proc.returncode == 0, proc.stderr
    row = next(x for x in proc.stdout.splitlines() if "snv_mapinfo" in x)
    assert "admin_units" in row and "vn2000-cantho (replaces the file's)" in row
    assert "MA→code" in row and "unit_type, name" in row and "province_code" in row
    only = run_gis("profile", "list", "--layer", "address_points", env={"COLUMNS": "400"})
    assert "skhcn_monthly" in only.stdout and "snv_mapinfo" not in only.stdout


def test_missing_required_fields_name_the_source_field_that_looks_like_them():
    layer = get_layer_def("admin_units", ROOT / "layers")
    with pytest.raises(SchemaError) as exc:
        map_fields(["MA", "TEN_DV", "LOAI_DV", "GHICHU"], layer, None, "x.tab")
    text = str(exc.value)
    assert "perhaps --map MA=code" in text and "perhaps --map TEN_DV=name" in text
    assert "perhaps --map LOAI_DV=unit_type" in text and "GHICHU=" not in text


def test_random_expressions_never_escape_the_two_errors():
    """A bounded sweep of random token soups: each is an expression or an ExpressionError,
    and an expression evaluates to a value or an EvaluationError — never anything else."""
    import random

    tokens = ['TEN', 'A', '"Phường"', '"x"', '1', '0', '2.5', 'None', '(', ')', ',', '+', '-',
              '*', '/', '**', '==', '<', 'in', 'not', 'and', 'or', 'if', 'else', 'startswith',
              'int', 'number', 'concat', 'field', 'removeprefix', 'coalesce', '.', '[', ']',
              'lambda', ':', '__import__', 'open', '"', "'", '\\', '\n', '#', '@', '{', '}']
    rng = random.Random(15)
    rows = [{"TEN": "Phường An Bình", "A": "12"}, {"TEN": None, "A": "x"}, {"TEN": 3.0}]
    parsed = 0
    for _ in range(3000):
        text = " ".join(rng.choice(tokens) for _ in range(rng.randint(1, 12)))
        try:
            expr = parse_expression(text)
        except ExpressionError:
            continue
        parsed += 1
        for row in rows:
            try:
                expr(row)
            except EvaluationError:
                pass
    assert parsed > 20  # the sweep reaches evaluation, not only the parser


def test_numbers_no_column_can_hold_are_no_values_not_a_crash():
    import pandas as pd

    from gis.loader.schema import coerce

    layer = get_layer_def("admin_units", ROOT / "layers")
    m = map_fields(["MaDVHC", "Ten", "Loai", "DanSo", "DienTich"], layer, None, "x.tab")
    frame = pd.DataFrame({"MaDVHC": ["31117"] * 4, "Ten": ["a"] * 4, "Loai": ["xa"] * 4,
                          "DanSo": ["inf", "12345678901234567890", "12", "1.5"],
                          "DienTich": ["inf", "-inf", "2,5", "x"]})
    c = coerce(frame, m, layer)
    assert c.frame["population"].tolist()[2] == 12 and c.frame["population"].isna().sum() == 3
    assert c.frame["area_km2"].tolist()[2] == 2.5 and c.frame["area_km2"].isna().sum() == 3
    assert c.warnings == {"population: not a valid integer, set empty": 3,
                          "area_km2: not a valid number, set empty": 3}


def test_the_summary_prints_delivery_names_as_they_are():
    """Field names, file names and values come from deliveries: brackets are text to rich,
    never markup (`[/x]` used to stop the summary, `[m2]` vanished)."""
    import io

    from rich.console import Console

    from gis.loader.load import LoadResult
    from gis.loader.report import print_summary

    r = LoadResult("admin_units", 3, "current", "ranh_gioi[m2].tab", "ab" * 32,
                   {"source_crs": "EPSG:5897", "origin": "profile p"}, None,
                   {"Tên [/x]": {"encoding": "tcvn3", "changed": 2}},
                   rejects=[(4, "code: value '[bold]' is not valid")],
                   fields={"mapped": {"Diện tích [m2]": "area_km2"}, "how": {},
                           "extra": ["[/x]"], "derived": {"name": 'strip(field("[/y]"))'}},
                   profile="p", declared_charset="MapInfo charset [WindowsVietnamese]")
    out = io.StringIO()
    print_summary(Console(file=out, width=300), r)
    text = out.getvalue()
    for shown in ("ranh_gioi[m2].tab", "Diện tích [m2]", "text Tên [/x]", "[/x]",
                  "'[bold]'", 'field("[/y]")', "[WindowsVietnamese]"):
        assert shown in text, shown

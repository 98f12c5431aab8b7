"""Raster layer definitions (kind: raster): the shipped files, the README example and the
refusals of malformed ones (file, line, problem), without a database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gis.layerdef import LayerDefinitionError, RasterLayerDef, load_layer_defs, parse_layer_file

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ROOT / "layers"


@pytest.fixture(scope="module")
def rasters():
    return {k: d for k, d in load_layer_defs(LAYERS).items() if d.kind == "raster"}


def test_shipped_raster_layers(rasters):
    assert set(rasters) == {"flood_depth_100y", "flood_depth_10y", "elevation_dem",
                            "orthophoto"}
    for d in rasters.values():
        assert isinstance(d, RasterLayerDef) and not hasattr(d, "fields")
        assert d.description and d.title.vi != d.title.en
    flood = rasters["flood_depth_100y"]
    assert flood.units == "m" and flood.nodata == -9999 and flood.render == "classes"
    assert [(c.min, c.max) for c in flood.classes] == [(0.0, 0.3), (0.3, 0.5), (0.5, 1.0),
                                                       (1.0, None)]
    assert all(c.label.vi and c.label.en for c in flood.classes)
    assert flood.zonal_thresholds == [0.0, 0.3, 0.5, 1.0]
    assert rasters["flood_depth_10y"].classes == flood.classes
    assert rasters["elevation_dem"].render == "ramp"
    ortho = rasters["orthophoto"]
    assert ortho.render == "rgb" and ortho.bands == 3
    assert ortho.access.level == "restricted" and "snnmt" in ortho.access.departments


def test_readme_raster_example_parses(tmp_path):
    text = (LAYERS / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(# Flood depth, 100-year.*?)```", text, re.S).group(1)
    (tmp_path / "flood_depth_100y.yaml").write_text(example, encoding="utf-8")
    layer = parse_layer_file(tmp_path / "flood_depth_100y.yaml")
    assert layer.kind == "raster" and len(layer.classes) == 2


GOOD = """\
id: demo
kind: raster
title: {vi: Thử nghiệm, en: Test}
description: {vi: Lưới độ sâu thử nghiệm., en: A test depth grid.}
domain: environment
owner: {vi: Sở Xây dựng, en: Department of Construction}
owner_code: sxd
keywords: [độ sâu, depth]
metadata:
  topic: inlandWaters
  update_frequency: notPlanned
  contact: {name: {vi: Sở Xây dựng, en: Department of Construction}, email: sxd@cantho.gov.vn}
  lineage: {vi: Tạo bằng tay cho bộ kiểm thử., en: Written by hand for the test suite.}
units: m
value: {vi: Độ sâu, en: Depth}
ramp:
  - {value: 0, color: "#ffffff"}
  - {value: 1, color: "#0000ff"}
"""

BROKEN = {
    "bad_colour": (lambda t: t.replace('"#0000ff"', '"blue"'), 'color: "blue"',
                   ["colour 'blue'"]),
    "unknown_key": (lambda t: t + "palette: x\n", "palette: x", ["palette", "Extra inputs"]),
    "classes_and_ramp": (lambda t: t + "classes:\n  - {min: 0, color: \"#ffffff\", "
                         "label: {vi: Một, en: One}}\n", "id: demo", ["classes or a ramp"]),
    "rgb_with_ramp": (lambda t: t.replace("units: m", "bands: 3\nunits: m"), "id: demo",
                      ["RGB imagery takes no classes or ramp"]),
    "wrong_kind": (lambda t: t.replace("kind: raster", "kind: grid"), "kind: grid",
                   ["kind", "vector"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_raster_definitions_name_file_line_and_problem(tmp_path, case):
    transform, marker, words = BROKEN[case]
    text = transform(GOOD)
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LayerDefinitionError) as exc:
        parse_layer_file(path)
    message = str(exc.value)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if marker in s)
    assert f"{path}:" in message
    if marker != "id: demo":  # model-level problems are reported at the top
        assert f"{path}:{line}:" in message, message
    for word in words:
        assert word in message, message


def test_good_raster_definition(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(GOOD, encoding="utf-8")
    layer = parse_layer_file(path)
    assert layer.render == "ramp" and layer.stored_dtype == "float32"

"""VN-2000 -> WGS 84 through EPSG:6960: the regression points of vn2000.md, both directions."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from gis.crs import from_wgs84, to_wgs84, transform_geometries

GEOD = Geod(ellps="WGS84")
MM = 0.001

# vn2000.md "Regression points" (computed with EPSG:6960): place -> zone -> (E, N); WGS 84.
POINTS = {
    "Ninh Kiều": ({"vn2000-cantho": (585308.926, 1109275.197),
                   "vn2000-soctrang": (530497.564, 1109187.178),
                   "vn2000-utm48": (585283.330, 1108942.381)}, (105.78, 10.03)),
    "Vị Thanh": ({"vn2000-cantho": (551364.357, 1081560.754),
                  "vn2000-soctrang": (496513.312, 1081525.264),
                  "vn2000-utm48": (551348.946, 1081236.253)}, (105.47, 9.78)),
    "Sóc Trăng town": ({"vn2000-cantho": (606275.984, 1061768.143),
                        "vn2000-soctrang": (551391.972, 1061653.388),
                        "vn2000-utm48": (606244.098, 1061449.580)}, (105.97, 9.60)),
}
ZONES = ["vn2000-cantho", "vn2000-soctrang", "vn2000-utm48"]


def _table(zone):
    en = np.array([POINTS[p][0][zone] for p in POINTS])
    ll = np.array([POINTS[p][1] for p in POINTS])
    return en[:, 0], en[:, 1], ll[:, 0], ll[:, 1]


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize("zone", ZONES)
def test_regression_points_to_wgs84_within_1mm(zone):
    e, n, lon, lat = _table(zone)
    out_lon, out_lat = to_wgs84(zone).transform(e, n)
    assert np.max(_metres(out_lon, out_lat, lon, lat)) <= MM


@pytest.mark.parametrize("zone", ZONES)
def test_regression_points_from_wgs84_within_1mm(zone):
    e, n, lon, lat = _table(zone)
    out_e, out_n = from_wgs84(zone).transform(lon, lat)
    assert np.max(np.hypot(out_e - e, out_n - n)) <= MM


@pytest.mark.parametrize("given", [5897, "5897", "EPSG:5897", "epsg:5897", "vn2000-haugiang",
                                   "vn2000-tm3-10500", "VN2000_CANTHO"])
def test_every_spelling_of_tm3_105_gives_the_same_answer(given):
    e, n, lon, lat = _table("vn2000-cantho")
    assert np.max(_metres(*to_wgs84(given).transform(e, n), lon, lat)) <= MM


def test_geographic_vn2000_both_directions():
    e, n, lon, lat = _table("vn2000-cantho")
    # VN-2000 lon/lat of the table points by the pure projection (no datum step involved)
    vlon, vlat = Transformer.from_crs(5897, 4756, always_xy=True).transform(e, n)
    op = to_wgs84("vn2000-geographic")
    assert op.datum.case == "official"
    assert np.max(_metres(*op.transform(vlon, vlat), lon, lat)) <= MM
    back_lon, back_lat = op.inverse.transform(lon, lat)
    assert np.max(_metres(back_lon, back_lat, vlon, vlat)) <= MM


def test_default_proj_is_081_m_off_and_ours_is_not():
    """The reason the explicit pipeline exists: PROJ's default picks EPSG:5194."""
    e, n, lon, lat = _table("vn2000-cantho")
    default = Transformer.from_crs(5897, 4326, always_xy=True)
    off_default = _metres(*default.transform(e, n), lon, lat)
    off_ours = _metres(*to_wgs84(5897).transform(e, n), lon, lat)
    assert np.all((off_default > 0.7) & (off_default < 0.9))
    assert np.max(off_ours) <= MM


def test_operation_is_recorded_for_the_version_table():
    info = to_wgs84("vn2000-soctrang").describe()
    assert info["source_crs"] == "EPSG:9209"
    assert info["operation"].startswith("EPSG:6960")
    assert info["datum_case"] == "official"
    pipe = info["pipeline"]
    assert "+convention=coordinate_frame" in pipe and "+rx=-0.00928836" in pipe
    assert "+lon_0=105.5" in pipe and "+k=0.9999" in pipe
    # The recorded string is a working PROJ pipeline giving the same result.
    e, n, lon, lat = _table("vn2000-soctrang")
    assert np.max(_metres(*Transformer.from_pipeline(pipe).transform(e, n), lon, lat)) <= MM


def test_3d_input_keeps_heights_and_horizontal_result():
    e, n, lon, lat = _table("vn2000-cantho")
    z = np.array([1.25, 2.5, -0.75])  # Hòn Dấu heights are passed through
    op = to_wgs84("vn2000-cantho")
    out_lon, out_lat, out_z = op.transform(e, n, z)
    assert np.max(_metres(out_lon, out_lat, lon, lat)) <= MM
    np.testing.assert_array_equal(out_z, z)
    back = op.inverse.transform(out_lon, out_lat, out_z)
    np.testing.assert_allclose(back[0], e, atol=MM)
    np.testing.assert_array_equal(back[2], z)


def test_vectorised_over_large_2d_arrays_keeps_shape():
    e, n, lon, lat = _table("vn2000-cantho")
    grid_e = np.tile(e, (200, 1))
    out_lon, out_lat = to_wgs84(5897).transform(grid_e, np.tile(n, (200, 1)))
    assert out_lon.shape == (200, 3)
    assert np.max(_metres(out_lon[-1], out_lat[-1], lon, lat)) <= MM


def test_shapely_geometries_2d_and_3d():
    e, n, lon, lat = _table("vn2000-cantho")
    line2d = shapely.linestrings(np.column_stack([e, n]))
    line3d = shapely.linestrings(np.column_stack([e, n, [1.0, 2.0, 3.0]]))
    out = transform_geometries(np.array([line2d, line3d]), to_wgs84("vn2000-cantho"))
    assert not shapely.has_z(out[0]) and shapely.has_z(out[1])
    coords = shapely.get_coordinates(out[1], include_z=True)
    assert np.max(_metres(coords[:, 0], coords[:, 1], lon, lat)) <= MM
    np.testing.assert_array_equal(coords[:, 2], [1.0, 2.0, 3.0])
    back = transform_geometries(out, from_wgs84("vn2000-cantho"))
    np.testing.assert_allclose(shapely.get_coordinates(back[0]), np.column_stack([e, n]),
                               atol=MM)


@pytest.mark.parametrize("code", [32648, 3857])
def test_non_vn2000_codes_use_proj_and_record_the_operation(code):
    op = to_wgs84(code)
    assert op.datum.case == "not_vn2000"
    reference = Transformer.from_crs(code, 4326, always_xy=True)
    x, y = reference.transform(105.78, 10.03, direction="INVERSE")
    out = op.transform(np.array([x]), np.array([y]))
    assert _metres(out[0][0], out[1][0], 105.78, 10.03) <= MM
    info = op.describe()
    assert info["source_crs"] == f"EPSG:{code}"
    assert info["operation"] == reference.description
    assert info["pipeline"].startswith("+proj=")
    assert "helmert" not in info["pipeline"]

"""Areas: VN-2000 plane (cadastral definition) and WGS 84 geodesic, on the real wards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from gis.crs import area_geodesic, area_vn2000, from_wgs84

WARDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "cantho-wards-2025.geojson"


@pytest.fixture(scope="module")
def wards():
    features = json.loads(WARDS.read_text(encoding="utf-8"))["features"]
    return shapely.from_geojson([json.dumps(f["geometry"]) for f in features])


def test_city_area_in_tm3_105_matches_the_data_readme(wards):
    total_km2 = area_vn2000(wards).sum() / 1e6
    assert total_km2 == pytest.approx(6352, rel=5e-4)  # README: ≈ 6 352 km² in TM-3 105°00'


def test_plane_to_ellipsoid_ratio_follows_the_tm3_scale_factor(wards):
    plane, geodesic = area_vn2000(wards), area_geodesic(wards)
    e, _ = from_wgs84("vn2000-cantho").transform(*shapely.get_coordinates(
        shapely.centroid(wards)).T)
    d = e - 500_000  # distance from the central meridian
    expected = (0.9999 * (1 + d**2 / (2 * 6_378_000.0**2))) ** 2
    np.testing.assert_allclose(plane / geodesic, expected, atol=5e-5)


def test_geodesic_area_agrees_with_pyproj_per_geometry(wards):
    geod = Geod(ellps="WGS84")
    ours = area_geodesic(wards[:10])
    theirs = [abs(geod.geometry_area_perimeter(g)[0]) for g in wards[:10]]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_holes_multiparts_and_ring_orientation():
    outer = [(105.7, 10.0), (105.8, 10.0), (105.8, 10.1), (105.7, 10.1)]
    hole = [(105.72, 10.02), (105.74, 10.02), (105.74, 10.04), (105.72, 10.04)]
    square = shapely.Polygon(outer)
    clockwise = shapely.Polygon(outer[::-1])
    holed = shapely.Polygon(outer, [hole])
    both = shapely.MultiPolygon([square, shapely.Polygon(hole)])
    a_sq, a_cw, a_holed, a_both, a_hole = area_geodesic(
        [square, clockwise, holed, both, shapely.Polygon(hole)])
    assert a_sq == pytest.approx(a_cw) and a_sq > 1.2e8
    assert a_holed == pytest.approx(a_sq - a_hole)
    assert a_both == pytest.approx(a_sq + a_hole)
    plane = area_vn2000([square, holed])
    assert plane[1] == pytest.approx(plane[0] - area_vn2000([shapely.Polygon(hole)])[0])


def test_zone_is_configurable(wards):
    tm3, utm = area_vn2000(wards[:5]), area_vn2000(wards[:5], zone="vn2000-utm48")
    # same central meridian, k0 0.9996 instead of 0.9999
    np.testing.assert_allclose(utm / tm3, (0.9996 / 0.9999) ** 2, rtol=1e-7)
    assert not np.allclose(area_vn2000(wards[:5], zone="vn2000-soctrang"), tm3, rtol=1e-6)


def test_small_features_take_the_equal_area_path_and_agree_with_karney():
    geod = Geod(ellps="WGS84")
    parcels = [shapely.box(105.78 + i * 1e-3, 10.03, 105.7803 + i * 1e-3, 10.0302)
               for i in range(20)]
    parcels.append(shapely.Polygon([(105.9, 9.6), (105.9004, 9.6), (105.9001, 9.6003)]))
    ours = area_geodesic(parcels)
    theirs = [abs(geod.geometry_area_perimeter(g)[0]) for g in parcels]
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)

"""Plausibility: loads landing outside Cần Thơ, or fitting the wards worse than another
reading, are refused with the likely cause. Real ward polygons from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from gis.crs import (
    AxisOrder,
    ImplausibleCoordinatesError,
    PolygonReference,
    PreviousVersion,
    check_plausible,
    detect_axis_order,
    diagnose,
    from_wgs84,
    orient,
)

WARDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "cantho-wards-2025.geojson"


@pytest.fixture(scope="module")
def wards():
    features = json.loads(WARDS.read_text(encoding="utf-8"))["features"]
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    codes = np.array([f["properties"]["id"] for f in features])
    return geoms, codes


@pytest.fixture(scope="module")
def sample(wards):
    """About 30 random WGS 84 points inside each ward, with the ward code they belong to."""
    geoms, codes = wards
    rng = np.random.default_rng(2025)
    owner = np.repeat(np.arange(len(geoms)), 200)
    b = shapely.bounds(geoms)[owner]
    lon = rng.uniform(b[:, 0], b[:, 2])
    lat = rng.uniform(b[:, 1], b[:, 3])
    inside = shapely.contains_xy(geoms[owner], lon, lat)
    lon, lat, owner = lon[inside], lat[inside], owner[inside]
    keep = np.concatenate([np.flatnonzero(owner == i)[:30] for i in range(len(geoms))])
    return lon[keep], lat[keep], codes[owner[keep]]


@pytest.fixture(scope="module")
def ward_reference(wards, sample):
    return PolygonReference(wards[0], codes=wards[1], expected=sample[2])


def test_correct_declaration_passes_with_and_without_reference(sample, ward_reference):
    e, n = from_wgs84("vn2000-cantho").transform(sample[0], sample[1])
    assert diagnose(e, n, "vn2000-cantho").ok
    result = check_plausible(e, n, "vn2000-cantho", reference=ward_reference)
    assert result.ok and result.cause == "ok"


def test_utm_tm3_mixup_is_invisible_to_the_extent_but_found_with_wards(sample, ward_reference):
    e, n = from_wgs84("vn2000-cantho").transform(sample[0], sample[1])  # data are TM-3 ...
    assert diagnose(e, n, "vn2000-utm48").ok  # ... declared UTM: still inside the city
    with pytest.raises(ImplausibleCoordinatesError) as info:
        check_plausible(e, n, "vn2000-utm48", reference=ward_reference)
    d = info.value.diagnosis
    assert d.cause == "utm_vs_tm3"
    assert d.suggested_source_crs == "vn2000-cantho"
    assert "--source-crs vn2000-cantho" in d.message_en and "UTM" in d.message_vi
    assert "--source-crs vn2000-cantho" in str(info.value)


def test_tm3_declared_but_data_in_utm(sample, ward_reference):
    e, n = from_wgs84("vn2000-utm48").transform(sample[0], sample[1])
    d = diagnose(e, n, "vn2000-cantho", reference=ward_reference)
    assert (d.ok, d.cause, d.suggested_source_crs) == (False, "utm_vs_tm3", "vn2000-utm48")


def test_soc_trang_zone_declared_as_can_tho(sample, ward_reference):
    e, n = from_wgs84("vn2000-soctrang").transform(sample[0], sample[1])
    d = diagnose(e, n, "vn2000-cantho", reference=ward_reference)
    assert (d.cause, d.suggested_source_crs) == ("wrong_zone", "vn2000-soctrang")
    assert "--source-crs vn2000-soctrang" in d.message_en


def test_swapped_axes_are_detected_and_reported(sample):
    e, n = from_wgs84("vn2000-cantho").transform(sample[0], sample[1])
    # A survey table: X = northing first
    guess = detect_axis_order(n, e, "vn2000-cantho")
    assert guess.order is AxisOrder.NORTHING_FIRST and guess.confidence > 0.9
    x, y, _ = orient(n, e, "vn2000-cantho")
    np.testing.assert_array_equal(x, e)
    x, y, g = orient(n, e, "vn2000-cantho", axis_order="easting_first")  # explicit override
    assert g.confidence == 1.0 and np.array_equal(x, n)
    with pytest.raises(ImplausibleCoordinatesError) as info:
        check_plausible(n, e, "vn2000-cantho")
    d = info.value.diagnosis
    assert d.cause == "swapped_axes" and d.suggested_axis_order == "northing_first"
    assert "--axis-order northing_first" in d.message_en and "đảo" in d.message_vi


def test_axis_order_from_magnitudes_when_nothing_lands_in_the_city():
    # Hà Nội in VN-2000 TM-3 105°30' is far outside Cần Thơ either way round
    e, n = from_wgs84("vn2000-soctrang").transform(np.array([105.85]), np.array([21.03]))
    guess = detect_axis_order(n, e, "vn2000-soctrang")
    assert guess.order is AxisOrder.NORTHING_FIRST and guess.confidence < 0.9


def test_missing_datum_shift_found_against_the_previous_version(sample):
    lon, lat = sample[0], sample[1]
    vlon, vlat = from_wgs84("vn2000-geographic").transform(lon, lat)  # VN-2000 degrees ...
    previous = PreviousVersion((lon, lat), paired=True)
    assert diagnose(vlon, vlat, "wgs84").ok  # ... declared WGS 84: 225 m, still in the city
    d = diagnose(vlon, vlat, "wgs84", reference=previous)
    assert (d.cause, d.suggested_source_crs) == ("missing_datum_shift", "vn2000-geographic")
    assert 150 < d.scores["declared"].median_offset_m < 300
    assert "225 m" in d.message_en and "nội bộ" in d.message_vi


def test_vn2000_utm_declared_as_wgs84_utm_with_unpaired_previous_version(sample):
    e, n = from_wgs84("vn2000-utm48").transform(sample[0], sample[1])
    previous = PreviousVersion(shapely.points(sample[0], sample[1]))
    d = diagnose(e, n, 32648, reference=previous)
    assert (d.cause, d.suggested_source_crs) == ("missing_datum_shift", "vn2000-utm48")


def test_degrees_declared_as_metres(sample, ward_reference):
    d = diagnose(sample[0], sample[1], "vn2000-cantho", reference=ward_reference)
    assert (d.cause, d.suggested_source_crs) == ("degrees_as_metres", "wgs84")


def test_projected_declared_as_geographic(sample, ward_reference):
    e, n = from_wgs84("vn2000-soctrang").transform(sample[0], sample[1])
    d = diagnose(e, n, "vn2000-geographic", reference=ward_reference)
    assert (d.cause, d.suggested_source_crs) == ("projected_as_geographic", "vn2000-soctrang")


def test_callable_reference(sample, wards):
    city = shapely.union_all(wards[0])
    e, n = from_wgs84("vn2000-cantho").transform(sample[0], sample[1])
    d = diagnose(n, e, "vn2000-cantho", reference=lambda lon, lat: shapely.contains_xy(
        city, lon, lat))
    assert d.cause == "swapped_axes" and d.scores["declared, axes swapped"].fit > 0.99


def test_elsewhere_in_vietnam_is_refused_without_a_false_explanation():
    # Hà Nội, correctly declared: nothing about the reading is wrong, the data are elsewhere
    e, n = from_wgs84("vn2000-tm3-10500").transform(np.array([105.80, 105.85]),
                                                      np.array([21.00, 21.03]))
    with pytest.raises(ImplausibleCoordinatesError) as info:
        check_plausible(e, n, "vn2000-cantho")
    d = info.value.diagnosis
    assert d.cause == "unknown" and "outside" in d.message_en and "ngoài" in d.message_vi


def test_margin_is_configurable():
    lon = np.array([106.298 + 5_000 / 109_500])  # about 5 km east of the city's extent
    lat = np.array([9.8])
    e, n = from_wgs84("vn2000-cantho").transform(lon, lat)
    assert not diagnose(e, n, "vn2000-cantho", margin_m=2_000).ok
    assert diagnose(e, n, "vn2000-cantho", margin_m=10_000).ok


def test_empty_and_non_finite_input():
    assert diagnose([], [], "vn2000-cantho").ok
    d = diagnose([np.nan, np.inf], [np.nan, 1.1e6], "vn2000-cantho")
    assert not d.ok and d.cause == "unknown"


def test_axis_fix_is_spelled_like_the_order_that_was_used(sample):
    e, n = from_wgs84("vn2000-cantho").transform(sample[0], sample[1])
    d = diagnose(n, e, "vn2000-cantho", axis_order_used="xy")
    assert d.suggested_axis_order == "yx" and "--axis-order yx" in d.message_en
    x, _, guess = orient(n, e, "vn2000-cantho", axis_order="yx")
    assert guess.order is AxisOrder.NORTHING_FIRST and np.array_equal(x, e)

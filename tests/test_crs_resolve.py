"""Resolving source CRSs as delivered (presets, codes, .prj, WKT/PROJ) and the datum cases."""

from __future__ import annotations

import pytest
from pyproj import CRS, Geod, Transformer

from gis.crs import PRESETS, CRSError, classify_datum, resolve_crs, to_wgs84

GEOD = Geod(ellps="WGS84")
NINH_KIEU_TM3 = (585308.926, 1109275.197)  # vn2000.md, TM-3 105°00'
NINH_KIEU_UTM = (585283.330, 1108942.381)  # vn2000.md, UTM 48N
NINH_KIEU_WGS84 = (105.78, 10.03)

# As ArcGIS writes a VN-2000 TM-3 105°00' and a VN-2000 UTM 48N .prj (ESRI WKT1, one line).
ARCGIS_TM3 = (
    'PROJCS["VN_2000_TM-3_zone_482",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
ARCGIS_UTM48 = (
    'PROJCS["VN_2000_UTM_Zone_48N",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9996],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
# The hand-made Vietnamese variant: ESRI WKT with a TOWGS84 in the datum.
ESRI_TOWGS84 = (
    'PROJCS["VN_2000_Hau_Giang_KTT_105",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563],TOWGS84[{}]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
# "VN-2000 nội bộ": a TM-3 grid on the WGS 84 datum, as such files are exported.
ESRI_NOI_BO = (
    'PROJCS["WGS_1984_TM3_105",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
TM3_PROJ = "+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84"
# Decision 05/2007 signs (coordinate frame) and the flipped +towgs84 signs (position vector).
DECISION = "-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278"
FLIPPED = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"


def _off_m(lon, lat, ref=NINH_KIEU_WGS84):
    return float(GEOD.inv(lon, lat, *ref)[2])


def _ours_m(source, point=NINH_KIEU_TM3):
    return _off_m(*to_wgs84(source).transform(*point))


@pytest.mark.parametrize("name,code", [("vn2000-cantho", 5897), ("vn2000-haugiang", 5897),
                                       ("vn2000-soctrang", 9209), ("vn2000-utm48", 3405),
                                       ("vn2000-geographic", 4756), ("vn2000-tm3-10545", 9210),
                                       ("vn2000-tm3-10200", 5896), ("vn2000-tm3-10830", 9218)])
def test_presets_name_the_epsg_crs(name, code):
    src = resolve_crs(name)
    assert src.epsg == code and src.crs == CRS.from_epsg(code)


def test_every_tm3_preset_has_its_central_meridian_in_the_name():
    for name, code in PRESETS.items():
        if name.startswith("vn2000-tm3-"):
            params = CRS.from_epsg(code).coordinate_operation.params
            lon_0 = next(p.value for p in params if p.name == "Longitude of natural origin")
            assert name == f"vn2000-tm3-{int(lon_0):03d}{round(lon_0 % 1 * 60):02d}"


@pytest.mark.parametrize("text,point", [(ARCGIS_TM3, NINH_KIEU_TM3),
                                        (ARCGIS_UTM48, NINH_KIEU_UTM)])
def test_arcgis_prj_files(tmp_path, text, point):
    prj = tmp_path / "parcels.prj"
    prj.write_text(text)
    for given in (prj, str(prj)):
        op = to_wgs84(given)
        assert op.datum.case == "official"
        assert op.operation.startswith("EPSG:6960")
        assert _off_m(*op.transform(*point)) <= 0.001


def test_towgs84_with_flipped_signs_is_position_vector():
    for text in (f"{TM3_PROJ} +towgs84={FLIPPED} +units=m +no_defs", ESRI_TOWGS84.format(FLIPPED)):
        report = classify_datum(resolve_crs(text))
        assert report.case == "towgs84_position_vector"
        assert report.declared_shift_error_m < 0.001
        assert _ours_m(text) <= 0.001


def test_towgs84_with_the_decisions_signs_is_reported_as_the_054_m_error():
    proj_text = f"{TM3_PROJ} +towgs84={DECISION} +units=m +no_defs"
    # Read literally (as PROJ does for a PROJ string) the file is about 0.54 m off ...
    literal = Transformer.from_crs(CRS(proj_text), 4326, always_xy=True)
    assert 0.5 < _off_m(*literal.transform(*NINH_KIEU_TM3)) < 0.6
    for text in (proj_text, ESRI_TOWGS84.format(DECISION)):
        report = classify_datum(resolve_crs(text))
        assert report.case == "towgs84_unflipped_signs"
        assert 0.5 < report.declared_shift_error_m < 0.6
        assert "0.54 m" in report.message_en and "đổi dấu" in report.message_vi
        assert _ours_m(text) <= 0.001  # ... while we still apply EPSG:6960


def test_other_towgs84_sets_are_replaced_by_the_official_one():
    # EPSG:5194's set written as +towgs84 (the PROJ default, 0.81 m off)
    text = f"{TM3_PROJ} +towgs84=-192.873,-39.382,-111.202,-0.00205,-0.0005,0.00335,0.0188"
    report = classify_datum(resolve_crs(text))
    assert report.case == "towgs84_other"
    assert 0.7 < report.declared_shift_error_m < 0.9
    assert _ours_m(text) <= 0.001


@pytest.mark.parametrize("text", [f"{TM3_PROJ} +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
                                  f"{TM3_PROJ} +units=m +no_defs", ESRI_NOI_BO])
def test_vn2000_noi_bo_without_datum_shift(text):
    op = to_wgs84(text)
    assert op.datum.case == "no_datum_shift"
    assert "nội bộ" in op.datum.message_en and "nội bộ" in op.datum.message_vi
    assert _off_m(*op.transform(*NINH_KIEU_TM3)) <= 0.001
    literal = to_wgs84(text, assume_vn2000=False)  # "treated as WGS 84": the 225 m error
    assert 150 < _off_m(*literal.transform(*NINH_KIEU_TM3)) < 300


def test_a_real_wgs84_utm_grid_is_not_mistaken_for_vn2000():
    assert classify_datum(resolve_crs(32648)).case == "not_vn2000"
    assert classify_datum(resolve_crs("+proj=utm +zone=48 +datum=WGS84")).case == "not_vn2000"


def test_describe_keeps_the_wkt_when_no_epsg_code_is_certain():
    info = to_wgs84(ESRI_TOWGS84.format(DECISION)).describe()
    assert info["source_epsg"] is None
    assert CRS(info["source_crs"]).is_projected
    assert info["datum_case"] == "towgs84_unflipped_signs"


@pytest.mark.parametrize("bad,words", [
    ("vn2000-cantho2", ["vn2000-cantho2", "vn2000-cantho"]),
    ("PROJCS[\"broken\",GEOGCS[", ["broken", "EPSG code"]),
    ("/nonexistent/survey.prj", ["/nonexistent/survey.prj", "does not exist"]),
    (99999, ["EPSG:99999"]),
    ("EPSG:6957", ["deprecated", "5897"]),
])
def test_bad_input_raises_a_clear_crs_error(bad, words):
    with pytest.raises(CRSError) as info:
        to_wgs84(bad)
    for word in words:
        assert word in str(info.value)


def test_projected_grid_in_feet_is_refused():
    with pytest.raises(CRSError, match="metres"):
        to_wgs84(f"{TM3_PROJ} +towgs84={FLIPPED} +units=ft")



def test_crs_errors_are_user_facing_errors():
    from gis.errors import SPPError

    with pytest.raises(SPPError):
        resolve_crs("vn2000-nowhere")

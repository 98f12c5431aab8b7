"""`gis demo`: the sample Cần Thơ delivery set written, loaded and served.

The loads are the ones GIS staff would type (see the sample's README.txt); a second run finds
every file unchanged (same SHA-256) and loads nothing again.
"""

from __future__ import annotations

from pathlib import Path

from gis import db, versions
from gis.loader.load import LoadOptions, LoadResult, load
from gis.loader.source import sha256_of

# (file in the sample set, layer, options) in dependency order: wards first, they are the
# reference the plausibility check holds the parcels against.
SAMPLE_LOADS: list[tuple[str, str, dict]] = [
    ("ranh_gioi/don_vi_hanh_chinh.geojson", "admin_units", {}),
    ("thua_dat_ninhkieu/thua_dat.shp", "cadastral_parcels", {}),
    ("thua_dat_soctrang/thua_dat_st.shp", "cadastral_parcels", {"mode": "append"}),
    ("quy_hoach/quy_hoach_sdd.gpkg", "land_use_plan_zones", {"source_layer": "qh_sdd"}),
    ("quy_hoach/quy_hoach_sdd.gpkg", "construction_plan_zones",
     {"source_layer": "qh_phan_khu"}),
    ("ha_tang/cap_nuoc.geojson", "water_pipes", {}),
    ("ha_tang/thoat_nuoc.dxf", "drainage_lines",
     {"source_crs": "vn2000-cantho",
      "field_map": {"Layer": "line_type", "EntityHandle": "line_code"}}),
    ("ha_tang/den_duong.geojson", "street_lights", {}),
    ("ha_tang/tru_cuu_hoa.geojson", "fire_hydrants", {}),
    ("dia_chi/dia_chi.csv", "address_points", {}),
    ("thuy_he/mat_nuoc.shp", "water_surfaces", {}),
    ("thuy_he/song_kenh.shp", "waterways", {}),
    ("giao_thong/duong.shp", "roads", {}),
    ("nha/nha.shp", "buildings", {}),
    ("dia_danh/dia_danh.shp", "place_names", {}),
    ("cay_xanh/cay_xanh.shp", "trees", {}),
    ("vien_thong/tuyen_cap.shp", "telecom_lines", {}),
    ("vien_thong/cot_vien_thong.shp", "telecom_poles", {}),
    ("dien_luc/duong_day.shp", "power_lines", {}),
    ("hien_trang_sdd/khoanh_dat.shp", "land_use_current", {}),
    ("ngap_lut/vung_nguy_co_ngap.shp", "flood_risk_zones", {}),
    ("bao_tro_xa_hoi/co_so_btxh.shp", "social_welfare_facilities", {}),
    ("dau_tu/du_an_keu_goi_dau_tu.gpkg", "investment_projects", {}),
    ("ngap_lut/diem_ngap_trieu_cuong.geojson", "flood_observations", {}),
]


# Raster layers of the sample set (gis load-raster), loaded after the vector layers.
SAMPLE_RASTERS: list[tuple[str, str]] = [
    ("ngap_lut/do_sau_ngap_100nam.tif", "flood_depth_100y"),
    ("ngap_lut/do_sau_ngap_10nam.tif", "flood_depth_10y"),
    ("dia_hinh/dem_50m.asc", "elevation_dem"),
]


def ensure_sample(outdir: Path, parcels: int) -> Path:
    from gis.sample import SAMPLE_VERSION, write_sample

    marker = outdir / f".parcels-{parcels}-v{SAMPLE_VERSION}"
    if not marker.exists():
        write_sample(outdir, parcels=parcels)
        marker.touch()
    return outdir


def load_sample(outdir: Path, report=None) -> list[LoadResult]:
    """Load every sample file. A layer made of several files (parcels: a replace, then an
    append) is left alone when its current version is exactly those files, so a re-run
    changes nothing."""
    results = []
    with db.ready_connection() as conn:
        chains = {layer: [r["source_sha256"] for r in versions.current_chain(conn, layer)]
                  for layer in {layer for _, layer, _ in SAMPLE_LOADS}}
    wanted: dict[str, list[str]] = {}
    for rel, layer, _ in SAMPLE_LOADS:
        wanted.setdefault(layer, []).append(
            sha256_of(_parts(outdir / rel))[0])
    for rel, layer, opts in SAMPLE_LOADS:
        options = LoadOptions(**opts)
        if len(wanted[layer]) > 1:
            if chains[layer] == wanted[layer]:
                result = _unchanged(conn_layer=layer, rel=rel, outdir=outdir)
                results.append(result)
                if report:
                    report(rel, result)
                continue
            options.force = True  # rebuild the whole chain: one of its files changed
        result = load(outdir / rel, layer, options)
        results.append(result)
        if report:
            report(rel, result)
    from gis.raster.load import load_raster
    from gis.sample.rasters import write_rasters

    if not all((outdir / rel).exists() for rel, _ in SAMPLE_RASTERS):
        write_rasters(outdir, {})  # a sample set written before the rasters existed
    for rel, layer in SAMPLE_RASTERS:  # unchanged files (same SHA-256) are not loaded again
        raster = load_raster(outdir / rel, layer)
        if report:
            report(rel, raster)
    return results


def _unchanged(conn_layer: str, rel: str, outdir: Path) -> LoadResult:
    with db.ready_connection() as conn:
        cur = versions.current_version(conn, conn_layer)
    sha = sha256_of(_parts(outdir / rel))[0]
    return LoadResult(conn_layer, cur["version"], "unchanged", rel, sha, {}, None, {},
                      feature_count=cur["feature_count"])


def _parts(path: Path) -> list[Path]:
    from gis.loader.source import dataset_files

    return dataset_files(path)

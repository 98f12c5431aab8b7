"""write_sample: the whole delivery set, reproducible from a seed.

Each product draws from its own random stream (seed, product number), so changing one product
does not change the others, and the same seed gives byte-identical files (the DBF and
GeoPackage dates are fixed on purpose).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from gis.errors import SPPError
from gis.sample import (
    addresses,
    admin,
    cadastre,
    hydro,
    landuse,
    layout,
    networks,
    planning,
    rasters,
    roads,
    streets,
    urban,
    utilities,
)
from gis.sample.city import City
from gis.sample.manifest import Load, write_manifest
from gis.sample.readme import Entry, write_readme
from gis.sample.wards import BY_CODE
from gis.text import tcvn3, vni

CANTHO_ZONE, SOCTRANG_ZONE = "vn2000-cantho", "vn2000-soctrang"
# wards (phường) of the old Cần Thơ city (not the island Tân Lộc) and four fringe communes
CANTHO_WARDS = ("31135", "31120", "31147", "31150", "31168", "31174", "31183", "31186", "31201",
                "31153", "31157", "31162", "31207", "31217", "31228",
                "31299", "31309", "31315", "31258")
CENTRAL_DENSITY = {"31135": 30.0, "31120": 20.0, "31147": 20.0, "31150": 10.0, "31201": 8.0}
SOCTRANG_WARDS = ("31507", "31510", "31684", "31321", "31333")
SOCTRANG_SHARE = 0.15
SAMPLE_VERSION = 3  # bump when the set gains files: `gis demo` then writes it again
PARCEL_FIELDS = "MaXa, SoTo, SoThua, DienTich, MucDich, DiaChi, TenXa, TenChu, CCCD, GhiChu"


class SampleError(SPPError):
    exit_code = 2


def _rng(seed: int, product: int) -> np.random.Generator:
    return np.random.default_rng([seed, product])


def write_sample(outdir: Path, parcels: int = 3000, seed: int = 20250701) -> dict[str, Path]:
    """Write the sample delivery set under ``outdir``; returns name -> main file written."""
    if parcels < 20:
        raise SampleError(f"--parcels {parcels}: write at least 20 parcels (default 3000)")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    entries: list[Entry] = []

    # 1. cadastral parcels, Cần Thơ: TM-3 105°00', TCVN3 text, .cpg says UTF-8
    rng = _rng(seed, 1)
    grid, blocks, ct = layout.build(rng, CANTHO_ZONE, list(CANTHO_WARDS), parcels,
                                      density=CENTRAL_DENSITY)
    table = cadastre.parcel_table(rng, ct)
    shp = outdir / "thua_dat_ninhkieu" / "thua_dat.shp"
    cadastre.write_parcels(shp, table, central_meridian=105.0, encode=tcvn3.encode,
                           text_width=50, cpg="UTF-8", date=dt.date(2024, 5, 20))
    out["thua_dat"] = shp
    defects = (f"{len(table.invalid)} invalid rings (bow-ties, spikes), {len(table.nulls)} null/"
               f"empty geometries, {len(table.duplicates)} duplicate natural keys")
    entries.append(Entry(
        "thua_dat_ninhkieu/thua_dat.shp (+ .shx .dbf .prj .cpg)",
        "cadastral parcels around the wards of the old Cần Thơ city", "ESRI Shapefile, Polygon",
        "VN-2000 / TM-3 105°00' (EPSG:5897); .prj is ESRI WKT with TOWGS84 (position vector)",
        "DBF text in TCVN3 (ABC) bytes; the .cpg says UTF-8 and lies", PARCEL_FIELDS,
        f"{parcels} features", (Load(shp.relative_to(outdir).as_posix(), "cadastral_parcels"),),
        defects + "; DienTich = area in the TM-3 plane, 0.1 m². Add --encoding tcvn3 to force "
        "the decoding."))

    # 2. cadastral parcels, Sóc Trăng / Vị Thanh: TM-3 105°30', VNI-Windows, .cpg says 1252
    rng = _rng(seed, 2)
    n_st = max(20, round(SOCTRANG_SHARE * parcels))
    _, _, st = layout.build(rng, SOCTRANG_ZONE, list(SOCTRANG_WARDS), n_st,
                            density={"31507": 12.0, "31321": 8.0})
    st_table = cadastre.parcel_table(rng, st)
    shp_st = outdir / "thua_dat_soctrang" / "thua_dat_st.shp"
    cadastre.write_parcels(shp_st, st_table, central_meridian=105.5, encode=vni.encode,
                           text_width=80, cpg="1252", date=dt.date(2023, 11, 8))
    out["thua_dat_st"] = shp_st
    entries.append(Entry(
        "thua_dat_soctrang/thua_dat_st.shp (+ .shx .dbf .prj .cpg)",
        "cadastral parcels of " + ", ".join(BY_CODE[c].full_name for c in SOCTRANG_WARDS),
        "ESRI Shapefile, Polygon", "VN-2000 / TM-3 105°30' (EPSG:9209), ESRI .prj with TOWGS84",
        "DBF text in VNI-Windows bytes; the .cpg says 1252 and lies", PARCEL_FIELDS,
        f"{n_st} features",
        (Load(shp_st.relative_to(outdir).as_posix(), "cadastral_parcels", {"mode": "append"}),),
        "same schema and kinds of defects as the Cần Thơ file; append it after that one. "
        "--encoding vni forces the decoding."))

    # 3. planning GeoPackage: two layers, UTM 48N
    gpkg = outdir / "quy_hoach" / "quy_hoach_sdd.gpkg"
    counts = planning.write_planning(gpkg, _rng(seed, 3), grid, blocks, CANTHO_ZONE)
    out["quy_hoach"] = gpkg
    rel = gpkg.relative_to(outdir)
    entries.append(Entry(
        f"{rel} (layers qh_sdd, qh_phan_khu)",
        "qh_sdd: land-use plan zones; qh_phan_khu: lots of the zoning plans (1/2000)",
        "GeoPackage, MultiPolygon, two layers: the loader needs --source-layer",
        "VN-2000 / UTM zone 48N (EPSG:3405)", "UTF-8; qh_sdd.TenXa is NFD (decomposed)",
        "qh_sdd: MaQH, MaHT, TenCongTrinh, KyQH, MaXa, TenXa, DienTich, SoQD, NgayQD, TinhTrang"
        "; qh_phan_khu: CapQH, TenDoAn, KyHieu, ChucNang, TenChucNang, DienTich, MDXD, HSSDD, "
        "TangCaoMin, TangCao, ChieuCao, KhoangLui, SoQD, NgayQD, CoQuanPD, TenXa",
        f"{counts['qh_sdd']} zones, {counts['qh_phan_khu']} lots",
        (Load(rel.as_posix(), "land_use_plan_zones", {"source_layer": "qh_sdd"}),
         Load(rel.as_posix(), "construction_plan_zones", {"source_layer": "qh_phan_khu"}))))

    # 4. utilities along the streets
    rng = _rng(seed, 4)
    seg = streets.segments(grid, blocks)
    infra = outdir / "ha_tang"
    infra.mkdir(parents=True, exist_ok=True)
    n_pipes, diameter = utilities.write_water_pipes(infra / "cap_nuoc.geojson", rng, seg,
                                                    CANTHO_ZONE)
    drain = utilities.write_drainage(infra / "thoat_nuoc.dxf", rng, seg)
    n_lights = utilities.write_street_lights(infra / "den_duong.geojson", rng, seg, CANTHO_ZONE)
    n_hyd = utilities.write_hydrants(infra / "tru_cuu_hoa.geojson", rng, seg, diameter,
                                     CANTHO_ZONE)
    out.update(cap_nuoc=infra / "cap_nuoc.geojson", thoat_nuoc=infra / "thoat_nuoc.dxf",
               den_duong=infra / "den_duong.geojson", tru_cuu_hoa=infra / "tru_cuu_hoa.geojson")
    wgs = "WGS 84 lon/lat (CRS84, declared in the file)"
    entries += [
        Entry("ha_tang/cap_nuoc.geojson", "water-supply pipes", "GeoJSON, LineString", wgs,
              "UTF-8", "MaOng, LoaiOng, DuongKinh, VatLieu, ApLuc, DoSau, ChieuDai, NamXD, "
              "TenDuong, TenXa, TinhTrang", f"{n_pipes} pipes",
              (Load("ha_tang/cap_nuoc.geojson", "water_pipes"),)),
        Entry("ha_tang/thoat_nuoc.dxf", "drainage lines from CAD",
              "DXF (AutoCAD R2000 text), LWPOLYLINE; attribute = DXF layer name per type",
              "none in the file: VN-2000 / TM-3 105°00' (EPSG:5897) coordinates",
              "ANSI_1252 (names are ASCII)", "Layer (" + ", ".join(
                  f"{k}: {v}" for k, v in drain.items()) + "), EntityHandle",
              f"{sum(drain.values())} lines",
              (Load("ha_tang/thoat_nuoc.dxf", "drainage_lines", {
                  "source_crs": "vn2000-cantho",
                  "field_map": {"Layer": "line_type", "EntityHandle": "line_code"}}),),
              "TN_CONG_TRON circular culvert, TN_CONG_HOP box culvert, TN_MUONG_HO open ditch, "
              "TN_RANH_XAY masonry gutter"),
        Entry("ha_tang/den_duong.geojson", "street lights", "GeoJSON, Point", wgs, "UTF-8",
              "MaDen, LoaiCot, ChieuCao, LoaiDen, CongSuat, SoDen, MaTu, TenDuong, TenXa, "
              "NamLD, TinhTrang", f"{n_lights} lights",
              (Load("ha_tang/den_duong.geojson", "street_lights"),)),
        Entry("ha_tang/tru_cuu_hoa.geojson", "fire hydrants", "GeoJSON, Point", wgs, "UTF-8",
              "MaTru, LoaiTru, DuongKinh, DKOng, LuuLuong, ApLuc, ViTri, TenDuong, TenXa, "
              "TinhTrang, NgayKT, NamLD", f"{n_hyd} hydrants",
              (Load("ha_tang/tru_cuu_hoa.geojson", "fire_hydrants"),)),
    ]

    # 5. digital addresses: CSV, northing first
    csv_path = outdir / "dia_chi" / "dia_chi.csv"
    n_addr = addresses.write_addresses(csv_path, _rng(seed, 5), ct, table)
    out["dia_chi"] = csv_path
    entries.append(Entry(
        "dia_chi/dia_chi.csv", "digital address points (one per residential/commercial parcel)",
        "CSV, comma-separated, CRLF, header row",
        "VN-2000 / TM-3 105°00' (EPSG:5897), NORTHING FIRST: X = northing (≈ 1 1xx xxx), "
        "Y = easting (≈ 5xx xxx)", "UTF-8 without BOM", ", ".join(addresses.COLUMNS),
        f"{n_addr} points",
        (Load("dia_chi/dia_chi.csv", "address_points", {
            "source_crs": "vn2000-cantho", "x_field": "X", "y_field": "Y",
            "axis_order": "yx"}),),
        "PhuongXa is the 2025 ward, PhuongCu one of the former wards merged into it, QuanCu "
        "its former district"))

    # 6. administrative units (synthetic Voronoi boundaries)
    adm = outdir / "ranh_gioi" / "don_vi_hanh_chinh.geojson"
    n_adm = admin.write_admin_units(adm)
    out["don_vi_hanh_chinh"] = adm
    entries.append(Entry(
        "ranh_gioi/don_vi_hanh_chinh.geojson",
        "the 103 wards and communes of the new Thành phố Cần Thơ (2025), SYNTHETIC boundaries",
        "GeoJSON, MultiPolygon", wgs, "UTF-8",
        "MaDVHC, Ten, Loai, MaTinh, DienTich (km², TM-3 plane), TenCu, MaCu, HuyenCu, "
        "NghiQuyet, NgayHieuLuc, DuLieuMau, GhiChu", f"{n_adm} units",
        (Load("ranh_gioi/don_vi_hanh_chinh.geojson", "admin_units"),),
        "Voronoi cells of the real ward centroids; former names and codes are plausible "
        "sample values, not the resolution's"))

    entries += rasters.write_rasters(outdir, out, seed)  # 7. flood depth grids and the DEM
    entries += _write_city(outdir, out, seed, seg, ct, table, blocks)  # 8. the base map & co.
    out["readme"] = write_readme(outdir / "README.txt", entries, seed, parcels)
    out["manifest"] = write_manifest(outdir, [ld for e in entries for ld in e.loads])
    return out


def _shp(rel: str, what: str, geometry: str, encoding: str, fields: str, count: str,
         layer: str, notes: str = "") -> Entry:
    return Entry(f"{rel} (+ .shx .dbf .prj{' .cpg' if '.cpg' in encoding else ''})", what,
                 f"ESRI Shapefile, {geometry}",
                 "VN-2000 / TM-3 105°00' (EPSG:5897), ESRI .prj with TOWGS84", encoding,
                 fields, count, (Load(rel, layer),), notes)


def _write_city(outdir: Path, out: dict[str, Path], seed: int, seg, parcels, table, blocks
                ) -> list[Entry]:
    """The city-wide layers: hydrography, roads, buildings, place names, networks, land use,
    flood-risk zones, social welfare facilities and the investment project list."""
    city = City()
    tcvn = "DBF text in TCVN3 (ABC) bytes, no .cpg"
    w1258 = "DBF text in Windows-1258 bytes, the .cpg says 1258"
    utf8 = "UTF-8, the .cpg says UTF-8"
    hyd = hydro.write_hydrography(outdir, _rng(seed, 9), city)
    out["song_kenh"] = outdir / "thuy_he" / "song_kenh.shp"
    out["mat_nuoc"] = outdir / "thuy_he" / "mat_nuoc.shp"
    files = {
        "duong": outdir / "giao_thong" / "duong.shp",
        "nha": outdir / "nha" / "nha.shp",
        "dia_danh": outdir / "dia_danh" / "dia_danh.shp",
        "cay_xanh": outdir / "cay_xanh" / "cay_xanh.shp",
        "dien_luc": outdir / "dien_luc" / "duong_day.shp",
        "hien_trang": outdir / "hien_trang_sdd" / "khoanh_dat.shp",
        "nguy_co_ngap": outdir / "ngap_lut" / "vung_nguy_co_ngap.shp",
        "bao_tro_xa_hoi": outdir / "bao_tro_xa_hoi" / "co_so_btxh.shp",
        "du_an": outdir / "dau_tu" / "du_an_keu_goi_dau_tu.gpkg",
        "quan_trac_ngap": outdir / "ngap_lut" / "diem_ngap_trieu_cuong.geojson",
    }
    counts = {
        "duong": roads.write_roads(files["duong"], _rng(seed, 10), city, seg),
        "nha": urban.write_buildings(files["nha"], _rng(seed, 11), parcels, table),
        "dia_danh": urban.write_place_names(files["dia_danh"], _rng(seed, 12), city,
                                            hyd.named),
        "cay_xanh": networks.write_trees(files["cay_xanh"], _rng(seed, 13), seg),
        "dien_luc": networks.write_power(files["dien_luc"], _rng(seed, 14), city, seg),
        "hien_trang": landuse.write_land_use(files["hien_trang"], _rng(seed, 15), city,
                                             hyd.water),
        "nguy_co_ngap": landuse.write_flood_zones(files["nguy_co_ngap"], city,
                                                  hyd.lines[:3], hyd.widths[:3], hyd.water),
        "bao_tro_xa_hoi": urban.write_social_welfare(files["bao_tro_xa_hoi"], _rng(seed, 16),
                                                     city),
        "du_an": landuse.write_projects(files["du_an"], _rng(seed, 17), city, blocks,
                                        parcels.block, hydro.plane_xy),
        "quan_trac_ngap": landuse.write_flood_observations(files["quan_trac_ngap"],
                                                           _rng(seed, 19), seg),
    }
    tel = networks.write_telecom(outdir, _rng(seed, 18), seg)
    out.update(files)
    out["tuyen_cap"] = outdir / "vien_thong" / "tuyen_cap.shp"
    out["cot_vien_thong"] = outdir / "vien_thong" / "cot_vien_thong.shp"
    c = {**hyd.counts, **counts, **tel}
    return [
        _shp("thuy_he/song_kenh.shp", "rivers and canals (Sông Hậu, Sông Cần Thơ, Kênh Xáng Xà "
             "No ...) and irrigation canals, one feature per waterway and ward",
             "PolyLine", tcvn, "maNhanDang, ten, loaiThuyHe, chieuRong, CapKyThuat, ChieuDai, "
             "DonViQL, TenXa", f"{c['song_kenh']} lines", "waterways"),
        _shp("thuy_he/mat_nuoc.shp", "water surfaces: wide rivers and canals, lakes, ponds",
             "Polygon", tcvn, "maNhanDang, ten, loaiThuyHe, DienTich, TenXa",
             f"{c['mat_nuoc']} surfaces", "water_surfaces"),
        _shp("giao_thong/duong.shp", "road centre lines by managed segment: national and "
             "provincial roads, Ninh Kiều's main streets, commune roads, the parcels' streets",
             "PolyLine", w1258, "MaDoan, MaDuong, TenDuong, CapDuong, DiemDau, DiemCuoi, "
             "LoGioi, BeRong, SoLan, KetCau, ChieuDai, NamXD, DonViQL, TenXa, TinhTrang",
             f"{c['duong']} segments", "roads"),
        _shp("nha/nha.shp", "building footprints (one per built parcel, inside it)", "Polygon",
             tcvn, "maNhanDang, ten, SoNha, TenDuong, soTang, SoTangHam, chieuCao, CongNang, "
             "KetCau, NamXD, SoGPXD, TenXa", f"{c['nha']} buildings", "buildings",
             "chieuCao is empty for about 15 % (not measured)"),
        _shp("dia_danh/dia_danh.shp", "place names: the 103 wards and communes, neighbourhoods "
             "and hamlets, rivers, landmarks", "Point", utf8,
             "maNhanDang, diaDanh, PhanLoai, NhomDT, TenCu, TenXa",
             f"{c['dia_danh']} names", "place_names"),
        _shp("cay_xanh/cay_xanh.shp", "street trees", "Point",
             "DBF text in TCVN3 bytes; the .cpg says UTF-8 and lies",
             "MaCay, TenCay, TenKhoaHoc, ChieuCao, DuongKinh, DKTan, LoaiCayCao, "
             "CayDiSan, NamTrong, TenDuong, TenXa, TinhTrang", f"{c['cay_xanh']} trees",
             "trees"),
        _shp("vien_thong/tuyen_cap.shp", "telecom cables along the streets", "PolyLine", w1258,
             "MaTuyen, NhaMang, LoaiCap, HinhThuc, SoSoi, ChieuDai, NamXD, TenDuong, TenXa, "
             "TinhTrang", f"{c['tuyen_cap']} cables", "telecom_lines"),
        _shp("vien_thong/cot_vien_thong.shp", "telecom poles of the overhead cables", "Point",
             w1258, "MaCot, NhaMang, LoaiCot, ChieuCao, DungChung, SoGP, NgayGP, TenDuong, "
             "TenXa, TinhTrang", f"{c['cot_vien_thong']} poles", "telecom_poles"),
        _shp("dien_luc/duong_day.shp", "110 kV lines between substations and 22 kV feeders",
             "PolyLine", tcvn, "MaTuyen, TenTuyen, CapDienAp, LoaiDZ, LoaiDay, TietDien, "
             "SoMach, XuatTuyen, TramNguon, ChieuDai, NamVH, TenXa, TinhTrang",
             f"{c['dien_luc']} lines", "power_lines"),
        _shp("hien_trang_sdd/khoanh_dat.shp", "land-use status map of the 2024 inventory",
             "Polygon", "DBF text in Windows-1258 bytes, no .cpg",
             "MaXa, SoKhoanh, MucDich, TenLoaiDat, DoiTuong, TenXa, DienTich, NamKK, "
             "ThoiDiemKK", f"{c['hien_trang']} plots", "land_use_current"),
        _shp("ngap_lut/vung_nguy_co_ngap.shp", "flood-risk zones (10- and 100-year floods) by "
             "depth class", "Polygon", utf8, "CapNgap, DoSauMin, DoSauMax, KichBan, ChuKy, "
             "MoHinh, TenXa, NgayCongBo", f"{c['nguy_co_ngap']} zones", "flood_risk_zones"),
        _shp("bao_tro_xa_hoi/co_so_btxh.shp", "social welfare facilities", "Point", utf8,
             "MaCS, TenCS, LoaiHinh, SoHuu, QuyMo, SoDoiTuong, DiaChi, TenXa, DienThoai, SoGP, "
             "NgayGP", f"{c['bao_tro_xa_hoi']} facilities", "social_welfare_facilities"),
        Entry("dau_tu/du_an_keu_goi_dau_tu.gpkg", "projects open for investment (sites over "
              "parcel blocks and four large sites)", "GeoPackage, MultiPolygon, one layer",
              "VN-2000 / TM-3 105°00' (EPSG:5897)", "UTF-8",
              "MaDA, TenDA, TenTiengAnh, LinhVuc, DiaDiem, TenXa, DienTich (ha), TongVon (tỷ "
              "đồng), HinhThuc, LoaiDat, TinhTrang, DauMoi, SoQD, NgayQD",
              f"{c['du_an']} projects",
              (Load("dau_tu/du_an_keu_goi_dau_tu.gpkg", "investment_projects"),)),
        Entry("ngap_lut/diem_ngap_trieu_cuong.geojson", "street flooding seen in the October "
              "2024 spring tides (a ward's field app export)", "GeoJSON, Point",
              "WGS 84 lon/lat (CRS84, declared in the file)", "UTF-8",
              "DoSau (cm), ThoiGian (local date-time), CapNgap, TenDuong, TenXa, Nguon",
              f"{c['quan_trac_ngap']} observations",
              (Load("ngap_lut/diem_ngap_trieu_cuong.geojson", "flood_observations"),)),
    ]

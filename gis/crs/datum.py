"""Detect which datum-shift case a source CRS is (the classic VN-2000 mistakes included)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pyproj import CRS, Geod, Transformer

from gis.crs.source import SourceCRS
from gis.crs.vn2000 import (
    DATUM_SHIFT_STEPS,
    HELMERT_CF,
    HELMERT_PV,
    HELMERT_STEP,
    NAME_HINT,
    WGS84_A,
    WGS84_RF,
    is_tm3_grid,
)


class DatumCase(StrEnum):
    OFFICIAL = "official"  # VN-2000 datum without an explicit shift: EPSG:6960 applies
    TOWGS84_POSITION_VECTOR = "towgs84_position_vector"  # official set, correctly signed
    TOWGS84_UNFLIPPED_SIGNS = "towgs84_unflipped_signs"  # Decision's signs pasted: 0.54 m
    TOWGS84_OTHER = "towgs84_other"  # VN-2000 with a non-official shift (e.g. EPSG:5194 set)
    NO_DATUM_SHIFT = "no_datum_shift"  # "VN-2000 nội bộ": VN-2000 grid, shift zero/absent
    NOT_VN2000 = "not_vn2000"


@dataclass(frozen=True)
class DatumReport:
    case: DatumCase
    message_en: str
    message_vi: str
    towgs84: tuple[float, ...] | None = None  # as read, position-vector semantics
    declared_shift_error_m: float | None = None  # literal reading vs EPSG:6960 at Ninh Kiều

    @property
    def is_vn2000(self) -> bool:
        return self.case is not DatumCase.NOT_VN2000


_RAW_TOWGS84 = re.compile(r"TOWGS84\s*\[([^\]]*)\]|\+towgs84=([-+0-9.eE,]+)", re.IGNORECASE)
_PROBE = (105.78, 10.03)  # Ninh Kiều, where the size of a wrong shift is reported


def horizontal_crs(crs: CRS) -> CRS:
    """The horizontal part of a compound CRS (z passes through), else the CRS itself."""
    return crs.sub_crs_list[0] if crs.is_compound else crs


def _towgs84(source: SourceCRS, crs: CRS) -> tuple[float, ...] | None:
    """The shift as written, in position-vector convention. Read from the raw text because
    PROJ 9.5 silently re-signs a WKT1 TOWGS84 that matches an EPSG coordinate-frame set."""
    match = _RAW_TOWGS84.search(source.text or "")
    if match:
        values = [float(v) for v in (match.group(1) or match.group(2)).split(",") if v.strip()]
        return tuple(values + [0.0] * (7 - len(values)))[:7]
    if not crs.is_bound:
        return None
    op = crs.coordinate_operation
    values = [p.value for p in op.params][:7]
    values += [0.0] * (7 - len(values))
    if "coordinate frame" in op.method_name.lower():
        values[3:6] = [-v for v in values[3:6]]
    return tuple(values)


def _close(a, b, tol=(0.01, 0.01, 0.01, 1e-6, 1e-6, 1e-6, 1e-4)) -> bool:
    return all(abs(x - y) <= t for x, y, t in zip(a, b, tol, strict=True))


def _literal_error_m(pv: tuple[float, ...]) -> float:
    """Distance at Ninh Kiều between the file's own shift and EPSG:6960."""
    helmert = ("+step +proj=helmert +x={} +y={} +z={} +rx={} +ry={} +rz={} +s={} "
               "+convention=position_vector").format(*pv)
    pipe = ("+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad {} "
            "+step +proj=unitconvert +xy_in=rad +xy_out=deg")
    literal_steps = DATUM_SHIFT_STEPS.replace(HELMERT_STEP, helmert)
    lit = Transformer.from_pipeline(pipe.format(literal_steps)).transform(*_PROBE)
    ref = Transformer.from_pipeline(pipe.format(DATUM_SHIFT_STEPS)).transform(*_PROBE)
    return float(Geod(ellps="WGS84").inv(lit[0], lit[1], ref[0], ref[1])[2])


def _tm3_params(crs: CRS) -> tuple[float, float, float, float] | None:
    if not crs.is_projected or crs.coordinate_operation is None:
        return None
    p = {q.code: q.value * q.unit_conversion_factor for q in crs.coordinate_operation.params}
    if not {"8802", "8805", "8806", "8807"} <= p.keys():
        return None
    return (p["8802"] * 180 / 3.141592653589793, p["8805"], p["8806"], p["8807"])


def classify_datum(source: SourceCRS) -> DatumReport:
    """Decide the datum-shift case of a resolved source CRS."""
    crs = horizontal_crs(source.crs)
    base = crs.source_crs if crs.is_bound else crs
    ell = base.ellipsoid
    wgs84_ellipsoid = (ell is not None and abs(ell.semi_major_metre - WGS84_A) < 1e-3
                       and abs(ell.inverse_flattening - WGS84_RF) < 1e-6)
    datum = base.datum
    datum_id = (datum.to_json_dict().get("id") or {}).get("code") if datum else None
    named = bool(NAME_HINT.search(" ".join([base.name, datum.name if datum else "",
                                             source.text or ""])))
    tm3 = _tm3_params(base)
    on_grid = tm3 is not None and is_tm3_grid(*tm3)
    pv = _towgs84(source, crs)
    if not wgs84_ellipsoid:
        return _report(DatumCase.NOT_VN2000)
    if pv is not None:
        if _close(pv, HELMERT_PV):
            return _report(DatumCase.TOWGS84_POSITION_VECTOR, pv, _literal_error_m(pv))
        if _close(pv, HELMERT_CF):
            return _report(DatumCase.TOWGS84_UNFLIPPED_SIGNS, pv, _literal_error_m(pv))
        if not any(pv):
            vn = named or on_grid
            return _report(DatumCase.NO_DATUM_SHIFT if vn else DatumCase.NOT_VN2000, pv)
        near_official = _close(pv[:3], HELMERT_PV[:3], (20.0, 20.0, 20.0))
        if named or on_grid or near_official:
            return _report(DatumCase.TOWGS84_OTHER, pv, _literal_error_m(pv))
        return _report(DatumCase.NOT_VN2000, pv)
    if datum_id == 6756 or named:
        return _report(DatumCase.OFFICIAL)
    if on_grid:  # WGS 84 (or unknown WGS 84-ellipsoid datum) under a VN-2000 TM-3 grid
        return _report(DatumCase.NO_DATUM_SHIFT)
    return _report(DatumCase.NOT_VN2000)


_TEXT = {
    DatumCase.OFFICIAL: (
        "VN-2000 datum; transformed to WGS 84 with the official parameters of Decision "
        "05/2007/QĐ-BTNMT (EPSG:6960).",
        "Hệ VN-2000; chuyển sang WGS 84 bằng bộ tham số chính thức của Quyết định "
        "05/2007/QĐ-BTNMT (EPSG:6960)."),
    DatumCase.TOWGS84_POSITION_VECTOR: (
        "VN-2000 with the official shift written as TOWGS84 in the position-vector convention "
        "(correct); EPSG:6960 applied.",
        "VN-2000 có TOWGS84 đúng bộ tham số chính thức theo quy ước position-vector (đúng); "
        "áp dụng EPSG:6960."),
    DatumCase.TOWGS84_UNFLIPPED_SIGNS: (
        "The TOWGS84 of this CRS holds the Decision 05/2007 rotations with their "
        "coordinate-frame signs not flipped; read literally (GDAL, QGIS, older PROJ) it puts "
        "the data {err} off. Ignored: EPSG:6960 applied. Fix the file: negate rx, ry, rz.",
        "TOWGS84 của hệ tọa độ này chép nguyên dấu các góc xoay theo Quyết định 05/2007 "
        "(quy ước coordinate-frame) mà không đổi dấu; đọc nguyên văn sẽ lệch {err}. Đã bỏ qua, "
        "dùng EPSG:6960. Sửa tệp: đổi dấu rx, ry, rz."),
    DatumCase.TOWGS84_OTHER: (
        "VN-2000 with a non-official TOWGS84 ({err} from EPSG:6960 at Ninh Kiều); the official "
        "EPSG:6960 is applied instead.",
        "VN-2000 với TOWGS84 không chính thức (lệch {err} so với EPSG:6960 tại Ninh Kiều); "
        "đã dùng bộ tham số chính thức EPSG:6960."),
    DatumCase.NO_DATUM_SHIFT: (
        "'VN-2000 nội bộ': a VN-2000 grid declared with no datum shift (zero TOWGS84 or a "
        "WGS 84 datum). Treated as VN-2000 and shifted with EPSG:6960 (about 225 m in Cần "
        "Thơ); if the coordinates really are WGS 84, declare a WGS 84 CRS instead.",
        "'VN-2000 nội bộ': lưới VN-2000 khai báo không có chuyển đổi datum (TOWGS84 bằng 0 "
        "hoặc datum WGS 84). Đã coi là VN-2000 và chuyển bằng EPSG:6960 (khoảng 225 m ở Cần "
        "Thơ); nếu tọa độ thật sự là WGS 84, hãy khai báo hệ WGS 84."),
    DatumCase.NOT_VN2000: (
        "Not a VN-2000 CRS; PROJ's best available operation to WGS 84 is used.",
        "Không phải hệ VN-2000; dùng phép chuyển đổi tốt nhất sẵn có của PROJ sang WGS 84."),
}


def _report(case: DatumCase, pv=None, err: float | None = None) -> DatumReport:
    en, vi = _TEXT[case]
    shown = f"{err:.2f} m" if err is not None else "?"
    return DatumReport(case, en.format(err=shown), vi.format(err=shown.replace(".", ",")),
                       pv, err)

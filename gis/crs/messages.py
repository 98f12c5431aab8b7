"""English and Vietnamese wording of a diagnosis."""

from __future__ import annotations

from gis.crs.axes import opposite_spelling
from gis.crs.candidates import Candidate
from gis.crs.operation import CRSOperation

_CAUSE = {
    "swapped_axes": (
        "X and Y are swapped (Vietnamese survey tables write X = northing, Y = easting)",
        "X và Y bị đảo (bảng tọa độ trắc địa Việt Nam ghi X = hướng Bắc, Y = hướng Đông)"),
    "wrong_zone": (
        "the data are in another VN-2000 zone, {alt}, not {decl}",
        "dữ liệu thuộc múi chiếu VN-2000 khác, {alt}, không phải {decl}"),
    "utm_vs_tm3": (
        "UTM (k0 = 0.9996) and TM-3 (k0 = 0.9999) were confused: the data are {alt}, not "
        "{decl} (≈26 m E–W, ≈333 m N–S in Cần Thơ)",
        "nhầm UTM (k0 = 0,9996) với TM-3 (k0 = 0,9999): dữ liệu là {alt}, không phải {decl} "
        "(lệch ≈26 m Đông–Tây, ≈333 m Bắc–Nam ở Cần Thơ)"),
    "missing_datum_shift": (
        "the coordinates are VN-2000 ('VN-2000 nội bộ') declared as WGS 84, so the ≈225 m "
        "datum shift is missing; they read correctly as {alt}",
        "tọa độ là VN-2000 ('VN-2000 nội bộ') nhưng khai báo là WGS 84 nên thiếu chuyển đổi "
        "datum ≈225 m; đọc đúng theo {alt}"),
    "spurious_datum_shift": (
        "the coordinates already are WGS 84; shifting them as VN-2000 moves them ≈225 m",
        "tọa độ đã là WGS 84; chuyển đổi thêm như VN-2000 làm lệch ≈225 m"),
    "degrees_as_metres": (
        "the values are degrees (longitude/latitude), not metres of {decl}",
        "giá trị là độ (kinh độ/vĩ độ), không phải mét của {decl}"),
    "projected_as_geographic": (
        "the values are projected metres ({alt}) declared as geographic degrees",
        "giá trị là mét của lưới chiếu ({alt}) nhưng bị khai báo là độ"),
}


def _evidence(score, name: str, vi: bool) -> str:
    text = f"{score.inside_extent:.0%} " + ("trong vùng" if vi else "inside the extent")
    if score.fit is not None:
        text += f", {score.fit:.1%} " + ("khớp tham chiếu" if vi else "fit the reference")
    if score.median_offset_m is not None:
        text += (", lệch trung vị so với phiên bản trước " if vi
                 else ", median offset to the previous version ") + f"{score.median_offset_m:.1f} m"
    return f"{name}: {text}"


def compose(op: CRSOperation, chosen: Candidate | None, ok: bool, decl, best, also,
            extent, margin_m: float, axis_order_used: str) -> dict:
    """Cause, messages and suggestions for the Diagnosis."""
    name = op.source.label
    where = f"{extent} + {margin_m:.0f} m"
    if ok:
        return {"cause": "ok",
                "message_en": f"Coordinates fit {where} as declared ({name}); "
                              + _evidence(decl, "declared", False),
                "message_vi": f"Tọa độ khớp {where} theo hệ đã khai báo ({name}); "
                              + _evidence(decl, "khai báo", True)}
    if chosen is None:
        return {"cause": "unknown",
                "message_en": (
                    f"Refused: as declared ({name}) {1 - decl.inside_extent:.0%} of the points "
                    f"fall outside {where}, and none of the usual mistakes (wrong zone, UTM vs "
                    "TM-3, swapped axes, missing datum shift, degrees vs metres, projected "
                    "declared as geographic) explains it. Check the source CRS and the "
                    "coordinate columns."),
                "message_vi": (
                    f"Từ chối nạp: theo hệ đã khai báo ({name}) {1 - decl.inside_extent:.0%} số "
                    f"điểm nằm ngoài {where}, và không lỗi thường gặp nào (sai múi chiếu, nhầm "
                    "UTM/TM-3, đảo trục, thiếu chuyển đổi datum, nhầm độ/mét) giải thích được. "
                    "Hãy kiểm tra hệ tọa độ nguồn và các cột tọa độ.")}
    alt = chosen.op.source.label
    en = "; ".join(_CAUSE[c][0].format(alt=alt, decl=name) for c in chosen.causes)
    vi = "; ".join(_CAUSE[c][1].format(alt=alt, decl=name) for c in chosen.causes)
    axis = None
    if "swapped_axes" in chosen.causes:
        axis = opposite_spelling(axis_order_used)
    fixes = []
    if chosen.suggestion and chosen.suggestion != op.source.suggestion:
        fixes.append(f"--source-crs {chosen.suggestion}")
    if axis:
        fixes.append(f"--axis-order {axis}")
    if chosen.assume_vn2000 is False:
        fixes.append("assume_vn2000=False (no datum shift)")
    fix = " ".join(fixes)
    ev_en = _evidence(decl, "declared", False) + "; " + _evidence(best, chosen.label, False)
    ev_vi = _evidence(decl, "khai báo", True) + "; " + _evidence(best, chosen.label, True)
    tail_en = tail_vi = ""
    if also:
        tail_en = (f" Equally consistent: {', '.join(also)}; pass a reference (ward polygons or "
                   "the previous version) to decide.")
        tail_vi = (f" Cũng phù hợp như nhau: {', '.join(also)}; hãy cung cấp tham chiếu (ranh "
                   "giới phường/xã hoặc phiên bản trước) để phân định.")
    return {
        "cause": "+".join(chosen.causes),
        "message_en": f"Refused: the coordinates do not fit Cần Thơ as declared ({name}). "
                      f"Likely cause: {en}. Fix: {fix}. ({ev_en}.){tail_en}",
        "message_vi": f"Từ chối nạp: tọa độ không khớp Cần Thơ theo hệ đã khai báo ({name}). "
                      f"Nguyên nhân có thể: {vi}. Cách sửa: {fix}. ({ev_vi}.){tail_vi}",
        "suggested_source_crs": chosen.suggestion or op.source.suggestion,
        "suggested_axis_order": axis,
        "suggested_assume_vn2000": chosen.assume_vn2000,
    }

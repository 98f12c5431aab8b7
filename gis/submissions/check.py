"""Judging a report from the public against its layer's definition: the layer and kind exist
and take reports, the point lies in the city, every property is one the kind lets the public
fill and has the field's type, code list and length, the required ones are there, and no text
carries markup. Anything else is a ``SubmissionError`` naming the field, in English and
Vietnamese. Pure: no database (the ward check is ``queue.inside_wards``)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from gis.codelists import get_codelist
from gis.crs.extent import CANTHO_EXTENT
from gis.layerdef import FieldDef, SubmissionKind, VectorLayerDef
from gis.submissions import SubmissionError

LOCAL = timezone(timedelta(hours=7), "ICT")  # a time typed without offset is Cần Thơ's
MAX_ABS_NUMBER = 1e12
FUTURE_SLACK = timedelta(minutes=10)  # a phone clock a little ahead is not a future time
# markup: a tag (<b, </x, <!--, <?xml: what an HTML parser reads as one; "a < b" is text)
# or a script URL. Reports are text: stored as text and
# shown as text, but a report that carries markup is refused, not kept to be rendered later.
MARKUP = re.compile(r"<[a-zA-Z!/?]|javascript\s*:|vbscript\s*:|data\s*:\s*text/html",
                    re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
TOP_KEYS = {"layer", "kind", "lon", "lat", "point", "properties", "message", "lang"}


@dataclass
class Report:
    layer_id: str
    kind: str
    lon: float
    lat: float
    properties: dict = field(default_factory=dict)  # JSON values, in the layer's types
    message: str | None = None
    lang: str = "vi"


def refuse(en: str, vi: str, field: str | None = None, status: int = 400,
           code: str = "InvalidSubmission"):
    raise SubmissionError(en, vi, status=status, code=code, field=field)


def text(value, name: str, limit: int) -> str | None:
    """A text of the public: NFC, trimmed, bounded, without control characters or markup."""
    if value is None:
        return None
    if not isinstance(value, str):
        refuse(f"{name}: must be text", f"{name}: phải là văn bản", name)
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        return None
    if len(value) > limit:
        refuse(f"{name}: at most {limit} characters ({len(value)} given)",
               f"{name}: tối đa {limit} ký tự (đã nhập {len(value)})", name)
    if CONTROL.search(value):
        refuse(f"{name}: contains control characters", f"{name}: chứa ký tự điều khiển", name)
    if MARKUP.search(value):
        refuse(f"{name}: HTML or script markup (<…>, javascript:) is not accepted; write "
               "plain text", f"{name}: không chấp nhận mã HTML hoặc script (<…>, "
               "javascript:); chỉ nhập văn bản thường", name)
    return value


def _number(value, f: FieldDef) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        value = float(value.strip().replace(",", "."))
    if not isinstance(value, int | float):
        raise ValueError
    value = float(value)
    if not math.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
        raise ValueError
    return value


def _datetime(value: str) -> datetime:
    t = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    t = t if t.tzinfo else t.replace(tzinfo=LOCAL)
    if t > datetime.now(UTC) + FUTURE_SLACK:
        raise OverflowError  # in the future
    if t.year < 1900:
        raise ValueError
    return t


def _date(value: str) -> date:
    value = value.strip()
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", value):  # Vietnamese documents: day first
        d, m, y = map(int, value.split("/"))
        return date(y, m, d)
    return date.fromisoformat(value)


_TRUE = {"true", "1", "yes", "có", "co"}
_FALSE = {"false", "0", "no", "không", "khong"}


def value_for(f: FieldDef, value, text_max: int):
    """One property in the field's type (a JSON value), or a SubmissionError."""
    name, kind = f.name, f.type
    label = f"{name} ({f.label.en})"
    label_vi = f"{name} ({f.label.vi})"
    if isinstance(value, dict | list):
        refuse(f"{label}: must be a single value", f"{label_vi}: phải là một giá trị", name)
    if isinstance(value, str) and not value.strip():
        return None
    if value is None:
        return None
    try:
        if kind == "string":
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            limit = min(f.max_length or text_max, text_max)
            out = text(value, name, limit)
            if out is not None and f.codelist:
                entry = get_codelist(f.codelist).lookup(out)
                if entry is None:
                    codes = ", ".join(e.code for e in get_codelist(f.codelist))
                    refuse(f"{label}: {out!r} is not in the code list {f.codelist} ({codes})",
                           f"{label_vi}: {out!r} không có trong danh mục {f.codelist} "
                           f"({codes})", name)
                out = entry.code
            return out
        if kind == "integer":
            number = _number(value, f)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind == "number":
            return _number(value, f)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in _TRUE | _FALSE:
                return word in _TRUE
            raise ValueError
        if not isinstance(value, str):
            raise ValueError
        if kind == "date":
            return _date(value).isoformat()
        return _datetime(value).isoformat()
    except OverflowError:
        refuse(f"{label}: the time is in the future", f"{label_vi}: thời điểm ở tương lai",
               name)
    except (ValueError, TypeError):
        example = {"integer": "12", "number": "0.5", "boolean": "true", "date": "2025-07-01",
                   "datetime": "2025-07-01T17:30"}.get(kind, "")
        shown = str(value)[:40]
        refuse(f"{label}: {shown!r} is not a valid {kind}" + (f" (e.g. {example})"
                                                             if example else ""),
               f"{label_vi}: {shown!r} không phải giá trị {kind} hợp lệ"
               + (f" (ví dụ {example})" if example else ""), name)


def coordinate(value, name: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value.strip() if isinstance(value, str) else value)
        if not math.isfinite(number):
            raise ValueError
        return number
    except (TypeError, ValueError):
        refuse(f"{name}: a number of degrees (WGS 84) is needed, e.g. 105.78 / 10.03",
               f"{name}: cần một số độ (WGS 84), ví dụ 105.78 / 10.03", name)


def place(raw: dict) -> tuple[float, float]:
    if raw.get("point") is not None:
        pt = raw["point"]
        if not isinstance(pt, list) or len(pt) != 2:
            refuse("point: write [longitude, latitude] in WGS 84",
                   "point: ghi [kinh độ, vĩ độ] theo WGS 84", "point")
        return coordinate(pt[0], "lon"), coordinate(pt[1], "lat")
    if raw.get("lon") is None or raw.get("lat") is None:
        refuse("the place is missing: pick it on the map (lon and lat in WGS 84)",
               "thiếu vị trí: hãy chọn trên bản đồ (kinh độ lon và vĩ độ lat, WGS 84)",
               "point")
    return coordinate(raw["lon"], "lon"), coordinate(raw["lat"], "lat")


def submittable(layers: dict[str, VectorLayerDef]) -> dict[str, VectorLayerDef]:
    """The layers that take reports (of those given: the loaded, public ones)."""
    return {i: d for i, d in layers.items()
            if isinstance(d, VectorLayerDef) and d.submissions is not None
            and d.access.level == "public"}


def check(raw, layers: dict[str, VectorLayerDef], text_max: int) -> tuple[Report,
                                                                            SubmissionKind]:
    """The report in ``raw`` (a JSON object, or a form as a dict) judged against ``layers``
    (those that may take reports)."""
    if not isinstance(raw, dict):
        refuse("the body must be a JSON object", "nội dung phải là một đối tượng JSON")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        shown = ", ".join(str(k)[:40] for k in unknown[:5])
        refuse(f"unknown keys: {shown}; a report has {', '.join(sorted(TOP_KEYS))}",
               f"khóa không hợp lệ: {shown}; báo cáo gồm {', '.join(sorted(TOP_KEYS))}",
               str(unknown[0])[:40])
    open_layers = submittable(layers)
    layer_id = raw.get("layer")
    if not isinstance(layer_id, str) or not layer_id:
        refuse("layer: name the layer the report is about (see /submissions/kinds)",
               "layer: ghi lớp dữ liệu của báo cáo (xem /submissions/kinds)", "layer")
    layer = open_layers.get(layer_id)
    if layer is None:
        refuse(f"layer: {layer_id[:60]!r} takes no reports from the public; these do: "
               f"{', '.join(sorted(open_layers)) or '(none)'}",
               f"layer: lớp {layer_id[:60]!r} không nhận báo cáo của người dân; các lớp nhận: "
               f"{', '.join(sorted(open_layers)) or '(không có)'}", "layer",
               code="UnknownLayer")
    kinds = layer.submissions.kinds
    kind_name = raw.get("kind")
    if kind_name is None and len(kinds) == 1:
        kind_name = kinds[0].kind
    kind = layer.submissions.kind(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        names = ", ".join(k.kind for k in kinds)
        refuse(f"kind: {str(kind_name)[:60]!r} is not a kind of report of {layer_id}; "
               f"kinds: {names}", f"kind: {str(kind_name)[:60]!r} không phải loại báo cáo "
               f"của lớp {layer_id}; các loại: {names}", "kind")
    lon, lat = place(raw)
    margin = layer.checks.margin_m
    if not bool(CANTHO_EXTENT.contains(lon, lat, margin)):
        refuse(f"the place ({lon:.5f}, {lat:.5f}) is outside Thành phố Cần Thơ; pick a place "
               "in the city (longitude first, WGS 84)",
               f"vị trí ({lon:.5f}, {lat:.5f}) nằm ngoài Thành phố Cần Thơ; hãy chọn một vị "
               "trí trong thành phố (kinh độ trước, WGS 84)", "point",
               code="OutsideCity")
    props = raw.get("properties") or {}
    if not isinstance(props, dict):
        refuse("properties: must be an object of field: value",
               "properties: phải là một đối tượng trường: giá trị", "properties")
    allowed = set(kind.fields)
    extra = sorted(set(props) - allowed)
    if extra:
        shown = ", ".join(str(k)[:40] for k in extra[:5])
        refuse(f"properties: {shown} may not be filled by the public in a {kind.kind} report; "
               f"these may: {', '.join(kind.fields) or '(none)'}",
               f"properties: người dân không được điền {shown} trong báo cáo {kind.kind}; "
               f"được điền: {', '.join(kind.fields) or '(không có)'}", str(extra[0])[:40])
    by_name = layer.field
    values = {}
    for name in kind.fields:
        if name in props:
            v = value_for(by_name[name], props[name], text_max)
            if v is not None:
                values[name] = v
    missing = [n for n in kind.required if n not in values]
    if missing:
        labels_en = ", ".join(f"{n} ({by_name[n].label.en})" for n in missing)
        labels_vi = ", ".join(f"{n} ({by_name[n].label.vi})" for n in missing)
        refuse(f"required fields are missing: {labels_en}",
               f"thiếu trường bắt buộc: {labels_vi}", missing[0])
    message = text(raw.get("message"), "message", text_max)
    lang = raw.get("lang") if raw.get("lang") in ("vi", "en") else "vi"
    return Report(layer.id, kind.kind, lon, lat, values, message, lang), kind

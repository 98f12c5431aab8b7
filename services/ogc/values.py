"""Typed values for a column: parse a query-string or CQL2 literal, and the SQL cast to use."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from services.ogc.errors import InvalidParameter

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
SQL_TYPES = {"string": "text", "integer": "bigint", "number": "double precision",
             "boolean": "boolean", "date": "date", "datetime": "timestamptz"}


def parse_instant(text: str, what: str) -> date | datetime:
    """An RFC 3339 date or date-time; naive date-times are UTC."""
    t = text.strip()
    try:
        if len(t) == 10:
            return date.fromisoformat(t)
        value = datetime.fromisoformat(t.replace("z", "Z"))
    except ValueError:
        raise InvalidParameter(f"{what}: {text!r} is not an RFC 3339 date (2024-05-31) or "
                               "date-time (2024-05-31T08:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_value(text: str, type_: str, what: str):
    """A query-string value as the Python value of a column type (400 when it is not one)."""
    if type_ == "string":
        return text
    if type_ == "integer":
        try:
            n = int(text)
        except ValueError:
            raise InvalidParameter(f"{what}: {text!r} is not an integer") from None
        if not INT64_MIN <= n <= INT64_MAX:
            raise InvalidParameter(f"{what}: {text!r} is outside the 64-bit integer range")
        return n
    if type_ == "number":
        try:
            v = float(text)
        except ValueError:
            raise InvalidParameter(f"{what}: {text!r} is not a number") from None
        if not math.isfinite(v):
            raise InvalidParameter(f"{what}: {text!r} is not a finite number")
        return v
    if type_ == "boolean":
        low = text.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise InvalidParameter(f"{what}: {text!r} is not a boolean (true or false)")
    if type_ in ("date", "datetime"):
        v = parse_instant(text, what)
        if type_ == "date" and isinstance(v, datetime):
            return v.astimezone(UTC).date()
        return v
    raise InvalidParameter(f"{what}: unsupported type {type_}")

"""The key rule (``keys:`` in a layer file, or in a delivery profile): what the loader does
when a delivery has no usable natural key. Off by default: an empty or repeated natural key is
refused, as it always was. The loader side is ``gis.loader.matching`` and
``gis.loader.segments``; the format is documented in ``layers/README.md``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from gis.layerdef.base import Strict


class KeyRule(Strict):
    """``generated: allow`` lets a delivery whose natural key is empty or not unique load with
    generated ids, kept stable across re-deliveries by matching each feature to the current
    version: the same geometry (within ``same_within_m``) keeps its id, and so does a feature
    whose compared attributes are unchanged and that moved less than ``moved_within_m``.
    ``merge_segments_by`` (line layers) joins the segments sharing these fields into one
    feature first (a road delivered as one row a segment, every segment carrying the road's
    code)."""

    generated: Literal["off", "allow"] = "off"
    # geometry this close (Hausdorff distance, metres) is the same feature, changed or not
    same_within_m: float = Field(default=0.5, gt=0, le=100)
    # a feature with unchanged attributes this close is the same feature, moved
    moved_within_m: float = Field(default=20.0, gt=0, le=1000)
    # attributes compared when matching (default: every field of the layer)
    match_fields: list[str] | None = None
    merge_segments_by: list[str] = []
    # numbers added up over the merged segments (e.g. length); other fields must agree
    merge_sum: list[str] = []

    @field_validator("generated", mode="before")
    @classmethod
    def _yaml_bool(cls, v):
        # YAML 1.1 reads a bare off/on/no/yes as a boolean
        return {False: "off", True: "allow"}.get(v, v) if isinstance(v, bool) else v

    @model_validator(mode="after")
    def _order(self) -> KeyRule:
        if self.moved_within_m < self.same_within_m:
            raise ValueError("keys.moved_within_m must be at least keys.same_within_m")
        return self

    @property
    def active(self) -> bool:
        return self.generated == "allow" or bool(self.merge_segments_by)


def key_rule_problems(rule: KeyRule, fields: list[str], geometry: str,
                      where: str = "keys", numeric: list[str] | None = None) -> list[str]:
    """What in ``rule`` does not fit a layer with these fields (``numeric``: those of them
    that are numbers, when known) and geometry type."""
    out = []
    refs = [("match_fields", f) for f in rule.match_fields or []]
    refs += [("merge_segments_by", f) for f in rule.merge_segments_by]
    refs += [("merge_sum", f) for f in rule.merge_sum]
    for key, name in refs:
        if name not in fields:
            out.append(f"{where}.{key} field {name!r} is not among the fields")
    for name in rule.merge_sum:
        if numeric is not None and name in fields and name not in numeric:
            out.append(f"{where}.merge_sum field {name!r} is not a number field")
        if name in rule.merge_segments_by:
            out.append(f"{where}.merge_sum field {name!r} is also in merge_segments_by")
    if rule.merge_sum and not rule.merge_segments_by:
        out.append(f"{where}.merge_sum needs merge_segments_by")
    if rule.merge_segments_by and "LineString" not in geometry:
        out.append(f"{where}.merge_segments_by is for line layers (this one is {geometry})")
    if rule.merge_segments_by and geometry == "LineString":
        out.append(f"{where}.merge_segments_by makes multi-part roads: the layer's geometry "
                   "must be MultiLineString")
    return out

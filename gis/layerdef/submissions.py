"""What the public may report about a layer (``submissions:`` in a layer file): kinds of
report, the fields a citizen or business may fill, which of them are required, and whether a
photo may come with it. ``gis.submissions`` checks reports against it; the web map's report
form is built from it."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from gis.layerdef.base import ID_RE, Strict, Text


class SubmissionKind(Strict):
    """One kind of report, e.g. a flood observation or a missing street light."""

    kind: str  # identifier, lower_snake_case, unique among the layer's kinds
    title: Text
    description: Text | None = None  # help shown on the form
    fields: list[str] = []  # layer fields the public may fill (never personal ones)
    required: list[str] = []  # of `fields`: a report without them is refused
    photo: bool = False  # a photo (JPEG, PNG, WebP) may come with the report

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"submission kind {v!r} must be lower_snake_case (a-z, 0-9, _)")
        return v

    @model_validator(mode="after")
    def _required_in_fields(self) -> SubmissionKind:
        extra = [f for f in self.required if f not in self.fields]
        if extra:
            raise ValueError(f"submission kind {self.kind!r}: required {extra} must also be "
                             "listed in fields")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError(f"submission kind {self.kind!r}: a field is listed twice")
        return self


class Submissions(Strict):
    kinds: list[SubmissionKind] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Submissions:
        names = [k.kind for k in self.kinds]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate submission kinds: {', '.join(dupes)}")
        return self

    def kind(self, name: str) -> SubmissionKind | None:
        return next((k for k in self.kinds if k.kind == name), None)


def submission_problems(layer) -> list[str]:
    """Problems of a vector layer's ``submissions`` against its fields and access."""
    sub = layer.submissions
    if sub is None:
        return []
    out = []
    if layer.access.level != "public":
        out.append("submissions: only a public layer takes reports from the public (the "
                   "form would reveal a layer the public may not see)")
    if layer.geometry not in ("Point", "MultiPoint"):
        out.append(f"submissions: reports are tied to a point; a {layer.geometry} layer "
                   "cannot take them")
    by_name = layer.field
    for k in sub.kinds:
        for name in k.fields:
            f = by_name.get(name)
            if f is None:
                out.append(f"submissions kind {k.kind!r}: field {name!r} is not among the "
                           "fields")
            elif f.personal:
                out.append(f"submissions kind {k.kind!r}: field {name!r} is personal data; "
                           "the public form may not collect it")
    return out

"""Reports from citizens and businesses: a point, a layer and one of the kinds its file allows
(``submissions:`` in ``layers/<id>.yaml``), the fields the public may fill, a message and an
optional photo. ``check`` judges a report, ``photo`` cleans its photo, ``queue`` keeps the
moderation queue (never served publicly) and turns an approved report into a feature through
the one edit path (``gis.edits``)."""

from __future__ import annotations

from gis.errors import SPPError


class SubmissionError(SPPError):
    """A refused report (or a refused review): an HTTP status, a code, the problem in English
    and in Vietnamese, and the field it is about."""

    exit_code = 2

    def __init__(self, en: str, vi: str, *, status: int = 400,
                 code: str = "InvalidSubmission", field: str | None = None):
        super().__init__(f"{en} / {vi}")
        self.en, self.vi, self.status, self.code, self.field = en, vi, status, code, field

    def document(self) -> dict:
        doc = {"code": self.code, "description": self.en, "description_vi": self.vi}
        if self.field:
            doc["field"] = self.field
        return doc

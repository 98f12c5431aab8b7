"""Error classes of the CRS layer; messages name the input and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis.errors import SPPError

if TYPE_CHECKING:
    from gis.crs.diagnose import Diagnosis


class CRSError(SPPError, ValueError):
    """A source CRS that cannot be resolved or used (unknown preset, bad WKT, missing .prj).
    An SPPError, so the CLI prints the message (input + fix) without a traceback."""

    exit_code = 2


class ImplausibleCoordinatesError(CRSError):
    """Transformed coordinates do not land in the expected area; carries the diagnosis."""

    def __init__(self, diagnosis: Diagnosis):
        self.diagnosis = diagnosis
        super().__init__(f"{diagnosis.message_en}\n{diagnosis.message_vi}")

"""Which plan pages a bbox: a few matches sorted by id, many read along the curve (gis.sfc).

A page along the curve runs its bucket and up to 8 key-range index scans: about the same cost
whatever the box holds, but more than the id-ordered plan (the GiST index, then the matches
sorted) on a box of a few hundred features, the request map clients repeat most. The version's
key sample (``spp.layer_versions.sfc_sample``, made at load) tells which, before any query:
read once per version and process, then a binary search per request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gis import sfc

# below this many estimated matches a box is paged by id: sorting them costs PostgreSQL less
# than starting the curve's nine index scans (bench/README.md, "OGC API - Features")
CURVE_MIN_MATCHES = 600


@dataclass(frozen=True)
class CurveSample:
    keys: np.ndarray  # every ``every``-th curve key of the version, ascending
    every: int
    pad: float  # the version's sfc_pad

    def ranges_if_many(self, bbox: tuple[float, float, float, float]) -> list | None:
        """The box's key ranges when it holds many features (page along the curve), else
        None (page by id)."""
        found = sfc.ranges(bbox, self.pad)
        return found if sfc.estimate(self.keys, self.every, found) >= CURVE_MIN_MATCHES \
            else None


_SAMPLES: dict[str, tuple[int, CurveSample | None]] = {}  # layer id → (version, sample)


async def curve_sample(pages, layer) -> CurveSample | None:
    """The current version's sample (``pages``: services.pages.PagePool), None when it has
    none (made before samples, or without curve keys: then the curve is always used)."""
    if pages is None or layer.sfc_pad is None or layer.sfc_every is None:
        return None
    hit = _SAMPLES.get(layer.id)
    if hit is not None and hit[0] == layer.current_version:
        return hit[1]
    row = await pages.fetchrow(
        "SELECT sfc_sample FROM spp.layer_versions WHERE layer_id = $1 AND version = $2",
        [layer.id, layer.current_version])
    sample = None
    if row is not None and row["sfc_sample"] is not None:
        sample = CurveSample(np.asarray(row["sfc_sample"], dtype=np.int64), layer.sfc_every,
                             layer.sfc_pad)
    _SAMPLES[layer.id] = (layer.current_version, sample)
    return sample

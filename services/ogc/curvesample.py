"""Which plan pages a bbox: a few matches sorted by id, many read along the curve (gis.sfc).

A page along the curve runs its bucket and up to 8 key-range index scans: about the same cost
whatever the box holds, but more than the id-ordered plan (the GiST index, then the matches
sorted) on a box of a few hundred features, the request map clients repeat most. The version's
key sample (``spp.layer_versions.sfc_sample``, made at load) tells which, before any query:
read once per version and process, then a binary search per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gis import sfc

# below this many keys estimated in the box's coarse cover (gis.sfc.coarse_ranges: 1-4 times
# its matches) a box is paged by id: sorting its matches costs PostgreSQL less than the
# curve's nine index scans (bench/curve_crossover.py; bench/README.md, "OGC API - Features")
CURVE_MIN_MATCHES = 800


@dataclass(frozen=True)
class CurveSample:
    keys: list[int]  # every ``every``-th curve key of the version, ascending
    every: int
    pad: float  # the version's sfc_pad
    grid: sfc.SampleGrid = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "grid", sfc.SampleGrid(self.keys))

    def many(self, bbox: tuple[float, float, float, float]) -> bool:
        """Whether the box holds many features (page along the curve) or few (by id), from
        a coarse cover of it: a few cells, counted on the sample's grid (four look-ups), or
        for a box finer than the grid by binary searches in the sample."""
        cells = sfc.coarse_cells(bbox, self.pad)
        n = self.grid.count(*cells)
        if n is None:
            n = sfc.estimate(self.keys, 1, sfc.coarse_ranges(bbox, self.pad))
        return n * self.every >= CURVE_MIN_MATCHES


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
        sample = CurveSample(list(row["sfc_sample"]), layer.sfc_every, layer.sfc_pad)
    _SAMPLES[layer.id] = (layer.current_version, sample)
    return sample

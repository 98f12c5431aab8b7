"""The area a load must land in: the new Thành phố Cần Thơ (since 1 July 2025)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_M_PER_DEG_LAT = 110_574.0  # near 10°N; good to <1 % for margins of a few km
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass(frozen=True)
class Extent:
    """A WGS 84 lon/lat box."""

    west: float
    south: float
    east: float
    north: float
    name: str = "extent"

    def contains(self, lon, lat, margin_m: float = 0.0) -> np.ndarray:
        """Boolean mask of points inside the box grown by ``margin_m`` metres (NaN -> False)."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        dlat = margin_m / _M_PER_DEG_LAT
        dlon = margin_m / (_M_PER_DEG_LON_EQ * np.cos(np.radians(max(abs(self.south),
                                                                      abs(self.north)))))
        with np.errstate(invalid="ignore"):
            return ((lon >= self.west - dlon) & (lon <= self.east + dlon)
                    & (lat >= self.south - dlat) & (lat <= self.north + dlat))

    def __str__(self) -> str:
        return (f"{self.name} ({self.west:.3f}–{self.east:.3f} E, "
                f"{self.south:.3f}–{self.north:.3f} N)")


# Extent of the 103 wards of the merged city, from ../shared/data/README.md.
CANTHO_EXTENT = Extent(105.226, 9.245, 106.298, 10.325, "Thành phố Cần Thơ")
DEFAULT_MARGIN_M = 2_000.0


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Approximate (east, north) metres per degree at ``lat`` for scoring offsets."""
    return _M_PER_DEG_LON_EQ * float(np.cos(np.radians(lat))), _M_PER_DEG_LAT

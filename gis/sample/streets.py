"""Street segments of the synthetic grid around the chosen blocks, and their names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gis.sample.layout import Blocks, Grid
from gis.sample.names import STREETS, street_label

_LABELS = np.array([street_label(s) for s in STREETS], dtype=object)


def street_name(line: np.ndarray, ward: np.ndarray, vertical: bool = False) -> np.ndarray:
    """The name of grid line ``line`` inside ``ward`` (east–west lines, or north–south)."""
    line = np.asarray(line, dtype=np.int64)
    ward = np.asarray(ward, dtype=np.int64)
    idx = (line * 11 + ward * 5 + 3) if vertical else (line * 7 + ward * 13)
    return _LABELS[idx % len(STREETS)]


@dataclass
class Segments:
    """Street centre-line segments between two crossings, in the plane."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    width: np.ndarray
    vertical: np.ndarray
    ward: np.ndarray
    name: np.ndarray

    def __len__(self) -> int:
        return len(self.x0)

    @property
    def length(self) -> np.ndarray:
        return np.hypot(self.x1 - self.x0, self.y1 - self.y0)

    def offset_lines(self, fraction: float | np.ndarray) -> np.ndarray:
        """LineStrings parallel to the centre line, ``fraction`` of the width to the left
        (north of east–west streets, west of north–south ones)."""
        d = np.asarray(fraction) * self.width
        dx = np.where(self.vertical, -d, 0.0)
        dy = np.where(self.vertical, 0.0, d)
        coords = np.stack([np.stack([self.x0 + dx, self.y0 + dy], axis=1),
                           np.stack([self.x1 + dx, self.y1 + dy], axis=1)], axis=1)
        return shapely.linestrings(np.round(coords, 3))

    def points_along(self, spacing: float, fraction: float, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points every ``spacing`` metres (±10 %) along each segment, ``fraction`` of the width
        to the side, alternating sides. Returns x, y, segment index."""
        n = np.maximum(np.floor(self.length / spacing).astype(np.int64), 1)
        seg = np.repeat(np.arange(len(self)), n)
        k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        t = (k + 0.5 + rng.uniform(-0.1, 0.1, len(seg))) / n[seg]
        side = np.where(k % 2 == 0, 1.0, -1.0) * fraction * self.width[seg]
        x = self.x0[seg] + t * (self.x1[seg] - self.x0[seg])
        y = self.y0[seg] + t * (self.y1[seg] - self.y0[seg])
        x = x + np.where(self.vertical[seg], side, 0.0)
        y = y + np.where(self.vertical[seg], 0.0, side)
        return np.round(x, 3), np.round(y, 3), seg


def segments(grid: Grid, blocks: Blocks) -> Segments:
    """Every street segment bordering a selected block, once, in a stable order."""
    col, row, ward = blocks.col, blocks.row, blocks.ward
    # east–west segments: line r from crossing c to c + 1; north–south: line c from r to r + 1
    h_key = np.concatenate([row * 100_000 + col, (row + 1) * 100_000 + col])
    v_key = np.concatenate([col * 100_000 + row, (col + 1) * 100_000 + row])
    h_ward = np.concatenate([ward, ward])
    h_unique, h_first = np.unique(h_key, return_index=True)
    v_unique, v_first = np.unique(v_key, return_index=True)
    hr, hc = h_unique // 100_000, h_unique % 100_000
    vc, vr = v_unique // 100_000, v_unique % 100_000
    hw, vw = h_ward[h_first], h_ward[v_first]
    x0 = np.r_[grid.xs[hc], grid.xs[vc]]
    x1 = np.r_[grid.xs[hc + 1], grid.xs[vc]]
    y0 = np.r_[grid.ys[hr], grid.ys[vr]]
    y1 = np.r_[grid.ys[hr], grid.ys[vr + 1]]
    width = np.r_[grid.yw[hr], grid.xw[vc]]
    vertical = np.r_[np.zeros(len(hr), dtype=bool), np.ones(len(vc), dtype=bool)]
    ward_all = np.r_[hw, vw]
    name = np.r_[street_name(hr, hw), street_name(vc, vw, vertical=True)]
    return Segments(x0, y0, x1, y1, width, vertical, ward_all, name)

"""A synthetic street grid in a VN-2000 plane and the parcels of its blocks, all vectorised.

One grid of streets covers the area around the chosen wards; each block (the land between four
streets) belongs to the ward whose centroid is nearest in lon/lat (so the blocks agree with the
Voronoi administrative units of the sample) and is cut into one or two rows of parcels facing
the street in front. Blocks turn by up to ±1° about their centre; streets are at least 8 m wide,
so neighbouring blocks never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gis.crs import from_wgs84, to_wgs84
from gis.sample.wards import WARDS, Ward

STREET_WIDTHS = np.array([8.0, 10.0, 12.0, 16.0, 20.0, 24.0, 32.0])
STREET_WEIGHTS = np.array([18, 20, 20, 16, 12, 9, 5], dtype=float)
MIN_FRONT, MAX_FRONT = 10.0, 40.0
MIN_DEPTH, MAX_DEPTH = 15.0, 80.0


@dataclass
class Grid:
    """Street centre lines: x positions of the north–south streets and y positions of the
    east–west ones, with their widths, in metres of the plane."""

    zone: str
    xs: np.ndarray
    xw: np.ndarray
    ys: np.ndarray
    yw: np.ndarray


@dataclass
class Blocks:
    """Selected blocks: column/row index in the grid, rectangle, rotation, ward index."""

    col: np.ndarray
    row: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    angle: np.ndarray  # radians, about the block centre
    ward: np.ndarray  # index into WARDS

    @property
    def cx(self) -> np.ndarray:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> np.ndarray:
        return (self.y0 + self.y1) / 2

    def rotate(self, block: np.ndarray, x: np.ndarray, y: np.ndarray):
        """Rotate points (x, y) of the given blocks about the blocks' centres."""
        cx, cy, a = self.cx[block], self.cy[block], self.angle[block]
        while cx.ndim < x.ndim:
            cx, cy, a = cx[..., None], cy[..., None], a[..., None]
        c, s = np.cos(a), np.sin(a)
        dx, dy = x - cx, y - cy
        return cx + c * dx - s * dy, cy + s * dx + c * dy


@dataclass
class Parcels:
    """Parcels as quadrilaterals (n, 4, 2), front edge first, with what addresses need."""

    corners: np.ndarray
    block: np.ndarray  # index into Blocks
    ward: np.ndarray  # index into WARDS
    street_line: np.ndarray  # index into Grid.ys of the street in front
    front_x: np.ndarray  # middle of the front edge along the street (before rotation)
    north_side: np.ndarray  # True: parcel lies north of its street (even house numbers)


def ward_points(zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Every ward centroid in the plane of ``zone``, through the exact EPSG:6960 inverse."""
    lon = np.array([w.lon for w in WARDS])
    lat = np.array([w.lat for w in WARDS])
    return from_wgs84(zone).transform(lon, lat)


def nearest_ward(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Index of the nearest ward centroid in plain lon/lat degrees (= the Voronoi cells)."""
    tree = shapely.STRtree(shapely.points([w.lon for w in WARDS], [w.lat for w in WARDS]))
    pts = shapely.points(lon, lat)
    idx = tree.query_nearest(pts, all_matches=False)
    out = np.empty(len(pts), dtype=np.int64)
    out[idx[0]] = idx[1]
    return out


class CapacityError(ValueError):
    """The chosen wards have too few blocks for the parcels asked."""


def allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Split ``total`` in proportion to weights without exceeding caps (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    caps = np.asarray(caps, dtype=float)
    if caps.sum() < total:
        raise CapacityError(f"the chosen wards hold about {int(caps.sum())} parcels, not {total}")
    share = np.zeros_like(weights)
    free = np.ones(len(weights), dtype=bool)
    left = float(total)
    while True:
        share[free] = left * weights[free] / weights[free].sum()
        over = free & (share > caps)
        if not over.any():
            break
        share[over] = caps[over]
        free &= ~over
        left = total - share[~free].sum()
    counts = np.floor(share).astype(np.int64)
    rest = total - counts.sum()
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def street_grid(rng: np.random.Generator, zone: str, bounds: tuple[float, float, float, float]
                ) -> Grid:
    xmin, ymin, xmax, ymax = bounds

    def lines(lo: float, hi: float, step_lo: float, step_hi: float):
        n = int((hi - lo) / step_lo) + 2
        pos = lo + np.cumsum(rng.uniform(step_lo, step_hi, n))
        width = rng.choice(STREET_WIDTHS, n, p=STREET_WEIGHTS / STREET_WEIGHTS.sum())
        keep = pos <= hi + step_hi
        return np.round(pos[keep], 1), width[keep]

    xs, xw = lines(xmin, xmax, 140.0, 320.0)
    ys, yw = lines(ymin, ymax, 62.0, 165.0)
    return Grid(zone, xs, xw, ys, yw)


def select_blocks(rng: np.random.Generator, grid: Grid, wards: list[int], weights: np.ndarray,
                  total: int, radius: np.ndarray) -> tuple[Blocks, np.ndarray]:
    """The blocks nearest each ward's centroid (within ``radius`` m of it and nearer to it than
    to any other ward), enough for its share of ``total`` parcels. Returns the blocks and the
    parcel count wanted in each ward (same order as ``wards``)."""
    ci, ri = np.meshgrid(np.arange(len(grid.xs) - 1), np.arange(len(grid.ys) - 1),
                         indexing="ij")
    ci, ri = ci.ravel(), ri.ravel()
    x0 = grid.xs[ci] + grid.xw[ci] / 2
    x1 = grid.xs[ci + 1] - grid.xw[ci + 1] / 2
    y0 = grid.ys[ri] + grid.yw[ri] / 2
    y1 = grid.ys[ri + 1] - grid.yw[ri + 1] / 2
    lon, lat = to_wgs84(grid.zone).transform((x0 + x1) / 2, (y0 + y1) / 2)
    owner = nearest_ward(lon, lat)
    est = np.where(y1 - y0 >= 2 * MIN_DEPTH, 2, 1) * np.floor((x1 - x0) / 22.0)
    wx, wy = ward_points(grid.zone)
    chosen, caps, orders = [], [], []
    for w, r in zip(wards, radius, strict=True):
        mine = np.flatnonzero(owner == w)
        dist = np.hypot((x0[mine] + x1[mine]) / 2 - wx[w], (y0[mine] + y1[mine]) / 2 - wy[w])
        near = dist <= r
        order = mine[near][np.argsort(dist[near], kind="stable")]
        orders.append(order)
        caps.append(0.8 * est[order].sum())
    wanted = allocate(total, weights, np.array(caps))
    for order, n in zip(orders, wanted, strict=True):
        cum = np.cumsum(est[order])
        take = int(np.searchsorted(cum, 1.15 * n + 40)) + 1
        chosen.append(order[:take])
    sel = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    angle = np.deg2rad(rng.uniform(-1.0, 1.0, len(sel)))
    blocks = Blocks(ci[sel], ri[sel], x0[sel], x1[sel], y0[sel], y1[sel], angle, owner[sel])
    return blocks, wanted


def subdivide(rng: np.random.Generator, blocks: Blocks) -> Parcels:
    """Cut every block into one (shallow block) or two rows of parcels, 10–40 m frontage,
    15–80 m depth; neighbours share their side boundaries, which lean by up to ±2.5 m."""
    nb = len(blocks.x0)
    length = blocks.x1 - blocks.x0
    depth = blocks.y1 - blocks.y0
    two = depth >= 2 * MIN_DEPTH
    d1 = np.where(two, np.clip(depth * rng.uniform(0.42, 0.58, nb),
                               np.maximum(MIN_DEPTH, depth - MAX_DEPTH),
                               np.minimum(MAX_DEPTH, depth - MIN_DEPTH)), depth)
    # rows: south row of every block (faces the street below), north row of the deep ones
    rb = np.concatenate([np.arange(nb), np.flatnonzero(two)])
    north = np.r_[np.zeros(nb, dtype=bool), np.ones(int(two.sum()), dtype=bool)]
    nr = len(rb)
    L = length[rb]
    m = int(np.ceil(L.max() / MIN_FRONT)) + 1 if nr else 1
    widths = MIN_FRONT + (MAX_FRONT - MIN_FRONT) * rng.beta(1.6, 3.2, (nr, m))
    ends = np.cumsum(widths, axis=1)
    starts = ends - widths
    valid = starts < (L[:, None] - MIN_FRONT)
    last = valid.sum(axis=1) - 1
    ends[np.arange(nr), last] = L
    lean = rng.uniform(-2.5, 2.5, (nr, m))
    lean[np.arange(nr), last] = 0.0
    back_ends = ends + lean
    back_starts = np.concatenate([np.zeros((nr, 1)), back_ends[:, :-1]], axis=1)
    r_idx, p_idx = np.nonzero(valid)
    fl, fr = starts[r_idx, p_idx], ends[r_idx, p_idx]
    bl, br = back_starts[r_idx, p_idx], back_ends[r_idx, p_idx]
    blk = rb[r_idx]
    is_north = north[r_idx]
    y_front = np.where(is_north, blocks.y1[blk], blocks.y0[blk])
    y_back = blocks.y0[blk] + d1[blk]
    bx = blocks.x0[blk]
    # counter-clockwise for the south row, the same corner order mirrored for the north row
    xs = np.stack([bx + fl, bx + fr, bx + br, bx + bl], axis=1)
    ys = np.stack([y_front, y_front, y_back, y_back], axis=1)
    xs, ys = blocks.rotate(blk, xs, ys)
    corners = np.round(np.stack([xs, ys], axis=2), 3)
    street = np.where(is_north, blocks.row[blk] + 1, blocks.row[blk])
    return Parcels(corners, blk, blocks.ward[blk], street, bx + (fl + fr) / 2, ~is_north)


def take_per_ward(parcels: Parcels, blocks: Blocks, wards: list[int], counts: np.ndarray
                  ) -> np.ndarray:
    """Indices of the first ``counts[i]`` parcels of each ward (nearest blocks first)."""
    keep = []
    for w, n in zip(wards, counts, strict=True):
        mine = np.flatnonzero(parcels.ward == w)
        if len(mine) < n:
            raise ValueError(f"ward {WARDS[w].code}: {len(mine)} parcels generated, {n} wanted")
        keep.append(mine[:n])
    return np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)


def subset(parcels: Parcels, idx: np.ndarray) -> Parcels:
    return Parcels(parcels.corners[idx], parcels.block[idx], parcels.ward[idx],
                   parcels.street_line[idx], parcels.front_x[idx], parcels.north_side[idx])


def build(rng: np.random.Generator, zone: str, ward_codes: list[str], total: int,
          urban_factor: float = 4.0, density: dict[str, float] | None = None
          ) -> tuple[Grid, Blocks, Parcels]:
    """Street grid, blocks and exactly ``total`` parcels around the given wards, shared in
    proportion to area x density (``density`` per ward code, else urban_factor for a phường,
    1 for a xã), as far as each ward's blocks allow."""
    index = {w.code: i for i, w in enumerate(WARDS)}
    wards = [index[c] for c in ward_codes]
    chosen: list[Ward] = [WARDS[i] for i in wards]
    density = density or {}
    weights = np.array([w.area_km2 * density.get(w.code, urban_factor if w.type == "Phường"
                                                 else 1.0) for w in chosen])
    wx, wy = ward_points(zone)
    px, py = wx[wards], wy[wards]
    # stay near each ward: within a few times the radius of a disc of the ward's area
    size = np.sqrt(np.array([w.area_km2 for w in chosen]) * 1e6 / np.pi)
    for factor in (1.2, 1.6, 2.4, 4.0, 8.0):
        radius = factor * size
        bounds = ((px - radius).min() - 500, (py - radius).min() - 500,
                  (px + radius).max() + 500, (py + radius).max() + 500)
        grid = street_grid(rng, zone, bounds)
        try:
            blocks, counts = select_blocks(rng, grid, wards, weights, total, radius)
        except CapacityError:
            continue
        break
    else:
        raise CapacityError(f"{total} parcels do not fit around the wards {ward_codes}")
    parcels = subdivide(rng, blocks)
    return grid, blocks, subset(parcels, take_per_ward(parcels, blocks, wards, counts))

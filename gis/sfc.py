"""A space-filling-curve key per feature, so that a bbox page is a few index range scans.

A page of ``items?bbox=...`` in feature-id order makes PostgreSQL either walk the primary key
filtering rows outside the box or fetch every match to sort it: its cost grows with the number
of matches. Ordering the features under a bbox along a Hilbert curve instead makes the matches
a handful of key ranges (``ranges``), each read in order from a btree on (key, fid) and merged,
so a page reads about ``limit`` rows whatever the box holds.

The key (``keys``) is the Hilbert index, on a fixed 2^28 x 2^28 grid over lon/lat, of the
centre of the feature's bounding box. A feature intersecting a box has its centre within its
half-extent of the box, so a query widens the box by ``pad``, the largest half-extent of a
keyed feature of the version. A feature larger than the threshold a writer keys with goes in
``BUCKET`` (key -1), which every bbox query also reads; the threshold keeps one huge feature
from widening every query. The invariant every writer keeps: each feature's key is BUCKET or
its centre's cell, and ``pad`` >= the half-extent of every keyed feature.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

ORDER = 28  # cells per axis: 2^28 (1.3e-6 degrees of longitude, 15 cm); keys use 56 bits
SIDE = 1 << ORDER
COLUMN = "_sfc"  # the key's column in a version table (btree on (_sfc, fid))
BUCKET = -1  # the key of features too large to key
MAX_THRESHOLD = 0.05  # degrees: features with a larger half-extent always go in the bucket
SLACK = 1e-9  # degrees added to a query's pad: rounding of the centre in float arithmetic
# cells of one level covering a query box: fine cells keep the ranges' starts near the box
# (a page starts with the first match of every range)
MAX_CELLS = 1024
MAX_RANGES = 8  # key ranges of a query (not counting the bucket)
SAMPLE_SIZE = 32768  # keys a version keeps to estimate the matches of a box (``estimate``)
MIN_EVERY = 4


def _cell(v: float, offset: float, span: float) -> int:
    """``_cells`` of one value, in Python floats (the same IEEE operations)."""
    if v != v:
        return 0
    return min(SIDE - 1, max(0, math.floor((v + offset) / span * SIDE)))


def _cells(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell of each point; the same float operations for keys and query boxes, so both
    floor the same way (monotone: a point inside a box gets a cell inside the box's cells)."""
    ix = np.floor((np.asarray(lon, np.float64) + 180.0) / 360.0 * SIDE)
    iy = np.floor((np.asarray(lat, np.float64) + 90.0) / 180.0 * SIDE)
    return (np.clip(np.nan_to_num(ix), 0, SIDE - 1).astype(np.int64),
            np.clip(np.nan_to_num(iy), 0, SIDE - 1).astype(np.int64))


STEP = 4  # levels of the curve walked per vectorised step (ORDER is a multiple of it)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """The Hilbert curve as a state machine over STEP levels at a time: for an orientation of
    the current sub-square and the STEP bits of x and of y, the 2*STEP bits of the index and
    the next orientation. Built from the classic bitwise algorithm (at each level: quadrant
    digit (3*rx)^ry, then mirror both axes when rx and ry == 0, and swap them when ry == 0)
    applied to every orientation, as (swap, mirror) of the source axes."""
    def level(t, bx, by):
        sw, mi = t
        cx, cy = (by, bx) if sw else (bx, by)
        cx, cy = cx ^ mi, cy ^ mi
        if cy == 0:  # mirror (when cx) then swap the current axes; both commute
            return (3 * cx) ^ cy, (not sw, mi ^ cx)
        return (3 * cx) ^ cy, t
    states = [(False, 0), (True, 0), (False, 1), (True, 1)]
    size = 1 << (2 * STEP)
    digit = np.zeros(4 * size, np.int64)
    nxt = np.zeros(4 * size, np.int64)
    for si, t in enumerate(states):
        for q in range(size):  # q: the STEP bits of x, then the STEP bits of y
            qx, qy, d = q >> STEP, q & ((1 << STEP) - 1), 0
            for k in range(STEP - 1, -1, -1):
                dig, t = level(t, (qx >> k) & 1, (qy >> k) & 1)
                d = d << 2 | dig
            digit[si * size + q], nxt[si * size + q] = d, states.index(t)
            t = states[si]
    return digit, nxt


_DIGIT, _NEXT = _tables()
_DIGIT_LIST, _NEXT_LIST = _DIGIT.tolist(), _NEXT.tolist()  # for one cell: Python ints


def _inverse_tables() -> tuple[np.ndarray, np.ndarray]:
    """The state machine run backwards: for an orientation and 2*STEP bits of the index, the
    STEP bits of x then of y, and the next orientation."""
    idx = np.arange(len(_DIGIT))
    at = (idx >> (2 * STEP)) << (2 * STEP) | _DIGIT
    quad, nxt = np.zeros_like(_DIGIT), np.zeros_like(_NEXT)
    quad[at] = idx & ((1 << (2 * STEP)) - 1)
    nxt[at] = _NEXT
    return quad, nxt


_QUAD, _QUAD_NEXT = _inverse_tables()


def hilbert(ix: np.ndarray, iy: np.ndarray, lowest: int = 0) -> np.ndarray:
    """Hilbert index (0 .. 4^ORDER - 1) of grid cells, vectorised, STEP levels a step; with
    ``lowest`` (a multiple of STEP) only the levels from it up: the index >> 2 * lowest.
    A cell of a coarser level is a contiguous, aligned run of indices: the state machine
    runs from the top level down."""
    x = np.asarray(ix, dtype=np.int64)
    y = np.asarray(iy, dtype=np.int64)
    zero = np.zeros(np.broadcast_shapes(x.shape, y.shape), np.int64)
    return _walk(x, y, zero, zero, ORDER, lowest)[0]


def cells(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grid cell (ix, iy) of each Hilbert index: the inverse of ``hilbert``."""
    k = np.asarray(index, dtype=np.int64)
    x, y, state = np.zeros_like(k), np.zeros_like(k), np.zeros_like(k)
    mask, digits = (1 << STEP) - 1, (1 << (2 * STEP)) - 1
    for shift in range(ORDER - STEP, -1, -STEP):
        idx = state << (2 * STEP) | ((k >> (2 * shift)) & digits)
        q = _QUAD[idx]
        x, y, state = x << STEP | q >> STEP, y << STEP | q & mask, _QUAD_NEXT[idx]
    return x, y


def _walk(x: np.ndarray, y: np.ndarray, d: np.ndarray, state: np.ndarray, top: int,
          lowest: int) -> tuple[np.ndarray, np.ndarray]:
    """The curve's state machine over the levels from ``top`` down to ``lowest`` (multiples
    of STEP), from index prefix ``d`` and orientation ``state`` (both broadcast with x, y)."""
    mask = (1 << STEP) - 1
    for shift in range(top - STEP, lowest - 1, -STEP):
        idx = state << (2 * STEP) | ((x >> shift) & mask) << STEP | ((y >> shift) & mask)
        d = (d << (2 * STEP)) | _DIGIT[idx]
        state = _NEXT[idx]
    return d, state


def half_extents(bounds: np.ndarray) -> np.ndarray:
    """Largest half-side, in degrees, of each (minx, miny, maxx, maxy) box."""
    b = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2.0


def keys(bounds: np.ndarray, threshold: float) -> np.ndarray:
    """Key of each (minx, miny, maxx, maxy) box: the Hilbert index of its centre, or BUCKET
    when its half-extent exceeds ``threshold`` (or it has no extent: an empty geometry)."""
    b = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    half = half_extents(b)
    keyed = np.isfinite(half) & (half <= threshold)
    ix, iy = _cells((b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0)
    return np.where(keyed, hilbert(ix, iy), BUCKET).astype(np.int64)


def threshold_for(bounds: np.ndarray) -> float:
    """The half-extent up to which a load keys features, from its first batch: well above
    the typical feature (so the bucket holds only outliers), below MAX_THRESHOLD."""
    half = half_extents(bounds)
    half = half[np.isfinite(half)]
    if not len(half):
        return MAX_THRESHOLD
    return float(min(MAX_THRESHOLD, 4.0 * np.quantile(half, 0.99)))


class Keyer:
    """The keys of one writer (a load, an edit): the threshold fixed by its first batch
    unless given, and ``pad``, the largest half-extent it keyed."""

    def __init__(self, threshold: float | None = None):
        self.threshold = threshold
        self.pad = 0.0

    def __call__(self, bounds: np.ndarray) -> np.ndarray:
        if self.threshold is None:
            self.threshold = threshold_for(bounds)
        k = keys(bounds, self.threshold)
        half = half_extents(bounds)[k != BUCKET]
        if len(half):
            self.pad = max(self.pad, float(half.max()))
        return k


def _box_cells(bbox: tuple[float, float, float, float], pad: float
               ) -> tuple[int, int, int, int]:
    """The grid cells (ix0, ix1, iy0, iy1) spanned by the box widened by ``pad``."""
    p = pad + SLACK
    return (_cell(bbox[0] - p, 180.0, 360.0), _cell(bbox[2] + p, 180.0, 360.0),
            _cell(bbox[1] - p, 90.0, 180.0), _cell(bbox[3] + p, 90.0, 180.0))


def _walk_one(x: int, y: int, d: int, state: int, top: int, lowest: int) -> tuple[int, int]:
    """``_walk`` of one cell in Python ints (cheaper than numpy for a handful of cells)."""
    mask = (1 << STEP) - 1
    for level in range(top - STEP, lowest - 1, -STEP):
        idx = state << (2 * STEP) | ((x >> level) & mask) << STEP | ((y >> level) & mask)
        d, state = d << (2 * STEP) | _DIGIT_LIST[idx], _NEXT_LIST[idx]
    return d, state


def _shared_levels(ix0: int, ix1: int, iy0: int, iy1: int, shift: int
                   ) -> tuple[int, int, int, int]:
    """For the cells of level ``shift`` over a box: (low, top, d, state), the STEP-aligned
    level the cells' walk ends at, the level down to which every cell shares its path, and
    the index prefix and orientation there (walked once, from the first cell)."""
    low = shift - shift % STEP
    common = max((ix0 ^ ix1).bit_length(), (iy0 ^ iy1).bit_length(), low)
    top = min(ORDER, -(-common // STEP) * STEP)
    d, state = _walk_one(ix0, iy0, 0, 0, ORDER, top)
    return low, top, d, state


def ranges(bbox: tuple[float, float, float, float], pad: float,
           max_cells: int = MAX_CELLS, max_ranges: int = MAX_RANGES) -> list[tuple[int, int]]:
    """Key ranges (inclusive, ascending, disjoint) holding the key of every keyed feature of
    half-extent <= ``pad`` that may intersect ``bbox`` (lon/lat): the cells of one level
    covering the box widened by pad, as runs of the curve, the closest runs joined until at
    most ``max_ranges`` are left. The bucket is not among them."""
    ix0, ix1, iy0, iy1 = _box_cells(bbox, pad)
    shift = 0  # the finest level whose cells over the box number at most max_cells
    while ((ix1 >> shift) - (ix0 >> shift) + 1) * ((iy1 >> shift) - (iy0 >> shift) + 1) \
            > max_cells:
        shift += 1
    # the cells' indices at their level, a row of x by a column of y (broadcast), the curve
    # walked down to the cells' level only; the levels all the cells share are walked once
    low, top, d, state = _shared_levels(ix0, ix1, iy0, iy1, shift)
    cx = np.arange(ix0 >> shift, (ix1 >> shift) + 1, dtype=np.int64)[None, :] << shift
    cy = np.arange(iy0 >> shift, (iy1 >> shift) + 1, dtype=np.int64)[:, None] << shift
    # distinct cells have distinct indices: sorted, they are the curve's order
    prefix = np.sort((_walk(cx, cy, np.int64(d), np.int64(state), top, low)[0]
                      >> (2 * (shift - low))).ravel())
    # runs of consecutive cells along the curve; then the smallest gaps between runs are
    # joined (each join leaves the other gaps as they are) until max_ranges runs are left
    breaks = np.flatnonzero(np.diff(prefix) > 1)
    starts = np.concatenate([prefix[:1], prefix[breaks + 1]])
    ends = np.concatenate([prefix[breaks], prefix[-1:]])
    if len(starts) > max_ranges:
        gaps = starts[1:] - ends[:-1]
        keep = np.sort(np.argpartition(gaps, -(max_ranges - 1))[-(max_ranges - 1):]) \
            if max_ranges > 1 else np.array([], dtype=np.int64)
        starts = np.concatenate([starts[:1], starts[keep + 1]])
        ends = np.concatenate([ends[keep], ends[-1:]])
    runs = list(zip(starts.tolist(), ends.tolist(), strict=True))
    w = 2 * shift
    return [(lo << w, ((hi + 1) << w) - 1) for lo, hi in runs]


def coarse_cells(bbox: tuple[float, float, float, float], pad: float, per_axis: int = 4
                 ) -> tuple[int, int, int, int, int]:
    """(ix0, ix1, iy0, iy1, shift): the box widened by ``pad`` in grid cells, and the finest
    level whose cells over it number at most ``per_axis`` on each axis: the cells of
    ``coarse_ranges`` are those from ix0 >> shift to ix1 >> shift (and alike for y)."""
    ix0, ix1, iy0, iy1 = _box_cells(bbox, pad)
    shift = 0
    while (ix1 >> shift) - (ix0 >> shift) >= per_axis or \
            (iy1 >> shift) - (iy0 >> shift) >= per_axis:
        shift += 1
    return ix0, ix1, iy0, iy1, shift


def coarse_ranges(bbox: tuple[float, float, float, float], pad: float,
                  per_axis: int = 4) -> list[tuple[int, int]]:
    """Key ranges of at most ``per_axis`` x ``per_axis`` cells of one level covering the box
    widened by ``pad``: a coarser cover than ``ranges`` (up to a few times the box's area),
    computed in Python ints for a handful of cells, which is what ``estimate`` needs. Each
    cell is one aligned run of the curve."""
    ix0, ix1, iy0, iy1, shift = coarse_cells(bbox, pad, per_axis)
    # as in ranges: the levels every cell shares walked once, then each cell's own
    low, top, d, state = _shared_levels(ix0, ix1, iy0, iy1, shift)
    out = []
    for cx in range(ix0 >> shift, (ix1 >> shift) + 1):
        for cy in range(iy0 >> shift, (iy1 >> shift) + 1):
            dd = _walk_one(cx << shift, cy << shift, d, state, top, low)[0]
            start = (dd >> (2 * (shift - low))) << (2 * shift)
            out.append((start, start + (1 << (2 * shift)) - 1))
    out.sort()
    return out


def sample_every(count: int) -> int:
    """One key in how many a version of ``count`` keyed features keeps in its sample: at most
    SAMPLE_SIZE keys, so an estimate is within a few hundred features even at millions."""
    return max(MIN_EVERY, -(-count // SAMPLE_SIZE))


GRID_CELLS = 1024  # cells per axis, at most, of a sample's grid (SampleGrid: 2 MiB at most)


class SampleGrid:
    """The keys of a sample counted in the cells of one level (the finest at which the
    sample's extent spans at most GRID_CELLS cells per axis), as a summed-area table: the keys
    in a block of cells of that level or a coarser one are four look-ups (``count``), the same
    number ``estimate`` finds in ``coarse_ranges`` with binary searches (a cell of any level
    holds exactly the keys of one run of the curve), at a fraction of its Python time."""

    def __init__(self, sample: list[int]):
        k = np.asarray(sample, dtype=np.int64)
        x, y = cells(k[k >= 0])
        self.level = 0
        if len(x):
            while max((int(x.max()) >> self.level) - (int(x.min()) >> self.level),
                      (int(y.max()) >> self.level) - (int(y.min()) >> self.level)) \
                    >= GRID_CELLS:
                self.level += 1
            x, y = x >> self.level, y >> self.level
        self.x0 = int(x.min()) if len(x) else 0
        self.y0 = int(y.min()) if len(y) else 0
        self.width = int(x.max()) - self.x0 + 1 if len(x) else 0
        self.height = int(y.max()) - self.y0 + 1 if len(y) else 0
        # table[r, c]: the keys in the rows below r and the columns left of c (a sample has
        # at most about SAMPLE_SIZE keys: 16 bits hold its counts)
        kind = np.uint16 if len(x) <= np.iinfo(np.uint16).max else np.int64
        counts = np.zeros((self.height + 1, self.width + 1), kind)
        np.add.at(counts, (y - self.y0 + 1, x - self.x0 + 1), 1)
        self.table = counts.cumsum(0, dtype=kind).cumsum(1, dtype=kind)

    def count(self, ix0: int, ix1: int, iy0: int, iy1: int, shift: int) -> int | None:
        """The keys in the cells (ix0 >> shift .. ix1 >> shift) x (iy0 >> shift .. iy1 >>
        shift) of level ``shift`` (``coarse_cells``); None below the grid's level."""
        d = shift - self.level
        if d < 0:
            return None
        c0 = min(max(((ix0 >> shift) << d) - self.x0, 0), self.width)
        c1 = min(max((((ix1 >> shift) + 1) << d) - self.x0, 0), self.width)
        r0 = min(max(((iy0 >> shift) << d) - self.y0, 0), self.height)
        r1 = min(max((((iy1 >> shift) + 1) << d) - self.y0, 0), self.height)
        t = self.table
        return t.item(r1, c1) - t.item(r0, c1) - t.item(r1, c0) + t.item(r0, c0)


def estimate(sample: list[int], every: int, key_ranges: list[tuple[int, int]]) -> int:
    """About how many keyed features have a key in ``key_ranges``, from ``sample`` (every
    ``every``-th key of a version in key order, a list: a few binary searches in Python cost
    less than numpy's calls): each sampled key stands for ``every`` features, so the figure is
    within ``every`` per range of the count."""
    return every * sum(bisect.bisect_right(sample, hi) - bisect.bisect_left(sample, lo)
                       for lo, hi in key_ranges)

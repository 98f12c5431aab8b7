"""Paging under a bbox along the space-filling curve (gis/sfc.py, services/ogc/query.py): the
curve keys against a plain reference, key ranges that cover any box, and, against a real
PostGIS and a real `gis serve`, `next` links over a bbox that return every matching feature
exactly once, small or large, inside the box or across its edge, after a load, an upsert, an
append and edits (overlay view and full table)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import numpy as np
import psycopg
import pytest
import shapely
import shapely.affinity
import shapely.geometry
from psycopg.rows import dict_row

from gis import sfc
from services.ogc.curvesample import CURVE_MIN_MATCHES
from tests.builders import NINH_KIEU, parcel_boxes, parcel_frame, write
from tests.conftest import run_gis, serve

LAYER = "cadastral_parcels"


# -- the curve ------------------------------------------------------------------------------
def reference_hilbert(x: int, y: int, n: int = sfc.SIDE) -> int:
    """The textbook bit-by-bit Hilbert index of cell (x, y) of an n x n grid."""
    d, s = 0, n // 2
    while s > 0:
        rx, ry = int(x & s > 0), int(y & s > 0)
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = n - 1 - x, n - 1 - y
            x, y = y, x
        s //= 2
    return d


def test_keys_are_the_hilbert_index_of_the_centre_or_the_bucket():
    rng = np.random.default_rng(16)
    centre = rng.uniform([-180, -90], [180, 90], (3000, 2))
    half = rng.uniform(0, 0.02, (3000, 1))
    bounds = np.hstack([centre - half, centre + half])
    keys = sfc.keys(bounds, threshold=0.01)
    for (x0, y0, x1, y1), k in zip(bounds, keys, strict=True):
        if max(x1 - x0, y1 - y0) / 2 > 0.01:
            assert k == sfc.BUCKET
            continue
        cx = min(sfc.SIDE - 1, int(((x0 + x1) / 2 + 180) / 360 * sfc.SIDE))
        cy = min(sfc.SIDE - 1, int(((y0 + y1) / 2 + 90) / 180 * sfc.SIDE))
        assert k == reference_hilbert(cx, cy)
    assert 0 < (keys == sfc.BUCKET).sum() < len(keys)


def test_ranges_hold_every_feature_that_may_meet_the_box():
    """Random boxes of every size (a few metres to the world) and pads; features whose centre
    lies within the pad of the box, on its edges and corners too, have a key in a range."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        size = 10 ** rng.uniform(-5, 2.3, 2)
        x0 = rng.uniform(-180, 180 - size[0])
        y0 = rng.uniform(-90, 90 - min(size[1], 179))
        box = (x0, y0, x0 + size[0], min(90, y0 + size[1]))
        pad = float(rng.choice([0.0, 1e-5, 3e-4, 0.01]))
        ranges = sfc.ranges(box, pad)
        assert 1 <= len(ranges) <= sfc.MAX_RANGES
        assert all(lo <= hi for lo, hi in ranges)
        assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        # centres: inside, on the widened edges and corners, with half-extents up to pad
        px = np.concatenate([rng.uniform(box[0] - pad, box[2] + pad, 400),
                             [box[0] - pad, box[2] + pad, box[0] - pad, box[2] + pad]])
        py = np.concatenate([rng.uniform(box[1] - pad, box[3] + pad, 400),
                             [box[1] - pad, box[3] + pad, box[3] + pad, box[1] - pad]])
        h = rng.uniform(0, pad, len(px)) if pad else np.zeros(len(px))
        keys = sfc.keys(np.column_stack([px - h, py - h, px + h, py + h]), threshold=pad)
        lo = np.array([r[0] for r in ranges])
        hi = np.array([r[1] for r in ranges])
        i = np.searchsorted(lo, keys, side="right") - 1
        covered = (i >= 0) & (keys <= hi[np.maximum(i, 0)])
        assert covered[keys != sfc.BUCKET].all(), (box, pad)


def test_a_page_reads_few_cells_beyond_the_box():
    """The ranges are tight: for a city block the cells they cover are within a few times
    the widened box's area (what makes a page cost flat)."""
    box, pad = (105.77, 10.03, 105.79, 10.05), 0.0005
    cells = sum(hi - lo + 1 for lo, hi in sfc.ranges(box, pad))
    cell_deg2 = (360 / sfc.SIDE) * (180 / sfc.SIDE)
    area = (box[2] - box[0] + 2 * pad) * (box[3] - box[1] + 2 * pad)
    assert cells * cell_deg2 < 4 * area


def test_the_coarse_cover_holds_the_fine_one_in_a_few_cells():
    """The cheap cover an estimate uses holds every key the page's ranges hold, in at most
    16 cells, each one aligned run of the curve, and cells not much larger than the box."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        size = 10 ** rng.uniform(-5, 1.5, 2)
        x0, y0 = rng.uniform(-180, 170), rng.uniform(-90, 80)
        box = (x0, y0, x0 + size[0], y0 + size[1])
        pad = float(rng.choice([0.0, 1e-5, 3e-4]))
        coarse = sfc.coarse_ranges(box, pad)
        assert 1 <= len(coarse) <= 16
        for lo, hi in coarse:
            n = hi - lo + 1
            assert n & (n - 1) == 0 and lo % n == 0  # a whole cell of one level
        # a point anywhere in the widened box has its key in the cover
        px = rng.uniform(box[0] - pad, box[2] + pad, 300)
        py = rng.uniform(box[1] - pad, box[3] + pad, 300)
        keys = sfc.keys(np.column_stack([px, py, px, py]), threshold=1.0)
        lo = np.array([r[0] for r in coarse])
        hi = np.array([r[1] for r in coarse])
        i = np.searchsorted(lo, keys, "right") - 1
        assert ((i >= 0) & (keys <= hi[np.maximum(i, 0)])).all()
        # a cell's side (in grid units) is at most twice the widened box's longer side
        side = int(np.sqrt(coarse[0][1] - coarse[0][0] + 1))
        span = max((box[2] - box[0] + 2 * pad) / 360, (box[3] - box[1] + 2 * pad) / 180)
        assert side <= max(1, 2 * span * sfc.SIDE)


def test_the_sample_estimates_the_keys_in_ranges():
    """An estimate from every 4th key is within 4 per range of the true count."""
    rng = np.random.default_rng(3)
    keys = np.sort(rng.integers(0, 4**sfc.ORDER, 50_000))
    sample = keys[3::4].tolist()
    for _ in range(200):
        bounds = np.sort(rng.integers(0, 4**sfc.ORDER, 2 * int(rng.integers(1, 9))))
        ranges = list(zip(bounds[::2].tolist(), bounds[1::2].tolist(), strict=True))
        true = sum(int(((keys >= lo) & (keys <= hi)).sum()) for lo, hi in ranges)
        assert abs(sfc.estimate(sample, 4, ranges) - true) <= 4 * len(ranges)
    assert sfc.estimate(sample, 4, []) == 0


def test_cells_invert_the_curve():
    rng = np.random.default_rng(17)
    x, y = rng.integers(0, sfc.SIDE, 5000), rng.integers(0, sfc.SIDE, 5000)
    x[:2], y[:2] = [0, sfc.SIDE - 1], [0, sfc.SIDE - 1]
    bx, by = sfc.cells(sfc.hilbert(x, y))
    assert (bx == x).all() and (by == y).all()


@pytest.mark.parametrize("spread", [0.5, 3.0, 1e-4])  # a city, a province, one block
def test_the_sample_grid_counts_what_binary_searches_count(spread):
    """Over a sample's grid a coarse cover's keys are four look-ups: the same number the
    binary searches over ``coarse_ranges`` find, for boxes anywhere (also off the grid's edge);
    a box finer than the grid says so (None)."""
    rng = np.random.default_rng(23)
    xy = rng.normal([105.75, 10.05], spread / 4, (20_000, 2))
    xy[:3000] = rng.uniform([105.75, 10.05], [105.75 + spread, 10.05 + spread], (3000, 2))
    sample = sorted(sfc.keys(np.hstack([xy, xy]), 1.0).tolist())
    grid = sfc.SampleGrid(sample)
    assert max(grid.width, grid.height) <= sfc.GRID_CELLS
    checked = 0
    for _ in range(400):
        size = spread * 10 ** rng.uniform(-3, 0.5, 2)
        x0, y0 = rng.normal([105.75, 10.05], spread)
        box = (x0, y0, x0 + size[0], y0 + size[1])
        pad = float(rng.choice([0.0, 3e-4]))
        n = grid.count(*sfc.coarse_cells(box, pad))
        if n is None:
            assert sfc.coarse_cells(box, pad)[4] < grid.level
            continue
        assert n == sfc.estimate(sample, 1, sfc.coarse_ranges(box, pad))
        checked += 1
    assert checked > 200
    assert sfc.SampleGrid([]).count(*sfc.coarse_cells((105.7, 10.0, 105.8, 10.1), 0.0)) == 0


def test_a_cursor_continues_in_the_order_of_its_first_page():
    """A box's plan is chosen on its first page; its `next` cursor keeps that plan even when
    a newer version's sample would choose the other one."""
    from starlette.datastructures import QueryParams

    from services.catalog import Column
    from services.ogc.cursor import encode_cursor
    from services.ogc.curvesample import CurveSample
    from services.ogc.params import CURVE_ORDER, parse_items_query

    columns = {"parcel_no": Column("parcel_no", "integer", "parcel number", "số thửa")}
    box = "105.7,10.0,105.8,10.1"
    few = CurveSample([], 4, 0.001)
    xy = np.random.default_rng(5).uniform([105.7, 10.0], [105.8, 10.1], (50, 2))
    many = CurveSample(sorted(sfc.keys(np.hstack([xy, xy]), 0.001).tolist()), 100, 0.001)

    def parse(sample, cursor=None):
        text = f"bbox={box}" + (f"&cursor={cursor}" if cursor else "")
        return parse_items_query(QueryParams(text), columns, has_time=False, layer_id=LAYER,
                                 curve=True, sample=sample)

    assert not parse(few).curve and parse(many).curve
    along = encode_cursor([12345, 7], LAYER, [CURVE_ORDER])
    by_id = encode_cursor([7], LAYER, [])
    q = parse(few, along)
    assert q.curve and q.cursor == [12345, 7]
    q = parse(many, by_id)
    assert not q.curve and q.cursor == [7]
    with pytest.raises(Exception, match="cursor"):
        parse(many, encode_cursor([7], "other_layer", []))


# -- the API --------------------------------------------------------------------------------
SMALL = parcel_boxes(1500)  # 50 x 30 parcels of ~33 x 22 m from NINH_KIEU
X, Y = NINH_KIEU
LARGE = [shapely.box(X + 0.002, Y + 0.001, X + 0.0065, Y + 0.004),  # over many small ones
         shapely.box(X - 0.004, Y - 0.003, X + 0.0005, Y + 0.0012),  # across the grid's corner
         shapely.box(X + 0.010, Y + 0.005, X + 0.016, Y + 0.0062)]
BOXES = {
    "all": (X - 0.01, Y - 0.01, X + 0.03, Y + 0.02),
    "district": (X + 0.001, Y + 0.0005, X + 0.009, Y + 0.005),
    "block": (X + 0.00452, Y + 0.00133, X + 0.00617, Y + 0.00251),  # edges cut parcels
    "one parcel": (X + 0.0061, Y + 0.0041, X + 0.00615, Y + 0.00412),
    "inside a large one only": (X - 0.0035, Y - 0.0025, X - 0.0030, Y - 0.0020),
    "empty": (X + 0.05, Y + 0.05, X + 0.06, Y + 0.06),
}


def parcels(geoms, start_sheet: int, **extra):
    return parcel_frame(len(geoms), geoms=geoms, start_sheet=start_sheet, **extra)


@pytest.fixture(scope="module")
def served(own_database, session_dir):
    folder = session_dir / "items_curve"
    folder.mkdir(mode=0o755, exist_ok=True)
    env = {"DATABASE_URL": own_database}
    frame = parcels(list(SMALL) + LARGE, start_sheet=1)
    run_gis("load", str(write(frame, folder / "v1" / "thua_dat.shp")), "--layer", LAYER,
            "--force", env=env, check=True)
    with serve(own_database, session_dir / "items_curve_serve.log") as root, \
            psycopg.connect(own_database, autocommit=True, row_factory=dict_row) as conn, \
            httpx.Client(base_url=root + "/ogc", timeout=60) as client:
        yield {"client": client, "conn": conn, "folder": folder, "env": env,
               "url": own_database}


def walk(client, box, limit: int = 37) -> list[int]:
    """Every feature id the `next` links of a bbox query return, in order."""
    ids: list[int] = []
    url = f"/collections/{LAYER}/items?bbox={','.join(map(str, box))}&limit={limit}"
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        doc = r.json()
        ids += [f["id"] for f in doc["features"]]
        nxt = next((lk["href"] for lk in doc["links"] if lk["rel"] == "next"), None)
        url = nxt and urlsplit(nxt)._replace(scheme="", netloc="").geturl().removeprefix(
            "/ogc")
    return ids


def current_sample(conn) -> tuple[list[int], int, float]:
    """The current version's key sample, its step and its pad, as the server reads them."""
    r = conn.execute(
        "SELECT v.sfc_sample, v.sfc_every, v.sfc_pad FROM spp.layers l JOIN spp.layer_versions"
        " v ON v.layer_id = l.id AND v.version = l.current_version WHERE l.id = %s",
        (LAYER,)).fetchone()
    return r["sfc_sample"], r["sfc_every"], r["sfc_pad"]


def check_every_box(served) -> None:
    """Every box pages completely; along the curve (the large features, in the bucket,
    first) when the version's sample says it holds many features, else by id."""
    time.sleep(1.2)  # the server's catalog re-reads a new version within a second
    conn, client = served["conn"], served["client"]
    sample, every, pad = current_sample(conn)
    orders = {}
    for name, box in BOXES.items():
        got = walk(client, box)
        rows = conn.execute(
            f"SELECT fid, _sfc FROM data.{LAYER} WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY _sfc, fid", box).fetchall()
        assert len(got) == len(set(got)), f"{name}: a feature twice"
        assert set(got) == {r["fid"] for r in rows}, f"{name}: features missing or extra"
        many = sfc.estimate(sample, every, sfc.coarse_ranges(box, pad)) >= CURVE_MIN_MATCHES
        orders[name] = "curve" if many else "id"
        expected = [r["fid"] for r in rows] if many else sorted(r["fid"] for r in rows)
        assert got == expected, f"{name}: not in {orders[name]} order"
    # the data exercises both plans: the city's box along the curve, a block's by id
    assert orders["all"] == "curve" and orders["block"] == "id", orders
    # the boxes hold what they are meant to: large features in the bucket, edge cases
    assert conn.execute(f"SELECT count(*) AS n FROM data.{LAYER} WHERE _sfc = -1"
                        ).fetchone()["n"] >= len(LARGE)


def pad_of_current(conn) -> float | None:
    return conn.execute(
        "SELECT v.sfc_pad FROM spp.layers l JOIN spp.layer_versions v ON v.layer_id = l.id "
        "AND v.version = l.current_version WHERE l.id = %s", (LAYER,)).fetchone()["sfc_pad"]


def test_bbox_paging_after_a_load(served):
    conn = served["conn"]
    pad = pad_of_current(conn)
    assert pad is not None and 0 < pad < 0.001  # the small parcels'; the large: bucket
    # the sample: every `every`-th key of the keyed features in key order
    sample, every, _pad = current_sample(conn)
    keys = [r["_sfc"] for r in conn.execute(
        f"SELECT _sfc FROM data.{LAYER} WHERE _sfc >= 0 ORDER BY _sfc").fetchall()]
    assert every == sfc.MIN_EVERY and sample == keys[every - 1::every]
    check_every_box(served)
    # sortby and other bbox CRSs keep the id order (and page completely too)
    client = served["client"]
    box = ",".join(map(str, BOXES["district"]))
    doc = client.get(f"/collections/{LAYER}/items?bbox={box}&limit=50&sortby=parcel_no").json()
    assert doc["numberReturned"] == 50
    # the HTML page and a CSV download of a bbox take the same path
    html = client.get(f"/collections/{LAYER}/items?bbox={box}&limit=20&f=html")
    assert html.status_code == 200 and "next page" in html.text
    nxt = html.text.split('<nav class="paging"><a href="', 1)[1].split('"', 1)[0]
    assert httpx.get(nxt.replace("&amp;", "&"), timeout=60).status_code == 200
    csv = client.get(f"/collections/{LAYER}/items?bbox={box}&limit=20&f=csv")
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 21


def test_bbox_paging_after_upsert_and_append(served):
    conn, folder, env = served["conn"], served["folder"], served["env"]
    # upsert: parcels 0-99 (sheet 1) re-delivered, moved by half a parcel; a new large one
    moved = [shapely.affinity.translate(g, 0.00015, 0.0001) for g in SMALL[:100]]
    grown = shapely.box(X + 0.003, Y - 0.002, X + 0.009, Y + 0.0008)
    up = parcels(moved + [grown], start_sheet=1)
    up.loc[100, "SoTo"], up.loc[100, "SoThua"] = 500, 1
    run_gis("load", str(write(up, folder / "v2" / "thua_dat.shp")), "--layer", LAYER,
            "--mode", "upsert", "--allow-shift", env=env, check=True)
    check_every_box(served)
    # append: 200 new small parcels beside the grid
    extra = parcel_boxes(200, origin=(X + 0.0153, Y + 0.0001), cols=20)
    run_gis("load", str(write(parcels(list(extra), start_sheet=700), folder / "v3" /
                              "thua_dat.shp")), "--layer", LAYER, "--mode", "append",
            env=env, check=True)
    check_every_box(served)
    assert conn.execute(f"SELECT count(*) AS n FROM data.{LAYER}").fetchone()["n"] == \
        len(SMALL) + len(LARGE) + 1 + 200


def feature(sheet: int, geom, **props):
    return {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
            "properties": {"commune_code": "31135", "sheet_no": sheet, "parcel_no": 1,
                           "land_use_code": "ODT", **props}}


@pytest.mark.parametrize("overlay_max_rows", ["100000", "1"])
def test_bbox_paging_after_edits(served, monkeypatch, overlay_max_rows):
    """An edit version is an overlay view (the first run) or a full table again (the
    second): created, moved and deleted features page like the others."""
    from gis import edits
    from gis.layerdef import get_layer_def
    from gis.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", served["url"])
    monkeypatch.setenv("SPP_EDIT_OVERLAY_MAX_ROWS", overlay_max_rows)
    get_settings.cache_clear()
    conn = served["conn"]
    try:
        fids = [r["fid"] for r in conn.execute(
            f"SELECT fid FROM data.{LAYER} WHERE ST_Intersects(geom, ST_MakeEnvelope("
            "%s, %s, %s, %s, 4326)) ORDER BY fid LIMIT 2", BOXES["block"])]
        sheet = 800 if overlay_max_rows == "1" else 900
        big = shapely.box(X + 0.004, Y + 0.001, X + 0.0055, Y + 0.002)  # beyond the pad
        small = shapely.box(X + 0.0050, Y + 0.0015, X + 0.0052, Y + 0.0016)
        r = edits.apply(conn, get_layer_def(LAYER), [
            edits.Op("create", feature=feature(sheet, big)),
            edits.Op("create", feature=feature(sheet + 1, small)),
            edits.Op("update", fids[0], {"geometry": shapely.geometry.mapping(
                shapely.box(X + 0.0058, Y + 0.0022, X + 0.0059, Y + 0.0023))}),
            edits.Op("delete", fids[1])], "test", {"source": "test"})
        assert r.strategy == ("table" if overlay_max_rows == "1" else "overlay")
    finally:
        get_settings.cache_clear()
    check_every_box(served)

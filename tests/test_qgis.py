"""QGIS 3.22 (Debian's python3-qgis, headless) against a real server with the sample set:
tests/qgis/check.py runs under /usr/bin/python3 (QGIS's bindings are not in the venv) and
reports what QGIS read and drew; this test compares it with the database. `./spp test`
installs python3-qgis (TEST_APT_PACKAGES); without it the test fails, it is not skipped.
Images: tests/artifacts/qgis-*.png."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from gis.layerdef import load_layer_defs
from tests.conftest import ROOT

pytest_plugins = ["tests.planning_fixtures"]
SCRIPT = ROOT / "tests" / "qgis" / "check.py"
PYTHON = "/usr/bin/python3"
ARTIFACTS = ROOT / "tests" / "artifacts"
SIZE = (800, 800)


def _qgis_present() -> None:
    probe = subprocess.run([PYTHON, "-c", "import qgis.core"], capture_output=True, text=True)
    assert probe.returncode == 0, (
        "QGIS's Python bindings are missing: `apt-get install python3-qgis` (./spp test "
        f"installs it)\n{probe.stderr[-500:]}")


def _public_collections(pdb) -> list[str]:
    return [r["id"] for r in pdb.execute(
        "SELECT id FROM spp.layers WHERE current_version IS NOT NULL AND access_level = "
        "'public' AND coalesce(definition->>'kind', 'vector') = 'vector' ORDER BY id")]


def _text_fields(pdb, collections: list[str]) -> dict[str, list[str]]:
    """Per layer, its public text fields whose stored values carry Vietnamese diacritics."""
    defs = load_layer_defs()
    out = {}
    for lid in collections:
        names = [f.name for f in defs[lid].fields if f.type == "string" and not f.personal]
        chosen = []
        for name in names:
            row = pdb.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE {} ~ '[^\\x01-\\x7f]'")
                              .format(sql.Identifier("data", lid), sql.Identifier(name)))
            if row.fetchone()["n"]:
                chosen.append(name)
        out[lid] = chosen[:2]
    return out


def _distinct(pdb, lid: str, field: str) -> list[str]:
    return sorted(r["v"] for r in pdb.execute(
        sql.SQL("SELECT DISTINCT {} AS v FROM {} WHERE {} IS NOT NULL").format(
            sql.Identifier(field), sql.Identifier("data", lid), sql.Identifier(field))))


def _expected_colour(hex_colour: str, opacity: float) -> list[int]:
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return [round(c * opacity + 255 * (1 - opacity)) for c in rgb]


@pytest.fixture(scope="module")
def mdb(planning_db):
    with psycopg.connect(planning_db, autocommit=True, row_factory=dict_row) as c:
        yield c


@pytest.fixture(scope="module")
def qgis_run(planning_server, mdb, web, session_dir):
    _qgis_present()
    pdb = mdb
    collections = _public_collections(pdb)
    listed = {c["id"] for c in web.get("/ogc/collections", params={"f": "json"}).json()[
        "collections"] if c.get("itemType") == "feature"}
    assert set(collections) == listed and "water_pipes" not in listed
    parcel = pdb.execute(
        "SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_Transform(ST_Centroid(geom), 3857) "
        "AS c FROM data.cadastral_parcels WHERE commune_code = '31135' AND sheet_no = 2 AND "
        "parcel_no = 49) p").fetchone()
    half = 300.0  # a 600 m square in EPSG:3857 around the known parcel, 0.75 m a pixel
    extent = [parcel["x"] - half, parcel["y"] - half, parcel["x"] + half, parcel["y"] + half]
    px = 2 * half / SIZE[0]
    probes = [dict(r) for r in pdb.execute(
        "SELECT fid, land_use_code AS code, ST_X(c) AS x, ST_Y(c) AS y FROM ("
        " SELECT fid, land_use_code, (ST_MaximumInscribedCircle(g)).center AS c,"
        " (ST_MaximumInscribedCircle(g)).radius AS r FROM ("
        "  SELECT fid, land_use_code, ST_Transform(geom, 3857) AS g"
        "  FROM data.cadastral_parcels) t"
        " WHERE ST_Within(g, ST_MakeEnvelope(%s, %s, %s, %s, 3857))) s"
        " WHERE r > %s ORDER BY fid LIMIT 60", (*extent, 6 * px))]
    assert len({p["code"] for p in probes}) >= 3, probes
    w, s = parcel["x"] - 150, parcel["y"] - 150
    box = pdb.execute("SELECT ST_XMin(b) x0, ST_YMin(b) y0, ST_XMax(b) x1, ST_YMax(b) y1 FROM "
                      "(SELECT ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 3857), 4326) AS b) t",
                      (w, s, w + 300, s + 300)).fetchone()
    bbox = [box["x0"], box["y0"], box["x1"], box["y1"]]
    root = planning_server
    ARTIFACTS.mkdir(exist_ok=True)
    styled = "cadastral_parcels"
    cfg = {
        "ogc": root + "/ogc", "collections": collections,
        "text_fields": _text_fields(pdb, collections),
        "bbox_collection": styled, "bbox": bbox,
        "styled": styled, "size": list(SIZE), "extent3857": extent,
        "probes": [{"x": p["x"], "y": p["y"]} for p in probes],
        "tiles": f"{root}/ogc/collections/{styled}/tiles/WebMercatorQuad/xyz/{{z}}/{{x}}/{{y}}.pbf",
        "mapbox_style": f"{root}/ogc/styles/{styled}?f=mapbox",
        "qml": f"{root}/ogc/styles/{styled}?f=qml", "sld": f"{root}/ogc/styles/{styled}?f=sld",
        "artifacts": str(ARTIFACTS),
    }
    path = session_dir / "qgis-config.json"
    path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    runtime = session_dir / "qgis-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime),
               HOME=str(session_dir))
    proc = subprocess.run([PYTHON, "-X", "faulthandler", str(SCRIPT), str(path)],
                          capture_output=True, text=True, timeout=900, env=env, cwd=session_dir)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert proc.returncode == 0 and lines, f"QGIS script failed:\n{proc.stdout[-3000:]}\n" \
                                           f"{proc.stderr[-3000:]}"
    return {"result": json.loads(lines[-1]), "cfg": cfg, "probes": probes, "bbox": bbox}


def test_every_public_collection_reads_whole_in_qgis(qgis_run, mdb):
    pdb = mdb
    got = qgis_run["result"]["collections"]
    fields = qgis_run["cfg"]["text_fields"]
    assert set(got) == set(qgis_run["cfg"]["collections"])
    assert any(fields.values()), "no text with diacritics to compare"
    for lid, seen in got.items():
        assert seen["valid"], (lid, "QGIS could not open the collection")
        n = pdb.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(
            sql.Identifier("data", lid))).fetchone()["n"]
        assert seen["count"] == n, (lid, seen["count"], n)
        for field in fields[lid]:  # diacritics intact, no mojibake, nothing lost
            assert seen["texts"][field] == _distinct(pdb, lid, field), (lid, field)
    # QGIS sizes its pages from the OpenAPI document's integer `limit` (maximum, default):
    # the pages it reads are larger than the default of 10
    limits = {int(q.split("=", 1)[1]) for u in qgis_run["result"]["urls"] if "/items?" in u
              for q in u.split("?", 1)[1].split("&") if q.startswith("limit=")}
    assert max(limits) > 10, qgis_run["result"]["urls"]


def test_qgis_sends_the_bbox_to_the_server(qgis_run, mdb):
    pdb = mdb
    seen = qgis_run["result"]["bbox"]
    x0, y0, x1, y1 = qgis_run["bbox"]
    n = pdb.execute("SELECT count(*) AS n FROM data.cadastral_parcels WHERE ST_Intersects("
                    "geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", (x0, y0, x1, y1)).fetchone()
    total = pdb.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"]
    assert 0 < n["n"] < total / 10
    assert seen["count"] == n["n"]
    pages = [u for u in seen["urls"] if "/collections/cadastral_parcels/items" in u
             and not u.endswith("/items?limit=10")]  # QGIS's first look at the collection
    assert pages and all("bbox=" in u for u in pages), seen["urls"]


def _close(a: list[int], b: list[int], tol: int = 8) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("how", ["mapbox", "qml", "sld"])
def test_qgis_draws_the_land_use_colours(qgis_run, web, how):
    res = qgis_run["result"]
    if how == "mapbox":
        assert res["tiles_valid"], res
    else:
        assert res[f"{how}_loaded"][0], res[f"{how}_loaded"]
    legend = web.get("/ogc/styles/cadastral_parcels/legend").json()["layers"][0]["entries"]
    colour = {v: e["color"] for e in legend if e["kind"] == "fill" and e.get("values")
              for v in e["values"]}
    other = next(e["color"] for e in legend if e["kind"] == "fill" and not e.get("values"))
    style = web.get("/ogc/styles/cadastral_parcels", params={"f": "mapbox"}).json()
    opacity = next(lyr["paint"]["fill-opacity"] for lyr in style["layers"]
                   if lyr["type"] == "fill")
    wrong = []
    for probe, got in zip(qgis_run["probes"], res["renders"][how], strict=True):
        want = _expected_colour(colour.get(probe["code"], other), opacity)
        if not _close(got, want):
            wrong.append((probe["fid"], probe["code"], got, want))
    assert not wrong, f"{how}: {len(wrong)} of {len(qgis_run['probes'])} probes: {wrong[:8]}"
    assert (Path(ARTIFACTS) / f"qgis-{'mapbox-tiles' if how == 'mapbox' else how + '-oapif'}"
            ".png").stat().st_size > 10_000
